"""Server-side staff sessions.

A session is a row: the SHA-256 of a random 256-bit id, the user, when it was created, last
seen and when it ends at the latest. The browser holds only the id. A session ends when it
has been idle too long, at its absolute end, at logout (row deleted), and when the user's
password changes or the account is disabled (every row of that user deleted, by the flush
hook below, whoever makes the change: admin page, CLI or a rehash at sign-in).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event, inspect, select, update
from sqlalchemy.orm import Session

from casework.accounts.models import StaffSession, User
from casework.db import as_utc, utcnow

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta = IDLE
    absolute: timedelta = ABSOLUTE


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(session: Session, user: User, *, now: datetime | None = None,
                 lifetimes: Lifetimes = Lifetimes()) -> str:
    """A new session for this user; returns the id for the cookie (never stored)."""
    now = now or utcnow()
    session_id = secrets.token_urlsafe(32)  # 256 bits
    session.add(StaffSession(id_hash=hash_id(session_id), user_id=user.id, created_at=now,
                             last_seen_at=now, expires_at=now + lifetimes.absolute))
    session.flush()
    return session_id


@dataclass(frozen=True)
class Found:
    """A session row as read, and the one chore it needs: ``"touch"`` (last seen over
    TOUCH_EVERY ago: record the activity), ``"end"`` (idle, past its absolute end or its user
    disabled: delete it; ``user`` is None), or None."""

    id_hash: str
    user: User | None
    chore: str | None


def find_session(session: Session, session_id: str | None, *, now: datetime | None = None,
                 lifetimes: Lifetimes = Lifetimes()) -> Found | None:
    """Read only, one SELECT (the row with its user): what ``resume_session`` would decide.
    The desk's pages read it in the request's read transaction and take the write lock only
    for the chore, at most once a minute per browser (``do_chore``)."""
    if not session_id or len(session_id) > 100:
        return None
    now = now or utcnow()
    id_hash = hash_id(session_id)
    found = session.execute(select(StaffSession.last_seen_at, StaffSession.expires_at, User)
                            .join(User, User.id == StaffSession.user_id)
                            .where(StaffSession.id_hash == id_hash)).first()
    if found is None:
        return None
    seen, ends, user = as_utc(found[0]), as_utc(found[1]), found[2]
    if now - seen > lifetimes.idle or now >= ends or not user.active:
        return Found(id_hash, None, "end")
    return Found(id_hash, user, "touch" if now - seen >= TOUCH_EVERY else None)


def do_chore(session: Session, found: Found, *, now: datetime | None = None) -> None:
    """Record what ``find_session`` decided, by the row's hash (one statement, or none)."""
    if found.chore == "end":
        session.execute(delete(StaffSession).where(StaffSession.id_hash == found.id_hash))
    elif found.chore == "touch":
        session.execute(update(StaffSession).where(StaffSession.id_hash == found.id_hash)
                        .values(last_seen_at=now or utcnow()))


def resume_session(session: Session, session_id: str | None, *, now: datetime | None = None,
                   lifetimes: Lifetimes = Lifetimes()) -> User | None:
    """The active user of a live session, or None (an expired row is deleted), in one
    session: the write path's (sign-in checks on a form post)."""
    now = now or utcnow()
    found = find_session(session, session_id, now=now, lifetimes=lifetimes)
    if found is None:
        return None
    do_chore(session, found, now=now)
    return found.user


def close_session(session: Session, session_id: str | None) -> None:
    if session_id:
        session.execute(delete(StaffSession).where(StaffSession.id_hash == hash_id(session_id)))


def close_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


def purge_expired(session: Session, *, now: datetime | None = None, lifetimes: Lifetimes = Lifetimes()) -> int:
    now = now or utcnow()
    result = session.execute(delete(StaffSession).where(
        (StaffSession.expires_at <= now) | (StaffSession.last_seen_at < now - lifetimes.idle)))
    return result.rowcount or 0


@event.listens_for(Session, "before_flush")
def _end_sessions_on_credential_change(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty):
        if not isinstance(obj, User):
            continue
        state = inspect(obj)
        changed_password = state.attrs.password_hash.history.has_changes()
        disabled = state.attrs.active.history.has_changes() and not obj.active
        if changed_password or disabled:
            close_all_sessions(session, obj.id)
