"""Filing with a phone number proves it first with a code sent by SMS (issue 19)."""
import re

from sqlalchemy import func, select

from casework.cases.models import Case
from casework.notify.models import OutboxMessage
from tests.web.test_public_pages import CSRF, TOKEN, form_data, open_form, png_bytes

VID = re.compile(r'name="verification_id" value="([^"]*)"')


def cases(db):
    with db.session_scope(write=False) as s:
        found = list(s.scalars(select(Case)))
        for c in found:
            c.attached = len(c.attachments)
        return found


def receipts(db):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "case_receipt"))


def test_the_form_sends_a_code_keeps_what_was_typed_and_files_with_the_right_code(client, db, sms_code):
    csrf, token, _ = open_form(client)
    first = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, title="会费问题投诉",
                                                          attachments=(__import__("io").BytesIO(png_bytes()), "凭证.png")),
                        content_type="multipart/form-data")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and cases(db) == []
    assert "138****8000" in html and "13800138000" in html  # masked in the message, kept in the field
    assert 'value="会费问题投诉"' in html and "凭证.png" in html  # typed and staged: kept
    vid = VID.search(html).group(1)
    code = sms_code()
    assert re.fullmatch(r"\d{6}", code)
    done = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, title="会费问题投诉", verification_id=vid,
                                                         verify_code=code))
    assert done.status_code == 200 and "查询码" in done.get_data(as_text=True)
    [case] = cases(db)
    assert case.phone_verified_via == "sms" and case.phone_verified_at is not None
    assert case.complainant_phone_hash and case.attached == 1
    assert receipts(db) == 1  # the receipt goes to the proved number


def test_five_wrong_codes_kill_the_code_and_say_when_to_retry(client, db, sms_code):
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    right = sms_code()
    wrong = "000000" if right != "000000" else "111111"
    # each wrong code answers 303 to the form's address (Post/Redirect/Get), which says it
    for left in (4, 3, 2, 1):
        resp = client.post("/file/complaint", follow_redirects=True,
                           data=form_data(csrf, token, verification_id=vid, verify_code=wrong))
        assert resp.status_code == 422 and "?draft=" in resp.request.url
        assert f"还可以再试 {left} 次" in resp.get_data(as_text=True)
    last = client.post("/file/complaint", follow_redirects=True,
                       data=form_data(csrf, token, verification_id=vid, verify_code=wrong))
    html = last.get_data(as_text=True)
    assert last.status_code == 429 and "错误次数过多" in html and "15 分钟后" in html
    assert 0 < int(last.headers["Retry-After"]) <= 15 * 60
    # the right code is refused too now, and no new code is sent for a while
    again = client.post("/file/complaint", follow_redirects=True,
                        data=form_data(csrf, token, verification_id=vid, verify_code=right))
    assert again.status_code == 429 and "错误次数过多" in again.get_data(as_text=True) and cases(db) == []
    resend = client.post("/file/complaint", follow_redirects=True,
                         data=form_data(csrf, token, verification_id=vid, action="resend"))
    assert resend.status_code == 429 and "分钟后" in resend.get_data(as_text=True) and "?draft=" in resend.request.url
    assert sms_code() == right  # nothing new went out


def test_a_new_code_is_refused_within_a_minute(client, db, sms_code):
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    first = sms_code()
    resend = client.post("/file/complaint", data=form_data(csrf, token, verification_id=vid, action="resend"))
    assert resend.status_code == 303 and resend.headers["Location"].endswith(f"?draft={token}")
    told = client.get(resend.headers["Location"])  # Post/Redirect/Get, as a wrong code
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and "不到一分钟" in html and "秒后" in html
    assert 0 < int(told.headers["Retry-After"]) <= 61
    assert VID.search(html).group(1) == vid  # the box keeps the code already sent
    assert sms_code() == first
    # the code already sent still files the case
    done = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, verification_id=vid, verify_code=first))
    assert done.status_code == 200 and len(cases(db)) == 1


def test_the_form_filled_again_takes_the_code_already_sent(client, db, sms_code):
    """The form opened and filled again within the minute: a new code was refused as too soon, the
    box lost the code's id, and the code on the phone was answered "too soon" over and over."""
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    code = sms_code()
    csrf, token, _ = open_form(client)  # a fresh form, filled again and sent without the code
    data = {k: v for k, v in form_data(csrf, token).items() if k not in ("verification_id", "verify_code")}
    again = client.post("/file/complaint", data=data)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"?draft={token}")
    asked = client.get(again.headers["Location"])
    html = asked.get_data(as_text=True)
    assert asked.status_code == 422 and "请输入短信中的 6 位验证码。" in html and "不到一分钟" not in html
    assert VID.search(html).group(1) == vid and 'value="张三"' in html
    assert sms_code() == code  # no second code
    # the form opened again is this one now: its token, so its draft and its files
    assert f'name="form_token" value="{token}"' in client.get("/file/complaint").get_data(as_text=True)
    done = client.post("/file/complaint", follow_redirects=True, data={**data, "verification_id": vid, "verify_code": code})
    assert done.status_code == 200 and len(cases(db)) == 1


def test_an_anonymous_report_asks_for_no_code(client, db):
    csrf, token, _ = open_form(client, "report")
    resp = client.post("/file/report", follow_redirects=True, data=form_data(csrf, token, anonymous="1", category="illegal_fees",
                                                      **{"complainant.name": "", "complainant.phone": ""}))
    assert resp.status_code == 200 and 'name="verification_id"' not in resp.get_data(as_text=True)
    [case] = cases(db)
    assert case.anonymous and case.complainant_phone_hash is None and case.phone_verified_via is None


def test_the_code_box_stays_through_a_lookup_and_an_error_elsewhere(client, db, sms_code):
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    looked = client.post("/file/complaint", data=form_data(csrf, token, verification_id=vid, action="find",
                                                           association_q="zggt"))
    assert VID.search(looked.get_data(as_text=True)).group(1) == vid
    error = client.post("/file/complaint", data=form_data(csrf, token, verification_id=vid, verify_code=sms_code(),
                                                          title=""))
    assert error.status_code == 422 and VID.search(error.get_data(as_text=True)).group(1) == vid
    done = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, verification_id=vid, verify_code=sms_code()))
    assert done.status_code == 200 and len(cases(db)) == 1


def test_the_form_opened_again_names_the_number_the_code_went_to_before_it_is_typed_again(client, db, sms_code):
    """A reload while a code is on its way shows the code's box on an empty form; a look-up sent
    before the number is typed again said "验证码已发送至 ，", the number missing."""
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    reopened = client.get("/file/complaint").get_data(as_text=True)
    assert "验证码已发送至 138****8000，5 分钟内有效。" in reopened
    csrf, token = CSRF.search(reopened).group(1), TOKEN.search(reopened).group(1)
    lookup = client.post("/file/complaint", data={"csrf_token": csrf, "form_token": token, "action": "find",
                                                  "association_q": "复合材料", "verification_id": vid})
    html = lookup.get_data(as_text=True)
    assert "验证码已发送至 138****8000，5 分钟内有效。" in html and "发送至 ，" not in html


def test_a_number_typed_with_its_country_code_is_masked_alike_after_the_code_was_sent(client, db, sms_code):
    """Typed as +86 138-0013-8000, the code's box read 138****8000, then after a look-up or a
    language switch "+86****8000": the same number, masked from what was typed."""
    csrf, token, _ = open_form(client)
    typed = {"complainant.phone": "+86 138-0013-8000"}
    sent = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, **typed)).get_data(as_text=True)
    assert "138****8000" in sent
    again = client.post("/file/complaint", data=form_data(csrf, token, action="find", association_q="复合材料",
                                                          verification_id=VID.search(sent).group(1), **typed))
    html = again.get_data(as_text=True)
    assert "验证码已发送至 138****8000，5 分钟内有效。" in html and "+86****" not in html


def test_the_receipt_says_where_a_lost_code_is_not_the_end(client, db, sms_code):
    """The receipt said nobody could look the query code up; yet 我的诉求 opens a proved number's
    cases by a code sent to it. It says so where the number was proved, and not for an anonymous
    report, which has no number."""
    csrf, token, _ = open_form(client)
    vid = VID.search(client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token)).get_data(as_text=True)).group(1)
    html = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, verification_id=vid,
                                                         verify_code=sms_code())).get_data(as_text=True)
    assert "没有查询码时，仍可凭您填写的手机号码（短信验证）查看您的案件：" in html and 'href="/mine"' in html
    csrf, token, _ = open_form(client, "report")
    html = client.post("/file/report", follow_redirects=True, data=form_data(csrf, token, anonymous="1", category="illegal_fees", **{
        "complainant.name": "", "complainant.phone": ""})).get_data(as_text=True)
    assert "查询码" in html and 'href="/mine"' not in html
