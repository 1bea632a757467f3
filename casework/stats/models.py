"""Pre-aggregated statistics, maintained by the workers (casework.stats.rollup).

``stat_rollup`` holds one row per (dimension, key, key2, month, case type): ``dim`` is ``all``
(key 0), ``unit`` (the unit each figure counts against, 0 for none: the unit that handled the
case at first instance, not the review body a review request moved it to; see
casework.stats.rollup), ``category``, ``association`` (0 for
a case filed without one), and within one unit ``unit_category`` and ``unit_association``
(key the unit, key2 the category or association), so that a dashboard filtered to a unit
still reads a few hundred rows. Each group has a row per case type and one with type ``*``
for all types together, so that a page without a type filter reads one row per group and month
(the two within-a-unit dimensions have only the ``*`` rows: they would otherwise hold about as
many rows as there are cases). Months are calendar months in Beijing time, by the day a case was
filed (``YYYY-MM``). Every measure is a count of cases; rates are computed when shown.

``association_risk`` is the risk grade per association (casework.stats.risk), with each
factor's value and contribution, so a grade can be explained.

``stat_refresh`` keeps each job's watermark and when it last finished, so a page can say how
fresh its figures are.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime

MEASURES = (
    "received",        # filed in the month
    "accepted",        # taken up (accepted, or mediation started)
    "not_accepted",
    "replied",         # a written reply was given
    "concluded",       # finished: closed, not accepted, withdrawn, mediated, mediation failed
    "on_time",         # concluded without ever going past a deadline
    "overdue_now",     # open and past its deadline now
    "ever_overdue",    # went past a deadline at some point
    "rated",           # the complainant rated the reply
    "satisfied",       # … satisfied or basically satisfied
    "reviewed",        # a review (复查) was asked for
    "supervised",      # supervision (督办) was issued
    "mediation_ended",
    "mediation_agreed",
    "with_finding",    # complaints and reports replied with a finding
    "substantiated",   # … found substantiated in whole or in part
    "with_opinion",    # complaints replied with an opinion on the request (信访工作条例 第三十二条)
    "supported",       # … the request supported (予以支持)
)
# the ``type`` of the rows that sum every case type (a page without a type filter reads these)
ALL_TYPES = "*"
DIMENSIONS = ("all", "unit", "category", "association", "unit_category", "unit_association")


class StatRollup(Base):
    __tablename__ = "stat_rollup"

    # key order: a group's months are next to each other (dim, type, key, key2, month)
    dim: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    key2: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)

    received: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    not_accepted: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    concluded: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    overdue_now: Mapped[int] = mapped_column(default=0)
    ever_overdue: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    reviewed: Mapped[int] = mapped_column(default=0)
    supervised: Mapped[int] = mapped_column(default=0)
    mediation_ended: Mapped[int] = mapped_column(default=0)
    mediation_agreed: Mapped[int] = mapped_column(default=0)
    with_finding: Mapped[int] = mapped_column(default=0)
    substantiated: Mapped[int] = mapped_column(default=0)
    with_opinion: Mapped[int] = mapped_column(default=0, server_default="0")
    supported: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        # a period across a dimension (top associations in the last 12 months)
        sa.Index("ix_stat_rollup_dim_type_month", "dim", "type", "month"),
    )


class AssociationRisk(Base):
    __tablename__ = "association_risk"

    association_id: Mapped[int] = mapped_column(sa.ForeignKey("association.id", ondelete="CASCADE"),
                                                primary_key=True, autoincrement=False)
    score: Mapped[float] = mapped_column(sa.Float)
    grade: Mapped[str] = mapped_column(sa.String(8), index=True)
    cases: Mapped[int] = mapped_column(default=0)
    # {factor: {"value": …, "points": …}} (casework.stats.risk.FACTORS)
    factors: Mapped[dict] = mapped_column(sa.JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatRefresh(Base):
    __tablename__ = "stat_refresh"

    job: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a new random number each time a refresh changes the rollups (0: never): what the public
    # pages withhold is made again (casework.stats.published); random, not a counter, so that a
    # database restored or made anew never passes for the one a process kept
    generation: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")
