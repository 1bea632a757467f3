"""The desk at the sizes it is used at: its header on one line at 1280 px in English (it wrapped to
two) and in Chinese, and within a 390 px phone; the transfer form's unit list narrowed by typing on a
phone, with a script (as one types) and without one (the Filter button: the form comes back narrowed,
what was typed kept)."""
import re

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role, User
from casework.cases.models import Case
from tests.browser.conftest import STAFF_PASSWORD, shot

pytestmark = [pytest.mark.browser, pytest.mark.commits]

# the bar's direct children: on one line every one overlaps every other vertically (each top above
# each bottom); on two, the second row's tops are below the first row's bottoms
ROWS = """() => {
  const bar = document.querySelector('header.desk-bar');
  const items = Array.from(bar.children).filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect());
  const widths = Array.from(bar.children).map(e => [e.className || e.tagName, Math.round(e.getBoundingClientRect().width)]);
  return {height: bar.getBoundingClientRect().height, top: Math.max(...items.map(r => r.top)),
          bottom: Math.min(...items.map(r => r.bottom)), right: Math.max(...items.map(r => r.right)), widths: widths};
}"""


def _busy_staff(db, make_staff):
    """A handler who is also the lead of another unit and a supervisor: every item the bar can show
    but a custodian's (the switcher with two long English unit names, search, number box, supervision)."""
    actor = make_staff("miit", Role.handler, Role.unit_lead)
    with db.session_scope() as s:
        from casework.accounts.operations import grant_role
        from casework.registry.models import Unit

        user = s.get(User, actor.user_id)
        grant_role(s, user, s.scalar(select(Unit).where(Unit.code == "sc-economy-it")), Role.handler)
        grant_role(s, user, s.scalar(select(Unit).where(Unit.code == "mca")), Role.supervisor)
        user.display_name = "王小明"
        return user.username


def _sign_in(page, base, username, lang="zh_CN"):
    page.goto(base + "/staff/login")
    if lang == "en":
        page.get_by_role("link", name="English").click()
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    else:
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/desk/units/\d+.*"))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_desk_header_is_one_line_at_1280_px(pages, live_server, db, make_staff, file_case, request, lang):
    file_case()
    page = pages(f"header_{lang}")
    _sign_in(page, live_server, _busy_staff(db, make_staff), lang)
    bar = page.evaluate(ROWS)
    assert bar["top"] < bar["bottom"], bar  # one row of items
    assert bar["height"] <= 72 and bar["right"] <= 1280, bar  # in English it wrapped to two rows, 112 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # the account's links are under the name: opened, they show within the window; Escape closes them
    password = "Change your password" if lang == "en" else "修改密码"
    assert not page.get_by_role("link", name=password).is_visible()
    page.locator("details.account > summary").click()
    for item in (page.get_by_role("link", name=password), page.locator("#logout")):
        box = item.bounding_box()
        assert item.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    shot(page, request, f"header_{lang}")
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name=password).is_visible()
    # the 超期与督办 tab's extra column still fits the window: who holds each case and its deadline
    # are what the lead opens the tab for (in English its heading pushed them out of sight)
    with db.session_scope() as s:
        s.execute(update(Case).values(overdue=True, supervision_level=1))
    page.goto(page.url.split("?")[0] + "?tab=supervision")
    assert page.locator("tbody tr").count() >= 1
    wrap = page.evaluate("() => { const w = document.querySelector('.table-wrap'); return [w.scrollWidth, w.clientWidth]; }")
    widths = page.evaluate("() => [...document.querySelectorAll('thead th')].map(t => t.innerText + ':' + Math.round(t.getBoundingClientRect().width))")
    assert wrap[0] <= wrap[1], (wrap, " ".join(widths))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_desk_header_fits_a_phone(pages, live_server, db, make_staff, file_case, request, lang):
    file_case()
    page = pages(f"header_phone_{lang}", phone=True)
    _sign_in(page, live_server, _busy_staff(db, make_staff), lang)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for item in page.locator("header.desk-bar a, header.desk-bar button, header.desk-bar select").all():
        box = item.bounding_box()
        if box is not None and box["width"] > 0:
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
            assert box["height"] >= 44, (item.evaluate("e => e.outerHTML.slice(0, 80)"), box)


def _phone(browser, js):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", java_script_enabled=js)
    return ctx, ctx.new_page()


def _options(page):
    return page.locator("#m-transfer-unit_id option:not([value=''])").all_inner_texts()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_the_transfer_list_narrows_on_a_phone(browser, live_server, db, make_staff, file_case, request, js):
    number = file_case().case_number
    actor = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        username = s.get(User, actor.user_id).username
    ctx, page = _phone(browser, js)
    try:
        _sign_in(page, live_server, username)
        page.goto(f"{live_server}/desk/cases/{number}")
        if not page.locator("#move-transfer").evaluate("d => d.open"):
            page.locator("#move-transfer > summary").click()
        every = _options(page)
        assert "民政部" in every and "国家市场监督管理总局" in every and "工业和信息化部" not in every
        groups = page.locator("#m-transfer-unit_id optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert groups[:3] == ["行业管理部门", "登记管理机关", "业务主管单位"]
        page.locator("#m-transfer-public_text").fill("该事项属民政部门职责，已转交。")
        page.select_option("#m-transfer-reason", "other_unit_competent")
        button = page.get_by_role("button", name="筛选列表")
        box = page.get_by_label("查找单位（名称、代码或行政区划代码）")
        if js:
            assert not button.is_visible()  # the list narrows as one types
            box.press_sequentially("民政 5100")
            assert _options(page) == ["四川省民政厅"]
            assert re.fullmatch(r"显示 1 / \d+ 个单位。", page.locator("#m-transfer-unit_id-count").inner_text())
            box.press("Enter")  # does not send the form
            assert page.url.endswith(f"/desk/cases/{number}")
            box.fill("")
            box.dispatch_event("input")
            assert _options(page) == every
            box.fill("民政")
            box.dispatch_event("input")
        else:
            assert button.is_visible()
            bb = button.bounding_box()
            assert bb["height"] >= 44 and bb["x"] + bb["width"] <= 390
            box.fill("民政")
            button.click()
            page.wait_for_load_state()
            # the form came back open, narrowed, with what was typed
            assert page.locator("#m-transfer-public_text").input_value() == "该事项属民政部门职责，已转交。"
            assert page.locator("#m-transfer-reason").input_value() == "other_unit_competent"
            assert page.get_by_label("查找单位（名称、代码或行政区划代码）").input_value() == "民政"
        narrowed = _options(page)
        assert narrowed and all("民政" in n for n in narrowed) and "国家市场监督管理总局" not in narrowed
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, request, "narrowed")
        page.select_option("#m-transfer-unit_id", label="民政部")
        page.locator("#move-transfer button[name=go]").click()
        page.wait_for_load_state()
        with db.session_scope(write=False) as s:
            assert s.scalar(select(Case).where(Case.number == number)).unit.code == "mca"
    finally:
        ctx.close()
