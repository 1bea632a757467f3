"""The public JSON API as a mini-program or hotline system uses it."""
import json

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
