"""The JSON API proves a phone number with a code (POST /api/v1/verifications), or a registered
client vouches for it, or the case is filed with the number unverified and nothing is sent to it
(issue 19)."""
import json
import re

from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.notify.models import OutboxMessage
from tests.web.test_desk_api import auth, token_for

BODY = {
    "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
    "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
    "complainant": {"name": "张三", "phone": "13800138000"}, "privacy_consent": True,
}


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def the_case(db, number):
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        sms = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.channel == "sms"))
        return case, sms


def test_a_verification_code_files_a_verified_number(client, db, sms_code):
    sent = post(client, "/api/v1/verifications", {"phone": "138 0013 8000"})
    assert sent.status_code == 201
    vid = sent.get_json()["id"]
    assert sent.get_json()["expires_in"] == 300
    wrong = post(client, "/api/v1/cases", {**BODY, "verification": {"id": vid, "code": "99999x"}})
    assert wrong.status_code == 422 and wrong.get_json()["tries_left"] == 4
    filed = post(client, "/api/v1/cases", {**BODY, "verification": {"id": vid, "code": sms_code()}})
    assert filed.status_code == 201
    case, sms = the_case(db, filed.get_json()["case_number"])
    assert case.phone_verified_via == "sms" and sms == 1  # the receipt went to the proved number
    again = post(client, "/api/v1/verifications", {"phone": "13800138000"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) <= 60


def test_without_proof_the_case_is_filed_unverified_and_nothing_is_sent(client, db):
    filed = post(client, "/api/v1/cases", BODY)
    assert filed.status_code == 201 and filed.get_json()["query_code"]  # the code is only in the response
    case, sms = the_case(db, filed.get_json()["case_number"])
    assert case.phone_verified_via == "unverified" and case.phone_verified_at is None and sms == 0
    # a stranger may not vouch
    refused = post(client, "/api/v1/cases", {**BODY, "phone_verified_by_client": True})
    assert refused.status_code == 422 and "phone_verified_by_client" in refused.get_json()["errors"]


def test_a_registered_client_vouches_for_the_number(client, db, make_staff):
    token = token_for(db, make_staff("miit", Role.handler))
    filed = post(client, "/api/v1/cases", {**BODY, "phone_verified_by_client": True}, **auth(token))
    assert filed.status_code == 201
    case, sms = the_case(db, filed.get_json()["case_number"])
    assert case.phone_verified_via == "api_client" and sms == 1


def test_the_openapi_document_describes_verifications(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/verifications" in doc["paths"]
    props = doc["components"]["schemas"]
    assert any("verification" in json.dumps(v) for v in props.values())


def test_the_desk_shows_how_the_number_was_verified(app, client, db, make_staff):
    from tests.web.test_contact_reveal import signed_in

    verified = post(client, "/api/v1/cases", {**BODY, "phone_verified_by_client": True},
                    **auth(token_for(db, make_staff("miit", Role.handler)))).get_json()["case_number"]
    unverified = post(client, "/api/v1/cases", BODY).get_json()["case_number"]
    handler = signed_in(app, db, make_staff("miit", Role.handler))
    shown = handler.get(f"/desk/cases/{verified}").get_data(as_text=True)
    assert re.search(r'id="phone-verified">\s*由提交案件的接口客户端担保', shown)
    shown = handler.get(f"/desk/cases/{unverified}").get_data(as_text=True)
    assert re.search(r'id="phone-verified">\s*未验证：不向该号码发送短信', shown)


def test_a_verification_body_is_read_as_a_case_is(client):
    """Not JSON: 400, as POST /api/v1/cases answers; JSON but not an object: 422 on __all__; a
    number for the phone: "Give this as text." (it was "not a mainland China mobile number")."""
    for raw in ("{bad", ""):
        resp = client.post("/api/v1/verifications", data=raw, content_type="application/json",
                           headers={"Accept-Language": "en"})
        assert resp.status_code == 400 and resp.get_json()["error"]["message"] == "The request body is not valid JSON."
    for value in ([], '"13800138000"', "13800138000"):
        resp = client.post("/api/v1/verifications", data=json.dumps(value) if value != "13800138000" else value,
                           content_type="application/json", headers={"Accept-Language": "en"})
        assert resp.status_code == 422 and resp.get_json() == {"errors": {"__all__": ["The request must be a JSON object."]}}
    number = post(client, "/api/v1/verifications", {"phone": 13800138002}, **{"Accept-Language": "en"})
    assert number.status_code == 422 and number.get_json() == {"errors": {"phone": ["Give this as text."]}}
    missing = post(client, "/api/v1/verifications", {}, **{"Accept-Language": "en"})
    assert missing.get_json() == {"errors": {"phone": ["This field is required."]}}


def test_an_unknown_verification_says_so(client, db):
    resp = post(client, "/api/v1/cases", {**BODY, "verification": {"id": "no-such-verification", "code": "123456"}},
                **{"Accept-Language": "en"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"verification": [
        "No code was sent to this number under this verification id, or it was used already: "
        "ask for a new code with POST /api/v1/verifications."]}


def test_the_chinese_wait_reads_without_a_stray_space(client):
    """验证码发送不到一分钟。58 秒后… (a space after a Chinese full stop read as a typo)."""
    assert post(client, "/api/v1/verifications", {"phone": "13800138000"}).status_code == 201
    again = post(client, "/api/v1/verifications", {"phone": "13800138000"}, **{"Accept-Language": "zh-CN"})
    message = again.get_json()["error"]["message"]
    assert re.fullmatch(r"验证码发送不到一分钟。\d+ 秒后可以重新获取验证码。", message), message
    en = post(client, "/api/v1/verifications", {"phone": "13800138000"}, **{"Accept-Language": "en"})
    assert re.fullmatch(r"A code was sent less than a minute ago\. You can ask for a new code in \d+ seconds?\.",
                        en.get_json()["error"]["message"])


def test_a_dead_code_says_when_a_new_one_may_be_sent(client, db):
    vid = post(client, "/api/v1/verifications", {"phone": "13800138000"}).get_json()["id"]
    for _ in range(4):
        assert post(client, "/api/v1/cases", {**BODY, "verification": {"id": vid, "code": "000000"}}).status_code == 422
    dead = post(client, "/api/v1/cases", {**BODY, "verification": {"id": vid, "code": "000000"}})
    assert dead.status_code == 429 and dead.get_json()["tries_left"] == 0
    assert int(dead.headers["Retry-After"]) >= 60
