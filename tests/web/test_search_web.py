"""The desk's search page: what each role finds, highlighting, filters and paging."""
import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.registry.models import Unit
from casework.search.sync import reindex_all
from casework.search.whoosh_backend import WhooshBackend
from tests.web.test_admin_routing import login_as


@pytest.fixture
def backend(app, tmp_path, monkeypatch):
    b = WhooshBackend(tmp_path / "search")
    monkeypatch.setitem(app.config, "CHANGTONG_SEARCH_BACKEND", b)
    return b


@pytest.fixture
def world(db, services, backend, file_case):
    cases = {
        "ours": file_case(title="<i>协会</i>收取会费问题"),
        "theirs": file_case(category="finance_assets"),
        "triage": file_case(association="unknown", association_hint="某某商会"),
    }
    reindex_all(db, services, backend)
    return {k: v.case_number for k, v in cases.items()}


def page(client, **params):
    resp = client.get("/desk/search", query_string=params)
    return resp.status_code, resp.get_data(as_text=True)


def test_a_handler_finds_only_their_units_cases_highlighted(client, db, world, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    status, html = page(client, q="会费")
    assert status == 200
    assert world["ours"] in html and world["theirs"] not in html and world["triage"] not in html
    assert 'id="search-total">找到 1 件案件<' in html
    client.set_cookie("lang", "en")  # one case is one case in English ("1 cases found" before)
    assert 'id="search-total">1 case found<' in page(client, q="会费")[1]
    client.set_cookie("lang", "zh_CN")
    # the title is escaped case text with the match marked, linked to the case page
    assert "&lt;i&gt;协会&lt;/i&gt;收取<mark>会费</mark>问题" in html
    assert "<i>协会</i>" not in html
    assert f'href="/desk/cases/{world["ours"]}"' in html
    # asking for another unit through the filter finds nothing
    with db.session_scope(write=False) as s:
        mca = s.scalar(select(Unit.id).where(Unit.code == "mca"))
    status, html = page(client, q="会费", unit=mca)
    assert world["theirs"] not in html


def test_a_case_is_found_by_its_associations_english_name(client, db, world, make_staff):
    """An English-speaking desk searched "Composites" for 中国复合材料工业协会's cases and found none."""
    login_as(client, db, make_staff("miit", Role.handler))
    status, html = page(client, q="Composites")
    assert status == 200 and world["ours"] in html


def test_a_triage_operator_finds_the_cases_waiting_for_routing(client, db, world, make_staff):
    login_as(client, db, make_staff("triage", Role.triage_operator))
    status, html = page(client, q="会费")
    assert status == 200 and world["triage"] in html
    assert world["ours"] not in html and world["theirs"] not in html


def test_a_supervisor_searches_across_units_with_filters(client, db, world, make_staff):
    login_as(client, db, make_staff("mca", Role.supervisor))
    status, html = page(client, q="会费")
    assert status == 200 and all(n in html for n in world.values())
    status, html = page(client, q="会费", category="finance_assets")
    assert world["theirs"] in html and world["ours"] not in html
    status, html = page(client, q="会费", **{"from": "2000-01-01", "to": "2000-01-02"})
    assert not any(n in html for n in world.values())
    # filters alone (no words) list cases too; a bad date is ignored
    status, html = page(client, state="received", to="not-a-date")
    assert status == 200 and world["triage"] in html and world["ours"] not in html


def test_an_administrator_gets_403(client, db, world, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    assert page(client, q="会费")[0] == 403


def test_paging(client, db, services, backend, file_case, make_staff):
    numbers = {file_case().case_number for _ in range(22)}
    reindex_all(db, services, backend)
    login_as(client, db, make_staff("miit", Role.handler))
    _, first = page(client, q="会费")
    assert 'rel="next"' in first and 'rel="prev"' not in first
    _, second = page(client, q="会费", page=2)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    found = {n for n in numbers if f'id="hit-{n}"' in first or f'id="hit-{n}"' in second}
    assert found == numbers


def test_each_case_is_listed_once_after_many_index_runs_and_its_number_finds_it(client, db, services, world,
                                                                                backend, make_staff):
    """Issue 16: each worker run listed the re-indexed case once more (找到 18 件 for 3 cases)."""
    from casework.search.sync import EPOCH, reindex_changed

    login_as(client, db, make_staff("mca", Role.supervisor))
    for _ in range(4):
        reindex_changed(db, services, backend, EPOCH)
        _, html = page(client, q="会费")
        assert 'id="search-total">找到 3 件案件<' in html
        assert all(html.count(f'id="hit-{n}"') == 1 for n in world.values())
    # the desk finds a case by its number, typed as it is read out: a direct hit opens it
    number = world["theirs"]
    resp = client.get("/desk/search", query_string={"q": f"{number[:2].lower()} {number[2:]}"})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/cases/{number}"


def test_the_reindex_command_rebuilds_with_a_progress_bar(app, db, file_case, tmp_path):
    from web.cli.search import reindex_command

    for _ in range(3):
        file_case()
    target = tmp_path / "search"
    out = app.test_cli_runner().invoke(reindex_command, ["--index-dir", str(target)])
    assert out.exit_code == 0, out.output
    assert "Indexed 3 cases" in out.output
    assert WhooshBackend(target).count() == 3
    # again: a fresh directory swapped in, still 3 documents
    assert app.test_cli_runner().invoke(reindex_command, ["--index-dir", str(target)]).exit_code == 0
    assert WhooshBackend(target).count() == 3


# -- "phrases" and associations' short names, on both backends ---------------------------------

@pytest.fixture(params=["whoosh", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.commits])])
def either_backend(request, app, db, tmp_path, monkeypatch):
    """The desk's search over the Whoosh index, then over PostgreSQL's (a commits test: that
    backend writes through connections of its own)."""
    if request.param == "whoosh":
        b = WhooshBackend(tmp_path / "search")
    else:
        from casework.search.pg_backend import PostgresBackend
        from tests.conftest import needs_service

        if db.engine.dialect.name != "postgresql":
            needs_service("PostgreSQL (TEST_DATABASE_URL)")  # the suite's PostgreSQL pass runs it
        b = PostgresBackend(db, tmp_path / "search")
        b.clear()
    monkeypatch.setitem(app.config, "CHANGTONG_SEARCH_BACKEND", b)
    yield b
    if request.param == "postgres":
        b.clear()


def test_a_quoted_phrase_finds_the_cases_that_say_it(client, db, services, either_backend, file_case, make_staff):
    """A handler searched "技术评审费" (quoted) and found nothing, unquoted it found the case.
    Whoosh took the words' positions (character offsets) for word counts; and jieba reads the
    phrase alone as 技术 评审 费 but 技术评审费用 as 技术 评审 费用, so 费 is no word there."""
    said = file_case(description="协会向我公司收取技术评审费两万元，否则不予办理证明。")
    longer = file_case(description="协会以评审为名收取技术评审费用三千元，请依法处理。")
    apart = file_case(description="协会的技术人员参加评审后收取费用，请依法处理。")
    reindex_all(db, services, either_backend)
    login_as(client, db, make_staff("miit", Role.handler))
    status, html = page(client, q='"技术评审费"')
    assert status == 200
    assert said.case_number in html and longer.case_number in html
    assert apart.case_number not in html  # its words, not where the phrase has them
    assert 'id="search-total">找到 2 件案件<' in html
    assert "收取<mark>技术评审费</mark>两万元" in html  # the phrase is marked whole
    # in the other order it is another phrase; beside other words and under NOT it still is one
    _, html = page(client, q='"评审技术"')
    assert said.case_number not in html and longer.case_number not in html
    _, html = page(client, q='"技术评审费" 两万元')
    assert said.case_number in html and longer.case_number not in html
    _, html = page(client, q='评审 NOT "技术评审费"')
    assert apart.case_number in html and said.case_number not in html and longer.case_number not in html


def test_an_associations_short_name_finds_its_cases(client, db, services, either_backend, file_case, make_staff):
    """中钢协 found nothing in the desk search, although the queue's association filter takes it:
    a word naming one association alone also finds that association's cases (its name is in
    their text), as well as the cases that say the word."""
    from casework.registry.demo import sample_credit_code

    steel = file_case(association=sample_credit_code("51100000500099001"), title="协会摊派会刊费用",
                      description="协会要求我公司缴纳会费并订阅会刊，否则不予办理证明。")
    other = file_case()  # 中国复合材料工业协会's, the same unit
    reindex_all(db, services, either_backend)
    login_as(client, db, make_staff("miit", Role.handler))
    status, html = page(client, q="中钢协")
    assert status == 200 and steel.case_number in html and other.case_number not in html
    assert "<mark>中国钢铁工业协会</mark>" in html
    _, html = page(client, q="中钢协 会刊")  # still one word among others
    assert steel.case_number in html
    _, html = page(client, q="会费 NOT 中钢协")
    assert other.case_number in html and steel.case_number not in html
