"""The starting routing rules (an administrator edits them afterwards)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.cases.models import CaseType, Category
from casework.registry.models import Unit
from casework.routing.models import JointMediationBody, RouteTarget as T, RoutingRule

C, R, M, S = CaseType.complaint, CaseType.report, CaseType.mediation, CaseType.suggestion

# (case types, category code or None for any, [targets in fallback order])
#
# An association not yet decoupled (未脱钩) answers first to its business supervisory unit
# (业务主管单位, the 2025 opinion on deepening the reform of industry associations and
# chambers of commerce, sections 一 and 八): every complaint, report and suggestion about it
# goes there first, whatever the category, except an impersonation or an illegal organisation
# (the registration authority's alone: there may be no real association behind it) and
# leaders' misconduct (discipline inspection first). A decoupled association has no such unit:
# the engine skips the target and the chain goes on as before.
# Leaders' misconduct (负责人违规违纪) goes to the discipline inspection and supervision body
# (纪检监察) of the association's region, not to the party work department.
# Mediation requests are not changed: they go to a mediation body.
SU = T.supervisory_unit
DEFAULT_RULES = [
    ((C, R), None, [SU, T.main_industry_department, T.registration_authority]),
    ((C, R), "election_irregularities", [SU, T.registration_authority, T.main_industry_department]),
    ((C, R), "illegal_branches", [SU, T.registration_authority, T.main_industry_department]),
    ((C, R), "finance_assets", [SU, T.registration_authority, T.main_industry_department]),
    ((C, R), "impersonation_illegal_org", [T.registration_authority]),
    ((C, R), "leader_misconduct", [T.discipline_inspection, SU, T.registration_authority]),
    ((C, R), "credit_rating_dispute", [SU, T.main_industry_department, T.registration_authority]),
    ((M,), None, [T.mediation_body, T.joint_mediation_body]),
    ((M,), "member_vs_association", [T.joint_mediation_body, T.main_industry_department]),
    ((S,), None, [SU, T.main_industry_department, T.registration_authority]),
]


def seed_routing(session: Session, *, joint_bodies: dict[str, str] | None = None) -> int:
    """Insert the default rules if there are none yet; returns how many were added."""
    for prefix, code in (joint_bodies or {}).items():
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is not None and session.scalar(
                select(JointMediationBody.id).where(JointMediationBody.region_prefix == prefix)) is None:
            session.add(JointMediationBody(region_prefix=prefix, unit_id=unit.id))
    if session.scalar(select(RoutingRule.id).limit(1)) is not None:
        session.flush()
        return 0
    categories = {c.code: c.id for c in session.scalars(select(Category))}
    added = 0
    for types, code, targets in DEFAULT_RULES:
        for case_type in types:
            for i, target in enumerate(targets):
                session.add(RoutingRule(case_type=case_type, category_id=categories.get(code) if code else None,
                                        target=target, priority=10 * (i + 1), note="default"))
                added += 1
    session.flush()
    return added
