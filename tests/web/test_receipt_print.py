"""Issue 16: the receipt has a copy button (shown by JavaScript only) and a print view with the
number, the query code, the type, the date and how to track the case; the print view lasts as
long as the receipt, for the browser that filed only."""
import html as htmllib
import re
from datetime import timedelta

from sqlalchemy import update

from casework.cases.models import IntakeReceipt
from casework.db import utcnow
from tests.web.test_language_switch import filed


def test_the_receipt_offers_a_copy_button_and_a_print_view(client, db):
    resp, number, code = filed(client)
    page = resp.get_data(as_text=True)
    button = re.search(r'<button[^>]*id="copy-codes"[^>]*>([^<]*)</button>', page, re.S)
    assert button and button.group(1) == "复制编号和查询码"
    # hidden until the script shows it: without JavaScript there is no button that does nothing
    assert " hidden " in button.group(0) and 'src="/static/js/receipt.js"' in page
    copied = htmllib.unescape(re.search(r'data-copy="([^"]*)"', button.group(0)).group(1))
    assert copied == f"案件编号: {number}\n查询码: {code}"
    link = re.search(r'<a id="print-link" href="([^"]+)">([^<]+)</a>', page)
    assert link and link.group(1) == f"/file/complaint/receipt/{number}/print"

    printed = client.get(link.group(1))
    assert printed.status_code == 200 and printed.headers["Cache-Control"] == "no-store"
    html = printed.get_data(as_text=True)
    assert f'id="case-number" class="code">{number}<' in html and f'id="query-code" class="code">{code}<' in html
    assert '<dd id="case-type">投诉</dd>' in html
    assert re.search(r'<dd id="filed-at">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</dd>', html)
    # CHANGTONG_BASE_URL (its default here), never the Host header
    assert "http://localhost:5000/track" in html.split('id="how-to-track"')[1][:300]
    assert re.search(r'<button[^>]*id="print-receipt"[^>]*hidden[^>]*>打印/保存</button>', html)
    assert 'href="/static/css/print.css"' in html

    # the receipt opens the status page without the code typed again, and never puts it in an address
    opener = re.search(r'<form method="post" action="/track" id="open-status">(.*?)</form>', page, re.S)
    assert opener and f'name="code" value="{code}"' in opener.group(1) and code not in opener.group(0).split(">")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', opener.group(1)).group(1)
    opened = client.post("/track", data={"csrf_token": csrf, "number": number, "code": code})
    assert opened.status_code in (302, 303) and opened.headers["Location"].endswith(f"/track/{number}")
    assert code not in opened.headers["Location"]

    client.set_cookie("lang", "en")
    english = client.get(link.group(1)).get_data(as_text=True)
    assert '<dd id="case-type">Complaint</dd>' in english and code in english


def test_the_print_view_shows_nothing_to_another_browser_or_after_the_receipts_minutes(app, client, db):
    _, number, code = filed(client)
    printed = f"/file/complaint/receipt/{number}/print"
    other = app.test_client().get(printed)  # to the receipt's address, which shows the number only
    assert other.status_code == 303 and other.headers["Location"].endswith(f"/file/complaint/receipt/{number}")
    assert code not in other.get_data(as_text=True)
    with db.session_scope() as s:
        s.execute(update(IntakeReceipt).values(expires_at=utcnow() - timedelta(seconds=1)))
    late = client.get(printed)
    assert late.status_code == 303 and late.headers["Location"].endswith(f"/file/complaint/receipt/{number}")
    assert code not in late.get_data(as_text=True) and code not in client.get(late.headers["Location"]).get_data(as_text=True)
