"""The public statistics on a 360 px phone: charts drawn on the server as SVG with the same
figures as their tables (a small group is a gap), no sideways scrolling, nothing from another
host, no script at all; the same page without JavaScript; in English at 390 px, long names wrapped
in the charts, none cut."""
import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from casework.registry.models import Association
from casework.stats.rollup import month_of, refresh
from tests.browser.conftest import ARTIFACTS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def figures(db, file_case):
    """Six complaints about 中国复合材料工业协会 and two (a small group) about 四川省食品工业协会."""
    with db.session_scope(write=False) as s:
        sichuan = s.scalar(select(Association.credit_code).where(Association.name == "四川省食品工业协会"))
    for _ in range(6):
        file_case()
    for _ in range(2):
        file_case(association=sichuan, category="illegal_fees")
    refresh(db, lambda: datetime.now(timezone.utc))


def watch(page):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


# what the chart holds (its first series; no bar: null), next to what its table says (empty data-value: null)
CHART_AND_TABLE = """(id) => {
  const figure = document.getElementById(id);
  const svg = figure.querySelector("svg[role=img]");
  const groups = Array.from(svg.querySelectorAll("g[data-label]"));
  const rows = Array.from(figure.querySelectorAll("tbody tr"));
  const table = rows.map(r => { const v = r.cells[1].getAttribute("data-value"); return v === "" ? null : Number(v); });
  return {labels: groups.map(g => g.getAttribute("data-label")),
          chart: groups.map(g => { const bar = g.querySelector("rect:not([data-series]), rect[data-series='0']");
                                   return bar ? Number(bar.getAttribute("data-value")) : null; }),
          table: table, names: rows.map(r => r.cells[0].textContent.trim()),
          title: svg.querySelector("title").textContent, desc: svg.querySelector("desc").textContent,
          width: svg.getBoundingClientRect().width, scripts: document.scripts.length};
}"""


def test_statistics_on_a_phone(phone, live_server, figures):
    page = phone
    problems = watch(page)
    page.goto(live_server + "/")
    page.get_by_role("link", name="公开数据").click()
    page.wait_for_selector("#trend svg")
    assert page.locator("#total-received").inner_text() == "8"

    trend = page.evaluate(CHART_AND_TABLE, "trend")
    assert trend["width"] > 250 and trend["scripts"] == 0
    assert trend["title"] == "月度趋势" and "表格" in trend["desc"]
    assert trend["chart"] == trend["table"] and len(trend["chart"]) == 12
    assert trend["labels"][-1] == month_of(datetime.now(timezone.utc)) and trend["chart"][-1] == 8

    # both units withheld (the 6 would give back the 2): no bar to draw, so no chart drawn around
    # nothing, a sentence; the table says 不公开, and the note at the top says why, once
    assert page.locator("#by-unit svg").count() == 0
    assert "不显示图表" in page.locator("#by-unit .chart-none").inner_text()
    small = page.locator("#by-unit tbody tr", has_text="四川省经济和信息化厅")
    assert small.locator("td").first.inner_text() == "不公开"
    assert page.locator("#withheld-note").inner_text().startswith("小于5的数字（0除外）不公开，以免有人被认出。")
    page.locator("#withheld-note summary").click()  # the whole rule, unfolded without a script
    assert "为防止由合计推算出不公开的数量" in page.locator("#withheld-note details").inner_text()

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert problems == []

    page.get_by_role("link", name="中国复合材料工业协会").click()
    page.wait_for_selector("#trend .chart-none")  # every month 0 or withheld: no empty axes
    assert page.locator("#trend svg").count() == 0
    assert page.locator("#total-received").inner_text() == "不公开"  # its 6 would give back the other's 2 of 8
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(live_server + "/open-data")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(live_server + "/stats")  # the screenshot (tests/artifacts/) is of the overview
    page.wait_for_selector("#trend svg")
    assert problems == []


@pytest.mark.parametrize("phone", [False], indirect=True)
def test_statistics_without_javascript(phone, live_server, figures):
    page = phone
    page.goto(live_server + "/stats")
    assert page.evaluate(CHART_AND_TABLE, "trend")["chart"][-1] == 8  # the chart needs no script
    assert page.locator("#trend tbody tr").count() == 12
    assert page.locator("#total-received").inner_text() == "8"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#q").fill("食品")
    page.get_by_role("button", name="查找").click()
    assert page.locator(".assoc-list li").count() == 1
    page.get_by_role("link", name="四川省食品工业协会").click()
    assert page.locator("#total-received").inner_text() == "不公开"
    assert page.locator("#withheld-note").is_visible() and page.locator("#trend svg").count() == 0
    page.locator("#withheld-note summary").click()  # <details> opens without JavaScript
    assert page.locator("#withheld-note details p").is_visible()


def test_a_table_wider_than_the_phone_shows_a_shadow_where_columns_are_hidden(phone, live_server, figures):
    """In English the breakdown's last columns (on time, satisfied) lie beyond a 360 px screen: a
    shadow at the right edge says so while they are hidden, and goes once scrolled to them."""
    from io import BytesIO

    from PIL import Image, ImageStat

    def right_edge(wrap) -> float:  # the mean brightness of the rightmost 4 px of the box
        shot = Image.open(BytesIO(wrap.screenshot())).convert("L")
        return ImageStat.Stat(shot.crop((shot.width - 4, 0, shot.width, shot.height))).mean[0]

    phone.goto(live_server + "/lang/en?next=/stats")
    wrap = phone.locator("#by-unit .table-wrap")
    wrap.scroll_into_view_if_needed()
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than the phone in English
    hidden = right_edge(wrap)
    wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    shown = right_edge(wrap)
    assert hidden < shown - 8 and shown > 250, (hidden, shown)


@pytest.fixture
def two_units(db, file_case):
    """Five complaints about 中国复合材料工业协会 (工业和信息化部, forced membership) and five about
    四川省食品工业协会 (四川省经济和信息化厅, illegal fees): both units and both categories drawn."""
    with db.session_scope(write=False) as s:
        sichuan = s.scalar(select(Association.credit_code).where(Association.name == "四川省食品工业协会"))
    for _ in range(5):
        file_case()
        file_case(association=sichuan, category="illegal_fees")
    refresh(db, lambda: datetime.now(timezone.utc))


# every text of every chart, whether it lies inside its SVG's box, and each row's name as drawn
CHART_TEXTS = """() => Array.from(document.querySelectorAll("svg.chart-svg")).flatMap(svg => {
  const box = svg.getBoundingClientRect();  // no viewBox: the SVG's units are CSS px
  return Array.from(svg.querySelectorAll("text")).map(t => {
    const b = t.getBBox(), g = t.closest("g[data-label]");
    const name = g && g.querySelector(":scope > text") === t;
    return {chart: svg.closest("figure").id, text: t.textContent,
            lines: name ? Array.from(t.querySelectorAll("tspan"), s => s.textContent) : null,
            title: name ? g.querySelector(":scope > title")?.textContent : null,
            at: [b.x, b.y, b.x + b.width, b.y + b.height].map(v => Math.round(v * 10) / 10), box: [box.width, box.height],
            // a pixel's grace: a line starting with "T" begins at x = -1 in DejaVu Sans (the glyph's own bearing)
            inside: b.x >= -1 && b.y >= 0 && b.x + b.width <= box.width && b.y + b.height <= box.height};
  });
})"""


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_long_english_names_wrap_inside_the_charts_at_390_px(browser, live_server, two_units, js):
    """"Ministry of Industry and Infor…", "Sichuan Provincial Department…", "Illegal fees / arbitrary
    charg…": the charts cut the names where a second line had room for the rest."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="en-GB", java_script_enabled=js)
    try:
        page = ctx.new_page()
        page.goto(live_server + "/lang/en?next=/stats")
        page.wait_for_selector("#by-unit svg")
        texts = page.evaluate(CHART_TEXTS)
        assert [t for t in texts if not t["inside"]] == []  # no text reaches beyond its chart's box
        assert [t["text"] for t in texts if "…" in t["text"]] == []  # no name cut short
        names = {t["title"]: t["lines"] for t in texts if t["title"]}
        # two lines each, the whole name between them; the row's <title> has it too
        for name in ("Ministry of Industry and Information Technology", "Illegal fees / arbitrary charges on businesses"):
            assert len(names[name]) == 2 and " ".join(names[name]) == name, names
        sichuan = "Sichuan Provincial Department of Economy and Information Technology"
        assert " ".join(names[sichuan]) == sichuan and len(names[sichuan]) <= 3
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page does not scroll sideways
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, f"stats_en_390_{'js' if js else 'nojs'}.png"), full_page=True)
    finally:
        ctx.close()
