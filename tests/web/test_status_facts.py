"""Issue 16 (expected and missing): the status page names the unit that holds the case (never a
person), what the reply found and the rating given; the respondent of a mediation request sees
what the dispute is about before answering, without the applicant's contact details."""
import re

from casework.accounts.models import Role
from tests.web.test_public_moves import CSRF, opened, post, staff_move  # noqa: F401  (opened is a fixture)
from tests.conftest import BASIS


def facts(page: str) -> str:
    m = re.search(r'<dl class="facts" id="case-facts">(.*?)</dl>', page, re.S)
    return m.group(1) if m else ""


def test_the_status_page_names_the_unit_the_finding_and_the_rating(client, db, services, make_staff, opened):
    receipt, csrf, get = opened
    page = get()
    assert re.search(r'<dt>承办单位</dt><dd id="handling-unit">工业和信息化部</dd>', facts(page))
    # the case card is headed as such, in the reader's language
    assert re.search(r'<section class="card" id="case-details">\s*<h2>案件信息</h2>', page)
    assert 'id="finding"' not in page and 'id="rating-given"' not in page
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, finding="partly_substantiated",
               public_text="经核查，协会确有要求入会的情况，已责令整改。")
    page = get()
    assert '<dt>核查结论</dt><dd id="finding">部分属实</dd>' in facts(page)
    # 信访工作条例 第三十二条: the opinion on the request, in its words
    assert '<dt>对您请求的处理意见</dt><dd id="opinion">予以支持</dd>' in facts(page)
    assert 'id="rating-given"' not in page
    assert post(client, receipt, csrf, "rate", db, rating="basically_satisfied").status_code == 303
    shown = facts(get())
    assert '<dd id="finding">部分属实</dd>' in shown and '<dt>您的评价</dt><dd id="rating-given">基本满意</dd>' in shown
    # the unit answers, not a person: the handler's name is nowhere on the page
    assert "工业和信息化部 handler" not in get()
    client.set_cookie("lang", "en")
    english_page = get()
    english = facts(english_page)
    assert re.search(r'id="case-details">\s*<h2>Case details</h2>', english_page)
    assert '<dt>Handling unit</dt><dd id="handling-unit">Ministry of Industry and Information Technology</dd>' in english
    assert '<dd id="opinion">Request supported</dd>' in english
    assert '<dd id="finding">Partly substantiated</dd>' in english and '<dd id="rating-given">Basically satisfied</dd>' in english


def test_the_status_api_gives_the_same_facts(client, db, services, make_staff, file_case):
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, finding="substantiated",
               public_text="经核查，情况属实，已责令协会退还会费。")
    data = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code}).get_json()
    assert data["unit_name"] == "工业和信息化部"
    assert (data["finding"], data["finding_title"]) == ("substantiated", "属实")
    assert (data["opinion"], data["opinion_title"]) == ("supported", "予以支持")
    assert data["rating"] is None


def test_the_respondent_sees_the_dispute_before_the_consent_buttons(app, client, db, make_staff, mediation):
    from tests.web.test_mediation_web import accept, open_as_respondent, sign_in

    sign_in(client, db, make_staff("caam-mediation", Role.unit_lead))
    code = accept(client, mediation)
    respondent = app.test_client()
    assert open_as_respondent(respondent, mediation.case_number, code).status_code == 303
    page = respondent.get(f"/respond/{mediation.case_number}").get_data(as_text=True)
    facts_at, consent_at = page.index('id="request-facts"'), page.index('id="consent-form"')
    assert facts_at < consent_at  # read the facts first, then answer
    shown = page[facts_at:consent_at]
    assert '<dd id="request-title">强制入会并收取会费</dd>' in shown
    assert "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。" in shown.split('id="request-description"')[1]
    assert "请求对方支付货款三十万元。" in shown and "300,000.00" in shown
    # the public text only: the applicant's name masked, no contact details, no query code
    assert '<dd id="applicant">张*</dd>' in shown
    assert "张三" not in page and "13800138000" not in page and mediation.query_code not in page


def test_before_acceptance_each_type_is_told_what_it_waits_for(client, file_case):
    """The next step before acceptance names no time limit (the administrator sets them; the date
    is beside it), and an anonymous reporter is not promised to be told (no one can be)."""
    cases = {
        "complaint": file_case(),
        "report": file_case(type="report", category="illegal_fees", title="协会违规收费",
                            description="协会以评比为名违规收取费用，要求企业缴纳赞助费。"),
        "anonymous": file_case(type="report", category="illegal_fees", title="协会违规收费", anonymous=True,
                               complainant={}, description="协会以评比为名违规收取费用，要求企业缴纳赞助费。"),
        "suggestion": file_case(type="suggestion", category="policy", title="公开会费标准",
                                description="建议协会在网站上公开会费标准和收支情况。"),
    }
    said = {}
    for kind, receipt in cases.items():
        body = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code})
        assert body.status_code == 200 and body.get_json()["state"] == "pending_acceptance", kind
        assert body.get_json()["deadline"]["due_date"], kind  # the date the text points to
        said[kind] = body.get_json()["next_step"]
    assert "是否受理您的投诉" in said["complaint"] and "告知您" in said["complaint"]
    assert "举报" in said["report"] and "告知您" in said["report"]
    assert "告知您" not in said["anonymous"] and "不会另行告知" in said["anonymous"] and "本页面" in said["anonymous"]
    assert "建议" in said["suggestion"] and "受理" not in said["suggestion"]
    assert not any(re.search(r"\d+个?工作日", text) for text in said.values()), said


def test_after_the_reply_the_next_step_fits_the_type_and_the_rating(client, db, services, make_staff, file_case):
    """A complaint rated 不满意 stays open for its review (信访工作条例 第三十五条: within 30 days
    of the reply): the page no longer asks for a rating. A suggestion has no review, so its
    answer never offers one."""
    handler = make_staff("miit", Role.handler)
    complaint = file_case()
    staff_move(db, services, handler, complaint.case_id, "accept")
    staff_move(db, services, handler, complaint.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，未发现协会强制入会的情况。")

    def step(receipt):
        return client.get(f"/api/v1/cases/{receipt.case_number}",
                          headers={"X-Query-Code": receipt.query_code}).get_json()

    assert step(complaint)["next_step"] == "已答复。请在15日内评价；如不满意，可以申请复查。"
    assert client.post(f"/api/v1/cases/{complaint.case_number}/rate", json={"rating": "dissatisfied"},
                       headers={"X-Query-Code": complaint.query_code}).status_code == 200
    rated = step(complaint)
    assert rated["state"] == "replied" and "review" in rated["actions"]
    assert rated["next_step"] == "您对答复的评价为不满意。可以在所示日期前（含当日）申请一次复查。"
    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    staff_move(db, services, handler, suggestion.case_id, "acknowledge_reply",
               public_text="感谢建议，已要求协会在网站公开会费标准。")
    answered = step(suggestion)
    assert answered["state"] == "replied" and "review" not in answered["actions"]
    assert answered["next_step"] == "您的建议已有答复。请在15日内对答复作出评价。" and "复查" not in answered["next_step"]


def test_a_suggestions_date_is_named_as_its_answer_not_an_acceptance(client, db, make_staff, file_case):
    """A suggestion is answered, not accepted (its first move is 答复建议), so the date of its first
    stage is the answer's on the status page, in the API and on the desk; a complaint's first
    date stays the decision on acceptance (办法 第十四条: 7 working days to decide)."""
    from tests.web.test_desk import signed_in

    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    complaint = file_case()
    api = {}
    for kind, receipt in (("suggestion", suggestion), ("complaint", complaint)):
        api[kind] = client.get(f"/api/v1/cases/{receipt.case_number}",
                               headers={"X-Query-Code": receipt.query_code}).get_json()["deadline"]
    assert api["suggestion"]["stage"] == "acceptance" and api["suggestion"]["stage_title"] == "答复建议"
    assert api["complaint"]["stage_title"] == "受理决定"
    csrf = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"csrf_token": csrf, "number": suggestion.case_number, "code": suggestion.query_code})
    page = client.get(f"/track/{suggestion.case_number}").get_data(as_text=True)
    assert re.search(r'<p id="deadline">\s*答复建议：\d{4}-\d{2}-\d{2}前（含当日）</p>', page) and "受理决定" not in page

    signed_in(client, db, make_staff("miit", Role.handler))
    client.set_cookie("lang", "en")
    desk = client.get(f"/desk/cases/{suggestion.case_number}").get_data(as_text=True)
    assert '<dd id="case-stage">Answering the suggestion</dd>' in desk and "Decision on acceptance" not in desk
    desk = client.get(f"/desk/cases/{complaint.case_number}").get_data(as_text=True)
    assert '<dd id="case-stage">Decision on acceptance</dd>' in desk


def test_a_suggestion_awaits_an_answer_not_an_acceptance(client, db, make_staff, file_case):
    """Before its answer a suggestion is 待答复 / "Awaiting an answer" on the suggester's page, in
    the API and on the desk's case page and queue; a complaint still awaits acceptance (待受理)."""
    from tests.web.test_desk import signed_in

    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    complaint = file_case()
    got = client.get(f"/api/v1/cases/{suggestion.case_number}", headers={"X-Query-Code": suggestion.query_code}).get_json()
    assert got["state"] == "pending_acceptance" and got["state_title"] == "待答复"
    csrf = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"csrf_token": csrf, "number": suggestion.case_number, "code": suggestion.query_code})
    assert '<p class="state state-pending_acceptance" id="case-state">待答复</p>' in \
        client.get(f"/track/{suggestion.case_number}").get_data(as_text=True)

    signed_in(client, db, make_staff("miit", Role.handler))
    client.set_cookie("lang", "en")
    desk = client.get(f"/desk/cases/{suggestion.case_number}").get_data(as_text=True)
    assert 'id="case-state">Awaiting an answer</span>' in desk
    queue = client.get("/desk", follow_redirects=True).get_data(as_text=True)
    rows = dict(re.findall(r'id="row-([A-Z0-9]+)".*?<td class="case-state"[^>]*>([^<]*)</td>', queue, re.S))
    assert rows[suggestion.case_number] == "Awaiting an answer"
    assert rows[complaint.case_number] == "Awaiting acceptance"


def test_once_accepted_the_page_points_to_the_date_and_names_no_period(client, db, services, make_staff, file_case):
    """The handling period is the administrator's setting and an extension (the lead's ``extend``)
    moves it: the sentence points to the date beneath instead of saying "normally within 60
    days", which an extended case's later date contradicted."""
    handler, lead = make_staff("miit", Role.handler), make_staff("miit", Role.unit_lead)
    complaint = file_case()
    staff_move(db, services, handler, complaint.case_id, "accept")

    def seen():
        return client.get(f"/api/v1/cases/{complaint.case_number}",
                          headers={"X-Query-Code": complaint.query_code}).get_json()

    before = seen()
    assert before["next_step"] == "您的案件正在办理中，办理单位将在办理期限内书面答复。"
    staff_move(db, services, lead, complaint.case_id, "extend", public_text="案情复杂，需进一步核查，延长办理期限。")
    after = seen()
    assert after["next_step"] == before["next_step"] and "60" not in after["next_step"]
    assert after["deadline"]["due_date"] > before["deadline"]["due_date"]


def test_a_supported_request_is_reported_on_as_it_is_carried_out(client, db, services, make_staff, file_case):
    """信访工作条例 第三十二条第二款: 有权处理的机关、单位作出支持信访请求意见的，应当督促有关机关、单位执行. After a
    reply that supported the request, the unit reports what was done, as often as there is news;
    the complainant reads it in the timeline. A request not supported has nothing to carry out."""
    from casework.workflow.machine import MoveNotAllowed
    import pytest

    handler = make_staff("miit", Role.handler)
    supported, refused = file_case(), file_case()
    for receipt, opinion in ((supported, "supported"), (refused, "not_supported")):
        staff_move(db, services, handler, receipt.case_id, "accept")
        staff_move(db, services, handler, receipt.case_id, "reply", opinion=opinion, legal_basis=BASIS,
                   public_text="经核查，协会确有强制入会情况，已责令其退还会费。")
    with pytest.raises(MoveNotAllowed):
        staff_move(db, services, handler, refused.case_id, "record_execution", public_text="协会已退还会费。")
    with pytest.raises(Exception):  # what was done is required
        staff_move(db, services, handler, supported.case_id, "record_execution", public_text="")
    staff_move(db, services, handler, supported.case_id, "record_execution",
               public_text="协会已于12月10日退还会费两万元，并书面承诺不再强制入会。")
    data = client.get(f"/api/v1/cases/{supported.case_number}",
                      headers={"X-Query-Code": supported.query_code}).get_json()
    last = data["timeline"][-1]
    assert last["title"] == "督促执行情况" and last["text"] == "协会已于12月10日退还会费两万元，并书面承诺不再强制入会。"
    assert data["state"] == "replied"  # no state change: the review window runs as before


def test_the_status_page_says_why_the_case_was_not_accepted(client, db, services, make_staff, opened):
    """信访工作条例 第二十三条 and 办法 (2026) 第十五条: a case not accepted is told why. The page
    named the state and showed only the handler's text; it now gives the listed reason in the
    words of the 不予受理告知书, in the reader's language, and the API with it."""
    receipt, csrf, get = opened
    staff_move(db, services, make_staff("miit", Role.handler), receipt.case_id, "not_accept",
               reason="outside_remit", public_text="该协会的收费事项由当地发展改革部门管理。")
    page = get()
    assert '<dt>不予受理的理由</dt><dd id="not-accepted-reason">该事项不属于本单位职权范围。</dd>' in facts(page)
    assert "该协会的收费事项由当地发展改革部门管理。" in page
    client.set_cookie("lang", "en")
    assert '<dd id="not-accepted-reason">The matter is outside this unit&#39;s remit.</dd>' in facts(get())
    data = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code}).get_json()
    assert (data["not_accepted_reason"], data["not_accepted_reason_title"]) == (
        "outside_remit", "The matter is outside this unit's remit.")
