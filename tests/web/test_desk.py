"""The handler desk through the Flask test client: sign-in, queues, the case page, moves."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from casework.accounts.models import Role, User
from casework.cases.models import CannedReply, Case, CaseState as S
from casework.db import utcnow
from casework.registry.models import Unit
from casework.workflow import machine
from tests.conftest import BASIS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
PASSWORD = "correct horse battery"


# -- helpers ------------------------------------------------------------------------------

def username_of(db, actor):
    with db.session_scope(write=False) as s:
        return s.scalar(select(User.username).where(User.id == actor.user_id))


def unit_id(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def csrf(client, path="/staff/login"):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, db, actor, password=PASSWORD, next_url=None):
    data = {"csrf_token": csrf(client), "username": username_of(db, actor), "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/staff/login", data=data)


def logout(client):
    page = client.get("/desk", follow_redirects=True).get_data(as_text=True)
    return client.post("/staff/logout", data={"csrf_token": CSRF.search(page).group(1)})


def signed_in(client, db, actor):
    resp = login(client, db, actor)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return client


def case_of(db, number):
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        return case.state, (case.unit.code if case.unit else None), case.version, case.handler_id


def post_move(client, number, move, version=None, **fields):
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1),
            "version": version if version is not None else VERSION.search(page).group(1), **fields}
    return client.post(f"/desk/cases/{number}/moves/{move}", data=data)


def act(db, services, actor, case_id, move, **fields):
    """A move made elsewhere (another desk, the API) in its own transaction."""
    with db.session_scope() as s:
        machine.perform(s, services, actor, s.get(Case, case_id), move, **fields)


def queue_html(client, unit, **params):
    resp = client.get(f"/desk/units/{unit}", query_string=params)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def rows(html):
    return re.findall(r'id="row-([A-Z]{2}\d{14})"', html)


@pytest.fixture
def handler(make_staff):
    return make_staff("miit", Role.handler)


# -- sign-in ------------------------------------------------------------------------------

def test_wrong_password_and_unknown_user_get_the_same_answer(client, db, handler):
    wrong = login(client, db, handler, password="not the password")
    unknown = client.post("/staff/login", data={"csrf_token": csrf(client), "username": "nobody-here",
                                                "password": PASSWORD})
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert client.get("/desk").status_code == 302  # still signed out


def test_sign_in_goes_to_the_desk_and_sign_out_ends_the_session(client, db, handler):
    resp = login(client, db, handler)
    assert resp.status_code == 303 and resp.headers["Location"] == "/desk"
    queue = client.get("/desk")
    assert queue.status_code == 302 and queue.headers["Location"] == f"/desk/units/{unit_id(db, 'miit')}"
    html = client.get(queue.headers["Location"]).get_data(as_text=True)
    assert "工业和信息化部" in html and "退出" in html
    out = client.post("/staff/logout", data={"csrf_token": CSRF.search(html).group(1)})
    assert out.status_code == 303 and out.headers["Location"] == "/staff/login"
    again = client.get("/desk")
    assert again.status_code == 302 and again.headers["Location"] == "/staff/login?next=/desk"  # not "/desk?"
    assert client.get("/desk/search?q=x").headers["Location"] == "/staff/login?next=/desk/search?q%3Dx"


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(client, db, handler):
    asked = client.get("/desk/triage?x=1")
    assert asked.status_code == 302 and "next=" in asked.headers["Location"]
    assert login(client, db, handler, next_url="/desk/triage?x=1").headers["Location"] == "/desk/triage?x=1"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"):
        logout(client)
        assert login(client, db, handler, next_url=evil).headers["Location"] == "/desk", evil


def test_wrong_passwords_are_throttled_per_account_name_but_the_right_one_always_signs_in(
        client, db, handler, make_staff):
    """Issue 17, item 9: strangers typing wrong passwords for a staff member's name used to lock
    that person out for 15 minutes (the right password got 429 as well)."""
    other = make_staff("miit", Role.handler)
    for _ in range(10):
        assert login(client, db, handler, password="wrong password!").status_code == 401
    refused = login(client, db, handler, password="wrong password!")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "密码错误次数过多" in refused.get_data(as_text=True)
    assert login(client, db, handler).status_code == 303  # the right password is never refused
    logout(client)
    assert login(client, db, other, password="wrong password!").status_code == 401  # others unaffected
    assert login(client, db, other).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(client, db, handler, file_case):
    number = file_case().case_number
    assert client.post("/staff/login", data={"username": "x", "password": "y"}).status_code == 400
    signed_in(client, db, handler)
    resp = client.post(f"/desk/cases/{number}/moves/accept", data={"version": "1"})
    assert resp.status_code == 400
    assert case_of(db, number)[0] is S.pending_acceptance
    assert client.post("/staff/logout").status_code == 400


# -- queues -------------------------------------------------------------------------------

def test_the_queue_shows_this_units_cases_and_not_another_units(client, db, services, file_case, make_staff):
    ours = file_case()
    theirs = file_case(category="finance_assets")  # routed to the registration authority (民政部)
    assert case_of(db, theirs.case_number)[1] == "mca"
    signed_in(client, db, make_staff("miit", Role.handler))
    html = queue_html(client, unit_id(db, "miit"))
    assert rows(html) == [ours.case_number]
    assert "强制入会并收取会费" in html and "中国复合材料工业协会" in html
    # the category filter groups by case type: each group's 其他 is told apart
    select = re.search(r'<select id="f-category".*?</select>', html, re.S).group(0)
    assert [g for g in re.findall(r'<optgroup label="([^"]+)">', select)] == ["投诉举报", "调解", "建议"]
    # another unit's queue is not this handler's to see
    assert client.get(f"/desk/units/{unit_id(db, 'mca')}").status_code == 403
    assert client.get("/desk/triage").status_code == 403
    # nor its case: the answer keeps the desk's bar and leads back to the desk, not the public site
    other = client.get(f"/desk/cases/{theirs.case_number}")
    page = other.get_data(as_text=True)
    assert other.status_code == 404 and 'id="staff-name"' in page and 'href="/desk"' in page and "返回承办工作台" in page
    assert "返回首页" not in page


def test_a_bare_queue_with_nothing_to_accept_opens_the_first_tab_with_cases(client, db, services, file_case,
                                                                         make_staff):
    """The desk opens on 待受理; a unit with nothing there but a case in 办理中 (a review to
    decide, a case accepted elsewhere) lands on 办理中, not on "No cases here."."""
    import secrets

    from casework.registry.models import UnitKind

    code = f"t-{secrets.token_hex(3)}"
    with db.session_scope() as s:  # a unit of its own: no other test's case waits there
        s.add(Unit(code=code, name=f"测试单位{code}", name_en=f"Test unit {code}", kind=UnitKind.industry_department,
                   region_code="100000"))
    unit = make_staff(code, Role.handler)
    signed_in(client, db, unit)
    samr = unit_id(db, code)
    case = file_case()
    act(db, services, make_staff("miit", Role.handler), case.case_id, "transfer", unit_id=str(samr),
        reason="other_unit_competent")
    act(db, services, unit, case.case_id, "accept")
    resp = client.get(f"/desk/units/{samr}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/desk/units/{samr}?tab=handling")
    # asked for by name, the empty tab is shown as asked
    assert client.get(f"/desk/units/{samr}?tab=pending").status_code == 200


def test_tab_counts_and_tabs(client, db, services, file_case, handler):
    a, b, c = file_case(), file_case(), file_case()
    act(db, services, handler, b.case_id, "accept")
    act(db, services, handler, c.case_id, "accept")
    signed_in(client, db, handler)
    html = queue_html(client, unit_id(db, "miit"))
    count = lambda tab: int(re.search(rf'id="tab-{tab}"[^>]*>[^<]*<span class="count">(\d+)<', html).group(1))
    assert (count("pending"), count("handling"), count("replied")) == (1, 2, 0)
    assert rows(html) == [a.case_number]
    assert sorted(rows(queue_html(client, unit_id(db, "miit"), tab="handling"))) == sorted([b.case_number, c.case_number])


def test_filters_type_overdue_mine_and_association(client, db, services, file_case, make_staff):
    me, colleague = make_staff("miit", Role.handler), make_staff("miit", Role.handler)
    complaint, report = file_case(), file_case(type="report")
    late, mine = file_case(), file_case()
    with db.session_scope() as s:  # time passed (a direct write, as the deadline sweep sees it)
        s.execute(update(Case).where(Case.id == late.case_id).values(due_at=utcnow() - timedelta(days=2)))
    act(db, services, colleague, mine.case_id, "assign", handler_id=str(me.user_id))
    signed_in(client, db, me)
    miit = unit_id(db, "miit")
    assert rows(queue_html(client, miit, type="report")) == [report.case_number]
    assert set(rows(queue_html(client, miit, type="complaint"))) == {complaint.case_number, late.case_number,
                                                                    mine.case_number}
    overdue = queue_html(client, miit, overdue="1")
    assert rows(overdue) == [late.case_number]
    assert 'class="row overdue"' in overdue and "已超期" in overdue
    assert rows(queue_html(client, miit, mine="1")) == [mine.case_number]
    # the deadline sort puts the overdue case first
    assert rows(queue_html(client, miit))[0] == late.case_number
    assert len(rows(queue_html(client, miit, association="51100000500009247D"))) == 4
    unknown = queue_html(client, miit, association="91110000000000000X")
    assert rows(unknown) == [] and 'id="f-association-error"' in unknown
    # by its name, short name or pinyin initials as well (a name gave an empty queue and no word why)
    assert len(rows(queue_html(client, miit, association="中国复合材料工业协会"))) == 4
    assert 'value="51100000500009247D"' in queue_html(client, miit, association="中国复合")
    several = queue_html(client, miit, association="中国")
    assert rows(several) == [] and "有多个协会符合" in several
    # a value that does not parse is ignored, not an error page
    assert len(rows(queue_html(client, miit, type="nonsense", due_within="abc", page="-3"))) == 4


def test_the_queue_is_paged_by_25(client, db, file_case, handler):
    numbers = {file_case().case_number for _ in range(30)}
    signed_in(client, db, handler)
    miit = unit_id(db, "miit")
    first, second = queue_html(client, miit), queue_html(client, miit, page="2")
    assert len(rows(first)) == 25 and len(rows(second)) == 5
    assert set(rows(first)) | set(rows(second)) == numbers
    assert "第 1 / 2 页" in first and 'rel="next"' in first and 'rel="prev"' in second


def test_triage_queue_and_routing_a_case(client, db, file_case, make_staff):
    lost = file_case(association="unknown", association_hint="某某商会")
    assert case_of(db, lost.case_number)[0] is S.received
    operator = make_staff("triage", Role.triage_operator)
    signed_in(client, db, operator)
    assert client.get("/desk").headers["Location"] == "/desk/triage"
    html = client.get("/desk/triage").get_data(as_text=True)
    assert rows(html) == [lost.case_number] and "某某商会" in html
    assert "不确定 <small>（填写为：某某商会）</small>" in html  # typed, not found: as the case page says it
    page = client.get(f"/desk/cases/{lost.case_number}").get_data(as_text=True)
    assert 'id="move-route"' in page and "平台分拨</option>" not in page
    # the timeline says it went to triage, not "routed" beside "not routed yet"
    assert "转平台分拨" in page and ">已分拨<" not in page
    resp = post_move(client, lost.case_number, "route", unit_id=str(unit_id(db, "samr")))
    assert resp.status_code == 303 and resp.headers["Location"] == "/desk"
    assert case_of(db, lost.case_number)[:2] == (S.pending_acceptance, "samr")
    # routed away: the triage operator no longer sees its content
    assert client.get(f"/desk/cases/{lost.case_number}").status_code == 404


def test_bulk_assign_reports_what_was_assigned_and_what_was_stale(client, db, services, file_case, make_staff):
    me, colleague = make_staff("miit", Role.handler), make_staff("miit", Role.unit_lead)
    a, b, c = file_case(), file_case(), file_case()
    signed_in(client, db, me)
    miit = unit_id(db, "miit")
    html = queue_html(client, miit)
    versions = dict(re.findall(r'name="version-(\d+)" value="(\d+)"', html))
    # someone accepts c after this page was shown
    act(db, services, colleague, c.case_id, "note", internal_text="先看一下")
    data = {"csrf_token": CSRF.search(html).group(1), "handler_id": str(colleague.user_id),
            "case": [str(a.case_id), str(b.case_id), str(c.case_id)],
            "back": f"/desk/units/{miit}?sort=new",
            **{f"version-{k}": v for k, v in versions.items()}}
    resp = client.post(f"/desk/units/{miit}/assign", data=data)
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/units/{miit}?sort=new"
    after = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert re.search(rf"已分派：[^<]*{a.case_number}", after) and b.case_number in after
    assert re.search(rf"未分派：{c.case_number}", after)
    assert case_of(db, a.case_number)[3] == case_of(db, b.case_number)[3] == colleague.user_id
    assert case_of(db, c.case_number)[3] is None
    # a handler of another unit cannot be given the cases
    outsider = make_staff("samr", Role.handler)
    html = queue_html(client, miit)
    data.update(csrf_token=CSRF.search(html).group(1), handler_id=str(outsider.user_id), case=[str(c.case_id)],
                **{f"version-{k}": v for k, v in re.findall(r'name="version-(\d+)" value="(\d+)"', html)})
    after = client.post(f"/desk/units/{miit}/assign", data=data, follow_redirects=True).get_data(as_text=True)
    assert "请选择本单位的承办人" in after and case_of(db, c.case_number)[3] is None


# -- the case page ------------------------------------------------------------------------

def test_the_case_page_shows_the_facts_and_masked_contact_data(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    resp = client.get(f"/desk/cases/{number}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "138****8000" in html and "13800138000" not in html
    assert "张*" in html and "张三" not in html
    assert "协会要求我公司必须入会" in html and "中国复合材料工业协会" in html and "待受理" in html
    assert 'id="move-accept"' in html and 'id="move-not_accept"' in html and 'id="move-transfer"' in html
    assert 'id="move-reply"' not in html  # not before acceptance


def test_a_reports_identity_is_hidden(client, db, file_case, handler):
    number = file_case(type="report").case_number
    signed_in(client, db, handler)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "举报人身份已隐藏" in html
    assert "138****8000" not in html and "13800138000" not in html and "张*" not in html
    assert "此举报没有身份信息" not in html


def test_an_anonymous_report_says_once_that_it_holds_no_identity(client, db, file_case, handler):
    """Not "the identity is hidden" beneath "this report holds no identity": nothing is hidden."""
    number = file_case(type="report", anonymous=True, complainant={}).case_number
    signed_in(client, db, handler)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "此举报没有身份信息（匿名举报，或已删除）。" in html
    assert "举报人身份已隐藏" not in html and 'id="identity"' not in html


def test_a_case_awaiting_material_is_not_awaiting_the_handlers_material_in_english(client, db, file_case, handler):
    """The state's name is read by staff as well as by the complainant: neither's "your"."""
    number = file_case().case_number
    signed_in(client, db, handler)
    client.get("/lang/en?next=/desk")
    assert post_move(client, number, "request_info", public_text="Please send the invoice.").status_code == 303
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert case_of(db, number)[0] is S.need_info
    assert "Awaiting missing material" in html and "your material" not in html


def test_a_case_of_another_unit_is_not_found_for_a_handler(client, db, file_case, make_staff):
    number = file_case().case_number
    signed_in(client, db, make_staff("samr", Role.handler))
    assert client.get(f"/desk/cases/{number}").status_code == 404
    assert client.get("/desk/cases/TS20990101000000").status_code == 404
    assert post_move_without_page(client, number, "accept").status_code == 404
    assert case_of(db, number)[0] is S.pending_acceptance


def post_move_without_page(client, number, move):
    token = CSRF.search(client.get("/desk", follow_redirects=True).get_data(as_text=True)).group(1)
    return client.post(f"/desk/cases/{number}/moves/{move}", data={"csrf_token": token, "version": "1"})


def test_administrators_get_no_case_content(client, db, file_case, make_staff):
    number = file_case().case_number
    admin = make_staff("mca", Role.administrator)
    signed_in(client, db, admin)
    assert client.get("/desk").headers["Location"].rstrip("/").endswith("/admin")  # their own pages instead
    assert client.get(f"/desk/cases/{number}").status_code == 404
    assert client.get("/desk/units/1").status_code == 403


def test_a_supervisor_reads_the_case_and_may_only_supervise(client, db, file_case, make_staff):
    number = file_case().case_number
    signed_in(client, db, make_staff("mca", Role.supervisor))
    assert client.get("/desk").headers["Location"].endswith("/supervise")
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "强制入会并收取会费" in html
    assert re.findall(r'id="move-([a-z_]+)"', html) == ["issue_supervision"]
    resp = post_move(client, number, "accept", version="1")
    assert resp.status_code == 403 and "无权" in resp.get_data(as_text=True)


def test_accept_transfer_accept_reply_through_the_forms(client, db, file_case, make_staff):
    number = file_case().case_number
    miit, samr = make_staff("miit", Role.handler), make_staff("samr", Role.handler)
    signed_in(client, db, miit)
    resp = post_move(client, number, "accept", public_text="您的投诉已受理。")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/cases/{number}"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已完成：受理" in html and "办理中" in html and "您的投诉已受理。" in html
    assert case_of(db, number)[3] == miit.user_id  # accepting takes the case
    resp = post_move(client, number, "transfer", unit_id=str(unit_id(db, "samr")), reason="other_unit_competent",
                     public_text="已转国家市场监督管理总局办理。", internal_text="属于市场监管职责")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/units/{unit_id(db, 'miit')}"
    # which unit it went to is said (the routing's words named none)
    assert "转至国家市场监督管理总局，该案件已不在您的队列中" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert case_of(db, number)[:2] == (S.pending_acceptance, "samr")

    logout(client)
    signed_in(client, db, samr)
    assert post_move(client, number, "accept").status_code == 303
    assert post_move(client, number, "note", internal_text="已电话联系协会核实").status_code == 303
    reply = "经核查，协会已退还会费并停止强制入会做法。"
    assert post_move(client, number, "reply", opinion="supported", legal_basis=BASIS, public_text=reply, finding="partly_substantiated").status_code == 303
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert case_of(db, number)[0] is S.replied and "已答复" in html
    # what the reply found stands with the case's facts (a reviewing unit decides on it)
    assert '<dt>核查结论</dt><dd id="case-finding">部分属实</dd>' in html and 'id="case-rating"' not in html
    timeline = html[html.index('id="timeline"'):]
    for text in ("已转国家市场监督管理总局办理。", "属于市场监管职责", "已电话联系协会核实", reply,
                 "转至：国家市场监督管理总局", "其他单位有管辖权"):
        assert text in timeline, text
    # the note is marked internal, the reply public
    note = re.search(r'<li class="entry (entry-\w+)">(?:(?!</li>).)*已电话联系协会核实', timeline, re.S)
    assert note.group(1) == "entry-internal"
    answer = re.search(r'<li class="entry (entry-\w+)">(?:(?!</li>).)*经核查，协会已退还', timeline, re.S)
    assert answer.group(1) == "entry-public"


def test_a_stale_version_gets_409_and_the_current_state(client, db, services, file_case, make_staff):
    number = file_case()
    me, colleague = make_staff("miit", Role.handler), make_staff("miit", Role.handler)
    signed_in(client, db, me)
    page = client.get(f"/desk/cases/{number.case_number}").get_data(as_text=True)
    old = VERSION.search(page).group(1)
    act(db, services, colleague, number.case_id, "accept")  # meanwhile, at another desk
    resp = post_move(client, number.case_number, "not_accept", version=old, reason="no_clear_request",
                     public_text="您的投诉缺少明确诉求。")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "其他人刚刚修改了此案件" in html
    assert re.search(r'id="case-state">办理中<', html)  # the state as it is now
    assert f'name="version" value="{case_of(db, number.case_number)[2]}"' in html
    assert case_of(db, number.case_number)[0] is S.accepted


def test_a_move_with_missing_fields_gets_422_with_the_error_beside_the_field(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    resp = post_move(client, number, "transfer", unit_id=str(unit_id(db, "samr")), reason="other",
                     public_text="您的投诉将转交其他单位。", internal_text="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请检查标出的内容" in html
    field = re.search(r'<textarea id="m-transfer-internal_text"[^>]*>.*?</div>', html, re.S).group(0)
    assert 'aria-invalid="true"' in field and "此项为必填项" in field
    # the field in error is focused, so the browser brings it into view (screens down on a phone)
    assert re.search(r'<textarea id="m-transfer-internal_text"[^>]* autofocus', html) and html.count(" autofocus") == 1
    assert ">您的投诉将转交其他单位。</textarea>" in html  # what was typed is kept
    assert re.search(r'<option value="other" selected>', html)
    assert case_of(db, number)[:2] == (S.pending_acceptance, "miit")


def test_canned_replies_are_offered_with_the_reply(client, db, services, file_case, handler):
    number = file_case()
    with db.session_scope() as s:
        s.add(CannedReply(unit_id=unit_id(db, "miit"), title="已退费", body="经核查，协会已退还相关费用。",
                          legal_basis="《国务院办公厅关于进一步规范行业协会商会收费的通知》"))
        s.add(CannedReply(unit_id=unit_id(db, "samr"), title="别的单位", body="不应出现的模板"))
    act(db, services, handler, number.case_id, "accept")
    signed_in(client, db, handler)
    html = client.get(f"/desk/cases/{number.case_number}").get_data(as_text=True)
    assert 'id="move-reply"' in html
    assert "已退费" in html and "经核查，协会已退还相关费用。" in html and "不应出现的模板" not in html
    assert 'data-canned-target="m-reply-public_text"' in html
    # the laws it rests on: filled in with it (desk.js), and listed with it for a page without script
    assert 'data-canned-basis="m-reply-legal_basis"' in html
    assert 'data-legal-basis="《国务院办公厅关于进一步规范行业协会商会收费的通知》"' in html
    assert "法律依据：《国务院办公厅关于进一步规范行业协会商会收费的通知》" in html
    assert "<script>" not in html and "style=" not in html  # CSP: script-src and style-src 'self'


def test_claiming_a_case(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="claim"' in html
    assert post_move(client, number, "assign", handler_id=str(handler.user_id)).status_code == 303
    assert case_of(db, number)[3] == handler.user_id
    assert 'id="claim"' not in client.get(f"/desk/cases/{number}").get_data(as_text=True)


def test_the_desk_speaks_english_when_asked(client, db, file_case, handler):
    number = file_case().case_number
    signed_in(client, db, handler)
    client.set_cookie("lang", "en")
    html = queue_html(client, unit_id(db, "miit"))
    assert "Awaiting acceptance" in html and "Sign out" in html and "待受理" not in html
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "Timeline" in html and "Public" in html and "138****8000" in html


def test_the_case_page_explains_its_deadline(client, db, services, file_case, make_staff):
    from casework.cases.models import Case
    from casework.workflow.machine import perform

    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    login(client, db, handler)
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert "办理时限如何计算" in page and "7 个工作日" in page
    assert "周末" in page  # seven working days always span a weekend
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "accept")
    with db.session_scope() as s:
        perform(s, services, make_staff("miit", Role.unit_lead), s.get(Case, receipt.case_id), "extend",
                public_text="需要调取协会财务资料，延期30日。")
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert "60 个自然日" in page and "期限由" in page
    assert '<span class="flag extended">已延期</span>' in page
    with db.session_scope() as s:  # 条例 第三十四条: the extension is of the handling time, not of what follows
        perform(s, services, handler, s.get(Case, receipt.case_id), "reply", opinion="supported", legal_basis=BASIS,
                public_text="经核查，协会已停止强制订阅做法。", finding="substantiated")
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert 'id="case-due"' in page and 'class="flag extended"' not in page  # the review request's date: no one extended it


def test_english_desk_pages_name_units_in_english(client, db, file_case, make_staff):
    """Issue 16, defect 6: the unit picker, Facts → Unit, the transfer's options and the
    timeline's "To: …" use a unit's English name where the desk speaks English."""
    number = file_case().case_number
    miit, samr = make_staff("miit", Role.handler), make_staff("samr", Role.handler)
    signed_in(client, db, miit)
    client.set_cookie("lang", "en")
    assert post_move(client, number, "accept").status_code == 303
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    picker = re.search(r'<select id="unit-switch".*?</select>', html, re.S).group(0)
    assert "Ministry of Industry and Information Technology" in picker and "工业和信息化部" not in picker
    assert re.search(r'<dd id="case-unit">Ministry of Industry and Information Technology</dd>', html)
    transfer = html[html.index('id="move-transfer"'):]
    transfer = transfer[:transfer.index("</details>")]
    # the options read in English (each option's search text, data-search, holds both names: typed
    # Chinese finds a unit on the English page too)
    assert "State Administration for Market Regulation</option>" in transfer and ">国家市场监督管理总局<" not in transfer
    assert "Ministry of Industry and Information Technology</h" in queue_html(client, unit_id(db, "miit"), tab="pending")
    resp = post_move(client, number, "transfer", unit_id=str(unit_id(db, "samr")), reason="other_unit_competent",
                     public_text="已转国家市场监督管理总局办理。")
    assert resp.status_code == 303
    logout(client)
    signed_in(client, db, samr)
    client.set_cookie("lang", "en")
    timeline = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    timeline = timeline[timeline.index('id="timeline"'):]
    assert "To: State Administration for Market Regulation" in timeline
    client.set_cookie("lang", "zh")
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "转至：国家市场监督管理总局" in html and '<dd id="case-unit">国家市场监督管理总局</dd>' in html


def test_each_role_lands_where_its_work_is(client, db, make_staff):
    """After signing in (the desk's home): an administrator at the administration, not at a 403
    saying to ask an administrator; a supervisor at the supervision pages."""
    for actor, lands in ((make_staff("mca", Role.administrator), "/admin"),
                         (make_staff("swd-central", Role.supervisor), "/supervise")):
        signed_in(client, db, actor)
        home = client.get("/desk")
        assert home.status_code == 302 and home.headers["Location"].rstrip("/").endswith(lands), home.headers
        assert client.get(home.headers["Location"]).status_code == 200
        logout(client)


def test_a_page_past_the_last_goes_to_the_last(client, db, file_case, handler):
    """It said 第 99 / 2 页 over an empty list."""
    number = file_case().case_number
    signed_in(client, db, handler)
    resp = client.get(f"/desk/units/{unit_id(db, 'miit')}?page=99")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("?page=1")
    assert number in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_case_filed_in_english_says_so_on_the_desk(client, db, file_case, handler, submission_data):
    """Its notices and documents go out in English: a reply typed in Chinese stood in an English letter."""
    english = client.post("/api/v1/cases", json=submission_data(), headers={"Accept-Language": "en"}).get_json()
    chinese = file_case()
    signed_in(client, db, handler)
    assert 'id="case-language"' in client.get(f"/desk/cases/{english['case_number']}").get_data(as_text=True)
    assert 'id="case-language"' not in client.get(f"/desk/cases/{chinese.case_number}").get_data(as_text=True)


def test_each_type_is_refused_only_for_reasons_that_fit_it(client, db, file_case, make_staff):
    """市场监督管理投诉举报处理暂行办法 第三条: a 投诉 is the filer's own dispute, a 举报 anyone's lead.
    So a report is never refused as "not a party", and "no lead that can be checked" refuses a
    report only: the desk does not offer them, and a post of one is refused."""
    complaint = file_case()
    report = file_case(type="report", category="illegal_fees", title="协会违规收费",
                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    signed_in(client, db, make_staff("miit", Role.handler))

    def offered(number):
        page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
        picker = re.search(r'<select id="m-not_accept-reason".*?</select>', page, re.S).group(0)
        return set(re.findall(r'<option value="(\w+)"', picker))

    assert "not_a_party" in offered(complaint.case_number) and "unverifiable" not in offered(complaint.case_number)
    assert "unverifiable" in offered(report.case_number) and "not_a_party" not in offered(report.case_number)
    # 办法 (2026) 第十六条 (五)(六) are grounds not to accept a complaint, not a report
    assert "false_identity" in offered(complaint.case_number) and "false_identity" not in offered(report.case_number)
    # 信访工作条例 第三十六条第三款: only a complaint is reviewed and re-reviewed, so only a complaint is
    # refused as re-reviewed already
    assert "re_reviewed" in offered(complaint.case_number) and "re_reviewed" not in offered(report.case_number)
    assert "冒用他人名义、提供虚假材料或者拒不配合核验身份" in client.get(f"/desk/cases/{complaint.case_number}").get_data(as_text=True)
    refused = post_move(client, report.case_number, "not_accept", reason="not_a_party",
                        public_text="举报人与被举报协会之间不存在纠纷。")
    assert refused.status_code == 422 and "请从列表中选择理由。" in refused.get_data(as_text=True)
    assert case_of(db, report.case_number)[0] is S.pending_acceptance
    assert post_move(client, complaint.case_number, "not_accept", reason="unverifiable",
                     public_text="投诉缺少可核查的线索。").status_code == 422
    assert post_move(client, report.case_number, "not_accept", reason="unverifiable",
                     public_text="举报未提供可以核查的线索。").status_code == 303


def test_a_complaint_cannot_be_transferred_to_a_mediation_body(client, db, file_case, make_staff):
    """A mediation body mediates; a complaint is for an organ that handles it (信访工作条例: 机关、
    单位). The transfer list leaves mediation bodies out, and a post naming one is refused."""
    complaint = file_case()
    signed_in(client, db, make_staff("miit", Role.handler))
    page = client.get(f"/desk/cases/{complaint.case_number}").get_data(as_text=True)
    picker = re.search(r'<select id="m-transfer-unit_id".*?</select>', page, re.S).group(0)
    assert "国家市场监督管理总局" in picker and "调解中心" not in picker
    with db.session_scope(write=False) as s:
        body = s.scalar(select(Unit.id).where(Unit.code == "caam-mediation"))
    refused = post_move(client, complaint.case_number, "transfer", unit_id=str(body), reason="other_unit_competent")
    assert refused.status_code == 422 and "该单位不能接收此案件。" in refused.get_data(as_text=True)


def test_the_desk_merges_a_further_report_into_the_earlier_one(client, db, services, file_case, make_staff):
    """办法 (2026) 第三十五条 at the desk: a report's move list offers 合并处理; the handler gives the
    earlier report's number, the reporter is told in their own words where the new facts are
    handled, and the earlier report's page names the report merged in."""
    report = dict(type="report", category="illegal_fees", title="协会以评比为名违规收费",
                  description="协会以评比为名向会员企业收取赞助费，每家两万元。")
    earlier = file_case(**report)
    later = file_case(**{**report, "description": "协会又以年会为名收取参会费，每家五千元，并附收据。"})
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, earlier.case_id, "accept")
    login(client, db, handler)
    page = client.get(f"/desk/cases/{later.case_number}").get_data(as_text=True)
    assert 'id="move-merge_report"' in page and "合并处理" in page
    # the reporter's earlier open report is listed, whatever its words (the handler never sees who)
    assert f'id="earlier-{earlier.case_number}"' in page and f'id="merge-earlier-{earlier.case_number}"' in page
    assert "该举报人此前的举报" in page
    resp = post_move(client, later.case_number, "merge_report", merge_into=earlier.case_number, public_text="")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    with db.session_scope(write=False) as s:
        merged = s.get(Case, later.case_id)
        assert merged.state is S.closed
        told = merged.events[-1].public_text
        assert earlier.case_number in told and "重新计算" in told
    page = client.get(f"/desk/cases/{earlier.case_number}").get_data(as_text=True)
    assert later.case_number in page and "重新计算" in page
    # a number that is not a report of the same reporter: the error beside the field, the number kept
    other = file_case(type="report", category="illegal_fees", complainant={"name": "王五", "phone": "13912345678"})
    assert 'id="earlier-reports"' not in client.get(f"/desk/cases/{other.case_number}").get_data(as_text=True)
    resp = post_move(client, other.case_number, "merge_report", merge_into=earlier.case_number)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "同一举报人" in html and f'value="{earlier.case_number}"' in html


def test_a_document_for_the_reply_is_kept_when_the_reply_is_refused(client, db, file_case, make_staff):
    """The desk's move forms lost their chosen files on a refusal ("please choose the files again"):
    the reply's document is kept now, listed ticked, and goes with the reply."""
    import io

    from casework.cases.models import Attachment
    from tests.web.test_read_cost import _png

    number = file_case().case_number
    miit = make_staff("miit", Role.handler)
    signed_in(client, db, miit)
    assert post_move(client, number, "accept").status_code == 303

    def reply(**fields):
        page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
        data = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1),
                "opinion": "supported", "legal_basis": BASIS, "finding": "substantiated", **fields}
        return client.post(f"/desk/cases/{number}/moves/reply", data=data, content_type="multipart/form-data")

    refused = reply(public_text="短", files=[(io.BytesIO(_png()), "处理决定.png")])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    kept = re.search(r'id="m-reply-files-kept">(.*?)</ul>', html, re.S)
    assert kept and "处理决定.png" in kept.group(1)
    file_id = re.search(r'name="keep_file" value="(\d+)" checked', kept.group(1)).group(1)
    done = reply(public_text="经核查，协会已停止强制入会做法并退还会费。", keep_file=file_id)
    assert done.status_code == 303
    with db.session_scope(write=False) as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
        names = [a.filename for a in s.scalars(select(Attachment).where(Attachment.case_id == case_id))]
        staged = s.scalar(select(func.count()).select_from(Attachment).where(Attachment.staging_token.is_not(None)))
    assert names == ["处理决定.png"] and staged == 0


def test_the_address_staff_type_leads_to_the_sign_in_and_on_to_the_desk(client, db, make_staff):
    """/staff answered 404 to a newcomer who typed it; it is the sign-in page, and for a member
    signed in already the desk."""
    for path in ("/staff", "/staff/"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == "/staff/login"
    signed_in(client, db, make_staff("miit", Role.handler))
    assert client.get("/staff/login").headers["Location"] == "/desk"


def test_a_material_request_says_when_nobody_will_be_told_and_the_case_says_its_due_date(client, db, services,
                                                                                         file_case, make_staff):
    """办法 第十六条第五项: material not supplied in time means the complaint is not accepted. A
    request for it to a complainant whose number nobody proved and who gave no e-mail reached
    nobody, and the desk said only "已完成" and "暂停计时". The form says so before it is sent,
    and the case page shows the material's due date and what follows it."""
    from casework.accounts.actor import Actor
    from casework.workflow.machine import perform

    reachable, silent = file_case(), file_case()
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == silent.case_id).values(phone_verified_via="unverified",
                                                                        complainant_email_enc=None))
    handler = make_staff("miit", Role.handler)
    signed_in(client, db, handler)
    page = client.get(f"/desk/cases/{silent.case_number}").get_data(as_text=True)
    form = page[page.index('id="move-request_info"'):]
    form = form[:form.index("</form>")]
    assert "系统无法通知投诉人：没有经验证的手机号码，也没有电子邮箱。" in form
    assert 'id="untold-request_info"' not in client.get(f"/desk/cases/{reachable.case_number}").get_data(as_text=True)
    with db.session_scope() as s:
        perform(s, services, Actor.staff(s.get(User, handler.user_id)), s.get(Case, silent.case_id), "request_info",
                public_text="请补充提供缴费凭证。")
    page = client.get(f"/desk/cases/{silent.case_number}").get_data(as_text=True)
    assert 'id="material-due"' in page and "（逾期未补正的，不予受理并告知投诉人）" in page


def test_a_handler_asks_the_lead_to_extend_and_the_leads_form_starts_from_the_request(client, db, services, file_case,
                                                                                      make_staff):
    """信访工作条例 第三十四条: 情况复杂的，经本机关、单位负责人批准，可以适当延长办理期限，但延长期限不得超过
    30日，并告知信访人延期理由. The desk had only the lead's move, so the handler's request went
    round the platform. The handler asks (days and reason); the unit's mailbox is told; the case
    shows the request; the lead's form starts from it and the lead decides."""
    from casework.accounts.actor import Actor
    from casework.notify.models import OutboxMessage
    from casework.workflow.machine import available_moves, perform

    receipt = file_case()
    handler, lead = make_staff("miit", Role.handler), make_staff("miit", Role.unit_lead)
    with db.session_scope() as s:
        perform(s, services, Actor.staff(s.get(User, handler.user_id)), s.get(Case, receipt.case_id), "accept")
    signed_in(client, db, handler)
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert "申请延长办理期限（报单位负责人批准）" in page and 'id="move-extend"' not in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    short = client.post(f"/desk/cases/{receipt.case_number}/moves/ask_extension",
                        data={"csrf_token": token, "version": version, "days": "45", "internal_text": "需要调取协会三年账目。"})
    assert short.status_code == 422 and "1 到 30" in short.get_data(as_text=True)
    sent = client.post(f"/desk/cases/{receipt.case_number}/moves/ask_extension",
                       data={"csrf_token": token, "version": version, "days": "20",
                             "internal_text": "需要调取协会近三年的会费收支账目，并听取会员单位意见。"})
    assert sent.status_code == 303
    page = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert 'id="extension-asked"' in page and "申请延长办理期限（报单位负责人批准）" in page  # the flag and the timeline
    assert 'id="move-ask_extension"' not in page  # asked once: not again while it waits
    with db.session_scope(write=False) as s:
        told = s.scalars(select(OutboxMessage.template).where(OutboxMessage.case_id == receipt.case_id)).all()
        before = s.get(Case, receipt.case_id).due_at
    assert "extension_asked" in told
    lead_client = client.application.test_client()
    signed_in(lead_client, db, lead)
    page = lead_client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    form = page[page.index('id="move-extend"'):]
    form = form[:form.index("</form>")]
    assert 'name="days" type="text" value="20"' in form
    assert "需要调取协会近三年的会费收支账目，并听取会员单位意见。</textarea>" in form
    with db.session_scope() as s:
        perform(s, services, Actor.staff(s.get(User, lead.user_id)), s.get(Case, receipt.case_id), "extend",
                days="20", public_text="需要调取协会近三年的会费收支账目，并听取会员单位意见。")
        case = s.get(Case, receipt.case_id)
        assert (case.due_at - before).days >= 20 and case.extended
        assert "ask_extension" not in {m.name for m in available_moves(Actor.staff(s.get(User, handler.user_id)), case)}
    assert 'id="extension-asked"' not in lead_client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)


def test_the_queues_material_tab_is_named_as_the_cases_state(client, db, make_staff):
    """In English the tab read "Awaiting material" and the state on each case "Awaiting missing
    material": one state, one name."""
    signed_in(client, db, make_staff("miit", Role.handler))
    client.set_cookie("lang", "en")
    with db.session_scope(write=False) as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    page = client.get(f"/desk/units/{unit_id}").get_data(as_text=True)
    assert "Awaiting missing material" in page and ">Awaiting material<" not in page
