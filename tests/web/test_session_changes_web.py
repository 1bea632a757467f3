"""A mediation session moved or cancelled on the desk (move_session, cancel_session), as the
mediator, the applicant and the respondent then see it. No article of 人民调解法 or of 人民调解工作若干
规定 sets a notice of a session's time and place or of a change (tests/casework/test_session_changes.py
says where that was looked for): telling both parties, with the reason, is the platform's rule."""
import re

import pytest
from sqlalchemy import select

from casework.mediation.models import MediationSession
from casework.notify.models import OutboxMessage
from tests.web.test_mediation_web import accept, coordinator, consent, desk_move, in_days, open_as_applicant  # noqa: F401

pytestmark = pytest.mark.usefixtures("cjk_pdf")


def session_ids(db, case_id) -> list[int]:
    with db.session_scope(write=False) as s:
        return list(s.scalars(select(MediationSession.id).where(MediationSession.case_id == case_id)
                              .order_by(MediationSession.id)))


def templates_sent(db, case_id) -> list[str]:
    with db.session_scope(write=False) as s:
        return sorted(s.scalars(select(OutboxMessage.template).where(OutboxMessage.case_id == case_id,
                                                                     OutboxMessage.template.like("mediation_session%"))))


def test_the_mediator_moves_and_cancels_sessions_and_every_page_shows_it(app, client, db, coordinator, mediation):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-move_session"' not in page and 'id="move-cancel_session"' not in page  # nothing scheduled
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(3), place="协会三楼会议室").status_code == 303
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(0), place="协会会议室").status_code == 303
    later, now = session_ids(db, mediation.case_id)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-move_session"' in page and 'id="move-cancel_session"' in page
    # the session still to come is offered to move and to cancel, and only the one of this minute to log
    for move, offered in (("move_session", {later, now}), ("cancel_session", {later, now}), ("log_session", {now})):
        form = re.search(rf'id="move-{move}".*?</form>', page, re.S).group(0)
        select = re.search(r'<select[^>]*name="session_id".*?</select>', form, re.S).group(0)
        assert {int(v) for v in re.findall(r'<option value="(\d+)"', select)} == offered, move
    # a new time already past is refused beside its field, and what was typed stays
    bad = desk_move(client, number, "move_session", session_id=str(later), scheduled_at="2020-01-01T10:00",
                    public_text="调解员临时出差。")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="m-move_session-scheduled_at-error"' in html and "调解员临时出差。" in html
    assert "调解会议只能改到尚未到来的时间" in html
    # moved: a new session at the new time, in the same place (left empty)
    new_time = in_days(5, 15)
    assert desk_move(client, number, "move_session", session_id=str(later), scheduled_at=new_time, place="",
                     public_text="调解员临时出差，会议顺延两天。").status_code == 303
    # cancelled: the one of this minute, which is then no session to log
    assert desk_move(client, number, "cancel_session", session_id=str(now),
                     public_text="被申请人代理人突发疾病，本次会议取消。").status_code == 303
    later, now, moved_to = session_ids(db, mediation.case_id)
    # the session still to come was announced and its move told; the one of this minute was entered at
    # its time (after the fact): nobody was invited to it, and nobody is told it is off
    assert templates_sent(db, mediation.case_id) == ["mediation_session"] * 2 + ["mediation_session_moved"] * 2
    shown = new_time.replace("T", " ")
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    row = re.search(rf'<tr id="session-{later}"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'class="session-moved"' in row and "<del>" in row and f"已改期至 {shown}" in row
    assert "调解员临时出差，会议顺延两天。" in row
    row = re.search(rf'<tr id="session-{now}"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'class="session-cancelled"' in row and "已取消" in row and "突发疾病" in row and "时间已过" not in row
    assert 'id="move-log_session"' not in page  # the cancelled one was the only one whose time had come
    assert f"{shown[:10]}" in re.search(rf'<tr id="session-{moved_to}"[^>]*>.*?</tr>', page, re.S).group(0)
    # the timeline says which session moved and which was cancelled
    assert "的调解会议改期至" in page and "的调解会议已取消" in page
    # the parties' pages: struck through, marked, with the reason
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    for party in (applicant.get(f"/track/{number}").get_data(as_text=True),
                  respondent.get(f"/respond/{number}").get_data(as_text=True)):
        item = re.search(rf'<li class="session[^"]*" id="session-{later}">.*?</li>', party, re.S).group(0)
        assert "moved" in item and "<del>" in item and f"已改期至 {shown}" in item and "会议顺延两天" in item
        item = re.search(rf'<li class="session[^"]*" id="session-{now}">.*?</li>', party, re.S).group(0)
        assert "cancelled" in item and "已取消" in item and "突发疾病" in item and "已安排" not in item
        item = re.search(rf'<li class="session[^"]*" id="session-{moved_to}">.*?</li>', party, re.S).group(0)
        assert "已安排" in item and "协会三楼会议室" in item
    # the mediator's list marks the moved session, and the one that replaced it stands
    board = client.get("/desk/mediation").get_data(as_text=True)
    card = re.search(rf'<li class="card mcard[^"]*" id="upcoming-{later}">.*?</li>', board, re.S).group(0)
    assert "session-moved" in card and "<del>" in card and f"已改期至 {shown}" in card
    card = re.search(rf'<li class="card mcard[^"]*" id="upcoming-{moved_to}">.*?</li>', board, re.S).group(0)
    assert "<del>" not in card


def test_a_session_entered_after_its_time_on_the_desk_invites_nobody_and_says_so(app, client, db, services, coordinator,
                                                                                 mediation, monkeypatch):
    """The walk: demo-mediator-caam, at 08:10 Beijing, scheduled a session for 07:39 the same day;
    it was saved without a word, listed as 时间已过，请记录举行情况, and both parties were texted that it
    定于 07:39 举行. Now the page says after saving that no invitation went out and asks to log how
    it went, the session and the timeline say it was entered after its time, and no text is queued.
    A time beyond the 24 hours is refused with the earliest time taken; one still to come invites
    both parties, with no such warning."""
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from casework.cases.numbers import CHINA
    from casework.mediation.moves import earliest_session_time

    number = mediation.case_number
    consent(app, mediation, accept(client, mediation))
    now = (datetime.now(timezone.utc) + timedelta(minutes=1)).replace(second=30, microsecond=0)
    monkeypatch.setitem(app.extensions, "changtong.services", replace(services, clock=lambda: now))

    def at(when) -> str:
        return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")

    past = at(now - timedelta(minutes=31))
    saved = desk_move(client, number, "schedule_session", scheduled_at=past, place="调解中心第一会议室")
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已完成：安排调解会议。" in page
    assert 'class="flash flash-warning">会议时间已过：未向双方当事人发送会议通知。请记录举行情况（记录调解会议）。</p>' in page
    assert templates_sent(db, mediation.case_id) == []
    [first] = session_ids(db, mediation.case_id)
    row = re.search(rf'<tr id="session-{first}"[^>]*>.*?</tr>', page, re.S).group(0)
    assert "会议时间过后录入：未向双方当事人发送会议通知" in row and "时间已过，请记录举行情况" in row
    assert f"补录 {past} 的调解会议（未发送会议通知）" in page and 'id="move-log_session"' in page

    # beyond the 24 hours: refused beside the field, with the earliest time taken now
    too_old = desk_move(client, number, "schedule_session", scheduled_at=at(now - timedelta(hours=25)),
                        place="调解中心第一会议室")
    html = too_old.get_data(as_text=True)
    assert too_old.status_code == 422 and 'id="m-schedule_session-scheduled_at-error"' in html
    assert (f"已举行的调解会议最迟可在会议时间后 24 小时内补录：请填写 {at(earliest_session_time(now))}（北京时间）或之后的时间。"
            in html)
    assert "今天或以后" not in html

    # still to come: both parties are invited, and the page says nothing of a time passed
    later = at(now + timedelta(days=3))
    saved = desk_move(client, number, "schedule_session", scheduled_at=later, place="调解中心第一会议室")
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已完成：安排调解会议。" in page and "flash-warning" not in page
    assert templates_sent(db, mediation.case_id) == ["mediation_session"] * 2  # the applicant, the respondent
