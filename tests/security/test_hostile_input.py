"""Hostile input, measured (hypothesis): the domain validation, number and code parsing, and
the public forms through the test client. No exception (no 500), and a rejected request
changes nothing. Example counts are capped to keep the default suite fast; each test
prints how many cases it ran."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from casework.cases.numbers import is_well_formed, normalize_number
from casework.intake.validation import (
    clean_text, mentions_code, normalize_any_phone, normalize_mobile, validate_submission,
)
from casework.privacy.codes import check_code, hash_code, looks_like_code, new_query_code, normalize
from tests.security.helpers import csrf, row_counts
from web.extensions import limiter

COUNTS: dict[str, int] = {}
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))

hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["' OR 1=1 --", "\"; DROP TABLE \"case\"; --", "<script>alert(1)</script>", "\x00", "\u202e",
                     "../../etc/passwd", "%00", "{{7*7}}", "${jndi:ldap://x}", "𠀀" * 50, "A" * 5000, " ", ""]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_text)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=20), inner, max_size=4), max_leaves=12)
FIELDS = ["type", "association", "category", "title", "description", "privacy_consent", "anonymous", "claim",
          "amount", "respondent", "complainant"]
submission = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=11)


def _count(name):
    COUNTS[name] = COUNTS.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print("\nhypothesis cases run: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items())))


def test_validation_never_raises_on_any_json(db):
    @FAST
    @given(data=submission, locale=st.sampled_from(["zh_CN", "en", "xx"]))
    def run(data, locale):
        _count("validate_submission")
        with db.session_scope(write=False) as s:
            sub, errors = validate_submission(s, data, locale=locale)
        assert (sub is None) == bool(errors) or errors or sub is not None

    run()


def test_validation_of_near_valid_submissions(db, submission_data):
    @FAST
    @given(field=st.sampled_from(["title", "description", "association", "category", "type"]), value=json_values,
           name=hostile_text, phone=hostile_text)
    def run(field, value, name, phone):
        _count("validate_submission_near_valid")
        data = submission_data(**{field: value}) if value is not None else submission_data()
        data["complainant"] = {"name": name, "phone": phone}
        with db.session_scope(write=False) as s:
            sub, errors = validate_submission(s, data)
        if not errors:
            assert sub.title and sub.description

    run()


@FAST
@given(raw=hostile_text)
def test_number_and_code_parsing_is_total(raw):
    _count("parsing")
    n = normalize_number(raw)
    assert isinstance(n, str) and normalize_number(n) == n
    assert isinstance(is_well_formed(raw), bool)
    c = normalize(raw)
    assert normalize(c) == c
    looks_like_code(raw)
    assert check_code(b"k" * 32, n, raw, None) is False
    clean_text(raw), clean_text(raw, multiline=True), normalize_mobile(raw), normalize_any_phone(raw)


@FAST
@given(before=hostile_text, after=hostile_text, sep=st.sampled_from(["", " ", "-", "  ", "\n"]),
       lower=st.booleans())
def test_an_embedded_code_is_always_found(before, after, sep, lower):
    _count("mentions_code")
    code = new_query_code()
    stored = hash_code(b"p" * 32, "TS2026112700001", code)
    shown = code.replace("-", sep)
    shown = shown.lower() if lower else shown
    assert mentions_code(f"{before} {shown} {after}", lambda c: check_code(b"p" * 32, "TS2026112700001", c, stored))
    assert not mentions_code(before + after, lambda c: check_code(b"p" * 32, "TS2026112799999", c, stored))


TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
FORM_FIELDS = ["association", "category", "title", "description", "complainant.name", "complainant.phone",
               "complainant.email", "complainant.id_number", "privacy_consent", "anonymous", "claim", "amount"]


def test_the_public_filing_form_never_fails_and_a_rejection_changes_nothing(app, db):
    client = app.test_client()

    @SLOW
    @given(slug=st.sampled_from(["complaint", "report", "mediation", "suggestion"]),
           values=st.dictionaries(st.sampled_from(FORM_FIELDS), hostile_text, max_size=12))
    def run(slug, values):
        _count("file_form")
        page = client.get(f"/file/{slug}").get_data(as_text=True)
        data = {"csrf_token": csrf(client), "form_token": TOKEN.search(page).group(1), **values}
        before = row_counts(db)
        resp = client.post(f"/file/{slug}", data=data)
        assert resp.status_code < 500
        if 'id="query-code"' not in resp.get_data(as_text=True):
            assert row_counts(db) == before

    run()


def test_the_track_form_never_fails_and_changes_nothing(app, db):
    client = app.test_client()
    token = csrf(client)

    @SLOW
    @given(number=hostile_text, code=hostile_text)
    def run(number, code):
        _count("track_form")
        limiter.reset()
        before = row_counts(db)
        resp = client.post("/track", data={"csrf_token": token, "number": number, "code": code})
        assert resp.status_code in (400, 404)
        assert row_counts(db) == before
        resp = client.get("/api/v1/cases/" + normalize_number(number)[:30], headers={"X-Query-Code": "".join(ch for ch in code[:100] if " " <= ch <= "~")})
        assert resp.status_code in (404, 405, 308)

    run()


def test_public_moves_with_hostile_text_never_fail(app, db, file_case, act):
    receipt = file_case()
    client = app.test_client()
    resp = client.post("/track", data={"csrf_token": csrf(client), "number": receipt.case_number,
                                       "code": receipt.query_code})
    assert resp.status_code == 303

    @SLOW
    @given(move=st.sampled_from(["supply_info", "rate", "request_review", "withdraw", "x"]), text=hostile_text,
           rating=hostile_text, version=hostile_text)
    def run(move, text, rating, version):
        _count("public_moves")
        before = row_counts(db)
        resp = client.post(f"/track/{receipt.case_number}/moves/{move}",
                           data={"csrf_token": csrf(client), "public_text": text, "rating": rating, "version": version})
        assert resp.status_code < 500
        if resp.status_code != 303:
            assert row_counts(db) == before

    run()


def test_a_nul_byte_in_a_query_or_form_value_is_a_400_and_changes_nothing(app, db):
    client = app.test_client()
    before = row_counts(db)
    assert client.get("/file/complaint?association=%00").status_code == 400
    assert client.get("/api/v1/associations?q=a%00b").status_code == 400
    assert client.post("/file/complaint", data={"association_q": "\x00", "action": "lookup"}).status_code == 400
    assert row_counts(db) == before
