"""Issue 17, item 8: intake was an SMS and e-mail bomb (40 API filings in 1.2 s sent 80
receipts to one victim). Every notice to a member of the public is now capped per recipient per
day and channel (casework.notify.queue.DAILY_CAP), counted by a keyed hash of the normalised
recipient, so the recipient stays encrypted; the filing itself still succeeds and its response
carries the number and code. A unit's mailbox is not capped. docs/security.md names these tests."""
from __future__ import annotations

import json

import pytest

from sqlalchemy import func, select

from casework.notify.models import OutboxChannel, OutboxMessage
from casework.notify.queue import DAILY_CAP, queue_message, recipient_hash

VICTIM = "13912340000"


def receipts(db, channel: OutboxChannel) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "case_receipt", OutboxMessage.channel == channel))


@pytest.fixture
def hotline(db, make_staff):
    """A registered API client that vouches for the numbers it files with (issue 19): an unproved
    number gets nothing at all, so the cap is what holds back such a client."""
    from casework.accounts.models import Role
    from tests.web.test_desk_api import auth, token_for

    return auth(token_for(db, make_staff("miit", Role.handler)))


def file(client, submission_data, headers, **complainant):
    resp = client.post("/api/v1/cases", data=json.dumps(submission_data(
        complainant={"name": "张三", **complainant}, phone_verified_by_client=True)),
                       content_type="application/json", headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def test_one_phone_and_one_address_get_at_most_the_daily_cap_of_receipts(client, db, submission_data, hotline):
    sms_before, mail_before = receipts(db, OutboxChannel.sms), receipts(db, OutboxChannel.email)
    spellings = [VICTIM, f"+86 {VICTIM[:3]}-{VICTIM[3:7]}-{VICTIM[7:]}"]  # one number, however written
    for i in range(DAILY_CAP[OutboxChannel.email] + 3):
        body = file(client, submission_data, hotline, phone=spellings[i % 2], email="Victim@Example.cn" if i % 2 else "victim@example.cn")
        assert body["case_number"] and body["query_code"]  # the filer still gets the number and code
    assert receipts(db, OutboxChannel.sms) - sms_before == DAILY_CAP[OutboxChannel.sms]
    assert receipts(db, OutboxChannel.email) - mail_before == DAILY_CAP[OutboxChannel.email]
    file(client, submission_data, hotline, phone="13912340001")  # someone else is not affected
    assert receipts(db, OutboxChannel.sms) - sms_before == DAILY_CAP[OutboxChannel.sms] + 1


def test_the_count_needs_no_decryption_and_the_hash_is_keyed(services):
    a = recipient_hash(services, OutboxChannel.sms, "139 1234 0000")
    assert a == recipient_hash(services, OutboxChannel.sms, "+8613912340000")
    assert VICTIM not in a and len(a) == 64
    assert a != recipient_hash(services, OutboxChannel.email, VICTIM)


def test_a_units_mailbox_is_not_capped(db, services):
    with db.session_scope() as s:
        for i in range(DAILY_CAP[OutboxChannel.email] + 5):
            assert queue_message(s, services, dedupe_key=f"test-cap-unit-{i}", case=None, channel=OutboxChannel.email,
                                 template="unit_overdue", locale="zh_CN", recipient="unit@example.gov.cn",
                                 payload={"case_number": "X"}, unit_mailbox=True) is not None


def test_a_supervisors_unit_hears_of_every_report_in_a_busy_day(db, services, file_case, make_staff):
    """The workflow's notices to a unit's mailbox are not held to the public's cap: a supervisor
    who issued 25 督办单 hears of each of the 25 reports the same day (before, the 21st and later
    were dropped as if the mailbox were a stranger being flooded)."""
    from casework.accounts.models import Role
    from casework.cases.models import Case
    from casework.workflow.machine import perform
    from tests.casework.test_supervision import TEXT, day

    supervisor = make_staff("mca", Role.supervisor)
    cases = [file_case().case_id for _ in range(DAILY_CAP[OutboxChannel.email] + 5)]
    with db.session_scope() as s:
        handler = make_staff(s.get(Case, cases[0]).unit.code, Role.handler)
    for case_id in cases:
        with db.session_scope() as s:
            c = s.get(Case, case_id)
            assert c.unit_id == s.get(Case, cases[0]).unit_id
            perform(s, services, supervisor, c, "issue_supervision", respond_by=day(10), internal_text=TEXT)
            perform(s, services, handler, c, "report_supervision", internal_text="已核实并整改。")
    with db.session_scope(write=False) as s:
        for template in ("supervision_notice", "supervision_report"):
            assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.template == template)) == len(cases), template
