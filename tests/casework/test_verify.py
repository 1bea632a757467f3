"""Proving a phone number with an SMS code (casework.verify, issue 19)."""
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select

from casework.notify.models import OutboxMessage
from casework.notify.templates import render
from casework.verify import service as verify
from casework.verify.models import PhoneVerification

PHONE = "13800138000"


@pytest.fixture
def limiter():
    return FixedWindowRateLimiter(MemoryStorage())


def sent_code(session, services, verification):
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"verify:{verification.id}"))
    return json.loads(services.cipher.decrypt(msg.payload_enc, "outbox.payload"))["code"], msg


def send(session, services, limiter, phone=PHONE, client="browser-1"):
    sent = verify.send_code(session, services, limiter, phone=phone, purpose="intake", locale="zh_CN", client_key=client)
    verify.count(limiter, sent.hits)
    return sent.verification


def test_a_code_is_sent_by_sms_and_stored_only_as_a_keyed_hash(session, services, limiter):
    v = send(session, services, limiter)
    code, msg = sent_code(session, services, v)
    assert len(code) == 6 and code.isdigit()
    assert msg.template == "verify_code" and msg.case_id is None
    assert json.loads(services.cipher.decrypt(msg.payload_enc, "outbox.payload")) == {"code": code}  # the only payload
    row = session.get(PhoneVerification, v.id)
    assert code not in row.code_hash and len(row.code_hash) == 64 and PHONE not in row.phone_hash
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    assert verify.check_code(session, services, v.id, "+86 138 0013 8000", code).ok  # the same number, written otherwise


def test_the_notice_says_the_code_and_nothing_else(session, services):
    subject, body = render("verify_code", "zh_CN", {"code": "123456"})
    assert body == "【畅通】验证码 123456，5 分钟内有效。请勿告诉他人。"
    assert "123456" in render("verify_code", "en", {"code": "123456"})[1]


def test_five_wrong_codes_kill_it(session, services, limiter):
    v = send(session, services, limiter)
    code, _ = sent_code(session, services, v)
    wrong = "000000" if code != "000000" else "111111"
    lefts = [verify.check_code(session, services, v.id, PHONE, wrong).tries_left for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    dead = verify.check_code(session, services, v.id, PHONE, code)
    assert not dead.ok and dead.reason == "dead"


def test_another_number_does_not_verify_and_a_code_is_used_once(session, services, limiter):
    v = send(session, services, limiter)
    code, _ = sent_code(session, services, v)
    assert verify.check_code(session, services, v.id, "13900139000", code).reason == "unknown"
    assert verify.check_code(session, services, v.id, PHONE, code).ok
    verify.use(session.get(PhoneVerification, v.id), services)
    assert verify.check_code(session, services, v.id, PHONE, code).reason == "unknown"


def test_expired(session, services, limiter):
    v = send(session, services, limiter)
    code, _ = sent_code(session, services, v)
    later = replace(services, clock=lambda: services.clock() + timedelta(minutes=6))
    assert verify.check_code(session, services, v.id, PHONE, code).ok
    assert verify.check_code(session, later, v.id, PHONE, code).reason == "expired"


def test_limits_per_number_and_per_session(session, services, limiter, monkeypatch):
    send(session, services, limiter)
    with pytest.raises(verify.Refused) as refused:
        send(session, services, limiter)
    assert refused.value.reason == "resend" and 50 <= refused.value.retry_after <= 61
    # past the minute: five codes a day per number
    monkeypatch.setattr(verify, "RESEND", verify.parse("100 per 60 seconds"))
    for _ in range(4):
        send(session, services, limiter, client=f"other-{_}")
    with pytest.raises(verify.Refused) as refused:
        send(session, services, limiter, client="fresh")
    assert refused.value.reason == "number" and refused.value.retry_after > 3600
    # ten a day per browser session, whatever the numbers
    for i in range(5):
        send(session, services, limiter, phone=f"1390013900{i}", client="browser-2")
        send(session, services, limiter, phone=f"1370013700{i}", client="browser-2")
    with pytest.raises(verify.Refused) as refused:
        send(session, services, limiter, phone="13600136000", client="browser-2")
    assert refused.value.reason == "client"


def test_a_dead_code_locks_new_codes_for_15_minutes(session, services, limiter, monkeypatch):
    monkeypatch.setattr(verify, "RESEND", verify.parse("100 per 60 seconds"))
    v = send(session, services, limiter)
    for _ in range(5):
        checked = verify.check_code(session, services, v.id, PHONE, "abcdef")
    assert checked.died
    verify.count(limiter, verify.lock_hits(services, PHONE))
    with pytest.raises(verify.Refused) as refused:
        send(session, services, limiter)
    assert refused.value.reason == "locked" and 14 * 60 < refused.value.retry_after <= 15 * 60 + 1


def test_nothing_is_ever_sent_to_an_unverified_number(db, services, submission_data):
    from casework.cases.models import Case, Channel, Event
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.notify.models import OutboxChannel
    from casework.notify.queue import queue_case_update

    with db.session_scope() as s:
        sub, errors = validate_submission(s, submission_data(complainant={"name": "张三", "phone": PHONE,
                                                                          "email": "zhang@example.cn"}))
        receipt = submit_case(s, services, sub, channel=Channel.api)  # nobody proved the number
        case = s.get(Case, receipt.case_id)
        assert case.phone_verified_via == "unverified" and case.complainant_phone_hash
        queue_case_update(s, services, case, s.scalar(select(Event).where(Event.case_id == case.id)))
        s.flush()
        channels = sorted(m.channel.value for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)))
    assert channels == [OutboxChannel.email.value, OutboxChannel.email.value]  # the receipt and the update, no SMS


def test_a_day_old_verification_is_deleted_with_the_next_code(session, services, limiter):
    old = send(session, services, limiter)
    tomorrow = replace(services, clock=lambda: services.clock() + timedelta(days=1, minutes=1))
    send(session, tomorrow, FixedWindowRateLimiter(MemoryStorage()))
    session.expire_all()
    assert session.get(PhoneVerification, old.id) is None
