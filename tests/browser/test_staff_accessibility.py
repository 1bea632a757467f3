"""The staff pages (desk, supervision, administration) in Chromium, after the accessibility audit:

- on a 390 px phone, the header's controls, the queue's row boxes and case numbers, the case
  page's move summaries and "办理时限如何计算", the supervision tabs and the administrators' "修改"
  links are tap targets of at least 44×44 CSS px (a box counts with its label);
- at 320 CSS px (a desktop at 400 %), the English desk header reflows: nothing scrolls sideways;
- an arrow key on the unit switcher or on the canned replies changes nothing but the choice
  (WCAG 3.2.2): "前往" and "填入" act;
- the skip link is the first thing a keyboard reaches and shows when focused; a table that scrolls
  sideways is a named region the keyboard reaches, with a visible focus ring;
- a note sent after the idle limit comes back into its form after the sign-in, and before the
  limit the page warns and offers to stay signed in (WCAG 2.2.1);
- on a 390 px phone the administration's tables (staff accounts, the audit log's before and after,
  units, rules, …) are a card per row, each value named by its column: neither the page nor a
  table's box scrolls sideways.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role, StaffSession, User
from casework.accounts.operations import grant_role
from casework.audit.operations import Change, record
from casework.cases.models import CannedReply, Case
from casework.db import utcnow
from casework.registry.models import Unit
from casework.stats.rollup import refresh
from tests.browser.conftest import STAFF_PASSWORD, shot
from tests.conftest import BASIS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

CANNED = "经核查，该协会已停止强制入会做法，并已退还贵公司缴纳的会费。"
NOTE = "已电话联系协会秘书处，对方承认收费未经会员大会表决，约定下周一前书面说明。"

# the size of a tap target: a checkbox counts with its label (a tap on the label ticks it)
SIZE = """els => els.filter(e => e.getClientRects().length).map(e => {
  let r = e.getBoundingClientRect(), w = r.width, h = r.height;
  if (e.type === "checkbox") for (const l of e.labels || []) {
    const lr = l.getBoundingClientRect(); w = Math.max(w, lr.width); h = Math.max(h, lr.height); }
  return [e.id || e.className || e.tagName, (e.innerText || e.value || "").trim().slice(0, 20), Math.round(w), Math.round(h)];
})"""


def username(db, actor):
    with db.session_scope(write=False) as s:
        return s.scalar(select(User.username).where(User.id == actor.user_id))


def sign_in(page, base, user, then="/desk"):
    page.goto(base + then)
    page.wait_for_url(re.compile(r".*/staff/login\?next="))
    page.locator("#username").fill(user)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()


def context(browser, base, *, width=390, lang="zh_CN", phone=True):
    ctx = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=phone, has_touch=phone,
                              locale="en-GB" if lang == "en" else "zh-CN")
    ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
    return ctx


def small_targets(page, selector):
    return [t for t in page.locator(selector).evaluate_all(SIZE) if t[2] < 44 or t[3] < 44]


@pytest.fixture
def desk(db, services, file_case, make_staff, act):
    """A handler of 工业和信息化部 who is also its triage operator (two entries in the unit switcher),
    a case accepted (a reply with a canned reply offered), a case filed in English, a supervisor,
    an administrator, and the figures of the supervision dashboard."""
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        grant_role(s, s.get(User, handler.user_id), s.scalar(select(Unit).where(Unit.code == "triage")),
                   Role.triage_operator)
    accepted = file_case()
    act(accepted.case_id, "accept")
    english = file_case(title="Forced membership and a fee of 20,000 yuan",
                        description="The association made our company join and pay a fee before it would issue a certificate.")
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == english.case_id).values(locale="en"))
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
        s.add(CannedReply(unit_id=miit, title="停止强制入会并退费", body=CANNED, legal_basis=BASIS))
    refresh(db, lambda: datetime.now(timezone.utc))
    return {"handler": username(db, handler), "handler_id": handler.user_id,
            "supervisor": username(db, make_staff("mca", Role.supervisor)),
            "admin": username(db, make_staff("mca", Role.administrator)),
            "accepted": accepted.case_number, "english": english.case_number}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_tap_targets_on_a_phone(browser, live_server, desk, lang, request):
    base, small = live_server, {}
    ctx = context(browser, base, lang=lang)
    page = ctx.new_page()
    try:
        sign_in(page, base, desk["handler"])
        header = ("header.desk-bar select, header.desk-bar button, header.desk-bar input:not([type=hidden]), "
                  "header.desk-bar a:not(.brand):not(.skip-link)")
        small["queue"] = small_targets(page, f"{header}, #queue td.pick input, #queue td.number a, .tabs .tab")
        assert page.locator("#queue td.pick input").count() >= 1
        page.goto(f"{base}/desk/cases/{desk['accepted']}")
        small["case"] = small_targets(page, f"{header}, .case-side .move > summary, #deadline-explanation > summary, "
                                             "#m-reply-canned, #m-reply-canned-fill, p.back a")
        assert page.locator(".case-side .move > summary").count() >= 3
        shot(page, request, f"case_{lang}")
        ctx.close()

        ctx = context(browser, base, lang=lang)
        page = ctx.new_page()
        sign_in(page, base, desk["supervisor"], then="/supervise")
        small["supervise"] = small_targets(page, ".supervise-nav a, header.desk-bar a:not(.brand):not(.skip-link), "
                                                 "header.desk-bar button, table.figures tbody th a")
        ctx.close()

        ctx = context(browser, base, lang=lang)
        page = ctx.new_page()
        sign_in(page, base, desk["admin"], then="/admin/routing")
        small["admin"] = small_targets(page, "table.admin-table td a, table.admin-table td button, .admin-nav a")
        assert page.locator("table.admin-table td a").count() >= 5
    finally:
        ctx.close()
    assert not any(small.values()), f"{lang}: tap targets under 44×44 CSS px on a 390 px phone: {small}"


# every administration page with a table (the routing page's "Try it" too), the audit log with a change
ADMIN_TABLES = ("/admin/users", "/admin/audit", "/admin/units", "/admin/associations", "/admin/categories",
                "/admin/routing?case_type=complaint&category=illegal_fees", "/admin/notice-templates",
                "/admin/document-templates", "/admin/time-limits", "/admin/calendar")
# what scrolls sideways: the page, or a table inside its box
SIDEWAYS = """() => [document.scrollingElement.scrollWidth > window.innerWidth ? "the page " + document.scrollingElement.scrollWidth : null,
  ...Array.from(document.querySelectorAll(".table-wrap")).filter(w => w.scrollWidth > w.clientWidth + 1)
     .map(w => (w.getAttribute("aria-label") || w.querySelector("table").id) + " " + w.scrollWidth)].filter(Boolean)"""


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_administration_tables_are_cards_on_a_phone(browser, live_server, db, make_staff, lang, request):
    admin = make_staff("mca", Role.administrator)
    with db.session_scope() as s:  # a change in the audit log: its before and after
        record(s, admin, Change("unit", "updated", "miit", {"notice_email": "", "name": "工业和信息化部"},
                                {"notice_email": "xinfang-notices@miit.example.gov.cn", "name": "工业和信息化部"}))
    ctx = context(browser, live_server, lang=lang)
    page = ctx.new_page()
    sideways = {}
    try:
        sign_in(page, live_server, username(db, admin), then="/admin/users")
        # each value named by its column: the card's label is the header's text
        cell = page.locator("#users tbody tr").first.locator("td").nth(1)
        label = cell.evaluate("e => getComputedStyle(e, '::before').content")
        assert ("Display name" if lang == "en" else "显示名称") in label
        for path in ADMIN_TABLES:
            page.goto(live_server + path)
            assert page.locator(".table-wrap table").count() >= 1, path
            if found := page.evaluate(SIDEWAYS):
                sideways[path] = found
        shot(page, request, f"calendar_{lang}")
        page.goto(live_server + "/admin/audit")
        assert page.locator(".audit-log .table-wrap table.cards").count() >= 1
        shot(page, request, f"audit_{lang}")
    finally:
        ctx.close()
    assert not sideways, f"{lang}: scrolls sideways on a 390 px phone: {sideways}"


def test_the_english_desk_reflows_at_320_px(browser, live_server, desk):
    ctx = context(browser, live_server, width=320, lang="en", phone=False)
    page = ctx.new_page()
    try:
        sign_in(page, live_server, desk["handler"])
        for path in ("/desk", f"/desk/cases/{desk['english']}", "/desk/search?q=fee"):
            page.goto(live_server + path)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            button = page.locator("form.find-number button").bounding_box()
            assert width <= 320 and button["x"] + button["width"] <= 320, (path, width, button)
    finally:
        ctx.close()


def test_an_arrow_key_only_moves_the_choice(pages, live_server, desk):
    page = pages("keys")
    sign_in(page, live_server, desk["handler"])
    queue = page.url
    switch = page.locator("#unit-switch")
    switch.focus()
    page.keyboard.press("ArrowDown")  # to the triage queue
    page.wait_for_timeout(300)
    assert page.url == queue and switch.input_value() == "triage"  # chosen, not gone to
    page.locator("form.switcher button").click()
    page.wait_for_url(re.compile(r".*/desk/triage$"))

    page.goto(f"{live_server}/desk/cases/{desk['accepted']}")
    canned, text = page.locator("#m-reply-canned"), page.locator("#m-reply-public_text")
    canned.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(100)
    assert text.input_value() == "" and page.evaluate("document.activeElement.id") == "m-reply-canned"
    text.fill("我先写的答复。")
    asked = []
    page.on("dialog", lambda d: asked.append(d.message))  # the pages fixture accepts it
    page.locator("#m-reply-canned-fill").click()
    assert asked and text.input_value() == CANNED  # asked before replacing what was typed
    assert page.locator("#m-reply-legal_basis").input_value() == BASIS
    assert page.evaluate("document.activeElement.id") == "m-reply-public_text"


def test_skip_link_and_scrolling_tables_by_keyboard(pages, live_server, desk):
    page = pages("keyboard", phone=True)
    sign_in(page, live_server, desk["supervisor"], then="/supervise")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] >= 44  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # each figure's section has its heading, and its table a named region the keyboard reaches
    for key in ("monthly", "categories", "associations"):
        figure = page.locator(f"#table-{key}")
        heading = figure.locator("figcaption h2").inner_text()
        region = figure.locator(".table-wrap")
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
        assert region.get_attribute("aria-label") == heading
    region = page.locator("#table-monthly .table-wrap")
    for _ in range(60):  # Tab on from the top until the table's region has the focus
        page.keyboard.press("Tab")
        if region.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the monthly table was not reached by Tab")
    ring = region.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] != "none" and ring[1] >= 2
    scrolled = region.evaluate("e => e.scrollWidth > e.clientWidth")
    if scrolled:  # on a phone the table is wider than its box: the arrow keys scroll it
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        assert region.evaluate("e => e.scrollLeft") > 0


def expire(db, user_id, minutes=31):
    with db.session_scope() as s:
        s.execute(update(StaffSession).where(StaffSession.user_id == user_id)
                  .values(last_seen_at=utcnow() - timedelta(minutes=minutes)))


def test_a_note_sent_after_the_idle_limit_comes_back_after_signing_in(pages, live_server, db, desk, request):
    page = pages("expiry", phone=True)
    number = desk["accepted"]
    sign_in(page, live_server, desk["handler"], then=f"/desk/cases/{number}")
    page.locator("#move-note summary").click()
    page.locator("#m-note-internal_text").fill(NOTE)
    expire(db, desk["handler_id"])  # 31 minutes without a request
    page.locator("#move-note button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/staff/login\?next=/desk/cases/{number}$"))
    assert "30 分钟" in page.locator(".flashes").inner_text()
    page.locator("#username").fill(desk["handler"])
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert page.locator("#m-note-internal_text").input_value() == NOTE
    assert page.evaluate("document.activeElement.id") == "m-note-internal_text"
    assert page.locator("#restored-note").is_visible()
    shot(page, request, "restored")
    page.locator("#move-note button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert page.locator("#timeline .entry-internal", has_text=NOTE).count() == 1


def test_the_page_warns_before_the_idle_limit_and_keeps_the_session(browser, live_server, db, desk):
    ctx = context(browser, live_server, width=1366, phone=False)
    page = ctx.new_page()
    try:
        page.clock.install()
        sign_in(page, live_server, desk["handler"], then=f"/desk/cases/{desk['accepted']}")
        warning, stay = page.locator("#idle-warning"), page.locator("#stay-signed-in")
        assert warning.is_hidden()
        page.clock.fast_forward("26:00")
        assert warning.is_hidden()
        page.clock.fast_forward("01:30")  # 27.5 minutes without a request: the warning, its button focused
        warning.wait_for(state="visible")
        page.clock.run_for(100)  # the message is put in a moment later: announced as new
        assert "约 2 分钟后将自动退出登录" in page.locator("#idle-message").inner_text()
        assert page.evaluate("document.activeElement.id") == "stay-signed-in"
        with page.expect_response(re.compile(r".*/staff/keep-alive$")) as kept:
            page.keyboard.press("Enter")  # one key
        assert kept.value.status == 204
        page.wait_for_function("document.getElementById('stay-signed-in').hidden")
        page.clock.run_for(100)
        assert "已保持登录" in page.locator("#idle-message").inner_text()
        page.clock.fast_forward("00:05")
        warning.wait_for(state="hidden")

        # typing into a form is activity: the session is kept without a warning
        page.locator("#m-reply-public_text").fill("正在写的答复")
        with page.expect_response(re.compile(r".*/staff/keep-alive$")) as kept:
            page.clock.fast_forward("27:30")
        assert kept.value.status == 204 and warning.is_hidden()

        # the session ended on the server meanwhile: the page says so
        expire(db, desk["handler_id"])
        page.clock.fast_forward("27:30")
        warning.wait_for(state="visible")
        with page.expect_response(re.compile(r".*/staff/keep-alive$")) as refused:
            stay.click()
        assert refused.value.status == 401
        page.wait_for_function("document.getElementById('stay-signed-in').hidden")
        page.clock.run_for(100)
        assert "已自动退出登录" in page.locator("#idle-message").inner_text()
    finally:
        ctx.close()
