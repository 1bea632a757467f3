"""The supervisor's dashboard in real Chromium: the charts are drawn (Chart.js served by the
site, under the strict CSP) from the tables beside them, the figures are the hand-counted
ones, and an export downloads. Screenshots go to tests/artifacts/."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.stats.risk import grade_all
from casework.stats.rollup import refresh
from tests.browser.conftest import shot, sign_in

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def utcnow():
    return datetime.now(timezone.utc)


def test_dashboard_charts_are_drawn_from_their_tables(live_server, pages, request, db, services, make_staff,
                                                      hand_counted):
    refresh(db, utcnow)
    grade_all(db, services.settings, utcnow)
    actor = make_staff("mca", Role.supervisor)
    with db.session_scope(write=False) as s:
        username = s.scalar(select(User.username).where(User.id == actor.user_id))
    page = pages("dashboard")
    sign_in(page, live_server, username, then="/supervise")
    assert page.locator("#tile-received .n").inner_text() == "5"
    assert page.locator("#tile-on-time .n").inner_text() == "100.0%"
    # every chart figure got its canvas, and Chart.js painted it (a blank canvas has no pixels set)
    for key in ("monthly", "units", "categories", "associations"):
        figure = page.locator(f"#table-{key}")
        figure.locator("canvas").wait_for()
        painted = figure.locator("canvas").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " for (let i = 3; i < d.length; i += 4) { if (d[i]) return true; } return false; }")
        assert painted, key
        assert figure.locator("table tbody tr").count() >= 1  # the table stays beside its chart
    # the chart's data are the table's: Chart.js holds what the monthly table says
    received = page.evaluate(
        "() => Chart.getChart(document.querySelector('#table-monthly canvas')).data.datasets[0].data")
    assert received[-1] == 5 and sum(received) == 5
    # every bar of a horizontal chart has its label (none skipped), counts have no fractions
    for key in ("units", "categories", "associations"):
        shown = page.evaluate(f"""() => {{ const c = Chart.getChart(document.querySelector('#table-{key} canvas'));
            return [c.scales.y.ticks.length, c.data.labels.length,
                    c.scales.x.ticks.map(t => t.value).every(v => Number.isInteger(v))]; }}""")
        assert shown[0] == shown[1] and shown[2], (key, shown)
    with page.expect_download() as download:
        page.locator("#table-categories .exports a", has_text="Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    shot(page, request, "dashboard_full")
    page.goto(live_server + "/supervise/risk?authority=")
    assert page.locator("#risk-method").count() == 1
    page.goto(live_server + "/supervise/overdue")
    assert page.locator("#overdue-list tbody tr.overdue").count() == 1
    # on a phone the overdue list is a card per case: its deadline, days over and level in view
    phone = pages("overdue_phone", phone=True)
    sign_in(phone, live_server, username, then="/supervise/overdue")
    card = phone.locator("#overdue-list tbody tr.overdue").first
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for cell in ("td.due", "td.days", "td.level"):
        box = card.locator(cell).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (cell, box)
    assert card.locator("td.level").evaluate("td => getComputedStyle(td, '::before').content") == '"级别："'
    assert "级别 1：期限届满时已通知督办单位" in phone.locator("#level-legend").inner_text()
    shot(phone, request, "overdue_card")
