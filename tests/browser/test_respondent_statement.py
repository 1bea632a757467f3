"""The respondent puts its side in writing on a 390x844 phone with JavaScript off: it opens its
page with the case number and its answer code, writes its account with a photo attached, and sees
the statement listed with the photo's name; a second, too short, comes back with the message and
the text it typed."""
import io
import os
import re

import pytest
from PIL import Image

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.workflow.machine import perform
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.commits]

STATEMENT = "我司已按合同交付全部零部件。其中两批货物有质量争议，建议先由第三方检测，再按检测结果分期付款。"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "质检报告.png"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return str(path)


def mediating(db, services, mediation, make_staff) -> str:
    """The request accepted by the mediation body and agreed to by the respondent: its answer code."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    with db.session_scope() as s:
        event = perform(s, services, coordinator, s.get(Case, mediation.case_id), "accept_mediation")
        code = event.respondent_code
    with db.session_scope() as s:
        perform(s, services, Actor.respondent(mediation.case_id), s.get(Case, mediation.case_id), "respondent_consent")
    return code


def test_the_respondent_sends_a_statement_with_a_photo_without_javascript(
        browser, live_server, request, db, services, mediation, make_staff, photo):
    code = mediating(db, services, mediation, make_staff)
    number = mediation.case_number
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    try:
        page.goto(live_server + f"/respond?number={number}")
        page.get_by_label("答复码").fill(code)
        page.get_by_role("button", name="打开").click()
        page.wait_for_url(re.compile(rf".*/respond/{number}$"))
        form = page.locator("#statement-form")
        assert form.is_visible()
        # too short: the message beside the field, the text kept
        page.get_by_label("您对纠纷的陈述和处理建议").fill("好")
        form.get_by_role("button", name="提交").click()
        page.wait_for_load_state()
        assert "请填写 2 至 5000 个字。" in page.locator("#statement-form").inner_text()
        assert page.get_by_label("您对纠纷的陈述和处理建议").input_value() == "好"
        # the statement with a photo
        page.get_by_label("您对纠纷的陈述和处理建议").fill(STATEMENT)
        page.locator("#respondent_statement-files").set_input_files(photo)
        page.locator("#statement-form").get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(rf".*/respond/{number}$"))
        assert "您的书面意见已送交调解组织" in page.locator("main").inner_text()
        listed = page.locator("#statement-list")
        assert STATEMENT in listed.inner_text() and "质检报告.png" in listed.inner_text()
        # a further statement may follow: the form stays, its button says so
        assert page.locator("#statement-form").get_by_role("button", name="提交补充意见").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the respondent's page scrolls sideways on a phone: {width}px"
    finally:
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=True)
        ctx.close()
    assert external == []
