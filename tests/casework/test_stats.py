"""Statistics: rollups checked against a hand-counted set of cases (the ``hand_counted``
fixture in tests/conftest.py), kept current by the refresh, and the risk grade explained
factor by factor."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.cases.models import Case, Finding
from casework.stats import queries
from casework.stats.models import AssociationRisk
from casework.stats.risk import grade_all, score, spot_checks
from casework.stats.rollup import month_bounds, month_of, refresh
from casework.workflow.machine import InvalidMove
from tests.conftest import BASIS

STATS_REPLY = "经核查，协会已停止强制入会做法并退还会费。"


def utcnow():
    return datetime.now(timezone.utc)


def test_month_is_the_beijing_month():
    assert month_of(datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc)) == "2026-11"  # 01:00 in Beijing
    assert month_of(datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc)) == "2026-10"
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)


def test_totals_match_the_hand_count(db, hand_counted):
    """Supported requests are counted among the complaints replied with an opinion (信访工作条例
    第三十二条): a report's reply states none."""
    refresh(db, utcnow)
    period = queries.Period.last_months(utcnow())
    with db.session_scope(write=False) as s:
        t = queries.totals(s, period)
        report = queries.totals(s, period, type="report")
    expected = {"received": 5, "accepted": 3, "not_accepted": 1, "replied": 3, "concluded": 3, "on_time": 3,
                "overdue_now": 1, "ever_overdue": 1, "rated": 2, "satisfied": 1, "reviewed": 1, "supervised": 1,
                "mediation_ended": 0, "mediation_agreed": 0, "with_finding": 2, "substantiated": 1,
                "with_opinion": 2, "supported": 1}
    assert t.counts == expected
    assert t.acceptance_rate == 3 / 4 and t.on_time_rate == 1.0 and t.satisfaction_rate == 1 / 2
    assert t.review_rate == 1 / 3 and t.substantiated_rate == 1 / 2 and t.mediation_success_rate is None
    assert t.supported_rate == 1 / 2
    assert (report["received"], report["with_finding"], report["substantiated"]) == (1, 1, 0)


def test_breakdowns_add_up_and_a_unit_filter_narrows(db, hand_counted):
    refresh(db, utcnow)
    period = queries.Period.last_months(utcnow())
    with db.session_scope(write=False) as s:
        units = queries.breakdown(s, "unit", period)
        assert sum(f["received"] for _, f in units) == 5
        unit_id, biggest = units[0]
        assert biggest["received"] == max(f["received"] for _, f in units)
        in_unit = queries.totals(s, period, unit=unit_id)
        assert in_unit.counts == biggest.counts
        cats = queries.breakdown(s, "category", period, unit=unit_id)
        assert sum(f["received"] for _, f in cats) == biggest["received"]
        assocs = queries.breakdown(s, "association", period)
        assert sum(f["received"] for _, f in assocs) == 5
        months = queries.by_month(s, period)
    assert len(months) == 12 and months[-1][0] == month_of(utcnow())
    assert months[-1][1]["received"] == 5 and all(f["received"] == 0 for _, f in months[:-1])


def test_refresh_picks_up_changes_and_is_idempotent(db, file_case, act):
    first = file_case().case_id
    assert refresh(db, utcnow) == [month_of(utcnow())]
    period = queries.Period.last_months(utcnow())
    act(first, "accept")
    file_case()
    refresh(db, utcnow)
    refresh(db, utcnow)  # a second run over the same changes gives the same rows
    with db.session_scope(write=False) as s:
        t = queries.totals(s, period)
    assert (t["received"], t["accepted"]) == (2, 1)
    # once the watermark has passed every change, a refresh recomputes nothing
    later = utcnow() + timedelta(minutes=10)
    refresh(db, lambda: later)
    assert refresh(db, lambda: later) == []


def test_reports_need_a_finding(db, file_case, act):
    e = file_case(type="report").case_id
    act(e, "accept")
    with pytest.raises(InvalidMove) as info:
        act(e, "reply", opinion="supported", legal_basis=BASIS, public_text=STATS_REPLY)
    assert "finding" in info.value.errors
    with pytest.raises(InvalidMove):
        act(e, "reply", opinion="supported", legal_basis=BASIS, public_text=STATS_REPLY, finding="probably")
    act(e, "reply", opinion="supported", legal_basis=BASIS, public_text=STATS_REPLY, finding="partly_substantiated")
    with db.session_scope(write=False) as s:
        assert s.get(Case, e).finding is Finding.partly_substantiated


def test_risk_factors_are_explained_and_weighted():
    weights = {"volume": 30, "substantiated": 30, "overdue": 20, "repeat": 20}
    counts = {"received": 10, "ever_overdue": 1, "substantiated": 3}
    points, factors = score(counts, repeat_categories=0, member_count=100, median_received=2, weights=weights)
    # 10 per 100 members (full at 5) → 30; 3 substantiated (full at 3) → 30; 10% overdue (full at 20%) → 10
    assert [factors[f]["points"] for f in ("volume", "substantiated", "overdue", "repeat")] == [30, 30, 10, 0]
    assert points == 70 and factors["volume"]["basis"] == "per_100_members"
    # membership unknown: compared with the median association (5× the median is full)
    _, factors = score(counts, repeat_categories=0, member_count=None, median_received=4, weights=weights)
    assert factors["volume"]["basis"] == "times_median" and factors["volume"]["points"] == 15
    # the weights are settings: only what the operator weighs counts
    points, _ = score(counts, repeat_categories=0, member_count=100, median_received=2,
                      weights={"volume": 0, "substantiated": 1, "overdue": 0, "repeat": 0})
    assert points == 100


def test_grades_and_the_spot_check_list(db, services, hand_counted):
    refresh(db, utcnow)
    assert grade_all(db, services.settings, utcnow) == 1  # all five cases are about one association
    with db.session_scope(write=False) as s:
        risk = s.scalar(select(AssociationRisk))
        assert risk.cases == 5 and risk.factors["substantiated"]["value"] == 1
        assert risk.factors["overdue"]["value"] == 0.2 and risk.factors["repeat"]["value"] == 1
        assert risk.score == sum(f["points"] for f in risk.factors.values())
        listed = spot_checks(s, grades=("high", "medium", "low"))
        assert [r.association_id for r, _ in listed] == [risk.association_id]
        authority = listed[0][1].registration_authority_id
        assert spot_checks(s, authority, grades=("high", "medium", "low"))
        assert not spot_checks(s, authority + 10_000, grades=("high", "medium", "low"))


def test_a_replys_rating_and_review_request_count_against_the_unit_that_replied_not_the_reviewing_unit(
        db, file_case, act):
    """A complaint replied by its unit, rated 不满意 and taken to review (复查) moves to the body
    one level up; the rating and the review request stay the replying unit's figures, as do its
    receipt, acceptance and reply. The reviewing body, which has decided nothing yet, is
    charged with none of them (the tester's case: 工信部 jumped from 66.7% satisfied to 100% and
    中央社会工作部 showed 收到 1, 满意 0.0%, 申请复查率 100.0%)."""
    satisfied, reviewed = file_case().case_id, file_case().case_id
    for case_id in (satisfied, reviewed):
        act(case_id, "accept")
        act(case_id, "reply", opinion="not_supported", legal_basis=BASIS, public_text=STATS_REPLY)
    act(satisfied, "rate", rating="satisfied")
    with db.session_scope(write=False) as s:
        replying = s.get(Case, reviewed).unit_id
    act(reviewed, "rate", rating="dissatisfied")
    act(reviewed, "request_review", public_text="答复没有解决问题，请复查。")
    with db.session_scope(write=False) as s:
        reviewing = s.get(Case, reviewed).unit_id
    assert reviewing not in (None, replying)  # the case is at the review body now

    refresh(db, utcnow)
    period = queries.Period.last_months(utcnow())
    with db.session_scope(write=False) as s:
        replier = queries.totals(s, period, unit=replying)
        reviewer = queries.totals(s, period, unit=reviewing)
        units = dict(queries.breakdown(s, "unit", period))
        within = queries.breakdown(s, "category", period, unit=replying)
        overall = queries.totals(s, period)
    assert (replier["received"], replier["accepted"], replier["replied"]) == (2, 2, 2)
    assert (replier["rated"], replier["satisfied"], replier["reviewed"]) == (2, 1, 1)
    assert replier.satisfaction_rate == 1 / 2 and replier.review_rate == 1 / 2
    assert reviewing not in units or all(units[reviewing][m] == 0 for m in (
        "received", "accepted", "not_accepted", "replied", "rated", "satisfied", "reviewed"))
    assert reviewer.satisfaction_rate is None and reviewer.review_rate is None and reviewer.acceptance_rate is None
    assert units[replying].counts == replier.counts
    # the unit's categories and the units add up to the unit's and the period's figures
    assert sum(f["reviewed"] for _, f in within) == 1 and sum(f["rated"] for _, f in within) == 2
    for m in ("received", "rated", "satisfied", "reviewed", "overdue_now"):
        assert sum(f[m] for f in units.values()) == overall[m]
