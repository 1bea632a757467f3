"""Filing a case in the domain: validation, storage, privacy, idempotency, outbox."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from casework.cases import numbers
from casework.cases.guards import InvariantViolation
from casework.cases.models import Case, CaseState, Channel, Event, EventKind
from casework.intake import operations as ops
from casework.intake.validation import validate_submission
from casework.notify.models import OutboxMessage
from casework.privacy import codes


def errors_for(session, data):
    sub, errors = validate_submission(session, data)
    return {k: [m.msgid for m in v] for k, v in errors.items()}


def test_a_valid_complaint_validates(session, submission_data):
    sub, errors = validate_submission(session, submission_data())
    assert errors == {}
    assert sub.complainant.phone == "13800138000" and sub.association_id is not None


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"title": "短"}, "title"),
    ({"title": "长" * 101}, "title"),
    ({"description": "太短了"}, "description"),
    ({"description": "x" * 5001}, "description"),
    ({"association": "51100000500009247X"}, "association"),  # wrong check digit
    ({"association": "91110000710935483T"}, "association"),  # valid code, not in registry
    ({"category": "no_such_category"}, "category"),
    ({"category": "consumer"}, "category"),  # a mediation category on a complaint
    ({"type": "petition"}, "type"),
    ({"privacy_consent": False}, "privacy_consent"),
    ({"complainant": {"name": "张三", "phone": "010-12345678"}}, "complainant.phone"),  # landline
    ({"complainant": {"name": "张三", "phone": "12345"}}, "complainant.phone"),
    ({"complainant": {"name": "张三", "phone": "+1 415 555 0100"}}, "complainant.phone"),
    ({"complainant": {"name": "<script>alert(1)</script>", "phone": "13800138000"}}, "complainant.name"),
    ({"complainant": {"name": "张三", "phone": "13800138000", "email": "not-an-email"}}, "complainant.email"),
    ({"complainant": {"name": "张三", "phone": "13800138000", "id_number": "110105194912310021"}}, "complainant.id_number"),
    ({"complainant": None}, "complainant.name"),
    ({"anonymous": True}, "anonymous"),  # only reports may be anonymous
])
def test_bad_input_names_the_field(session, submission_data, changes, field):
    assert field in errors_for(session, submission_data(**changes))


def test_unknown_association_is_allowed(session, submission_data):
    sub, errors = validate_submission(session, submission_data(association="unknown", association_hint="某某商会"))
    assert not errors and sub.association_id is None and sub.association_hint == "某某商会"


def test_markup_is_kept_as_text_and_control_characters_dropped(session, submission_data):
    sub, errors = validate_submission(session, submission_data(
        title="<b>强制入会</b>\u202e", description="<script>alert('x')</script> 收取会费\x00两万元"))
    assert not errors
    assert sub.title == "<b>强制入会</b>"
    assert sub.description == "<script>alert('x')</script> 收取会费两万元"


def test_anonymous_report_keeps_no_identity(session, submission_data, file_case, db):
    receipt = file_case(type="report", anonymous=True, category="illegal_fees",
                        complainant={"name": "王五", "phone": "13900139000"})
    with db.session_scope() as s:
        case = s.get(Case, receipt.case_id)
        assert case.anonymous
        assert case.complainant_name_enc is None and case.complainant_phone_enc is None
        assert s.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id)) is None


def test_mediation_request_needs_a_respondent(session, submission_data):
    data = submission_data(type="mediation", category="member_contract")
    assert {"respondent.name", "respondent.kind", "claim"} <= set(errors_for(session, data))
    data["respondent"] = {"name": "某某贸易有限公司", "phone": "028-85551234", "kind": "member_company"}
    data["claim"] = "请求对方支付拖欠的货款。"
    data["amount"] = "-5"
    assert set(errors_for(session, data)) == {"amount"}
    data["amount"] = "300,000.5"
    sub, errors = validate_submission(session, data)
    assert not errors and str(sub.mediation.amount) == "300000.50"


def test_filed_case_is_stored_with_event_encrypted_identity_and_hashed_code(db, services, file_case):
    receipt = file_case()
    assert receipt.state is CaseState.pending_acceptance  # routed by the default rules
    assert numbers.is_well_formed(receipt.case_number) and receipt.case_number.startswith("TS")
    assert codes.looks_like_code(receipt.query_code)
    with db.session_scope() as s:
        case = s.get(Case, receipt.case_id)
        assert [e.kind for e in case.events] == [EventKind.submitted, EventKind.routed]
        assert case.unit.code == "miit"
        assert case.query_code_hash == codes.hash_code(services.settings.query_pepper, case.number, receipt.query_code)
        assert services.cipher.decrypt_text(case.complainant_phone_enc, "case.complainant.phone") == "13800138000"
        raw = s.execute(text('SELECT * FROM "case" WHERE id = :id'), {"id": case.id}).one()
        flat = repr(tuple(raw))
        for secret in ("13800138000", "张三", receipt.query_code, codes.normalize(receipt.query_code)):
            assert secret not in flat
        notice = s.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
        assert notice.template == "case_receipt" and notice.channel.value == "sms"
        assert receipt.query_code.encode() not in notice.payload_enc


def test_replayed_submission_files_once_and_shows_the_same_receipt(db, services, session, submission_data):
    sub, _ = validate_submission(session, submission_data())
    first = ops.submit_case(session, services, sub, channel=Channel.web, idempotency_key="k" * 32)
    session.commit()
    again = ops.submit_case(session, services, sub, channel=Channel.web, idempotency_key="k" * 32)
    assert again.replayed and again.case_number == first.case_number and again.query_code == first.query_code
    assert session.scalar(select(Case.id).where(Case.number != first.case_number)) is None


def test_replay_after_the_receipt_expired_does_not_reveal_the_code(db, services, session, submission_data):
    sub, _ = validate_submission(session, submission_data())
    first = ops.submit_case(session, services, sub, channel=Channel.web, idempotency_key="e" * 32)
    session.commit()
    later = type(services)(settings=services.settings, cipher=services.cipher, files=services.files,
                           clock=lambda: services.clock() + timedelta(minutes=services.settings.receipt_minutes + 1))
    again = ops.submit_case(session, later, sub, channel=Channel.web, idempotency_key="e" * 32)
    assert again.case_number == first.case_number and again.query_code is None


def test_number_collision_is_retried(db, services, session, submission_data, file_case, monkeypatch):
    taken = file_case().case_number
    real = numbers.new_case_number
    calls = []

    def fake(case_type, now, digits):
        calls.append(1)
        return taken if len(calls) <= 2 else real(case_type, now, digits)

    monkeypatch.setattr(ops, "new_case_number", fake)
    sub, _ = validate_submission(session, submission_data())
    receipt = ops.submit_case(session, services, sub, channel=Channel.api)
    session.commit()
    assert receipt.case_number != taken and len(calls) == 3
    assert session.scalar(select(Case).where(Case.number == receipt.case_number)).title == sub.title


def test_events_are_append_only_and_cases_do_not_change_silently(db, file_case):
    receipt = file_case()
    with pytest.raises(InvariantViolation):
        with db.session_scope() as s:
            s.scalar(select(Event).where(Event.case_id == receipt.case_id)).summary = "rewritten"
            s.flush()
    with pytest.raises(InvariantViolation):
        with db.session_scope() as s:
            s.delete(s.scalar(select(Event).where(Event.case_id == receipt.case_id)))
            s.flush()
    with pytest.raises(InvariantViolation):
        with db.session_scope() as s:
            s.get(Case, receipt.case_id).title = "changed without a trace"
            s.flush()


def test_a_day_whose_five_digit_numbers_are_taken_files_wider_numbers(db, services, session, submission_data,
                                                                      file_case, monkeypatch, client):
    """100,000 numbers a type a day: when the draws of five digits keep finding numbers taken
    (a surge day), the filing draws six digits, then seven, and the longer number works
    wherever a number is typed. Every five-digit draw is made to hit the one number taken."""
    taken = file_case().case_number
    drawn = int(taken[10:15])
    real_randbelow = numbers.secrets.randbelow
    monkeypatch.setattr(numbers.secrets, "randbelow", lambda n: drawn if n == 100_000 else real_randbelow(n))
    sub, _ = validate_submission(session, submission_data())
    receipt = ops.submit_case(session, services, sub, channel=Channel.api)
    session.commit()
    number = receipt.case_number
    assert len(number) == 17 and number[:10] == taken[:10] and numbers.is_well_formed(number)
    assert numbers.is_well_formed(numbers.normalize_number(f" {number[:6].lower()}-{number[6:]}"))  # as typed
    resp = client.get(f"/api/v1/cases/{number}", headers={"X-Query-Code": receipt.query_code})
    assert resp.status_code == 200 and resp.get_json()["case_number"] == number
    # six digits taken too: seven
    monkeypatch.setattr(numbers.secrets, "randbelow", lambda n: (drawn if n == 100_000 else int(number[10:16]))
                        if n < 10_000_000 else real_randbelow(n))
    sub, _ = validate_submission(session, submission_data())
    wider = ops.submit_case(session, services, sub, channel=Channel.api)
    session.commit()
    assert len(wider.case_number) == 18 and numbers.is_well_formed(wider.case_number)
    assert not numbers.is_well_formed(wider.case_number + "0") and not numbers.is_well_formed(taken[:-1])


def test_case_numbers_are_well_formed_and_random():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    from casework.cases.models import CaseType

    issued = {numbers.new_case_number(CaseType.report, now) for _ in range(200)}
    assert len(issued) > 190
    assert all(n.startswith("JB20261127") and numbers.is_well_formed(n) for n in issued)
    n = next(iter(issued))
    assert not numbers.is_well_formed(n[:-1] + str((int(n[-1]) + 1) % 10))  # a typo is caught
