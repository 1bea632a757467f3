"""The queue's filters as the desk reads them from a request.

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

from casework.cases.models import CaseType
from casework.cases.queue import SUPERVISION_TAB, QueueFilter
from casework.registry.lookup import named_alone
from casework.registry.models import Association
from casework.workflow.states import TABS
from web.request_limits import as_id

PER_PAGE = 25
SORTS = ("due", "-due", "new")
# the supervision tab's own order (and its default): the 督办单's report date, then the deadline
SUPERVISION_SORTS = ("notice", *SORTS)
QUEUE_TABS = (*TABS, SUPERVISION_TAB)
FILTER_NAMES = ("tab", "type", "category", "association", "overdue", "due_within", "mine", "sort")


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
    value = as_id(raw)
    return value if value is not None and value <= hi else None


def parse_queue_args(session: Session, args, *, unit_id: int | None, user_id: int, now: datetime,
                     oversee: bool = True) -> QueueArgs:
    """``oversee``: the actor sees the whole unit on the supervision tab (its lead); else that tab
    holds only the cases assigned to them."""
    values = {name: (args.get(name) or "").strip()[:40] for name in FILTER_NAMES}
    f = QueueFilter(unit_id=unit_id, per_page=PER_PAGE, now=now)
    qa = QueueArgs(f, values)
    if values["tab"] not in (QUEUE_TABS if unit_id is not None else TABS):
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
        if assoc.isascii() and assoc.isdigit() and len(assoc) < 18:
            found = session.get(Association, int(assoc))
        else:
            found = session.scalar(select(Association).where(Association.credit_code == assoc.upper()))
        matched = 1
        if found is None:  # a name (or a short name, or pinyin initials) naming one
            found, matched = named_alone(session, assoc)
            if found is not None:
                values["association"] = found.credit_code
        if found is None:
            qa.errors["association"] = [_("Several associations match; type more of the name, or the credit code.")
                                        if matched > 1 else _("No association has this name or credit code.")]
            qa.empty = True
        else:
            f.association_id = found.id
    f.overdue = values["overdue"] == "1"
    f.due_within_days = _positive_int(values["due_within"], hi=366)
    if f.due_within_days is None:
        values["due_within"] = ""
    if values["mine"] == "1" or (f.supervision and not oversee):
        f.handler_id = user_id
    if values["sort"] not in (SUPERVISION_SORTS if f.supervision else SORTS):
        values["sort"] = ""
    f.sort = values["sort"] or ("notice" if f.supervision else "due")
    f.page = _positive_int(args.get("page"), hi=100_000) or 1
    return qa
