"""The SMS code's step without JavaScript is Post/Redirect/Get (web.public.intake,
casework.intake.drafts): the form's first POST keeps what was typed as an encrypted draft under
the form's token and answers 303 See Other to the form's GET address, which shows the form
filled in with the code's box, to this browser only. Back from the receipt, or a reload, then
never asks to send the form again (tests/browser/test_intake_draft_nojs.py)."""
import io
import re
from datetime import timedelta

import sqlalchemy as sa

from casework.cases.models import Case
from casework.context import Services
from casework.intake.drafts import IntakeDraft
from casework.intake.operations import sweep_staged
from tests.phone_codes import VERIFICATION, to_receipt
from tests.web.test_public_pages import form_data, open_form, png_bytes

TITLE = "会费问题投诉"
NAME = "欧阳慕容"
ID_NUMBER = "11010519491231002X"


def value_of(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', html)
    return found.group(1) if found else ""


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', html)
    return found.group(1).strip() if found else ""


def typed(csrf, token, **more):
    return form_data(csrf, token, **{"title": TITLE, "complainant.name": NAME, "complainant.id_number": ID_NUMBER,
                                     **more})


def test_the_code_step_answers_303_to_the_forms_address_which_shows_the_form_filled_with_the_box(client, db):
    csrf, token, _ = open_form(client)
    sent = client.post("/file/complaint", content_type="multipart/form-data",
                       data=typed(csrf, token, attachments=(io.BytesIO(png_bytes()), "凭证.png")))
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"/file/complaint?draft={token}")
    page = client.get(sent.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and VERIFICATION.search(html) and 'id="verify_code"' in html
    assert "验证码已发送至 138****8000" in html  # the box names the number masked
    assert value_of(html, "title") == TITLE and value_of(html, "complainant.name") == NAME
    assert value_of(html, "complainant.phone") == "13800138000"
    assert textarea(html, "description").startswith("协会要求我公司必须入会")
    assert value_of(html, "form_token") == token and "凭证.png" in html  # the file staged under it
    assert 'data-answered="GET"' in html
    with db.session_scope(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_another_browser_with_the_same_address_sees_an_empty_form(app, client):
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", data=typed(csrf, token)).headers["Location"]
    stranger = app.test_client()
    page = stranger.get(where)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert NAME not in html and TITLE not in html and "13800138000" not in html and "138****8000" not in html
    assert VERIFICATION.search(html) is None and value_of(html, "form_token") not in ("", token)


def test_the_draft_is_encrypted_in_its_table_and_never_logged(client, db, caplog):
    csrf, token, _ = open_form(client)
    with caplog.at_level("DEBUG"):
        client.post("/file/complaint", data=typed(csrf, token))
        client.get(f"/file/complaint?draft={token}")
    with db.session_scope(write=False) as s:  # the raw column, as a copy of the database holds it
        raw = bytes(s.execute(sa.text("SELECT draft_enc FROM intake_draft WHERE token = :t"), {"t": token}).scalar())
    assert raw
    for secret in (NAME, ID_NUMBER, "13800138000", TITLE):
        assert secret.encode("utf-8") not in raw
        assert secret not in caplog.text


def test_the_filed_forms_address_shows_an_empty_form_that_says_the_case_was_filed(client, db, sms_code):
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", data=typed(csrf, token)).headers["Location"]
    vid = VERIFICATION.search(client.get(where).get_data(as_text=True)).group(1)
    receipt = to_receipt(client, client.post("/file/complaint", data=typed(csrf, token, verification_id=vid,
                                                                           verify_code=sms_code())))
    number = re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', receipt.get_data(as_text=True)).group(1)
    back = client.get(where).get_data(as_text=True)  # back from the receipt
    assert f"您的诉求 {number} 已提交" in back
    assert VERIFICATION.search(back) is None and value_of(back, "title") == "" and NAME not in back
    assert value_of(back, "form_token") != token
    with db.session_scope(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 1


def test_an_expired_draft_asks_to_fill_the_form_again_and_the_sweep_deletes_it(client, db, services):
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", data=typed(csrf, token)).headers["Location"]
    with db.session_scope() as s:  # the code's minutes have passed
        s.execute(sa.update(IntakeDraft).where(IntakeDraft.token == token)
                  .values(expires_at=services.clock() - timedelta(seconds=1)))
    html = client.get(where).get_data(as_text=True)
    assert "现已过期。请重新填写表单" in html and NAME not in html and value_of(html, "title") == ""
    # the form goes on: filled in and sent again, nothing typed is lost (here within the minute
    # a number waits for its next code: the form's address says so, with the form as it was sent)
    again = client.post("/file/complaint", data=typed(csrf, token, action="resend"))
    assert again.status_code == 303 and again.headers["Location"] == where
    told = client.get(where)
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and "不到一分钟" in html and value_of(html, "complainant.name") == NAME
    with db.session_scope() as s:
        s.execute(sa.update(IntakeDraft).values(expires_at=services.clock() - timedelta(seconds=1)))
    sweep_staged(db, Services(settings=services.settings, cipher=services.cipher, files=services.files,
                              clock=services.clock))
    with db.session_scope(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(IntakeDraft)) == 0


def wrong_code(sms_code) -> str:
    return "000000" if sms_code() != "000000" else "111111"


def test_a_wrong_code_answers_303_and_the_forms_address_says_so_once_with_everything_kept(app, client, db, sms_code):
    """A wrong code was answered with the form (422) in answer to its POST: back from the receipt
    then asked to send the form again. It answers 303 to the form's address, which says it once,
    beside the code's box, with what was typed since and every file staged."""
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", content_type="multipart/form-data", data=typed(
        csrf, token, attachments=(io.BytesIO(png_bytes()), "凭证.png"))).headers["Location"]
    vid = VERIFICATION.search(client.get(where).get_data(as_text=True)).group(1)
    resp = client.post("/file/complaint", content_type="multipart/form-data", data=typed(
        csrf, token, title="会费问题投诉（补充）", verification_id=vid, verify_code=wrong_code(sms_code),
        attachments=(io.BytesIO(png_bytes()), "收据.png")))
    assert resp.status_code == 303 and resp.headers["Location"] == where
    told = client.get(where)
    html = told.get_data(as_text=True)
    assert told.status_code == 422
    error = re.search(r'id="verify_code-error"[^>]*>(.*?)</', html, re.S).group(1)
    assert "验证码错误，还可以再试 4 次。" in error
    # the error summary links to the box, which has the focus, and the box is the same code's
    assert '<a href="#verify_code">短信验证码：验证码错误，还可以再试 4 次。</a>' in html
    assert re.search(r'<input id="verify_code"[^>]*autofocus', html) and VERIFICATION.search(html).group(1) == vid
    assert value_of(html, "title") == "会费问题投诉（补充）" and value_of(html, "complainant.name") == NAME
    assert value_of(html, "complainant.id_number") == ID_NUMBER and value_of(html, "complainant.phone") == "13800138000"
    assert textarea(html, "description").startswith("协会要求我公司必须入会")
    assert "凭证.png" in html and "收据.png" in html and value_of(html, "form_token") == token
    assert 'data-answered="GET"' in html
    # the browser's signed session (readable, not secret) holds the message, never the number or a name
    from tests.web.test_mine_code_step import session_of

    kept = str(session_of(app, client))
    for secret in ("13800138000", NAME, ID_NUMBER, TITLE):  # (the masked number as before, as /mine's)
        assert secret not in kept
    again = client.get(where)  # a reload: everything typed and the box, the error said once
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and 'id="verify_code-error"' not in html and "还可以再试" not in html
    assert VERIFICATION.search(html).group(1) == vid and value_of(html, "title") == "会费问题投诉（补充）"
    assert value_of(html, "complainant.name") == NAME and "收据.png" in html
    # the right code files one case, with both files and the text typed last
    receipt = to_receipt(client, client.post("/file/complaint", data=typed(
        csrf, token, title="会费问题投诉（补充）", verification_id=vid, verify_code=sms_code())))
    assert "查询码" in receipt.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        [case] = s.scalars(sa.select(Case)).all()
        assert case.title == "会费问题投诉（补充）" and len(case.attachments) == 2
    assert "还可以再试" not in client.get(where).get_data(as_text=True)


def test_a_missing_code_answers_303_and_asks_for_it_in_the_users_language(client, sms_code):
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", data=typed(csrf, token)).headers["Location"]
    vid = VERIFICATION.search(client.get(where).get_data(as_text=True)).group(1)
    resp = client.post("/file/complaint", data=typed(csrf, token, verification_id=vid, verify_code=" "))
    assert resp.status_code == 303 and resp.headers["Location"] == where
    told = client.get(where)
    html = told.get_data(as_text=True)
    assert told.status_code == 422 and "请输入短信中的 6 位验证码。" in html and 'id="verify_code-error"' in html
    assert VERIFICATION.search(html).group(1) == vid and value_of(html, "complainant.name") == NAME
    client.set_cookie("lang", "en")  # the same in English, with the tries left
    resp = client.post("/file/complaint", data=typed(csrf, token, verification_id=vid, verify_code=wrong_code(sms_code)))
    assert resp.status_code == 303
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "This code is wrong. You have 4 more tries." in html and 'lang="en"' in html
    assert value_of(html, "title") == TITLE and VERIFICATION.search(html).group(1) == vid


def test_the_code_dead_after_five_wrong_ones_is_said_with_429_and_retry_after(client, db, sms_code):
    """The fifth wrong code kills the code: the 429 and its Retry-After (seconds until a new code
    may be sent) are the answer of the form's address, the text typed kept there too."""
    csrf, token, _ = open_form(client)
    where = client.post("/file/complaint", data=typed(csrf, token)).headers["Location"]
    vid = VERIFICATION.search(client.get(where).get_data(as_text=True)).group(1)
    right = sms_code()
    for _ in range(5):
        resp = client.post("/file/complaint", data=typed(csrf, token, verification_id=vid, verify_code=wrong_code(sms_code)))
        assert resp.status_code == 303 and resp.headers["Location"] == where
        told = client.get(where)
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and 14 * 60 < int(told.headers["Retry-After"]) <= 15 * 60
    assert "验证码错误次数过多，该验证码已失效。" in html and "15 分钟后" in html
    assert value_of(html, "complainant.name") == NAME and VERIFICATION.search(html).group(1) == vid
    resp = client.post("/file/complaint", data=typed(csrf, token, verification_id=vid, verify_code=right))
    assert resp.status_code == 303 and client.get(where).status_code == 429  # the right code is dead too
    with db.session_scope(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_new_code_refused_answers_303_and_the_forms_address_says_when_to_ask_again_once(app, client, db, sms_code):
    """The same person files from a second browser within the minute: no new code may go to the
    number yet. The refusal answered its POST with the form (429): back through it asked to send
    the form again. It answers 303 to the form's address, which says why and in how many seconds
    (Retry-After too), once, beside the code's box, with everything typed and the file staged."""
    first_csrf, first_token, _ = open_form(client)
    assert client.post("/file/complaint", data=typed(first_csrf, first_token)).status_code == 303
    first = sms_code()
    second = app.test_client()  # another browser: no code was sent for it
    csrf, token, _ = open_form(second)
    resp = second.post("/file/complaint", content_type="multipart/form-data", data=typed(
        csrf, token, attachments=(io.BytesIO(png_bytes()), "凭证.png")))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/file/complaint?draft={token}")
    where = resp.headers["Location"]
    told = second.get(where)
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and 1 <= int(told.headers["Retry-After"]) <= 61
    error = re.search(r'id="verify_code-error"[^>]*>(.*?)</', html, re.S).group(1)
    assert re.search(r"验证码发送不到一分钟。\d+ 秒后可以重新获取验证码。", error), error
    assert re.search(r'<a href="#verify_code">短信验证码：验证码发送不到一分钟。\d+ 秒后', html)
    assert re.search(r'<input id="verify_code"[^>]*autofocus', html)
    # the box without a code's id (none was sent to this browser), its button for a new code
    assert VERIFICATION.search(html).group(1) == "" and 'name="action" value="resend"' in html
    assert value_of(html, "title") == TITLE and value_of(html, "complainant.name") == NAME
    assert value_of(html, "complainant.id_number") == ID_NUMBER and value_of(html, "complainant.phone") == "13800138000"
    assert textarea(html, "description").startswith("协会要求我公司必须入会")
    assert "凭证.png" in html and value_of(html, "form_token") == token and 'data-answered="GET"' in html
    from tests.web.test_mine_code_step import session_of

    kept = str(session_of(app, second))  # the message only, never the number or a name
    for secret in ("13800138000", NAME, ID_NUMBER, TITLE):
        assert secret not in kept
    again = second.get(where)  # a reload: everything typed and the box, the refusal said once
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "Retry-After" not in again.headers
    assert 'id="verify_code-error"' not in html and "不到一分钟" not in html
    assert "请在下方输入验证码" not in html  # no code was sent to this browser: the page does not say one was
    assert value_of(html, "title") == TITLE and value_of(html, "complainant.name") == NAME and "凭证.png" in html
    assert sms_code() == first  # nothing new went out
    with db.session_scope(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
