"""What the desk reads from requests (queue filters, move fields) and the choices it offers.

Filters are GET parameters, so a filtered queue is a link a handler can bookmark or send;
a value that does not parse is ignored (the queue shows unfiltered on that point) except
an association that does not exist, which is reported beside its field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import Membership, Role, User
from casework.cases.models import Case, CannedReply, CaseState as S, CaseType, Category
from casework.cases.queue import OPEN_STATES, TABS, QueueFilter
from casework.db import as_utc
from casework.registry.models import Association, Unit, UnitKind
from casework.routing.engine import check_unit_allowed

PER_PAGE = 25
SORTS = ("due", "-due", "new")
FILTER_NAMES = ("tab", "type", "category", "association", "overdue", "due_within", "mine", "sort")

# the fields each move's form sends; anything else in the POST is ignored
MOVE_FIELDS: dict[str, tuple[str, ...]] = {
    "route": ("unit_id", "internal_text"),
    "accept": ("public_text",),
    "not_accept": ("reason", "public_text"),
    "transfer": ("unit_id", "reason", "public_text", "internal_text"),
    "send_back": ("internal_text",),
    "request_info": ("public_text",),
    "reply": ("public_text", "finding"),
    "acknowledge_reply": ("public_text",),
    "assign": ("handler_id",),
    "note": ("internal_text",),
    "extend": ("public_text",),
    "suspend": ("public_text",),
    "resume": ("public_text",),
    "decide_review": ("public_text",),
    "issue_supervision": ("respond_by", "internal_text"),
    # mediation
    "accept_mediation": ("public_text",),
    "record_consent": ("public_text",),
    "record_refusal": ("public_text",),
    "schedule_session": ("scheduled_at", "place", "online"),
    "log_session": ("session_id", "attendees", "summary", "internal_text"),
    "recuse": ("user_id", "internal_text"),
    "record_agreement": ("facts", "terms"),
    "record_no_agreement": ("public_text",),
}
# a move added to the machine later gets a text to the complainant until it has its own form
GENERIC_FIELDS = ("public_text",)
HANDLER_ROLES = (Role.handler, Role.unit_lead)
# the unit holds the clock in these states; past due_at the case is overdue (超期)
UNIT_CLOCK_STATES = frozenset(OPEN_STATES) - {S.replied, S.need_info}


def move_fields(name: str, form) -> dict[str, str]:
    return {f: form.get(f, "") for f in MOVE_FIELDS.get(name, GENERIC_FIELDS)}


def is_overdue(case: Case, now: datetime) -> bool:
    """The sweep's flag, or a deadline passed since the sweep last ran (clock not paused)."""
    if case.overdue:
        return True
    return (case.due_at is not None and case.paused_at is None and case.state in UNIT_CLOCK_STATES
            and as_utc(case.due_at) < now)


@dataclass
class QueueArgs:
    """The queue's filters as typed (for the form and links) and as a QueueFilter."""

    filter: QueueFilter
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    empty: bool = False  # a filter names nothing that exists: no rows

    def link_args(self, **changes) -> dict[str, str]:
        """Query parameters for a link that keeps the filters (pages, tabs); a change to
        None or "" drops that parameter."""
        args = {k: v for k, v in self.values.items() if v}
        for k, v in changes.items():
            if v in (None, ""):
                args.pop(k, None)
            else:
                args[k] = v
        return args


def _positive_int(raw: str | None, hi: int = 10_000_000) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) <= hi else None


def parse_queue_args(session: Session, args, *, unit_id: int | None, user_id: int, now: datetime) -> QueueArgs:
    values = {name: (args.get(name) or "").strip()[:40] for name in FILTER_NAMES}
    f = QueueFilter(unit_id=unit_id, per_page=PER_PAGE, now=now)
    qa = QueueArgs(f, values)
    if values["tab"] not in TABS:
        values["tab"] = ""
    f.tab = values["tab"] or "pending"
    try:
        f.case_type = CaseType(values["type"]) if values["type"] else None
    except ValueError:
        values["type"] = ""
    f.category_id = _positive_int(values["category"])
    if f.category_id is None:
        values["category"] = ""
    assoc = values["association"]
    if assoc:
        if assoc.isdigit() and len(assoc) < 18:
            found = session.get(Association, int(assoc))
        else:
            found = session.scalar(select(Association).where(Association.credit_code == assoc.upper()))
        if found is None:
            qa.errors["association"] = [_("No association has this credit code.")]
            qa.empty = True
        else:
            f.association_id = found.id
    f.overdue = values["overdue"] == "1"
    f.due_within_days = _positive_int(values["due_within"], hi=366)
    if f.due_within_days is None:
        values["due_within"] = ""
    if values["mine"] == "1":
        f.handler_id = user_id
    if values["sort"] not in SORTS:
        values["sort"] = ""
    f.sort = values["sort"] or "due"
    f.page = _positive_int(args.get("page"), hi=100_000) or 1
    return qa


# -- choices ---------------------------------------------------------------------------

def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.active)
                                .order_by(Category.group, Category.sort_order, Category.id)))


def unit_handlers(session: Session, unit_id: int | None) -> list[User]:
    """Active users who may hold a case of this unit (handlers and the unit lead)."""
    if unit_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit_id, Membership.role.in_(HANDLER_ROLES), User.active)
        .distinct().order_by(User.display_name, User.id)
    ))


def unit_members(session: Session, unit_id: int | None) -> list[User]:
    """Everyone with a role in this unit (a mediation body's mediators), for recusal."""
    if unit_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit_id, User.active)
        .distinct().order_by(User.display_name, User.id)
    ))


def receiving_units(session: Session, case: Case) -> list[Unit]:
    """Units the case may be routed or transferred to: active, not triage, not the one that
    holds it, and not a body of the association the case is about."""
    units = session.scalars(select(Unit).where(Unit.active, Unit.kind != UnitKind.triage)
                            .order_by(Unit.region_code, Unit.kind, Unit.id))
    return [u for u in units if u.id != case.unit_id and check_unit_allowed(u, case) is None]


def canned_replies(session: Session, unit_id: int | None) -> list[CannedReply]:
    if unit_id is None:
        return []
    return list(session.scalars(select(CannedReply).where(CannedReply.unit_id == unit_id, CannedReply.active)
                                .order_by(CannedReply.title, CannedReply.id)))
