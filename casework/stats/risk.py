"""A risk grade per association, from its cases of the last twelve months (分类监管).

Four factors, each scored 0–1 and weighted by ``Settings.risk_weights`` (points out of the
weights' sum, scaled to 100):

``volume``         cases received per 100 member companies (full at VOLUME_FULL); where the
                   registry does not know the membership, relative to the median association
                   with cases (full at VOLUME_FULL_MEDIANS × the median)
``substantiated``  complaints and reports replied as substantiated in whole or in part (full at
                   SUBSTANTIATED_FULL)
``overdue``        share of its cases that went past a deadline (full at OVERDUE_FULL)
``repeat``         categories with REPEAT_MIN or more cases (full at REPEAT_FULL categories)

Grades: ``high`` from 60 points, ``medium`` from 30, ``low`` below. Each row keeps every
factor's value, ratio and points, so a grade is explained factor by factor. The registration
authority's spot-check list is the associations it registered, high and medium first.
"""
from __future__ import annotations

import statistics
from datetime import datetime
from typing import Callable

from sqlalchemy import delete, func, insert, select

from casework.cases.models import Case
from casework.registry.models import Association
from casework.stats.models import ALL_TYPES, AssociationRisk, StatRollup
from casework.stats.queries import Period
from casework.stats.rollup import month_bounds

FACTORS = ("volume", "substantiated", "overdue", "repeat")
WINDOW_MONTHS = 12
VOLUME_FULL = 5.0  # cases per 100 members in a year
VOLUME_FULL_MEDIANS = 5.0
SUBSTANTIATED_FULL = 3
OVERDUE_FULL = 0.2
REPEAT_MIN = 3
REPEAT_FULL = 3
GRADES = (("high", 60.0), ("medium", 30.0), ("low", 0.0))


def grade_of(score: float) -> str:
    return next(name for name, floor in GRADES if score >= floor)


def score(counts: dict, repeat_categories: int, member_count: int | None, median_received: float,
          weights: dict[str, float]) -> tuple[float, dict]:
    received = counts.get("received", 0)
    if member_count:
        per_100 = received * 100.0 / member_count
        volume = {"value": round(per_100, 2), "basis": "per_100_members", "ratio": min(1.0, per_100 / VOLUME_FULL)}
    else:
        rel = received / median_received if median_received else 0.0
        volume = {"value": round(rel, 2), "basis": "times_median", "ratio": min(1.0, rel / VOLUME_FULL_MEDIANS)}
    subst = counts.get("substantiated", 0)
    overdue_share = counts.get("ever_overdue", 0) / received if received else 0.0
    factors = {
        "volume": volume,
        "substantiated": {"value": subst, "ratio": min(1.0, subst / SUBSTANTIATED_FULL)},
        "overdue": {"value": round(overdue_share, 3), "ratio": min(1.0, overdue_share / OVERDUE_FULL)},
        "repeat": {"value": repeat_categories, "ratio": min(1.0, repeat_categories / REPEAT_FULL)},
    }
    total_weight = sum(weights.get(f, 0.0) for f in FACTORS) or 1.0
    points = 0.0
    for name in FACTORS:
        f = factors[name]
        f["weight"] = weights.get(name, 0.0)
        f["points"] = round(100.0 * f["weight"] * f["ratio"] / total_weight, 1)
        f["ratio"] = round(f["ratio"], 3)
        points += f["points"]
    return round(points, 1), factors


def grade_all(db, settings, clock: Callable[[], datetime]) -> int:
    """Grade every association with cases in the window; returns how many were graded."""
    now = clock()
    period = Period.last_months(now, WINDOW_MONTHS)
    first, last = period.first, period.last
    start, _ = month_bounds(first)
    _, end = month_bounds(last)
    weights = dict(settings.risk_weights)
    cols = ("received", "ever_overdue", "substantiated")
    with db.session_scope(write=False) as s:
        counts = {r.key: {c: getattr(r, c) or 0 for c in cols} for r in s.execute(
            select(StatRollup.key, *(func.sum(getattr(StatRollup, c)).label(c) for c in cols))
            .where(StatRollup.dim == "association", StatRollup.key != 0, StatRollup.type == ALL_TYPES,
                   StatRollup.month >= first, StatRollup.month <= last)
            .group_by(StatRollup.key))}
        per_category = select(Case.association_id, Case.category_id).where(
            Case.association_id.is_not(None), Case.submitted_at >= start, Case.submitted_at < end,
        ).group_by(Case.association_id, Case.category_id).having(func.count() >= REPEAT_MIN).subquery()
        repeats = dict(s.execute(select(per_category.c.association_id, func.count())
                                 .group_by(per_category.c.association_id)).all())
        member_count = getattr(Association, "member_count", None)  # the registry may not know it
        members = dict(s.execute(select(Association.id, member_count)).all()) if member_count is not None else {}
    received = [c["received"] for c in counts.values() if c["received"]]
    median = statistics.median(received) if received else 0.0
    rows = []
    for assoc_id, c in counts.items():
        if not c["received"]:
            continue
        points, factors = score(c, repeats.get(assoc_id, 0), members.get(assoc_id), median, weights)
        rows.append({"association_id": assoc_id, "score": points, "grade": grade_of(points),
                     "cases": c["received"], "factors": factors, "computed_at": now})
    with db.session_scope() as s:
        s.execute(delete(AssociationRisk))
        if rows:
            s.execute(insert(AssociationRisk), rows)
    return len(rows)


def spot_checks(session, registration_authority_id: int | None = None, *, limit: int = 50,
                grades: tuple[str, ...] = ("high", "medium")):
    """(AssociationRisk, Association) for the suggested spot-check list, riskiest first."""
    q = (select(AssociationRisk, Association).join(Association, Association.id == AssociationRisk.association_id)
         .where(AssociationRisk.grade.in_(grades)).order_by(AssociationRisk.score.desc(), Association.id))
    if registration_authority_id is not None:
        q = q.where(Association.registration_authority_id == registration_authority_id)
    return session.execute(q.limit(limit)).all()

