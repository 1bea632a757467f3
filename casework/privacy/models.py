"""Requests to see a report's (举报) identity, and their decisions.

A handler of the unit holding a report asks, with a reason; a custodian (身份保管人) of that
unit approves or denies it with a note; an approval lets the requesting handler view the
identity until ``expires_at``. Each step is also a case event and an audit entry
(casework.workflow.reveal); this row is the state the desk needs to answer "may I see it
now?" and "what is waiting for me?".
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.cases.models import Case
from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_


class RevealStatus(TitledEnum):
    pending = "pending", N_("Waiting for the custodian")
    approved = "approved", N_("Approved")
    denied = "denied", N_("Denied")


class RevealRequest(Base):
    __tablename__ = "reveal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[RevealStatus] = mapped_column(enum_column(RevealStatus), default=RevealStatus.pending,
                                                 index=True)
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"),
        sa.CheckConstraint("(status = 'approved') = (expires_at IS NOT NULL)", name="approved_expires"),
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="not_self_approved"),
    )
