"""我的诉求's code step is Post/Redirect/Get (web.public.mine): sending the code, a wrong or missing
code and a new code refused answer 303 See Other to /mine, which shows the number and the code's
box to this browser only (its signed session, the number encrypted in it); back from the list or
a reload sends nothing again."""
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
