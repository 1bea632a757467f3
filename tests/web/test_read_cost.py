"""What a read costs (issue 18, "Reads"): the statements the filing form, the case API and the
association lookup send, counted around one test-client GET each; and the per-process shortcuts
behind them (gettext bound once per render) give the pages they gave before, in zh_CN and en."""
from __future__ import annotations

import contextlib
import re

import pytest

from tests.web.test_submission_cost import counted
from tests.conftest import BASIS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _tokens_out(html: str) -> str:
    """The page with its per-session values (CSRF token, form token) blanked."""
    return TOKEN.sub('name="form_token" value="…"', CSRF.sub('name="csrf_token" value="…"', html))


@contextlib.contextmanager
def flask_babel_gettext(app):
    """Templates rendered with flask_babel's own gettext callables (no per-render binding)."""
    from web.i18n import template_gettext

    processors = app.template_context_processors[None]
    at = processors.index(template_gettext)
    processors.remove(template_gettext)
    try:
        yield
    finally:
        processors.insert(at, template_gettext)


PAGES = ["/", "/privacy", "/track", "/stats", "/file/complaint", "/file/report", "/file/mediation",
         "/file/suggestion"]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_bound_gettext_gives_the_pages_flask_babel_gave(app, client, lang):
    client.set_cookie("lang", lang)
    for path in PAGES:
        _pages(app).clear()  # the filing forms rendered each time, not the kept page
        bound = client.get(path)
        with flask_babel_gettext(app):
            _pages(app).clear()
            plain = client.get(path)
        assert bound.status_code == plain.status_code == 200, path
        assert _tokens_out(bound.get_data(as_text=True)) == _tokens_out(plain.get_data(as_text=True)), path
    page = client.get("/file/complaint").get_data(as_text=True)
    assert ("File a complaint" in page) == (lang == "en") and ("我要投诉" in page) == (lang == "zh_CN")


# -- the case API's GET ----------------------------------------------------------------------------

# The statements of GET /api/v1/cases/<n> with the right X-Query-Code (transaction control left
# out), the first time it is asked (then only the first: tests/web/test_case_answers.py). The rate
# limit's exemption and the view ask the same lookup; the second ask uses the row the first read
# (casework.cases.queries.lookup_row):
#   1. SELECT id, query_code_hash of the number, whether the case has any file, its stamps
#   2. SELECT the case, its category, association, unit and events (joined)
#   3. SELECT its files (which are its events' files too), only if it has any
API_CASE_STATEMENTS = 3


@pytest.mark.parametrize("with_file", [False, True])
def test_the_case_api_read_stays_within_its_statement_budget(client, db, submission_data, with_file, one_answer):
    import base64

    filed = client.post("/api/v1/cases", json=submission_data()).get_json()
    number, code = filed["case_number"], filed["query_code"]
    if with_file:
        evidence = {"public_text": "A second notice came.",
                    "files": [{"name": "notice.png", "content_base64": base64.b64encode(_png()).decode()}]}
        assert client.post(f"/api/v1/cases/{number}/add_evidence", json=evidence,
                           headers={"X-Query-Code": code}).status_code == 200
    with counted(db) as seen:
        resp = client.get(f"/api/v1/cases/{number}", headers={"X-Query-Code": code})
    assert resp.status_code == 200 and resp.get_json()["case_number"] == number
    assert [f["filename"] for f in resp.get_json()["attachments"]] == (["notice.png"] if with_file else [])
    budget = API_CASE_STATEMENTS if with_file else API_CASE_STATEMENTS - 1
    assert len(seen["statements"]) <= budget, "\n".join(seen["statements"])


def _png(color=(200, 0, 0)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6, 6), color).save(out, format="PNG")
    return out.getvalue()


def test_the_case_api_shows_what_a_plain_load_shows(app, client, db, services, file_case, make_staff, monkeypatch):
    """A case with the complainant's evidence and a reply's documents: the API's answer is the one
    made from a case whose events, files and each event's files load lazily."""
    import base64

    from casework.accounts.models import Role
    from casework.cases import queries
    from casework.cases.models import Case
    from casework.intake.files import Upload
    from casework.workflow.machine import perform
    from web.api.answers import Answers

    png = _png
    receipt = file_case()
    headers = {"X-Query-Code": receipt.query_code, "Accept-Language": "en"}
    path = f"/api/v1/cases/{receipt.case_number}"
    evidence = {"public_text": "A second notice came.",
                "files": [{"name": "notice.png", "content_base64": base64.b64encode(png((200, 0, 0))).decode()}]}
    assert client.post(f"{path}/add_evidence", json=evidence, headers=headers).status_code == 200
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "accept")
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "reply", opinion="supported", legal_basis=BASIS, public_text="The fees were refunded.",
                finding="substantiated", files=[Upload("decision.png", png((0, 90, 0)))])
    shown = client.get(path, headers=headers).get_json()
    monkeypatch.setattr(queries, "_load_shown", lambda session, case_id, **_: session.get(Case, case_id))
    monkeypatch.setitem(app.extensions, "changtong.answers", Answers())  # made again, not the kept answer
    assert client.get(path, headers=headers).get_json() == shown
    files = {e["kind"]: e["files"] for e in shown["timeline"] if e["files"]}
    assert [f["filename"] for f in files["evidence_added"]] == ["notice.png"]
    assert [f["filename"] for f in files["replied"]] == ["decision.png"] and files["replied"][0]["id"]


def test_a_lookup_asked_again_sees_a_new_code_and_answers_alike(db, settings, file_case):
    """The row kept between two asks in one session goes with a change made through the session
    (a new code), and the second ask of a wrong code or an unknown number is None again."""
    from sqlalchemy import update

    from casework.cases.models import Case
    from casework.cases.queries import case_for_lookup
    from casework.privacy.codes import hash_code

    receipt = file_case()
    number, code, pepper = receipt.case_number, receipt.query_code, settings.query_pepper
    with db.session_scope() as s:
        case = case_for_lookup(s, pepper, number, code)
        assert case is not None and case_for_lookup(s, pepper, number, code) is case
        assert case_for_lookup(s, pepper, number, "AAAA-BBBB-CCCC-DDDD") is None
        assert case_for_lookup(s, pepper, "TS20990101000001", code) is None
        assert case_for_lookup(s, pepper, "TS20990101000001", code) is None
        s.execute(update(Case).where(Case.id == case.id)
                  .values(query_code_hash=hash_code(pepper, number, "WXYZ-WXYZ-WXYZ-WXYZ")))
        assert case_for_lookup(s, pepper, number, code) is None
        assert case_for_lookup(s, pepper, number, "WXYZ-WXYZ-WXYZ-WXYZ") is case
        s.rollback()
        assert case_for_lookup(s, pepper, number, code) is not None


# -- the filing form: rendered once per process, language and categories' version -------------------

# The statements of a plain GET /file/<type> (no query, transaction control left out):
#   1. SELECT the reference version (the categories listed are that version's; casework.reference),
#      at most once a second per process (reference.recent); none in between
FORM_STATEMENTS = 1
TYPES = ["complaint", "report", "mediation", "suggestion"]


def _pages(app):
    from web.pagecache import pages

    with app.test_request_context():
        return pages()


def _headers(resp) -> dict:
    """The answer's headers but its request id and a new session's cookie."""
    return {k: v for k, v in resp.headers.items() if k not in ("X-Request-ID", "Set-Cookie")}


def test_the_form_read_stays_within_its_statement_budget(client, db):
    assert client.get("/file/complaint").status_code == 200  # rendered and kept
    with counted(db) as seen:
        resp = client.get("/file/complaint")
    assert resp.status_code == 200 and 'name="form_token"' in resp.get_data(as_text=True)
    assert len(seen["statements"]) <= FORM_STATEMENTS, "\n".join(seen["statements"])


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_kept_form_is_the_rendered_form_with_this_browsers_tokens(app, client, lang):
    from flask.testing import FlaskClient

    _pages(app).clear()
    client.set_cookie("lang", lang)
    for slug in TYPES:
        rendered = client.get(f"/file/{slug}")  # rendered, then kept
        kept = client.get(f"/file/{slug}")
        assert rendered.status_code == kept.status_code == 200
        assert _headers(rendered) == _headers(kept)
        a, b = rendered.get_data(as_text=True), kept.get_data(as_text=True)
        assert _tokens_out(a) == _tokens_out(b), slug
        assert TOKEN.search(a).group(1) != TOKEN.search(b).group(1)  # a new form token each time
        assert CSRF.search(b) is not None
    # another browser gets its own tokens, bound to its own session
    other = FlaskClient(app, app.response_class, use_cookies=True)
    other.set_cookie("lang", lang)
    mine, first = client.get("/file/complaint").get_data(as_text=True), other.get("/file/complaint")
    theirs = first.get_data(as_text=True)
    assert "session=" in first.headers.get("Set-Cookie", "")  # its session begins with its tokens
    assert _tokens_out(mine) == _tokens_out(theirs)
    assert CSRF.search(mine).group(1) != CSRF.search(theirs).group(1)
    assert TOKEN.search(mine).group(1) != TOKEN.search(theirs).group(1)


def test_a_language_switch_changes_the_kept_form(client):
    client.get("/file/complaint")
    assert "我要投诉" in client.get("/file/complaint").get_data(as_text=True)
    client.get("/lang/en?next=/file/complaint")
    english = client.get("/file/complaint").get_data(as_text=True)
    assert "File a complaint" in english and 'lang="en"' in english and "我要投诉" not in english
    client.get("/lang/zh_CN?next=/file/complaint")
    assert "我要投诉" in client.get("/file/complaint").get_data(as_text=True)


def test_the_tokens_of_a_kept_form_file_the_case_and_no_one_elses(app, client, db, post_filing):
    from flask.testing import FlaskClient

    from tests.web.test_public_pages import form_data, open_form

    client.get("/file/complaint")  # kept
    csrf, token, _ = open_form(client)
    other = FlaskClient(app, app.response_class, use_cookies=True)
    other_csrf, other_token, _ = open_form(other)
    # another browser's tokens are refused here: the CSRF token, then the form token
    assert client.post("/file/complaint", data=form_data(other_csrf, token)).status_code == 400
    refused = client.post("/file/complaint", data=form_data(csrf, other_token))
    assert refused.status_code == 400 and "此表单已过期" in refused.get_data(as_text=True)
    assert TOKEN.search(refused.get_data(as_text=True)).group(1) not in (token, other_token)  # a new one
    done = post_filing(client, "/file/complaint", form_data(csrf, token))
    assert done.status_code == 200 and 'id="query-code"' in done.get_data(as_text=True)


def test_a_change_of_the_categories_is_on_the_next_form(client, db):
    from sqlalchemy import select

    from casework.cases.models import Category

    first = client.get("/file/complaint").get_data(as_text=True)
    assert client.get("/file/complaint").get_data(as_text=True).count("<option") == first.count("<option")
    with db.session_scope() as s:  # the trigger gives the reference data a new version
        category = s.scalar(select(Category).where(Category.code == "forced_membership"))
        before = category.name
        category.name = "强制入会（新名称）"
    changed = client.get("/file/complaint").get_data(as_text=True)
    assert "强制入会（新名称）" in changed and before not in changed
    assert "强制入会（新名称）" in client.get("/file/complaint").get_data(as_text=True)  # kept in turn


def test_the_kept_form_asks_the_version_at_most_once_a_second(client, db, monkeypatch):
    from casework import reference

    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.0)
    client.get("/file/complaint")  # this version asked, and its page kept
    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 60.0)
    with counted(db) as seen:
        for _ in range(3):
            assert client.get("/file/complaint").status_code == 200
    assert seen["statements"] == []
    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.0)
    with counted(db) as seen:
        assert client.get("/file/complaint").status_code == 200
    assert len(seen["statements"]) == 1


@pytest.mark.commits  # the change is another process's: committed on a connection of its own
def test_another_processs_change_of_the_categories_is_on_the_form_within_the_recheck(client, db, monkeypatch):
    """A change that this process did not flush (another gunicorn worker's, another node's, a
    script's SQL) is on the kept form once PAGE_RECHECK_SECONDS have passed."""
    import time

    from sqlalchemy import text

    from casework import reference

    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.5)
    rename = text("UPDATE category SET name = :name WHERE code = 'forced_membership'")
    with db.engine.connect() as conn:
        before = conn.scalar(text("SELECT name FROM category WHERE code = 'forced_membership'"))
    client.get("/file/complaint")
    assert before in client.get("/file/complaint").get_data(as_text=True)
    try:
        with db.engine.begin() as conn:  # no flush in this process: only the trigger knows
            conn.execute(rename, {"name": "强制入会（他处改名）"})
        time.sleep(0.6)
        changed = client.get("/file/complaint").get_data(as_text=True)
        assert "强制入会（他处改名）" in changed and before not in changed
    finally:
        with db.engine.begin() as conn:
            conn.execute(rename, {"name": before})


def test_a_form_with_a_query_is_rendered_for_it(client):
    client.get("/file/complaint")
    chosen = client.get("/file/complaint?association=51100000500009247D").get_data(as_text=True)
    assert 'value="51100000500009247D" checked' in chosen
    assert 'value="51100000500009247D" checked' not in client.get("/file/complaint").get_data(as_text=True)


def test_a_page_is_cut_only_where_each_value_stands_once():
    from web.pagecache import TokenPage

    page = TokenPage.cut('<a v="X1"><b v="Y2">', {"a": "X1", "b": "Y2"})
    assert page.fill({"a": "P<", "b": "Q"}) == '<a v="P&lt;"><b v="Q">'  # escaped as the template does
    assert TokenPage.cut('<a v="X1">X1', {"a": "X1"}) is None  # twice: not kept
    assert TokenPage.cut('<a v="X1">', {"a": "X1", "b": "Y2"}) is None  # missing: not kept
    assert TokenPage.cut('<a v="a&lt;b">', {"a": "a<b"}).fill({"a": "c"}) == '<a v="c">'


# -- the association type-ahead ----------------------------------------------------------------------

# GET /api/v1/associations?q=…: the registry kept per process for the reference version
# (casework.registry.lookup.lookup), the version asked at most once a second: no statement in
# between; one (the version) when it is asked and has not changed
LOOKUP_STATEMENTS = 0


@pytest.mark.parametrize("q", ["中国", "zg", "51100000", "复合 材料"])
def test_the_association_lookup_stays_within_its_statement_budget(client, db, q, monkeypatch):
    from casework import reference

    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.0)
    first = client.get("/api/v1/associations", query_string={"q": q})  # this version's registry kept
    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 60.0)
    with counted(db) as seen:
        again = client.get("/api/v1/associations", query_string={"q": q})
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert len(seen["statements"]) <= LOOKUP_STATEMENTS, "\n".join(seen["statements"])
    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.0)
    with counted(db) as seen:
        assert client.get("/api/v1/associations", query_string={"q": q}).get_json() == first.get_json()
    assert len(seen["statements"]) <= 1, "\n".join(seen["statements"])


def test_the_locale_is_chosen_as_before(client):
    """The selector gives babel Locales parsed once per process: the cookie, then (the API) the
    Accept-Language header, then the default."""
    client.set_cookie("lang", "en")
    assert "File a complaint" in client.get("/file/complaint").get_data(as_text=True)
    client.delete_cookie("lang")
    assert "我要投诉" in client.get("/file/complaint", headers={"Accept-Language": "en"}).get_data(as_text=True)
    english = client.get("/api/v1/categories", headers={"Accept-Language": "en"}).get_json()["items"]
    chinese = client.get("/api/v1/categories", headers={"Accept-Language": "zh-CN"}).get_json()["items"]
    assert english[0]["name"] == english[0]["name_en"] and chinese[0]["name"] == chinese[0]["name_zh"]


def test_a_page_without_limits_runs_no_limit_check_and_a_lookup_still_counts(app, client):
    """Flask-Limiter's before-request check is left out (web.extensions): every limit is
    declared where it applies. A wrong code on the status page is still counted and refused."""
    from web.extensions import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    answers = [client.get("/api/v1/cases/TS20260101000001", headers={"X-Query-Code": "AAAA-BBBB-CCCC-DDDD"}).status_code
               for _ in range(11)]
    assert answers == [404] * 10 + [429]  # the settings' "10 per 10 minutes"
