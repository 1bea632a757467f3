"""A case's written notices for staff who may see the case (the same files the complainant
downloads from the status page)."""
from __future__ import annotations

from web.auth import current_actor
from web.desk.blueprint import bp
from web.desk.case import _load
from web.public.documents import document_response


@bp.get("/cases/<number>/documents/<int:document_id>.pdf")
def case_document(number: str, document_id: int):
    return document_response(_load(number, current_actor()), document_id)
