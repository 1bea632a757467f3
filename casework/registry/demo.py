"""Demo data: made-up units, a handful of associations, on top of the standard reference data.

The categories, the default routing rules, the statutory time limits and the platform's triage
unit are not demo: they are the standard reference data every install gets
(casework.registry.defaults, ``changtong seed-defaults``), and ``load_demo`` loads them through
the same loader. What the demo adds is for a development machine or a trial only: some twenty
units (ministries, provincial and city bureaus, mediation bodies), eight associations in the
public lookup, a joint mediation body for Sichuan, and notice mailboxes at ``notice.example``
with the levels above each unit (so that overdue cases escalate somewhere visible).

``load_demo`` is idempotent: each row is looked up by its stable key (``Unit.code``,
``Association.credit_code``, ``Category.code``) and inserted only when missing, so running it
again changes nothing and never overwrites an administrator's edits. A unit the demo did not
make (a real one, such as the ``mca`` the README has an administrator create) keeps its fields:
the demo mailbox and upper level go only to units the demo made, and to the others only while
the database holds nothing but the demo (``real_units`` is empty). Into a database with real
units and no demo yet (a production install) it refuses unless forced (``DemoRefused``). It
flushes; the caller commits.

Only 中国复合材料工业协会's credit code is real. Every other association carries a made-up
code with a valid GB 32100-2015 check digit and ``is_sample=True``; bodies that do not
exist as named are marked （示例） / "(sample)".
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from casework.registry.defaults import (  # noqa: F401 - CATEGORIES, seed_categories: used from here before
    CATEGORIES, NATIONAL_REGION, PARTY_CATEGORIES, TRIAGE_UNIT_CODE, load_defaults, seed_categories,
)
from casework.registry.lookup import index_terms
from casework.registry.models import (
    Association, AssociationLevel, AssociationStatus, Unit, UnitKind,
)

JOINT_MEDIATION_UNIT_CODE = "sc-joint-mediation"
DEMO_MAIL_DOMAIN = "notice.example"


class DemoRefused(Exception):
    """The database holds real units: the demo is not loaded into it unless forced."""


def sample_credit_code(body: str) -> str:
    """A credit code from a 17-character body plus its GB 32100-2015 check digit."""
    if len(body) != 17:
        raise ValueError("the body of a credit code has 17 characters")
    code = body + uscc.calc_check_digit(body)
    uscc.validate(code)
    return code


# --- units -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _UnitSpec:
    code: str
    name: str
    name_en: str
    kind: UnitKind
    region_code: str


_K = UnitKind
DEMO_UNITS: tuple[_UnitSpec, ...] = (
    # national
    _UnitSpec("mca", "民政部", "Ministry of Civil Affairs", _K.registration_authority, "100000"),
    _UnitSpec("miit", "工业和信息化部", "Ministry of Industry and Information Technology",
              _K.industry_department, "100000"),
    _UnitSpec("ndrc", "国家发展和改革委员会", "National Development and Reform Commission",
              _K.industry_department, "100000"),
    _UnitSpec("mofcom", "商务部", "Ministry of Commerce", _K.industry_department, "100000"),
    _UnitSpec("mot", "交通运输部", "Ministry of Transport", _K.industry_department, "100000"),
    _UnitSpec("samr", "国家市场监督管理总局", "State Administration for Market Regulation",
              _K.industry_department, "100000"),
    _UnitSpec("swd-central", "中央社会工作部", "Social Work Department of the CPC Central Committee",
              _K.party_work_department, "100000"),
    # discipline inspection and supervision (纪检监察): leaders' misconduct goes here
    _UnitSpec("discipline-central", "行业协会商会纪检监察组（示例）",
              "Discipline inspection and supervision group for industry associations (sample)",
              _K.discipline_inspection, "100000"),
    _UnitSpec("sc-discipline", "四川省行业协会商会纪检监察组（示例）",
              "Sichuan discipline inspection and supervision group for industry associations (sample)",
              _K.discipline_inspection, "510000"),
    # Sichuan
    _UnitSpec("sc-civil-affairs", "四川省民政厅", "Sichuan Provincial Department of Civil Affairs",
              _K.registration_authority, "510000"),
    _UnitSpec("sc-economy-it", "四川省经济和信息化厅",
              "Sichuan Provincial Department of Economy and Information Technology",
              _K.industry_department, "510000"),
    # Guangdong
    _UnitSpec("gd-civil-affairs", "广东省民政厅", "Guangdong Provincial Department of Civil Affairs",
              _K.registration_authority, "440000"),
    _UnitSpec("gd-industry-it", "广东省工业和信息化厅",
              "Guangdong Provincial Department of Industry and Information Technology",
              _K.industry_department, "440000"),
    _UnitSpec("gd-commerce", "广东省商务厅", "Guangdong Provincial Department of Commerce",
              _K.industry_department, "440000"),
    # Shenzhen
    _UnitSpec("sz-civil-affairs", "深圳市民政局", "Shenzhen Municipal Bureau of Civil Affairs",
              _K.registration_authority, "440300"),
    _UnitSpec("sz-transport", "深圳市交通运输局", "Shenzhen Municipal Transport Bureau",
              _K.industry_department, "440300"),
    # Chengdu
    _UnitSpec("cd-civil-affairs", "成都市民政局", "Chengdu Municipal Bureau of Civil Affairs",
              _K.registration_authority, "510100"),
    _UnitSpec("cd-commerce", "成都市商务局", "Chengdu Municipal Bureau of Commerce",
              _K.industry_department, "510100"),
    # the same bureau in its other role, for an association that is not decoupled
    _UnitSpec("cd-commerce-supervisor", "成都市商务局（业务主管单位）",
              "Chengdu Municipal Bureau of Commerce, as business supervisory unit (sample)",
              _K.supervisory_unit, "510100"),
    # mediation bodies
    _UnitSpec("caam-mediation", "中国汽车工业协会调解中心（示例）",
              "CAAM Mediation Centre (sample)", _K.mediation_body, "100000"),
    _UnitSpec(JOINT_MEDIATION_UNIT_CODE, "四川省行业协会商会联合调解中心（示例）",
              "Sichuan Joint Mediation Centre of Industry Associations and Chambers of Commerce (sample)",
              _K.mediation_body, "510000"),
)
# (the platform's own queue, the triage unit, is standard reference data: casework.registry.defaults)


_DEMO_CODES = frozenset(spec.code for spec in DEMO_UNITS)

# the level above a unit where the demo has one (the others answer to swd-central)
DEMO_UPPER_LEVELS = {
    "sc-economy-it": "miit", "gd-industry-it": "miit", "gd-commerce": "mofcom", "sz-transport": "mot",
    "cd-commerce": "mofcom", "sz-civil-affairs": "gd-civil-affairs", "cd-civil-affairs": "sc-civil-affairs",
    "gd-civil-affairs": "mca", "sc-civil-affairs": "mca",
}


# --- associations ------------------------------------------------------------------------

@dataclass(frozen=True)
class _AssocSpec:
    credit_code: str
    name: str
    name_en: str
    abbreviation: str | None
    level: AssociationLevel
    region_code: str
    registration_authority: str
    main_industry_department: str
    is_sample: bool
    other_industry_departments: tuple[str, ...] = ()
    decoupled: bool = True
    supervisory_unit: str | None = None
    mediation_body: str | None = None
    party_work_department: str | None = None


_L = AssociationLevel
DEMO_ASSOCIATIONS: tuple[_AssocSpec, ...] = (
    _AssocSpec(
        sample_credit_code("51100000500099001"), "中国钢铁工业协会", "China Iron and Steel Association",
        "中钢协", _L.national, NATIONAL_REGION, "mca", "miit", True,
        other_industry_departments=("ndrc",), party_work_department="swd-central",
    ),
    _AssocSpec(
        sample_credit_code("51100000500099002"), "中国汽车工业协会",
        "China Association of Automobile Manufacturers", "中汽协", _L.national, NATIONAL_REGION,
        "mca", "miit", True, other_industry_departments=("samr",),
        mediation_body="caam-mediation", party_work_department="swd-central",
    ),
    _AssocSpec(
        sample_credit_code("51100000500099003"), "中国物流与采购联合会",
        "China Federation of Logistics & Purchasing", "中物联", _L.national, NATIONAL_REGION,
        "mca", "ndrc", True, other_industry_departments=("mot", "mofcom"),
        party_work_department="swd-central",
    ),
    _AssocSpec(
        "51100000500009247D", "中国复合材料工业协会", "China Composites Industry Association",
        "中国复材协会", _L.national, NATIONAL_REGION, "mca", "miit", False,
        party_work_department="swd-central",
    ),
    _AssocSpec(
        sample_credit_code("51510000MJ9900001"), "四川省食品工业协会",
        "Sichuan Food Industry Association", None, _L.provincial, "510000",
        "sc-civil-affairs", "sc-economy-it", True,
    ),
    _AssocSpec(
        sample_credit_code("51440000MJ9900002"), "广东省家具协会", "Guangdong Furniture Association",
        None, _L.provincial, "440000", "gd-civil-affairs", "gd-industry-it", True,
        other_industry_departments=("gd-commerce",),
    ),
    _AssocSpec(
        sample_credit_code("51440300MJ9900003"), "深圳市物流与供应链管理协会",
        "Shenzhen Logistics and Supply Chain Management Association", None, _L.municipal,
        "440300", "sz-civil-affairs", "sz-transport", True,
    ),
    _AssocSpec(
        sample_credit_code("51510100MJ9900004"), "成都市餐饮同业公会", "Chengdu Catering Trade Association",
        None, _L.municipal, "510100", "cd-civil-affairs", "cd-commerce", True,
        decoupled=False, supervisory_unit="cd-commerce-supervisor",
    ),
)


def demo_mailbox(code: str) -> str:
    return f"{code}@{DEMO_MAIL_DOMAIN}"


def _demo_made(unit: Unit) -> bool:
    """A unit an earlier run of the demo made: a demo code with the demo's mailbox."""
    return unit.code in _DEMO_CODES and unit.notice_email == demo_mailbox(unit.code)


def _platform_triage(unit: Unit) -> bool:
    """The standard triage unit, no mailbox of its own set (or the demo's)."""
    return unit.kind is UnitKind.triage and unit.notice_email in (None, demo_mailbox(unit.code))


def real_units(session: Session) -> list[Unit]:
    """The units that are neither the demo's nor the platform's triage unit: an administrator's
    (``changtong units create``, /admin/units). A unit with a demo code counts when it does not
    carry the demo's mailbox (the ``mca`` the README creates is one)."""
    return [u for u in session.scalars(select(Unit).order_by(Unit.code))
            if not (_demo_made(u) or _platform_triage(u))]


def load_demo(session: Session, *, force: bool = False) -> list[str]:
    """Insert the standard reference data and the demo units and associations that are missing.

    Raises ``DemoRefused`` when the database holds real units (``real_units``) and no demo yet,
    unless ``force``. Next to real units (forced, or added to a demo database later) no real
    unit's field is touched: the demo's mailboxes and upper levels go to the units the demo made
    only. Returns the codes of the real units found (empty on a demo or fresh database)."""
    before = list(session.scalars(select(Unit)))
    real = real_units(session)
    if real and not force and not any(_demo_made(u) for u in before):
        raise DemoRefused(", ".join(sorted(u.code for u in real)))
    # the units whose empty fields the demo fills: every one on a database with nothing real;
    # else those it makes now and those an earlier run made (never the real ones, nor the
    # standard triage unit of a real install)
    keep_out = ({u.id for u in before if not _demo_made(u)} if real else set())

    units = {u.code: u for u in session.scalars(select(Unit))}
    for spec in DEMO_UNITS:
        if spec.code not in units:
            unit = Unit(code=spec.code, name=spec.name, name_en=spec.name_en, kind=spec.kind,
                        region_code=spec.region_code, active=True)
            session.add(unit)
            units[spec.code] = unit
    session.flush()

    # matched by credit code, or by name where the real association was imported under its
    # real code (then the sample is not added next to it)
    codes = [spec.credit_code for spec in DEMO_ASSOCIATIONS]
    names = [spec.name for spec in DEMO_ASSOCIATIONS]
    by_code: dict[str, Association] = {}
    by_name: dict[str, Association] = {}
    for a in session.scalars(select(Association).where(
            Association.credit_code.in_(codes) | Association.name.in_(names)).order_by(Association.id)):
        by_code[a.credit_code] = a
        by_name.setdefault(a.name, a)
    existing: dict[str, Association] = {}
    for spec in DEMO_ASSOCIATIONS:
        assoc = by_code.get(spec.credit_code) or by_name.get(spec.name)
        if assoc is not None:
            existing[spec.credit_code] = assoc
        else:
            assoc = Association(
                credit_code=spec.credit_code,
                name=spec.name,
                name_en=spec.name_en,
                abbreviation=spec.abbreviation,
                level=spec.level,
                region_code=spec.region_code,
                status=AssociationStatus.active,
                decoupled=spec.decoupled,
                registration_authority=units[spec.registration_authority],
                main_industry_department=units[spec.main_industry_department],
                other_industry_departments=[units[c] for c in spec.other_industry_departments],
                supervisory_unit=units[spec.supervisory_unit] if spec.supervisory_unit else None,
                mediation_body=units[spec.mediation_body] if spec.mediation_body else None,
                party_work_department=(
                    units[spec.party_work_department] if spec.party_work_department else None
                ),
                is_sample=spec.is_sample,
            )
            index_terms(assoc)
            session.add(assoc)
            existing[spec.credit_code] = assoc
    session.flush()

    # an association's own mediation body names it (routing keeps cases about it away)
    for spec in DEMO_ASSOCIATIONS:
        if spec.mediation_body:
            body = units[spec.mediation_body]
            if body.association_id is None and body.id not in keep_out:
                body.association_id = existing[spec.credit_code].id
    session.flush()

    # the categories, routing rules, statutory time limits and triage unit: the standard data,
    # with the demo's joint mediation body for Sichuan
    load_defaults(session, joint_bodies={"51": JOINT_MEDIATION_UNIT_CODE})

    # demo notice mailboxes (they land in the development file sink) and the levels above each
    # unit: a province's department answers to its ministry, a city's to its province (复查 and
    # 复核 go one level up, overdue cases escalate there); the rest to one unit above all others,
    # so that overdue cases escalate somewhere visible. Only the units the demo made (and, on a
    # database with nothing but the demo, the triage unit), and only fields still empty: a real
    # unit is never given a made-up mailbox or a demo unit as its supervisor.
    units = {u.code: u for u in session.scalars(select(Unit))}
    if real:
        keep_out |= {u.id for u in units.values() if u.kind is UnitKind.triage}
    supervisor = units.get("swd-central")
    if supervisor is not None and supervisor.id in keep_out:
        supervisor = None
    for unit in units.values():
        if unit.id in keep_out:
            continue
        if unit.notice_email is None:
            unit.notice_email = demo_mailbox(unit.code)
        upper = units.get(DEMO_UPPER_LEVELS.get(unit.code, ""), supervisor)
        if upper is not None and upper.id not in keep_out and unit is not upper and unit.supervising_unit_id is None:
            unit.supervising_unit_id = upper.id
    session.flush()
    return sorted(u.code for u in real)
