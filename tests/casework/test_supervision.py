"""A supervision notice (督办单): a supervisor of another unit issues it on a case; the unit's
mailbox is told the case number and the date only; the case's state does not change."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, Event, EventKind
from casework.cases.numbers import CHINA
from casework.notify.models import OutboxMessage
from casework.workflow.machine import Forbidden, InvalidMove, available_moves, perform

TEXT = "请于期限内核实强制入会问题并报告办理结果。"


def day(offset):
    return (datetime.now(timezone.utc).astimezone(CHINA).date() + timedelta(days=offset)).isoformat()


def test_a_supervisor_issues_a_notice_the_unit_is_told(db, services, file_case, make_staff):
    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        unit_code = c.unit.code
        assert "issue_supervision" in [m.name for m in available_moves(supervisor, c)]
        with pytest.raises(InvalidMove) as bad:
            perform(s, services, supervisor, c, "issue_supervision", respond_by=day(0), internal_text=TEXT)
        assert "respond_by" in bad.value.errors
        with pytest.raises(InvalidMove):
            perform(s, services, supervisor, c, "issue_supervision", respond_by="next week", internal_text=TEXT)
        with pytest.raises(InvalidMove) as missing:
            perform(s, services, supervisor, c, "issue_supervision", respond_by=day(10), internal_text="")
        assert "internal_text" in missing.value.errors
        event = perform(s, services, supervisor, c, "issue_supervision", respond_by=day(10), internal_text=TEXT)
        assert c.state is S.pending_acceptance and event.kind is EventKind.supervised
        assert event.data["respond_by"] == day(10) and not event.is_public
        mailbox = c.unit.notice_email
    handler = make_staff(unit_code, Role.handler)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        assert "issue_supervision" not in [m.name for m in available_moves(handler, c)]
        with pytest.raises(Forbidden):
            perform(s, services, handler, c, "issue_supervision", respond_by=day(10), internal_text=TEXT)
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Event).where(Event.case_id == filed, Event.kind == EventKind.supervised))
        notices = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "supervision_notice")))
    assert mailbox and len(notices) == 1  # the demo units all have a notice mailbox
    assert services.cipher.decrypt_text(notices[0].recipient_enc, "outbox.recipient") == mailbox
    payload = json.loads(services.cipher.decrypt(notices[0].payload_enc, "outbox.payload"))
    assert set(payload) == {"case_number", "respond_by"}  # no case content


def test_the_unit_reports_on_a_notice_and_the_supervisor_is_told(db, services, file_case, make_staff):
    """信访工作条例 第四十条: the 信访部门 督办 a unit and proposes improvements, and the unit
    书面反馈 (answers in writing). The 督办单 asks the unit to act and report by its date: the unit's
    handler reports once per notice, the report names the notice and whether it came late, and the
    mailbox of the supervisor's unit is told which case (no content)."""
    from casework.workflow import supervision

    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        unit_code = c.unit.code
    handler = make_staff(unit_code, Role.handler)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        # nothing to report on before a notice; the sweep's automatic escalation asks for no report
        assert "report_supervision" not in [m.name for m in available_moves(handler, c)]
        notice = perform(s, services, supervisor, c, "issue_supervision", respond_by=day(10), internal_text=TEXT)
        notice_id = notice.id
        assert "report_supervision" in [m.name for m in available_moves(handler, c)]
        assert "report_supervision" not in [m.name for m in available_moves(supervisor, c)]
        with pytest.raises(InvalidMove) as empty:
            perform(s, services, handler, c, "report_supervision", internal_text="")
        assert "internal_text" in empty.value.errors
        report = perform(s, services, handler, c, "report_supervision", internal_text="已约谈协会负责人，责令退还会费。")
        assert report.data["supervision"] == notice_id and report.data["late"] is False and not report.is_public
        assert c.state is S.pending_acceptance
        assert "report_supervision" not in [m.name for m in available_moves(handler, c)]  # once per notice
        mca_mailbox = supervisor_mailbox(s)
    with db.session_scope(write=False) as s:
        told = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "supervision_report")))
        [row] = supervision.notices(s, services.clock(), limit=10)
    assert mca_mailbox and len(told) == 1
    assert services.cipher.decrypt_text(told[0].recipient_enc, "outbox.recipient") == mca_mailbox
    payload = json.loads(services.cipher.decrypt(told[0].payload_enc, "outbox.payload"))
    assert set(payload) == {"case_number", "respond_by"}
    assert row.status == "reported" and row.reported_at is not None


def test_a_notice_past_its_date_without_a_report_and_a_late_report(db, services, file_case, make_staff):
    from casework.context import Services
    from casework.workflow import supervision

    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        unit_code = s.get(Case, filed).unit.code
        perform(s, services, supervisor, s.get(Case, filed), "issue_supervision", respond_by=day(3), internal_text=TEXT)
    later = Services(settings=services.settings, cipher=services.cipher, files=services.files,
                     clock=lambda: services.clock() + timedelta(days=5))
    with db.session_scope(write=False) as s:
        [row] = supervision.notices(s, later.clock(), limit=10)
        assert row.status == "overdue" and row.reported_at is None
        [row] = supervision.notices(s, services.clock(), limit=10)
        assert row.status == "awaiting"
        # the case carries the date its report is owed by: the waiting list and its counts read it
        assert str(s.get(Case, filed).notice_report_due) == day(3)
        assert supervision.count_waiting(s, services.clock()) == (1, 0)
        assert supervision.count_waiting(s, later.clock()) == (1, 1)
        [waiting] = supervision.waiting_notices(s, later.clock(), overdue_only=True, limit=10)
        assert waiting.status == "overdue" and waiting.respond_by == day(3) and waiting.issued_at is not None
        assert supervision.waiting_notices(s, services.clock(), overdue_only=True, limit=10) == []
    with db.session_scope() as s:
        report = perform(s, later, make_staff(unit_code, Role.handler), s.get(Case, filed), "report_supervision",
                         internal_text="已核实，正在整改。")
        assert report.data["late"] is True
    with db.session_scope(write=False) as s:
        [row] = supervision.notices(s, later.clock(), limit=10)
        assert s.get(Case, filed).notice_report_due is None
        assert supervision.count_waiting(s, later.clock()) == (0, 0)
    assert row.status == "reported_late"


def supervisor_mailbox(s):
    from casework.registry.models import Unit

    return s.scalar(select(Unit.notice_email).where(Unit.code == "mca"))


def test_the_list_of_notices_reads_its_partial_index_not_every_event(db):
    """At a million cases the event table holds millions of rows and a few 督办单: the list of
    notices and its count are answered from ix_event_supervision_notice, the list of those waiting
    for a report and its counts from ix_case_notice_report_due, on SQLite and on PostgreSQL, not
    by reading every event or case."""
    from sqlalchemy import func

    from casework.workflow.supervision import _NOTICES, _WAITING
    from tests.plans import plan

    queries = [(select(Event.id).where(_NOTICES).order_by(Event.id.desc()).limit(50), "ix_event_supervision_notice"),
               (select(func.count()).select_from(Event).where(_NOTICES), "ix_event_supervision_notice"),
               (select(Case.id).where(_WAITING).order_by(Case.notice_report_due, Case.id).limit(50),
                "ix_case_notice_report_due"),
               (select(func.count()).select_from(Case).where(_WAITING), "ix_case_notice_report_due")]
    with db.session_scope(write=False) as s:
        conn = s.connection()
        for query, index in queries:  # as the app sends it: with its bound parameters
            shown = plan(db, conn, query)
            # a case's notice may also be read from the queue's partial index of flagged cases
            # (ix_case_unit_attention: overdue or under a notice), which PostgreSQL picks on a small
            # table: a few cases of all either way
            assert index in shown or (index == "ix_case_notice_report_due" and "ix_case_unit_attention" in shown), shown
            assert "Seq Scan" not in shown and "SCAN case" not in shown.replace("SCAN case USING", ""), shown


def test_a_notice_unanswered_when_a_later_one_came_is_superseded_not_overdue(db, services, file_case, make_staff):
    """A supervisor issues a second 督办单 before the unit reported on the first: the unit now owes
    one report, on the latest (its date), and the list says the first was replaced, not that
    it is still overdue (条例 第四十条: the unit answers the 督办 in writing; one answer is owed)."""
    from casework.context import Services
    from casework.workflow import supervision

    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        unit_code = s.get(Case, filed).unit.code
        first = perform(s, services, supervisor, s.get(Case, filed), "issue_supervision", respond_by=day(3),
                        internal_text=TEXT).id
        second = perform(s, services, supervisor, s.get(Case, filed), "issue_supervision", respond_by=day(20),
                         internal_text="再次督办：请尽快报告。").id
    later = Services(settings=services.settings, cipher=services.cipher, files=services.files,
                     clock=lambda: services.clock() + timedelta(days=5))
    with db.session_scope(write=False) as s:
        rows = supervision.notices(s, later.clock(), limit=10)
        assert [r.status for r in rows] == ["awaiting", "superseded"]  # newest first
        assert not rows[1].late and supervision.count_waiting(s, later.clock()) == (1, 0)
    with db.session_scope() as s:
        report = perform(s, later, make_staff(unit_code, Role.handler), s.get(Case, filed), "report_supervision",
                         internal_text="已核实，正在整改。")
        assert report.data["supervision"] == second and report.data["late"] is False
    with db.session_scope(write=False) as s:
        rows = supervision.notices(s, later.clock(), limit=10)
    assert [r.status for r in rows] == ["reported", "superseded"] and first != second


def test_a_notice_follows_a_transferred_case_and_both_sides_are_told(db, services, file_case, make_staff):
    """A case under a 督办单 transferred to another unit: the list showed the notice at the new unit,
    whose page asked for the report, but no one had told that unit, nor the supervisor that the unit
    they wrote to no longer had the case. The notice follows the matter (条例 第四十条: 督办 asks the
    unit handling it to act); the new unit's mailbox gets it, the supervisor's is told where it went."""
    from casework.registry.models import Unit
    from casework.workflow.reasons import TransferReason

    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        unit_code = c.unit.code
        perform(s, services, supervisor, c, "issue_supervision", respond_by=day(10), internal_text=TEXT)
        samr = s.scalar(select(Unit).where(Unit.code == "samr"))
        samr_id, samr_mailbox = samr.id, samr.notice_email
        mca_mailbox = supervisor_mailbox(s)
    handler = make_staff(unit_code, Role.handler)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        perform(s, services, handler, c, "transfer", unit_id=str(samr_id),
                reason=TransferReason.other_unit_competent.value, public_text="已转国家市场监督管理总局办理。")
    with db.session_scope(write=False) as s:
        rows = list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.template.in_(("supervision_notice", "supervision_moved"))).order_by(OutboxMessage.id)))
    sent = [(r.template, services.cipher.decrypt_text(r.recipient_enc, "outbox.recipient")) for r in rows]
    assert ("supervision_notice", samr_mailbox) in sent and ("supervision_moved", mca_mailbox) in sent
    moved = next(r for r in rows if r.template == "supervision_moved")
    assert json.loads(services.cipher.decrypt(moved.payload_enc, "outbox.payload")) == {
        "case_number": number_of(db, filed), "respond_by": day(10)}
    # the new unit now owes the report; a transfer of a case under no notice tells no supervisor
    samr_handler = make_staff("samr", Role.handler)
    with db.session_scope(write=False) as s:
        assert "report_supervision" in [m.name for m in available_moves(samr_handler, s.get(Case, filed))]
    other = file_case().case_id
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, other), "transfer", unit_id=str(samr_id),
                reason=TransferReason.other_unit_competent.value, public_text="已转国家市场监督管理总局办理。")
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "supervision_moved")) == 1


def number_of(db, case_id):
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id).number


def test_the_notice_form_says_its_date_rule_before_it_is_broken():
    """The rule (after today, within 90 days) appeared only as an error, one round after another."""
    from casework.workflow import supervision
    from casework.workflow.table import MOVES

    [field] = [f for f in MOVES["issue_supervision"].fields if f.name == "respond_by"]
    assert field.hint and f"{supervision.MAX_DAYS} days" in field.hint


def test_a_notices_missing_instructions_and_bad_date_are_said_together(db, services, file_case, make_staff):
    """The date's rule came a send after the missing instructions; every field's error comes at once."""
    filed = file_case().case_id
    supervisor = make_staff("mca", Role.supervisor)
    with db.session_scope() as s:
        with pytest.raises(InvalidMove) as both:
            perform(s, services, supervisor, s.get(Case, filed), "issue_supervision", respond_by=day(200),
                    internal_text="")
    assert set(both.value.errors) == {"respond_by", "internal_text"}
