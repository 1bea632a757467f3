"""The staff JSON API as an integration (a hotline system, a unit's own tool) uses it."""
import json
import re
from datetime import timedelta, timezone

from sqlalchemy import select, update

from casework.accounts.models import ApiToken, Role, User
from casework.accounts.operations import issue_token
from casework.cases.models import Case
from casework.db import utcnow
from casework.registry.models import Unit
from casework.workflow import machine
from tests.conftest import BASIS

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- helpers ------------------------------------------------------------------------------

def token_for(db, actor, label="test") -> str:
    with db.session_scope() as s:
        return issue_token(s, s.get(User, actor.user_id), label)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def unit_id(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def get(client, token, path, **kw):
    return client.get(f"/api/v1/desk{path}", headers={**auth(token), **kw.pop("headers", {})}, **kw)


def move(client, token, number, name, headers=None, **body):
    return client.post(f"/api/v1/desk/cases/{number}/{name}", data=json.dumps(body),
                       content_type="application/json", headers={**auth(token), **(headers or {})})


def version_of(client, token, number):
    return get(client, token, f"/cases/{number}").get_json()["version"]


def act(db, services, actor, case_id, name, **fields):
    """A move made elsewhere (the desk, another integration) in its own transaction."""
    with db.session_scope() as s:
        machine.perform(s, services, actor, s.get(Case, case_id), name, **fields)


def numbers(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [c["number"] for c in resp.get_json()["items"]]


# -- who may call -------------------------------------------------------------------------

def test_token_is_required_and_must_be_live(client, db, make_staff):
    handler = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    assert client.get("/api/v1/desk/me").status_code == 401
    assert client.get("/api/v1/desk/cases").get_json()["error"]["status"] == 401
    for bad in ("Bearer nonsense", "Bearer ct_" + "x" * 43, f"Basic {token}", token, "Bearer "):
        assert client.get("/api/v1/desk/me", headers={"Authorization": bad}).status_code == 401, bad
    me = get(client, token, "/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["username"].startswith("miit-handler")
    assert body["id"] == handler.user_id
    assert body["units"] == [{"id": unit_id(db, "miit"), "code": "miit", "name": "工业和信息化部",
                              "roles": [{"role": "handler", "title": "承办人"}]}]
    with db.session_scope() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert get(client, token, "/me").status_code == 401


def test_a_disabled_account_loses_its_tokens(client, db, make_staff):
    handler = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    with db.session_scope() as s:
        s.get(User, handler.user_id).active = False
    assert get(client, token, "/me").status_code == 401


def test_a_browser_session_does_not_open_the_api_and_a_token_needs_no_csrf(client, db, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        username = s.get(User, handler.user_id).username
    page = client.get("/staff/login").get_data(as_text=True)
    login = client.post("/staff/login", data={"csrf_token": CSRF.search(page).group(1),
                                              "username": username, "password": PASSWORD})
    assert login.status_code == 303
    assert client.get("/desk", follow_redirects=True).status_code == 200  # signed in for pages
    assert client.get("/api/v1/desk/me").status_code == 401
    assert client.get("/api/v1/desk/cases").status_code == 401
    number = file_case().case_number
    assert client.post(f"/api/v1/desk/cases/{number}/accept", data=json.dumps({"version": 1}),
                       content_type="application/json").status_code == 401
    # with the token and no CSRF token at all
    token = token_for(db, handler)
    resp = move(client, token, number, "accept", version=version_of(client, token, number))
    assert resp.status_code == 200, resp.get_data(as_text=True)


# -- the queue ----------------------------------------------------------------------------

def test_queue_lists_only_the_callers_unit_with_counts(client, db, services, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    mca_handler = make_staff("mca", Role.handler)
    token, mca_token = token_for(db, handler), token_for(db, mca_handler)
    pending, accepted, moved = (file_case() for _ in range(3))
    act(db, services, handler, accepted.case_id, "accept")
    act(db, services, handler, moved.case_id, "transfer", unit_id=str(unit_id(db, "mca")),
        reason="other_unit_competent")

    resp = get(client, token, "/cases")
    assert numbers(resp) == [pending.case_number]
    body = resp.get_json()
    assert body["unit"]["code"] == "miit" and body["total"] == 1
    assert body["page"] == 1 and body["per_page"] == 25
    assert body["counts"] == {"pending": 1, "handling": 1, "need_info": 0, "replied": 0, "done": 0, "supervision": 0}
    row = body["items"][0]
    assert set(row) >= {"number", "type", "state", "title", "category", "association", "unit", "handler",
                        "due_at", "overdue", "version"}
    assert row["type"] == "complaint" and row["state"] == "pending_acceptance"
    assert row["association"] == {"credit_code": "51100000500009247D", "name": "中国复合材料工业协会"}
    assert row["unit"] == {"id": unit_id(db, "miit"), "code": "miit", "name": "工业和信息化部"}
    assert row["handler"] is None and row["overdue"] is False and row["due_at"].endswith("+00:00")
    assert "13800138000" not in resp.get_data(as_text=True)

    handling = get(client, token, "/cases", query_string={"tab": "handling"}).get_json()
    assert [c["number"] for c in handling["items"]] == [accepted.case_number]
    assert handling["items"][0]["handler"]["id"] == handler.user_id

    assert numbers(get(client, mca_token, "/cases")) == [moved.case_number]
    # another unit's queue, by id: refused, whether or not the unit exists
    assert get(client, token, "/cases", query_string={"unit": unit_id(db, "mca")}).status_code == 403
    assert get(client, token, "/cases", query_string={"unit": 999999}).status_code == 403
    assert numbers(get(client, token, "/cases", query_string={"unit": unit_id(db, "miit")})) == [pending.case_number]


def test_queue_filters_sort_and_paging(client, db, services, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    first, second, third = (file_case() for _ in range(3))
    act(db, services, handler, second.case_id, "assign", handler_id=str(handler.user_id))
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == third.case_id).values(due_at=utcnow() - timedelta(days=1)))

    def q(**params):
        return numbers(get(client, token, "/cases", query_string=params))

    assert q() == [third.case_number, first.case_number, second.case_number]  # soonest deadline first
    assert q(sort="new") == [third.case_number, second.case_number, first.case_number]
    assert q(mine="true") == [second.case_number]
    assert q(overdue="true") == [third.case_number]
    assert get(client, token, "/cases", query_string={"overdue": "true"}).get_json()["items"][0]["overdue"] is True
    assert q(due_within=0) == [third.case_number]
    assert len(q(due_within=30)) == 3
    assert len(q(type="complaint", category="forced_membership", association="51100000500009247d")) == 3
    assert q(type="report") == [] and q(category="illegal_fees") == []
    page2 = get(client, token, "/cases", query_string={"per_page": 2, "page": 2}).get_json()
    assert [c["number"] for c in page2["items"]] == [second.case_number]
    assert page2["total"] == 3 and page2["per_page"] == 2

    bad = get(client, token, "/cases", query_string={
        "tab": "nope", "type": "x", "category": "nope", "association": "51100000500009247X",
        "overdue": "maybe", "due_within": "-1", "sort": "up", "page": "0", "per_page": "101"})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"tab", "type", "category", "association", "overdue",
                                            "due_within", "sort", "page", "per_page"}
    assert bad.get_json()["errors"]["per_page"] == ["请填写 1 到 100 之间的整数。"]
    en = get(client, token, "/cases", query_string={"per_page": 500}, headers={"Accept-Language": "en"})
    assert en.get_json()["errors"]["per_page"] == ["A whole number from 1 to 100, please."]


def test_no_queue_for_a_supervisor_or_an_administrator(client, db, make_staff):
    for actor in (make_staff("swd-central", Role.supervisor), make_staff("mca", Role.administrator)):
        assert get(client, token_for(db, actor), "/cases").status_code == 403


def test_triage_operator_gets_the_triage_queue(client, db, make_staff):
    operator = make_staff("triage", Role.triage_operator)
    body = get(client, token_for(db, operator), "/cases").get_json()
    assert body["unit"] is None and body["tab"] == "triage" and set(body["counts"]) == {"triage"}


# -- one case -----------------------------------------------------------------------------

def test_case_shows_masked_identity_timeline_and_moves(client, db, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    receipt = file_case(complainant={"name": "张三", "phone": "13800138000", "email": "zhang@example.com"})
    resp = get(client, token, f"/cases/{receipt.case_number}")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert "13800138000" not in text and "zhang@example.com" not in text and "张三" not in text
    case = resp.get_json()
    assert case["complainant"] == {"name": "张*", "phone": "138****8000", "email": "z***@example.com"}
    assert case["number"] == receipt.case_number and case["state"] == "pending_acceptance"
    assert case["description"].startswith("协会要求我公司必须入会")
    assert [e["kind"] for e in case["timeline"]] == ["submitted", "routed"]
    assert set(case["timeline"][0]) >= {"at", "kind", "actor_kind", "from_state", "to_state",
                                        "public_text", "internal_text", "public"}
    assert {"accept", "not_accept", "transfer", "request_info", "assign", "note"} <= set(case["allowed_moves"])
    assert "reply" not in case["allowed_moves"] and case["attachments"] == []
    # the number as people type it
    assert get(client, token, f"/cases/{receipt.case_number.lower()}").status_code == 200


def test_a_reports_identity_is_never_shown(client, db, make_staff, file_case):
    receipt = file_case(type="report", category="illegal_fees")
    with db.session_scope(write=False) as s:
        code = s.get(Case, receipt.case_id).unit.code
    token = token_for(db, make_staff(code, Role.handler))
    resp = get(client, token, f"/cases/{receipt.case_number}")
    assert resp.status_code == 200
    assert resp.get_json()["complainant"] == {"hidden": True}
    assert "138****8000" not in resp.get_data(as_text=True)
    assert "13800138000" not in resp.get_data(as_text=True)


def test_another_units_case_is_not_found_like_a_number_never_issued(client, db, make_staff, file_case):
    number = file_case().case_number
    token = token_for(db, make_staff("mca", Role.handler))
    theirs = get(client, token, f"/cases/{number}")
    never = get(client, token, "/cases/TS20260101999999")
    assert theirs.status_code == never.status_code == 404
    assert theirs.get_json() == never.get_json()
    assert move(client, token, number, "accept", version=1).status_code == 404


# -- moves ----------------------------------------------------------------------------------

def test_accept_then_a_stale_version_gets_409_with_the_current_case(client, db, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    number = file_case().case_number
    version = version_of(client, token, number)
    resp = move(client, token, number, "accept", version=version, public_text="已受理，将在60日内答复。")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    case = resp.get_json()
    assert case["state"] == "accepted" and case["version"] > version
    assert case["handler"]["id"] == handler.user_id
    assert case["timeline"][-1]["kind"] == "accepted"
    assert case["timeline"][-1]["public_text"] == "已受理，将在60日内答复。"
    assert "reply" in case["allowed_moves"]

    stale = move(client, token, number, "note", version=version, internal_text="一条内部备注")
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"]["status"] == 409 and "刚刚修改" in body["error"]["message"]
    assert body["case"]["state"] == "accepted" and body["case"]["version"] == case["version"]
    assert [e["kind"] for e in body["case"]["timeline"]][-1] == "accepted"


def test_transfer_without_reason_is_422_per_field(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    resp = move(client, token, number, "transfer", version=version_of(client, token, number),
                unit_id=unit_id(db, "mca"))
    assert resp.status_code == 422
    assert set(resp.get_json()["errors"]) == {"reason"}
    en = move(client, token, number, "transfer", headers={"Accept-Language": "en"},
              version=version_of(client, token, number), unit_id=unit_id(db, "mca"))
    assert en.get_json()["errors"]["reason"] == ["Choose one of the listed reasons."]
    assert en.get_json()["error"]["message"] == "Please check the marked fields."
    ok = move(client, token, number, "transfer", version=version_of(client, token, number),
              unit_id=unit_id(db, "mca"), reason="other_unit_competent")
    assert ok.status_code == 200
    # the case has left this unit: the answer still comes back, without the identity
    assert ok.get_json()["unit"]["code"] == "mca" and ok.get_json()["complainant"] == {"hidden": True}
    assert ok.get_json()["allowed_moves"] == []
    assert get(client, token, f"/cases/{number}").status_code == 404


def test_reply_while_pending_acceptance_is_not_allowed(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    resp = move(client, token, number, "reply", opinion="supported", legal_basis=BASIS, version=version_of(client, token, number),
                public_text="经核查，协会已退还会费，特此答复。")
    assert resp.status_code == 422
    assert "errors" not in resp.get_json()
    assert "不能进行此操作" in resp.get_json()["error"]["message"]
    assert get(client, token, f"/cases/{number}").get_json()["state"] == "pending_acceptance"


def test_who_may_not_accept(client, db, make_staff, file_case):
    """A supervisor sees every case and may only supervise it: 403. A handler elsewhere does not
    see it: 404."""
    number = file_case().case_number
    supervisor = token_for(db, make_staff("swd-central", Role.supervisor))
    assert get(client, supervisor, f"/cases/{number}").get_json()["allowed_moves"] == ["issue_supervision"]
    refused = move(client, supervisor, number, "accept", version=1)
    assert refused.status_code == 403 and refused.get_json()["error"]["status"] == 403
    admin = token_for(db, make_staff("mca", Role.administrator))
    assert move(client, admin, number, "accept", version=1).status_code == 404
    elsewhere = token_for(db, make_staff("samr", Role.handler))
    assert move(client, elsewhere, number, "accept", version=1).status_code == 404
    # the public's own moves are not staff moves
    handler = token_for(db, make_staff("miit", Role.handler))
    assert move(client, handler, number, "withdraw", version=1).status_code == 403


def test_malformed_move_requests_get_clear_errors(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    url = f"/api/v1/desk/cases/{number}/accept"
    bad_json = client.post(url, data="{not json", content_type="application/json", headers=auth(token))
    assert bad_json.status_code == 400 and "JSON" in bad_json.get_json()["error"]["message"]
    assert client.post(url, data="version=1", headers=auth(token)).status_code == 415
    assert client.post(url, data="[1]", content_type="application/json", headers=auth(token)).status_code == 422
    missing = move(client, token, number, "accept")
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"version"}
    for wrong in ("1", True, 1.5):
        assert move(client, token, number, "accept", version=wrong).status_code == 422
    typed = move(client, token, number, "transfer", version=1, unit_id="mca", reason=["x"])
    assert typed.status_code == 422 and set(typed.get_json()["errors"]) == {"unit_id", "reason"}
    assert move(client, token, number, "fly", version=1).status_code == 404
    assert get(client, token, f"/cases/{number}").get_json()["state"] == "pending_acceptance"


def test_assign_and_note_through_the_api(client, db, make_staff, file_case):
    handler = make_staff("miit", Role.handler)
    colleague = make_staff("miit", Role.handler)
    token = token_for(db, handler)
    number = file_case().case_number
    resp = move(client, token, number, "assign", version=version_of(client, token, number),
                handler_id=colleague.user_id)
    assert resp.status_code == 200 and resp.get_json()["handler"]["id"] == colleague.user_id
    note = move(client, token, number, "note", version=resp.get_json()["version"], internal_text="已电话联系协会")
    assert note.status_code == 200
    last = note.get_json()["timeline"][-1]
    assert last["kind"] == "note" and last["internal_text"] == "已电话联系协会" and last["public"] is False


def test_a_handler_asks_to_see_a_reporters_identity_through_the_api(client, db, make_staff, file_case):
    receipt = file_case(type="report", category="illegal_fees", title="协会违规收费",
                        description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    with db.session_scope(write=False) as s:
        code = s.get(Case, receipt.case_id).unit.code
    token = token_for(db, make_staff(code, Role.handler))
    number = receipt.case_number
    assert "request_reveal" in get(client, token, f"/cases/{number}").get_json()["allowed_moves"]
    short = move(client, token, number, "request_reveal", version=version_of(client, token, number), reason="看")
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    asked = move(client, token, number, "request_reveal", version=version_of(client, token, number),
                 reason="需要联系举报人核实违规收费的具体时间和金额。")
    assert asked.status_code == 200, asked.get_json()
    with db.session_scope(write=False) as s:
        kinds = [e.kind.value for e in s.get(Case, receipt.case_id).events]
    assert "reveal_requested" in kinds


# -- what an integration needs to make every move (issue: the desk API's findings) ---------------

def _offer(case: dict, name: str) -> dict:
    """The fields of an allowed move, by name, as the case answer lists them."""
    offer = next(m for m in case["moves"] if m["name"] == name)
    return {f["name"]: f for f in offer["fields"]}


def test_a_401_speaks_the_callers_language_and_names_the_bearer_scheme(client):
    bare = client.get("/api/v1/desk/me")
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="changtong-staff-api"'
    assert bare.get_json()["error"]["message"].startswith("需要有效的工作人员 API 令牌")
    en = client.get("/api/v1/desk/cases", headers={"Accept-Language": "en"})
    assert en.get_json() == {"error": {"status": 401, "message": (
        "A live staff API token is required: send it as Authorization: Bearer <token>.")}}
    zh = client.get("/api/v1/desk/cases", headers={"Accept-Language": "zh-CN"})
    assert zh.get_json()["error"]["message"] == bare.get_json()["error"]["message"]
    dead = client.get("/api/v1/desk/me", headers={"Authorization": "Bearer ct_" + "x" * 43})
    assert dead.status_code == 401
    assert dead.headers["WWW-Authenticate"] == 'Bearer realm="changtong-staff-api", error="invalid_token"'
    posted = client.post("/api/v1/desk/cases/TS20260101000001/accept", json={"version": 1},
                         headers={"Accept-Language": "en"})
    assert posted.status_code == 401 and "WWW-Authenticate" in posted.headers


def test_state_titles_are_the_desks_and_the_public_apis(client, db, services, make_staff, file_case, mediation):
    """A suggestion awaits its answer (待答复), not its acceptance; an accepted mediation awaits
    the respondent's answer: the same words as the desk, the status page and the public API."""
    suggestion = file_case(type="suggestion", category="policy",
                           title="建议简化会员退会流程", description="建议协会公开退会流程，减少不必要的审批环节。")
    with db.session_scope(write=False) as s:
        code = s.get(Case, suggestion.case_id).unit.code
    token = token_for(db, make_staff(code, Role.handler))
    queue = get(client, token, "/cases").get_json()
    row = next(c for c in queue["items"] if c["number"] == suggestion.case_number)
    assert row["state_title"] == "待答复"
    en = get(client, token, f"/cases/{suggestion.case_number}", headers={"Accept-Language": "en"}).get_json()
    assert en["state"] == "pending_acceptance" and en["state_title"] == "Awaiting an answer"
    public = client.get(f"/api/v1/cases/{suggestion.case_number}", headers={
        "X-Query-Code": suggestion.query_code, "Accept-Language": "en"}).get_json()
    assert public["state_title"] == en["state_title"]

    mediator = make_staff("caam-mediation", Role.handler)
    act(db, services, mediator, mediation.case_id, "accept_mediation")
    body = get(client, token_for(db, mediator), f"/cases/{mediation.case_number}",
               headers={"Accept-Language": "en"}).get_json()
    assert body["state"] == "accepted" and body["state_title"] == "Awaiting the respondent's answer"
    public = client.get(f"/api/v1/cases/{mediation.case_number}", headers={
        "X-Query-Code": mediation.query_code, "Accept-Language": "en"}).get_json()
    assert public["state_title"] == body["state_title"]


ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _times(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _times(value)
    elif isinstance(node, list):
        for value in node:
            yield from _times(value)
    elif isinstance(node, str) and ISO.match(node):
        yield node


def test_every_time_in_an_answer_is_utc_the_moves_answer_as_a_later_read(client, db, make_staff, file_case):
    """A move's answer gave the deadline it had just set in Beijing time (+08:00) while a read
    right after gave it in UTC."""
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    answer = move(client, token, number, "accept", version=version_of(client, token, number))
    assert answer.status_code == 200
    read = get(client, token, f"/cases/{number}").get_json()
    assert answer.get_json()["due_at"] == read["due_at"] and read["due_at"].endswith("+00:00")
    for body in (answer.get_json(), read, get(client, token, "/cases", query_string={"tab": "handling"}).get_json()):
        times = list(_times(body))
        assert times and all(t.endswith("+00:00") for t in times), times


def test_the_case_lists_each_moves_fields_and_the_choices_they_offer(client, db, make_staff, file_case):
    """route and transfer need another unit's id, assign a handler's, not_accept and transfer a
    listed reason: the case answer lists what each offers, as the desk's forms do."""
    handler = make_staff("miit", Role.handler)
    colleague = make_staff("miit", Role.unit_lead)
    token = token_for(db, handler)
    number = file_case().case_number
    case = get(client, token, f"/cases/{number}").get_json()
    assert [m["name"] for m in case["moves"]] == case["allowed_moves"]
    transfer = _offer(case, "transfer")
    units = {c["value"]: c["title"] for c in transfer["unit_id"]["choices"]}
    assert units[unit_id(db, "mca")] == "民政部" and unit_id(db, "miit") not in units  # not its own unit
    assert unit_id(db, "triage") not in units
    assert transfer["unit_id"]["kind"] == "ref" and transfer["unit_id"]["required"] is True
    assert [c["value"] for c in transfer["reason"]["choices"]] == [
        "other_unit_competent", "other_region", "wrong_category", "conflict_of_interest", "other"]
    assert transfer["public_text"] == {"name": "public_text", "kind": "text", "label": transfer["public_text"]["label"],
                                       "required": False, "min_length": 1, "max_length": 5000}
    handlers = {c["value"] for c in _offer(case, "assign")["handler_id"]["choices"]}
    assert {handler.user_id, colleague.user_id} <= handlers
    reasons = [c["value"] for c in _offer(case, "not_accept")["reason"]["choices"]]
    assert "not_a_party" in reasons and "unverifiable" not in reasons  # a complaint's reasons (办法 第三条)
    # a reply's opinion applies to a complaint; the fields the move takes on this case only
    resp = move(client, token, number, "transfer", version=case["version"], unit_id=next(iter(units)),
                reason=transfer["reason"]["choices"][0]["value"])
    assert resp.status_code == 200, resp.get_json()


def test_the_triage_operator_is_offered_the_units_to_route_to(client, db, make_staff, file_case):
    receipt = file_case(association="unknown", association_hint="某个不知名的协会")
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).unit_id is None
    token = token_for(db, make_staff("triage", Role.triage_operator))
    case = get(client, token, f"/cases/{receipt.case_number}").get_json()
    units = [c["value"] for c in _offer(case, "route")["unit_id"]["choices"]]
    assert unit_id(db, "miit") in units and unit_id(db, "triage") not in units
    resp = move(client, token, receipt.case_number, "route", version=case["version"], unit_id=unit_id(db, "miit"))
    assert resp.status_code == 200 and resp.get_json()["unit"]["code"] == "miit"


def test_a_mediation_shows_its_particulars_and_sessions_and_a_session_is_logged_by_its_id(
        client, db, services, make_staff, mediation):
    from casework.accounts.actor import Actor
    from casework.cases.numbers import CHINA
    from datetime import datetime

    mediator = make_staff("caam-mediation", Role.handler)
    token = token_for(db, mediator)
    number = mediation.case_number
    accepted = move(client, token, number, "accept_mediation", version=version_of(client, token, number))
    assert accepted.status_code == 200 and accepted.get_json()["respondent_code"]
    act(db, services, Actor.respondent(mediation.case_id), mediation.case_id, "respondent_consent")
    case = get(client, token, f"/cases/{number}").get_json()
    med = case["mediation"]
    assert med["claim"] == "请求对方支付货款三十万元。" and med["amount"] == "300000.00"
    assert med["respondent_kind"] == "member_company" and med["respondent_kind_title"] == "会员企业"
    assert med["outcome"] is None and med["sessions"] == [] and med["respondent_consented_at"].endswith("+00:00")
    assert "log_session" not in case["allowed_moves"]  # nothing scheduled

    later = (datetime.now(CHINA) + timedelta(days=10)).strftime("%Y-%m-%d 10:00")
    resp = move(client, token, number, "schedule_session", version=case["version"], scheduled_at=later,
                place="协会三楼调解室", online=False)
    assert resp.status_code == 200, resp.get_json()
    case = resp.get_json()
    (future,) = case["mediation"]["sessions"]
    assert future["place"] == "协会三楼调解室" and future["held"] is False and future["to_log"] is False
    assert future["scheduled_at"] == datetime.strptime(later, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA).astimezone(
        timezone.utc).isoformat()
    # set for a later day: logging it is not offered (it was, and then answered 422)
    assert "log_session" not in case["allowed_moves"]
    early = move(client, token, number, "log_session", version=case["version"], session_id=future["id"],
                 attendees="申请人、被申请人", summary="双方就付款期限交换了意见。")
    assert early.status_code == 422 and "errors" not in early.get_json()

    now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")
    case = move(client, token, number, "schedule_session", version=case["version"], scheduled_at=now,
                place="腾讯会议 123-456", online=True).get_json()
    held_now = next(x for x in case["mediation"]["sessions"] if x["id"] != future["id"])
    assert held_now["online"] is True and held_now["to_log"] is True
    offer = _offer(case, "log_session")
    assert [c["value"] for c in offer["session_id"]["choices"]] == [held_now["id"]]  # its time has come
    logged = move(client, token, number, "log_session", version=case["version"], session_id=held_now["id"],
                  attendees="申请人、被申请人、调解员", summary="双方就付款期限交换了意见。", internal_text="可分期。")
    assert logged.status_code == 200, logged.get_json()
    x = next(x for x in logged.get_json()["mediation"]["sessions"] if x["id"] == held_now["id"])
    assert x["held"] is True and x["attendees"] == "申请人、被申请人、调解员" and x["internal_notes"] == "可分期。"
    assert "log_session" not in logged.get_json()["allowed_moves"]

    ended = move(client, token, number, "record_no_agreement", version=logged.get_json()["version"],
                 public_text="双方未能达成一致，可依法申请仲裁或者向人民法院起诉。")
    assert ended.status_code == 200, ended.get_json()
    med = ended.get_json()["mediation"]
    assert med["outcome"] == "no_agreement" and med["ended_at"].endswith("+00:00")
    assert next(x for x in med["sessions"] if x["id"] == future["id"])["not_held"] is True


def test_a_session_called_off_through_the_api_reads_cancelled_and_is_no_longer_one_to_log(
        client, db, services, make_staff, mediation):
    from casework.accounts.actor import Actor
    from casework.cases.numbers import CHINA
    from datetime import datetime

    token = token_for(db, make_staff("caam-mediation", Role.handler))
    number = mediation.case_number
    move(client, token, number, "accept_mediation", version=version_of(client, token, number))
    act(db, services, Actor.respondent(mediation.case_id), mediation.case_id, "respondent_consent")
    later = (datetime.now(CHINA) + timedelta(days=10)).strftime("%Y-%m-%d 10:00")
    case = move(client, token, number, "schedule_session", version=version_of(client, token, number),
                scheduled_at=later, place="协会三楼调解室", online=False).get_json()
    now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")
    case = move(client, token, number, "schedule_session", version=case["version"], scheduled_at=now,
                place="协会会议室", online=False).get_json()
    future, due = sorted(case["mediation"]["sessions"], key=lambda x: x["scheduled_at"], reverse=True)
    assert due["to_log"] is True and due["status"] == "scheduled" and due["status_reason"] is None
    # a session still to come may be moved or cancelled before its time
    assert {c["value"] for c in _offer(case, "cancel_session")["session_id"]["choices"]} == {future["id"], due["id"]}
    cancelled = move(client, token, number, "cancel_session", version=case["version"], session_id=due["id"],
                     public_text="被申请人代理人突发疾病，本次会议取消。")
    assert cancelled.status_code == 200, cancelled.get_json()
    case = cancelled.get_json()
    x = next(x for x in case["mediation"]["sessions"] if x["id"] == due["id"])
    assert x["status"] == "cancelled" and x["status_reason"] == "被申请人代理人突发疾病，本次会议取消。"
    assert x["to_log"] is False and "log_session" not in case["allowed_moves"]


def test_request_reveal_is_not_offered_while_ones_own_request_waits(client, db, make_staff, file_case):
    receipt = file_case(type="report", category="illegal_fees", title="协会违规收费",
                        description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    with db.session_scope(write=False) as s:
        code = s.get(Case, receipt.case_id).unit.code
    token, colleague = token_for(db, make_staff(code, Role.handler)), token_for(db, make_staff(code, Role.handler))
    number = receipt.case_number
    asked = move(client, token, number, "request_reveal", version=version_of(client, token, number),
                 reason="需要联系举报人核实违规收费的具体时间和金额。")
    assert asked.status_code == 200
    assert "request_reveal" not in asked.get_json()["allowed_moves"]
    assert "request_reveal" not in get(client, token, f"/cases/{number}").get_json()["allowed_moves"]
    again = move(client, token, number, "request_reveal", version=version_of(client, token, number),
                 reason="再次申请查看举报人身份信息。", headers={"Accept-Language": "en"})
    assert again.status_code == 422
    assert again.get_json()["error"]["message"] == "You already have a request waiting for the custodian on this case."
    # a colleague's own request is theirs to make
    assert "request_reveal" in get(client, colleague, f"/cases/{number}").get_json()["allowed_moves"]
