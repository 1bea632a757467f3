"""The transactional outbox: notices written in the same transaction as the change.

A worker (workers/) sends each row once through a channel and records the result. The
recipient and any payload are encrypted: a query code sent to the complainant's phone is
personal data until it has gone, and is erased once sent.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_


class OutboxChannel(TitledEnum):
    sms = "sms", N_("SMS")
    email = "email", N_("E-mail")


class OutboxStatus(TitledEnum):
    pending = "pending", N_("Pending")
    sending = "sending", N_("Sending")
    sent = "sent", N_("Sent")
    failed = "failed", N_("Failed")


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # a rerun of whatever wrote the notice writes nothing twice
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"), index=True)
    channel: Mapped[OutboxChannel] = mapped_column(enum_column(OutboxChannel))
    template: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(10))
    recipient_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # a keyed hash of the normalised recipient (casework.notify.queue.recipient_hash): notices to
    # one phone or address are counted per day without decrypting anything
    recipient_hash: Mapped[str | None] = mapped_column(sa.String(64))
    payload_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a worker that took the message holds it until then; past it, another may retry
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
                      sa.Index("ix_outbox_message_recipient_day", "recipient_hash", "created_at"))
