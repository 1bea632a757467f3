"""After filing, back and reload never ask to send the form again (Post/Redirect/Get).

A filing that went through answers 303 See Other to the receipt's GET address
/file/<type>/receipt/<number>: the number in the address, never the query code. The code shows to
the browser that filed, within the receipt's minutes (``receipt_minutes``), again on a reload;
another browser with the same address, or this one later, sees the number only, that the code is
shown only to the browser that filed, for the receipt's minutes, and 我的诉求 as the way in without
it. Nothing is cached (no-store). A form with errors still comes back filled in, to the POST, as
before."""
import re
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from casework.cases.models import Case, IntakeReceipt
from casework.db import utcnow
from tests.phone_codes import VERIFICATION, app_code, to_code_step
from tests.web.test_public_pages import form_data, open_form

NUMBER = re.compile(r'id="case-number"[^>]*>([A-Z0-9]+)<')
CODE = re.compile(r'id="query-code"[^>]*>([0-9A-Z-]+)<')
RECEIPT_AT = re.compile(r"^(?:http://localhost)?/file/complaint/receipt/(TS\d{14})$")


def send(client, data, slug="complaint"):
    """The form sent as a person sends it, through the SMS code's step; the last answer as it is
    (not followed)."""
    resp = to_code_step(client, client.post(f"/file/{slug}", data=data))
    found = VERIFICATION.search(resp.get_data(as_text=True))
    if resp.status_code == 200 and found is not None:
        resp = client.post(f"/file/{slug}", data={**data, "verification_id": found.group(1),
                                                  "verify_code": app_code(client.application)})
    return resp


def cases(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_a_filing_answers_303_to_an_address_with_the_number_and_without_the_code(client, db):
    csrf, token, _ = open_form(client)
    resp = send(client, form_data(csrf, token))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    where = resp.headers["Location"]
    number = RECEIPT_AT.match(where).group(1)
    assert resp.headers["Cache-Control"] == "no-store"
    receipt = client.get(where)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and receipt.headers["Cache-Control"] == "no-store"
    assert NUMBER.search(html).group(1) == number
    code = CODE.search(html).group(1)
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    assert code not in where and code.replace("-", "") not in where and code not in resp.get_data(as_text=True)
    assert "仅在本浏览器中显示" in html and 'action="/track" id="open-status"' in html
    # the session cookie holds no code either (it is signed, not encrypted: it can be read)
    cookie = client.get_cookie("session")
    assert cookie is not None and code not in cookie.decoded_value and code.replace("-", "") not in cookie.decoded_value
    # a reload shows the same receipt; the form sent again (a double tap) files nothing twice
    assert CODE.search(client.get(where).get_data(as_text=True)).group(1) == code
    again = client.post("/file/complaint", data=form_data(csrf, token))
    assert again.status_code == 303 and again.headers["Location"] == where
    assert cases(db) == 1


def test_another_browser_with_the_same_address_sees_the_number_only(app, client, db):
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    number = RECEIPT_AT.match(where).group(1)
    code = CODE.search(client.get(where).get_data(as_text=True)).group(1)
    stranger = app.test_client()
    other = stranger.get(where)
    html = other.get_data(as_text=True)
    assert other.status_code == 200 and other.headers["Cache-Control"] == "no-store"
    assert NUMBER.search(html).group(1) == number and code not in html and 'id="query-code"' not in html
    assert "查询码仅在提交案件的浏览器中显示" in html
    assert 'href="/mine"' in html and "我的诉求" in html  # the way in without the code
    assert f'href="/track?number={number}"' in html
    assert 'id="copy-codes"' not in html and 'id="print-link"' not in html
    # the filing browser still sees its code
    assert code in client.get(where).get_data(as_text=True)


def test_after_the_receipts_minutes_the_code_is_gone(client, db, services):
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    code = CODE.search(client.get(where).get_data(as_text=True)).group(1)
    with db.session_scope(write=False) as s:
        rec = s.scalar(select(IntakeReceipt))
        # the receipt's minutes (receipt_minutes, ten by default) from the filing
        assert abs((rec.expires_at - utcnow()) - timedelta(minutes=services.settings.receipt_minutes)) < timedelta(minutes=1)
    with db.session_scope() as s:
        s.execute(update(IntakeReceipt).values(expires_at=utcnow() - timedelta(seconds=1)))
    late = client.get(where)
    html = late.get_data(as_text=True)
    assert late.status_code == 200 and code not in html and RECEIPT_AT.match(where).group(1) in html
    assert "此处不显示，平台也无法再次显示" in html and 'href="/mine"' in html
    # the form sent again after them: still the same case, its address, no code
    again = client.post("/file/complaint", data=form_data(csrf, token))
    assert again.status_code == 303 and again.headers["Location"] == where
    assert code not in client.get(where).get_data(as_text=True) and cases(db) == 1


def test_the_session_keeps_no_receipt_beyond_its_minutes(client, db):
    """The browser's own note of its receipt ends with the receipt's minutes too, even where the
    database still held the code."""
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    number = RECEIPT_AT.match(where).group(1)
    code = CODE.search(client.get(where).get_data(as_text=True)).group(1)
    with client.session_transaction() as kept:
        key, until = kept["receipts"][number]
        assert until - time.time() <= 10 * 60 + 5  # the receipt's minutes, ten by default
        kept["receipts"] = {number: [key, int(time.time()) - 1]}  # as they are once they passed
    assert code not in client.get(where).get_data(as_text=True)


def test_two_filings_in_one_browser_each_keep_their_receipt(client, db):
    """Back in the history to the first receipt after filing a second: each address shows its own."""
    first = send(client, form_data(*open_form(client)[:2])).headers["Location"]
    second = send(client, form_data(*open_form(client)[:2], title="第二件投诉：协会强制摊派")).headers["Location"]
    assert first != second
    codes = [CODE.search(client.get(w).get_data(as_text=True)).group(1) for w in (first, second)]
    assert codes[0] != codes[1] and cases(db) == 2


def test_the_receipts_address_reads_nothing_for_a_number_of_another_type_or_none(client):
    assert client.get("/file/report/receipt/TS20261127483927").status_code == 404
    assert client.get("/file/complaint/receipt/TS20261127483928").status_code == 404  # a wrong check digit
    assert client.get("/file/complaint/receipt/nothing").status_code == 404
    # a well-formed number never filed: the same page as any number not filed here (no oracle)
    page = client.get("/file/complaint/receipt/TS20261127483927")
    assert page.status_code == 200 and "TS20261127483927" in page.get_data(as_text=True)


def test_a_form_with_errors_still_comes_back_to_the_post_filled_in(client, db):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(csrf, token, title="短"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Location" not in resp.headers
    assert 'value="短"' in html and "协会要求我公司必须入会" in html and cases(db) == 0


def test_the_english_receipt_says_the_same(client, db):
    client.set_cookie("lang", "en")
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    html = client.get(where).get_data(as_text=True)
    assert 'lang="en"' in html and "Query code" in html and "shown only in this browser, for 10 minutes after filing" in html
    assert "My cases" in html and 'href="/mine"' in html
    client.set_cookie("session", "")  # the browser closed: its session cookie is gone
    html = client.get(where).get_data(as_text=True)
    assert "Query code" not in html and "shown only in the browser that filed the case" in html and "My cases" in html


def test_the_code_step_opened_again_keeps_the_forms_token_and_its_files(client, db):
    """Reloading the SMS code's step (with JavaScript, its entry is the form's GET address) opens
    the form with the code's box and the same token: the files staged under it are still there,
    and the code files one case with them."""
    import io

    from tests.web.test_public_pages import png_bytes

    csrf, token, _ = open_form(client)
    data = form_data(csrf, token)
    asked = client.post("/file/complaint", data={**data, "attachments": (io.BytesIO(png_bytes()), "凭证.png")},
                        content_type="multipart/form-data", follow_redirects=True)
    vid = VERIFICATION.search(asked.get_data(as_text=True)).group(1)
    again = client.get("/file/complaint?association=51100000500009247D").get_data(as_text=True)
    assert f'name="form_token" value="{token}"' in again and f'name="verification_id" value="{vid}"' in again
    assert "凭证.png" in again and 'id="association-chosen"' in again
    done = client.post("/file/complaint", data={**data, "verification_id": vid, "verify_code": app_code(client.application)})
    assert done.status_code == 303 and cases(db) == 1
    with db.session_scope(write=False) as s:
        assert len(s.scalar(select(Case)).attachments) == 1
    # filed: the form opens afresh, without the box and with a new token
    fresh = client.get("/file/complaint").get_data(as_text=True)
    assert 'name="verification_id"' not in fresh and token not in fresh


def test_the_request_log_holds_neither_the_code_nor_the_number(client, db, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    html = client.get(where).get_data(as_text=True)
    number, code = NUMBER.search(html).group(1), CODE.search(html).group(1)
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "/file/<slug>/receipt/<number>" in logged  # the request was logged, by its route
    assert code not in logged and code.replace("-", "") not in logged and number not in logged
