"""Real answers of the staff API against the OpenAPI document the server serves: each answer's
body must validate against the schema the document gives for its path, method and status, and
may hold no property the document does not name (the schema drifted before: a custodian's role,
the queue's triage tab, accept_mediation's respondent_code). Every time in them is UTC.

The document is OpenAPI 3.0; its schemas are turned into JSON Schema 2020-12 here (``nullable``
as a null alternative, and ``unevaluatedProperties: false`` on each object it describes) and
checked with jsonschema_rs (installed with schemathesis, a test dependency)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import jsonschema_rs
import pytest

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.cases.numbers import CHINA
from tests.web.test_desk_api import act, token_for, unit_id

SKIP = {"nullable", "example", "discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class Document:
    """The served document, its schemas as JSON Schema, and a validator per response."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.raw = spec["components"]["schemas"]
        self.schemas = {name: self.convert(s) for name, s in self.raw.items()}
        self.paths = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), ops) for p, ops in spec["paths"].items()]

    def convert(self, node, *, closed: bool = True):
        """JSON Schema for an OpenAPI schema; ``closed``: an object described here takes no
        other property (off for a member of an allOf, whose holder is closed instead)."""
        if isinstance(node, list):
            return [self.convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key in SKIP:
                continue
            if key == "properties":
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            elif key == "allOf":
                out[key] = [self.member(sub) for sub in value]
            elif key in ("anyOf", "oneOf", "items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.convert(value)
            else:
                out[key] = value
        if closed and ("properties" in node or "allOf" in node) and "additionalProperties" not in node \
                and not any("$ref" in m and "properties" not in self.raw[m["$ref"].split("/")[-1]] for m in node.get("allOf", [])):
            out["unevaluatedProperties"] = False
        if node.get("nullable"):
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    def member(self, sub):
        """An allOf member, open: a named schema is written out in place (its own closed copy
        would refuse the properties the other members add)."""
        if "$ref" in sub:
            return self.convert(self.raw[sub["$ref"].split("/")[-1]], closed=False)
        return self.convert(sub, closed=False)

    def response_schema(self, method: str, path: str, status: int) -> dict:
        ops = next((ops for pattern, ops in self.paths if pattern.match(path)), None)
        assert ops is not None, f"{path} is not in the document"
        op = ops.get(method.lower())
        assert op is not None, f"{method} {path} is not in the document"
        response = op["responses"].get(str(status))
        assert response is not None, f"{method} {path}: {status} is not documented ({sorted(op['responses'])})"
        if "$ref" in response:
            response = self.spec["components"]["responses"][response["$ref"].split("/")[-1]]
        return response["content"]["application/json"]["schema"]

    def check(self, method: str, path: str, resp) -> None:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  **self.convert(self.response_schema(method, path, resp.status_code)),
                  "components": {"schemas": self.schemas}}
        body = resp.get_json()
        errors = [f"{e.instance_path}: {e.message}"
                  for e in jsonschema_rs.validator_for(schema, validate_formats=True).iter_errors(body)]
        assert not errors, f"{method} {path} {resp.status_code}:\n" + "\n".join(errors[:20])
        late = [t for t in _strings(body) if ISO.match(t) and not t.endswith("+00:00")]
        assert not late, f"{method} {path}: times not in UTC: {late}"


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


@pytest.fixture
def doc(client):
    return Document(client.get("/api/v1/openapi.json").get_json())


class Caller:
    """Calls the staff API with a token and checks each answer against the document."""

    def __init__(self, client, doc: Document, token: str | None):
        self.client, self.doc, self.token = client, doc, token
        self.seen: set[tuple[str, str, int]] = set()

    def _headers(self, lang):
        return {**({"Authorization": f"Bearer {self.token}"} if self.token else {}), "Accept-Language": lang}

    def get(self, path, status=200, lang="zh-CN", **params):
        resp = self.client.get(f"/api/v1/desk{path}", query_string=params, headers=self._headers(lang))
        return self._checked("GET", path, resp, status)

    def post(self, path, body, status=200, lang="zh-CN"):
        resp = self.client.post(f"/api/v1/desk{path}", json=body, headers=self._headers(lang))
        return self._checked("POST", path, resp, status)

    def _checked(self, method, path, resp, status):
        assert resp.status_code == status, (method, path, resp.status_code, resp.get_data(as_text=True)[:500])
        self.doc.check(method, f"/api/v1/desk{path}", resp)
        self.seen.add((method, path.split("/")[1], status))
        return resp.get_json()


def test_the_staff_apis_answers_are_what_its_document_says(client, db, services, doc, make_staff, file_case, mediation):
    handler = make_staff("miit", Role.handler)
    api = Caller(client, doc, token_for(db, handler))
    Caller(client, doc, None).get("/me", status=401)
    Caller(client, doc, "ct_" + "x" * 43).get("/cases", status=401, lang="en")
    api.get("/me")

    # a complaint, through its moves: the queue, the case, a stale version, per-field and state refusals
    complaint = file_case(complainant={"name": "张三", "phone": "13800138000", "email": "zhang@example.com"})
    number = complaint.case_number
    api.get("/cases")
    api.get("/cases", tab="handling", sort="new", lang="en")
    api.get("/cases", status=422, tab="nope", per_page="500")
    api.get("/cases", status=403, unit=str(unit_id(db, "mca")))
    case = api.get(f"/cases/{number}")
    api.get("/cases/TS20260101999999", status=404)
    api.post(f"/cases/{number}/transfer", {"version": case["version"]}, status=422)
    api.post(f"/cases/{number}/reply", {"version": case["version"], "public_text": "经核查，协会已退还会费，特此答复。"},
             status=422)
    accepted = api.post(f"/cases/{number}/accept", {"version": case["version"], "public_text": "已受理。"})
    api.post(f"/cases/{number}/note", {"version": case["version"], "internal_text": "迟到的备注"}, status=409)
    api.post(f"/cases/{number}/withdraw", {"version": accepted["version"]}, status=403)
    api.post(f"/cases/{number}/assign", {"version": accepted["version"], "handler_id": handler.user_id})
    api.post(f"/cases/{number}/reveal_contact", {"version": accepted["version"] + 1,
                                                 "reason": "电话核实投诉事实。"})

    # a suggestion, and a complaint transferred away (the answer after it leaves the unit)
    file_case(type="suggestion", category="policy", title="公开会费标准", description="建议协会在网站上公开会费标准和收支情况。")
    other = file_case().case_number
    api.post(f"/cases/{other}/transfer", {"version": api.get(f"/cases/{other}")["version"],
                                          "unit_id": unit_id(db, "mca"), "reason": "other_unit_competent"})

    # the triage queue
    triage = Caller(client, doc, token_for(db, make_staff("triage", Role.triage_operator)))
    file_case(association="unknown", association_hint="某个不知名的协会")
    assert triage.get("/cases")["tab"] == "triage"
    triage.get("/me")

    # a supervisor reads every case
    Caller(client, doc, token_for(db, make_staff("swd-central", Role.supervisor))).get(f"/cases/{number}")

    # a mediation: accepted (the respondent's code, once), sessions, the outcome
    mediator = Caller(client, doc, token_for(db, make_staff("caam-mediation", Role.handler)))
    med = mediation.case_number
    version = mediator.get(f"/cases/{med}")["version"]
    assert mediator.post(f"/cases/{med}/accept_mediation", {"version": version})["respondent_code"]
    act(db, services, Actor.respondent(mediation.case_id), mediation.case_id, "respondent_consent")
    case = mediator.get(f"/cases/{med}", lang="en")
    for when in (datetime.now(CHINA), datetime.now(CHINA) + timedelta(days=7)):
        case = mediator.post(f"/cases/{med}/schedule_session", {
            "version": case["version"], "scheduled_at": when.strftime("%Y-%m-%d %H:%M"), "place": "协会三楼调解室"})
    session_id = next(x["id"] for x in case["mediation"]["sessions"] if x["to_log"])
    case = mediator.post(f"/cases/{med}/log_session", {"version": case["version"], "session_id": session_id,
                                                      "attendees": "申请人、被申请人", "summary": "双方交换了意见。"})
    mediator.post(f"/cases/{med}/record_no_agreement", {
        "version": case["version"], "public_text": "双方未能达成一致，可依法申请仲裁或者向人民法院起诉。"})
    mediator.get(f"/cases/{med}")

    # a report: the handler asks to see the reporter's identity, the custodian decides
    report = file_case(type="report", category="illegal_fees", title="协会违规收费",
                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    with db.session_scope(write=False) as s:
        code = s.get(Case, report.case_id).unit.code
    reporter_unit = Caller(client, doc, token_for(db, make_staff(code, Role.handler)))
    version = reporter_unit.get(f"/cases/{report.case_number}")["version"]
    reporter_unit.post(f"/cases/{report.case_number}/request_reveal",
                       {"version": version, "reason": "需要联系举报人核实违规收费的具体时间和金额。"})
    custodian = Caller(client, doc, token_for(db, make_staff(code, Role.custodian)))
    assert custodian.get("/me")["units"][0]["roles"][0]["role"] == "custodian"
    (pending,) = custodian.get("/reveals")["pending"]
    custodian.post(f"/reveals/{pending['id']}", {"decision": "maybe"}, status=422)
    custodian.post(f"/reveals/{pending['id']}", {"decision": "approve", "note": "同意，仅限核实。"})
    custodian.post(f"/reveals/{pending['id']}", {"decision": "deny", "note": "不同意。"}, status=422)
    custodian.post("/reveals/999999", {"decision": "deny", "note": "不同意。"}, status=404)
    custodian.get("/reveals")
    api.get("/reveals", status=403)

    # every operation of the staff API was called with its success and the refusals above
    ops = {(m, p) for m, p, status in api.seen | custodian.seen | mediator.seen | triage.seen if status == 200}
    assert ops == {("GET", "me"), ("GET", "cases"), ("POST", "cases"), ("GET", "reveals"), ("POST", "reveals")}


class _Answer:
    def __init__(self, status_code, body):
        self.status_code, self._body = status_code, body

    def get_json(self):
        return self._body


def test_the_check_refuses_what_the_document_does_not_say(doc):
    """The check itself: an undocumented property, a value outside an enum, a missing required
    property, a null where none is allowed, a time not in UTC."""
    me = {"id": 1, "username": "u", "display_name": "U",
          "units": [{"id": 1, "code": "miit", "name": "工业和信息化部", "roles": [{"role": "custodian", "title": "身份保管人"}]}]}
    doc.check("GET", "/api/v1/desk/me", _Answer(200, me))
    for bad in ({**me, "extra": 1}, {**me, "units": [{**me["units"][0], "roles": [{"role": "king", "title": "x"}]}]},
                {k: v for k, v in me.items() if k != "username"}, {**me, "units": [{**me["units"][0], "id": None}]},
                {**me, "units": [{**me["units"][0], "colour": "red"}]}):
        with pytest.raises(AssertionError):
            doc.check("GET", "/api/v1/desk/me", _Answer(200, bad))
    queue = {"unit": None, "tab": "triage", "items": [], "page": 1, "per_page": 25, "total": 0, "counts": {"triage": 0}}
    doc.check("GET", "/api/v1/desk/cases", _Answer(200, queue))
    with pytest.raises(AssertionError):
        doc.check("GET", "/api/v1/desk/cases", _Answer(200, {**queue, "tab": "elsewhere"}))
    summary = {"number": "TS1", "type": "complaint", "state": "accepted", "title": "t", "category": "c",
               "association": None, "unit": None, "handler": None, "due_at": "2027-02-11T15:59:59+00:00",
               "overdue": False, "version": 1}
    doc.check("GET", "/api/v1/desk/cases", _Answer(200, {**queue, "items": [summary]}))
    with pytest.raises(AssertionError, match="UTC"):
        doc.check("GET", "/api/v1/desk/cases", _Answer(200, {**queue, "items": [
            {**summary, "due_at": "2027-02-11T23:59:59+08:00"}]}))
