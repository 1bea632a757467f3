"""Every public page on a 390 px phone, in Chinese and in English (issue 16, defect 11):

- every link, button and form control is a tap target of at least 44×44 CSS px;
- all text is at least 14 px (computed font size);
- every input, select and textarea has an accessible name, and radio buttons sit in a
  fieldset with a legend;
- nothing scrolls sideways (document.scrollingElement.scrollWidth <= 390);
- errors are tied to their fields: every id an aria-describedby or aria-labelledby names exists,
  a control marked aria-invalid is described by an error, a field or group marked .invalid holds
  such a control, and every link of an error summary goes to an element that takes the focus (a
  radio group's first radio button, not its fieldset);
- a box that scrolls (a table on a phone) is reached by the keyboard: a named region with
  tabindex="0", or it holds something focusable (axe scrollable-region-focusable);
- on an English page, text that is mostly Chinese (a case's title, a unit's reply, a registry
  name with no English one) carries lang="zh-CN";
- no console error and no script error;
- each page transfers under 100 KB (102,400 bytes: HTML, CSS, scripts, images, counted by
  Playwright from the responses the page received).

The check is AUDIT below, run in the page; it names each offending element by a CSS-like path,
its text and its size, so the failure says what to fix.

Tap targets (WCAG 2.5.8 with its "inline" exception, stricter than its 24 px minimum): a link
is exempt only when it sits inside a sentence: it is display:inline and its block has other
words besides links (letters, digits or Chinese characters; separators such as "·" do not
count). A checkbox or radio button counts as the larger of its own box and its <label>'s, since
a tap on the label ticks it.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.registry.models import Association, Unit
from casework.stats.rollup import refresh
from casework.workflow.machine import perform
from tests.conftest import BASIS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

WIDTH = 390
MAX_BYTES = 102_400
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

AUDIT = """() => {
  const MIN_TARGET = 44, MIN_TEXT = 14;
  const out = [];
  const rendered = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const path = el => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.body; e = e.parentElement) {
      let p = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(p + "#" + e.id); break; }
      const cls = Array.from(e.classList).slice(0, 2);
      if (cls.length) p += "." + cls.join(".");
      parts.unshift(p);
    }
    return parts.slice(-4).join(" > ");
  };
  const text = el => (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ").slice(0, 40);
  const size = r => Math.round(r.width) + "x" + Math.round(r.height);
  const WORDS = /[\\p{L}\\p{N}]/u;
  const blockOf = el => {
    let b = el.parentElement;
    while (b && getComputedStyle(b).display.startsWith("inline")) b = b.parentElement;
    return b;
  };
  const inSentence = a => {
    if (getComputedStyle(a).display !== "inline") return false;
    const block = blockOf(a);
    if (!block) return false;
    const clone = block.cloneNode(true);
    clone.querySelectorAll("a, button").forEach(x => x.remove());
    return WORDS.test(clone.textContent);
  };
  const labelsOf = el => Array.from(el.labels || []);

  // 1. tap targets
  const targets = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex='-1'])");
  for (const el of targets) {
    if (!rendered(el)) continue;
    if (el.tagName === "A" && inSentence(el)) continue;
    let r = el.getBoundingClientRect();
    let w = r.width, h = r.height;
    if (el.type === "checkbox" || el.type === "radio") {
      for (const l of labelsOf(el)) {
        const lr = l.getBoundingClientRect();
        w = Math.max(w, lr.width); h = Math.max(h, lr.height);
      }
    }
    if (w < MIN_TARGET - 0.5 || h < MIN_TARGET - 0.5) {
      out.push(`tap target ${Math.round(w)}x${Math.round(h)} < 44x44: ${path(el)} "${text(el)}"`);
    }
  }

  // 2. text size
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    if (el.closest("script, style, noscript, template, title, desc")) continue;
    seen.add(el);
    if (!rendered(el)) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < MIN_TEXT - 0.01) {
      out.push(`text ${px}px < 14px: ${path(el)} "${n.textContent.trim().slice(0, 40)}"`);
    }
  }

  // 3. every control named; radio buttons grouped
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const named = labelsOf(el).some(l => l.textContent.trim()) || (el.getAttribute("aria-label") || "").trim()
      || (el.getAttribute("aria-labelledby") || "").split(/\\s+/).some(id => id && document.getElementById(id)
           && document.getElementById(id).textContent.trim()) || (el.getAttribute("title") || "").trim();
    if (!named) out.push(`control without an accessible name: ${path(el)}`);
    if (el.type === "radio") {
      const fs = el.closest("fieldset");
      const legend = fs && fs.querySelector(":scope > legend");
      const group = el.closest("[role=radiogroup]");
      if (!(legend && legend.textContent.trim()) && !(group && (group.getAttribute("aria-label")
            || group.getAttribute("aria-labelledby")))) {
        out.push(`radio button outside a fieldset with a legend: ${path(el)} "${text(el.labels[0] || el)}"`);
      }
    }
  }

  // 4. no sideways scrolling
  const sw = document.scrollingElement.scrollWidth;
  if (sw > window.innerWidth) {
    const wide = Array.from(document.querySelectorAll("body *")).filter(e => rendered(e)
      && e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(-3).map(e => path(e) + " " + size(e.getBoundingClientRect()));
    out.push(`scrolls sideways: scrollWidth ${sw} > ${window.innerWidth}; widest: ${wide.join("; ")}`);
  }

  // 5. errors tied to their fields (WCAG 3.3.1, 1.3.1): every id an aria-describedby or
  // aria-labelledby names exists; a control marked invalid is described by an error; a field
  // or group marked .invalid holds a control marked invalid; every link of an error summary
  // goes to an element that takes the focus (a fieldset or a div does not)
  for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
    for (const a of ["aria-describedby", "aria-labelledby"]) {
      for (const id of (el.getAttribute(a) || "").split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) out.push(`${a} names no element #${id}: ${path(el)}`);
      }
    }
  }
  for (const el of document.querySelectorAll("[aria-invalid=true]")) {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
    const said = ids.map(id => document.getElementById(id)).filter(Boolean)
      .some(d => d.matches(".error, .error-summary *, .error-summary"));
    if (!said) out.push(`invalid control not described by its error: ${path(el)}`);
  }
  for (const field of document.querySelectorAll(".invalid")) {
    if (!field.querySelector("[aria-invalid=true]")) out.push(`field marked invalid holds no control marked so: ${path(field)}`);
  }
  for (const a of document.querySelectorAll(".error-summary a[href^='#']")) {
    const target = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    const focusable = target && (target.matches("a[href], button, input:not([type=hidden]), select, textarea, summary")
      || target.hasAttribute("tabindex"));
    if (!focusable) out.push(`error summary link to ${a.getAttribute("href")}, which ${target ? "takes no focus (" + path(target) + ")" : "is not on the page"}`);
  }

  // 6. a box that scrolls is reached by the keyboard (axe scrollable-region-focusable, WCAG 2.1.1):
  // it takes the focus itself (tabindex="0", a named region) or holds something that does
  for (const el of document.querySelectorAll("body *")) {
    const cs = getComputedStyle(el);
    const scrollsX = /auto|scroll/.test(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const scrollsY = /auto|scroll/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1 && el.tagName !== "TEXTAREA";
    if (!(scrollsX || scrollsY) || !rendered(el)) continue;
    if (el.tabIndex >= 0 && el.getAttribute("role") === "region" && (el.getAttribute("aria-label") || "").trim()) continue;
    if (el.tabIndex < 0 && !el.querySelector("a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])")) {
      out.push(`scrolling box the keyboard cannot reach: ${path(el)} ${size(el.getBoundingClientRect())}`);
    }
  }

  // 7. the language of parts (WCAG 3.1.2): on an English page, text that is mostly Chinese (a
  // case's title, a unit's reply, a Chinese name) says so with lang; a Chinese term inside an
  // English sentence may stay as it is
  if ((document.documentElement.lang || "").startsWith("en")) {
    const han = /[\\u3400-\\u9fff]/g, latin = /[A-Za-z]/g;
    const tw = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = tw.nextNode(); n; n = tw.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest("script, style, noscript, template, textarea") || !rendered(el)) continue;
      const t = n.textContent;
      const h = (t.match(han) || []).length, l = (t.match(latin) || []).length;
      if (h >= 2 && h > l && !(el.closest("[lang]").getAttribute("lang") || "").startsWith("zh")) {
        out.push(`Chinese text without lang="zh-CN" on an English page: ${path(el)} "${t.trim().slice(0, 30)}"`);
      }
    }
  }
  return out;
}"""


class Phone:
    """A 390×844 phone in one language. .visit(name, go) opens a new browser context with the
    HTTP cache off (every page weighed as on a first visit), lets go(page) load a page and
    records what fails on it."""

    def __init__(self, browser, base, lang):
        self.browser, self.base, self.lang = browser, base, lang
        self.problems = {}

    def visit(self, name, go, *, status=200, also=None):
        ctx = self.browser.new_context(viewport={"width": WIDTH, "height": 844}, is_mobile=True, has_touch=True,
                                       locale="en-GB" if self.lang == "en" else "zh-CN")
        ctx.add_cookies([{"name": "lang", "value": self.lang, "url": self.base}])
        ctx.route("**/*", lambda route: route.continue_())  # routing turns the HTTP cache off
        page = ctx.new_page()
        errors, finished = [], []
        # a form sent back with its errors answers 422 by design; Chromium logs that status
        expected = f"the server responded with a status of {status}"
        page.on("console", lambda m: errors.append(f"console error: {m.text}")
                if m.type == "error" and not (status != 200 and expected in m.text) else None)
        page.on("pageerror", lambda e: errors.append(f"script error: {e}"))
        page.on("requestfinished", lambda r: finished.append(r))
        page.on("request", lambda r: errors.append(f"loaded from another host: {r.url}")
                if not r.url.startswith((self.base, "data:")) else None)
        try:
            go(page)
            page.wait_for_load_state("load")
            page.wait_for_timeout(100)  # late console messages and requests
            found = list(page.evaluate(AUDIT)) + (also(page) if also else [])
            # what the page itself loaded: the requests before the last navigation (a form
            # filled on the way) are not part of it
            nav = max((i for i, r in enumerate(finished) if r.is_navigation_request()), default=0)
            loaded = finished[nav:]
            weight = sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in loaded)
            if weight >= MAX_BYTES:
                found.append(f"transfers {weight:,} bytes >= {MAX_BYTES:,}: " + ", ".join(
                    f"{r.url.removeprefix(self.base)} {r.sizes()['responseBodySize']:,}" for r in loaded))
            found += errors
            if found:
                self.problems[f"{name} ({page.url.removeprefix(self.base)})"] = found
        finally:
            ctx.close()


def open_case(page, base, form_path, number, code):
    page.goto(base + form_path)
    page.locator("#number").fill(number)
    page.locator("#code").fill(code)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/{number}$"))


def other_party_asked_in_a_legend(page):
    """The radio group "对方是谁？" is a fieldset of its own whose legend asks the question."""
    legend = page.locator("fieldset#respondent-kind > legend")
    question = "对方是谁" if page.evaluate("document.documentElement.lang") == "zh-CN" else "Who is the other party"
    if legend.count() != 1 or question not in legend.inner_text():
        return [f"the radio group “{question}” is not a fieldset with that question as its legend"]
    if page.locator("#respondent-kind input[type=radio]").count() < 2:
        return ["the other party's kinds are not in #respondent-kind"]
    return []


def shows(selector):
    """That the page checked has the form it is there for."""
    return lambda page: [] if page.locator(selector).count() else [f"{selector} is not on the page"]


def submit_empty(base, slug, *, attach=False):
    def go(page):
        page.goto(f"{base}/file/{slug}")
        if attach:
            page.locator("#attachments").set_input_files(
                files=[{"name": "收据.png", "mimeType": "image/png", "buffer": PNG}])
        page.locator("button[name=action][value=submit]").click()
        page.wait_for_selector(".error-summary")
    return go


@pytest.fixture
def cases(db, services, file_case, make_staff, mediation):
    """Cases in the states whose pages have their own forms, and figures for /stats."""
    handler = make_staff("miit", Role.handler)
    coordinator = make_staff("caam-mediation", Role.unit_lead)

    def move(actor, receipt, name, **fields):
        with db.session_scope() as s:
            return perform(s, services, actor, s.get(Case, receipt.case_id), name, **fields)

    def staff(receipt, name, **fields):
        with db.session_scope(write=False) as s:
            unit = s.get(Case, receipt.case_id).unit_id
        return move(handler if unit == handler_unit else coordinator, receipt, name, **fields)

    with db.session_scope(write=False) as s:
        handler_unit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    accepted, replied, need_info = file_case(), file_case(), file_case()
    for r in (accepted, replied):
        staff(r, "accept")
    staff(replied, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已停止强制入会做法并退还会费。")
    staff(need_info, "request_info", public_text="请补充缴费凭证的照片。")
    overdue = file_case()  # past its time limit: the status page offers 催办 (urge)
    staff(overdue, "accept")
    with db.session_scope() as s:  # as if 90 days had gone by (a plain UPDATE: no move did it)
        due = s.get(Case, overdue.case_id).due_at
        s.execute(update(Case).where(Case.id == overdue.case_id).values(due_at=due - timedelta(days=90)))
    invited = mediation
    codes = {"invited": staff(invited, "accept_mediation").respondent_code}
    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    mediating = file_case(type="mediation", category="member_contract", association=caam, claim="请求对方支付货款。",
                          respondent={"name": "某某零部件有限公司", "kind": "member_company"})
    codes["mediating"] = staff(mediating, "accept_mediation").respondent_code
    move(Actor.respondent(mediating.case_id), mediating, "respondent_consent")
    refresh(db, lambda: datetime.now(timezone.utc))
    with db.session_scope(write=False) as s:
        unit = s.scalar(select(Case.unit_id).where(Case.id == accepted.case_id))
        association = s.scalar(select(Case.association_id).where(Case.id == accepted.case_id))
    return {"accepted": accepted, "replied": replied, "need_info": need_info, "overdue": overdue, "invited": invited,
            "mediating": mediating, "codes": codes, "unit": unit, "association": association}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_public_page_on_a_phone(browser, live_server, cases, lang):
    phone = Phone(browser, live_server, lang)
    base = live_server
    for path in ("/", "/track", "/respond", "/privacy", "/stats", f"/stats/units/{cases['unit']}",
                 f"/stats/associations/{cases['association']}", "/open-data"):
        phone.visit(path, lambda p, path=path: p.goto(base + path))
    for slug in ("complaint", "report", "mediation", "suggestion"):
        phone.visit(f"file {slug}", lambda p, slug=slug: p.goto(f"{base}/file/{slug}"),
                    also=other_party_asked_in_a_legend if slug == "mediation" else None)
        phone.visit(f"file {slug}, sent empty", submit_empty(base, slug, attach=slug == "complaint"), status=422)
    phone.visit("file complaint, association searched", lambda p: (
        p.goto(base + "/file/complaint"), p.locator("#association_q").fill("中汽协"),
        p.wait_for_selector("#association-results label.option")))

    def file_one(p):
        p.goto(base + "/file/suggestion")
        p.locator("#category").select_option(index=1)
        p.locator("#title").fill("建议公开收费标准")
        p.locator("#description").fill("建议各协会在网站上公开会费和服务收费标准，方便企业查询。")
        p.locator("#privacy_consent").check()
        p.locator("button[name=action][value=submit]").click()
        p.wait_for_selector("#query-code")
    phone.visit("receipt", file_one)
    # the receipt's address in a browser that did not file the case: the number only, and 我的诉求
    phone.visit("receipt, code shown once", lambda p: p.goto(
        f"{base}/file/complaint/receipt/{cases['accepted'].case_number}"))

    for state in ("accepted", "replied", "need_info", "overdue", "mediating"):
        r = cases[state]
        phone.visit(f"status, {state}", lambda p, r=r: open_case(p, base, "/track", r.case_number, r.query_code),
                    also=shows("#urge-form") if state == "overdue" else shows("#evidence-form") if state == "accepted" else None)
    for state in ("invited", "mediating"):
        r = cases[state]
        phone.visit(f"respondent, {state}", lambda p, r=r, state=state: open_case(
            p, base, "/respond", r.case_number, cases["codes"][state]))

    def failed_rating(p):
        open_case(p, base, "/track", cases["replied"].case_number, cases["replied"].query_code)
        p.locator("#rate-form button[type=submit]").click()
        p.wait_for_selector("#rate-form .error, .error-summary")
    phone.visit("status, rating sent empty", failed_rating, status=422)

    def failed_review(p):
        open_case(p, base, "/track", cases["replied"].case_number, cases["replied"].query_code)
        p.locator("#review-form button[type=submit]").click()
        p.wait_for_selector(".error-summary")
    phone.visit("status, review sent empty", failed_review, status=422)

    def wrong_code(p, form_path, number):
        p.goto(base + form_path)
        p.locator("#number").fill(number)
        p.locator("#code").fill("AAAA-BBBB-CCCC-DDDD")
        p.locator("form.card button[type=submit]").click()
        p.wait_for_selector("#lookup-error")
    phone.visit("track, wrong code", lambda p: wrong_code(p, "/track", cases["replied"].case_number), status=404)
    phone.visit("respond, wrong code", lambda p: wrong_code(p, "/respond", cases["invited"].case_number), status=404)

    def wrong_phone(p):
        p.goto(base + "/mine")
        p.locator("#phone").fill("12345")
        p.locator("button[name=action][value=send]").click()
        p.wait_for_selector(".error-summary")
    phone.visit("mine, invalid phone", wrong_phone, status=422)

    def unknown_association(p):
        p.goto(base + "/file/complaint")
        # a code no association has, as a stale page or a hand-made form would send it
        p.evaluate("""() => { const r = document.querySelector('#association-unknown'); r.value = '91110000000000000X'; r.checked = true; }""")
        p.locator("button[name=action][value=submit]").click()
        p.wait_for_selector(".error-summary")
    phone.visit("file complaint, association refused", unknown_association, status=422)
    report = "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in phone.problems.items())
    assert not phone.problems, f"{lang}: pages failing on a 390 px phone:\n{report}"
