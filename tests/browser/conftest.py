"""A live server on a free port and Debian's Chromium driven by Playwright."""
import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import needs_service

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "artifacts")


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        needs_service("Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


@pytest.fixture
def phone(browser, request):
    """A phone-sized page; pass js=False through indirect parametrisation to turn JS off."""
    js = getattr(request, "param", True)
    ctx = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                              locale="zh-CN", java_script_enabled=js)
    page = ctx.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.on("dialog", lambda d: d.dismiss())
    yield page
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=True)
    ctx.close()
    assert external == [], f"page loaded from another host: {external}"


STAFF_PASSWORD = "correct horse battery"  # what tests/conftest.py's make_staff sets


@pytest.fixture
def pages(browser, request):
    """open_page(name, phone=False) -> a page in its own browser context (zh-CN), desktop
    1280x900 or a phone. A request to another host, a CSP violation, a script error or a
    failed load fails the test; every page is screenshot into tests/artifacts/ at the end."""
    opened = []

    def open_page(name, *, phone=False):
        if phone:
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      locale="zh-CN")
        else:
            ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        problems = []
        page.on("request", lambda r: problems.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.on("dialog", lambda d: d.accept())
        opened.append((name, ctx, page, problems))
        return page

    yield open_page
    os.makedirs(ARTIFACTS, exist_ok=True)
    for name, ctx, page, problems in opened:
        page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}_{name}.png"), full_page=True)
        ctx.close()
        assert problems == [], f"{name}: other hosts, CSP violations, script errors or failed loads: {problems}"


def shot(page, request, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}_{name}.png"), full_page=True)


def sign_in(page, base, username, then="/desk", landing=None):
    """Open ``then``, get sent to the login page, sign in, and land on ``landing`` (default: ``then``)."""
    page.goto(base + then)
    page.wait_for_url(re.compile(r".*/staff/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(landing or rf".*{re.escape(then)}$"))


@pytest.fixture
def sms_step(app):
    """After a filing form was sent: when it asks for the SMS code (issue 19), type the code the
    outbox holds for ``phone`` (the notice worker does not run in browser tests) and send it."""
    from tests.phone_codes import app_code

    def step(page, phone="13800138000"):
        page.wait_for_load_state()
        box = page.locator("#verify_code")
        if box.count() == 0:
            return
        # the box is far below the top of the long form: the page arrives focused on it, in view
        assert page.evaluate("document.activeElement && document.activeElement.id") == "verify_code"
        assert box.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
        box.fill(app_code(app, phone))
        page.locator("button[name=action][value=submit]").click()
        page.wait_for_load_state()

    return step
