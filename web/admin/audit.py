"""The audit log: every administrative change with its before and after, and every reveal
of a reporter's identity (when, who, which case; never the identity), newest first."""
from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_babel import gettext as _

from casework.audit.models import AuditKind
from casework.audit.queries import REVEAL, Filters, actor_names, audit_log
from casework.cases.models import EventKind
from web.admin.blueprint import bp
from web.admin.common import page_arg
from web.i18n import title
from web.requestdb import db_session


def _day(name: str, errors: dict) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("A date as YYYY-MM-DD, please.")]
        return None


@bp.get("/audit")
def audit():
    errors: dict[str, list[str]] = {}
    kinds = [(k.value, title(k)) for k in AuditKind] + [(REVEAL, title(EventKind.identity_revealed))]
    kind = request.args.get("kind", "")
    if kind and kind not in dict(kinds):
        kind = ""
    filters = Filters(kind=kind, actor=request.args.get("actor", "").strip()[:64],
                      since=_day("since", errors), until=_day("until", errors),
                      object_id=request.args.get("object_id", "").strip()[:64])
    if filters.since and filters.until and filters.since > filters.until:  # else an empty log, and no word why
        errors["until"] = [_("The end date is before the start date.")]
    session = db_session()
    result = audit_log(session, filters, page_arg())
    values = {k: request.args.get(k, "") for k in ("kind", "actor", "since", "until", "object_id")}
    return render_template("admin/audit.html", result=result, filters=filters, values=values, errors=errors,
                           kinds=kinds, actor_options=[(n, n) for n in actor_names(session)],
                           reveal_kind=EventKind.identity_revealed,
                           pager_args={k: v for k, v in values.items() if v}), 422 if errors else 200
