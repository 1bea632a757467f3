"""The public JSON API keeps to the OpenAPI document it serves (/api/v1/openapi.json): real
requests of each case type are valid against the request schemas, and every answer they get
(201, 200, 409, 422, 404, 429, the PDF) is valid against the schema documented for its status,
read strictly: an object may hold no property the document does not name, so a field the server
adds without the document (PublicCase's deadline, review and version; ValidationErrors'
tries_left were such) fails here, as does a field the document asks for that the server does
not take (NewCase's claim and amount were missing, its respondent had no kind: a client built
from the document could not file a mediation request)."""
from __future__ import annotations

import base64
import copy
import io
import json
from datetime import datetime, timedelta, timezone

import jsonschema_rs
import pytest
from PIL import Image
from sqlalchemy import select, update

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.registry.models import Association
from casework.workflow.machine import perform
from tests.conftest import BASIS

SPEC_PATH = "/api/v1/openapi.json"


def _resolve(spec: dict, ref: str) -> dict:
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def strict(spec: dict, node, *, closed: bool = True):
    """An OpenAPI 3.0 schema as a self-contained JSON Schema (2020-12): references inlined,
    ``nullable`` as a null alternative, and every object closed (``unevaluatedProperties:
    false``) unless it says what else it takes; an ``allOf``'s parts are closed only as a whole."""
    if isinstance(node, list):
        return [strict(spec, n, closed=closed) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return strict(spec, _resolve(spec, node["$ref"]), closed=closed)
    out = {}
    for key, value in node.items():
        if key in ("example", "nullable", "description", "default"):
            continue
        if key == "allOf":
            out[key] = [strict(spec, part, closed=False) for part in value]
        elif key in ("anyOf", "oneOf"):
            out[key] = [strict(spec, part, closed=closed) for part in value]
        elif key == "properties":
            out[key] = {name: strict(spec, sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strict(spec, value)
        else:
            out[key] = value
    if closed and ("properties" in out or "allOf" in out) and "additionalProperties" not in out:
        out["unevaluatedProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def problems(spec: dict, schema: dict, instance) -> list[str]:
    validator = jsonschema_rs.Draft202012Validator(strict(spec, schema))
    return [f"{'/'.join(map(str, e.instance_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(instance)]


class Contract:
    """The served document, and checks of requests and answers against it."""

    def __init__(self, client):
        self.client = client
        self.spec = client.get(SPEC_PATH).get_json()
        self.seen: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> dict:
        return self.spec["paths"][path][method.lower()]

    def request_ok(self, method: str, path: str, body) -> None:
        schema = self.operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
        assert problems(self.spec, schema, body) == [], f"{method} {path}: the request is not valid per the document"

    def request_refused_by_schema(self, method: str, path: str, body) -> list[str]:
        schema = self.operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
        return problems(self.spec, schema, body)

    def answer(self, method: str, path: str, resp, status: int | None = None):
        """``resp`` is documented for its status, with its content type, and its body is valid."""
        if status is not None:
            assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
        responses = self.operation(method, path)["responses"]
        code = str(resp.status_code)
        assert code in responses, f"{method} {path} answered {code}, which the document does not list"
        documented = responses[code]
        if "$ref" in documented:
            documented = _resolve(self.spec, documented["$ref"])
        content = documented.get("content", {})
        assert resp.mimetype in content, f"{method} {path} {code}: {resp.mimetype} not documented ({list(content)})"
        for name, header in documented.get("headers", {}).items():
            if name == "Retry-After":
                assert int(resp.headers[name]) >= 1, f"{method} {path} {code}: no Retry-After"
        if resp.mimetype == "application/json":
            found = problems(self.spec, content["application/json"]["schema"], resp.get_json())
            assert found == [], f"{method} {path} {code}: {found}"
        self.seen.add((method, path, resp.status_code))
        return resp

    # -- the calls, each checked -------------------------------------------------------------

    def file(self, body: dict, status: int = 201, **headers):
        if status == 201:
            self.request_ok("POST", "/api/v1/cases", body)
        resp = self.client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                                headers=headers)
        return self.answer("POST", "/api/v1/cases", resp, status)

    def read(self, receipt: dict, status: int = 200, code: str | None = None):
        resp = self.client.get(f"/api/v1/cases/{receipt['case_number']}",
                               headers={"X-Query-Code": code or receipt["query_code"]})
        return self.answer("GET", "/api/v1/cases/{case_number}", resp, status)

    def act(self, receipt: dict, action: str, body: dict, status: int = 200, code: str | None = None):
        path = "/api/v1/cases/{case_number}/{action}"
        if status in (200, 201):
            self.request_ok("POST", path, body)
        resp = self.client.post(f"/api/v1/cases/{receipt['case_number']}/{action}", json=body,
                                headers={"X-Query-Code": code or receipt["query_code"]})
        return self.answer("POST", path, resp, status)


@pytest.fixture
def contract(client):
    return Contract(client)


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def caam(db) -> str:
    with db.session_scope(write=False) as s:
        return s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))


def staff_does(db, services, actor, number: str, move: str, **fields):
    with db.session_scope() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        perform(s, services, actor, case, move, **fields)


COMPLAINT = {
    "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
    "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
    "complainant": {"name": "张三", "phone": "13800138000"}, "privacy_consent": True,
}


def bodies(db) -> dict[str, dict]:
    """A real request of each case type (and of each way to file one), as a client sends it."""
    return {
        "complaint": COMPLAINT,
        "complaint by an organisation, through an agent": {
            **COMPLAINT, "complainant": {"kind": "organisation", "name": "王五", "phone": "13700137000",
                                         "organisation": {"name": "某某（北京）科技有限公司",
                                                          "credit_code": "91110108MA01C3PQ7G"}},
            "agent": {"name": "赵律师", "phone": "13600136000",
                      "power_of_attorney": {"name": "委托书.png", "content_base64": png()}}},
        "report": {"type": "report", "association": "51100000500009247D", "category": "illegal_fees",
                   "title": "协会违规收费", "description": "协会以评比为名违规收取费用，要求企业缴纳赞助费。",
                   "complainant": {"name": "李四", "phone": "13900139000", "email": "li@example.com"},
                   "privacy_consent": True},
        "anonymous report": {"type": "report", "association": "unknown", "association_hint": "某市汽车配件协会",
                             "category": "illegal_fees", "title": "协会违规收费",
                             "description": "协会以评比为名违规收取费用，要求企业缴纳赞助费。", "anonymous": True,
                             "privacy_consent": True},
        "mediation": {"type": "mediation", "association": caam(db), "category": "member_contract",
                      "title": "会员企业拖欠货款", "description": "对方是同一协会的会员企业，拖欠货款三十万元至今未付。",
                      "complainant": {"name": "张三", "phone": "13800138000"},
                      "respondent": {"kind": "member_company", "name": "某某零部件有限公司", "phone": "13900139000"},
                      "claim": "请求对方支付货款三十万元。", "amount": "300000.50", "privacy_consent": True},
        "mediation, amount as a number": {
            "type": "mediation", "association": caam(db), "category": "member_contract",
            "title": "会员企业拖欠货款", "description": "对方是同一协会的会员企业，拖欠货款三十万元至今未付。",
            "complainant": {"name": "张三", "phone": "13800138000"},
            "respondent": {"kind": "association", "name": "某市汽车工业协会"},
            "claim": "请求对方退还多收的费用。", "amount": 1200, "privacy_consent": True},
        "suggestion": {"type": "suggestion", "association": "51100000500009247D", "category": "policy",
                       "title": "公开会费标准", "description": "建议协会在网站上公开会费标准和收支情况。",
                       "privacy_consent": True},
    }


@pytest.mark.parametrize("kind", ["complaint", "complaint by an organisation, through an agent", "report",
                                  "anonymous report", "mediation", "mediation, amount as a number", "suggestion"])
def test_each_case_type_is_filed_and_read_as_the_document_says(contract, db, kind):
    body = bodies(db)[kind]
    receipt = contract.file(body).get_json()  # the request is valid per NewCase, the answer per Receipt
    case = contract.read(receipt).get_json()
    assert case["type"] == body["type"] and case["version"] >= 1
    assert case["documents"] == [] and case["review"] is None
    assert case["deadline"] is None or case["deadline"]["due_at"].endswith("+00:00")
    # every time the API gives is UTC, ISO 8601
    for at in [case["submitted_at"], *(e["at"] for e in case["timeline"])]:
        assert datetime.fromisoformat(at).utcoffset() == timedelta(0), at
    # evidence after filing (files are not taken with the case), answered with the case
    done = contract.act(receipt, "add_evidence", {"public_text": "补充一份缴费通知。", "files": [{"name": "通知.png", "content_base64": png()}]})
    assert done.get_json()["message"]
    # a wrong code is a 404 alike for reading and acting
    contract.read(receipt, 404, code="AAAA-AAAA-AAAA-AAAA")
    contract.act(receipt, "add_evidence", {"public_text": "补充说明。"}, 404, code="AAAA-AAAA-AAAA-AAAA")


def test_a_mediation_request_without_its_fields_is_refused_as_the_document_says(contract, db):
    """The document names what a mediation request needs (claim, respondent with kind and name);
    the server refuses one without them, per field."""
    body = copy.deepcopy(bodies(db)["mediation"])
    del body["claim"]
    del body["respondent"]["kind"]
    assert contract.request_refused_by_schema("POST", "/api/v1/cases", body)  # the document says so too
    errors = contract.file(body, 422).get_json()["errors"]
    assert {"claim", "respondent.kind"} <= set(errors)


def test_errors_and_refusals_are_documented(contract, db, sms_code):
    client = contract.client
    # 422 per field, unknown fields named
    refused = contract.file({**COMPLAINT, "files": [{"name": "a.png", "content_base64": png()}], "evidence": "x"}, 422)
    assert set(refused.get_json()["errors"]) == {"files", "evidence"}
    # 400 and 415
    contract.answer("POST", "/api/v1/cases", client.post("/api/v1/cases", data="{bad", content_type="application/json"), 400)
    contract.answer("POST", "/api/v1/cases", client.post("/api/v1/cases", data="a=b"), 415)
    # the verification: 201, a wrong code 422 with tries_left, a bad body 400/422
    sent = contract.answer("POST", "/api/v1/verifications", client.post("/api/v1/verifications", json={"phone": "13800138000"}), 201)
    vid = sent.get_json()["id"]
    wrong = contract.file({**COMPLAINT, "verification": {"id": vid, "code": "000000"}}, 422)
    assert wrong.get_json()["tries_left"] == 4
    contract.answer("POST", "/api/v1/verifications", client.post("/api/v1/verifications", data="{bad", content_type="application/json"), 400)
    contract.answer("POST", "/api/v1/verifications", client.post("/api/v1/verifications", json=[]), 422)
    again = contract.answer("POST", "/api/v1/verifications", client.post("/api/v1/verifications", json={"phone": "13800138000"}), 429)
    assert again.headers["Retry-After"]
    # the association type-ahead: a bad limit is a 422
    contract.answer("GET", "/api/v1/associations", client.get("/api/v1/associations?q=zgfh&limit=0"), 422)
    contract.answer("GET", "/api/v1/associations", client.get("/api/v1/associations?q=zgfh&limit=50"), 200)


def test_a_complaint_through_reply_and_review_keeps_to_the_document(contract, db, services, make_staff):
    """The answers that carry a deadline, a review's body and date, written notices and a reply's
    documents, each valid against the document; the notice is the PDF the document describes."""
    from casework.intake.files import Upload

    receipt = contract.file(COMPLAINT).get_json()
    number = receipt["case_number"]
    handler = make_staff("miit", Role.handler)
    staff_does(db, services, handler, number, "accept")
    accepted = contract.read(receipt).get_json()
    assert accepted["deadline"]["stage"] == "handling"
    assert [d["kind"] for d in accepted["documents"]] == ["acceptance"]
    staff_does(db, services, handler, number, "reply", opinion="supported", legal_basis=BASIS,
               public_text="经核查，协会已退还会费并停止强制入会。",
               files=[Upload("决定.png", base64.b64decode(png()))])
    replied = contract.read(receipt).get_json()
    assert [d["kind"] for d in replied["documents"]] == ["acceptance", "handling_opinion"]
    assert replied["review"]["by"] and replied["review"]["re_review"] is False
    # the 信访处理意见书 starts the 30 days to ask for a review (信访工作条例 第三十五条): it is there to download
    opinion = replied["documents"][1]
    assert opinion["download"] == f"/api/v1/cases/{number}/documents/{opinion['id']}"
    pdf = contract.client.get(opinion["download"], headers={"X-Query-Code": receipt["query_code"]})
    contract.answer("GET", "/api/v1/cases/{case_number}/documents/{document_id}", pdf, 200)
    assert pdf.data.startswith(b"%PDF")
    reply_file = next(f for e in replied["timeline"] for f in e["files"] if f["id"] is not None)
    got = contract.client.get(reply_file["download"], headers={"X-Query-Code": receipt["query_code"]})
    assert got.status_code == 200 and got.mimetype == "image/png"
    # 409: an action not open now, with the actions that are; 422: a rating not taken
    contract.act(receipt, "urge", {}, 409)
    bad = contract.act(receipt, "rate", {"rating": "ecstatic"}, 422)
    assert "satisfied, basically_satisfied, dissatisfied" in bad.get_json()["errors"]["rating"][0]
    stale = contract.act(receipt, "add_evidence", {"public_text": "补充说明。", "version": replied["version"] - 1}, 409)
    assert stale.get_json()["case"]["case_number"] == number
    review = contract.act(receipt, "review", {"public_text": "退还的会费不足额，请复查。", "version": replied["version"]}).get_json()
    assert review["state"] == "under_review" and set(review["review"]) == {"deciding"}


def test_a_mediation_ended_by_the_applicant_goes_on_as_a_complaint_as_the_document_says(contract, db, services, make_staff):
    """人民调解法 第二十三条 (二): the applicant may end the mediation; it cannot be undone, so the
    API asks for "confirm": true as the status page asks for a ticked box. What the answer says
    can follow (a complaint) is an action the API offers."""
    receipt = contract.file(bodies(db)["mediation"]).get_json()
    staff_does(db, services, make_staff("caam-mediation", Role.unit_lead), receipt["case_number"], "accept_mediation")
    assert "end_mediation" in contract.read(receipt).get_json()["actions"]
    unconfirmed = contract.act(receipt, "end_mediation", {"public_text": "已与对方自行和解。"}, 422)
    assert "confirm" in unconfirmed.get_json()["errors"]
    assert contract.read(receipt).get_json()["state"] == "accepted"  # nothing ended
    ended = contract.act(receipt, "end_mediation", {"confirm": True}).get_json()
    assert ended["state"] == "mediation_failed" and ended["actions"] == ["turn_into_complaint"]
    assert "turn_into_complaint" in ended["message"]
    refused = contract.act(receipt, "turn_into_complaint", {"category": "member_contract"}, 422)
    assert "category" in refused.get_json()["errors"]
    complaint = contract.act(receipt, "turn_into_complaint", {"category": "forced_membership"}, 201).get_json()
    assert complaint["case_number"].startswith("TS") and complaint["query_code"]
    assert contract.read(complaint).get_json()["type"] == "complaint"
    assert contract.read(receipt).get_json()["actions"] == []
    contract.act(receipt, "turn_into_complaint", {"category": "forced_membership"}, 409)


def test_the_lookup_limit_is_documented_with_retry_after(contract, db):
    receipt = contract.file(COMPLAINT).get_json()
    for _ in range(10):
        contract.read(receipt, 404, code="AAAA-AAAA-AAAA-AAAA")
    refused = contract.read(receipt, 429, code="AAAA-AAAA-AAAA-AAAA")
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    contract.act(receipt, "add_evidence", {"public_text": "补充说明。"}, 429, code="AAAA-AAAA-AAAA-AAAA")
    contract.read(receipt, 200)  # the right code is never refused


def test_new_case_in_the_document_is_what_the_server_reads(contract):
    """NewCase's fields, nested, are exactly those POST /api/v1/cases takes (web.api.shape, which
    refuses any other by name): neither can gain a field the other lacks."""
    from web.api.shape import NEW_CASE

    spec = contract.spec

    def tree(schema: dict) -> dict:
        schema = _resolve(spec, schema["$ref"]) if "$ref" in schema else schema
        return {name: tree(sub) if "properties" in (_resolve(spec, sub["$ref"]) if "$ref" in sub else sub) else None
                for name, sub in schema["properties"].items()}

    def accepted(node: dict) -> dict:
        return {name: accepted(sub) if isinstance(sub, dict) else None for name, sub in node.items()}

    assert tree(spec["components"]["schemas"]["NewCase"]) == accepted(NEW_CASE)


def test_every_time_the_api_gives_is_utc(contract, db, services, make_staff, file_case):
    """The document says UTC: submitted_at, the timeline, a deadline's instant, a document's date,
    in the answers to reading and to acting alike (a page shows Beijing time; the API does not)."""
    receipt = file_case()
    body = {"case_number": receipt.case_number, "query_code": receipt.query_code}
    staff_does(db, services, make_staff("miit", Role.handler), receipt.case_number, "accept")
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == receipt.case_id).values(due_at=datetime(2026, 3, 2, 15, 59, tzinfo=timezone.utc)))
    for answer in (contract.read(body).get_json(), contract.act(body, "add_evidence", {"public_text": "补充说明。"}).get_json()):
        assert answer["deadline"]["due_at"] == "2026-03-02T15:59:00+00:00"
        assert answer["deadline"]["due_date"] == "2026-03-02"  # the last day, in China (23:59 Beijing time)
        times = [answer["submitted_at"], *(e["at"] for e in answer["timeline"]), *(d["created_at"] for d in answer["documents"])]
        assert all(datetime.fromisoformat(t).utcoffset() == timedelta(0) for t in times), times


def test_a_time_set_in_beijing_time_in_the_same_request_is_given_in_utc():
    """A deadline a move has just computed is an aware Beijing time until it is read back from
    the database: the answer to the move gave "+08:00" where a read a moment later gave UTC."""
    from datetime import datetime, timedelta, timezone

    from web.presenters import utc_time

    beijing = datetime(2027, 2, 11, 23, 59, 59, tzinfo=timezone(timedelta(hours=8)))
    assert utc_time(beijing) == "2027-02-11T15:59:59+00:00"
    assert utc_time(datetime(2027, 2, 11, 15, 59, 59)) == "2027-02-11T15:59:59+00:00"  # SQLite's naive UTC
