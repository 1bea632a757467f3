"""The statutory workflow in the domain: every move allowed where it should be, refused
with a clear reason where it should not, and a refused move changes nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, EventKind
from casework.context import Services
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from casework.workflow import machine
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed, StaleCase
from tests.conftest import BASIS


@pytest.fixture
def act(db, services):
    """act(actor, case_id, move, **fields) in its own transaction; returns the case after."""

    def run(actor, case_id, move, svc=None, **fields):
        with db.session_scope() as s:
            case = s.get(Case, case_id)
            machine.perform(s, svc or services, actor, case, move, **fields)
        return state_of(db, case_id)

    return run


def state_of(db, case_id):
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        return case.state, case.unit.code if case.unit else None, case.version


def unit_id(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def later(services, days):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                    clock=lambda: services.clock() + timedelta(days=days))


def test_accept_then_reply(db, file_case, make_staff, act):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    assert act(handler, case, "accept")[0] is S.accepted
    with pytest.raises(InvalidMove) as exc:
        act(handler, case, "reply", opinion="supported", legal_basis=BASIS, public_text="")
    assert "public_text" in exc.value.errors
    assert act(handler, case, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会做法。")[0] is S.replied
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert [e.kind for e in c.events][-2:] == [EventKind.accepted, EventKind.replied]
        assert c.handler_id == handler.user_id
        notices = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case,
                                                        OutboxMessage.template != "case_receipt")).all()
        # accepted, replied (the receipt went at filing): each says only that there is news and a
        # written notice to download (the 受理告知书, the 信访处理意见书); the two texts alike within a
        # minute are one (casework.notify.queue.ALIKE_WINDOW): the status page has both documents
        assert len(notices) == 1
        assert all(n.template == "case_document" for n in notices)


def test_another_units_handler_may_not_act_and_nothing_changes(db, file_case, make_staff, act):
    case = file_case().case_id
    before = state_of(db, case)
    with pytest.raises(Forbidden):
        act(make_staff("mca", Role.handler), case, "accept")
    with pytest.raises(Forbidden):
        act(make_staff("miit", Role.supervisor), case, "accept")
    assert state_of(db, case) == before


def test_moves_from_the_wrong_state_are_refused(db, file_case, make_staff, act):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with pytest.raises(MoveNotAllowed):
        act(handler, case, "reply", opinion="supported", legal_basis=BASIS, public_text="这是一个还没受理就答复的尝试。")
    act(handler, case, "accept")
    with pytest.raises(MoveNotAllowed) as exc:
        act(handler, case, "accept")
    assert exc.value.message.params["state"].msgid == "Being handled"
    zh = {"This cannot be done while the case is \u201c%(state)s\u201d.": "案件处于“%(state)s”状态时不能进行此操作。",
          "Being handled": "办理中"}
    assert exc.value.message.render(lambda m: zh.get(m, m)) == "案件处于“办理中”状态时不能进行此操作。"


def test_a_stale_version_is_refused(db, file_case, make_staff, act):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    version = state_of(db, case)[2]
    act(handler, case, "note", internal_text="先电话联系投诉人。", version=version)
    with pytest.raises(StaleCase):
        act(handler, case, "accept", version=version)
    assert state_of(db, case)[0] is S.pending_acceptance


def test_two_handlers_at_once_one_wins(db, services, file_case, make_staff):
    case = file_case().case_id
    a, b = make_staff("miit", Role.handler), make_staff("miit", Role.handler)
    s1, s2 = db.read(), db.read()  # both load the case before either writes
    c1, c2 = s1.get(Case, case), s2.get(Case, case)
    s2.commit()  # b's snapshot ends (as a request's would); b still holds the old version
    machine.perform(s1, services, a, c1, "accept")
    s1.commit()
    with pytest.raises(StaleCase):
        machine.perform(s2, services, b, c2, "not_accept", reason="no_clear_request",
                        public_text="诉求不明确，不予受理。")
    s1.close(), s2.close()
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.state is S.accepted
        assert [e.kind for e in c.events].count(EventKind.not_accepted) == 0


def test_not_accept_needs_a_listed_reason_and_a_notice(db, file_case, make_staff, act):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with pytest.raises(InvalidMove) as exc:
        act(handler, case, "not_accept", reason="because", public_text="不予受理。理由如下。")
    assert "reason" in exc.value.errors
    with pytest.raises(InvalidMove) as exc:
        act(handler, case, "not_accept", reason="other_procedure")
    assert "public_text" in exc.value.errors
    assert act(handler, case, "not_accept", reason="other_procedure",
               public_text="该事项已进入仲裁程序，依法不予受理。")[0] is S.not_accepted


def test_where_the_unit_requires_it_only_the_lead_may_not_accept(db, file_case, make_staff, act):
    with db.session_scope() as s:
        s.scalar(select(Unit).where(Unit.code == "miit")).lead_approves_not_accept = True
    try:
        case = file_case().case_id
        with pytest.raises(Forbidden):
            act(make_staff("miit", Role.handler), case, "not_accept", reason="no_clear_request",
                public_text="诉求不明确，不予受理。")
        lead = make_staff("miit", Role.unit_lead)
        assert act(lead, case, "not_accept", reason="no_clear_request",
                   public_text="诉求不明确，不予受理。")[0] is S.not_accepted
    finally:
        with db.session_scope() as s:
            s.scalar(select(Unit).where(Unit.code == "miit")).lead_approves_not_accept = False


def test_transfer_and_send_back_within_the_window(db, services, file_case, make_staff, act):
    case = file_case().case_id
    miit, mca = make_staff("miit", Role.handler), make_staff("mca", Role.handler)
    state, unit, _ = act(miit, case, "transfer", unit_id=unit_id(db, "mca"), reason="other_unit_competent",
                         public_text="您反映的换届问题由民政部办理。")
    assert (state, unit) == (S.pending_acceptance, "mca")
    with pytest.raises(Forbidden):
        act(miit, case, "accept")  # no longer miit's case
    with pytest.raises(MoveNotAllowed):
        act(mca, case, "send_back", svc=later(services, 30), internal_text="不属于我部职责。")
    assert act(mca, case, "send_back", internal_text="收费问题不属于登记管理机关职责。")[1] == "miit"
    with pytest.raises(MoveNotAllowed):  # only a transferred case can be sent back
        act(miit, case, "send_back", internal_text="再退回去试试看。")


def test_transfer_never_to_a_body_of_the_association(db, session, file_case, make_staff, act):
    from casework.registry.models import Association

    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    case = file_case(association=caam).case_id
    with pytest.raises(InvalidMove) as exc:
        act(make_staff("miit", Role.handler), case, "transfer", unit_id=unit_id(db, "caam-mediation"),
            reason="other_unit_competent")
    assert "unit_id" in exc.value.errors


def test_a_transfers_unit_and_its_missing_reason_are_said_together(db, file_case, make_staff, act):
    """The unit's rule (not the unit that has the case) came a send after the missing reason and
    notice; every field's error comes at once (the unit's check reads through the case's session)."""
    case = file_case().case_id
    with pytest.raises(InvalidMove) as exc:
        act(make_staff("miit", Role.handler), case, "transfer", unit_id=unit_id(db, "miit"), reason="")
    assert set(exc.value.errors) >= {"unit_id", "reason"}
    assert exc.value.errors["unit_id"][0].msgid == "The case is already at this unit."


def test_missing_material_pauses_until_the_complainant_answers(db, file_case, make_staff, act):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    act(handler, case, "accept")
    assert act(handler, case, "request_info", public_text="请补充缴费凭证的照片。")[0] is S.need_info
    with pytest.raises(Forbidden):
        act(Actor.complainant(case + 1000), case, "supply_info", public_text="凭证已上传。")
    assert act(Actor.complainant(case), case, "supply_info", public_text="凭证已上传，请查收。")[0] is S.accepted


def test_withdraw_only_before_a_reply_and_only_by_the_complainant(db, file_case, make_staff, act):
    case = file_case().case_id
    with pytest.raises(Forbidden):
        act(make_staff("miit", Role.handler), case, "withdraw")
    assert act(Actor.complainant(case), case, "withdraw", public_text="已与协会协商解决。")[0] is S.withdrawn
    other = file_case().case_id
    handler = make_staff("miit", Role.handler)
    act(handler, other, "accept")
    act(handler, other, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，情况属实，已责令整改。")
    with pytest.raises(MoveNotAllowed):
        act(Actor.complainant(other), other, "withdraw")


def test_triage_operator_routes_what_the_rules_could_not(db, file_case, make_staff, act):
    case = file_case(association="unknown", association_hint="某某行业商会").case_id
    with pytest.raises(Forbidden):
        act(make_staff("miit", Role.handler), case, "route", unit_id=unit_id(db, "miit"))
    triage = make_staff("triage", Role.triage_operator)
    assert act(triage, case, "route", unit_id=unit_id(db, "samr"))[:2] == (S.pending_acceptance, "samr")


def test_assign_to_a_colleague_not_to_an_outsider(db, file_case, make_staff, act):
    case = file_case().case_id
    me, colleague, outsider = (make_staff("miit", Role.handler), make_staff("miit", Role.handler),
                               make_staff("mca", Role.handler))
    with pytest.raises(InvalidMove):
        act(me, case, "assign", handler_id=outsider.user_id)
    act(me, case, "assign", handler_id=colleague.user_id)
    with db.session_scope(write=False) as s:
        assert s.get(Case, case).handler_id == colleague.user_id


def test_a_suggestion_is_answered_without_acceptance(db, file_case, make_staff, act):
    case = file_case(type="suggestion", category="policy", complainant=None).case_id
    handler = make_staff("miit", Role.handler)
    with pytest.raises(Forbidden):
        act(handler, case, "accept")
    assert act(handler, case, "acknowledge_reply", public_text="感谢您的建议，我部已转有关司局研究。")[0] is S.replied
    with db.session_scope(write=False) as s:  # no acceptance made anyone its handler: the answer does
        assert s.get(Case, case).handler_id == handler.user_id


def test_available_moves_list_what_the_actor_may_do_now(db, file_case, make_staff):
    case = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        names = {m.name for m in machine.available_moves(handler, s.get(Case, case))}
    assert {"accept", "not_accept", "transfer", "request_info", "assign", "note"} <= names
    assert "reply" not in names and "route" not in names and "withdraw" not in names
