"""Idempotency keys of the staff API's moves (POST /api/v1/desk/cases/<n>/<move> and
/api/v1/desk/reveals/<id>), as the filing API has them for a case (casework.intake.operations).

A client that sends a move again under the same ``Idempotency-Key`` (a retry after a lost
answer) gets the answer of the move made, not a second move and not a 409 for the version the
first one used up; the same key with another request (another body, case or move) is refused.
A key belongs to the account that sent it, and is bound to the request by its digest (the
method, the path and the body, key order and spacing aside). Only a move that was made is
remembered: one refused (403, 409, 422) changed nothing, and may be sent again under its key.
A key is remembered for ``KEPT`` and then forgotten: rows older than that are deleted when
another key is remembered.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.db import Base, UTCDateTime

KEPT = timedelta(hours=24)


class StaffRequestKey(Base):
    """A move made through the staff API under an Idempotency-Key."""

    __tablename__ = "staff_request_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    # SHA-256 of the request (request_digest): a replay must be the same request
    digest: Mapped[str] = mapped_column(sa.String(64))
    # the case the move was made on (a reveal decision: the report's), to answer a replay with
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_staff_request_key_user_key"),)


class KeyReused(ValueError):
    """The key was used by this account for another request."""


def request_digest(method: str, path: str, data) -> str:
    """SHA-256 of a request: its method, its path and its JSON body, whatever the key order
    and the spacing."""
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode("utf-8")).hexdigest()


def remembered(session: Session, user_id: int, key: str, digest: str, now: datetime) -> StaffRequestKey | None:
    """The move this account made under ``key`` within KEPT, or None; KeyReused when it was
    made with another request."""
    row = session.scalar(sa.select(StaffRequestKey).where(
        StaffRequestKey.user_id == user_id, StaffRequestKey.key == key, StaffRequestKey.created_at > now - KEPT))
    if row is not None and row.digest != digest:
        raise KeyReused(key)
    return row


def remember(session: Session, user_id: int, key: str, digest: str, case_id: int, now: datetime) -> None:
    """Keep the move just made under ``key`` (in the move's transaction: it is remembered if
    and only if it was made), and forget the keys older than KEPT. Flushes; never commits."""
    session.execute(sa.delete(StaffRequestKey).where(StaffRequestKey.created_at <= now - KEPT))
    session.add(StaffRequestKey(user_id=user_id, key=key, digest=digest, case_id=case_id, created_at=now))
    session.flush()
