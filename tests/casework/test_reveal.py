"""A report's identity: its own key, and a reveal that takes a reason, a custodian's approval
and leaves an event and an audit entry at every step."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.audit.models import AuditEntry
from casework.cases.models import Case, Event, EventKind
from casework.context import Services
from casework.privacy.crypto import Cipher, DecryptionError, derive_identity_key
from casework.privacy.models import RevealStatus
from casework.settings import Settings, new_key
from casework.workflow import machine, reveal
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed, available_moves

IDENTITY = {"name": "李四", "phone": "13900139000", "email": "li@example.cn", "id_number": "11010519491231002X"}


@pytest.fixture
def report(file_case):
    return file_case(type="report", category="illegal_fees", complainant=dict(IDENTITY)).case_number


def load(s, number) -> Case:
    return s.scalar(select(Case).where(Case.number == number))


def at(services, moment):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files, clock=lambda: moment)


def test_a_reports_identity_is_under_its_own_key_a_complaints_is_not(db, services, report, file_case):
    pii = Cipher(services.settings.pii_keys)
    complaint = file_case().case_number
    with db.session_scope(write=False) as s:
        case = load(s, report)
        for key, value in IDENTITY.items():
            blob = getattr(case, f"complainant_{key}_enc")
            with pytest.raises(DecryptionError):
                pii.decrypt_text(blob, f"case.complainant.{key}")
            assert services.identity_cipher.decrypt_text(blob, f"case.complainant.{key}") == value
        # the case text is not under the identity key (it is not encrypted at all: no identity in it)
        assert case.title and case.description
        other = load(s, complaint)
        assert pii.decrypt_text(other.complainant_phone_enc, "case.complainant.phone") == "13800138000"
        with pytest.raises(DecryptionError):
            services.identity_cipher.decrypt_text(other.complainant_phone_enc, "case.complainant.phone")


def test_identity_key_setting_derived_and_rotation(settings):
    derived = settings.identity_keyring
    assert derived[0] == derive_identity_key(settings.pii_keys[0]) and derived[0] not in settings.pii_keys
    own = new_key()
    env = {"CHANGTONG_SECRET_KEY": "x", "CHANGTONG_PII_KEY": new_key(), "CHANGTONG_QUERY_PEPPER": new_key(),
           "CHANGTONG_IDENTITY_KEY": own, "CHANGTONG_RETENTION_DAYS": "30"}
    s = Settings.from_env(env)
    assert s.identity_keyring[0] == __import__("base64").urlsafe_b64decode(own)
    assert s.retention_days == 30
    # what the derived key wrote stays readable after an own key is set
    old = Cipher((derive_identity_key(s.pii_keys[0]),)).encrypt_text("王五", "case.complainant.name")
    assert Cipher(s.identity_keyring).decrypt_text(old, "case.complainant.name") == "王五"


def test_reveal_takes_a_reason_a_custodians_approval_and_records_every_view(db, services, report, make_staff):
    handler = make_staff("miit", Role.handler)
    other_handler = make_staff("miit", Role.handler)
    custodian = make_staff("miit", Role.custodian)
    foreign_custodian = make_staff("mca", Role.custodian)
    admin = make_staff("mca", Role.administrator)
    with db.session_scope() as s:
        case = load(s, report)
        with pytest.raises(Forbidden):  # nobody sees it before an approval
            reveal.view_identity(s, services, handler, case)
        with pytest.raises(InvalidMove):  # a reason of at least ten characters
            machine.perform(s, services, handler, case, "request_reveal", reason="need it")
        for who in (custodian, admin):
            with pytest.raises(Forbidden):
                machine.perform(s, services, who, case, "request_reveal", reason="a long enough reason here")
        machine.perform(s, services, handler, case, "request_reveal", reason="需要当面核实举报材料的来源和细节")
        assert reveal.REQUEST not in {m.name for m in available_moves(custodian, case)}
    with db.session_scope() as s:
        case = load(s, report)
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.case_id == case.id))
        for who in (foreign_custodian, handler, other_handler):
            with pytest.raises(Forbidden):
                machine.perform(s, services, who, case, "decide_reveal", request_id=str(req.id), decision="approve", note="ok")
        machine.perform(s, services, custodian, case, "decide_reveal", request_id=str(req.id), decision="approve", note="同意，限本次核实")
        with pytest.raises(MoveNotAllowed):  # decided once
            machine.perform(s, services, custodian, case, "decide_reveal", request_id=str(req.id), decision="deny", note="no")
    with db.session_scope() as s:
        case = load(s, report)
        for who in (other_handler, custodian, admin):  # the approval is the requester's alone
            with pytest.raises(Forbidden):
                reveal.view_identity(s, services, who, case)
        assert reveal.view_identity(s, services, handler, case) == IDENTITY
        assert reveal.view_identity(s, services, handler, case)["phone"] == "13900139000"
        expires = s.scalar(select(reveal.RevealRequest.expires_at))
    later = at(services, expires + timedelta(minutes=1))
    with db.session_scope() as s:
        with pytest.raises(Forbidden):  # 24 hours, then over
            reveal.view_identity(s, later, handler, load(s, report))
    with db.session_scope(write=False) as s:
        case = load(s, report)
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
        assert kinds.count(EventKind.reveal_requested) == 1 and kinds.count(EventKind.reveal_decided) == 1
        assert kinds.count(EventKind.identity_revealed) == 2
        assert not any(e.is_public for e in case.events if e.kind in (
            EventKind.reveal_requested, EventKind.reveal_decided, EventKind.identity_revealed))
        actions = [a.action.value for a in s.scalars(select(AuditEntry).where(
            AuditEntry.kind == "identity_reveal", AuditEntry.object_id == report).order_by(AuditEntry.id))]
        assert actions == ["requested", "approved", "viewed", "viewed"]
        # no personal data in the events or the audit trail
        for e in case.events:
            assert IDENTITY["phone"] not in f"{e.summary}{e.data}{e.internal_text}{e.public_text}"


def test_a_denied_request_reveals_nothing(db, services, report, make_staff):
    handler, custodian = make_staff("miit", Role.handler), make_staff("miit", Role.custodian)
    with db.session_scope() as s:
        machine.perform(s, services, handler, load(s, report), "request_reveal", reason="需要联系举报人补充证据材料")
    with db.session_scope() as s:
        case = load(s, report)
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.case_id == case.id))
        machine.perform(s, services, custodian, case, "decide_reveal", request_id=str(req.id), decision="deny", note="理由不足")
    with db.session_scope() as s:
        assert s.scalar(select(reveal.RevealRequest.status)) is RevealStatus.denied
        with pytest.raises(Forbidden):
            reveal.view_identity(s, services, handler, load(s, report))


def test_one_cannot_approve_ones_own_request(db, services, report, make_staff):
    both = make_staff("miit", Role.handler, Role.custodian)
    with db.session_scope() as s:
        machine.perform(s, services, both, load(s, report), "request_reveal", reason="需要联系举报人补充证据材料")
    with db.session_scope() as s:
        case = load(s, report)
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.case_id == case.id))
        with pytest.raises(Forbidden):
            machine.perform(s, services, both, case, "decide_reveal", request_id=str(req.id), decision="approve", note="self")


def test_complaints_and_anonymous_reports_have_no_reveal(db, services, file_case, make_staff):
    handler = make_staff("miit", Role.handler)
    complaint = file_case().case_number
    anon = file_case(type="report", category="illegal_fees", anonymous=True, complainant=None).case_number
    with db.session_scope() as s:
        with pytest.raises(Forbidden):
            machine.perform(s, services, handler, load(s, complaint), "request_reveal", reason="a long enough reason here")
        with pytest.raises(MoveNotAllowed):
            machine.perform(s, services, handler, load(s, anon), "request_reveal", reason="a long enough reason here")


def test_no_second_request_while_an_approval_runs(db, services, report, make_staff):
    """The custodian is not asked again for what the handler may already see: a request is
    refused while the handler's approval runs (24 hours), and taken again once it has ended."""
    handler, custodian = make_staff("miit", Role.handler), make_staff("miit", Role.custodian)
    with db.session_scope() as s:
        machine.perform(s, services, handler, load(s, report), "request_reveal", reason="需要当面核实举报材料的来源和细节")
    with db.session_scope() as s:
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.requested_by == handler.user_id))
        machine.perform(s, services, custodian, load(s, report), "decide_reveal", request_id=str(req.id),
                        decision="approve", note="同意")
        expires = req.expires_at
    with db.session_scope() as s:
        with pytest.raises(MoveNotAllowed, match="still running"):
            machine.perform(s, services, handler, load(s, report), "request_reveal", reason="再次核实举报材料的来源")
    later = at(services, expires + timedelta(minutes=1))
    with db.session_scope() as s:
        machine.perform(s, later, handler, load(s, report), "request_reveal", reason="再次核实举报材料的来源")


def test_the_reveal_moves_are_offered_only_when_they_would_succeed(db, services, report, make_staff):
    """The guards on who asks and who decides (``when_actor``): a handler is not offered a
    request while their own waits or their approval runs (another handler is); a custodian is
    offered a decision only while a request that is not their own waits."""
    handler, other = make_staff("miit", Role.handler), make_staff("miit", Role.handler)
    custodian = make_staff("miit", Role.custodian)

    def offered(actor, clock=services) -> set[str]:
        with db.session_scope(write=False) as s:
            return {m.name for m in available_moves(actor, load(s, report), clock.clock())}

    assert "request_reveal" in offered(handler) and "decide_reveal" not in offered(custodian)
    with db.session_scope() as s:
        machine.perform(s, services, handler, load(s, report), "request_reveal", reason="需要联系举报人补充证据材料")
    assert "request_reveal" not in offered(handler) and "request_reveal" in offered(other)
    assert "decide_reveal" in offered(custodian)
    with db.session_scope() as s:
        with pytest.raises(MoveNotAllowed, match="already have a request"):
            machine.perform(s, services, handler, load(s, report), "request_reveal", reason="再次申请查看举报人身份")
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.requested_by == handler.user_id))
        machine.perform(s, services, custodian, load(s, report), "decide_reveal", request_id=str(req.id),
                        decision=reveal.Decision.approve.value, note="同意")
        expires = req.expires_at
    assert "request_reveal" not in offered(handler) and "decide_reveal" not in offered(custodian)
    assert "request_reveal" in offered(handler, at(services, expires + timedelta(minutes=1)))
    with db.session_scope() as s:
        with pytest.raises(MoveNotAllowed, match="no such request"):
            machine.perform(s, services, custodian, load(s, report), "decide_reveal", request_id=str(req.id),
                            decision="deny", note="不同意")
