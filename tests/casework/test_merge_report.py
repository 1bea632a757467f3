"""市场监督管理投诉举报处理办法 (2026) 第三十五条: "对于同一举报人就同一涉嫌违法事实重复举报同一被举报人的，
不再另行处理；对于同一举报人以补充新的事实为由再次举报同一被举报人的，可以合并处理，并自收到最后一次举报
之日起重新计算处理期限。" The same facts again are a duplicate (link_duplicate); new facts from the same
reporter on the same association are merged (merge_report): the later report closes into the
earlier one, whose time limit runs again from the later one's receipt."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, Channel, Event, EventKind, Stage
from casework.cases.numbers import CHINA
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import Deadlines
from casework.intake.operations import submit_case
from casework.intake.validation import validate_submission
from casework.notify.models import OutboxMessage
from casework.workflow.machine import perform
from casework.workflow.spec import Forbidden, InvalidMove
from tests.casework.test_clocks import at

FILED = datetime(2026, 11, 2, 10, tzinfo=CHINA)    # a Monday
LATER = datetime(2026, 11, 20, 10, tzinfo=CHINA)   # the further report, eighteen days on
REPORT = dict(type="report", category="illegal_fees", title="协会以评比为名违规收费",
              description="协会以评比为名向会员企业收取赞助费，每家两万元。")


@pytest.fixture
def report(db, services, submission_data):
    """report(when, **changes) -> (id, number): a report filed at ``when``."""
    def make(when, phone_verified="sms", **changes):
        verified = phone_verified
        with db.session_scope() as s:
            sub, errors = validate_submission(s, submission_data(**{**REPORT, **changes}))
            assert not errors, errors
            receipt = submit_case(s, at(services, when), sub, channel=Channel.api, phone_verified=verified)
            return receipt.case_id, receipt.case_number
    return make


def move(db, services, actor, case_id, name, when, **fields):
    with db.session_scope() as s:
        return perform(s, at(services, when), actor, s.get(Case, case_id), name, **fields)


def test_a_further_report_with_new_facts_is_merged_and_the_time_limit_runs_again(db, services, report, make_staff):
    handler = make_staff("miit", Role.handler)
    earlier, earlier_number = report(FILED)
    move(db, services, handler, earlier, "accept", FILED + timedelta(days=1))  # 立案: handling runs
    later, later_number = report(LATER, description="协会又以年会为名收取参会费，每家五千元，并附收据。")
    with db.session_scope(write=False) as s:
        before = s.get(Case, earlier).due_at
    move(db, services, handler, later, "merge_report", LATER + timedelta(hours=2), merge_into=earlier_number,
         public_text="您补充的情况已与原举报合并处理。")
    with db.session_scope(write=False) as s:
        merged, kept = s.get(Case, later), s.get(Case, earlier)
        assert merged.state is S.closed and merged.stage is None
        ev = s.scalars(select(Event).where(Event.case_id == later).order_by(Event.id.desc())).first()
        assert ev.kind is EventKind.linked and ev.data["merged_into"] == earlier_number
        # 自收到最后一次举报之日起重新计算处理期限
        assert kept.state is S.accepted and kept.stage is Stage.handling
        assert kept.stage_started_at == LATER
        assert kept.due_at == Deadlines.load(s).due(kept.type, Stage.handling, LATER) and kept.due_at > before
        note = s.scalars(select(Event).where(Event.case_id == earlier).order_by(Event.id.desc())).first()
        assert note.is_public and later_number in note.public_text and "第三十五条" in note.public_text
        assert china_date(kept.due_at).isoformat() in note.public_text
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.case_id == later))  # the reporter is told


def test_only_the_same_reporter_on_the_same_association_and_an_open_earlier_report(db, services, report,
                                                                                  make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    earlier, number = report(FILED)

    def refused(case_id, into=number):
        with pytest.raises(InvalidMove) as err:
            move(db, services, handler, case_id, "merge_report", LATER, merge_into=into)
        return " ".join(str(m) for m in err.value.errors["merge_into"])

    # the same number typed in but never proved: it could be anyone's, and a merge restarts the clock
    unproved, _ = report(LATER, phone_verified=None)
    assert "same reporter" in refused(unproved)
    other_reporter, _ = report(LATER, complainant={"name": "王五", "phone": "13912345678"})
    assert "same reporter" in refused(other_reporter)
    anonymous, _ = report(LATER, anonymous=True, complainant=None)
    assert "anonymous" in refused(anonymous)
    # another association, at the same unit
    other_association, _ = report(LATER, association="511000005000990011")  # 中国钢铁工业协会, also at MIIT
    assert "same association" in refused(other_association)
    # the earlier one into the later: refused; the later into itself: refused
    later, later_number = report(LATER)
    assert "later report into the earlier" in refused(earlier, into=later_number)
    assert "into itself" in refused(later, into=later_number)
    # what the desk lists for the later report: the earlier one only (not the other reporters',
    # the unproved number's, the anonymous one's or the other association's)
    from casework.workflow.duplicates import merge_candidates

    with db.session_scope(write=False) as s:
        assert [c.number for c in merge_candidates(s, s.get(Case, later))] == [number]
        assert merge_candidates(s, s.get(Case, unproved)) == [] and merge_candidates(s, s.get(Case, anonymous)) == []
    # an answered earlier report: the new one is handled on its own
    move(db, services, handler, earlier, "accept", FILED + timedelta(days=1))
    move(db, services, handler, earlier, "reply", FILED + timedelta(days=5),
         public_text="经调查，协会已退还费用。", finding="substantiated")
    assert "answered or closed" in refused(later)
    # a complaint is never merged so (the article is about reports)
    complaint = file_case().case_id
    with db.session_scope(write=False) as s:
        assert s.get(Case, complaint).state is S.pending_acceptance
    with pytest.raises(Forbidden):
        move(db, services, handler, complaint, "merge_report", LATER, merge_into=number)
