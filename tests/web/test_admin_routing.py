"""Administrators edit routing rules, joint mediation bodies and canned replies in the browser."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select

from casework.accounts.models import Role, User
from casework.cases.models import CannedReply, Case, CaseType
from casework.registry.models import Association, Unit
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule
from casework.routing.operations_admin import sample_case

CAAM = "中国汽车工业协会"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = ["/admin", "/admin/routing", "/admin/routing/new", "/admin/joint-mediation", "/admin/canned-replies",
         "/admin/canned-replies/new", "/admin/routing?case_type=complaint&category=illegal_fees"]


def login_as(client, db, actor) -> None:
    """A signed-in session for this staff member, as web.auth.start_session opens it."""
    from casework.accounts.sessions import open_session
    from web.sessions import COOKIE

    with db.session_scope() as s:
        session_id = open_session(s, s.get(User, actor.user_id))
    client.set_cookie(COOKIE, session_id)


def csrf_token(client, path="/admin/routing/new") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def caam_code(db) -> str:
    with db.session_scope(write=False) as s:
        return s.scalar(select(Association.credit_code).where(Association.name == CAAM))


def rule_ids(db) -> set[int]:
    with db.session_scope(write=False) as s:
        return set(s.scalars(select(RoutingRule.id)))


def drop_rules(db, ids) -> None:
    if ids:
        with db.session_scope() as s:
            s.execute(delete(RoutingRule).where(RoutingRule.id.in_(ids)))


def unit_of(db, case_id) -> str | None:
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        return case.unit.code if case.unit else None


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("triage", Role.administrator)
    login_as(client, db, actor)
    return actor


@pytest.fixture
def new_rules(db):
    """Rules the test creates are deleted afterwards (the rule table is shared)."""
    before = rule_ids(db)
    yield lambda: sorted(rule_ids(db) - before)
    drop_rules(db, rule_ids(db) - before)


def rule_form(csrf, **changes):
    data = {"csrf_token": csrf, "case_type": "complaint", "category": "", "association": "",
            "target": "registration_authority", "priority": "1", "active": "1", "note": "测试"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_not_signed_in_goes_to_the_login_page(client, db):
    resp = client.get("/admin/routing")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]


def test_an_administrator_signs_in_and_is_sent_back_to_the_rules(client, db, make_staff):
    actor = make_staff("triage", Role.administrator)
    with db.session_scope(write=False) as s:
        username = s.get(User, actor.user_id).username
    form = client.get("/staff/login?next=/admin/routing").get_data(as_text=True)
    resp = client.post("/staff/login", data={"csrf_token": CSRF.search(form).group(1), "username": username,
                                             "password": "correct horse battery", "next": "/admin/routing"})
    assert resp.status_code in (302, 303) and resp.headers["Location"].endswith("/admin/routing")
    assert client.get("/admin/routing").status_code == 200


def test_a_handler_gets_403_on_every_admin_page(client, db, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    with db.session_scope(write=False) as s:
        rule_id = s.scalar(select(RoutingRule.id).limit(1))
    # a valid CSRF token from a public form, so the refusal is the permission check's
    csrf = CSRF.search(client.get("/file/complaint").get_data(as_text=True)).group(1)
    for path in ("/admin/routing/new", f"/admin/routing/{rule_id}/edit", f"/admin/routing/{rule_id}/deactivate",
                 "/admin/joint-mediation", "/admin/canned-replies/new"):
        assert client.post(path, data=rule_form(csrf)).status_code == 403, path
    with db.session_scope(write=False) as s:
        assert s.get(RoutingRule, rule_id).active


def test_admin_pages_render(client, db, admin):
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "<script>" not in resp.get_data(as_text=True) and "style=" not in resp.get_data(as_text=True)
    # the seeded rules' note in the page's words (it read "default" on the Chinese page)
    rules = client.get("/admin/routing").get_data(as_text=True)
    assert '<td data-label="备注">系统默认</td>' in rules and ">default</td>" not in rules


def test_override_routes_new_cases_then_deactivating_it_restores_the_default(client, db, admin, file_case, new_rules):
    code = caam_code(db)
    resp = client.post("/admin/routing/new", data=rule_form(csrf_token(client), association=code))
    assert resp.status_code == 302
    (rule_id,) = new_rules()
    with db.session_scope(write=False) as s:
        rule = s.get(RoutingRule, rule_id)
        assert (rule.case_type, rule.target, rule.priority, rule.active) == \
            (CaseType.complaint, RouteTarget.registration_authority, 1, True)
        assert rule.association.name == CAAM and rule.category_id is None
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="change"' in page and f'id="rule-{rule_id}"' in page  # before/after shown once

    assert unit_of(db, file_case(association=code).case_id) == "mca"
    assert unit_of(db, file_case().case_id) == "miit"  # other associations: unchanged

    resp = client.post(f"/admin/routing/{rule_id}/deactivate", data={"csrf_token": csrf_token(client)})
    assert resp.status_code == 302
    with db.session_scope(write=False) as s:
        assert not s.get(RoutingRule, rule_id).active
    assert unit_of(db, file_case(association=code).case_id) == "miit"


def test_invalid_form_shows_errors_beside_fields_keeps_input_and_saves_nothing(client, db, admin, new_rules):
    before = rule_ids(db)
    resp = client.post("/admin/routing/new", data=rule_form(
        csrf_token(client), priority="soon", category="member_contract", note="保留这段说明"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="priority-error"' in html and 'id="category-error"' in html
    assert 'id="target-error"' not in html
    assert 'value="soon"' in html and "保留这段说明" in html
    assert re.search(r'<option value="member_contract" selected>', html)
    assert rule_ids(db) == before

    resp = client.post("/admin/routing/new", data=rule_form(csrf_token(client), association="91110000000000000X"))
    assert resp.status_code == 422 and 'id="association-error"' in resp.get_data(as_text=True)
    assert rule_ids(db) == before


def test_a_mediation_body_is_refused_as_the_target_of_a_complaint_rule(client, db, admin, new_rules):
    """Routing skips a mediation body for anything but a mediation request (a complaint is for an
    organ that handles it): the form says so where the target is chosen, and saves nothing."""
    for target in ("mediation_body", "joint_mediation_body"):
        resp = client.post("/admin/routing/new", data=rule_form(csrf_token(client), target=target))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and 'id="target-error"' in html
        assert "调解组织只接收调解申请，请为此类案件选择其他单位。" in html
    assert new_rules() == []
    ok = client.post("/admin/routing/new", data=rule_form(csrf_token(client), case_type="mediation",
                                                           category="member_contract", target="joint_mediation_body"))
    assert ok.status_code == 302 and len(new_rules()) == 1


def test_a_second_rule_with_the_same_scope_and_target_is_refused(client, db, admin, new_rules):
    with db.session_scope(write=False) as s:
        default = s.scalar(select(RoutingRule).where(
            RoutingRule.case_type == CaseType.complaint, RoutingRule.category_id.is_(None),
            RoutingRule.association_id.is_(None), RoutingRule.target == RouteTarget.main_industry_department))
        default_id = default.id
    resp = client.post("/admin/routing/new", data=rule_form(csrf_token(client), target="main_industry_department"))
    assert resp.status_code == 422 and f"{default_id}" in resp.get_data(as_text=True)
    assert new_rules() == []


def test_edit_changes_a_rule_and_shows_before_and_after(client, db, admin, new_rules):
    client.post("/admin/routing/new", data=rule_form(csrf_token(client), case_type="report",
                                                      category="finance_assets", target="party_work_department",
                                                      priority="5"))
    (rule_id,) = new_rules()
    form = client.get(f"/admin/routing/{rule_id}/edit").get_data(as_text=True)
    assert 'value="5"' in form and '<option value="finance_assets" selected>' in form
    resp = client.post(f"/admin/routing/{rule_id}/edit", data=rule_form(
        csrf_token(client), case_type="report", category="finance_assets", target="party_work_department",
        priority="7", active=None), follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    change = html[html.index('id="change"'):html.index("</section>", html.index('id="change"'))]
    assert "<strong>7</strong>" in change and 'class="changed"' in change
    with db.session_scope(write=False) as s:
        rule = s.get(RoutingRule, rule_id)
        assert (rule.priority, rule.active) == (7, False)


def test_try_it_shows_the_unit_and_the_skipped_rules(client, db, admin, new_rules):
    code = caam_code(db)
    # a mediation request against the association itself, sent to its own mediation body
    client.post("/admin/routing/new", data=rule_form(csrf_token(client), case_type="mediation", association=code,
                                                      category="member_vs_association", target="mediation_body",
                                                      priority="1"))
    html = client.get(f"/admin/routing?case_type=mediation&category=member_vs_association&association={code}"
                      ).get_data(as_text=True)
    result = html[html.index('id="try-result"'):]
    assert "<code>miit</code>" in result.split("</p>")[0]  # the verdict: miit
    assert "outcome-not_allowed" in result and "caam-mediation" in result  # conflict of interest
    assert "outcome-not_reached" in result
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0  # nothing filed

    unknown = client.get("/admin/routing?case_type=complaint&category=forced_membership").get_data(as_text=True)
    assert 'id="try-result"' in unknown and "<code>" not in unknown.split('id="try-result"')[1].split("</p>")[0]
    wrong = client.get("/admin/routing?case_type=complaint&category=consumer").get_data(as_text=True)
    assert 'id="category-error"' in wrong and 'id="try-result"' not in wrong
    # by the association's name as well as its code (a name was "no association with the credit code …")
    named = client.get("/admin/routing", query_string={"case_type": "mediation", "category": "member_vs_association",
                                                       "association": "中国汽车工业协会"}).get_data(as_text=True)
    assert 'id="try-result"' in named and "<code>miit</code>" in named.split('id="try-result"')[1].split("</p>")[0]
    several = client.get("/admin/routing", query_string={"case_type": "complaint", "category": "forced_membership",
                                                         "association": "中国"}).get_data(as_text=True)
    assert 'id="association-error"' in several and "有多个协会与“中国”相符" in several


def test_sample_case_is_never_added_to_the_session(db):
    from casework.cases.models import Category
    from casework.routing.operations_admin import explain

    with db.session_scope(write=False) as s:
        cat = s.scalar(select(Category).where(Category.code == "illegal_fees"))
        assoc = s.scalar(select(Association).where(Association.name == CAAM))
        case = sample_case(CaseType.complaint, cat, assoc)
        result = explain(s, case)
        assert case not in s and not s.new
        assert result.decision.unit.code == "miit"
        assert [st.rule for st in result.steps if st.outcome == "chosen"] == [result.decision.rule]


def test_joint_mediation_body_add_and_remove(client, db, admin):
    resp = client.post("/admin/joint-mediation", data={"csrf_token": csrf_token(client), "region_prefix": "5",
                                                        "unit": "caam-mediation"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="region_prefix-error"' in html and 'id="unit-error"' in html
    resp = client.post("/admin/joint-mediation", data={"csrf_token": csrf_token(client), "region_prefix": "44",
                                                        "unit": "sc-joint-mediation"})
    assert resp.status_code == 302
    with db.session_scope(write=False) as s:
        body_id = s.scalar(select(JointMediationBody.id).where(JointMediationBody.region_prefix == "44"))
    try:
        assert body_id is not None
        page = client.get("/admin/joint-mediation").get_data(as_text=True)
        assert f'id="joint-{body_id}"' in page
        again = client.post("/admin/joint-mediation", data={"csrf_token": csrf_token(client),
                                                             "region_prefix": "44", "unit": "sc-joint-mediation"})
        assert again.status_code == 422
        assert client.post(f"/admin/joint-mediation/{body_id}/remove",
                           data={"csrf_token": csrf_token(client)}).status_code == 302
        with db.session_scope(write=False) as s:
            assert s.get(JointMediationBody, body_id) is None
    finally:
        with db.session_scope() as s:
            s.execute(delete(JointMediationBody).where(JointMediationBody.region_prefix == "44"))


def test_canned_reply_created_appears_for_its_unit(client, db, admin):
    try:
        bad = client.post("/admin/canned-replies/new", data={"csrf_token": csrf_token(client), "unit": "miit",
                                                              "title": "", "body": "正文", "active": "1"})
        assert bad.status_code == 422 and 'id="title-error"' in bad.get_data(as_text=True)
        short = client.post("/admin/canned-replies/new", data={
            "csrf_token": csrf_token(client), "unit": "miit", "title": "已转交登记管理机关",
            "body": "您反映的问题已转交登记管理机关依法处理。", "legal_basis": "条例", "active": "1"})
        assert short.status_code == 422 and 'id="legal_basis-error"' in short.get_data(as_text=True)
        assert "您反映的问题已转交登记管理机关依法处理。" in short.get_data(as_text=True)  # nothing typed is lost
        # the laws a reply rests on, filled in with it as a complaint's opinion's basis (信访工作条例 第三十二条)
        resp = client.post("/admin/canned-replies/new", data={
            "csrf_token": csrf_token(client), "unit": "miit", "title": "已转交登记管理机关",
            "body": "您反映的问题已转交登记管理机关依法处理。", "legal_basis": "《社会团体登记管理条例》",
            "active": "1"})
        assert resp.status_code == 302
        page = client.get("/admin/canned-replies?unit=miit").get_data(as_text=True)
        assert "已转交登记管理机关" in page and 'id="unit-miit"' in page
        assert "法律依据：《社会团体登记管理条例》" in page
        assert "已转交登记管理机关" not in client.get("/admin/canned-replies?unit=mca").get_data(as_text=True)
        with db.session_scope(write=False) as s:
            reply = s.scalar(select(CannedReply).where(CannedReply.title == "已转交登记管理机关"))
            assert reply.unit_id == s.scalar(select(Unit.id).where(Unit.code == "miit")) and reply.active
            assert reply.legal_basis == "《社会团体登记管理条例》"
        assert client.post(f"/admin/canned-replies/{reply.id}/deactivate",
                           data={"csrf_token": csrf_token(client)}).status_code == 302
        with db.session_scope(write=False) as s:
            assert not s.get(CannedReply, reply.id).active
    finally:
        with db.session_scope() as s:
            s.execute(delete(CannedReply).where(CannedReply.title == "已转交登记管理机关"))


def test_changes_are_logged_without_free_text(client, db, admin, new_rules, caplog):
    caplog.set_level("INFO", logger="changtong.admin")
    client.post("/admin/routing/new", data=rule_form(csrf_token(client), case_type="suggestion",
                                                      target="party_work_department", note="张三 13800138000"))
    (rule_id,) = new_rules()
    line = [r.getMessage() for r in caplog.records if r.name == "changtong.admin"][-1]
    assert line.startswith("routing_rule.created ") and f'"id": {rule_id}' in line
    assert "13800138000" not in line and '"note": "changed"' in line
