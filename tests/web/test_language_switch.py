"""The language link: the receipt survives it (and a reload) for the browser that filed, within
its minutes; after a form answered to a POST it goes back to a GET page, never to a 405."""
import html as htmllib
import io
import re
from datetime import timedelta

from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case, IntakeReceipt
from casework.db import utcnow
from tests.web.test_desk import post_move, signed_in
from tests.phone_codes import post_filing
from tests.web.test_public_pages import case_count, form_data, open_form, png_bytes
from tests.refused_moves import followed

LANG = re.compile(r'<a href="(/lang/[^"]+)" lang=')
NUMBER = re.compile(r'id="case-number"[^>]*>([A-Z0-9]+)<')
CODE = re.compile(r'id="query-code"[^>]*>([0-9A-Z-]+)<')


def language_link(page) -> str:
    return htmllib.unescape(LANG.search(page.get_data(as_text=True)).group(1))


def switch(client, page):
    """Follow the page's language link as a browser does: the redirect, then a GET."""
    resp = client.get(language_link(page))
    assert resp.status_code == 302
    return resp.headers["Location"], client.get(resp.headers["Location"])


def filed(client):
    csrf, token, _ = open_form(client)
    resp = post_filing(client, "/file/complaint", form_data(csrf, token))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    return resp, NUMBER.search(html).group(1), CODE.search(html).group(1)


def test_the_receipt_survives_a_language_switch_and_a_reload(client, db):
    resp, number, code = filed(client)
    where, english = switch(client, resp)
    assert where == f"/file/complaint/receipt/{number}"
    html = english.get_data(as_text=True)
    assert english.status_code == 200 and english.headers["Cache-Control"] == "no-store"
    assert 'lang="en"' in html and "Query code" in html
    assert number in html and code in html
    reload = client.get(where).get_data(as_text=True)
    assert number in reload and code in reload
    _, chinese = switch(client, english)
    assert code in chinese.get_data(as_text=True) and "查询码" in chinese.get_data(as_text=True)


def test_the_receipt_address_shows_the_number_only_to_another_browser_or_after_its_minutes(app, client, db):
    resp, number, code = filed(client)
    where = resp.request.path
    other = app.test_client().get(where)
    html = other.get_data(as_text=True)
    assert other.status_code == 200 and number in html and code not in html and 'id="query-code"' not in html
    with db.session_scope() as s:
        s.execute(update(IntakeReceipt).values(expires_at=utcnow() - timedelta(seconds=1)))
    late = client.get(where)
    html = late.get_data(as_text=True)
    assert late.status_code == 200 and number in html and code not in html
    where, english = switch(client, late)  # the language link keeps the address, the code stays gone
    assert where.endswith(number) and code not in english.get_data(as_text=True)
    assert "shown only in the browser that filed the case" in english.get_data(as_text=True)


def test_the_filing_forms_switch_sends_the_form_and_brings_everything_back_in_the_other_language(client, db):
    """Without JavaScript a link lost what was typed and the files chosen: on a filing form the
    header's English is a button that sends the form, and nothing is checked or filed."""
    csrf, token, page = open_form(client)
    assert 'form="intake" name="action" value="language:en"' in page
    assert not LANG.search(page)  # no link that would drop the form
    data = form_data(csrf, token, title="", action="language:en",
                     attachments=(io.BytesIO(png_bytes()), "receipt.png"))
    resp = client.post("/file/complaint", data=data, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'lang="en"' in html and "File a complaint" in html
    assert "Everything you entered is still here." in html and "Please check these fields" not in html
    assert "协会要求我公司必须入会，并收取会费两万元。" in html and 'value="13800138000"' in html
    assert "receipt.png" in html  # the file chosen is kept, listed to be sent with the form
    assert 'value="language:zh_CN"' in html  # and the switch back is the same kind of button
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert case_count(db) == 0
    # the next send files the case with the file staged by the switch, in English
    filed = post_filing(client, "/file/complaint", form_data(csrf, token, title="强制入会并收取会费"))
    assert "Query code" in filed.get_data(as_text=True) and case_count(db) == 1
    with db.session_scope(write=False) as s:
        assert [a.filename for a in s.scalar(select(Case)).attachments] == ["receipt.png"]


def test_enter_in_a_field_of_the_filing_form_still_searches_not_switches(client):
    """A form's Enter key presses its first submit button in the page; the header's switch comes
    before the form, so a hidden "find" comes before it."""
    page = client.get("/file/complaint").get_data(as_text=True)
    buttons = re.findall(r'<button type="submit"[^>]*form="intake"[^>]*>', page)
    assert 'value="find"' in buttons[0] and 'value="language:en"' in buttons[1]


def test_a_refused_desk_move_switches_language_back_to_the_case_page(client, db, file_case, make_staff):
    number = file_case().case_number
    signed_in(client, db, make_staff("miit", Role.handler))
    resp = post_move(client, number, "transfer", reason="other", public_text="", internal_text="")
    assert resp.status_code == 422
    where, page = switch(client, resp)
    assert where == f"/desk/cases/{number}"
    assert page.status_code == 200 and 'lang="en"' in page.get_data(as_text=True)


def test_a_failed_rating_switches_language_back_to_the_status_page(client, db, file_case):
    receipt = file_case()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"csrf_token": csrf, "number": receipt.case_number, "code": receipt.query_code})
    resp = followed(client, client.post(f"/track/{receipt.case_number}/moves/rate",
                                        data={"csrf_token": csrf, "version": "1"}))
    assert resp.status_code >= 400 and resp.status_code != 405
    where, page = switch(client, resp)
    assert where == f"/track/{receipt.case_number}" and page.status_code == 200


def test_the_switch_never_sends_a_browser_to_a_post_only_address(client):
    for asked, answer in (("/desk/cases/TS20260101000001/moves/accept", "/desk/cases/TS20260101000001"),
                          ("/track/TS20260101000001/moves/rate", "/track/TS20260101000001"),
                          ("/track/TS20260101000001/leave", "/track/TS20260101000001"),
                          ("/file/complaint?x=1", "/file/complaint?x=1"),
                          ("/no/such/page", "/")):
        assert client.get(f"/lang/en?next={asked}").headers["Location"] == answer, asked
