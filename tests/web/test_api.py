"""The public JSON API as a mini-program or hotline system uses it."""
import json

import pytest
from sqlalchemy import func, select

from casework.cases.models import Case


def post_case(client, data, **headers):
    return client.post("/api/v1/cases", data=json.dumps(data), content_type="application/json", headers=headers)


def test_categories_per_case_type(client):
    items = client.get("/api/v1/categories").get_json()["items"]
    by_code = {c["code"]: c for c in items}
    assert by_code["forced_membership"]["case_types"] == ["complaint", "report"]
    assert by_code["forced_membership"]["name"] == "强制入会/强制摊派"
    assert by_code["consumer"]["case_types"] == ["mediation"]
    en = client.get("/api/v1/categories", headers={"Accept-Language": "en"}).get_json()["items"]
    assert all(c["name"] and not any("\u4e00" <= ch <= "\u9fff" for ch in c["name"]) for c in en)


def test_association_type_ahead(client):
    for q in ("复合材料", "zgfh", "511000005000092", "中汽协"):
        items = client.get("/api/v1/associations", query_string={"q": q}).get_json()["items"]
        assert items, q
    first = client.get("/api/v1/associations?q=复合材料").get_json()["items"][0]
    assert first["credit_code"] == "51100000500009247D"
    assert client.get("/api/v1/associations?q=").get_json()["items"] == []
    assert client.get("/api/v1/associations?q=%25%25").get_json()["items"] == []


def test_file_and_track_a_complaint(client, submission_data):
    resp = post_case(client, submission_data())
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["state"] == "pending_acceptance" and body["case_number"].startswith("TS")
    got = client.get(f"/api/v1/cases/{body['case_number']}", headers={"X-Query-Code": body["query_code"]})
    assert got.status_code == 200
    case = got.get_json()
    assert case["state"] == "pending_acceptance" and case["title"] == "强制入会并收取会费"
    assert case["association"] == "51100000500009247D" and case["association_name"] == "中国复合材料工业协会"
    assert [e["title"] for e in case["timeline"]] == ["已提交", "已分拨"]
    assert "13800138000" not in got.get_data(as_text=True)


def test_wrong_code_and_unknown_number_both_404_alike(client, submission_data):
    body = post_case(client, submission_data()).get_json()
    wrong = client.get(f"/api/v1/cases/{body['case_number']}", headers={"X-Query-Code": "AAAA-AAAA-AAAA-AAAA"})
    unknown = client.get("/api/v1/cases/TS2026010112345", headers={"X-Query-Code": body["query_code"]})
    missing = client.get(f"/api/v1/cases/{body['case_number']}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.get_json() == unknown.get_json() == missing.get_json()


def test_per_field_errors_in_the_callers_language(client, submission_data):
    bad = submission_data(title="", complainant={"name": "张三", "phone": "12345"}, association="51100000500009247X")
    zh = post_case(client, bad)
    assert zh.status_code == 422
    errors = zh.get_json()["errors"]
    assert set(errors) == {"title", "complainant.phone", "association"}
    assert errors["title"] == ["此项为必填项。"]
    en = post_case(client, bad, **{"Accept-Language": "en"}).get_json()["errors"]
    assert en["title"] == ["This field is required."]


def test_anonymous_report_and_mediation_request(client, submission_data):
    report = submission_data(type="report", anonymous=True, category="illegal_fees", complainant=None)
    body = post_case(client, report).get_json()
    assert body["case_number"].startswith("JB")
    med = submission_data(type="mediation", category="member_contract", claim="请求对方支付货款三十万元。",
                          amount="300000", respondent={"name": "成都某某贸易有限公司", "kind": "member_company"})
    assert post_case(client, med).get_json()["case_number"].startswith("TJ")


def test_idempotency_key_files_once(client, db, submission_data):
    first = post_case(client, submission_data(), **{"Idempotency-Key": "hotline-call-000123-5b0c2f7e9a1d4e36"})
    again = post_case(client, submission_data(), **{"Idempotency-Key": "hotline-call-000123-5b0c2f7e9a1d4e36"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json()
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_a_64_character_idempotency_key_files_once(client, db, submission_data):
    key = "k" * 64  # the longest the API takes: namespaced, it no longer fits the column as is
    first = post_case(client, submission_data(), **{"Idempotency-Key": key})
    again = post_case(client, submission_data(), **{"Idempotency-Key": key})
    other = post_case(client, submission_data(), **{"Idempotency-Key": "k" * 63 + "j"})
    assert first.status_code == again.status_code == other.status_code == 201
    assert first.get_json() == again.get_json() != other.get_json()
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 2


def test_malformed_requests_get_clear_errors_not_500(client):
    bad_json = client.post("/api/v1/cases", data="{not json", content_type="application/json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.get_json()["error"]["message"]
    assert client.post("/api/v1/cases", data="a=b").status_code == 415
    assert post_case(client, [1, 2]).status_code == 422
    assert post_case(client, {"type": {"nested": True}, "title": ["x"], "complainant": "张三"}).status_code == 422
    assert client.get("/api/v1/nothing").get_json()["error"]["status"] == 404


def test_a_text_field_sent_as_a_number_list_or_object_is_refused_not_stored_as_its_repr(client, db, submission_data):
    """A client that sends the description as ["…"] is told so, field by field, in its
    language; before, the case was filed with the text "['…']"."""
    text = "协会要求我公司必须入会，并收取会费两万元。"
    bad = submission_data(title=2024, description=[text], complainant={"name": {"given": "三"}, "phone": "13800138000"},
                          association_hint=True, association="unknown")
    zh = post_case(client, bad)
    assert zh.status_code == 422
    errors = zh.get_json()["errors"]
    assert errors["title"] == errors["description"] == errors["complainant.name"] == ["此项应为文本。"]
    assert errors["association_hint"] == ["此项应为文本。"]
    en = post_case(client, bad, **{"Accept-Language": "en"}).get_json()["errors"]
    assert en["description"] == ["Give this as text."]
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    assert post_case(client, submission_data(description=text)).status_code == 201


def test_a_suggestion_takes_no_resident_id_number(client, db, submission_data):
    """个人信息保护法 第六条 (collect no more than the purpose needs): a suggestion asks for no remedy
    and has no use for a resident ID number, so one sent with it is refused, field by field, and
    nothing is stored; a complaint still takes one."""
    person = {"name": "李华", "phone": "13800138000", "id_number": "11010519491231002X"}
    suggestion = submission_data(type="suggestion", category="policy", title="公开会费标准",
                                 description="建议协会在网站上公开会费标准和收支情况。", complainant=person)
    zh = post_case(client, suggestion)
    assert zh.status_code == 422
    assert zh.get_json()["errors"] == {"complainant.id_number": ["提出建议无需填写身份证号码，请删去。"]}
    en = post_case(client, suggestion, **{"Accept-Language": "en"}).get_json()["errors"]
    assert en["complainant.id_number"] == ["A suggestion needs no resident ID number. Please leave it out."]
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    without = dict(person)
    del without["id_number"]
    assert post_case(client, dict(suggestion, complainant=without)).status_code == 201
    assert post_case(client, submission_data(complainant=person)).status_code == 201


def test_api_needs_no_csrf_token_but_pages_do(client, submission_data):
    assert post_case(client, submission_data()).status_code == 201
    assert client.post("/track", data={"number": "x", "code": "y"}).status_code == 400


def test_openapi_document_describes_every_public_route(client, app):
    import re

    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])

    def openapi_path(rule: str) -> str:  # /cases/<int:x> -> /cases/{x}; the public API's <number> is {case_number}
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule).replace("{number}", "{case_number}")

    routes = {openapi_path(str(r.rule)) for r in app.url_map.iter_rules()
              if str(r.rule).startswith("/api/v1/") and not r.rule.endswith("openapi.json")}
    assert routes == documented
    # the staff API names its bearer token
    assert spec["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    for path in documented:
        if path.startswith("/api/v1/desk/"):
            for operation in spec["paths"][path].values():
                assert operation["security"] == [{"bearerToken": []}], path


def test_a_consent_and_the_flags_are_json_booleans(client, db, submission_data):
    """The privacy consent is a legal consent (个人信息保护法 第十四条: given by an informed, clear
    act): only JSON true counts, never "true", "on" or 1, each answered 422 on the field. A flag
    that is not a boolean is refused by name, where it had silently filed the case unverified."""
    for consent in ("true", "on", 1, "1", "yes"):
        refused = post_case(client, submission_data(privacy_consent=consent), **{"Accept-Language": "en"})
        assert refused.status_code == 422, consent
        assert refused.get_json()["errors"] == {"privacy_consent": [
            "Send true (JSON true, not text or a number) once the privacy notice has been read and accepted."]}
    assert post_case(client, submission_data(privacy_consent=False)).get_json()["errors"] == {
        "privacy_consent": ["请阅读并同意隐私说明。"]}
    for flag in ("true", 1, "yes"):
        refused = post_case(client, submission_data(phone_verified_by_client=flag), **{"Accept-Language": "en"})
        assert refused.status_code == 422
        assert refused.get_json()["errors"] == {"phone_verified_by_client": [
            "Give this as true or false (JSON true or false, not text or a number)."]}
    anonymous = post_case(client, submission_data(type="report", category="illegal_fees", anonymous="yes", complainant=None))
    assert anonymous.status_code == 422 and set(anonymous.get_json()["errors"]) == {"anonymous"}
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    assert post_case(client, submission_data(phone_verified_by_client=False)).status_code == 201
    # the web form sends its ticked box as "1" and is read as before (tests/web/test_public_pages.py)


def test_a_field_the_api_does_not_take_is_refused_by_name(client, db, submission_data):
    """Evidence sent with the case as ``files`` was dropped without a word; now every field the
    API does not take is named (nested too), and the answer says how files are sent."""
    files = [{"name": "通知.png", "content_base64": "iVBORw0KGgo="}]
    resp = post_case(client, submission_data(files=files, attachments=[], complainant={
        "name": "张三", "phone": "13800138000", "address": "北京"}), **{"Accept-Language": "en"})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert set(errors) == {"files", "attachments", "complainant.address"}
    assert "add_evidence" in errors["files"][0] and "/api/v1/cases/{case_number}/add_evidence" in errors["files"][0]
    assert errors["attachments"] == ["There is no such field. A case takes the fields of NewCase in /api/v1/openapi.json."]
    # a mediation request's fields on another type of case, and a respondent's field it never reads
    complaint = post_case(client, submission_data(claim="请求退还会费两万元。", amount="20000"), **{"Accept-Language": "en"})
    assert complaint.get_json()["errors"] == {"claim": ["Only a mediation request takes this field."],
                                              "amount": ["Only a mediation request takes this field."]}
    med = submission_data(type="mediation", category="member_contract", claim="请求对方支付货款三十万元。",
                          respondent={"name": "成都某某贸易有限公司", "kind": "member_company", "email": "a@b.cn"})
    assert set(post_case(client, med).get_json()["errors"]) == {"respondent.email"}
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_text_or_a_part_of_the_wrong_json_type_is_named(client, submission_data):
    resp = post_case(client, submission_data(complainant={"name": "张三", "phone": 13800138000},
                                             verification={"id": "abc", "code": 123456}), **{"Accept-Language": "en"})
    errors = resp.get_json()["errors"]
    assert errors["complainant.phone"] == errors["verification.code"] == ["Give this as text."]
    assert post_case(client, submission_data(complainant="张三")).get_json()["errors"]["complainant"] == [
        "此项应为包含相应字段的 JSON 对象。"]


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1000", "51", "1.5"])
def test_a_bad_limit_on_the_association_type_ahead_is_422(client, limit):
    resp = client.get("/api/v1/associations", query_string={"q": "协会", "limit": limit}, headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": {"limit": ["A whole number from 1 to 50, please."]}}


def test_the_association_type_ahead_takes_its_documented_limits(client):
    assert len(client.get("/api/v1/associations?q=协会&limit=1").get_json()["items"]) == 1
    assert client.get("/api/v1/associations?q=协会&limit=50").status_code == 200
    assert client.get("/api/v1/associations?q=协会&limit=").status_code == 200  # empty: the default


def test_a_body_over_the_limit_is_a_json_413_in_api_words(client):
    """A ~120 MB case and a 2 MB verification: refused before they are read, with the limit in bytes
    (the web form's "go back and choose smaller files" means nothing to a program)."""
    for path, size in (("/api/v1/cases", 120 * 2**20), ("/api/v1/verifications", 2 * 2**20)):
        resp = client.post(path, data=b"{" + b" " * size + b"}", content_type="application/json",
                           headers={"Accept-Language": "en"})
        assert resp.status_code == 413 and resp.mimetype == "application/json", path
        error = resp.get_json()["error"]
        assert error["message"] == f"The request body is too large: at most {error['max_bytes']:,} bytes can be sent here."
    assert client.post("/api/v1/verifications", data=b"{" + b" " * 2**21 + b"}",
                       content_type="application/json").get_json()["error"]["max_bytes"] == 256 * 1024


def test_a_method_the_api_does_not_take_is_405_with_allow(client):
    resp = client.delete("/api/v1/cases")
    assert resp.status_code == 405 and resp.mimetype == "application/json"
    assert resp.headers["Allow"] == "OPTIONS, POST"
    assert client.put("/api/v1/categories").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_the_eleventh_replay_of_a_key_says_when_to_retry(client, submission_data):
    key = "replayed-key-0000000000000000000000000001"
    for _ in range(12):  # filed once, replayed ten times, the eleventh replay refused
        resp = post_case(client, submission_data(), **{"Idempotency-Key": key})
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 600


def test_a_code_hashed_before_the_pepper_was_named_opens_its_case_and_is_stamped_by_that_look_up(client, db, services, file_case):
    """An install upgraded from before pepper rotation: its codes' hashes name no pepper. The
    first right look-up (a GET) opens the case and rewrites the hash under the current pepper,
    and that write is kept; a wrong code changes nothing."""
    from sqlalchemy import update

    from casework.privacy import codes

    receipt = file_case()
    legacy = codes._mac(services.settings.query_pepper, receipt.case_number, receipt.query_code)
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == receipt.case_id).values(query_code_hash=legacy))
    wrong = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": "AAAA-AAAA-AAAA-AAAA"})
    assert wrong.status_code == 404
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).query_code_hash == legacy
    got = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code})
    assert got.status_code == 200
    with db.session_scope(write=False) as s:
        stored = s.get(Case, receipt.case_id).query_code_hash
    assert stored != legacy and codes.stored_pepper_id(stored) == codes.pepper_id(services.settings.query_pepper)
    again = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code})
    assert again.status_code == 200
