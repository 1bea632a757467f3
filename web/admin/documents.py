"""Administration of the written notices' texts: each kind in each language, the default or the
administrator's text; edit (only the kind's placeholders, the parts the law requires kept),
reset to the default."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from casework.documents import operations as ops
from casework.documents.kinds import Document
from casework.documents.texts import LOCALES
from web.admin.blueprint import bp
from web.admin.common import carry_change
from web.auth import current_actor
from web.i18n import tr_errors
from web.requestdb import db_session

HIDE = ("title", "body")  # long texts: the audit log shows them in full


def _kind(kind: str, locale: str) -> Document:
    if kind not in Document.__members__ or locale not in LOCALES:
        abort(404)
    return Document(kind)


@bp.get("/document-templates")
def document_templates():
    return render_template("admin/document_templates.html", rows=ops.template_rows(db_session()))


def _form_page(row, values, errors=None, status=200):
    return render_template("admin/document_template_form.html", row=row, values=values, errors=errors or {}), status


@bp.route("/document-templates/<kind>/<locale>", methods=["GET", "POST"])
def document_template_edit(kind: str, locale: str):
    doc = _kind(kind, locale)
    row = ops.template_row(db_session(), doc, locale)
    if request.method == "GET":
        return _form_page(row, {"title": row.title, "body": row.body})
    values = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
    checked, errors = ops.check_text(doc, values["title"], values["body"])
    if errors:
        return _form_page(row, values, tr_errors(errors), 422)
    change = ops.save_template(db_session(), current_actor(), doc, locale, *checked)
    carry_change(change, hide=HIDE)
    return redirect(url_for("admin.document_templates", _anchor=f"doc-{kind}-{locale}"), code=303)


@bp.post("/document-templates/<kind>/<locale>/reset")
def document_template_reset(kind: str, locale: str):
    doc = _kind(kind, locale)
    change = ops.reset_template(db_session(), current_actor(), doc, locale)
    carry_change(change, hide=HIDE)
    return redirect(url_for("admin.document_templates", _anchor=f"doc-{kind}-{locale}"), code=303)
