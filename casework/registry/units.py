"""What an administrator changes about units (the bodies that handle cases): create one,
edit it, take it out of use. Validation, snapshot and audit as in casework.registry.operations.

A unit's code is fixed once created: routing CSVs, association CSVs and the command line
name units by it. A unit out of use receives no new cases (the routing engine skips it);
the cases it holds stay with it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from casework.accounts.actor import Actor
from casework.accounts.models import Membership
from casework.audit.operations import Change, record_created, record_edit, set_active
from casework.i18n import N_
from casework.intake.validation import Errors, add_error, clean_text
from casework.registry.validation import NATIONAL_REGION, PROVINCE_CODES, new_code
from casework.registry.models import Association, Unit, UnitKind, association_industry_department

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
NAME_MIN, NAME_MAX, NAME_EN_MAX = 2, 200, 300
FIELDS = ("code", "name", "name_en", "kind", "region_code", "notice_email", "supervising_unit", "association",
          "lead_approves_not_accept", "people_mediation_committee", "active")


def unit_snapshot(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "name_en": unit.name_en,
        "kind": unit.kind.value,
        "region_code": unit.region_code,
        "notice_email": unit.notice_email,  # an office mailbox, not a person's
        "supervising_unit": unit.supervising_unit.code if unit.supervising_unit else None,
        "association": _association_code(unit),
        "lead_approves_not_accept": unit.lead_approves_not_accept,
        "people_mediation_committee": unit.people_mediation_committee,
        "active": unit.active,
    }


def _association_code(unit: Unit) -> str | None:
    if unit.association_id is None:
        return None
    session = object_session(unit)
    assoc = session.get(Association, unit.association_id) if session else None
    return assoc.credit_code if assoc else None


def form_values(unit: Unit) -> dict[str, str]:
    snap = unit_snapshot(unit)
    values = {k: ("" if v is None else str(v)) for k, v in snap.items()}
    values["lead_approves_not_accept"] = "1" if unit.lead_approves_not_accept else ""
    values["people_mediation_committee"] = "1" if unit.people_mediation_committee else ""
    values["active"] = "1" if unit.active else ""
    return values


@dataclass
class UnitValues:
    code: str
    name: str
    name_en: str | None
    kind: UnitKind
    region_code: str
    notice_email: str | None
    supervising_unit: Unit | None
    association: Association | None
    lead_approves_not_accept: bool
    active: bool
    # a mediation body that is a 人民调解委员会: its 调解协议书 cites 人民调解法 第三十三条 for
    # 司法确认; any other mediation body's cites 民事诉讼法 (casework.mediation.document)
    people_mediation_committee: bool = False


def _above(start: Unit, unit: Unit) -> bool:
    """Whether ``unit`` is ``start`` or one of the units above it (its supervising units' chain)."""
    seen: set[int] = set()
    current: Unit | None = start
    while current is not None and current.id not in seen:
        if current.id == unit.id:
            return True
        seen.add(current.id)
        current = current.supervising_unit
    return False


def check_unit(session: Session, raw: Mapping[str, str], unit: Unit | None = None) -> tuple[UnitValues | None, Errors]:
    """Validate a unit form (``unit`` None: a new unit, whose code is checked)."""
    errors: Errors = {}
    err = partial(add_error, errors)

    if unit is None:
        code = new_code(session, Unit.code, raw.get("code"), CODE, err,
                        N_("A code of 2 to 64 lower-case letters, digits and hyphens, e.g. sc-miit."),
                        N_("Another unit has the code %(code)s."))
    else:
        code = unit.code

    name = clean_text(raw.get("name"))
    if not NAME_MIN <= len(name) <= NAME_MAX:
        err("name", N_("A name of %(min)d to %(max)d characters is required."), min=NAME_MIN, max=NAME_MAX)
    name_en = clean_text(raw.get("name_en")) or None
    if name_en and len(name_en) > NAME_EN_MAX:
        err("name_en", N_("At most %(max)d characters."), max=NAME_EN_MAX)

    kind = UnitKind._value2member_map_.get(clean_text(raw.get("kind")))
    if kind is None:
        err("kind", N_("Choose a kind of unit."))
    elif unit is not None and kind is not unit.kind:
        n = associations_naming(session, unit)
        if n:
            err("kind", N_("%(n)d associations name this unit as one of their units; a unit of another "
                           "kind would not fit there. Change those associations first."), n=n)
    region_code = clean_text(raw.get("region_code"))
    if not re.fullmatch(r"[0-9]{6}", region_code) or (
            region_code != NATIONAL_REGION and region_code[:2] not in PROVINCE_CODES):
        err("region_code", N_("A region code is 6 digits (GB/T 2260), 100000 for a national body."))

    notice_email = None
    raw_email = clean_text(raw.get("notice_email"))
    if raw_email:
        try:
            notice_email = validate_email(raw_email, check_deliverability=False).normalized
        except EmailNotValidError:
            err("notice_email", N_("This e-mail address is not valid."))
        else:
            if len(notice_email) > 254:
                err("notice_email", N_("This e-mail address is not valid."))

    supervising = None
    sup_code = clean_text(raw.get("supervising_unit"))
    if sup_code:
        supervising = session.scalar(select(Unit).where(Unit.code == sup_code))
        if supervising is None:
            err("supervising_unit", N_("There is no unit with the code %(code)s."), code=sup_code)
        elif supervising.code == code:
            err("supervising_unit", N_("A unit cannot supervise itself."))
        elif unit is not None and _above(supervising, unit):
            # a loop: overdue escalations would go round, and a review (复查, 复核) would come back to
            # the unit that decided (信访工作条例 第三十五、三十六条: the level above decides)
            err("supervising_unit", N_("%(upper)s is itself supervised by this unit, directly or through other units: "
                                       "the levels above a unit cannot lead back to it."), upper=f"{supervising.name} ({supervising.code})")

    association = None
    credit = clean_text(raw.get("association")).upper()
    if credit:
        association = session.scalar(select(Association).where(Association.credit_code == credit))
        if association is None:
            err("association", N_("No association in the registry has the credit code %(code)s."), code=credit)
        elif kind is not None and kind is not UnitKind.mediation_body:
            err("association", N_("Only a mediation body belongs to an association."))

    people_mediation = _flag(raw.get("people_mediation_committee"))
    if people_mediation and kind is not None and kind is not UnitKind.mediation_body:
        err("people_mediation_committee", N_("Only a mediation body can be a people's mediation committee."))

    if errors:
        return None, errors
    assert kind is not None
    return UnitValues(code, name, name_en, kind, region_code, notice_email, supervising, association,
                      _flag(raw.get("lead_approves_not_accept")), _flag(raw.get("active")), people_mediation), {}


def associations_naming(session: Session, unit: Unit) -> int:
    """How many associations name ``unit`` as one of their related units."""
    col = [Association.registration_authority_id, Association.main_industry_department_id,
           Association.supervisory_unit_id, Association.mediation_body_id, Association.party_work_department_id]
    direct = select(Association.id).where(sa.or_(*(c == unit.id for c in col)))
    other = select(association_industry_department.c.association_id).where(
        association_industry_department.c.unit_id == unit.id)
    return session.scalar(select(func.count()).select_from(sa.union(direct, other).subquery())) or 0


def _flag(value) -> bool:
    return clean_text(value).lower() in ("1", "on", "true", "yes")


def _apply(unit: Unit, values: UnitValues) -> None:
    unit.name, unit.name_en, unit.kind, unit.region_code = values.name, values.name_en, values.kind, values.region_code
    unit.notice_email = values.notice_email
    unit.supervising_unit = values.supervising_unit
    unit.supervising_unit_id = values.supervising_unit.id if values.supervising_unit else None
    unit.association_id = values.association.id if values.association else None
    unit.lead_approves_not_accept, unit.active = values.lead_approves_not_accept, values.active
    unit.people_mediation_committee = values.people_mediation_committee


def create_unit(session: Session, actor: Actor, values: UnitValues) -> Change:
    unit = Unit(code=values.code)
    _apply(unit, values)
    return record_created(session, actor, "unit", unit, unit.code, unit_snapshot)


def update_unit(session: Session, actor: Actor, unit: Unit, values: UnitValues) -> Change:
    return record_edit(session, actor, "unit", unit, unit.code, unit_snapshot, lambda u: _apply(u, values))


def set_unit_active(session: Session, actor: Actor, unit: Unit, active: bool) -> Change:
    return set_active(session, actor, "unit", unit, unit.code, active, unit_snapshot)


def unit_list(session: Session) -> list[tuple[Unit, int]]:
    """Every unit with its number of staff memberships, by kind and code."""
    counts = dict(session.execute(select(Membership.unit_id, func.count()).group_by(Membership.unit_id)).all())
    kinds = list(UnitKind)
    units = session.scalars(select(Unit)).all()
    return [(u, counts.get(u.id, 0)) for u in sorted(units, key=lambda u: (kinds.index(u.kind), u.code))]


def escalates_to_nobody(unit: Unit) -> bool:
    """A unit in use that holds cases and names no supervising unit: the deadline sweep's
    supervision (督办) of its overdue cases reaches no one (casework.deadlines.sweep)."""
    return unit.active and unit.kind is not UnitKind.triage and unit.supervising_unit_id is None


def units_without_supervisor(session: Session) -> list[Unit]:
    """The units whose overdue cases would escalate to nobody, by kind and code (the units list's order)."""
    kinds = list(UnitKind)
    units = session.scalars(select(Unit).where(Unit.active, Unit.kind != UnitKind.triage,
                                               Unit.supervising_unit_id.is_(None))).all()
    return sorted(units, key=lambda u: (kinds.index(u.kind), u.code))
