"""What a read costs (issue 18, "Reads"): the statements the filing form, the case API and the
association lookup send, counted around one test-client GET each; and the per-process shortcuts
behind them (gettext bound once per render) give the pages they gave before, in zh_CN and en."""
from __future__ import annotations

import contextlib
import re

import pytest

from tests.web.test_submission_cost import counted

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
        bound = client.get(path)
        with flask_babel_gettext(app):
            plain = client.get(path)
        assert bound.status_code == plain.status_code == 200, path
        assert _tokens_out(bound.get_data(as_text=True)) == _tokens_out(plain.get_data(as_text=True)), path
    page = client.get("/file/complaint").get_data(as_text=True)
    assert ("File a complaint" in page) == (lang == "en") and ("我要投诉" in page) == (lang == "zh_CN")


# -- the case API's GET ----------------------------------------------------------------------------

# The statements of GET /api/v1/cases/<n> with the right X-Query-Code (transaction control left
# out). The rate limit's exemption and the view ask the same lookup; the second ask uses the row
# the first read (casework.cases.queries.case_for_lookup):
#   1. SELECT id, query_code_hash of the number
#   2. SELECT the case, its category, association and unit (joined)
#   3-4. SELECT its events, its attachments
API_CASE_STATEMENTS = 4


def test_the_case_api_read_stays_within_its_statement_budget(client, db, submission_data):
    filed = client.post("/api/v1/cases", json=submission_data()).get_json()
    number, code = filed["case_number"], filed["query_code"]
    with counted(db) as seen:
        resp = client.get(f"/api/v1/cases/{number}", headers={"X-Query-Code": code})
    assert resp.status_code == 200 and resp.get_json()["case_number"] == number
    assert len(seen["statements"]) <= API_CASE_STATEMENTS, "\n".join(seen["statements"])


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
