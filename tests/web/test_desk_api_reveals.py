"""The identity custodian (身份保管人) through the staff API: the requests waiting in their
units, with their ids, and the decision on one; never the report's content (the desk's
/desk/reveals as JSON)."""
import json

from casework.accounts.models import Role
from casework.cases.models import Case
from tests.web.test_desk_api import get, move, token_for, version_of

REASON = "需要联系举报人核实违规收费的具体时间和金额。"
DESCRIPTION = "协会以评比为名违规收取费用，要求企业缴纳赞助费，举报人手机尾号九零零零。"


def decide(client, token, request_id, headers=None, **body):
    return client.post(f"/api/v1/desk/reveals/{request_id}", data=json.dumps(body),
                       content_type="application/json", headers={"Authorization": f"Bearer {token}", **(headers or {})})


def report(db, file_case, make_staff):
    receipt = file_case(type="report", category="illegal_fees", title="协会违规收费", description=DESCRIPTION)
    with db.session_scope(write=False) as s:
        code = s.get(Case, receipt.case_id).unit.code
    return receipt, code


def test_a_custodian_lists_and_decides_requests_without_seeing_the_case(client, db, make_staff, file_case):
    receipt, code = report(db, file_case, make_staff)
    number = receipt.case_number
    handler = make_staff(code, Role.handler)
    handler_token = token_for(db, handler)
    asked = move(client, handler_token, number, "request_reveal", version=version_of(client, handler_token, number),
                 reason=REASON)
    assert asked.status_code == 200

    custodian = token_for(db, make_staff(code, Role.custodian))
    me = get(client, custodian, "/me").get_json()
    assert me["units"][0]["roles"] == [{"role": "custodian", "title": "身份保管人"}]
    # no case content: the case and its moves answer as for a number never issued
    assert get(client, custodian, f"/cases/{number}").status_code == 404
    assert move(client, custodian, number, "decide_reveal", version=1, request_id=1, decision="approve",
                note="同意").status_code == 404

    listing = get(client, custodian, "/reveals")
    assert listing.status_code == 200 and "no-store" in listing.headers["Cache-Control"]
    (pending,) = listing.get_json()["pending"]
    assert pending["case_number"] == number and pending["reason"] == REASON and pending["own"] is False
    assert pending["requested_by"]["id"] == handler.user_id and pending["status"] == "pending"
    assert pending["requested_at"].endswith("+00:00") and pending["category"] == "illegal_fees"
    text = listing.get_data(as_text=True)
    assert DESCRIPTION not in text and "协会违规收费" not in text and "13800138000" not in text

    missing = decide(client, custodian, pending["id"], decision="maybe", headers={"Accept-Language": "en"})
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == {"decision": ["Choose approve or deny."], "note": ["This field is required."]}
    done = decide(client, custodian, pending["id"], decision="approve", note="同意，仅限核实收费事实。")
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["id"] == pending["id"] and body["status"] == "approved" and body["status_title"] == "已批准"
    assert body["expires_at"].endswith("+00:00") and body["note"] == "同意，仅限核实收费事实。"
    after = get(client, custodian, "/reveals").get_json()
    assert after["pending"] == [] and [r["id"] for r in after["decided"]] == [pending["id"]]
    again = decide(client, custodian, pending["id"], decision="deny", note="不同意。")
    assert again.status_code == 422 and "errors" not in again.get_json()
    # the handler's case says so: the approval runs, nothing more to ask for
    case = get(client, handler_token, f"/cases/{number}").get_json()
    assert case["timeline"][-1]["kind"] == "reveal_decided" and "request_reveal" not in case["allowed_moves"]


def test_who_may_decide(client, db, make_staff, file_case):
    receipt, code = report(db, file_case, make_staff)
    number = receipt.case_number
    # a custodian who is also a handler of the unit asks: another custodian decides
    both = make_staff(code, Role.handler, Role.custodian)
    both_token = token_for(db, both)
    assert move(client, both_token, number, "request_reveal", version=version_of(client, both_token, number),
                reason=REASON).status_code == 200
    (own,) = get(client, both_token, "/reveals").get_json()["pending"]
    assert own["own"] is True
    refused = decide(client, both_token, own["id"], decision="approve", note="同意。")
    assert refused.status_code == 403
    # the case of a handler who is also custodian lists no request of their own to decide
    assert "decide_reveal" not in get(client, both_token, f"/cases/{number}").get_json()["allowed_moves"]

    # a handler is no custodian; a custodian of another unit does not find the request
    assert get(client, token_for(db, make_staff(code, Role.handler)), "/reveals").status_code == 403
    other_unit = "mca" if code != "mca" else "miit"
    elsewhere = token_for(db, make_staff(other_unit, Role.custodian))
    assert get(client, elsewhere, "/reveals").get_json()["pending"] == []
    assert decide(client, elsewhere, own["id"], decision="approve", note="同意。").status_code == 404
    assert decide(client, elsewhere, 999_999, decision="approve", note="同意。").status_code == 404

    # another custodian of the unit decides it, also through the move when they may read the case
    colleague = make_staff(code, Role.handler, Role.custodian)
    token = token_for(db, colleague)
    case = get(client, token, f"/cases/{number}").get_json()
    offer = next(m for m in case["moves"] if m["name"] == "decide_reveal")
    fields = {f["name"]: f for f in offer["fields"]}
    assert [c["value"] for c in fields["request_id"]["choices"]] == [own["id"]]
    assert [c["value"] for c in fields["decision"]["choices"]] == ["approve", "deny"]
    resp = move(client, token, number, "decide_reveal", version=case["version"], request_id=own["id"],
                decision="deny", note="理由不足，不同意。")
    assert resp.status_code == 200, resp.get_json()
    assert get(client, both_token, "/reveals").get_json()["pending"] == []


def test_bad_bodies(client, db, make_staff, file_case):
    receipt, code = report(db, file_case, make_staff)
    handler_token = token_for(db, make_staff(code, Role.handler))
    number = receipt.case_number
    move(client, handler_token, number, "request_reveal", version=version_of(client, handler_token, number),
         reason=REASON)
    custodian = token_for(db, make_staff(code, Role.custodian))
    (pending,) = get(client, custodian, "/reveals").get_json()["pending"]
    url, auth = f"/api/v1/desk/reveals/{pending['id']}", {"Authorization": f"Bearer {custodian}"}
    assert client.post(url, data="decision=approve", headers=auth).status_code == 415
    assert client.post(url, data="{", content_type="application/json", headers=auth).status_code == 400
    assert client.post(url, data="[]", content_type="application/json", headers=auth).status_code == 422
    assert get(client, custodian, "/reveals").get_json()["pending"][0]["status"] == "pending"
