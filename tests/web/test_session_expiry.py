"""A form sent after the staff session ended (WCAG 2.2.1, 2.2.5): the sign-in brings the browser
back to the page the form was on, never by GET to the form's POST address (405), and what was
typed comes back into that form, for the person who typed it only (web.staff.kept_text). The
"stay signed in" endpoint the desk's warning calls before the idle limit (static/js/desk.js)."""
from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from casework.accounts.models import Role, StaffSession
from casework.cases.models import Case, Event, EventKind
from casework.db import utcnow
from tests.web.test_desk import CSRF, VERSION, login, signed_in, unit_id
from web.staff.kept_text import COOKIE

NOTE = "已电话联系协会秘书处，对方承认收费未经会员大会表决，约定下周一前书面说明。"


@pytest.fixture
def handler(make_staff):
    return make_staff("miit", Role.handler)


def idle_out(db, user_id=None, minutes=31):
    """As if the staff member had done nothing for ``minutes`` (the idle limit is 30)."""
    with db.session_scope() as s:
        q = update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        s.execute(q if user_id is None else q.where(StaffSession.user_id == user_id))


def case_form(client, number):
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    return CSRF.search(page).group(1), VERSION.search(page).group(1)


def textarea(html, fid):
    m = re.search(rf'<textarea id="{fid}"[^>]*>(.*?)</textarea>', html, re.S)
    return htmllib.unescape(m.group(1)) if m else None


def events(db, case_id, kind):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id, Event.kind == kind))


def test_a_note_sent_after_the_idle_limit_comes_back_into_its_form_after_signing_in(client, db, file_case, handler):
    receipt = file_case()
    number = receipt.case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    sent = client.post(f"/desk/cases/{number}/moves/note",
                       data={"csrf_token": token, "version": version, "internal_text": NOTE})
    # to the sign-in page, and back to the case page after it: not to the move's address (405 by GET)
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/staff/login?next=/desk/cases/{number}"
    kept = client.get_cookie(COOKIE, path=f"/desk/cases/{number}")
    assert kept is not None and kept.http_only and NOTE not in kept.value  # encrypted
    assert client.get_cookie(COOKIE) is None  # sent to that case's page only, not to every page
    signin = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "30 分钟" in signin and "放回" in signin  # why, and that the text is kept
    back = login(client, db, handler, next_url=f"/desk/cases/{number}")
    assert back.status_code == 303 and back.headers["Location"] == f"/desk/cases/{number}"
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert textarea(page, "m-note-internal_text") == NOTE
    assert 'id="restored-note"' in page and "尚未发送" in page  # said in the form: not sent yet
    assert re.search(r'<details class="move move-note" id="move-note" open>', page)
    assert re.search(r'<textarea id="m-note-internal_text"[^>]*autofocus', page)
    assert events(db, receipt.case_id, EventKind.note) == 0  # nothing was sent behind the person's back
    # read once: the cookie is gone, the next view of the page has an empty form
    assert client.get_cookie(COOKIE, path=f"/desk/cases/{number}") is None
    assert not textarea(client.get(f"/desk/cases/{number}").get_data(as_text=True), "m-note-internal_text")
    # and sent from there, it is the note
    token, version = case_form(client, number)
    done = client.post(f"/desk/cases/{number}/moves/note",
                       data={"csrf_token": token, "version": version, "internal_text": NOTE})
    assert done.status_code == 303 and events(db, receipt.case_id, EventKind.note) == 1


def test_the_kept_text_goes_back_to_the_person_who_typed_it_only(client, db, file_case, handler, make_staff):
    number = file_case().case_number
    colleague = make_staff("miit", Role.handler)
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    client.post(f"/desk/cases/{number}/moves/note", data={"csrf_token": token, "version": version,
                                                          "internal_text": NOTE})
    login(client, db, colleague, next_url=f"/desk/cases/{number}")  # someone else signs in on this browser
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert NOTE not in page and 'id="restored-note"' not in page
    assert client.get_cookie(COOKIE, path=f"/desk/cases/{number}") is None  # and it is gone


def test_a_reply_comes_back_with_its_choices_and_the_version_it_was_typed_on(client, db, services, file_case,
                                                                            handler, act):
    receipt = file_case()
    number = receipt.case_number
    act(receipt.case_id, "accept")
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    reply = "经核查，该协会已停止强制入会做法，并已退还贵公司缴纳的会费。"
    client.post(f"/desk/cases/{number}/moves/reply",
                data={"csrf_token": token, "version": version, "public_text": reply, "opinion": "supported",
                      "legal_basis": "《社会团体登记管理条例》第三十条", "go": "reply"})
    act(receipt.case_id, "note", internal_text="另一位承办人在此期间留了备注。")  # the case changes meanwhile
    login(client, db, handler)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert textarea(page, "m-reply-public_text") == reply
    assert re.search(r'<option value="supported" selected>', page)
    form = page[page.index('id="move-reply"'):]
    assert re.search(r'name="version" value="%s"' % version, form)  # not the case's new version
    assert "案件在您填写后已有变化" in form
    token = CSRF.search(page).group(1)
    stale = client.post(f"/desk/cases/{number}/moves/reply",
                        data={"csrf_token": token, "version": version, "public_text": reply, "opinion": "supported",
                              "legal_basis": "《社会团体登记管理条例》第三十条"})
    assert stale.status_code == 409  # the machine says the case changed, rather than act on it unseen
    assert textarea(stale.get_data(as_text=True), "m-reply-public_text") == reply


def test_a_text_too_long_to_keep_is_shown_on_the_sign_in_page(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    long_note = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))  # 3,000 varied Chinese characters
    sent = client.post(f"/desk/cases/{number}/moves/note",
                       data={"csrf_token": token, "version": version, "internal_text": long_note})
    assert sent.status_code == 401
    page = sent.get_data(as_text=True)
    assert 'id="signed-out-notice"' in page and textarea(page, "unsent-1") == long_note
    assert re.search(r'name="next" value="/desk/cases/%s"' % number, page)
    assert client.get_cookie(COOKIE, path=f"/desk/cases/{number}") is None


def test_a_text_whose_move_is_no_longer_offered_is_shown_to_copy(client, db, file_case, handler, act):
    receipt = file_case()
    number = receipt.case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    text = "协会答复材料不全，拟不予受理，请领导审核。"
    client.post(f"/desk/cases/{number}/moves/accept",
                data={"csrf_token": token, "version": version, "public_text": text})
    act(receipt.case_id, "accept")  # accepted meanwhile by someone else: "accept" is offered no more
    login(client, db, handler)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="restored-lost"' in page and textarea(page, "restored-text-1") == text


def test_files_are_not_kept_and_the_form_says_so(client, db, file_case, handler, act):
    receipt = file_case()
    number = receipt.case_number
    act(receipt.case_id, "accept")
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    from io import BytesIO

    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
    reply = "经核查，该协会已停止强制入会做法，并已退还贵公司缴纳的会费。"
    sent = client.post(f"/desk/cases/{number}/moves/reply", content_type="multipart/form-data",
                       data={"csrf_token": token, "version": version, "public_text": reply, "opinion": "supported",
                             "files": (BytesIO(png), "回执.png")})
    assert sent.status_code == 303
    login(client, db, handler)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert textarea(page, "m-reply-public_text") == reply
    assert "您选择的文件没有保留" in page


def test_the_reasons_for_a_reveal_come_back_too(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    token, _version = case_form(client, number)
    idle_out(db)
    reason = "需要电话核实投诉人所述缴费时间。"
    client.post(f"/desk/cases/{number}/contact", data={"csrf_token": token, "reason": reason})
    login(client, db, handler)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert textarea(page, "m-reveal_contact-reason") == reason and 'id="restored-reveal_contact"' in page


def test_other_forms_sent_after_the_idle_limit_come_back_to_their_page(client, db, file_case, handler):
    file_case()
    signed_in(client, db, handler)
    unit = unit_id(db, "miit")
    page = client.get(f"/desk/units/{unit}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    idle_out(db)
    sent = client.post(f"/desk/units/{unit}/assign", data={"csrf_token": token})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/staff/login?next=/desk/units/{unit}"
    assert "30 分钟" in client.get(sent.headers["Location"]).get_data(as_text=True)
    assert client.get_cookie(COOKIE, path=f"/desk/units/{unit}") is None  # nothing typed there to keep
    # signing out of a session that has ended already: to the sign-in page, not to a 405 after it
    out = client.post("/staff/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["Location"] == "/staff/login"


def test_a_page_asked_for_after_the_idle_limit_still_comes_back_with_its_query(client, db, handler):
    signed_in(client, db, handler)
    idle_out(db)
    resp = client.get("/desk/search?q=会费")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/staff/login?next=/desk/search?q")


def test_stay_signed_in_keeps_the_session_and_says_when_it_has_ended(client, db, handler):
    signed_in(client, db, handler)
    page = client.get(f"/desk/units/{unit_id(db, 'miit')}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    assert 'id="idle-warning"' in page and 'data-idle-seconds="1800"' in page
    idle_out(db, minutes=28)
    json_headers = {"X-CSRFToken": token, "Accept": "application/json"}
    assert client.post("/staff/keep-alive", headers=json_headers).status_code == 204
    with db.session_scope(write=False) as s:
        seen = s.scalar(select(StaffSession.last_seen_at).where(StaffSession.user_id == handler.user_id))
    assert utcnow() - seen.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)
    idle_out(db)
    ended = client.post("/staff/keep-alive", headers=json_headers)
    assert ended.status_code == 401 and ended.get_json()["error"]["status"] == 401
    assert ended.get_json()["error"]["message"] == "您尚未登录，请重新登录后继续。"  # in the desk's language
    assert client.post("/staff/keep-alive", headers={"Accept": "application/json"}).status_code == 400  # no CSRF token


def test_nothing_kept_without_a_form_to_take_it_back(client, db, file_case, handler):
    """A POST to a move that does not exist is not kept (and the case page is still where it goes)."""
    number = file_case().case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    sent = client.post(f"/desk/cases/{number}/moves/no_such_move",
                       data={"csrf_token": token, "version": version, "internal_text": NOTE})
    assert sent.headers["Location"] == f"/staff/login?next=/desk/cases/{number}"
    assert client.get_cookie(COOKIE, path=f"/desk/cases/{number}") is None
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Case.version).where(Case.number == number)) is not None


def test_a_form_sent_before_choosing_ones_own_password_comes_back_to_its_page(client, db, file_case, handler):
    """An administrator's password sends its holder to choose their own first, from a form too: back
    to the form's page afterwards, not to its POST address."""
    from casework.accounts.models import User

    number = file_case().case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    with db.session_scope() as s:
        s.get(User, handler.user_id).password_change_required = True
    sent = client.post(f"/desk/cases/{number}/moves/note",
                       data={"csrf_token": token, "version": version, "internal_text": NOTE})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/staff/password?next=/desk/cases/{number}"


def test_a_text_another_site_posted_is_not_kept_for_the_staff_member(client, db, file_case, handler):
    """Only a form sent from this site's own pages is kept through the sign-in: another site's
    page could otherwise plant a note the staff member would take for their own."""
    number = file_case().case_number
    signed_in(client, db, handler)
    token, version = case_form(client, number)
    idle_out(db)
    sent = client.post(f"/desk/cases/{number}/moves/note", headers={"Sec-Fetch-Site": "cross-site"},
                       data={"csrf_token": token, "version": version, "internal_text": NOTE})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/staff/login?next=/desk/cases/{number}"
    assert client.get_cookie(COOKIE, path=f"/desk/cases/{number}") is None
