"""Administration of notice texts: each template in each language, the default or the
administrator's override; edit (only the template's own placeholders), reset to default."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from casework.notify import templates as ops
from web.admin.blueprint import bp
from web.admin.common import carry_change
from web.auth import current_actor
from web.i18n import tr_errors
from web.requestdb import db_session

HIDE = ("subject", "body")  # long texts: the audit log shows them in full


def _row(template: str, locale: str):
    if template not in ops.TEMPLATES or locale not in ops.LOCALES:
        abort(404)
    return ops.template_row(db_session(), template, locale)


@bp.get("/notice-templates")
def notice_templates():
    from web.requestdb import services

    provider = {"aliyun": "阿里云短信", "tencent": "腾讯云短信"}.get(services().settings.sms_provider or "")
    from casework.notify.templates import SENT_WHEN

    return render_template("admin/notice_templates.html", rows=ops.template_rows(db_session()), sms_provider=provider,
                           sent_when=SENT_WHEN)


def _form_page(row, values, errors=None, status=200):
    return render_template("admin/notice_template_form.html", row=row, values=values, errors=errors or {}), status


@bp.route("/notice-templates/<template>/<locale>", methods=["GET", "POST"])
def notice_template_edit(template: str, locale: str):
    row = _row(template, locale)
    if request.method == "GET":
        return _form_page(row, {"subject": row.subject, "body": row.body})
    values = {"subject": request.form.get("subject", ""), "body": request.form.get("body", "")}
    checked, errors = ops.check_text(template, values["subject"], values["body"])
    if errors:
        return _form_page(row, values, tr_errors(errors), 422)
    session = db_session()
    change = ops.save_override(session, current_actor(), template, locale, *checked)
    carry_change(change, hide=HIDE)
    return redirect(url_for("admin.notice_templates", _anchor=f"tpl-{template}-{locale}"), code=303)


@bp.post("/notice-templates/<template>/<locale>/reset")
def notice_template_reset(template: str, locale: str):
    _row(template, locale)
    session = db_session()
    change = ops.reset_override(session, current_actor(), template, locale)
    carry_change(change, hide=HIDE)
    return redirect(url_for("admin.notice_templates", _anchor=f"tpl-{template}-{locale}"), code=303)
