"""An administrator on a phone sees which notices the SMS provider refused, with its error code
and message, and never the recipient (issue 19, real providers)."""
import json

import pytest

from casework.accounts.models import Role, User
from casework.notify import dispatch
from casework.notify.models import OutboxChannel
from casework.notify.queue import new_message
from tests.browser.conftest import shot, sign_in
from tests.casework.test_sms_providers import PHONE, TEMPLATE_ERROR, FakeProvider, adapter

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_an_administrator_on_a_phone_sees_the_notice_the_provider_refused(pages, live_server, db, services,
                                                                        make_staff, request):
    fake = FakeProvider("aliyun")
    try:
        with db.session_scope() as s:
            msg = new_message(s, services, dedupe_key="case:9:receipt:sms", case_id=None, channel=OutboxChannel.sms,
                              template="case_receipt", locale="zh_CN", recipient=PHONE,
                              payload=json.dumps({"case_number": "TS2026120500017", "query_code": "K7Q2"}).encode())
            s.flush()
            mid = msg.id
        fake.answer = TEMPLATE_ERROR["aliyun"]
        assert dispatch.send_message(db, services, mid, {OutboxChannel.sms: adapter(fake)}) == "failed"
    finally:
        fake.close()
    actor = make_staff("mca", Role.administrator)
    with db.session_scope(write=False) as s:
        username = s.get(User, actor.user_id).username
    page = pages("admin", phone=True)
    sign_in(page, live_server, username, then="/admin")
    row = page.locator(f"#notices-failed #outbox-{mid}")
    assert row.is_visible()
    text = row.inner_text()
    assert "case_receipt" in text and "短信" in text and "失败" in text
    assert "isv.SMS_TEMPLATE_ILLEGAL: 该账号下找不到对应模板" in text
    assert PHONE not in page.content() and PHONE[-4:] not in page.locator("#notices-failed").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
    shot(page, request, "failed")
    # staff work, not the public site: the brand leads to the administration, no public footer,
    # and the current page is marked in the administration's links
    assert page.locator("header.site a.brand").get_attribute("href") == "/admin"
    assert page.locator("footer.site").count() == 0
    assert page.locator('.admin-nav a[aria-current="page"]').inner_text() == "系统管理"
