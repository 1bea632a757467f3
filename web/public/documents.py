"""The written notices (casework.documents) as downloads: the complainant's, on the status page
opened with the case number and query code; staff get the same files from the desk's case page
(web.desk.documents). Never cached; a document of another case, or one erased, is a 404."""
from __future__ import annotations

from typing import Callable

from flask import Response, abort, redirect, url_for

from casework.cases.models import Case
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_by_number
from casework.documents.operations import case_document, case_documents, document_bytes, document_filename
from casework.privacy.crypto import DecryptionError
from web.presenters import local_time
from web.public.blueprint import bp
from web.public.track import authorised
from web.requestdb import db_session, services


def pdf_download(read: Callable[[], bytes], filename: str) -> Response:
    """A stored PDF as a download, never cached; 404 when it cannot be read (gone, erased, or
    not decryptable): the written notices and the 调解协议书."""
    try:
        data = read()
    except (LookupError, OSError, DecryptionError):
        abort(404)
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def document_response(case: Case, document_id: int) -> Response:
    doc = case_document(db_session(), case, document_id)
    if doc is None:
        abort(404)
    return pdf_download(lambda: document_bytes(services(), doc), document_filename(case, doc))


def written_notices(case: Case) -> list[dict]:
    """The case's documents as the status page and the desk list them, oldest first."""
    return [{"id": d.id, "kind": d.kind, "at": local_time(d.created_at)} for d in case_documents(db_session(), case)]


@bp.app_context_processor
def _documents():
    return {"written_notices": written_notices}


@bp.get("/track/<number>/documents/<int:document_id>.pdf")
def track_document(number: str, document_id: int):
    number = normalize_number(number)
    if not authorised(number):
        return redirect(url_for("public.track_form", number=number))
    case = case_by_number(db_session(), number)
    if case is None:
        abort(404)
    return document_response(case, document_id)


@bp.get("/track/<number>/files/<int:attachment_id>")
def track_file(number: str, attachment_id: int):
    """A document staff attached to a reply (the copy without metadata), for the browser that
    opened the case; the complainant's own files and another case's are a 404."""
    from urllib.parse import quote

    number = normalize_number(number)
    if not authorised(number):
        return redirect(url_for("public.track_form", number=number))
    case = case_by_number(db_session(), number)
    att = next((a for a in case.attachments if a.id == attachment_id), None) if case is not None else None
    if att is None or not att.from_staff or att.erased_at is not None:
        abort(404)
    try:
        data = services().files.get(att.storage_key, "staff")
    except (LookupError, OSError, DecryptionError):
        abort(404)
    resp = Response(data, mimetype=att.content_type or "application/octet-stream")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(att.filename)}"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
