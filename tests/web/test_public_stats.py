"""Public statistics and open data against a hand-counted set of cases: the right numbers,
small groups withheld (the threshold is a setting), and whatever would give a withheld count back
from a total withheld with it, CSV and JSON agreeing with the pages, and nothing personal anywhere."""
import csv
import io
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.registry.models import Association, Unit
from casework.stats.open_data import DATASETS
from casework.stats.rollup import month_of, refresh
from casework.workflow.machine import perform
from tests.conftest import BASIS

COMPOSITES = "51100000500009247D"  # 中国复合材料工业协会: complaints go to 工业和信息化部
PEOPLE = [("欧阳娜娜", "13912345678"), ("司马光明", "13987654321")]
TITLE = "协会强迫我公司入会并收取高额会费"
TEXT = "协会要求我公司必须入会并缴纳会费三万元，否则不出具行业证明，请依法处理。"
REPLY = "经核查，协会已停止强制入会做法并退还会费。"
PAGES = ["/stats", "/open-data"]
MIIT = "Ministry of Industry and Information Technology"
SICHUAN_UNIT = "Sichuan Provincial Department of Economy and Information Technology"
FORCED = "Forced membership / forced levies"
FEES = "Illegal fees / arbitrary charges on businesses"
FILES = [f"/open-data/{name}.{fmt}" for name in DATASETS for fmt in ("csv", "json")]


def utcnow():
    return datetime.now(timezone.utc)


@pytest.fixture
def act(db, services, make_staff):
    handlers = {}

    def do(case_id, move, **fields):
        if move == "rate":
            actor = Actor.complainant(case_id)
        else:
            with db.session_scope(write=False) as s:
                code = s.get(Unit, s.get(Case, case_id).unit_id).code
            actor = handlers.setdefault(code, make_staff(code, Role.handler))
        with db.session_scope() as s:
            perform(s, services, actor, s.get(Case, case_id), move, **fields)

    return do


@pytest.fixture
def counted(db, file_case, act):
    """Six complaints about 中国复合材料工业协会 (at 工业和信息化部, forced membership) and two
    about 四川省食品工业协会 (at 四川省经济和信息化厅, illegal fees), counted by hand:

    composites: a, b accepted, replied, rated satisfied (closed on time); c accepted and replied;
    d not accepted; e accepted; f waiting. → received 6, accepted 4, not accepted 1 (acceptance
    4 of 5 = 80%), finished 3, rated 2.
    sichuan: two waiting. All: received 8, accepted 4, not accepted 1, finished 3.
    """
    with db.session_scope(write=False) as s:
        sichuan = s.scalar(select(Association.credit_code).where(Association.name == "四川省食品工业协会"))
    ids, numbers = [], []
    for i in range(6):
        name, phone = PEOPLE[i % 2]
        r = file_case(title=TITLE, description=TEXT, complainant={"name": name, "phone": phone})
        ids.append(r.case_id)
        numbers.append(r.case_number)
    for i in range(2):
        r = file_case(association=sichuan, category="illegal_fees", title=TITLE, description=TEXT,
                      complainant={"name": PEOPLE[i][0], "phone": PEOPLE[i][1]})
        numbers.append(r.case_number)
    a, b, c, d, e, _f = ids
    for x in (a, b, c, e):
        act(x, "accept")
    for x in (a, b, c):
        act(x, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY)
    for x in (a, b):
        act(x, "rate", rating="satisfied")
    act(d, "not_accept", reason="no_clear_request", public_text="投诉事项不明确，请补充具体事实后重新提交。")
    refresh(db, utcnow)
    with db.session_scope(write=False) as s:
        ids = {
            "composites": s.scalar(select(Association.id).where(Association.credit_code == COMPOSITES)),
            "sichuan": s.scalar(select(Association.id).where(Association.credit_code == sichuan)),
            "miit": s.scalar(select(Unit.id).where(Unit.code == "miit")),
            "sc": s.scalar(select(Unit.id).where(Unit.code == "sc-economy-it")),
        }
    return {**ids, "numbers": numbers}


@pytest.fixture
def threshold(app, services, monkeypatch):
    """threshold(n): pages and files from now on suppress below n (Settings.public_min_count)."""

    def set_to(n):
        changed = replace(services, settings=replace(services.settings, public_min_count=n))
        monkeypatch.setitem(app.extensions, "changtong.services", changed)

    return set_to


def text_of(html: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dd|tr|strong)>', html, re.S)
    assert m, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))).strip()


def row(html: str, figure_id: str, label: str) -> list[str]:
    """The cells of the row whose header reads ``label`` in the table of a figure."""
    figure = re.search(rf'<figure[^>]*id="{figure_id}".*?</figure>', html, re.S).group(0)
    for tr in re.findall(r"<tr>(.*?)</tr>", figure, re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label} in {figure_id}")


@pytest.fixture
def en(client):
    """The pages in English (the catalogue's Chinese is checked in test_chinese_by_default)."""
    client.set_cookie("lang", "en")
    return client


def page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


def test_the_overview_shows_the_hand_count(client, en, counted):
    html = page(client, "/stats")
    assert text_of(html, "total-received") == "8"
    assert text_of(html, "total-accepted") == "withheld"  # 4
    # the count the acceptance rate would give back stands on the page, withheld, so its note reads true
    assert text_of(html, "total-not-accepted") == "withheld"  # 1
    assert text_of(html, "total-concluded") == "withheld"  # 3
    # 4 of 5 decisions: the rate would give back the one not accepted (withheld), so it is not shown
    assert text_of(html, "acceptance-rate") == "—"
    assert "of 5 decisions on acceptance" not in html  # nor its base
    assert "or made of a withheld count" in html
    assert text_of(html, "on-time-rate") == "—"  # 3 finished: too few to base a rate on
    assert "Beijing time" in text_of(html, "figures-as-of")
    # this month: all eight; the earlier months are zeros, shown as 0
    month = month_of(utcnow())
    assert row(html, "trend", month)[:1] == ["8"]
    earlier = [m for m in re.findall(r'<th scope="row">(\d{4}-\d{2})</th>', html) if m != month]
    assert len(earlier) == 11 and all(row(html, "trend", m)[0] == "0" for m in earlier)
    # units and categories: the small group (2 at Sichuan, 2 of illegal fees) is withheld whole, and
    # so is the other one: 6 at MIIT beside the 8 in all would give back the 2
    for figure, big, small in (("by-unit", MIIT, SICHUAN_UNIT), ("by-category", FORCED, FEES)):
        assert row(html, figure, big) == ["withheld", "withheld", "—", "—"]
        assert row(html, figure, small) == ["withheld", "withheld", "—", "—"]
    assert re.search(r'data-value="">\s*<span class="suppressed">withheld', html)
    # no cell tells a small count from one withheld beside it
    assert not re.search(r'class="suppressed">(?!withheld<)', html) and "&lt;5" not in html
    # the association list links to each association's page
    for key in ("composites", "sichuan"):
        assert f'/stats/associations/{counted[key]}' in html
    assert f'/stats/units/{counted["miit"]}' in html


def test_association_and_unit_pages(client, en, counted):
    # an association's page shows what the overview and the open data show of it: its 6 would give
    # back the other association's 2 from the 8 in all, so both are withheld
    html = page(client, f"/stats/associations/{counted['composites']}")
    assert "中国复合材料工业协会" in html and COMPOSITES in html
    assert text_of(html, "total-received") == "withheld" and text_of(html, "acceptance-rate") == "—"
    month = month_of(utcnow())
    assert row(html, "trend", month)[0] == "withheld"  # its one month would be its total
    html = page(client, f"/stats/associations/{counted['sichuan']}")
    assert text_of(html, "total-received") == "withheld" and text_of(html, "total-concluded") == "withheld"
    assert text_of(html, "acceptance-rate") == "—"

    html = page(client, f"/stats/units/{counted['miit']}")
    assert text_of(html, "total-received") == "withheld"
    assert row(html, "by-category", FORCED)[0] == "withheld"  # its only category would be its total
    html = page(client, f"/stats/units/{counted['sc']}")
    assert row(html, "by-category", FEES) == ["withheld", "withheld", "—", "—"]
    assert 'id="mediation"' not in html  # no mediation at an industry department


def test_the_threshold_is_a_setting(client, en, counted, threshold):
    threshold(2)
    html = page(client, "/stats")
    assert text_of(html, "total-accepted") == "4" and text_of(html, "total-concluded") == "3"
    assert row(html, "by-unit", "Sichuan Provincial Department of Economy and Information Technology")[0] == "2"
    assert text_of(html, "on-time-rate") == "100.0%"  # 3 of 3 finished on time
    threshold(10)
    html = page(client, "/stats")
    assert text_of(html, "total-received") == "withheld"
    assert all(text_of(html, r) == "—" for r in ("acceptance-rate", "on-time-rate", "satisfaction-rate"))
    assert "based on fewer than 10 cases" in html
    assert text_of(page(client, f"/stats/associations/{counted['composites']}"), "total-received") == "withheld"


def test_open_data_agree_with_the_pages(client, en, counted):
    resp = client.get("/open-data/associations.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf") and "attachment" in resp.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(resp.data.decode("utf-8-sig"))))
    by_code = {r["credit_code"]: r for r in table}
    assert len(table) == 2
    composites = by_code[COMPOSITES]
    # 6 and 2 of 8: the 6 would give back the 2, so the row is withheld whole, zeros included
    assert (composites["received"], composites["accepted"], composites["acceptance_rate"]) == ("", "", "")
    assert composites["suppressed"].split() == ["received", "accepted", "not_accepted", "concluded", "on_time",
                                                "rated", "satisfied", "mediation_ended", "mediation_agreed",
                                                "acceptance_rate", "on_time_rate", "satisfaction_rate"]
    sichuan = next(r for c, r in by_code.items() if c != COMPOSITES)
    assert sichuan["received"] == "" and "received" in sichuan["suppressed"].split()

    doc = client.get("/open-data/associations.json").get_json()
    assert doc["schema_version"] == 1 and doc["dataset"] == "associations"
    assert [f["name"] for f in doc["fields"]] == list(DATASETS["associations"].columns)
    rows = {r["credit_code"]: r for r in doc["rows"]}
    assert rows[COMPOSITES]["received"] is None and rows[COMPOSITES]["accepted"] is None
    assert rows[COMPOSITES]["acceptance_rate"] is None and rows[COMPOSITES]["not_accepted"] is None
    assert rows[COMPOSITES]["mediation_ended"] is None and rows[COMPOSITES]["mediation_success_rate"] is None
    assert "mediation_success_rate" not in rows[COMPOSITES]["suppressed"]  # no base: not applicable
    assert doc["period"]["end"] == month_of(utcnow()) and doc["figures_as_of"].endswith("+08:00")
    # JSON keeps the column order of the CSV
    raw = client.get("/open-data/associations.json").get_data(as_text=True)
    first = json.loads(raw)["rows"][0]
    assert list(first) == list(DATASETS["associations"].columns)

    units = {r["unit_code"]: r for r in client.get("/open-data/units.json").get_json()["rows"]}
    assert set(units) == {"miit", "sc-economy-it"} and units["miit"]["received"] is None
    assert units["sc-economy-it"]["received"] is None
    # a unit's page withholds what the file withholds, figure for figure
    for code, key in (("miit", "miit"), ("sc-economy-it", "sc")):
        unit_page = page(client, f"/stats/units/{counted[key]}")
        for measure, element in (("received", "total-received"), ("accepted", "total-accepted"),
                                 ("concluded", "total-concluded")):
            shown = text_of(unit_page, element)
            assert (shown == "withheld") == (units[code][measure] is None), (code, measure)

    monthly = client.get("/open-data/monthly.json").get_json()
    assert len(monthly["rows"]) == 12 * 4
    now = {r["case_type"]: r for r in monthly["rows"] if r["month"] == month_of(utcnow())}
    assert now["complaint"]["received"] == 8 and now["complaint"]["acceptance_rate"] is None  # 4 of 5
    assert now["report"]["received"] == 0 and now["report"]["suppressed"] == []
    monthly_csv = list(csv.DictReader(io.StringIO(client.get("/open-data/monthly.csv").data.decode("utf-8-sig"))))
    assert [(r["month"], r["case_type"], r["received"]) for r in monthly_csv] == \
        [(r["month"], r["case_type"], "" if r["received"] is None else str(r["received"])) for r in monthly["rows"]]
    # the page says the same as the files
    html = page(client, "/stats")
    assert text_of(html, "total-received") == str(sum(r["received"] or 0 for r in monthly["rows"]))


def test_nothing_personal_on_any_page_or_file(client, counted):
    urls = PAGES + FILES + ["/stats?q=复合"] + [f"/stats/associations/{counted[k]}" for k in ("composites", "sichuan")] \
        + [f"/stats/units/{counted[k]}" for k in ("miit", "sc")]
    secrets = [p for person in PEOPLE for p in person] + ["139****5678", "139****4321"] + counted["numbers"] \
        + [TITLE, TEXT, REPLY]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        for secret in secrets:
            assert secret not in body, f"{secret} in {url}"


def test_association_search_and_paging(client, counted, monkeypatch):
    html = page(client, "/stats?q=复合")
    assert "中国复合材料工业协会" in html and "四川省食品工业协会" not in html
    assert "中国复合材料工业协会" in page(client, "/stats?q=zgfh")  # pinyin initials
    assert "/stats/associations/" not in page(client, "/stats?q=不存在的协会")
    assert page(client, "/stats?page=abc") and page(client, "/stats?page=99")
    monkeypatch.setattr("web.public.stats.PER_PAGE", 1)
    first, second = page(client, "/stats"), page(client, "/stats?page=2")
    names = ("中国复合材料工业协会</a>", "四川省食品工业协会</a>")
    assert [n in first for n in names] == [n not in second for n in names]  # one each (by name; collation decides)
    assert sum(n in first for n in names) == 1 and 'rel="next"' in first
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_unknown_ids_are_404(client, counted):
    assert client.get("/stats/associations/999999").status_code == 404
    assert client.get("/stats/units/999999").status_code == 404
    assert client.get("/stats/associations/0").status_code == 404
    assert client.get("/open-data/cases.csv").status_code == 404
    assert client.get("/open-data/monthly.xml").status_code == 404


def test_before_the_first_computation_the_pages_say_so(client, db, file_case):
    file_case()
    html = page(client, "/stats")
    assert 'id="never-computed"' in html and 'id="total-received"' not in html
    doc = client.get("/open-data/monthly.json").get_json()
    assert doc["rows"] == [] and doc["figures_as_of"] is None
    assert client.get("/open-data/units.csv").data.decode("utf-8-sig").strip() == ",".join(DATASETS["units"].columns)


def test_chinese_by_default(client, counted):
    html = page(client, "/stats")
    assert text_of(html, "total-accepted") == "不公开"
    assert "北京时间" in text_of(html, "figures-as-of")
    assert row(html, "by-unit", "四川省经济和信息化厅") == ["不公开", "不公开", "—", "—"]
    assert 'href="/stats"' in page(client, "/")  # every page links to the statistics


def test_the_open_data_page_lists_files_and_every_field(client, counted):
    html = page(client, "/open-data")
    for name in DATASETS:
        assert f"/open-data/{name}.csv" in html and f"/open-data/{name}.json" in html
        for field in DATASETS[name].columns:
            assert f'id="field-{field}"' in html


@pytest.mark.commits  # the thread reads with a connection of its own
def test_a_slow_platform_serves_the_figures_kept_while_the_new_ones_are_made(client, en, counted, db, file_case,
                                                                          monkeypatch):
    """Settling what may be published takes seconds at a million cases, and the worker refreshes
    the rollups every minute: a page is not made to wait for it. After a refresh that changed
    them, the figures kept are served with their own time until a thread has made the new ones;
    a refresh that changed nothing keeps them as they are, with the new time."""
    import time

    from casework.stats import published

    monkeypatch.setattr(published, "QUICK", 0.0)  # every build counts as slow here
    html = page(client, "/stats")
    before = text_of(html, "figures-as-of")
    assert text_of(html, "total-received") == "8"
    for _ in range(5):
        file_case(title=TITLE, description=TEXT)
    refresh(db, lambda: utcnow() + timedelta(hours=1))  # an hour on: its time is told apart on the page
    html = page(client, "/stats")
    assert text_of(html, "total-received") == "8" and text_of(html, "figures-as-of") == before  # the kept ones
    deadline = time.monotonic() + 20
    while text_of(html, "total-received") != "13" and time.monotonic() < deadline:
        time.sleep(0.05)
        html = page(client, "/stats")
    assert text_of(html, "total-received") == "13"
    after = text_of(html, "figures-as-of")
    assert after != before
    refresh(db, lambda: utcnow() + timedelta(hours=2))  # nothing changed: the same figures, the new time
    html = page(client, "/stats")
    assert text_of(html, "total-received") == "13" and text_of(html, "figures-as-of") not in (before, after)
