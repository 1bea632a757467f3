"""Who gets what on every route: a matrix of all URL rules against the staff roles.

Every rule in ``app.url_map`` (static files aside) is requested once per role, with real
values for its parameters (a case number of a case at 工业和信息化部, that unit's id, ...),
and the answer must be in the set the table below expects for that (route, role).

The table is explicit: public and staff/desk endpoints are listed one by one, the staff API
(``desk_api``) and administration (``admin``) blueprints are covered as a whole. A route
that the table does not classify fails ``test_every_route_is_classified``: whoever adds a
route decides who may use it, here.
"""
import re

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from casework.accounts.models import Role, User
from casework.accounts.operations import issue_token
from casework.registry.models import Unit

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"

ROLES = {
    "anonymous": None,
    "handler": ("miit", Role.handler),
    "unit_lead": ("miit", Role.unit_lead),
    "triage_operator": ("triage", Role.triage_operator),
    "supervisor": ("mca", Role.supervisor),
    "administrator": ("mca", Role.administrator),
}
STAFF = [r for r in ROLES if r != "anonymous"]

# to the sign-in page, with next= (an HTML page for someone not signed in): a 302 for a page asked for;
# a 303 for a form sent, whose next= is the nearest page a GET answers (the form's own POST-only
# address would answer 405 after the sign-in)
LOGIN = "login"
NOT_AUTH = "not-auth"  # anything but 401/403 and server errors: open to everyone
PUBLIC_BLUEPRINTS = {"public", "api", "ops", "open311"}

# Public pages and the public API: open to everyone, signed in or not. Listed one by one,
# so that a new public route is a decision, not an accident.
PUBLIC_ENDPOINTS = {
    "public.index", "public.privacy", "public.set_language",
    "public.favicon",  # /favicon.ico, the site's icon where browsers look for it unasked
    # probes and the Prometheus scrape (web.ops); /metrics takes a token when one is set
    "ops.healthz", "ops.readyz", "ops.metrics",
    "public.file_form", "public.file_submit", "public.file_receipt", "public.file_receipt_print",
    "public.track_form", "public.track_submit", "public.status", "public.leave", "public.public_move",
    # mediation: the respondent's page (its own code) and the applicant's agreement and follow-up complaint
    "public.respond_form", "public.respond_submit", "public.respond_status", "public.respond_move",
    "public.respond_agreement", "public.respond_leave", "public.track_agreement", "public.track_complaint",
    # the complainant's written notices (受理告知书 ... 复核意见书), with the case opened by number and query code
    "public.track_document",
    # the documents attached to a reply, and the complainant's actions through the API (issue 16)
    "public.track_file", "api.case_action",
    # the same through the API, with the query code (X-Query-Code): the written notices and a reply's documents
    "api.case_document", "api.case_file",
    "api.openapi", "api.categories", "api.associations", "api.create_case", "api.get_case",
    # the Open311 GeoReport v2 facade (web.open311): a request is read with its query code
    "open311.discovery", "open311.services", "open311.service_definition", "open311.create_request",
    "open311.list_requests", "open311.get_request", "open311.fallback",
    # public statistics and open data (信息公开)
    "public.stats", "public.stats_association", "public.stats_unit", "public.open_data", "public.open_data_file",
    # verified phone numbers and 我的诉求 (issue 19): a code sent by SMS opens a number's own cases
    "api.create_verification", "public.mine", "public.mine_submit", "public.mine_open", "public.mine_leave",
}


def _each(anonymous, handler, unit_lead, triage_operator, supervisor, administrator):
    return dict(anonymous=anonymous, handler=handler, unit_lead=unit_lead, triage_operator=triage_operator,
                supervisor=supervisor, administrator=administrator)


# Sign-in and the handler desk, endpoint by endpoint. A desk page of a case the role may not
# see answers 404 (as a number never issued would); administrators get no case content.
ENDPOINTS = {
    "staff.index": _each({302}, {302}, {302}, {302}, {302}, {302}),       # /staff: to the sign-in page
    "staff.login": _each({200}, {302}, {302}, {302}, {302}, {302}),       # GET; signed in: on to the desk
    "staff.logout": _each({303}, {303}, {303}, {303}, {303}, {303}),   # signed out already: to the sign-in page
    # "stay signed in" before the idle limit (desk.js); a session that has ended: 401 to the script
    "staff.keep_alive": _each(LOGIN, {204}, {204}, {204}, {204}, {204}),
    "staff.password": _each(LOGIN, {200}, {200}, {200}, {200}, {200}),  # GET: one's own password, any role
    "desk.home": _each(LOGIN, {302}, {302}, {302}, {302}, {302}),      # a supervisor: on to supervision; an administrator: to /admin
    "desk.unit_queue": _each(LOGIN, {200}, {200}, {403}, {403}, {403}),   # the miit queue
    "desk.unit_export": _each(LOGIN, {200}, {200}, {403}, {403}, {403}),  # its list as a spreadsheet
    "desk.triage_queue": _each(LOGIN, {403}, {403}, {200}, {403}, {403}),
    "desk.case_page": _each(LOGIN, {200}, {200}, {404}, {200}, {404}),    # a miit case awaiting acceptance
    # an empty note without the case's version: stale (409) for those who may make it
    "desk.case_move": _each(LOGIN, {409}, {409}, {404}, {403}, {404}),
    "desk.bulk_assign": _each(LOGIN, {303}, {303}, {403}, {403}, {403}),  # nothing ticked: back to the queue
    # the written notice a move would issue, previewed: a note issues none (404 for all who see the case)
    "desk.case_move_preview": _each(LOGIN, {404}, {404}, {404}, {404}, {404}),
    # the agreement PDF of a case (a complaint has none: 404 for those who see it, as for those who do not)
    "desk.case_agreement": _each(LOGIN, {404}, {404}, {404}, {404}, {404}),
    # a written notice of the case (the world's case has none yet: 404, as for those who may not see it)
    "desk.case_document": _each(LOGIN, {404}, {404}, {404}, {404}, {404}),
    # the mediator's list: mediators and coordinators of a mediation body only (none of these roles)
    "desk.mediation_list": _each(LOGIN, {403}, {403}, {403}, {403}, {403}),
    # case search: every desk role (each within what it may see); administrators get no case content
    "desk.search": _each(LOGIN, {200}, {200}, {200}, {200}, {403}),
    "desk.find_case": _each(LOGIN, {200}, {200}, {200}, {200}, {403}),   # no number typed: the empty page
    # a report's identity and originals (the world's case is a complaint: nothing to reveal)
    "desk.reveal_request": _each(LOGIN, {403}, {403}, {404}, {403}, {404}),
    "desk.reveal_identity": _each(LOGIN, {403}, {403}, {404}, {403}, {404}),
    # a complaint's contact details: the unit's handler and lead (sent without a reason: 422),
    # read-only supervisors 403, the rest cannot see the case (404)
    "desk.contact_details": _each(LOGIN, {422}, {422}, {404}, {403}, {404}),
    "desk.case_file": _each(LOGIN, {404}, {404}, {404}, {404}, {404}),           # no such file
    "desk.case_file_original": _each(LOGIN, {404}, {404}, {404}, {404}, {404}),
    "desk.reveal_list": _each(LOGIN, {403}, {403}, {403}, {403}, {403}),        # custodians only
    "desk.reveal_decide": _each(LOGIN, {403}, {403}, {403}, {403}, {403}),
    # the handler's own reveal requests and their decisions: whoever may ask (a unit's handler or lead)
    "desk.my_reveals": _each(LOGIN, {200}, {200}, {403}, {403}, {403}),
    # supervision: supervisors only (an export of an unknown table is 404 for them)
    "supervise.dashboard": _each(LOGIN, {403}, {403}, {403}, {200}, {403}),
    "supervise.overdue": _each(LOGIN, {403}, {403}, {403}, {200}, {403}),
    "supervise.notices": _each(LOGIN, {403}, {403}, {403}, {200}, {403}),
    "supervise.risk": _each(LOGIN, {403}, {403}, {403}, {200}, {403}),
    "supervise.export": _each(LOGIN, {403}, {403}, {403}, {404}, {403}),
    # the staff API's "who am I": any token, administrators included (no case content in it)
    "desk_api.me": _each({401}, {200}, {200}, {200}, {200}, {200}),
    # the identity custodian's requests (none of these roles is one; tests/web/test_desk_api_reveals.py)
    "desk_api.reveal_list": _each({401}, {403}, {403}, {403}, {403}, {403}),
    "desk_api.reveal_decide": _each({401}, {403}, {403}, {403}, {403}, {403}),
}

# Blueprints other engineers are filling: their routes are classified as a whole.
ADMIN_OK = {200, 302, 303, 400, 404, 409, 422}
API_OK = {200, 201, 202, 204, 400, 403, 404, 409, 422}
BLUEPRINTS = {
    # staff API: bearer token; no token is 401 (JSON). Administrators get no case content.
    "desk_api": _each({401}, API_OK, API_OK, API_OK, API_OK, {403, 404}),
    # administration: administrators only
    "admin": _each(LOGIN, {403}, {403}, {403}, {403}, ADMIN_OK),
}


def rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: (r.endpoint == "staff.logout", r.rule))  # sign out last


def expected(rule, role):
    if rule.endpoint in PUBLIC_ENDPOINTS:
        return NOT_AUTH
    if rule.endpoint in ENDPOINTS:
        return ENDPOINTS[rule.endpoint][role]
    blueprint = rule.endpoint.split(".", 1)[0] if "." in rule.endpoint else None
    if blueprint in BLUEPRINTS:
        return BLUEPRINTS[blueprint][role]
    return None


def test_every_route_is_classified(app):
    missing = [f"{r.endpoint} {r.rule}" for r in rules(app) if expected(r, "anonymous") is None]
    assert not missing, f"classify these routes in tests/web/test_route_matrix.py: {missing}"
    stray = [e for e in PUBLIC_ENDPOINTS if e.split(".")[0] not in PUBLIC_BLUEPRINTS]
    assert not stray, f"public endpoints outside the public blueprints: {stray}"
    known = {r.endpoint for r in rules(app)}
    assert set(ENDPOINTS) <= known and PUBLIC_ENDPOINTS <= known, "the table names a route that is gone"


@pytest.fixture
def world(db, file_case):
    receipt = file_case()
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    return {"number": receipt.case_number, "case_number": receipt.case_number, "unit_id": miit}


def _value(rule, name, world):
    if name in world:
        return world[name]
    converter = rule._converters.get(name)
    if isinstance(converter, IntegerConverter):  # (web.request_limits bounds it)
        return 999_999  # an id of nothing: reading it is safe, changing it changes nothing
    return {"move": "note", "slug": "complaint", "code": "zh_CN", "fmt": "json"}.get(name, "x")


def _sign_in(client, db, make_staff, role):
    if ROLES[role] is None:
        return None
    unit_code, r = ROLES[role]
    actor = make_staff(unit_code, r)
    with db.session_scope() as s:
        user = s.get(User, actor.user_id)
        token = issue_token(s, user, "route matrix")
        username = user.username
    page = client.get("/staff/login").get_data(as_text=True)
    resp = client.post("/staff/login", data={"csrf_token": CSRF.search(page).group(1),
                                             "username": username, "password": PASSWORD})
    assert resp.status_code == 303
    return token


def _request(app, client, rule, world, csrf, token):
    with app.test_request_context():
        url = url_for(rule.endpoint, **{a: _value(rule, a, world) for a in rule.arguments})
    api = rule.endpoint.startswith("desk_api.")
    headers = {"Authorization": f"Bearer {token}"} if api and token else {}
    if "GET" in rule.methods:
        return "GET", url, client.get(url, headers=headers)
    if api:
        return "POST", url, client.post(url, json={}, headers=headers)
    return "POST", url, client.post(url, data={"csrf_token": csrf}, headers=headers)


def _matches(app, method, resp, want) -> bool:
    if resp.status_code >= 500:
        return False
    if want == NOT_AUTH:
        return resp.status_code not in (401, 403)
    if want == LOGIN:
        location = resp.headers.get("Location", "")
        if not location.startswith("/staff/login?next="):
            return False
        if method == "GET":
            return resp.status_code == 302
        from urllib.parse import parse_qs, urlsplit

        back = urlsplit(parse_qs(urlsplit(location).query)["next"][0]).path
        try:
            app.url_map.bind("localhost").match(back, method="GET")  # a page, not the form's POST address
        except Exception:
            return False
        return resp.status_code == 303
    return resp.status_code in want


@pytest.mark.parametrize("role", list(ROLES))
def test_route_matrix(app, client, db, make_staff, world, role):
    token = _sign_in(client, db, make_staff, role)
    csrf = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
    wrong = []
    for rule in rules(app):
        want = expected(rule, role)
        if want is None:
            continue  # reported by test_every_route_is_classified
        method, url, resp = _request(app, client, rule, world, csrf, token)
        if not _matches(app, method, resp, want):
            wrong.append(f"{method} {url} ({rule.endpoint}): {resp.status_code} "
                         f"{resp.headers.get('Location', '')}, expected {want}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", STAFF)
def test_desk_api_without_a_token_is_401_even_when_signed_in(app, client, db, make_staff, world, role):
    _sign_in(client, db, make_staff, role)  # a session cookie is not a credential for the API
    api_rules = [r for r in rules(app) if r.endpoint.startswith("desk_api.")]
    for rule in api_rules:
        method, url, resp = _request(app, client, rule, world, "", None)
        assert resp.status_code == 401, f"{method} {url}: {resp.status_code}"
