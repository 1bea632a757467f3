"""The Open311 GeoReport v2 facade as a civic-reporting client uses it: services in JSON and XML,
a case filed in form encoding with the association's credit code, and followed with its code."""
import json
import xml.etree.ElementTree as ET
from datetime import datetime

from sqlalchemy import func, select

from casework.accounts.models import Role, User
from casework.cases.models import Case, CaseState
from casework.mediation.models import Mediation
from tests.conftest import changed
from tests.security.helpers import CSRF, sign_in
from tests.conftest import BASIS

COMPOSITES = "51100000500009247D"  # 中国复合材料工业协会: complaints go to 工业和信息化部 (miit)
DESCRIPTION = "协会要求我公司必须入会，并收取会费两万元。否则不予办理证明，请依法处理。"
BASE = "/open311/v2"


def form(**changes):
    """A complaint as an Open311 client posts it (form fields, attribute[code]=value)."""
    data = {
        "api_key": "any-client", "jurisdiction_id": "changtong",
        "service_code": "forced_membership",
        "description": DESCRIPTION,
        "first_name": "三", "last_name": "张", "phone": "13800138000",
        "lat": "39.9042", "long": "116.4074",
        "attribute[association_credit_code]": COMPOSITES,
        "attribute[privacy_consent]": "true",
    }
    return changed(data, changes)


def post(client, data, fmt="json", **headers):
    return client.post(f"{BASE}/requests.{fmt}", data=data, headers=headers)


def xml(resp) -> ET.Element:
    assert resp.content_type == "application/xml; charset=utf-8"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(resp.data)


def no_cookie(resp):
    assert "Set-Cookie" not in resp.headers


def test_services_in_json_and_xml(client):
    resp = client.get(f"{BASE}/services.json")
    assert resp.status_code == 200 and resp.content_type == "application/json"
    assert "\\u" not in resp.get_data(as_text=True)  # UTF-8, not escaped
    assert resp.cache_control.public and "Accept-Language" in resp.headers["Vary"]  # public data
    by_code = {s["service_code"]: s for s in resp.get_json()}
    forced = by_code["forced_membership"]
    assert forced["service_name"] == "强制入会/强制摊派" and forced["group"] == "投诉举报"
    assert forced["metadata"] is True and forced["type"] == "realtime"
    assert "投诉" in forced["keywords"] and "举报" in forced["keywords"]
    assert by_code["member_contract"]["group"] == "调解"
    no_cookie(resp)

    en = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).get_json()
    assert {s["service_code"]: s for s in en}["forced_membership"]["service_name"] == "Forced membership / forced levies"
    assert client.get(f"{BASE}/services.json?locale=en").get_json() == en

    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and {el.tag for el in root} == {"service"}
    first = root.find("service[service_code='forced_membership']")
    assert [el.tag for el in first] == ["service_code", "service_name", "description", "metadata", "type",
                                        "keywords", "group"]
    assert first.findtext("metadata") == "true" and first.findtext("service_name") == "强制入会/强制摊派"
    assert len(root) == len(by_code)

    disc = xml(client.get(f"{BASE}/discovery.xml"))
    endpoint = disc.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2")
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    assert datetime.fromisoformat(disc.findtext("changeset")).tzinfo is not None
    assert client.get(f"{BASE}/discovery.json").get_json()["endpoints"][0]["type"] == "production"


def test_service_definition_carries_the_credit_code(client):
    definition = client.get(f"{BASE}/services/forced_membership.json").get_json()
    assert definition["service_code"] == "forced_membership"
    attrs = {a["code"]: a for a in definition["attributes"]}
    credit = attrs["association_credit_code"]
    assert credit["datatype"] == "string" and credit["required"] is False and credit["variable"] is True
    assert "统一社会信用代码" in credit["description"] and "18" in credit["datatype_description"]
    assert [v["key"] for v in attrs["case_type"]["values"]] == ["complaint", "report"]
    assert attrs["privacy_consent"]["required"] is True
    assert [v["key"] for v in attrs["anonymous"]["values"]] == ["false", "true"]
    assert attrs["contact_notice"]["variable"] is False
    orders = [a["order"] for a in definition["attributes"]]
    assert orders == list(range(1, len(orders) + 1))
    assert "respondent_name" not in attrs

    root = xml(client.get(f"{BASE}/services/member_contract.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "member_contract"
    codes = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
    assert {"association_credit_code", "respondent_name", "respondent_kind", "claim", "privacy_consent"} <= set(codes)
    assert "anonymous" not in codes
    assert codes["respondent_name"].findtext("required") == "true"
    kinds = [v.findtext("key") for v in codes["respondent_kind"].findall("values/value")]
    assert kinds == ["member_company", "association", "consumer", "other"]

    missing = client.get(f"{BASE}/services/no_such_thing.xml")
    assert missing.status_code == 404
    assert xml(missing).findtext("error/code") == "404"
    assert xml(missing).findtext("error/description") == "service_code: 未知的事项分类。"


def test_form_post_files_a_case_routed_to_the_associations_unit(client, db, services):
    resp = post(client, form())
    assert resp.status_code == 200 and resp.content_type == "application/json"
    no_cookie(resp)
    [body] = resp.get_json()
    assert set(body) == {"service_request_id", "service_notice", "account_id", "query_code"}
    assert body["service_request_id"].startswith("TS") and body["account_id"] is None
    assert len(body["query_code"].replace("-", "")) == 16
    assert resp.headers["Location"] == f"{BASE}/requests/{body['service_request_id']}.json"
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == body["service_request_id"]))
        assert case.state is CaseState.pending_acceptance and case.unit.code == "miit"
        assert case.association.credit_code == COMPOSITES and case.category.code == "forced_membership"
        assert case.description == DESCRIPTION  # coordinates are not kept
        assert case.title == "协会要求我公司必须入会，并收取会费两万元"  # its first sentence
        who = services.party_cipher(case.type)
        assert who.decrypt_text(case.complainant_name_enc, "case.complainant.name") == "张三"
        assert who.decrypt_text(case.complainant_phone_enc, "case.complainant.phone") == "13800138000"

    # "not sure" of the code: the platform's triage routes it
    [unsure] = post(client, form(**{"attribute[association_credit_code]": "不确定",
                                    "attribute[association_hint]": "某某行业协会",
                                    "attribute[title]": "协会强制入会收费",
                                    "address_string": "北京市西城区某某路1号"})).get_json()
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == unsure["service_request_id"]))
        assert case.state is CaseState.received and case.association_id is None
        assert case.association_hint == "某某行业协会" and case.title == "协会强制入会收费"
        assert case.description.startswith(DESCRIPTION) and "北京市西城区某某路1号" in case.description


def test_anonymous_report_and_mediation_request(client, db):
    report = form(first_name=None, last_name=None, phone=None, service_code="illegal_fees",
                  **{"attribute[case_type]": "report", "attribute[anonymous]": "true"})
    resp = post(client, report, fmt="xml")
    assert resp.status_code == 200
    number = xml(resp).findtext("request/service_request_id")
    assert number.startswith("JB")
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case.anonymous and case.complainant_name_enc is None and case.complainant_phone_enc is None

    med = form(service_code="member_contract", **{
        "attribute[respondent_name]": "成都某某贸易有限公司", "attribute[respondent_kind]": "member_company",
        "attribute[claim]": "请求对方支付货款三十万元。", "attribute[amount]": "300000"})
    [body] = post(client, med).get_json()
    assert body["service_request_id"].startswith("TJ")
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == body["service_request_id"]))
        assert s.scalar(select(Mediation).where(Mediation.case_id == case.id)).claim == "请求对方支付货款三十万元。"


def test_validation_errors_are_open311_errors_in_the_callers_language(client, db):
    bad = form(phone="12345", description="", **{"attribute[association_credit_code]": "51100000500009247X",
                                                 "attribute[privacy_consent]": None})
    zh = post(client, bad)
    assert zh.status_code == 400
    errors = zh.get_json()
    assert all(e["code"] == 400 for e in errors)
    assert [e["description"] for e in errors] == [
        "attribute[association_credit_code]: 统一社会信用代码无效（应为18位且校验码正确）。",
        "description: 此项为必填项。",
        "phone: 请填写中国大陆手机号码（11位数字，例如 13800138000）。",
        "attribute[privacy_consent]: 请阅读并同意隐私说明。",
    ]  # no error about the title: it is derived from the description
    en = post(client, bad, **{"Accept-Language": "en"}).get_json()
    assert en[1]["description"] == "description: This field is required."
    by_param = post(client, dict(bad, locale="en"), fmt="xml")
    root = xml(by_param)
    assert root.tag == "errors" and {el.tag for el in root} == {"error"}
    assert root.findtext("error/description").startswith("attribute[association_credit_code]: This unified")
    assert post(client, form(**{"attribute[case_type]": "complaint", "attribute[anonymous]": "true"}),
                **{"Accept-Language": "en"}).get_json() == [
        {"code": 400, "description": "attribute[anonymous]: Only a report can be filed anonymously."}]
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_status_with_the_query_code_open_then_closed(client, db, act):
    [filed] = post(client, form()).get_json()
    number, code = filed["service_request_id"], filed["query_code"]
    url = f"{BASE}/requests/{number}.json"

    [req] = client.get(url, headers={"X-Query-Code": code}).get_json()
    assert req["status"] == "open" and req["status_notes"] == "待受理"
    assert req["service_code"] == "forced_membership" and req["service_name"] == "强制入会/强制摊派"
    assert req["agency_responsible"] == "工业和信息化部" and req["description"] == DESCRIPTION
    assert req["requested_datetime"].endswith("+08:00") and req["expected_datetime"].endswith("+08:00")
    assert "13800138000" not in json.dumps(req, ensure_ascii=False) and "张三" not in json.dumps(req, ensure_ascii=False)

    with db.session_scope(write=False) as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
    act(case_id, "accept")
    act(case_id, "note", internal_text="内部意见：该协会此前有类似问题。")
    act(case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已停止强制入会做法并退还会费。")
    [replied] = client.get(url, query_string={"query_code": code}).get_json()
    assert replied["status"] == "open"
    assert replied["status_notes"].startswith("已答复") and replied["status_notes"].endswith("经核查，协会已停止强制入会做法并退还会费。")
    assert "内部意见" not in json.dumps(replied, ensure_ascii=False)
    assert act(case_id, "rate", rating="satisfied", public_text="满意") is CaseState.closed
    [closed] = client.get(url, headers={"X-Query-Code": code}).get_json()
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["status_notes"].startswith("已办结") and closed["status_notes"].endswith("并退还会费。")
    assert closed["updated_datetime"] >= req["updated_datetime"]
    en = client.get(url, headers={"X-Query-Code": code, "Accept-Language": "en"}).get_json()[0]
    assert en["status_notes"].startswith("Closed: ") and en["agency_responsible"] != "工业和信息化部"


def test_wrong_code_and_unknown_number_both_404_and_are_throttled(client, settings):
    [filed] = post(client, form()).get_json()
    number, code = filed["service_request_id"], filed["query_code"]
    wrong = client.get(f"{BASE}/requests/{number}.json", headers={"X-Query-Code": "AAAA-AAAA-AAAA-AAAA"})
    unknown = client.get(f"{BASE}/requests/TS2026010112345.json", headers={"X-Query-Code": code})
    missing = client.get(f"{BASE}/requests/{number}.json")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.get_json() == unknown.get_json() == missing.get_json() == [
        {"code": 404, "description": "service_request_id: 没有与此案件编号和查询码匹配的案件。"}]
    # failures count per number (as on /track): past the limit a guess is refused ...
    allowed = int(settings.lookup_limit.split()[0])
    for _ in range(allowed - 2):
        client.get(f"{BASE}/requests.json", query_string={"service_request_id": number, "query_code": "BBBB-BBBB-BBBB-BBBB"})
    refused = client.get(f"{BASE}/requests/{number}.xml", headers={"X-Query-Code": "CCCC-CCCC-CCCC-CCCC"})
    assert refused.status_code == 429 and xml(refused).findtext("error/code") == "429"
    assert 0 < int(refused.headers["Retry-After"]) <= 600  # RFC 6585 §4: when to try again
    english = client.get(f"{BASE}/requests/{number}.json?locale=en", headers={"X-Query-Code": "CCCC-CCCC-CCCC-CCCC"})
    assert english.get_json()[0]["description"].startswith("Too many attempts")
    # ... the right code still opens it, and another number is not affected
    assert client.get(f"{BASE}/requests/{number}.json", headers={"X-Query-Code": code}).status_code == 200
    assert client.get(f"{BASE}/requests/TS2026010112345.json", headers={"X-Query-Code": code}).status_code == 404


def test_failed_lookups_share_the_budget_of_the_track_page(client, settings):
    [filed] = post(client, form()).get_json()
    number = filed["service_request_id"]
    allowed = int(settings.lookup_limit.split()[0])
    token = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
    for _ in range(allowed // 2):
        assert client.post("/track", data={"csrf_token": token, "number": number,
                                           "code": "DDDD-DDDD-DDDD-DDDD"}).status_code == 404
    for _ in range(allowed - allowed // 2):
        client.get(f"{BASE}/requests/{number}.json", headers={"X-Query-Code": "EEEE-EEEE-EEEE-EEEE"})
    assert client.get(f"{BASE}/requests/{number}.json", headers={"X-Query-Code": "FFFF-FFFF-FFFF-FFFF"}).status_code == 429
    assert client.post("/track", data={"csrf_token": token, "number": number,
                                       "code": "GGGG-GGGG-GGGG-GGGG"}).status_code == 429


def test_list_without_ids_is_empty_and_with_an_id_is_that_request(client):
    [filed] = post(client, form()).get_json()
    assert client.get(f"{BASE}/requests.json").get_json() == []
    assert client.get(f"{BASE}/requests.json?status=open&service_code=forced_membership").get_json() == []
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and len(root) == 0
    one = client.get(f"{BASE}/requests.json", query_string={"service_request_id": filed["service_request_id"]},
                     headers={"X-Query-Code": filed["query_code"]}).get_json()
    assert [r["service_request_id"] for r in one] == [filed["service_request_id"]]
    two = client.get(f"{BASE}/requests.json", query_string={"service_request_id": "TS1,TS2"})
    assert two.status_code == 400


def test_client_library_round_trip_in_xml(client):
    """What an Open311 client does: definition, POST (form, XML), then GET the request (XML)."""
    definition = xml(client.get(f"{BASE}/services/forced_membership.xml"))
    required = [a.findtext("code") for a in definition.findall("attributes/attribute")
                if a.findtext("required") == "true"]
    data = form(**{f"attribute[{code}]": "true" for code in required})
    created = xml(post(client, data, fmt="xml"))
    assert created.tag == "service_requests"
    request = created.find("request")
    assert [el.tag for el in request] == ["service_request_id", "service_notice", "account_id", "query_code"]
    number, code = request.findtext("service_request_id"), request.findtext("query_code")

    got = client.get(f"{BASE}/requests/{number}.xml", query_string={"query_code": code})
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    no_cookie(got)
    [req] = xml(got).findall("request")
    assert req.findtext("service_request_id") == number and req.findtext("status") == "open"
    assert req.findtext("service_code") == "forced_membership"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert datetime.fromisoformat(req.findtext(field)).utcoffset() is not None
    assert {"lat", "long", "address", "media_url", "agency_responsible", "status_notes"} <= {el.tag for el in req}


def test_idempotency_key_and_json_body(client, db):
    body = {"service_code": "forced_membership", "description": DESCRIPTION, "first_name": "三", "last_name": "张",
            "phone": "13800138000", "attribute": {"association_credit_code": COMPOSITES, "privacy_consent": True}}
    headers = {"Idempotency-Key": "open311-app-request-0001-9f3e1c2a7b5d4c8e"}
    first = client.post(f"{BASE}/requests.json", json=body, headers=headers)
    again = client.post(f"{BASE}/requests.json", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    assert again.get_json()[0]["query_code"] == first.get_json()[0]["query_code"]  # within the receipt window
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
    long_key = {"Idempotency-Key": "k" * 64}
    assert post(client, form(), **long_key).status_code == 200
    assert post(client, form(), **long_key).headers["Idempotent-Replayed"] == "true"
    assert post(client, form(), **{"Idempotency-Key": "short"}).status_code == 400
    # a replay loop is stopped (10 per 10 minutes a key), and told when it may ask again
    replies = [client.post(f"{BASE}/requests.json", json=body, headers=headers) for _ in range(10)]
    assert replies[-1].status_code == 429 and replies[-1].get_json()[0]["code"] == 429
    assert 0 < int(replies[-1].headers["Retry-After"]) <= 600
    bad_json = client.post(f"{BASE}/requests.json", data="{", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.get_json()[0]["code"] == 400


def test_unknown_paths_are_open311_errors(client):
    unknown = client.get(f"{BASE}/tokens/123.xml")
    assert unknown.status_code == 404 and xml(unknown).findtext("error/code") == "404"
    assert client.get(f"{BASE}/services.csv").status_code == 404
    assert client.post(f"{BASE}/services.json").status_code == 405


def test_a_staff_session_opens_nothing_here(app, db, make_staff):
    """No cookie is read: a handler signed in on the desk, whose unit holds the case, still
    needs the query code here (which is why the facade needs no CSRF token)."""
    staff = app.test_client()
    actor = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        assert sign_in(staff, s.get(User, actor.user_id).username).status_code == 303
    [filed] = post(staff, form()).get_json()
    number = filed["service_request_id"]
    assert staff.get(f"/desk/cases/{number}").status_code == 200  # the session is good on the desk
    assert staff.get(f"{BASE}/requests/{number}.json").status_code == 404


def test_xml_is_well_formed_whatever_the_text():
    from web.open311.render import to_xml

    doc = to_xml("service_requests", [{"description": "a<b & \"c\" \x01\x0b 投诉\n第二行", "lat": None, "ok": True}])
    req = ET.fromstring(doc).find("request")
    assert req.findtext("description") == 'a<b & "c"  投诉\n第二行' and req.findtext("ok") == "true"
    assert req.find("lat").text is None
