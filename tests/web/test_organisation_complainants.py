"""A company or other organisation complains, and an agent (委托代理人) files with a 授权委托书
(issue 19; 市场监督管理投诉举报处理办法 (2026) 第十条, and 第十一条 for an agent): through the plain form (no JavaScript: every
part is sent, only the chosen one is read), through the JSON API, on the desk, and retention."""
import base64
import io
import json
import re
from datetime import timedelta

from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Attachment, Case
from casework.notify.models import OutboxMessage
from casework.privacy.masking import PARTY_FIELDS
from casework.retention.operations import erase_expired
from tests.casework.test_retention import BASE, at, closed_case, load
from tests.web.test_contact_reveal import signed_in
from tests.web.test_public_pages import form_data, open_form, png_bytes
from tests.phone_codes import to_code_step, to_receipt

CODE = "91110108MA01C3PQ7G"  # valid under GB 32100
WRONG = "91110108MA01C3PQ7A"  # the same with a wrong check digit
FULL = "某某（北京）科技有限公司"
HALF = "某某(上海)贸易有限公司"
AGENT_PHONE = "13700137000"


def post(client, slug, data, **kw):
    """The form sent; where the form first proves the phone with an SMS code (issue 19, verified
    phone), the code is read from the outbox (what the development notice folder shows) and the
    form sent again with it, as a person would."""
    resp = to_code_step(client, client.post(f"/file/{slug}", data=data, **kw))
    found = VERIFICATION.search(resp.get_data(as_text=True))
    if found is None or resp.status_code != 200:
        return to_receipt(client, resp)  # a filing's 303, followed to its receipt
    app = client.application
    services = app.extensions["changtong.services"]
    with app.extensions["changtong.db"].session_scope(write=False) as s:
        msg = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "verify_code")
                       .order_by(OutboxMessage.id.desc()).limit(1))
        code = json.loads(services.cipher.decrypt(msg.payload_enc, "outbox.payload"))["code"]
    again = {k: v for k, v in data.items() if k not in ("agent.power_of_attorney", "attachments")}
    again.update(verification_id=found.group(1), verify_code=code)
    return to_receipt(client, client.post(f"/file/{slug}", data=again))


VERIFICATION = re.compile(r'name="verification_id" value="([^"]+)"')


def latest_case(db):
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).order_by(Case.id.desc()).limit(1))
        files = [(a.filename, a.role) for a in case.attachments]
        s.expunge(case)
        return case, files


def test_the_form_offers_the_three_choices_each_with_its_legend_without_javascript(client):
    html = client.get("/file/complaint").get_data(as_text=True)
    for value in ("self", "organisation", "agent"):
        assert f'name="acting_as" value="{value}"' in html
    assert "以谁的名义提交" in html and "本人" in html and "代理他人" in html
    # without JavaScript every part is on the page, under a legend saying when it is filled
    assert 'id="organisation-part"' in html and 'id="agent-part"' in html and 'name="agent.power_of_attorney"' in html
    assert "仅在为公司或其他组织提交时填写" in html and "仅在代理他人提交时填写" in html
    # 办法 (2026) 第十一条: the 授权委托书 states the matter, powers and term; the original and the agent's own
    # identity document are for the unit to see
    hint = html[html.index('id="agent-power_of_attorney-hint"'):]
    hint = hint[:hint.index("</p>")]
    assert "载明委托事项、权限和期限" in hint and "原件和您本人的身份证明" in hint and "第十一条" in hint and "暂行" not in hint
    report = client.get("/file/report").get_data(as_text=True)
    assert 'name="acting_as"' not in report  # a report is the informant's own (and may be anonymous)


def test_a_company_files_a_complaint_through_the_plain_form_full_width_brackets(client, db):
    csrf, token, _ = open_form(client)
    resp = post(client, "complaint", data=form_data(
        csrf, token, acting_as="organisation", **{"organisation.name": FULL, "organisation.credit_code": CODE.lower()}))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:3000]
    case, _ = latest_case(db)
    assert case.complainant_kind == "organisation"
    assert (case.organisation_name, case.organisation_credit_code) == (FULL, CODE)
    assert case.agent_name_enc is None


def test_half_width_brackets_are_accepted_too_in_a_mediation_request(client, db):
    csrf, token, _ = open_form(client, "mediation")
    resp = post(client, "mediation", data=form_data(
        csrf, token, category="fee_dispute", acting_as="organisation",
        **{"organisation.name": HALF, "organisation.credit_code": CODE, "respondent.kind": "member_company",
           "respondent.name": "某某建材有限公司", "claim": "请求对方支付货款三十万元。"}))
    if resp.status_code == 422:  # the category list differs per group: take the first offered
        html = resp.get_data(as_text=True)
        category = re.search(r'<option value="([a-z_]+)"', html).group(1)
        resp = post(client, "mediation", data=form_data(
            csrf, token, category=category, acting_as="organisation",
            **{"organisation.name": HALF, "organisation.credit_code": CODE, "respondent.kind": "member_company",
               "respondent.name": "某某建材有限公司", "claim": "请求对方支付货款三十万元。"}))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:3000]
    case, _ = latest_case(db)
    assert case.organisation_name == HALF and case.type.value == "mediation"


def test_a_wrong_credit_code_is_refused_with_a_clear_message_and_nothing_typed_is_lost(client, db):
    csrf, token, _ = open_form(client)
    resp = post(client, "complaint", data=form_data(
        csrf, token, acting_as="organisation", **{"organisation.name": FULL, "organisation.credit_code": WRONG}))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "统一社会信用代码的最后一位（校验码）与其他字符不符" in html
    assert f'value="{FULL}"' in html and f'value="{WRONG}"' in html
    assert 'name="acting_as" value="organisation" checked' in html
    short = post(client, "complaint", data=form_data(
        csrf, token, acting_as="organisation", **{"organisation.name": FULL, "organisation.credit_code": CODE[:10]}))
    assert "统一社会信用代码为 18 位，此处为 10 位" in short.get_data(as_text=True)
    client.get("/lang/en?next=/")
    english = post(client, "complaint", data=form_data(
        csrf, token, acting_as="organisation", **{"organisation.name": FULL, "organisation.credit_code": WRONG}))
    assert "The last character (check digit) of this unified social credit code does not match" in english.get_data(as_text=True)


def test_an_agent_files_for_a_company_with_a_power_of_attorney_kept_across_an_error(client, db):
    csrf, token, _ = open_form(client)
    fields = {"organisation.name": FULL, "organisation.credit_code": CODE, "agent.phone": AGENT_PHONE}
    # no power of attorney: refused, in Chinese, with what was typed
    resp = post(client, "complaint", data=form_data(csrf, token, acting_as="agent", **fields,
                                                         **{"agent.name": "李四"}))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "请上传被代理人签署的授权委托书" in html and 'value="李四"' in html and f'value="{AGENT_PHONE}"' in html
    # the power of attorney sent with another error (no agent name) is kept for the next try
    data = form_data(csrf, token, acting_as="agent", **fields)
    data["agent.power_of_attorney"] = (io.BytesIO(png_bytes()), "委托书.png")
    resp = post(client, "complaint", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="staged-power-of-attorney"' in html and "委托书.png" in html
    resp = post(client, "complaint", data=form_data(csrf, token, acting_as="agent", **fields,
                                                         **{"agent.name": "李四"}))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:3000]
    case, files = latest_case(db)
    assert files == [("委托书.png", "power_of_attorney")]
    assert case.organisation_name == FULL and case.agent_name_enc is not None


def test_a_plain_post_reads_only_the_chosen_part(client, db):
    """Without JavaScript the hidden parts are sent too: 本人 files as a person, whatever else was typed."""
    csrf, token, _ = open_form(client)
    resp = post(client, "complaint", data=form_data(
        csrf, token, acting_as="self", **{"organisation.name": FULL, "organisation.credit_code": WRONG,
                                          "agent.name": "李四"}))
    assert resp.status_code == 200
    case, _ = latest_case(db)
    assert case.complainant_kind == "person" and case.organisation_name is None and case.agent_name_enc is None


def api_body(submission_data, **agent):
    return submission_data(complainant={
        "kind": "organisation", "organisation": {"name": FULL, "credit_code": CODE},
        "name": "张三", "phone": "13800138000"}, **({"agent": agent} if agent else {}))


def test_the_api_takes_a_company_and_its_agent_with_the_power_of_attorney_in_base64(client, db, submission_data):
    poa = {"name": "授权委托书.png", "content_base64": base64.b64encode(png_bytes()).decode()}
    resp = client.post("/api/v1/cases", json=api_body(submission_data, name="李四", phone=AGENT_PHONE,
                                                      power_of_attorney=poa))
    assert resp.status_code == 201, resp.get_json()
    case, files = latest_case(db)
    assert case.number == resp.get_json()["case_number"]
    assert (case.complainant_kind, case.organisation_name, case.organisation_credit_code) == ("organisation", FULL, CODE)
    assert files == [("授权委托书.png", "power_of_attorney")]


def test_the_api_refuses_an_agent_without_power_of_attorney_a_wrong_code_and_an_agent_on_a_report(client, submission_data):
    resp = client.post("/api/v1/cases", json=api_body(submission_data, name="李四", phone=AGENT_PHONE))
    assert resp.status_code == 422 and "agent.power_of_attorney" in resp.get_json()["errors"]
    bad = api_body(submission_data)
    bad["complainant"]["organisation"]["credit_code"] = WRONG
    errors = client.post("/api/v1/cases", json=bad).get_json()["errors"]
    assert any("校验码" in m for m in errors["organisation.credit_code"])
    report = api_body(submission_data, name="李四", phone=AGENT_PHONE, power_of_attorney={"content_base64": "x"})
    report.update(type="report", category="illegal_fees")
    errors = client.post("/api/v1/cases", json=report).get_json()["errors"]
    assert "complainant.kind" in errors and "agent" in errors
    broken = api_body(submission_data, name="李四", phone=AGENT_PHONE,
                      power_of_attorney={"name": "x.png", "content_base64": base64.b64encode(b"<script>").decode()})
    assert "agent.power_of_attorney" in client.post("/api/v1/cases", json=broken).get_json()["errors"]


def test_the_desk_shows_who_acts_for_whom_masked_with_the_power_of_attorney(app, client, db, make_staff, submission_data):
    poa = {"name": "授权委托书.png", "content_base64": base64.b64encode(png_bytes()).decode()}
    resp = client.post("/api/v1/cases", json=api_body(submission_data, name="李四", phone=AGENT_PHONE,
                                                      power_of_attorney=poa))
    number = resp.get_json()["case_number"]
    handler = signed_in(app, db, make_staff("miit", Role.handler))
    html = handler.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert f"李* 代理 {FULL}" in html
    assert CODE in html and "137****7000" in html and AGENT_PHONE not in html and "李四" not in html
    with db.session_scope(write=False) as s:
        att = s.scalar(select(Attachment).join(Case).where(Case.number == number))
    assert "授权委托书</span>" in html
    download = handler.get(f"/desk/cases/{number}/files/{att.id}")
    assert download.status_code == 200 and download.data[:4] == b"\x89PNG"


def test_retention_erases_the_agents_name_and_phone(db, services, submission_data):
    number = closed_case(db, services, submission_data, BASE, complainant={
        "kind": "organisation", "organisation": {"name": FULL, "credit_code": CODE},
        "name": "张三", "phone": "13800138000"},
        agent={"name": "李四", "phone": AGENT_PHONE, "power_of_attorney": True})
    with db.session_scope(write=False) as s:
        assert load(s, number).agent_phone_enc is not None
    assert "agent" in PARTY_FIELDS
    erase_expired(db, at(services, BASE + timedelta(days=1096, hours=1)))
    with db.session_scope(write=False) as s:
        case = load(s, number)
        assert case.agent_name_enc is None and case.agent_phone_enc is None and case.complainant_name_enc is None
        assert case.organisation_name == FULL  # not personal data: statistics and the file keep it


def test_the_written_notice_addresses_the_organisation(db, services, file_case, act):
    from casework.documents.kinds import Document
    from tests.casework.test_documents import last, routed

    case_id, number = routed(db, file_case, complainant={
        "kind": "organisation", "organisation": {"name": FULL, "credit_code": CODE}, "name": "张三", "phone": "13800138000"})
    act(case_id, "accept")
    text = last(db, services, case_id, Document.acceptance)
    assert FULL in text and "张三" not in text


def test_the_openapi_document_describes_organisations_and_agents(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["NewCase"]["properties"]["agent"] == {"$ref": "#/components/schemas/Agent"}
    assert "power_of_attorney" in schemas["Agent"]["required"]
    assert schemas["Organisation"]["required"] == ["name", "credit_code"]


def test_open311_takes_an_organisation_but_no_agent(client, db):
    from tests.web.test_open311 import BASE, form, post

    definition = client.get(f"{BASE}/services/forced_membership.json").get_json()
    codes = [a["code"] for a in definition["attributes"]]
    assert "organisation_name" in codes and "organisation_credit_code" in codes and "agent" not in " ".join(codes)
    resp = post(client, form(**{"attribute[organisation_name]": FULL, "attribute[organisation_credit_code]": CODE}))
    assert resp.status_code == 200, resp.get_json()
    case, _ = latest_case(db)
    assert (case.complainant_kind, case.organisation_name, case.organisation_credit_code) == ("organisation", FULL, CODE)
    wrong = post(client, form(**{"attribute[organisation_name]": FULL, "attribute[organisation_credit_code]": WRONG}))
    assert wrong.status_code == 400
    assert any(e["description"].startswith("attribute[organisation_credit_code]: 统一社会信用代码的最后一位")
               for e in wrong.get_json())


def test_a_failed_mediation_of_an_organisation_becomes_its_complaint_with_its_agent(db, services, make_staff, file_case):
    from casework.mediation.operations import turn_into_complaint
    from tests.casework.test_mediation_document import act, mediating

    with db.session_scope(write=False) as s:
        from casework.registry.models import Association
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    mediation = file_case(
        type="mediation", category="member_contract", association=caam, claim="请求对方支付货款三十万元。",
        respondent={"name": "某某零部件有限公司", "kind": "member_company"},
        complainant={"kind": "organisation", "organisation": {"name": FULL, "credit_code": CODE},
                     "name": "张三", "phone": "13800138000"},
        agent={"name": "李四", "phone": AGENT_PHONE, "power_of_attorney": True})
    coordinator, _ = mediating(db, services, make_staff, mediation.case_id)
    act(db, services, coordinator, mediation.case_id, "record_no_agreement", public_text="双方分歧较大，建议通过仲裁或诉讼解决。")
    with db.session_scope() as s:
        receipt = turn_into_complaint(s, services, s.get(Case, mediation.case_id), "forced_membership")
    with db.session_scope(write=False) as s:
        new = s.get(Case, receipt.case_id)
        assert (new.complainant_kind, new.organisation_name, new.organisation_credit_code) == ("organisation", FULL, CODE)
        assert services.cipher.decrypt_text(new.agent_name_enc, "case.agent.name") == "李四"


def test_the_staff_api_and_the_respondent_see_the_organisation(client, db, make_staff, submission_data):
    from tests.web.test_desk_api import get, token_for

    poa = {"name": "授权委托书.png", "content_base64": base64.b64encode(png_bytes()).decode()}
    number = client.post("/api/v1/cases", json=api_body(submission_data, name="李四", phone=AGENT_PHONE,
                                                        power_of_attorney=poa)).get_json()["case_number"]
    case = get(client, token_for(db, make_staff("miit", Role.handler)), f"/cases/{number}").get_json()
    assert case["complainant"]["kind"] == "organisation"
    assert case["complainant"]["organisation"] == {"name": FULL, "credit_code": CODE}
    assert case["complainant"]["agent"] == {"name": "李*", "phone": "137****7000"}
    assert [a["role"] for a in case["attachments"]] == ["power_of_attorney"]


def test_the_other_party_of_a_mediation_reads_the_applying_organisations_name(app, client, db, make_staff, file_case):
    from casework.registry.models import Association
    from tests.web.test_mediation_web import accept, open_as_respondent, sign_in

    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    mediation = file_case(
        type="mediation", category="member_contract", association=caam, claim="请求对方支付货款三十万元。",
        respondent={"name": "某某零部件有限公司", "kind": "member_company", "phone": "13900139000"},
        complainant={"kind": "organisation", "organisation": {"name": FULL, "credit_code": CODE},
                     "name": "张三", "phone": "13800138000"})
    sign_in(client, db, make_staff("caam-mediation", Role.unit_lead))
    code = accept(client, mediation)
    respondent = app.test_client()
    assert open_as_respondent(respondent, mediation.case_number, code).status_code == 303
    page = respondent.get(f"/respond/{mediation.case_number}").get_data(as_text=True)
    assert FULL in page and "张三" not in page and "张*" not in page


def test_a_refused_power_of_attorney_says_why_once_and_the_form_keeps_the_rest(client, db):
    csrf, token, _ = open_form(client)
    data = form_data(csrf, token, acting_as="agent", **{"agent.name": "李四", "agent.phone": AGENT_PHONE})
    data["agent.power_of_attorney"] = (io.BytesIO(b"<script>alert(1)</script>"), "委托书.png")
    resp = post(client, "complaint", data, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    box = re.search(r'id="agent-power_of_attorney-field".*?</div>', html, re.S).group(0)
    assert box.count('class="error"') == 1 and "请上传被代理人签署的授权委托书" not in box
    assert 'value="李四"' in html and 'name="acting_as" value="agent" checked' in html
