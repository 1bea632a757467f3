"""The platform's standard reference data, for every install (production and demo alike).

What a fresh database needs before it can take a single case, and nothing made up:

* the categories a case is filed under (``CATEGORIES``): without them every filing is refused
  ("未知的事项分类");
* the default routing rules (casework.routing.defaults.DEFAULT_RULES): which of the
  association's bodies receives a case of each type and category;
* the statutory time limits (casework.deadlines.limits.DEFAULTS: 信访工作条例, 市场监督管理
  投诉举报处理办法, 人民调解法): law, not demo, written into ``time_limit`` so that
  /admin/time-limits shows them with their basis and an administrator can adjust them;
* the platform's triage unit (``TRIAGE_UNIT_CODE``): a case no rule can route waits for the
  triage desk, and a triage operator can only be a member of a unit of kind ``triage``.

No unit that handles cases, no association, no notice mailbox and no joint mediation body:
those are the administrator's (``changtong units create``, ``changtong import-associations``).
The demo (casework.registry.demo) adds its made-up ones on top of these.

``changtong db upgrade`` changes the schema only (a backup is restored into a database that is
empty or just migrated, casework.backup.restore): it says when any of this is missing, and
``changtong seed-defaults`` loads it, once, at the first start.

``load_defaults`` is idempotent and never overwrites: a category or a time limit is added only
when no row has its key (its code; its case type and stage), the routing rules only when there is
no rule at all, the triage unit only when no unit of kind ``triage`` exists. A row an
administrator edited or deactivated stays as it is. It flushes; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.cases.models import Category, CategoryGroup
from casework.registry.models import Unit, UnitKind

NATIONAL_REGION = "100000"
TRIAGE_UNIT_CODE = "triage"
TRIAGE_UNIT_NAME = "平台分拨"
TRIAGE_UNIT_NAME_EN = "Platform triage"

_G = CategoryGroup
CATEGORIES: tuple[tuple[CategoryGroup, str, str, str], ...] = (
    (_G.grievance, "illegal_fees", "违规收费/涉企乱收费", "Illegal fees / arbitrary charges on businesses"),
    (_G.grievance, "forced_membership", "强制入会/强制摊派", "Forced membership / forced levies"),
    (_G.grievance, "illegal_awards", "违规评比达标表彰", "Unauthorised ratings, compliance schemes and awards"),
    (_G.grievance, "election_irregularities", "换届选举违规", "Irregularities in leadership elections"),
    (_G.grievance, "illegal_branches", "违规设立企业或分支机构", "Unauthorised companies or branches"),
    (_G.grievance, "finance_assets", "财务资产问题", "Finances and assets"),
    (_G.grievance, "unfair_competition", "妨碍公平竞争/内卷式竞争",
     "Obstructing fair competition / cut-throat competition"),
    (_G.grievance, "service_quality", "服务质量", "Quality of service"),
    (_G.grievance, "credit_rating_dispute", "信用评价异议", "Disputed credit rating"),
    (_G.grievance, "leader_misconduct", "负责人违规违纪", "Misconduct by the association's leaders"),
    (_G.grievance, "impersonation_illegal_org", "假冒协会名义/非法社会组织",
     "Impersonating an association / illegal social organisation"),
    (_G.grievance, "grievance_other", "其他", "Other"),
    (_G.mediation, "member_contract", "会员间合同纠纷", "Contract dispute between members"),
    (_G.mediation, "member_vs_association", "会员与协会纠纷", "Dispute between a member and the association"),
    (_G.mediation, "consumer", "消费纠纷", "Consumer dispute"),
    (_G.mediation, "intellectual_property", "知识产权纠纷", "Intellectual property dispute"),
    (_G.mediation, "mediation_other", "其他", "Other"),
    (_G.suggestion, "policy", "政策建议", "Policy suggestion"),
    (_G.suggestion, "service_improvement", "服务改进", "Service improvement"),
    (_G.suggestion, "suggestion_other", "其他", "Other"),
)

# categories in which the association itself is a party: its own bodies may not handle them
PARTY_CATEGORIES = frozenset({"member_vs_association"})


@dataclass(frozen=True)
class Loaded:
    """How many rows ``load_defaults`` added to each table (0 everywhere: nothing was missing)."""
    categories: int = 0
    routing_rules: int = 0
    time_limits: int = 0
    triage_unit: int = 0

    @property
    def total(self) -> int:
        return self.categories + self.routing_rules + self.time_limits + self.triage_unit

    def describe(self) -> str:
        if not self.total:
            return "standard reference data: nothing missing, nothing changed"
        return (f"standard reference data added: {self.categories} categories, {self.routing_rules} routing rules, "
                f"{self.time_limits} time limits, {self.triage_unit} triage unit")


def seed_categories(session: Session) -> int:
    """Insert the standard categories that are missing (by code). Returns how many were added."""
    have = set(session.scalars(select(Category.code)))
    added = 0
    order: dict[CategoryGroup, int] = {}
    for group, code, name, name_en in CATEGORIES:
        order[group] = order.get(group, 0) + 10
        if code in have:
            continue
        session.add(Category(code=code, group=group, name=name, name_en=name_en,
                             sort_order=order[group], active=True,
                             association_is_party=code in PARTY_CATEGORIES))
        added += 1
    session.flush()
    return added


def seed_triage_unit(session: Session) -> int:
    """The platform's triage unit, when no unit of kind ``triage`` exists (one an administrator
    renamed or deactivated counts). Returns 1 when it was added."""
    if session.scalar(select(Unit.id).where(Unit.kind == UnitKind.triage).limit(1)) is not None:
        return 0
    if session.scalar(select(Unit.id).where(Unit.code == TRIAGE_UNIT_CODE)) is not None:
        # the code is taken by a unit of another kind: leave it, and make none
        return 0
    session.add(Unit(code=TRIAGE_UNIT_CODE, name=TRIAGE_UNIT_NAME, name_en=TRIAGE_UNIT_NAME_EN,
                     kind=UnitKind.triage, region_code=NATIONAL_REGION, active=True))
    session.flush()
    return 1


def missing(session: Session) -> list[str]:
    """What of the standard reference data ``load_defaults`` would add (names of the parts;
    empty: nothing). Reads only."""
    from casework.deadlines.limits import DEFAULTS
    from casework.deadlines.models import TimeLimit
    from casework.routing.models import RoutingRule

    out = []
    if set(code for _g, code, _n, _e in CATEGORIES) - set(session.scalars(select(Category.code))):
        out.append("categories")
    if session.scalar(select(RoutingRule.id).limit(1)) is None:
        out.append("routing rules")
    if set(DEFAULTS) - {(t.case_type, t.stage) for t in session.scalars(select(TimeLimit))}:
        out.append("time limits")
    if session.scalar(select(Unit.id).where(Unit.kind == UnitKind.triage).limit(1)) is None:
        out.append("triage unit")
    return out


def load_defaults(session: Session, *, joint_bodies: dict[str, str] | None = None) -> Loaded:
    """Insert whatever of the standard reference data is missing; never change a row.

    ``joint_bodies`` (region prefix -> unit code) is for the demo, which has a joint mediation
    body of its own; a production install names its own on /admin/routing."""
    from casework.deadlines.limits import seed_time_limits
    from casework.routing.defaults import seed_routing

    triage = seed_triage_unit(session)
    categories = seed_categories(session)  # before the rules: a rule names its category
    rules = seed_routing(session, joint_bodies=joint_bodies)
    limits = seed_time_limits(session)
    return Loaded(categories=categories, routing_rules=rules, time_limits=limits, triage_unit=triage)
