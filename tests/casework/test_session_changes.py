"""A mediation session moved or cancelled (move_session, cancel_session), and what each party is
told.

The law: 人民调解法 says nothing of telling the parties a session's time and place, nor of changing
them (第四章 调解程序, 第十七至二十七条; 第二十一条第二款 asks only that mediation be 及时、就地, and
第二十七条 that the mediator record the mediation, which the move's event does). 人民调解工作若干规定
(司法部, 2002) 第二十八条 says only where mediation is held (专门设置的调解场所, or one convenient to the
parties). No article applies: telling both parties at once, with the reason, is the platform's rule,
as it is for scheduling (schedule_session)."""
import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.cases.numbers import CHINA
from casework.mediation.models import MediationSession, SessionStatus
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed, available_moves
from tests.casework.test_mediation import _sent_sms, act, just_now

APPLICANT, RESPONDENT = "13800138000", "13900139000"


@pytest.fixture
def mediating(db, services, mediation, make_staff):
    """A mediation the respondent agreed to, and its coordinator."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation.case_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation.case_id), mediation.case_id, "respondent_consent")
    return mediation.case_id, coordinator


def sessions(db, case_id) -> list[MediationSession]:
    with db.session_scope(write=False) as s:
        return list(s.scalars(select(MediationSession).where(MediationSession.case_id == case_id)
                              .order_by(MediationSession.id)))


def offered(db, actor, case_id) -> set[str]:
    with db.session_scope(write=False) as s:
        return {m.name for m in available_moves(actor, s.get(Case, case_id))}


def time_comes(db, session_id: int) -> None:
    """The session's time comes: a minute ago, this minute in Beijing (as the desk takes a time)."""
    from datetime import datetime, timedelta

    with db.session_scope() as s:
        s.get(MediationSession, session_id).scheduled_at = (datetime.now(CHINA) - timedelta(minutes=1)).replace(
            second=0, microsecond=0)


def queued(db, services, template) -> list[tuple[str, str]]:
    with db.session_scope(write=False) as s:
        return sorted((services.cipher.decrypt_text(m.recipient_enc, "outbox.recipient"), m.locale)
                      for m in s.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def test_a_moved_session_tells_both_parties_the_new_date_time_and_place(db, services, mediating, tmp_path, caplog):
    """The old session reads "moved" with the reason and points at the new one; each party with a
    mobile number gets one text with the time it was set for and the new date, time (Beijing) and
    place; the reason is the parties' to read on their pages, not in the text."""
    import logging

    case_id, coordinator = mediating
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at="2099-12-03 09:30", place="协会三楼第二会议室")
    [first] = sessions(db, case_id)
    caplog.set_level(logging.DEBUG)
    act(db, services, coordinator, case_id, "move_session", session_id=str(first.id), scheduled_at="2099-12-05 14:00",
        place="协会五楼会议室", public_text="调解员当日需出庭，会议改期。")
    old, new = sessions(db, case_id)
    assert old.status is SessionStatus.moved and old.moved_to_id == new.id and not old.held
    assert old.status_reason == "调解员当日需出庭，会议改期。" and old.status_changed_at is not None
    assert new.status is SessionStatus.scheduled and new.place == "协会五楼会议室"
    assert new.scheduled_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") == "2099-12-05 14:00"
    with db.session_scope(write=False) as s:
        event = s.get(Case, case_id).events[-1]
        assert event.public_text == "调解员当日需出庭，会议改期。" and event.data["action"] == "moved"
    assert [p for p, _ in queued(db, services, "mediation_session_moved")] == [APPLICANT, RESPONDENT]
    with db.session_scope(write=False) as s:
        number = s.get(Case, case_id).number
    texts = [n["body"] for n in _sent_sms(db, services, tmp_path, "mediation_session_moved")]
    assert len(texts) == 2
    for text in texts:
        assert (f"调解案件 {number} 原定 2099-12-03 09:30（北京时间）的调解会议改于 2099-12-05 14:00（北京时间）举行，"
                "地点：协会五楼会议室。") in text
        assert f"{services.settings.base_url}/track" in text and f"{services.settings.base_url}/respond" in text
        assert "出庭" not in text and "$" not in text
    for personal in (APPLICANT, RESPONDENT, "协会五楼会议室", "出庭"):
        assert personal not in caplog.text


def test_an_empty_place_keeps_the_place_and_whether_it_is_online(db, services, mediating):
    case_id, coordinator = mediating
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at="2099-12-03 09:30",
        place="腾讯会议 123-456-789", online=True)
    [first] = sessions(db, case_id)
    act(db, services, coordinator, case_id, "move_session", session_id=str(first.id), scheduled_at="2099-12-04 09:30",
        place="", public_text="申请人请求延后一天。")
    new = sessions(db, case_id)[1]
    assert new.place == "腾讯会议 123-456-789" and new.online


def test_a_cancelled_session_is_off_for_both_parties_and_no_longer_one_to_log(db, services, mediating, tmp_path):
    """A session whose time has come can be logged as held; cancelled (it did not take place, or
    will not), it is no longer offered to log_session, which is refused for it, and each party is
    told which session is off."""
    case_id, coordinator = mediating
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at="2099-12-03 09:30", place="协会会议室")
    [session] = sessions(db, case_id)
    time_comes(db, session.id)  # announced while still to come; its time has come now
    assert "log_session" in offered(db, coordinator, case_id)
    act(db, services, coordinator, case_id, "cancel_session", session_id=str(session.id),
        public_text="被申请人代理人突发疾病，本次会议取消，另行安排。")
    [session] = sessions(db, case_id)
    assert session.status is SessionStatus.cancelled and not session.held
    moves = offered(db, coordinator, case_id)
    assert "log_session" not in moves and "move_session" not in moves and "cancel_session" not in moves
    with pytest.raises((MoveNotAllowed, InvalidMove)):
        act(db, services, coordinator, case_id, "log_session", session_id=str(session.id), attendees="申请人、调解员",
            summary="双方未到场。")
    with pytest.raises(MoveNotAllowed):  # an agreement still needs a session held
        act(db, services, coordinator, case_id, "record_agreement")
    assert [p for p, _ in queued(db, services, "mediation_session_cancelled")] == [APPLICANT, RESPONDENT]
    when = session.scheduled_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    with db.session_scope(write=False) as s:
        number = s.get(Case, case_id).number
    for text in (n["body"] for n in _sent_sms(db, services, tmp_path, "mediation_session_cancelled")):
        assert f"调解案件 {number} 原定 {when}（北京时间）的调解会议已取消，请勿前往。" in text
        assert "疾病" not in text


def test_what_cannot_be_moved_or_cancelled_is_refused_and_sends_nothing(db, services, mediating):
    case_id, coordinator = mediating
    assert not {"move_session", "cancel_session"} & offered(db, coordinator, case_id)  # nothing scheduled yet
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at=just_now(), place="协会会议室")
    [held] = sessions(db, case_id)
    act(db, services, coordinator, case_id, "log_session", session_id=str(held.id), attendees="申请人、被申请人、调解员",
        summary="双方交换了意见。")
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at="2099-12-03 09:30", place="协会会议室")
    later = sessions(db, case_id)[1]
    refusals = [
        (dict(session_id=str(held.id), public_text="改期。", scheduled_at="2099-12-09 09:30"), "session_id"),
        (dict(session_id=str(later.id), public_text="改期。", scheduled_at="2020-01-01 09:30"), "scheduled_at"),
        (dict(session_id=str(later.id), public_text="改期。", scheduled_at="2099-12-03 09:30"), "scheduled_at"),
        (dict(session_id=str(later.id), public_text="", scheduled_at="2099-12-09 09:30"), "public_text"),
        (dict(session_id="999999", public_text="改期。", scheduled_at="2099-12-09 09:30"), "session_id"),
    ]
    for fields, field in refusals:
        with pytest.raises(InvalidMove) as refused:
            act(db, services, coordinator, case_id, "move_session", **fields)
        assert field in refused.value.errors, (fields, refused.value.errors)
    with pytest.raises(InvalidMove) as refused:
        act(db, services, coordinator, case_id, "cancel_session", session_id=str(later.id))
    assert "public_text" in refused.value.errors  # the reason is required
    with pytest.raises(Forbidden):  # the mediator's move, not a party's
        act(db, services, Actor.respondent(case_id), case_id, "cancel_session", session_id=str(later.id),
            public_text="我方不来了。")
    act(db, services, coordinator, case_id, "cancel_session", session_id=str(later.id), public_text="另行安排。")
    with pytest.raises((MoveNotAllowed, InvalidMove)):  # once cancelled, it stays so
        act(db, services, coordinator, case_id, "move_session", session_id=str(later.id), scheduled_at="2099-12-09 09:30",
            public_text="改期。")
    assert queued(db, services, "mediation_session_moved") == []
    assert len(queued(db, services, "mediation_session_cancelled")) == 2


def test_the_invitation_names_the_body_and_the_answer_date(db, services, mediation, make_staff, tmp_path):
    """The invitation's payload gives the body and the day to answer by (a provider template may
    name them, casework.notify.providers), and the platform's own text says both."""
    import json

    act(db, services, make_staff("caam-mediation", Role.unit_lead), mediation.case_id, "accept_mediation")
    with db.session_scope(write=False) as s:
        case = s.get(Case, mediation.case_id)
        body, due = case.unit.name, case.mediation.answer_due_at.astimezone(CHINA).strftime("%Y-%m-%d")
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "respondent_invite"))
        payload = json.loads(services.cipher.decrypt(row.payload_enc, "outbox.payload"))
    assert payload["body"] == body and payload["answer_by"] == due
    [text] = [n["body"] for n in _sent_sms(db, services, tmp_path, "respondent_invite")]
    assert f"向{body}申请调解" in text and f"于 {due} 前（含当日）表示是否同意调解" in text and "视为不同意调解" in text


def test_a_session_notice_says_when_in_beijing_time():
    from casework.notify.templates import render

    subject, body = render("mediation_session_moved", "en", {"case_number": "TJ1", "old_time": "2099-12-03 09:30",
                                                             "session_time": "2099-12-05 14:00", "place": "Room 5"},
                           site="https://ct.example.org")
    assert subject == "Mediation session moved"
    assert "set for 2099-12-03 09:30 (Beijing time) is moved to 2099-12-05 14:00 (Beijing time), place: Room 5" in body


def test_two_alike_texts_within_a_minute_are_one(db, services, file_case, make_staff):
    """Accepted, then replied to, in the same minute: each move makes a written notice, and each
    would text "a written notice on your case" to the same phone; the second is not sent (the
    status page shows both). A minute later, or a text that says something else, goes out."""
    from datetime import timedelta

    from casework.context import Services
    from tests.conftest import BASIS

    handler = make_staff("miit", Role.handler)
    case_id = file_case().case_id
    act(db, services, handler, case_id, "accept")
    act(db, services, handler, case_id, "reply", opinion="supported", legal_basis=BASIS,
        public_text="经核查，协会已退还会费并停止强制入会做法。")

    def sms(template):
        with db.session_scope(write=False) as s:
            return list(s.scalars(select(OutboxMessage.id).where(
                OutboxMessage.case_id == case_id, OutboxMessage.template == template,
                OutboxMessage.channel == OutboxChannel.sms)))

    assert len(sms("case_document")) == 1

    def at(minutes):
        return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                        clock=lambda: services.clock() + timedelta(minutes=minutes))

    act(db, at(2), handler, case_id, "record_execution", public_text="协会已于本周退还全部会费。")
    assert len(sms("case_update")) == 1  # another text: sent
    act(db, at(2), handler, case_id, "record_execution", public_text="协会已书面致歉。")
    assert len(sms("case_update")) == 1  # the same text again within the minute: not
    act(db, at(4), handler, case_id, "record_execution", public_text="协会已整改收费制度。")
    assert len(sms("case_update")) == 2  # a minute on: sent


# -- a session entered at or after its time (recorded after the fact) ----------------------------
# 人民调解法 sets no notice of a session (see the top of this file): announcing it is the platform's
# rule, and a text that a session "定于 … 举行" is an invitation, which only a session still to come
# can be. One entered after it was held is recorded, not announced; the desk then asks to log it.

def _at(services, now):
    """The services with the clock standing at ``now``."""
    from dataclasses import replace

    return replace(services, clock=lambda: now)


def _fixed_now():
    """A moment just ahead of the real clock, 30 seconds into its minute (the desk takes minutes)."""
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(minutes=1)).replace(second=30, microsecond=0)


def _china(when) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _case_texts(db, case_id, template) -> int:
    with db.session_scope(write=False) as s:
        return len(list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.case_id == case_id,
                                                                 OutboxMessage.template == template))))


def test_a_session_entered_after_its_time_invites_neither_party_one_still_to_come_invites_both(db, services, mediating):
    """The walk: at 08:10 a session of 07:39 was saved and both parties were texted that it "定于
    07:39 举行". A time already past (or this very minute) invites nobody; the session and its event
    say so (``invited``), and it is one to log. A time still to come invites both parties."""
    from datetime import timedelta

    case_id, coordinator = mediating
    now = _fixed_now()
    clocked = _at(services, now)
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(now - timedelta(minutes=31)),
        place="调解中心第一会议室")
    assert _case_texts(db, case_id, "mediation_session") == 0
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(now), place="调解中心第一会议室")
    assert _case_texts(db, case_id, "mediation_session") == 0  # this minute is not still to come
    past, this_minute = sessions(db, case_id)
    assert not past.invited and not this_minute.invited
    with db.session_scope(write=False) as s:
        event = s.get(Case, case_id).events[-1]
        assert event.data["action"] == "scheduled" and event.data["invited"] is False
        assert "log_session" in {m.name for m in available_moves(coordinator, s.get(Case, case_id), now)}
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(now + timedelta(minutes=1)),
        place="调解中心第一会议室")
    assert sorted(p for p, _ in queued(db, services, "mediation_session")) == [APPLICANT, RESPONDENT]
    assert sessions(db, case_id)[-1].invited
    assert _case_texts(db, case_id, "mediation_session_cancelled") == _case_texts(db, case_id, "mediation_session_moved") == 0


def test_a_session_is_taken_back_to_24_hours_and_the_refusal_gives_that_bound(db, services, mediating):
    """A session held earlier may be recorded up to 24 hours after its time (AFTER_THE_FACT); an
    earlier time is refused, and the message gives the hours and the earliest time the desk takes
    now (it said "give a time from today on" while it took yesterday's times)."""
    from datetime import timedelta

    from casework.mediation.moves import AFTER_THE_FACT, earliest_session_time

    case_id, coordinator = mediating
    now = _fixed_now()  # 30 seconds into a minute: the bound is the next whole minute, 24 hours back
    clocked = _at(services, now)
    earliest = earliest_session_time(now)
    assert AFTER_THE_FACT == timedelta(hours=24)
    assert earliest == (now - AFTER_THE_FACT + timedelta(seconds=30)).astimezone(CHINA)
    with pytest.raises(InvalidMove) as refused:
        act(db, clocked, coordinator, case_id, "schedule_session",
            scheduled_at=_china(earliest - timedelta(minutes=1)), place="调解中心第一会议室")
    [message] = refused.value.errors["scheduled_at"]
    said = message.render(lambda s: s)
    assert said == ("A session held earlier can be recorded up to 24 hours after its time: give a time from "
                    f"{_china(earliest)} (Beijing time) on.")
    from pathlib import Path

    from babel.support import Translations

    # the Chinese, as the desk shows it
    zh = Translations.load(Path(__file__).resolve().parents[2] / "web/translations", ["zh_Hans_CN"])
    assert message.render(zh.gettext) == (f"已举行的调解会议最迟可在会议时间后 24 小时内补录：请填写 {_china(earliest)}"
                                          "（北京时间）或之后的时间。")
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(earliest), place="调解中心第一会议室")
    [recorded] = sessions(db, case_id)
    assert not recorded.invited and _case_texts(db, case_id, "mediation_session") == 0


def test_a_session_nobody_was_invited_to_is_moved_as_an_invitation_and_cancelled_in_silence(db, services, mediating,
                                                                                            tmp_path):
    """A session entered after its time (perhaps a typo for a later hour) is moved to a time still
    to come: the parties, who never heard of the first time, get the invitation to the new one,
    not "the session of 07:39 is moved". Another such session cancelled tells nobody."""
    from datetime import timedelta

    case_id, coordinator = mediating
    now = _fixed_now()
    clocked = _at(services, now)
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(now - timedelta(minutes=31)),
        place="调解中心第一会议室")
    [typo] = sessions(db, case_id)
    later = now + timedelta(days=2)
    act(db, clocked, coordinator, case_id, "move_session", session_id=str(typo.id), scheduled_at=_china(later),
        place="", public_text="时间录入有误，更正为后天。")
    assert _case_texts(db, case_id, "mediation_session_moved") == 0
    assert sorted(p for p, _ in queued(db, services, "mediation_session")) == [APPLICANT, RESPONDENT]
    assert sessions(db, case_id)[-1].invited
    with db.session_scope(write=False) as s:
        number = s.get(Case, case_id).number
    for text in (n["body"] for n in _sent_sms(db, clocked, tmp_path, "mediation_session")):
        assert f"调解案件 {number} 的调解会议定于 {_china(later)}（北京时间）举行，地点：调解中心第一会议室。" in text
        assert _china(now - timedelta(minutes=31)) not in text
    act(db, clocked, coordinator, case_id, "schedule_session", scheduled_at=_china(now - timedelta(minutes=5)),
        place="调解中心第二会议室")
    other = sessions(db, case_id)[-1]
    act(db, clocked, coordinator, case_id, "cancel_session", session_id=str(other.id), public_text="录入重复，撤销。")
    assert _case_texts(db, case_id, "mediation_session_cancelled") == 0
    assert _case_texts(db, case_id, "mediation_session") == 2  # the invitation to the moved one only
