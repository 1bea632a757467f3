"""Deciding which unit receives a case.

A complaint, report or suggestion about an association never goes to a body of that
association (a unit whose ``association_id`` is the association's), its own mediation
body included; a mediation request may go to the association's mediation body unless
the association itself is a party (the category says so). Every decision, including
"no rule applies", becomes an event that names the rule.

The decision is made on plain data: ``RoutingData`` (the active rules in the engine's order,
the units, the joint mediation bodies, the discipline inspection bodies), cached per process
for each version of the reference data (casework.reference), and ``Facts`` of the case. A
submission routes without a query (casework.intake.operations); ``decide`` and ``route_case``
do the same for a case as an ORM object (the administrator's "try it", casework.routing.
operations_admin.explain), from the same function.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from casework import reference
from casework.cases.models import Case, CaseType, Category
from casework.reference import AssociationRef
from casework.registry.models import Association, Unit, UnitKind
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    name_en: str | None
    kind: UnitKind
    region_code: str
    association_id: int | None
    active: bool


@dataclass(frozen=True)
class RuleRef:
    id: int
    case_type: CaseType
    category_id: int | None
    association_id: int | None
    target: RouteTarget
    priority: int
    text: str  # describe(), made when loaded (it names the category's code and the credit code)

    def describe(self) -> str:
        return self.text


def describe_rule(rule_id: int, case_type: CaseType, category_code: str | None, credit_code: str | None,
                  target: RouteTarget, priority: int) -> str:
    scope = [case_type.value, category_code or "*"] + ([credit_code] if credit_code else [])
    return f"rule {rule_id} ({'/'.join(scope)} -> {target.value}, priority {priority})"


@dataclass(frozen=True)
class RoutingData:
    rules: Mapping[CaseType, tuple[RuleRef, ...]]  # the active rules, in the engine's order
    units: Mapping[int, UnitRef]  # every unit, active or not
    joint: tuple[tuple[str, int], ...]  # (region prefix, unit id), the longest prefix first
    discipline: Mapping[str, int]  # region code -> its discipline inspection body (active, lowest id)


def _load(session: Session) -> RoutingData:
    r, cat, assoc = RoutingRule.__table__.c, Category.__table__.c, Association.__table__.c
    rows = session.execute(
        sa.select(r.id, r.case_type, r.category_id, r.association_id, r.target, r.priority, cat.code,
                  assoc.credit_code)
        .select_from(RoutingRule.__table__.outerjoin(Category.__table__, cat.id == r.category_id)
                     .outerjoin(Association.__table__, assoc.id == r.association_id))
        .where(r.active)).all()
    rules: dict[CaseType, list[RuleRef]] = {}
    for rid, case_type, category_id, association_id, target, priority, code, credit in rows:
        rules.setdefault(case_type, []).append(RuleRef(
            rid, case_type, category_id, association_id, target, priority,
            describe_rule(rid, case_type, code, credit, target, priority)))
    u = Unit.__table__.c
    units = {row[0]: UnitRef(*row) for row in session.execute(sa.select(
        u.id, u.code, u.name, u.name_en, u.kind, u.region_code, u.association_id, u.active))}
    j = JointMediationBody.__table__.c
    joint = sorted(((p, uid) for p, uid in session.execute(sa.select(j.region_prefix, j.unit_id))),
                   key=lambda p: -len(p[0]))
    discipline: dict[str, int] = {}
    for unit in sorted(units.values(), key=lambda x: x.id):
        if unit.kind is UnitKind.discipline_inspection and unit.active:
            discipline.setdefault(unit.region_code, unit.id)
    order = lambda x: (x.association_id is None, x.category_id is None, x.priority, x.id)  # noqa: E731
    return RoutingData(MappingProxyType({t: tuple(sorted(rs, key=order)) for t, rs in rules.items()}),
                       MappingProxyType(units), tuple(joint), MappingProxyType(discipline))


def routing_data(session: Session, snapshot: reference.Snapshot | None = None) -> RoutingData:
    snap = snapshot or reference.current(session)
    return snap.part("routing", _load, session)


@dataclass(frozen=True)
class Facts:
    """What routing reads of a case."""
    type: CaseType
    category_id: int | None
    association_id: int | None
    association_is_party: bool


def association_is_party(case) -> bool:
    if isinstance(case, Facts):
        return case.association_is_party
    if case.type is not CaseType.mediation:
        return True  # a complaint, report or suggestion is about the association
    mediation = getattr(case, "mediation", None)
    if mediation is not None and mediation.respondent_kind.value == "association":
        return True  # the association is the other party
    return bool(case.category and case.category.association_is_party)


def party_to(case_type: CaseType, respondent_kind: str | None, category_is_party: bool) -> bool:
    """``association_is_party`` for a case being filed (its mediation's respondent kind)."""
    return case_type is not CaseType.mediation or respondent_kind == "association" or category_is_party


def conflicted(unit, case) -> bool:
    """The unit belongs to the association the case is about (a Unit or UnitRef; a Case or Facts)."""
    return (case.association_id is not None and unit.association_id == case.association_id
            and association_is_party(case))


def regions_covering(region_code: str) -> list[str]:
    """The GB/T 2260 codes of the region and those above it, nearest first: county, city,
    province. A national association's region is the national level ("100000"); a local
    association never reaches a national body this way."""
    code = region_code or ""
    out = [code, code[:4] + "00", code[:2] + "0000"]
    return list(dict.fromkeys(c for c in out if len(c) == 6))


def check_unit_allowed(unit, case) -> str | None:
    """Why this unit may not receive the case, or None (a Unit or UnitRef; a Case or Facts)."""
    if not unit.active:
        return "unit inactive"
    if unit.kind is UnitKind.triage:
        return "triage is not a handling unit"
    if conflicted(unit, case):
        return "unit belongs to the association the case is about"
    if unit.kind is UnitKind.mediation_body and case.type is not CaseType.mediation:
        # a complaint, report or suggestion is for an organ that handles 信访 (信访工作条例: 机关、
        # 单位); an association's mediation body mediates, and its desk has no such handling
        return "a mediation body takes mediation requests only"
    return None


def resolve_target(data: RoutingData, target: RouteTarget, assoc: AssociationRef) -> UnitRef | None:
    if target is RouteTarget.joint_mediation_body:
        region = assoc.region_code or ""
        unit_id = next((uid for prefix, uid in data.joint if region and region.startswith(prefix)), None)
    elif target is RouteTarget.discipline_inspection:
        unit_id = next((data.discipline[c] for c in regions_covering(assoc.region_code or "")
                        if c in data.discipline), None)
    elif target is RouteTarget.supervisory_unit and assoc.decoupled:
        return None  # a decoupled association has no business supervisory unit
    else:
        unit_id = {
            RouteTarget.main_industry_department: assoc.main_industry_department_id,
            RouteTarget.registration_authority: assoc.registration_authority_id,
            RouteTarget.supervisory_unit: assoc.supervisory_unit_id,
            RouteTarget.mediation_body: assoc.mediation_body_id,
            RouteTarget.party_work_department: assoc.party_work_department_id,
        }[target]
    return data.units.get(unit_id) if unit_id is not None else None


def candidates(data: RoutingData, facts: Facts) -> tuple[RuleRef, ...]:
    """The rules that apply to the case, most specific first: the order they are tried in."""
    return tuple(r for r in data.rules.get(facts.type, ())
                 if r.category_id in (None, facts.category_id) and r.association_id in (None, facts.association_id))


@dataclass(frozen=True)
class Tried:
    rule: RuleRef
    unit: UnitRef | None
    outcome: str  # "chosen" | "no_unit" | "decoupled" | "not_allowed"
    reason: str = ""  # why not allowed (the engine's English words)


@dataclass(frozen=True)
class Route:
    unit: UnitRef | None
    rule: RuleRef | None
    reason: str
    skipped: tuple[str, ...] = ()
    tried: tuple[Tried, ...] = ()


def route(data: RoutingData, facts: Facts, assoc: AssociationRef | None) -> Route:
    """The unit that receives the case, the rule that chose it, and every rule skipped and why."""
    if assoc is None:
        return Route(None, None, "association unknown")
    skipped: list[str] = []
    tried: list[Tried] = []
    for rule in candidates(data, facts):
        unit = resolve_target(data, rule.target, assoc)
        if unit is None:
            decoupled = rule.target is RouteTarget.supervisory_unit and assoc.decoupled
            skipped.append(f"{rule.describe()}: " + ("association is decoupled (no business supervisory unit)"
                                                     if decoupled else "association has no such unit"))
            tried.append(Tried(rule, None, "decoupled" if decoupled else "no_unit"))
            continue
        why = check_unit_allowed(unit, facts)
        if why:
            skipped.append(f"{rule.describe()}: {unit.code} skipped, {why}")
            tried.append(Tried(rule, unit, "not_allowed", why))
            continue
        tried.append(Tried(rule, unit, "chosen"))
        return Route(unit, rule, f"chosen by {rule.describe()}", tuple(skipped), tuple(tried))
    return Route(None, None, "no rule yields a unit", tuple(skipped), tuple(tried))


# -- a case as an ORM object (the administrator's "try it") ------------------------------------

@dataclass
class Decision:
    unit: Unit | None
    rule: RoutingRule | None
    reason: str
    skipped: list[str] = field(default_factory=list)


def facts_of(case: Case) -> Facts:
    return Facts(case.type, case.category_id, case.association_id, association_is_party(case))


def association_ref(assoc: Association) -> AssociationRef:
    return AssociationRef(**{name: getattr(assoc, name) for name in AssociationRef.__dataclass_fields__})


def route_case(session: Session, case: Case) -> tuple[RoutingData, Facts, Route]:
    """How a case (saved or transient) would be routed now."""
    data = routing_data(session)
    facts = facts_of(case)
    assoc = association_ref(case.association) if case.association is not None else None
    return data, facts, route(data, facts, assoc)


def decide(session: Session, case: Case) -> Decision:
    _data, _facts, r = route_case(session, case)
    return Decision(session.get(Unit, r.unit.id) if r.unit else None,
                    session.get(RoutingRule, r.rule.id) if r.rule else None, r.reason, list(r.skipped))
