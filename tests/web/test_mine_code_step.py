"""我的诉求's code step is Post/Redirect/Get (web.public.mine): sending the code, a wrong or missing
code, a new code refused and the first code refused answer 303 See Other to /mine, which shows the
number (and the code's box, when a code was sent) to this browser only (its signed session, the
number encrypted in it); back from the list or a reload sends nothing again."""
import re

from tests.phone_codes import VERIFICATION

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONE = "13800138000"


def session_of(app, client) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def send(client):
    csrf = CSRF.search(client.get("/mine").get_data(as_text=True)).group(1)
    return csrf, client.post("/mine", data={"csrf_token": csrf, "phone": PHONE, "action": "send"})


def test_sending_the_code_answers_303_to_my_cases_which_shows_the_box_to_this_browser_only(app, client, db):
    csrf, sent = send(client)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/mine")
    page = client.get("/mine")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and VERIFICATION.search(html) and "138****8000" in html
    assert f'value="{PHONE}"' in html  # the number typed is in its field
    # the signed session (readable, not secret) holds the number encrypted only
    kept = session_of(app, client)["mine_code"]
    assert PHONE not in str(kept) and kept["masked"] == "138****8000"
    stranger = app.test_client().get("/mine").get_data(as_text=True)
    assert VERIFICATION.search(stranger) is None and "138****8000" not in stranger and PHONE not in stranger


def test_a_wrong_code_answers_303_and_my_cases_says_so_once(client, db, sms_code):
    csrf, _ = send(client)
    vid = VERIFICATION.search(client.get("/mine").get_data(as_text=True)).group(1)
    wrong = "000000" if sms_code() != "000000" else "111111"
    resp = client.post("/mine", data={"csrf_token": csrf, "phone": PHONE, "verification_id": vid,
                                      "verify_code": wrong, "action": "check"})
    assert resp.status_code == 303
    told = client.get("/mine")
    html = told.get_data(as_text=True)
    assert told.status_code == 422 and "还可以再试 4 次" in html and 'id="verify_code-error"' in html
    again = client.get("/mine")  # a reload: the box, the error said once
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "还可以再试" not in html and VERIFICATION.search(html).group(1) == vid
    done = client.post("/mine", data={"csrf_token": csrf, "phone": PHONE, "verification_id": vid,
                                      "verify_code": sms_code(), "action": "check"})
    assert done.status_code == 303 and 'id="mine-none"' in client.get("/mine").get_data(as_text=True)


def test_a_new_code_too_soon_keeps_the_box_and_says_when(client, db):
    csrf, _ = send(client)
    vid = VERIFICATION.search(client.get("/mine").get_data(as_text=True)).group(1)
    resp = client.post("/mine", data={"csrf_token": csrf, "phone": PHONE, "verification_id": vid, "action": "resend"})
    assert resp.status_code == 303
    told = client.get("/mine")
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and "不到一分钟" in html and VERIFICATION.search(html).group(1) == vid
    assert 1 <= int(told.headers["Retry-After"]) <= 61
    again = client.get("/mine")  # said once: the box again, without the refusal
    assert again.status_code == 200 and "Retry-After" not in again.headers
    assert "不到一分钟" not in again.get_data(as_text=True)


def test_the_code_dead_after_five_wrong_ones_says_when_with_retry_after(client, db, sms_code):
    csrf, _ = send(client)
    vid = VERIFICATION.search(client.get("/mine").get_data(as_text=True)).group(1)
    wrong = "000000" if sms_code() != "000000" else "111111"
    for _ in range(5):
        assert client.post("/mine", data={"csrf_token": csrf, "phone": PHONE, "verification_id": vid,
                                          "verify_code": wrong, "action": "check"}).status_code == 303
    told = client.get("/mine")
    assert told.status_code == 429 and 14 * 60 < int(told.headers["Retry-After"]) <= 15 * 60
    assert "15 分钟后" in told.get_data(as_text=True)


def test_the_first_code_refused_answers_303_and_my_cases_says_when_to_ask_again_once(app, client, db, sms_code):
    """A code went to the number from another browser less than a minute ago: the refusal answered
    its POST with the form (429), and back or a reload asked to send the form again. It answers 303
    to /mine, which says why and in how many seconds (Retry-After too), once, with the number and
    no code's box (none was sent to this browser)."""
    send(client)  # the first browser: a code sent
    first = sms_code()
    second = app.test_client()
    csrf, resp = send(second)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/mine")
    told = second.get("/mine")
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and 1 <= int(told.headers["Retry-After"]) <= 61
    summary = re.search(r'<div class="error-summary" role="alert" id="mine-error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert re.search(r"验证码发送不到一分钟。\d+ 秒后可以重新获取验证码。", summary), summary
    assert f'value="{PHONE}"' in html and VERIFICATION.search(html) is None and 'id="verify_code"' not in html
    assert "138****8000" not in html  # no "we sent a code": none was sent to this browser
    assert 'name="action" value="send"' in html
    # the signed session (readable, not secret) holds the number encrypted only
    kept = session_of(app, second)
    assert PHONE not in str(kept) and kept["mine_code"]["id"] == ""
    again = second.get("/mine")  # a reload: the number's form, the refusal said once, nothing sent
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "Retry-After" not in again.headers
    assert "不到一分钟" not in html and 'id="mine-error"' not in html and VERIFICATION.search(html) is None
    assert f'value="{PHONE}"' in html and "138****8000" not in html
    assert sms_code() == first
    english = app.test_client()  # the same in English
    english.set_cookie("lang", "en")
    assert send(english)[1].status_code == 303
    told = english.get("/mine")
    html = told.get_data(as_text=True)
    assert told.status_code == 429 and int(told.headers["Retry-After"]) >= 1 and 'lang="en"' in html
    assert "A code was sent less than a minute ago." in html and VERIFICATION.search(html) is None


def test_a_box_kept_before_the_wait_was_still_reads(client, db):
    """A session written before the said's wait was kept (three members) still shows its box."""
    send(client)
    vid = VERIFICATION.search(client.get("/mine").get_data(as_text=True)).group(1)
    with client.session_transaction() as held:
        held["mine_code"] = {**held["mine_code"], "said": ["请输入短信中的 6 位验证码。", "verify_code", 422]}
    told = client.get("/mine")
    html = told.get_data(as_text=True)
    assert told.status_code == 422 and "Retry-After" not in told.headers and 'id="verify_code-error"' in html
    assert VERIFICATION.search(html).group(1) == vid
