"""Time limits and calendar overrides: rows an administrator edits."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.cases.models import CaseType, Stage  # noqa: F401 (Stage lives with the case)
from casework.db import Base
from casework.enums import enum_column


class TimeLimit(Base):
    __tablename__ = "time_limit"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: every case type without a row of its own
    case_type: Mapped[CaseType | None] = mapped_column(enum_column(CaseType, name="limit_case_type"))
    stage: Mapped[Stage] = mapped_column(enum_column(Stage))
    amount: Mapped[int] = mapped_column()
    working_days: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (
        sa.UniqueConstraint("case_type", "stage", name="uq_time_limit_type_stage"),
        sa.CheckConstraint("amount > 0 AND amount <= 366", name="amount_range"),
    )


class CalendarOverride(Base):
    """A date whose status differs from the maintained calendar (a late-announced or
    changed schedule): a working day or a rest day, with the reason."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    working: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(200))


class CalendarYear(Base):
    """A year whose holiday schedule an administrator has checked against the State
    Council notice. Years the maintained calendar knows make-up days for count as
    confirmed without a row."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    confirmed: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(200), default="")
