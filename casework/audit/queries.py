"""Reading the audit trail: administrative changes and reveals of a reporter's identity, in
one list, newest first, with filters.

A reveal is a case event (``EventKind.identity_revealed``), written by the reveal flow on
the case. The audit list shows when, who and the case number, nothing of the case and never
the identity itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import User
from casework.audit.models import AuditAction, AuditEntry, AuditKind
from casework.cases.models import Case, Event, EventKind
from casework.cases.numbers import CHINA

REVEAL = "identity_revealed"  # the filter value for reveals, beside the AuditKind values
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    kind: str = ""  # an AuditKind value, REVEAL, or "" for everything
    actor: str = ""  # a username, or the login that ran the command line
    since: date | None = None  # days in Beijing time, both ends included
    until: date | None = None
    object_id: str = ""  # an object's id or code; a case number for reveals

    @property
    def any(self) -> bool:
        return bool(self.kind or self.actor or self.since or self.until or self.object_id)


@dataclass
class Reveal:
    id: int
    at: datetime
    case_number: str
    actor_user_id: int | None
    actor_name: str


@dataclass
class LogRow:
    at: datetime
    entry: AuditEntry | None = None
    reveal: Reveal | None = None


@dataclass
class LogPage:
    rows: list[LogRow]
    page: int
    has_next: bool


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, CHINA)


def _audit_ids(f: Filters):
    # a view of an identity is listed once, from its case event (``_reveal_ids``): its audit entry,
    # written beside the event, made every view a second row of the log
    q = select(sa.literal("audit").label("src"), AuditEntry.id.label("id"), AuditEntry.at.label("at")).where(
        sa.not_(sa.and_(AuditEntry.kind == AuditKind.identity_reveal, AuditEntry.action == AuditAction.viewed)))
    if f.kind:
        q = q.where(AuditEntry.kind == AuditKind(f.kind))
    if f.actor:
        q = q.where(sa.func.lower(AuditEntry.actor_name) == f.actor.lower())
    if f.since:
        q = q.where(AuditEntry.at >= _start(f.since))
    if f.until:
        q = q.where(AuditEntry.at < _start(f.until + timedelta(days=1)))
    if f.object_id:
        q = q.where(AuditEntry.object_id == f.object_id)
    return q


def _reveal_ids(f: Filters):
    q = select(sa.literal("reveal").label("src"), Event.id.label("id"), Event.created_at.label("at")).where(
        Event.kind == EventKind.identity_revealed)
    if f.actor:
        q = q.where(Event.actor_id.in_(select(User.id).where(User.username == f.actor.lower())))
    if f.since:
        q = q.where(Event.created_at >= _start(f.since))
    if f.until:
        q = q.where(Event.created_at < _start(f.until + timedelta(days=1)))
    if f.object_id:
        q = q.where(Event.case_id.in_(select(Case.id).where(Case.number == f.object_id.upper())))
    return q


def audit_log(session: Session, filters: Filters = Filters(), page: int = 1, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of the log, newest first: audit entries and identity reveals together
    (only the one or the other when the kind filter says so)."""
    if filters.kind and filters.kind != REVEAL and filters.kind not in AuditKind._value2member_map_:
        return LogPage([], 1, False)
    parts = []
    if filters.kind != REVEAL:
        parts.append(_audit_ids(filters))
    if filters.kind in ("", REVEAL):
        parts.append(_reveal_ids(filters))
    both = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery()
    page = max(1, page)
    picked = session.execute(select(both.c.src, both.c.id).order_by(both.c.at.desc(), both.c.id.desc())
                             .offset((page - 1) * page_size).limit(page_size + 1)).all()
    has_next = len(picked) > page_size
    picked = picked[:page_size]

    audit_ids = [i for src, i in picked if src == "audit"]
    reveal_ids = [i for src, i in picked if src == "reveal"]
    entries = {e.id: e for e in session.scalars(select(AuditEntry).where(AuditEntry.id.in_(audit_ids)))} \
        if audit_ids else {}
    reveals: dict[int, Reveal] = {}
    if reveal_ids:
        for ev_id, at, number, actor_id, username in session.execute(
                select(Event.id, Event.created_at, Case.number, Event.actor_id, User.username)
                .join(Case, Case.id == Event.case_id)
                .outerjoin(User, User.id == Event.actor_id)
                .where(Event.id.in_(reveal_ids))):
            reveals[ev_id] = Reveal(ev_id, at, number, actor_id, username or "")
    rows = []
    for src, i in picked:
        if src == "audit":
            rows.append(LogRow(entries[i].at, entry=entries[i]))
        else:
            rows.append(LogRow(reveals[i].at, reveal=reveals[i]))
    return LogPage(rows, page, has_next)


def actor_names(session: Session) -> list[str]:
    """Everyone who appears in the log, for the actor filter."""
    names = set(session.scalars(select(AuditEntry.actor_name).distinct()))
    names |= set(session.scalars(select(User.username).join(Event, Event.actor_id == User.id)
                                 .where(Event.kind == EventKind.identity_revealed).distinct()))
    return sorted(n for n in names if n)
