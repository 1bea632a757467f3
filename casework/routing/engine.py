"""Deciding which unit receives a case, and applying that decision.

A complaint, report or suggestion about an association never goes to a body of that
association (a unit whose ``association_id`` is the association's), its own mediation
body included; a mediation request may go to the association's mediation body unless
the association itself is a party (the category says so). Every decision, including
"no rule applies", becomes an event that names the rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework.cases.models import Case, CaseType
from casework.registry.models import Association, Unit, UnitKind
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule


@dataclass
class Decision:
    unit: Unit | None
    rule: RoutingRule | None
    reason: str
    skipped: list[str] = field(default_factory=list)


def association_is_party(case: Case) -> bool:
    if case.type is not CaseType.mediation:
        return True  # a complaint, report or suggestion is about the association
    mediation = getattr(case, "mediation", None)
    if mediation is not None and mediation.respondent_kind.value == "association":
        return True  # the association is the other party
    return bool(case.category and case.category.association_is_party)


def conflicted(unit: Unit, case: Case) -> bool:
    """The unit belongs to the association the case is about."""
    return (case.association_id is not None and unit.association_id == case.association_id
            and association_is_party(case))


def joint_mediation_body(session: Session, region_code: str | None) -> Unit | None:
    if not region_code:
        return None
    rows = session.scalars(select(JointMediationBody)).all()
    matches = [r for r in rows if region_code.startswith(r.region_prefix)]
    return max(matches, key=lambda r: len(r.region_prefix)).unit if matches else None


def regions_covering(region_code: str) -> list[str]:
    """The GB/T 2260 codes of the region and those above it, nearest first: county, city,
    province. A national association's region is the national level ("100000"); a local
    association never reaches a national body this way."""
    code = region_code or ""
    out = [code, code[:4] + "00", code[:2] + "0000"]
    return list(dict.fromkeys(c for c in out if len(c) == 6))


def discipline_inspection_body(session: Session, region_code: str | None) -> Unit | None:
    """The discipline inspection and supervision unit (纪检监察) of the association's region, or
    of the nearest level above it."""
    units = session.scalars(select(Unit).where(Unit.kind == UnitKind.discipline_inspection, Unit.active)).all()
    by_region: dict[str, Unit] = {}
    for unit in sorted(units, key=lambda u: u.id):
        by_region.setdefault(unit.region_code, unit)
    return next((by_region[c] for c in regions_covering(region_code or "") if c in by_region), None)


def resolve_target(session: Session, target: RouteTarget, assoc: Association) -> Unit | None:
    if target is RouteTarget.joint_mediation_body:
        return joint_mediation_body(session, assoc.region_code)
    if target is RouteTarget.discipline_inspection:
        return discipline_inspection_body(session, assoc.region_code)
    if target is RouteTarget.supervisory_unit and assoc.decoupled:
        return None  # a decoupled association has no business supervisory unit
    return {
        RouteTarget.main_industry_department: assoc.main_industry_department,
        RouteTarget.registration_authority: assoc.registration_authority,
        RouteTarget.supervisory_unit: assoc.supervisory_unit,
        RouteTarget.mediation_body: assoc.mediation_body,
        RouteTarget.party_work_department: assoc.party_work_department,
    }[target]


def candidate_rules(session: Session, case: Case) -> list[RoutingRule]:
    rules = session.scalars(select(RoutingRule).where(
        RoutingRule.case_type == case.type, RoutingRule.active,
        or_(RoutingRule.category_id.is_(None), RoutingRule.category_id == case.category_id),
        or_(RoutingRule.association_id.is_(None), RoutingRule.association_id == case.association_id),
    )).all()
    return sorted(rules, key=lambda r: (r.association_id is None, r.category_id is None, r.priority, r.id))


def check_unit_allowed(unit: Unit, case: Case) -> str | None:
    """Why this unit may not receive the case, or None."""
    if not unit.active:
        return "unit inactive"
    if unit.kind is UnitKind.triage:
        return "triage is not a handling unit"
    if conflicted(unit, case):
        return "unit belongs to the association the case is about"
    return None


def decide(session: Session, case: Case) -> Decision:
    if case.association is None:
        return Decision(None, None, "association unknown")
    skipped: list[str] = []
    for rule in candidate_rules(session, case):
        unit = resolve_target(session, rule.target, case.association)
        if unit is None:
            decoupled = rule.target is RouteTarget.supervisory_unit and case.association.decoupled
            skipped.append(f"{rule.describe()}: " + ("association is decoupled (no business supervisory unit)"
                                                     if decoupled else "association has no such unit"))
            continue
        why = check_unit_allowed(unit, case)
        if why:
            skipped.append(f"{rule.describe()}: {unit.code} skipped, {why}")
            continue
        return Decision(unit, rule, f"chosen by {rule.describe()}", skipped)
    return Decision(None, None, "no rule yields a unit", skipped)
