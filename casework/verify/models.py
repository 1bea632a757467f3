"""A code sent by SMS to prove a phone number (issue 19): only its keyed hash is stored."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime, utcnow


class PhoneVerification(Base):
    """One code sent to one number: the number's keyed hash (casework.notify.queue.recipient_hash),
    the code's HMAC, when it ends, how many wrong codes it has taken, and when it was proved."""

    __tablename__ = "phone_verification"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # random, given to the client
    phone_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    purpose: Mapped[str] = mapped_column(sa.String(16))  # intake, mine, api
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a proved code files one case (or signs in once); a second use is refused
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
