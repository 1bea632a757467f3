"""A supervision notice (督办单): a supervisor of another unit issues it on a case; the unit's
mailbox is told the case number and the date only; the case's state does not change."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

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
