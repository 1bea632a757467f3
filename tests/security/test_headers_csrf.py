"""Promise 1 (headers, CSRF): every answer of every route, to a signed-in handler and to
someone anonymous, carries the security headers; case and personal-data pages are never
stored; every state-changing request without a CSRF token (forms) or a valid API token
(staff API) is refused and changes nothing."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from casework.accounts.models import Role, User
from tests.security.helpers import CSRF, row_counts, sign_in
from tests.web.test_route_matrix import _value, rules
from tests.web.test_route_matrix import world  # noqa: F401  (fixture: a miit case, its number, the unit id)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# pages that show a case or personal data: no-store is checked by name as well
CASE_ENDPOINTS = {"public.status", "public.respond_status", "public.track_agreement", "public.track_complaint",
                  "desk.case_page", "desk.case_agreement", "desk.unit_queue", "desk.triage_queue", "desk.search",
                  "api.get_case", "api.create_case", "api.case_document", "api.case_file"}
# the one public state-changing route without a CSRF token: JSON only (a cross-site form cannot
# send application/json without a CORS preflight, which this site never grants), and no cookie
# is read or needed
JSON_ONLY = {"api.create_case", "api.case_action", "api.create_verification"}


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(resp, endpoint, where) -> list[str]:
    h, wrong = resp.headers, []
    csp = _directives(h.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if not scripts or any(s in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:") for s in scripts):
        wrong.append(f"{where}: script-src {scripts}")
    if csp.get("frame-ancestors") != ["'none'"] or csp.get("object-src") != ["'none'"]:
        wrong.append(f"{where}: frame-ancestors/object-src {csp}")
    if "'unsafe-inline'" in csp.get("style-src", []):
        wrong.append(f"{where}: inline styles allowed")
    for name, want in (("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff")):
        if h.get(name) != want:
            wrong.append(f"{where}: {name}={h.get(name)}")
    for name in ("Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "X-Frame-Options",
                 "Permissions-Policy", "Cross-Origin-Opener-Policy"):
        if len(h.getlist(name)) != 1:  # a second copy (a view's own and the default) is ambiguous
            wrong.append(f"{where}: {name} sent {len(h.getlist(name))} times")
    if "camera=()" not in h.get("Permissions-Policy", ""):
        wrong.append(f"{where}: Permissions-Policy {h.get('Permissions-Policy')}")
    cache = h.get("Cache-Control", "")
    if endpoint != "static" and "no-store" not in cache and not (endpoint not in CASE_ENDPOINTS and "public" in cache):
        wrong.append(f"{where}: Cache-Control {cache!r}")
    if resp.mimetype == "text/html":
        body = resp.get_data(as_text=True)
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) or re.search(r"\son[a-z]+\s*=", body):
            wrong.append(f"{where}: inline script or event handler in the page")
    return wrong


def _url(app, rule, world):
    with app.test_request_context():
        return url_for(rule.endpoint, **{a: _value(rule, a, world) for a in rule.arguments})


def _staff_client(app, db, make_staff):
    actor = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        name = s.get(User, actor.user_id).username
    client = app.test_client()
    assert sign_in(client, name).status_code == 303
    return client


@pytest.mark.parametrize("who", ["anonymous", "handler"])
def test_every_route_carries_the_security_headers(app, client, db, make_staff, world, who):  # noqa: F811
    c = client if who == "anonymous" else _staff_client(app, db, make_staff)
    csrf = CSRF.search(c.get("/track").get_data(as_text=True)).group(1)
    wrong, seen = [], 0
    for rule in rules(app) + [r for r in app.url_map.iter_rules() if r.endpoint == "static"]:
        if rule.endpoint == "staff.logout":
            continue  # asked below, last
        url = _url(app, rule, world) if rule.endpoint != "static" else "/static/css/site.css"
        if "GET" in rule.methods:
            resp = c.get(url)
            wrong += check_headers(resp, rule.endpoint, f"{who} GET {url} {resp.status_code}")
            seen += 1
        for method in sorted(set(STATE_CHANGING) & rule.methods):
            resp = c.open(url, method=method, data={"csrf_token": csrf})
            wrong += check_headers(resp, rule.endpoint, f"{who} {method} {url} {resp.status_code}")
            seen += 1
    # errors and oddities: an unknown page, a wrong method, an unknown case, a redirect
    for method, url in (("GET", "/no/such/page"), ("DELETE", "/track"), ("GET", "/api/v1/cases/TS2026010100001"),
                        ("GET", "/track/TS2026010100001"), ("POST", "/staff/logout")):
        resp = c.open(url, method=method, data={"csrf_token": csrf})
        wrong += check_headers(resp, None, f"{who} {method} {url} {resp.status_code}")
    assert seen > 50
    assert not wrong, "\n".join(wrong)


def test_the_static_assets_carry_the_headers_too(client):
    resp = client.get("/static/css/site.css")
    assert resp.status_code == 200
    assert not check_headers(resp, "static", "static")


@pytest.mark.parametrize("who", ["anonymous", "handler"])
def test_no_state_change_without_a_csrf_token_or_an_api_token(app, client, db, make_staff, world, who):  # noqa: F811
    c = client if who == "anonymous" else _staff_client(app, db, make_staff)
    wrong, tried = [], 0
    for rule in rules(app):
        for method in sorted(set(STATE_CHANGING) & rule.methods):
            if rule.endpoint in JSON_ONLY:
                continue
            url = _url(app, rule, world)
            api = rule.endpoint.startswith("desk_api.")
            for attempt in ({}, {"csrf_token": "forged"}) if not api else ({}, {"Authorization": "Bearer forged"}):
                before = row_counts(db)
                if api:
                    resp = c.open(url, method=method, json={}, headers=attempt)
                else:
                    resp = c.open(url, method=method, data={**attempt, "public_text": "x", "rating": "satisfied",
                                                            "username": "x", "password": "y" * 12})
                tried += 1
                if resp.status_code not in (400, 401, 403):
                    wrong.append(f"{who} {method} {url} {attempt}: {resp.status_code}")
                if row_counts(db) != before:
                    wrong.append(f"{who} {method} {url} {attempt}: rows changed")
    print(f"\n{who}: {tried} state-changing requests without a valid token, all refused")
    assert tried > 20
    assert not wrong, "\n".join(wrong)


def test_the_public_json_intake_takes_no_form_posts(client, db, submission_data):
    import json

    before = row_counts(db)
    body = json.dumps(submission_data())
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        resp = client.post("/api/v1/cases", data=body, content_type=ctype)
        assert resp.status_code in (400, 415), (ctype, resp.status_code)
    assert row_counts(db) == before


def test_the_public_json_actions_take_no_form_posts(client, db, file_case):
    """A complainant's action through the API (issue 16) needs the query code in a header and a
    JSON body: a form another site could post (even one holding the right code) changes nothing."""
    import json

    receipt = file_case()
    before = row_counts(db)
    body = json.dumps({"public_text": "补充说明。"})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        resp = client.post(f"/api/v1/cases/{receipt.case_number}/add_evidence", data=body, content_type=ctype,
                           headers={"X-Query-Code": receipt.query_code})
        assert resp.status_code in (400, 415), (ctype, resp.status_code)
    resp = client.post(f"/api/v1/cases/{receipt.case_number}/add_evidence",
                       data={"public_text": "补充说明。", "X-Query-Code": receipt.query_code})
    assert resp.status_code == 404
    assert row_counts(db) == before


def test_the_cookie_session_follows_a_changed_secret_key(client):
    """The signing serializer is made once per set of keys (web.app.CookieSessions, issue 18): a
    cookie signed with a key the app no longer holds is not trusted, and one signed with a key
    kept in SECRET_KEY_FALLBACKS still is (a key rotation)."""
    app = client.application
    with client.session_transaction() as sess:
        sess["probe"] = "kept"
    with client.session_transaction() as sess:
        assert sess.get("probe") == "kept"
    old = app.secret_key
    app.secret_key = "another secret key, at least thirty-two characters long"
    with client.session_transaction() as sess:
        assert "probe" not in sess
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    with client.session_transaction() as sess:
        assert sess.get("probe") == "kept"
