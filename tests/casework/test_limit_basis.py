"""Every time limit says where its default comes from: an article, or that the figure is the
design's because the law sets none (casework.deadlines.limits.BASIS; docs/legal.md)."""
from datetime import datetime

from casework.cases.models import CaseType, Stage
from casework.deadlines.calendar import WorkingCalendar, china_date
from casework.deadlines.limits import BASIS, DEFAULTS, Deadlines, Limit, basis
from casework.cases.numbers import CHINA


def test_every_stage_and_every_default_has_a_legal_basis():
    for stage in Stage:
        assert any(s is stage for _, s in BASIS), stage
    for case_type, stage in DEFAULTS:
        assert basis(case_type, stage), (case_type, stage)
    # nothing is recorded for a limit that does not exist
    assert set(BASIS) <= set(DEFAULTS)


def test_a_design_default_says_so_and_a_statutory_one_names_its_article():
    assert basis(None, Stage.material).startswith("Design default")
    assert basis(None, Stage.rating).startswith("Design default")
    assert basis(None, Stage.mediation_answer).startswith("Design default")
    assert "信访工作条例 art. 23 para. 3" in basis(None, Stage.transfer_objection)
    assert "信访工作条例 art. 35" in basis(CaseType.complaint, Stage.review)
    assert "人民调解法 art. 33" in basis(CaseType.mediation, Stage.judicial_confirmation)
    # a type without its own row takes the stage's
    assert basis(CaseType.complaint, Stage.handling) == BASIS[(None, Stage.handling)]


def test_a_reports_filing_decision_is_extended_by_15_working_days():
    """市场监督管理行政处罚程序规定 第十八条: the 立案 decision may be extended once by 15 working
    days (特殊情况下，经负责人批准，可以延长十五个工作日), not by a complaint's 30 days."""
    assert DEFAULTS[(CaseType.report, Stage.extension)] == Limit(15, True)
    assert DEFAULTS[(None, Stage.extension)] == Limit(30, False)
    d = Deadlines.defaults()
    due = datetime(2026, 3, 2, 23, 59, 59, tzinfo=CHINA)  # a Monday
    extended = d.due(CaseType.report, Stage.extension, due)
    assert china_date(extended) == WorkingCalendar().add_working_days(china_date(due), 15)
    assert china_date(d.due(CaseType.complaint, Stage.extension, due)).isoformat() == "2026-04-01"
