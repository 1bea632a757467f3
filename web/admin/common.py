"""What the administration pages share: the change just made, carried to the next page;
form values as typed; how a snapshot value is shown; paging."""
from __future__ import annotations

from datetime import datetime

from flask import request, session as web_session
from flask_babel import gettext as _

from casework.accounts.models import Role
from casework.audit.operations import Change
from casework.cases.models import CaseType, CategoryGroup, Stage
from casework.privacy.models import RevealStatus
from casework.registry.models import AssociationLevel, AssociationStatus, UnitKind
from casework.routing import operations_admin as routing_ops
from casework.routing.models import RouteTarget
from web.i18n import title
from web.presenters import local_time

CHANGE = "admin_change"  # the session key that carries the last change to the next page
_ENUMS = {"case_type": CaseType, "target": RouteTarget, "level": AssociationLevel, "status": AssociationStatus,
          "kind": UnitKind, "group": CategoryGroup, "role": Role, "stage": Stage}
LONG = 200  # longer texts are folded away in the before/after tables


def change_value(key: str, value) -> str:
    """A snapshot value as the before/after table shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    enum_cls = _ENUMS.get(key)
    if enum_cls is not None and value in enum_cls._value2member_map_:
        return title(enum_cls(value))
    if key == "roles" and isinstance(value, str):  # a user's memberships, "handler@miit, unit_lead@samr"
        return ", ".join(_role_at(held) for held in value.split(", "))
    if key in ("decision", "status") and value in RevealStatus._value2member_map_ and \
            value not in AssociationStatus._value2member_map_:  # an identity reveal's request
        return title(RevealStatus(value))
    if key in UNIT_CODES and isinstance(value, str):  # an association's units: by name, not by code
        return "; ".join(_unit_named(code.strip()) for code in value.split(";") if code.strip())
    if key == "requested_by" and isinstance(value, int):  # a staff member, by name (the id meant nothing)
        from casework.accounts.models import User
        from web.requestdb import db_session

        user = db_session().get(User, value)
        return user.display_name if user is not None else str(value)
    if key.endswith("_at") and isinstance(value, str):  # a moment, in Beijing time as the pages show it
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "fields" and isinstance(value, list):  # which personal data a reveal showed (never the data)
        return ", ".join(str(v) for v in value)
    if value == routing_ops.ANY and key in ("category", "association"):
        return _("Any")
    return str(value)


# an association's snapshot names its units by code (casework.registry.operations); "mca, miit" meant
# little in a before/after box
UNIT_CODES = frozenset({"registration_authority", "main_industry_department", "other_industry_departments",
                        "supervisory_unit", "mediation_body", "party_work_department", "supervising_unit"})


def _unit_named(code: str) -> str:
    """A unit's name by its code, the units read once per request (an audit page shows dozens of
    snapshots with six unit codes each: a query per value was hundreds)."""
    from flask import g
    from sqlalchemy import select

    from casework.registry.models import Unit
    from web.presenters import unit_title
    from web.requestdb import db_session

    names = g.get("unit_names_by_code")
    if names is None:
        names = g.unit_names_by_code = {u.code: unit_title(u) for u in db_session().scalars(select(Unit))}
    return f"{names[code]} ({code})" if code in names else code


def _role_at(held: str) -> str:
    """"unit_lead@samr" as "Unit lead (samr)", in the reader's language; as stored if not a role."""
    role, _at, unit = held.partition("@")
    if role not in Role._value2member_map_:
        return held
    return f"{title(Role(role))} ({unit})" if unit else title(Role(role))


def carry_change(change: Change | None, *, hide: tuple[str, ...] = ()) -> None:
    """Before/after for the next page. Long free text (``hide``) does not travel in the signed
    cookie, which would not hold two notice texts: the next page reads it from the change's
    audit entry (``carried_changes``)."""
    if change is None:
        return

    def trim(snap):
        return None if snap is None else {k: v for k, v in snap.items() if k not in hide}

    web_session[CHANGE] = {"kind": change.kind, "action": change.action, "id": change.row_id,
                           "changed": change.changed, "before": trim(change.before), "after": trim(change.after),
                           # the session's JSON sorts keys: keep the snapshot's own order
                           "keys": list(change.after or change.before or {}),
                           "entry": change.entry_id, "hidden": [k for k in hide if change.entry_id]}


def carried_changes() -> list[dict]:
    """The change carried to this page (none, or one), its long texts read back from the audit
    entry that records it; "…" if that entry cannot be read."""
    from casework.audit.models import AuditEntry
    from web.requestdb import db_session

    carried = web_session.pop(CHANGE, None)
    if not carried:
        return []
    hidden = carried.get("hidden") or []
    if hidden:
        entry = db_session().get(AuditEntry, carried.get("entry") or 0)
        ok = entry is not None and entry.kind.value == carried["kind"]
        for side in ("before", "after"):
            snap = carried.get(side)
            if snap is not None:
                source = (getattr(entry, side) or {}) if ok else {}
                snap.update({k: source.get(k, "…") for k in hidden})
    return [carried]


def form_values(fields, flags=()) -> dict[str, str]:
    """The posted values of ``fields`` as typed; checkboxes in ``flags`` as "1" or ""."""
    values = {name: request.form.get(name, "") for name in fields}
    for name in flags:
        values[name] = "1" if request.form.get(name) else ""
    return values


def page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 100_000 else 1
