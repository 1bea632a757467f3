"""What a visitor sees where the figures are below the publication threshold: one plain sentence
saying why (N from CHANGTONG_PUBLIC_MIN_COUNT), in Chinese and in English; no chart drawn around
nothing; the open data saying the same; and the page still small and without a script."""
import re

from tests.web.test_public_stats import act, counted, en, page, threshold  # noqa: F401 (fixtures)

NOTICE_EN = "Figures under {n} (other than 0) are withheld so that nobody can be identified."
NOTICE_ZH = "小于{n}的数字（0除外）不公开，以免有人被认出。"
NO_CHART_EN = "No chart: every figure here is 0 or withheld (see the table)."


def figure(html: str, ident: str) -> str:
    return re.search(rf'<figure[^>]*id="{ident}".*?</figure>', html, re.S).group(0)


def test_below_the_threshold_the_page_says_why_once_and_draws_no_empty_chart(client, en, counted, threshold):
    threshold(10)  # the 8 cases and every group of them are below it
    for url in ("/stats", f"/stats/associations/{counted['sichuan']}", f"/stats/units/{counted['miit']}",
                "/open-data"):
        html = page(client, url)
        assert html.count(NOTICE_EN.format(n=10)) == 1, url
        assert 'id="withheld-note"' in html and "<details>" in html  # the whole rule, folded, no script
        assert "<script" not in html and len(html.encode()) < 100_000, url
    html = page(client, f"/stats/associations/{counted['sichuan']}")
    assert "withheld" in figure(html, "trend")  # the table still says it, month by month
    assert "<svg" not in figure(html, "trend") and NO_CHART_EN in figure(html, "trend")
    html = page(client, "/stats")
    for ident in ("trend", "by-unit", "by-category"):
        assert "<svg" not in figure(html, ident) and NO_CHART_EN in figure(html, ident), ident
    # a rate not shown points to the sentence instead of repeating the rule under every rate
    assert "Not shown (see the note on withheld figures)" in html


def test_in_chinese_too_and_n_is_the_setting(client, counted, threshold):
    threshold(7)
    html = page(client, f"/stats/associations/{counted['sichuan']}")
    assert html.count(NOTICE_ZH.format(n=7)) == 1 and "这样的数字显示为“不公开”。" in html
    assert "不显示图表" in figure(html, "trend")


def test_a_chart_with_something_to_show_is_drawn_with_what_may_be_shown(client, en, counted, threshold):
    threshold(5)
    html = page(client, "/stats")
    assert "<svg" in figure(html, "trend")  # this month's 8 received
    assert "<svg" not in figure(html, "by-unit")  # both units withheld: no bar to draw


def test_the_open_data_says_the_same_as_the_page(client, en, counted, threshold):
    threshold(10)
    for name in ("monthly", "associations", "units"):
        doc = client.get(f"/open-data/{name}.json").get_json()
        assert doc["suppression"]["threshold"] == 10
        assert doc["suppression"]["notice"] == {"zh": NOTICE_ZH.format(n=10), "en": NOTICE_EN.format(n=10)}
    # the units file counts a unit's own work, as the unit pages do (not whoever holds the case now)
    units = client.get("/open-data/units.json").get_json()
    assert "holding" not in units["title"]["en"] and "first" in units["title"]["en"]
    # every kind of unit a row can have is in the data dictionary
    from casework.registry.models import UnitKind
    kinds = next(f for f in units["fields"] if f["name"] == "unit_kind")
    assert all(k.value in kinds["zh"] and k.value in kinds["en"] for k in UnitKind)
