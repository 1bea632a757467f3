"""The public statistics' charts are SVG drawn on the server (issue 16, defect 11): no chart
library and no script on the page, each chart named (title, desc) and holding the table's
figures, a figure too small to publish a gap, never a zero bar."""
import re

from web.public.charts import Series, _pct, columns, rows
from tests.web.test_public_stats import MIIT, SICHUAN_UNIT, act, counted, en, page  # noqa: F401 (fixtures)


def figure(html, figure_id):
    return re.search(rf'<figure[^>]*id="{figure_id}".*?</figure>', html, re.S).group(0)


def test_the_overview_draws_its_charts_without_a_script(en, counted):
    html = page(en, "/stats")
    assert "<script" not in html and "chart.umd" not in html and "charts.js" not in html
    assert len(html.encode()) < 100 * 1024
    trend = figure(html, "trend")
    svg = re.search(r'<svg [^>]*role="img" aria-labelledby="(\S+) (\S+)"', trend)
    assert svg and f'<title id="{svg.group(1)}">Monthly trend</title>' in trend
    assert re.search(rf'<desc id="{svg.group(2)}">Cases received and finished in each month from \d{{4}}-\d\d to '
                     rf'\d{{4}}-\d\d, and the on-time rate on a scale of 0 to 100%\. The figures are in the table below\.</desc>',
                     trend)
    # the last month: 8 received (first series); 3 finished is under 5, not published: no bar
    last = re.findall(r'<g data-label="[^"]+">(.*?)</g>', trend, re.S)[-1]
    assert 'data-series="0" data-value="8"' in last and '<rect data-series="1" data-value' not in last
    # a dashed outline the chart's height named "withheld" instead (a pale stub at its foot read as
    # zero): a month of few is not a month of none
    gap = re.search(r'<rect data-series="1" class="gap"([^>]*)><title>withheld</title></rect>', last)
    assert gap and 'fill="none"' in gap.group(1) and 'stroke-dasharray="3 3"' in gap.group(1)
    assert " style=" not in trend  # the Content Security Policy allows no style attribute

    # 6 and 2 of 8: both units withheld (the 6 would give back the 2): no bar to draw, so no chart
    # (it drew two names and two "withheld" around nothing), a sentence and the table instead
    units = figure(html, "by-unit")
    assert "<svg" not in units and "No chart: every figure here is 0 or withheld" in units
    assert all(name in units for name in (MIIT, SICHUAN_UNIT))


def test_the_chinese_chart_is_named_in_chinese(client, counted):
    html = page(client, "/stats")
    assert "<title" in figure(html, "trend") and ">月度趋势</title>" in figure(html, "trend")
    assert "具体数字见下方表格" in figure(html, "trend")
    assert "不显示图表" in figure(html, "by-unit") and "<svg" not in figure(html, "by-unit")


def test_a_gap_is_not_a_zero():
    svg = columns("t", "d", ["2026-01", "2026-02", "2026-03"],
                  [Series("a", [4, None, 0], "#000"), Series("r", [0.5, None, 1.0], "#111", share=True)])
    assert svg.count("<rect") == 2 and 'data-value="0"' in svg  # 4 and 0, nothing for the gap
    assert svg.count("<line") == 2  # the two axes: no rate segment crosses the gap
    assert svg.count("<circle") == 2
    bars = rows("t", "d", ["甲", "乙"], [None, 3], ["少于5", "3"], "#000")
    assert bars.count("<rect") == 1 and ">少于5</text>" in bars


def test_a_few_months_are_each_named_under_their_own_columns():
    """Three months: each label is centred under its group (the last one was drawn at the right
    edge, under the middle month's columns on a phone); twelve: every fourth, the last at the edge."""
    months = ["2026-10", "2026-11", "2026-12"]
    svg = columns("t", "d", months, [Series("a", [None, 6, None], "#000")], gap="<5")
    for i, m in enumerate(months):
        assert re.search(rf'<text x="{_pct((i + 0.5) * 100 / 3)}" [^>]*text-anchor="middle"[^>]*>{m}</text>', svg), m
    assert svg.count(">&lt;5</text>") == 2 and svg.count("<rect") == 1
    year = [f"2026-{m:02d}" for m in range(1, 13)]
    svg = columns("t", "d", year, [Series("a", [None] + [1] * 11, "#000")], gap="<5")
    # twelve columns are too narrow for words: the gap is a dashed outline named by its title
    assert svg.count('class="gap"') == 1 and "<title>&lt;5</title></rect>" in svg and ">&lt;5</text>" not in svg
    assert re.findall(r'>(2026-\d\d)</text>', svg) == ["2026-12", "2026-08", "2026-04"]
    assert '<text x="100%" y="214" text-anchor="end" fill="#1d2733">2026-12</text>' in svg


def label_lines(svg: str, name: str) -> list[str]:
    """The lines a row's label is drawn in: its tspans, or the text itself where it has one line."""
    g = re.search(rf'<g data-label="{re.escape(name)}"><title>(.*?)</title><text [^>]*>(.*?)</text>', svg)
    assert g and g.group(1) == name  # the row's <title>: the name in full (a tooltip over its bar)
    return re.findall(r"<tspan [^>]*>(.*?)</tspan>", g.group(2)) or [g.group(2)]


def test_long_names_wrap_instead_of_being_cut():
    """"Sichuan Provincial Department…" and "Ministry of Industry and Infor…" said half a name
    where the chart had room for the rest on a second line."""
    miit, fees = MIIT, "Illegal fees / arbitrary charges on businesses"
    svg = rows("t", "d", [miit, fees, "乙"], [15, 6, None], ["15", "6", "withheld"], "#000")
    assert label_lines(svg, miit) == ["Ministry of Industry and", "Information Technology"]
    assert label_lines(svg, fees) == ["Illegal fees / arbitrary", "charges on businesses"]
    assert label_lines(svg, "乙") == ["乙"] and "…" not in svg
    # each line 20 px below the one before; the bar below the last line, the rows taller to hold them
    assert re.search(r'<tspan x="0" y="16">Ministry of Industry and</tspan><tspan x="0" y="36">Information '
                     r'Technology</tspan></text><rect data-value="15" x="0" y="44"', svg)
    # 2 + 2 + 1 lines of 20 px, three bars of 24 px, 4 px below
    assert '<svg class="chart-svg chart-rows" width="100%" height="176"' in svg
    three = label_lines(rows("t", "d", [SICHUAN_UNIT], [6], ["6"], "#000"), SICHUAN_UNIT)
    assert three == ["Sichuan Provincial Department", "of Economy and Information", "Technology"]


def test_chinese_names_wrap_between_characters():
    short = "四川省经济和信息化厅"
    assert label_lines(rows("t", "d", [short], [6], ["6"], "#000"), short) == [short]
    name = "中国汽车工业协会调解中心（示例）与四川省经济和信息化厅联合调解委员会"
    lines = label_lines(rows("t", "d", [name], [6], ["6"], "#000"), name)
    assert lines == ["中国汽车工业协会调解中心（示例）与", "四川省经济和信息化厅联合调解委员会"]
    # a closing bracket does not start a line: it takes the character it closes with it
    name = "中国汽车工业协会调解中心（四川中心）"
    assert label_lines(rows("t", "d", [name], [6], ["6"], "#000"), name) == ["中国汽车工业协会调解中心（四川中", "心）"]


def test_a_name_longer_than_three_lines_ends_in_an_ellipsis_with_its_title_whole():
    """A word longer than a line is broken where the line ends; after the third line, "…"."""
    name = ("Donaudampfschifffahrtsgesellschaftskapitänswitwe of the Provincial Department of Economy "
            "and Information Technology")
    assert label_lines(rows("t", "d", [name], [6], ["6"], "#000"), name) == [
        "Donaudampfschifffahrtsgesellsc", "haftskapitänswitwe of the", "Provincial Department of…"]


def test_a_trend_with_no_month_published_is_a_sentence_not_empty_axes(app):
    """An association's page with every month withheld drew axes, "1" and "100%" around nothing."""
    from types import SimpleNamespace

    from web.public.charts import trend_chart

    withheld = SimpleNamespace(suppressed=True, value=None)
    month = SimpleNamespace(counts={"received": withheld, "concluded": withheld},
                            rates={"on_time_rate": SimpleNamespace(value=None)})
    with app.test_request_context("/stats", headers={"Cookie": "lang=en"}):
        out = trend_chart("Monthly trend", [("2026-10", month), ("2026-11", month)])
    assert "<svg" not in out and 'class="hint chart-none"' in out and "No chart: every figure here is 0 or withheld" in out
