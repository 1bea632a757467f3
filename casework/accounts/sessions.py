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

from sqlalchemy import delete, event, inspect, select
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


def resume_session(session: Session, session_id: str | None, *, now: datetime | None = None,
                   lifetimes: Lifetimes = Lifetimes()) -> User | None:
    """The active user of a live session, or None (an expired row is deleted)."""
    if not session_id or len(session_id) > 100:
        return None
    now = now or utcnow()
    row = session.scalar(select(StaffSession).where(StaffSession.id_hash == hash_id(session_id)))
    if row is None:
        return None
    seen = as_utc(row.last_seen_at)
    if now - seen > lifetimes.idle or now >= as_utc(row.expires_at) or not row.user.active:
        session.delete(row)
        session.flush()
        return None
    if now - seen >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row.user


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
