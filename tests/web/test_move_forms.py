"""The forms people see and the staff API agree with the workflow table.

Every move form on the desk's case page sends exactly the fields of the move's row; every
form on the complainant's status page and the respondent's page sends every required field
of its move and nothing the move does not take; the staff API's OpenAPI document lists the
staff moves and their fields from the same rows. A form, the API and the table that
disagree fail here.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select, update

from casework.cases.numbers import CHINA
from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, Finding, Stage
from casework.registry.models import Unit
from casework.workflow.machine import MOVES, perform
from casework.deadlines.calendar import china_date
from web.move_fields import staff_moves

from tests.web.test_admin_routing import login_as
from tests.conftest import BASIS

ACTION = re.compile(r'<form[^>]*action="[^"]*/moves/(\w+)"[^>]*>(.*?)</form>', re.S)
NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
# the form's own plumbing, not fields of the move: the CSRF token, the version, the send button, and
# the unit list's filter box and its button (web.desk.choices: they narrow the list, nothing is sent)
PLUMBING = {"csrf_token", "version", "go", "unit_filter", "unit_filter_go"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def names(html: str) -> set[str]:
    return set(NAME.findall(html)) - PLUMBING


def expected(move_name: str, case: Case) -> set[str]:
    return {f.name for f in MOVES[move_name].fields if f.applies(case)}


def act(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        perform(s, services, actor, s.get(Case, case_id), move, **fields)


def desk_forms(client, db, number) -> dict[str, set[str]]:
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    aside = page[page.index('<aside class="case-side"'):page.index("</aside>")]
    forms = {}
    for block in re.split(r'(?=<details class="move move-)', aside)[1:]:
        name = re.match(r'<details class="move move-(\w+)"', block).group(1)
        forms[name] = names(block)
    return forms


def test_every_desk_move_form_sends_exactly_its_rows_fields(client, db, services, file_case, make_staff, mediation):
    handler, lead = make_staff("miit", Role.handler), make_staff("miit", Role.unit_lead)
    seen: set[str] = set()

    def check(actor, case_id):
        login_as(client, db, actor)
        with db.session_scope(write=False) as s:
            case = s.get(Case, case_id)
            number = case.number
            forms = desk_forms(client, db, number)
            for move, sent in forms.items():
                assert sent == expected(move, case), f"{number} {case.state.value}: the {move} form"
        seen.update(forms)

    complaint = file_case().case_id
    check(handler, complaint)                       # awaiting acceptance
    act(db, services, handler, complaint, "accept")
    check(lead, complaint)                          # being handled, as the lead (extend)
    act(db, services, handler, complaint, "suspend", public_text="送检测机构检验产品质量")
    check(handler, complaint)                       # clock paused (resume)
    act(db, services, handler, complaint, "resume")
    act(db, services, handler, complaint, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    check(handler, complaint)                       # replied, the request supported (record_execution)
    act(db, services, Actor.complainant(complaint), complaint, "request_review", public_text="答复没有解决我的问题。")
    reviewer = make_staff("swd-central", Role.handler)
    check(reviewer, complaint)                      # under review one level up (decide_review)
    act(db, services, reviewer, complaint, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复查，维持原处理意见，理由如下。")
    act(db, services, Actor.complainant(complaint), complaint, "request_review", public_text="对复查意见不服，请求复核。")
    with db.session_scope(write=False) as s:  # no level above swd-central: the platform's triage names one
        ndrc = s.scalar(select(Unit.id).where(Unit.code == "ndrc"))
    act(db, services, make_staff("triage", Role.triage_operator), complaint, "route_review", unit_id=str(ndrc))
    check(make_staff("ndrc", Role.handler), complaint)  # under re-review (hold_hearing)
    report = file_case(type="report", category="illegal_fees", title="协会违规收费",
                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    act(db, services, handler, report, "accept")
    check(handler, report)                          # a report: the reply asks for a finding
    suggestion = file_case(type="suggestion", category="suggestion_other", title="建议简化入会流程",
                           description="建议协会简化入会流程，减少企业提交的材料。", complainant=None).case_id
    check(handler, suggestion)
    # mediation at the association's mediation body
    with db.session_scope(write=False) as s:
        body = s.get(Case, mediation.case_id).unit.code
    mediator = make_staff(body, Role.handler)
    check(mediator, mediation.case_id)
    act(db, services, mediator, mediation.case_id, "accept_mediation")
    check(mediator, mediation.case_id)
    act(db, services, mediator, mediation.case_id, "record_consent")
    act(db, services, mediator, mediation.case_id, "schedule_session", scheduled_at=datetime.now(CHINA).strftime("%Y-%m-%d %H:%M"),
        place="协会三楼会议室")  # held now: logged below
    check(mediator, mediation.case_id)
    act(db, services, Actor.respondent(mediation.case_id), mediation.case_id, "respondent_request_recusal",
        public_text="调解员与申请人系同学关系。")
    check(mediator, mediation.case_id)              # suspended for a recusal request (decide_recusal)
    act(db, services, mediator, mediation.case_id, "decide_recusal", decision="refused", public_text="不存在应当回避的情形。")
    act(db, services, mediator, mediation.case_id, "suspend_mediation", public_text="委托鉴定零部件质量。")
    check(mediator, mediation.case_id)              # paused for appraisal (resume_mediation)
    act(db, services, mediator, mediation.case_id, "resume_mediation")
    with db.session_scope(write=False) as s:
        session_id = s.get(Case, mediation.case_id).mediation.sessions[0].id
    act(db, services, mediator, mediation.case_id, "log_session", session_id=str(session_id),
        attendees="申请人、被申请人、调解员", summary="双方就付款期限交换意见。")
    act(db, services, mediator, mediation.case_id, "schedule_session", scheduled_at="2030-01-12 10:00", place="协会三楼会议室")
    check(mediator, mediation.case_id)              # a session held (record_agreement)
    with db.session_scope() as s:  # a 人民调解委员会 may also record an oral agreement (人民调解法 第二十八条)
        s.get(Case, mediation.case_id).unit.people_mediation_committee = True
    check(mediator, mediation.case_id)              # record_oral_agreement too
    act(db, services, mediator, mediation.case_id, "record_agreement", applicant_id="110101199001011237",
        applicant_address="北京市东城区示例路1号", respondent_id="91110000100000000R", respondent_address="上海市示例大道8号",
        facts="被申请人拖欠申请人货款三十万元。", issues="是否支付货款。", liability="被申请人承担付款责任。",
        terms="一、被申请人支付货款三十万元。", performance_method="银行转账。", performance_due="2099-12-31")
    check(mediator, mediation.case_id)              # an agreement not yet signed (record_signing)
    act(db, services, mediator, mediation.case_id, "record_signing", signed_on=china_date(services.clock()).isoformat(),
        confirmed="1")
    check(mediator, mediation.case_id)              # signed (record_followup)
    # a supervisor's notice, and the unit's report on it
    supervisor = make_staff("mca", Role.supervisor)
    check(supervisor, complaint)
    act(db, services, supervisor, report, "issue_supervision", internal_text="请于期限内核实并报告。",
        respond_by=(china_date(services.clock()) + timedelta(days=5)).isoformat())
    check(handler, report)                          # report_supervision
    # a named report accepted before the decision told the reporter itself: tell them (notify_reporter)
    act(db, services, handler, report, "reply", opinion="supported", legal_basis=BASIS, public_text="经调查，举报属实，已责令整改。", finding="substantiated")
    named = file_case(type="report", category="illegal_fees", title="协会违规收费",
                      description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    act(db, services, handler, named, "accept")
    with db.session_scope() as s:  # as the old accept left it (a statement: no move made it)
        s.execute(update(Case).where(Case.id == named).values(stage=Stage.report_notice))
    check(handler, named)
    offered = {m.name for m in staff_moves() if not m.own_page}
    assert offered - seen <= {"route", "send_back", "link_duplicate", "route_review"}, f"not checked: {offered - seen}"


def test_the_triage_desk_forms_match_the_table(client, db, file_case, make_staff):
    receipt = file_case(association=None, association_hint="某某行业协会")
    login_as(client, db, make_staff("triage", Role.triage_operator))
    with db.session_scope(write=False) as s:
        case = s.get(Case, receipt.case_id)
        assert case.unit_id is None
        forms = desk_forms(client, db, receipt.case_number)
        assert {"route", "link_duplicate"} <= set(forms)
        for move, sent in forms.items():
            assert sent == expected(move, case), move


def test_the_complainants_forms_send_what_their_moves_take(client, db, services, file_case, make_staff):
    from web.public import track

    handler = make_staff("miit", Role.handler)
    receipt = file_case()
    page = client.get("/track").get_data(as_text=True)
    client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": receipt.case_number,
                                "code": receipt.query_code})
    seen = set()

    def check():
        html = client.get(f"/track/{receipt.case_number}").get_data(as_text=True)
        with db.session_scope(write=False) as s:
            case = s.get(Case, receipt.case_id)
            for move, body in ACTION.findall(html):
                sent, fields = names(body), MOVES[move].fields
                if move in track.CONFIRMED:  # the page's own confirmation box, not a field of the move
                    assert "confirm" in sent, f"status page, {move}: no confirmation"
                    sent -= {"confirm"}
                required = {f.name for f in fields if f.applies(case) and f.is_required(case)}
                assert required <= sent <= expected(move, case), f"status page, {move}: sends {sent}"
                seen.add(move)

    check()                                                   # withdraw
    act(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    check()                                                   # supply_info
    act(db, services, Actor.complainant(receipt.case_id), receipt.case_id, "supply_info", public_text="已上传凭证。")
    act(db, services, handler, receipt.case_id, "accept")
    act(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    check()                                                   # rate, request_review
    assert seen == {"withdraw", "supply_info", "rate", "request_review", "add_evidence"}
    # past its deadline, a case in hand can be urged (催办)
    other = file_case()
    client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": other.case_number,
                                "code": other.query_code})
    act(db, services, handler, other.case_id, "accept")
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == other.case_id).values(due_at=services.clock() - timedelta(hours=1)))
    receipt = other
    check()                                                   # urge
    assert "urge" in seen


def test_the_openapi_document_lists_the_staff_moves_and_their_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/desk/cases/{case_number}/{move}"]["post"]
    enum = next(p for p in post["parameters"] if p["name"] == "move")["schema"]["enum"]
    assert enum == [m.name for m in staff_moves()]
    props = spec["components"]["schemas"]["MoveRequest"]["properties"]
    for move in staff_moves():
        for f in move.fields:
            assert f.name in props, (move.name, f.name)
        assert f"{move.name}:" in post["description"]
    assert props["unit_id"]["type"] == "integer" and props["online"]["type"] == "boolean"
    assert props["finding"]["enum"] == [f.value for f in Finding]


def test_the_staff_api_takes_each_moves_fields_and_ignores_others(client, db, file_case, make_staff):
    from casework.accounts.operations import issue_token
    from casework.accounts.models import User

    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        token = issue_token(s, s.get(User, handler.user_id), "test")
    receipt = file_case()
    auth = {"Authorization": f"Bearer {token}"}
    version = client.get(f"/api/v1/desk/cases/{receipt.case_number}", headers=auth).get_json()["version"]
    resp = client.post(f"/api/v1/desk/cases/{receipt.case_number}/note", headers=auth,
                       json={"version": version, "internal_text": "已电话联系协会", "public_text": "ignored", "unit_id": "x"})
    assert resp.status_code == 200, resp.get_json()
    note = [e for e in resp.get_json()["timeline"] if e["kind"] == "note"][-1]
    assert note.get("internal_text") == "已电话联系协会" and not note.get("public_text")
    resp = client.post(f"/api/v1/desk/cases/{receipt.case_number}/assign", headers=auth,
                       json={"version": version + 1, "handler_id": "abc"})
    assert resp.status_code == 422 and "handler_id" in resp.get_json()["errors"]


def test_each_move_of_the_complainant_and_the_respondent_has_its_page_and_its_done_message():
    from web.public import respond, track

    assert set(track.PUBLIC_MOVES) == set(track.DONE) == {"supply_info", "rate", "request_review", "withdraw",
                                                                   "withdraw_report", "end_mediation", "request_recusal",
                                                                   "add_evidence", "urge"}
    assert set(respond.RESPONDENT_MOVES) == set(respond.DONE) == {"respondent_consent", "respondent_refuse",
                                                                      "respondent_end_mediation",
                                                                      "respondent_request_recusal",
                                                                      "respondent_statement"}


def test_an_empty_form_says_every_missing_field_at_once(client, db, file_case, make_staff):
    """A stranger submitting the transfer form empty is told of the unit and the reason together
    (a required unit was said only after the reason was fixed)."""
    receipt = file_case()
    login_as(client, db, make_staff("miit", Role.handler))
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    csrf = CSRF.search(page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    resp = client.post(f"/desk/cases/{receipt.case_number}/moves/transfer",
                       data={"csrf_token": csrf, "version": version}, headers={"Accept-Language": "zh-CN"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="m-transfer-unit_id-error"' in html and 'id="m-transfer-reason-error"' in html
    assert "至少 5 个字" in client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)  # said before
