"""Routing at submission: rules with fallbacks, overrides, triage, and conflicts of interest."""
import pytest
from sqlalchemy import select

from casework.cases.models import Case, CaseState, CaseType, EventKind
from casework.registry.models import Association, Unit
from casework.routing.models import RouteTarget, RoutingRule

CAAM = "中国汽车工业协会"


def code_of(db, name):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Association.credit_code).where(Association.name == name))


def add_rule(db, **kw):
    with db.session_scope() as s:
        kw["association_id"] = s.scalar(select(Association.id).where(Association.name == CAAM))
        rule = RoutingRule(case_type=CaseType.complaint, **kw)
        s.add(rule)
        s.flush()
        return rule.id


def drop_rule(db, rule_id):
    with db.session_scope() as s:
        s.delete(s.get(RoutingRule, rule_id))


def routed(db, receipt):
    with db.session_scope(write=False) as s:
        case = s.get(Case, receipt.case_id)
        ev = [e for e in case.events if e.kind is EventKind.routed][0]
        return case.state, (case.unit.code if case.unit else None), ev


def test_complaint_goes_to_the_main_industry_department_and_the_event_names_the_rule(db, file_case):
    state, unit, ev = routed(db, file_case())
    assert state is CaseState.pending_acceptance and unit == "miit"
    assert ev.data["rule_id"] and f"rule {ev.data['rule_id']}" in ev.summary


def test_category_rules_come_before_the_catch_all(db, file_case):
    assert routed(db, file_case(category="election_irregularities"))[1] == "mca"
    assert routed(db, file_case(type="report", category="leader_misconduct"))[1] == "discipline-central"


def test_unknown_association_lands_in_triage_with_an_internal_event(db, file_case):
    state, unit, ev = routed(db, file_case(association="unknown", association_hint="某商会"))
    assert state is CaseState.received and unit is None
    assert ev.data["triage"] and not ev.is_public


def test_mediation_goes_to_the_associations_own_body(db, file_case):
    r = file_case(type="mediation", category="member_contract", association=code_of(db, CAAM),
                  respondent={"name": "某某零部件有限公司", "kind": "member_company"}, claim="请求支付货款。")
    assert routed(db, r)[1] == "caam-mediation"


def test_without_its_own_body_mediation_goes_to_the_regional_joint_body(db, file_case):
    r = file_case(type="mediation", category="consumer", association=code_of(db, "四川省食品工业协会"),
                  respondent={"name": "某食品厂", "kind": "member_company"}, claim="请求退还货款。")
    assert routed(db, r)[1] == "sc-joint-mediation"


def test_a_dispute_with_the_association_never_goes_to_its_own_body(db, file_case):
    r = file_case(type="mediation", category="member_vs_association", association=code_of(db, CAAM),
                  respondent={"name": CAAM, "kind": "member_company"}, claim="请求退还会费。")
    state, unit, ev = routed(db, r)
    assert unit not in (None, "caam-mediation")


def test_a_complaint_never_reaches_the_association_even_through_an_override(db, file_case):
    rule_id = add_rule(db, target=RouteTarget.mediation_body, priority=1, note="misconfigured override")
    try:
        state, unit, ev = routed(db, file_case(association=code_of(db, CAAM)))
        assert unit == "miit"
        assert any("caam-mediation skipped" in s for s in ev.data["skipped"])
    finally:
        drop_rule(db, rule_id)


def test_per_association_override_wins(db, file_case):
    rule_id = add_rule(db, target=RouteTarget.registration_authority, priority=50)
    try:
        state, unit, ev = routed(db, file_case(association=code_of(db, CAAM)))
        assert unit == "mca" and ev.data["rule_id"] == rule_id
    finally:
        drop_rule(db, rule_id)


def set_active(db, code, active):
    with db.session_scope() as s:
        s.scalar(select(Unit).where(Unit.code == code)).active = active


def test_an_inactive_unit_is_skipped_for_the_next_in_the_chain(db, file_case):
    set_active(db, "miit", False)
    try:
        assert routed(db, file_case())[1] == "mca"
    finally:
        set_active(db, "miit", True)


def test_a_request_against_the_association_itself_never_goes_to_its_body(db, file_case):
    r = file_case(type="mediation", category="member_contract", association=code_of(db, CAAM),
                  respondent={"name": CAAM, "kind": "association"}, claim="请求协会退还违规收取的费用。")
    state, unit, ev = routed(db, r)
    assert unit != "caam-mediation"  # a national association has no regional joint body: triage decides
    assert any("caam-mediation skipped" in s for s in ev.data["skipped"])


# -- associations not yet decoupled (未脱钩) and leaders' misconduct (纪检监察) ---------------------

CATERING = "成都市餐饮同业公会"  # not decoupled; its business supervisory unit is cd-commerce-supervisor


@pytest.mark.parametrize("case_type,category", [
    ("complaint", "forced_membership"), ("report", "illegal_fees"), ("complaint", "election_irregularities"),
    ("report", "finance_assets"), ("complaint", "credit_rating_dispute"), ("suggestion", "policy"),
])
def test_an_association_not_yet_decoupled_goes_to_its_business_supervisory_unit_first(
        db, file_case, case_type, category):
    """The 2025 opinion on deepening the reform of industry associations and chambers of
    commerce (sections 一 and 八): an association not yet decoupled (未脱钩) answers first to its
    business supervisory unit (业务主管单位), for complaints, reports and suggestions alike."""
    extra = {"complainant": {"name": "张三", "phone": "13800138000"}} if case_type != "report" else {}
    state, unit, ev = routed(db, file_case(type=case_type, category=category, association=code_of(db, CATERING),
                                           **extra))
    assert (state, unit) == (CaseState.pending_acceptance, "cd-commerce-supervisor")


def test_a_decoupled_association_skips_the_supervisory_unit_and_says_why(db, file_case):
    """A decoupled association has no business supervisory unit (the opinion, 一): the chain goes
    on to the main industry department, and the routing event says why it skipped."""
    state, unit, ev = routed(db, file_case())
    assert unit == "miit"
    assert any("decoupled" in s for s in ev.data["skipped"])


def test_impersonation_stays_with_the_registration_authority_even_when_not_decoupled(db, file_case):
    """An impersonation or an illegal organisation (假冒协会名义/非法社会组织) is the registration
    authority's alone (社会团体登记管理条例), whatever the association's status."""
    assert routed(db, file_case(category="impersonation_illegal_org", association=code_of(db, CATERING)))[1] \
        == "cd-civil-affairs"


@pytest.mark.parametrize("case_type", ["report", "complaint"])
def test_leaders_misconduct_goes_to_the_discipline_inspection_body_of_the_region(db, file_case, case_type):
    """负责人违规违纪 goes to the discipline inspection and supervision unit (纪检监察) of the
    association's region, never to the party work department (issue: reports, last bullet)."""
    national = routed(db, file_case(type=case_type, category="leader_misconduct"))
    assert national[1] == "discipline-central" and national[1] != "swd-central"
    sichuan = routed(db, file_case(type=case_type, category="leader_misconduct",
                                   association=code_of(db, "四川省食品工业协会")))
    assert sichuan[1] == "sc-discipline"
    chengdu = routed(db, file_case(type=case_type, category="leader_misconduct", association=code_of(db, CATERING)))
    assert chengdu[1] == "sc-discipline"  # no city body: the province's


def test_leaders_misconduct_without_a_discipline_body_in_the_region_falls_back(db, file_case):
    """No 纪检监察 unit for Guangdong in the demo: a local association never reaches the national
    body; the chain goes on (supervisory unit, then the registration authority)."""
    state, unit, ev = routed(db, file_case(type="report", category="leader_misconduct",
                                           association=code_of(db, "广东省家具协会")))
    assert unit == "gd-civil-affairs"
    assert any("discipline_inspection" in s for s in ev.data["skipped"])


def test_a_complaint_never_goes_to_a_mediation_body_even_through_a_rule(db, file_case):
    """A complaint, report or suggestion is for an organ that handles it (信访工作条例: 机关、单位); a
    mediation body mediates. A rule that names one (here the region's joint mediation body, which
    is no body of the association, so no conflict) is skipped for the next in the chain."""
    sichuan = "四川省食品工业协会"
    with db.session_scope() as s:
        assoc_id = s.scalar(select(Association.id).where(Association.name == sichuan))
        rule = RoutingRule(case_type=CaseType.complaint, association_id=assoc_id,
                           target=RouteTarget.joint_mediation_body, priority=1, note="misconfigured")
        s.add(rule)
        s.flush()
        rule_id = rule.id
    try:
        state, unit, ev = routed(db, file_case(association=code_of(db, sichuan), category="illegal_fees"))
        assert unit is not None and "mediation" not in unit and ev.data["rule_id"] != rule_id
        assert any("a mediation body takes mediation requests only" in s for s in ev.data["skipped"])
    finally:
        drop_rule(db, rule_id)
