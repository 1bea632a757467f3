"""The rules an association must keep, in one place for every way in: the admin form
(web/admin/registry.py), the CSV import (the admin page and `changtong import-associations`,
both through casework.registry.importer) and any API that creates or edits one.

``check_association`` takes plain values (strings as typed; ``decoupled`` and ``is_sample``
may be bools, ``other_industry_departments`` a list of unit codes or one string separated
by ``;``), the units by code and the association being changed (None for a new one). It
returns the cleaned ``AssociationValues`` or the ``Problem``s, each naming its field and
worded twice: a ``Message`` for a person at a form (translated where shown) and an English
``reason`` for the import report and the command line (untranslated, naming codes).

``credit_code``, ``status``, ``is_sample``, ``name_en`` and ``member_count`` may be left
out by a channel that does not carry them (the form cannot change a credit code): the
association keeps its value. Every other field is always read; missing is blank.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from casework.i18n import Message, N_
from casework.text import clean_text
from casework.registry.models import Association, AssociationLevel, AssociationStatus, Unit, UnitKind
from casework.registry.lookup import index_terms

NAME_MIN, NAME_MAX = 2, 200
ABBREVIATION_MAX = 100
NAME_EN_MAX = 300
MEMBER_COUNT_MAX = 10_000_000
NATIONAL_REGION = "100000"
# GB/T 2260 province-level codes (first two digits)
PROVINCE_CODES = frozenset(
    [str(n) for n in range(11, 16)] + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)] + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)] + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)

LEVELS = {
    "national": AssociationLevel.national, "全国": AssociationLevel.national,
    "全国性": AssociationLevel.national, "国家": AssociationLevel.national,
    "provincial": AssociationLevel.provincial, "省": AssociationLevel.provincial,
    "省级": AssociationLevel.provincial,
    "municipal": AssociationLevel.municipal, "市": AssociationLevel.municipal,
    "市级": AssociationLevel.municipal,
    "county": AssociationLevel.county, "县": AssociationLevel.county,
    "县级": AssociationLevel.county,
}
STATUSES = {
    "active": AssociationStatus.active, "正常": AssociationStatus.active,
    "deregistered": AssociationStatus.deregistered, "注销": AssociationStatus.deregistered,
    "已注销": AssociationStatus.deregistered,
}
_TRUE = {"true", "是", "1", "yes", "y"}
_FALSE = {"false", "否", "0", "no", "n"}
_YES_NO = "true/false, 是/否 or 1/0"

# field -> the kind of unit it names; the first two are required
UNIT_FIELDS: dict[str, UnitKind] = {
    "registration_authority": UnitKind.registration_authority,
    "main_industry_department": UnitKind.industry_department,
    "supervisory_unit": UnitKind.supervisory_unit,
    "mediation_body": UnitKind.mediation_body,
    "party_work_department": UnitKind.party_work_department,
}
REQUIRED_UNITS = ("registration_authority", "main_industry_department")
# fields a channel may leave out (the association keeps its value)
KEPT_WHEN_ABSENT = ("credit_code", "status", "is_sample", "name_en", "member_count")

_REGION = re.compile(r"^[0-9]{6}$")
_COUNT = re.compile(r"^[0-9]{1,9}$")
_LIST_SEP = re.compile(r"[;；]")


@dataclass(frozen=True)
class Problem:
    field: str
    message: Message  # for a form: translated where shown
    reason: str       # for the import report and the command line: English, untranslated


@dataclass
class AssociationValues:
    credit_code: str
    name: str
    abbreviation: str | None
    name_en: str | None
    level: AssociationLevel
    region_code: str
    status: AssociationStatus
    decoupled: bool
    registration_authority: Unit
    main_industry_department: Unit
    other_industry_departments: list[Unit]
    supervisory_unit: Unit | None
    mediation_body: Unit | None
    party_work_department: Unit | None
    is_sample: bool
    member_count: int | None

    def apply_to(self, assoc: Association) -> None:
        """Write the values onto ``assoc`` (and its type-ahead terms); the caller flushes."""
        assoc.credit_code = self.credit_code
        assoc.name, assoc.abbreviation, assoc.name_en = self.name, self.abbreviation, self.name_en
        assoc.level, assoc.region_code, assoc.status = self.level, self.region_code, self.status
        assoc.decoupled, assoc.is_sample, assoc.member_count = self.decoupled, self.is_sample, self.member_count
        assoc.registration_authority = self.registration_authority
        assoc.main_industry_department = self.main_industry_department
        assoc.other_industry_departments = list(self.other_industry_departments)
        assoc.supervisory_unit = self.supervisory_unit
        assoc.mediation_body = self.mediation_body
        assoc.party_work_department = self.party_work_department
        index_terms(assoc)


def units_by_code(session: Session) -> dict[str, Unit]:
    """Every unit by its code: the lookup ``check_association`` takes (load it once per file)."""
    return {u.code: u for u in session.scalars(select(Unit))}


def new_code(session: Session, column: Any, raw: Any, pattern: re.Pattern[str], err: Callable[..., None],
             malformed: str, taken: str) -> str:
    """The code typed for a new unit or category, lower-cased; ``err("code", …)`` with
    ``malformed`` when ``pattern`` refuses it, with ``taken`` when ``column`` has it already."""
    code = clean_text(raw).lower()
    if not pattern.match(code):
        err("code", malformed)
    elif session.scalar(select(column).where(column == code)) is not None:
        err("code", taken, code=code)
    return code


def field_messages(problems: Iterable[Problem]) -> dict[str, list[Message]]:
    """The problems as a form shows them: per field, each message once."""
    out: dict[str, list[Message]] = {}
    for p in problems:
        msgs = out.setdefault(p.field, [])
        if p.message not in msgs:
            msgs.append(p.message)
    return out


def credit_code_problem(raw: Any) -> tuple[str, str | None]:
    """A 统一社会信用代码 compacted (spaces and dashes out, upper case) and what is wrong with it
    under GB 32100 (length, format, check digit), None when it is valid. The one check of a
    credit code: associations here, an organisation complainant in casework.intake.validation."""
    code = uscc.compact(clean_text(raw).upper())
    if not code:
        return code, None
    try:
        uscc.validate(code)
    except InvalidLength:
        return code, "invalid unified social credit code (must be 18 characters)"
    except InvalidFormat:
        return code, "invalid unified social credit code (format)"
    except InvalidChecksum:
        return code, "invalid unified social credit code (check digit)"
    except ValidationError:  # pragma: no cover - stdnum raises only the above
        return code, "invalid unified social credit code"
    return code, None


def check_association(
    raw: Mapping[str, Any],
    units: Mapping[str, Unit],
    current: Association | None = None,
) -> tuple[AssociationValues | None, list[Problem]]:
    """Validate an association given as plain values; ``current`` is the one being changed
    (None for a new one). Returns the cleaned values, or None and every problem."""
    problems: list[Problem] = []

    def add(field: str, reason: str, msgid: str, **params: Any) -> None:
        problems.append(Problem(field, Message(msgid, params), reason))

    def kept(field: str) -> bool:
        return current is not None and field not in raw

    def cell(field: str) -> str:
        return clean_text(raw.get(field))

    # credit code
    if kept("credit_code"):
        credit_code = current.credit_code  # type: ignore[union-attr]
    else:
        credit_code, reason = credit_code_problem(cell("credit_code"))
        invalid = N_("This unified social credit code is not valid (18 characters with a check digit).")
        if not credit_code:
            add("credit_code", "required", N_("This field is required."))
        elif reason:
            add("credit_code", reason, invalid)

    # name, abbreviation, name_en
    name = cell("name")
    name_rule = N_("A name of %(min)d to %(max)d characters is required.")
    if not name:
        add("name", "required", name_rule, min=NAME_MIN, max=NAME_MAX)
    elif not NAME_MIN <= len(name) <= NAME_MAX:
        add("name", f"must be {NAME_MIN}-{NAME_MAX} characters (is {len(name)})", name_rule,
            min=NAME_MIN, max=NAME_MAX)
    abbreviation = cell("abbreviation") or None
    if abbreviation and len(abbreviation) > ABBREVIATION_MAX:
        add("abbreviation", f"must be at most {ABBREVIATION_MAX} characters (is {len(abbreviation)})",
            N_("At most %(max)d characters."), max=ABBREVIATION_MAX)
    if kept("name_en"):
        name_en = current.name_en  # type: ignore[union-attr]
    else:
        name_en = cell("name_en") or None
        if name_en and len(name_en) > NAME_EN_MAX:
            add("name_en", f"must be at most {NAME_EN_MAX} characters (is {len(name_en)})",
                N_("At most %(max)d characters."), max=NAME_EN_MAX)

    # level, region, status, flags, member count
    raw_level = cell("level")
    level = LEVELS.get(raw_level.lower())
    if not raw_level:
        add("level", "required (national, provincial, municipal or county)", N_("Choose a level."))
    elif level is None:
        add("level", f"unknown level {raw_level!r} (national/provincial/municipal/county or 全国/省/市/县)",
            N_("Choose a level."))

    region_code = cell("region_code")
    _check_region(region_code, level, add)

    if kept("status"):
        status: AssociationStatus | None = current.status  # type: ignore[union-attr]
    else:
        raw_status = cell("status")
        status = STATUSES.get(raw_status.lower()) if raw_status else AssociationStatus.active
        if status is None:
            add("status", f"unknown status {raw_status!r} (active/deregistered or 正常/注销)",
                N_("Choose one of: %(choices)s."), choices="active, deregistered")

    decoupled = _flag(raw.get("decoupled"))  # a form's checkbox is a bool: unticked is False
    if decoupled is None:
        if not cell("decoupled"):
            add("decoupled", f"required ({_YES_NO})", N_("This field is required."))
        else:
            add("decoupled", f"not a yes/no value: {cell('decoupled')!r} ({_YES_NO})",
                N_("Choose one of: %(choices)s."), choices="true, false")

    if kept("is_sample"):
        is_sample: bool | None = current.is_sample  # type: ignore[union-attr]
    else:
        is_sample = _flag(raw.get("is_sample")) if cell("is_sample") else False
        if is_sample is None:
            add("is_sample", f"not a yes/no value: {cell('is_sample')!r} ({_YES_NO})",
                N_("Choose one of: %(choices)s."), choices="true, false")

    if kept("member_count"):
        member_count = current.member_count  # type: ignore[union-attr]
    else:
        member_count = None
        raw_count = cell("member_count").replace(",", "")
        if raw_count:
            if not _COUNT.match(raw_count) or int(raw_count) > MEMBER_COUNT_MAX:
                add("member_count", f"must be a whole number from 0 to {MEMBER_COUNT_MAX}: {cell('member_count')!r}",
                    N_("A whole number from 0 to %(max)d, or leave it empty if not known."), max=MEMBER_COUNT_MAX)
            else:
                member_count = int(raw_count)

    # related units: each of its kind and in use; exactly one main industry department
    found = {field: _unit(cell(field), field, kind, units, add) for field, kind in UNIT_FIELDS.items()}
    for field in REQUIRED_UNITS:
        if not cell(field):
            add(field, "required (a unit code)", N_("Choose a unit."))

    main = found["main_industry_department"]
    others: list[Unit] = []
    for code in _codes(raw.get("other_industry_departments")):
        unit = _unit(code, "other_industry_departments", UnitKind.industry_department, units, add,
                     wrong=N_("Choose industry departments only."))
        if unit is not None and unit is not main and unit not in others:
            others.append(unit)

    # a business supervisory unit only if not decoupled
    if decoupled and cell("supervisory_unit"):
        add("supervisory_unit", "a decoupled association must not have a business supervisory unit",
            N_("A decoupled association has no business supervisory unit."))

    # its own mediation body, not another association's
    body = found["mediation_body"]
    if body is not None and body.association_id is not None and (
            current is None or body.association_id != current.id):
        add("mediation_body", f"mediation body {body.code!r} belongs to another association",
            N_("This mediation body belongs to another association."))

    if problems:
        return None, problems
    assert level is not None and status is not None and decoupled is not None and is_sample is not None
    return AssociationValues(
        credit_code=credit_code, name=name, abbreviation=abbreviation, name_en=name_en, level=level,
        region_code=region_code, status=status, decoupled=decoupled,
        registration_authority=found["registration_authority"],  # type: ignore[arg-type]
        main_industry_department=main,  # type: ignore[arg-type]
        other_industry_departments=others, supervisory_unit=found["supervisory_unit"], mediation_body=body,
        party_work_department=found["party_work_department"], is_sample=is_sample, member_count=member_count,
    ), []


def _check_region(region_code: str, level: AssociationLevel | None, add) -> None:
    """6 digits of GB/T 2260 with a known province; 100000 for a national association only;
    a provincial one has a province's code."""
    six_digits = N_("A region code is 6 digits (GB/T 2260), 100000 for a national association.")
    if not region_code:
        add("region_code", "required (6-digit GB/T 2260 code)", six_digits)
    elif not _REGION.match(region_code):
        add("region_code", "must be exactly 6 digits (GB/T 2260)", six_digits)
    elif region_code == NATIONAL_REGION:
        if level is not None and level is not AssociationLevel.national:
            add("region_code", "100000 (national) only fits a national association",
                N_("100000 (national) only fits a national association."))
    elif region_code[:2] not in PROVINCE_CODES:
        add("region_code", f"unknown province code {region_code[:2]!r} (GB/T 2260)",
            N_("%(code)s is not a GB/T 2260 region code (unknown province)."), code=region_code)
    elif level is AssociationLevel.provincial and not region_code.endswith("0000"):
        add("region_code", "a provincial association needs a province code (ending in 0000)",
            N_("A provincial association needs a province's code (ending in 0000)."))


def _unit(code: str, field: str, kind: UnitKind, units: Mapping[str, Unit], add,
          wrong: str = N_("Choose a unit of the right kind.")) -> Unit | None:
    """The unit ``code`` names if it exists, is of ``kind`` and in use; otherwise a problem.
    A unit out of use is refused even where the association names it already."""
    if not code:
        return None
    unit = units.get(code)
    if unit is None:
        add(field, f"unknown unit code {code!r}", wrong)
    elif unit.kind is not kind:
        add(field, f"unit {code!r} is a {unit.kind.value}, not a {kind.value}", wrong)
    elif not unit.active:
        add(field, f"unit {code!r} is inactive", N_("This unit is not in use."))
    else:
        return unit
    return None


def _codes(value: Any) -> list[str]:
    """Unit codes from a list (a form's multiple choice) or one string separated by ``;``."""
    if not value:
        return []
    items = _LIST_SEP.split(value) if isinstance(value, str) else value
    return [code for code in (clean_text(c) for c in items) if code]


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    v = clean_text(value).lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None
