"""What an administrator changes in routing: rules, regional joint mediation bodies, and
the units' canned replies.

Each change is validated first (``check_*``: values or errors per field, each a
``Message`` the caller translates; the CSV import renders the same messages in English),
then applied by an operation that flushes and returns a ``Change`` with the row's
before/after snapshot. Every change is recorded in the audit trail (casework.audit, same
transaction) and written as one structured log line (``changtong.admin``) that names ids,
codes and changed fields only: no free text, no names, nothing personal. The caller commits.

``explain`` shows, for a case (saved or a transient one built by ``sample_case``), every
rule the engine tries, in its order, and why each was skipped; the verdict itself always
comes from ``engine.decide``.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from stdnum.cn import uscc

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.cases.models import LEGAL_BASIS_MAX, LEGAL_BASIS_MIN, CannedReply, Case, CaseType, Category
from casework.i18n import Message, N_
from casework.intake.validation import Errors, add_error, clean_text
from casework.registry.models import Association, Unit, UnitKind
from casework.routing.engine import Decision, candidates, route_case
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule

log = logging.getLogger("changtong.admin")

ANY = "*"
PRIORITY_MIN, PRIORITY_MAX = 0, 9999
DEFAULT_PRIORITY = 100
NOTE_MAX = 200
REPLY_TITLE_MAX, REPLY_BODY_MAX = 100, 5000
RULE_FIELDS = ("case_type", "category", "association", "target", "priority", "active", "note")
_TRUE = {"1", "true", "yes", "y", "on", "是"}
_FALSE = {"0", "false", "no", "n", "off", "否", ""}
_PREFIX = re.compile(r"^[0-9]{2}(?:[0-9]{2}){0,2}$")



def _log(session: Session, change: Change, actor: Actor, *, free_text: tuple[str, ...] = ()) -> None:
    """The change's audit entry (same transaction), and one JSON line in the log, where
    free-text fields are named as changed, never printed."""
    record(session, actor, change)
    changes = {k: ("changed" if k in free_text else [(change.before or {}).get(k), (change.after or {}).get(k)])
               for k in change.changed}
    log.info("%s.%s %s", change.kind, change.action, json.dumps(
        {"id": change.row_id, "actor_id": actor.user_id, "actor_kind": actor.kind, "changes": changes},
        ensure_ascii=False, sort_keys=True))


def parse_bool(raw: str | None) -> bool | None:
    value = clean_text(raw).lower()
    return True if value in _TRUE else False if value in _FALSE else None


# --- routing rules ---------------------------------------------------------------------------

@dataclass
class RuleValues:
    case_type: CaseType
    category: Category | None
    association: Association | None
    target: RouteTarget
    priority: int
    active: bool
    note: str


@dataclass
class Lookups:
    """Categories by code and associations by credit code, cached (a CSV names them often)."""

    session: Session
    _categories: dict[str, Category | None] = field(default_factory=dict)
    _associations: dict[str, Association | None] = field(default_factory=dict)

    def category(self, code: str) -> Category | None:
        if code not in self._categories:
            self._categories[code] = self.session.scalar(select(Category).where(Category.code == code))
        return self._categories[code]

    def association(self, credit_code: str) -> Association | None:
        if credit_code not in self._associations:
            self._associations[credit_code] = self.session.scalar(
                select(Association).where(Association.credit_code == credit_code))
        return self._associations[credit_code]

    def preload(self, credit_codes) -> None:
        """All categories, and the named associations in a few queries."""
        for c in self.session.scalars(select(Category)):
            self._categories[c.code] = c
        wanted = sorted(set(credit_codes) - set(self._associations))
        for i in range(0, len(wanted), 500):
            found = {a.credit_code: a for a in self.session.scalars(
                select(Association).where(Association.credit_code.in_(wanted[i:i + 500])))}
            for code in wanted[i:i + 500]:
                self._associations[code] = found.get(code)

    def named(self, text: str) -> tuple[Association | None, int]:
        """An association by its credit code, or by a name, short name or pinyin initials that
        name it alone (the forms took the code only, and said a name was "no credit code");
        with how many a name matched (0, 1, or 2 for several)."""
        from casework.registry.lookup import named_alone

        found = self.association(uscc.compact(text.upper()))
        return (found, 1) if found is not None else named_alone(self.session, text)


def _association_error(err, text: str, matched: int) -> None:
    if matched > 1:
        err("association", N_("Several associations match %(text)s; type more of the name, or the credit code."),
            text=text)
    else:
        err("association", N_("No association in the registry has the name or credit code %(text)s."), text=text)


def check_rule(lookups: Lookups, raw: Mapping[str, str], *, by_name: bool = False) -> tuple[RuleValues | None, Errors]:
    """Validate a rule given as strings (a form or a CSV row). Category and association
    take a code, or "" / "*" for any; ``by_name`` (the form, not a CSV): an association's name
    that names it alone as well."""
    errors: Errors = {}
    err = partial(add_error, errors)

    case_type = _enum(CaseType, raw.get("case_type"))
    if case_type is None:
        err("case_type", N_("Choose a case type (complaint, report, mediation or suggestion)."))

    category = None
    code = clean_text(raw.get("category"))
    if code not in ("", ANY):
        category = lookups.category(code)
        if category is None:
            err("category", N_("There is no category with the code %(code)s."), code=code)
        elif case_type is not None and category.group is not case_type.category_group:
            err("category", N_("Category %(code)s is not one of this case type's categories."), code=code)

    association = None
    typed = clean_text(raw.get("association"))
    credit = uscc.compact(typed.upper())
    if credit not in ("", ANY):
        if by_name:
            association, matched = lookups.named(typed)
            if association is None:
                _association_error(err, typed, matched)
        else:
            association = lookups.association(credit)
            if association is None:
                err("association", N_("No association in the registry has the credit code %(code)s."), code=credit)

    target = _enum(RouteTarget, raw.get("target"))
    if target is None:
        err("target", N_("Choose which of the association's units receives the case."))
    elif (target in (RouteTarget.mediation_body, RouteTarget.joint_mediation_body)
          and case_type is not None and case_type is not CaseType.mediation):
        # routing would skip it (engine.check_unit_allowed): said here, where it is chosen
        err("target", N_("A mediation body takes mediation requests only: choose another unit for this case type."))

    priority = DEFAULT_PRIORITY
    text = clean_text(raw.get("priority"))
    if not re.fullmatch(r"[0-9]{1,4}", text):
        err("priority", N_("Priority must be a whole number from %(min)d to %(max)d."),
            min=PRIORITY_MIN, max=PRIORITY_MAX)
    else:
        priority = int(text)

    active = parse_bool(raw.get("active"))
    if active is None:
        err("active", N_("Active must be true or false."))

    note = clean_text(raw.get("note"))
    if len(note) > NOTE_MAX:
        err("note", N_("The note may be at most %(max)d characters."), max=NOTE_MAX)

    if errors:
        return None, errors
    return RuleValues(case_type, category, association, target, priority, bool(active), note), {}


def _enum(enum_cls, raw: str | None):
    try:
        return enum_cls(clean_text(raw).lower())
    except ValueError:
        return None


def rule_key(values: RuleValues | RoutingRule) -> tuple:
    """What identifies a rule for an upsert: (case type, category, association, target)."""
    if isinstance(values, RoutingRule):
        return values.case_type, values.category_id, values.association_id, values.target
    return (values.case_type, values.category.id if values.category else None,
            values.association.id if values.association else None, values.target)


def same_key_rule(session: Session, values: RuleValues, *, exclude_id: int | None = None) -> RoutingRule | None:
    case_type, category_id, association_id, target = rule_key(values)
    query = select(RoutingRule).where(
        RoutingRule.case_type == case_type, RoutingRule.target == target,
        RoutingRule.category_id.is_(None) if category_id is None else RoutingRule.category_id == category_id,
        RoutingRule.association_id.is_(None) if association_id is None
        else RoutingRule.association_id == association_id,
    ).order_by(RoutingRule.id)
    if exclude_id is not None:
        query = query.where(RoutingRule.id != exclude_id)
    return session.scalars(query).first()


def duplicate_error(session: Session, values: RuleValues, *, exclude_id: int | None = None) -> Errors:
    other = same_key_rule(session, values, exclude_id=exclude_id)
    if other is None:
        return {}
    return {"target": [Message(N_("Rule %(id)d already sends this case type, category and association "
                                  "to this unit; edit that rule instead."), {"id": other.id})]}


def rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    """A rule as the CSV and the before/after view show it."""
    return {
        "case_type": rule.case_type.value,
        "category": rule.category.code if rule.category else ANY,
        "association": rule.association.credit_code if rule.association else ANY,
        "target": rule.target.value,
        "priority": rule.priority,
        "active": rule.active,
        "note": rule.note or "",
    }


def _apply(rule: RoutingRule, values: RuleValues) -> None:
    rule.case_type, rule.target = values.case_type, values.target
    rule.category, rule.category_id = values.category, values.category.id if values.category else None
    rule.association = values.association
    rule.association_id = values.association.id if values.association else None
    rule.priority, rule.active, rule.note = values.priority, values.active, values.note


def create_rule(session: Session, actor: Actor, values: RuleValues, *, log_change: bool = True) -> Change:
    rule = RoutingRule()
    _apply(rule, values)
    session.add(rule)
    session.flush()
    change = Change("routing_rule", "created", rule.id, None, rule_snapshot(rule))
    if log_change:
        _log(session, change, actor, free_text=("note",))
    return change


def update_rule(session: Session, actor: Actor, rule: RoutingRule, values: RuleValues,
                *, log_change: bool = True) -> Change:
    before = rule_snapshot(rule)
    _apply(rule, values)
    session.flush()
    change = Change("routing_rule", "updated", rule.id, before, rule_snapshot(rule))
    if log_change and change.changed:
        _log(session, change, actor, free_text=("note",))
    return change


def deactivate_rule(session: Session, actor: Actor, rule: RoutingRule) -> Change:
    before = rule_snapshot(rule)
    rule.active = False
    session.flush()
    change = Change("routing_rule", "deactivated", rule.id, before, rule_snapshot(rule))
    if change.changed:
        _log(session, change, actor)
    return change


def rules_in_engine_order(session: Session) -> list[RoutingRule]:
    """Every rule, per case type in the order the engine tries them (inactive ones last)."""
    rules = session.scalars(select(RoutingRule).options(
        selectinload(RoutingRule.category), selectinload(RoutingRule.association))).all()
    types = list(CaseType)
    return sorted(rules, key=lambda r: (types.index(r.case_type), not r.active, r.association_id is None,
                                        r.category_id is None, r.priority, r.id))


# --- explaining a decision ---------------------------------------------------------------------

@dataclass
class Step:
    rule: RoutingRule
    unit: Unit | None
    outcome: str  # "chosen" | "no_unit" | "decoupled" | "not_allowed" | "not_reached"
    reason: str = ""  # the engine's words (English) when not allowed


@dataclass
class Explanation:
    decision: Decision
    steps: list[Step]


def sample_case(case_type: CaseType, category: Category | None, association: Association | None) -> Case:
    """A transient case for "try it": never added to a session (nothing points back to it)."""
    return Case(type=case_type, category=category, category_id=category.id if category else None,
                association=association, association_id=association.id if association else None)


def check_sample(lookups: Lookups, raw: Mapping[str, str]) -> tuple[Case | None, Errors]:
    """The "try it" form: a case type, one of its categories, and an association (blank =
    unknown). Returns a transient case to explain."""
    errors: Errors = {}
    case_type = _enum(CaseType, raw.get("case_type"))
    if case_type is None:
        errors["case_type"] = [Message(N_("Choose a case type (complaint, report, mediation or suggestion)."))]
    code = clean_text(raw.get("category"))
    category = lookups.category(code) if code else None
    if category is None:
        errors["category"] = [Message(N_("Choose a category."))]
    elif case_type is not None and category.group is not case_type.category_group:
        errors["category"] = [Message(N_("Category %(code)s is not one of this case type's categories."),
                                      {"code": code})]
    association = None
    typed = clean_text(raw.get("association"))
    if uscc.compact(typed.upper()) not in ("", ANY):
        association, matched = lookups.named(typed)
        if association is None:
            _association_error(partial(add_error, errors), typed, matched)
    if errors:
        return None, errors
    return sample_case(case_type, category, association), {}


def explain(session: Session, case: Case) -> Explanation:
    """Every rule the engine tries for the case, in its order, with what came of it: the
    engine's own record of its decision (casework.routing.engine.route)."""
    data, facts, r = route_case(session, case)
    decision = Decision(session.get(Unit, r.unit.id) if r.unit else None,
                        session.get(RoutingRule, r.rule.id) if r.rule else None, r.reason, list(r.skipped))
    if case.association is None:
        return Explanation(decision, [])
    steps = [Step(session.get(RoutingRule, t.rule.id), session.get(Unit, t.unit.id) if t.unit else None,
                  t.outcome, t.reason) for t in r.tried]
    if r.rule is not None:  # the rules after the chosen one
        later = candidates(data, facts)[len(r.tried):]
        steps += [Step(session.get(RoutingRule, rule.id), None, "not_reached") for rule in later]
    return Explanation(decision, steps)


# --- regional joint mediation bodies ---------------------------------------------------------

def joint_body_snapshot(body: JointMediationBody) -> dict[str, Any]:
    return {"region_prefix": body.region_prefix, "unit": body.unit.code}


def check_joint_body(session: Session, raw: Mapping[str, str]) -> tuple[tuple[str, Unit] | None, Errors]:
    errors: Errors = {}
    prefix = clean_text(raw.get("region_prefix"))
    if not _PREFIX.match(prefix):
        errors["region_prefix"] = [Message(N_("A region prefix is 2, 4 or 6 digits of a GB/T 2260 code "
                                              "(51 for Sichuan, 5101 for Chengdu)."))]
    elif session.scalar(select(JointMediationBody.id).where(JointMediationBody.region_prefix == prefix)):
        errors["region_prefix"] = [Message(N_("This region already has a joint mediation body; "
                                              "remove it first to change it."))]
    code = clean_text(raw.get("unit"))
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else None
    if unit is None or unit.kind is not UnitKind.mediation_body or not unit.active:
        errors["unit"] = [Message(N_("Choose an active mediation body."))]
    elif unit.association_id is not None:
        errors["unit"] = [Message(N_("This mediation body belongs to an association; "
                                     "a joint body must be independent."))]
    return (None, errors) if errors else ((prefix, unit), {})


def add_joint_body(session: Session, actor: Actor, prefix: str, unit: Unit) -> Change:
    body = JointMediationBody(region_prefix=prefix, unit=unit, unit_id=unit.id)
    session.add(body)
    session.flush()
    change = Change("joint_mediation_body", "created", body.id, None, joint_body_snapshot(body))
    _log(session, change, actor)
    return change


def remove_joint_body(session: Session, actor: Actor, body: JointMediationBody) -> Change:
    change = Change("joint_mediation_body", "removed", body.id, joint_body_snapshot(body), None)
    session.delete(body)
    session.flush()
    _log(session, change, actor)
    return change


# --- canned replies ----------------------------------------------------------------------------

@dataclass
class ReplyValues:
    unit: Unit
    title: str
    body: str
    active: bool
    legal_basis: str | None = None


def reply_snapshot(reply: CannedReply, unit: Unit) -> dict[str, Any]:
    return {"unit": unit.code, "title": reply.title, "body": reply.body, "legal_basis": reply.legal_basis,
            "active": reply.active}


def check_canned_reply(session: Session, raw: Mapping[str, str]) -> tuple[ReplyValues | None, Errors]:
    errors: Errors = {}
    code = clean_text(raw.get("unit"))
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else None
    if unit is None or unit.kind is UnitKind.triage:
        errors["unit"] = [Message(N_("Choose the unit that uses this reply."))]
    title = clean_text(raw.get("title"))
    if not 1 <= len(title) <= REPLY_TITLE_MAX:
        errors["title"] = [Message(N_("A title of 1 to %(max)d characters is required."), {"max": REPLY_TITLE_MAX})]
    body = clean_text(raw.get("body"), multiline=True)
    if not 1 <= len(body) <= REPLY_BODY_MAX:
        errors["body"] = [Message(N_("The text is required and may be at most %(max)d characters."),
                                  {"max": REPLY_BODY_MAX})]
    basis = clean_text(raw.get("legal_basis")) or None
    if basis is not None and not LEGAL_BASIS_MIN <= len(basis) <= LEGAL_BASIS_MAX:
        errors["legal_basis"] = [Message(N_("Between %(lo)d and %(hi)d characters, please."),
                                         {"lo": LEGAL_BASIS_MIN, "hi": LEGAL_BASIS_MAX})]
    active = parse_bool(raw.get("active"))
    if active is None:
        errors["active"] = [Message(N_("Active must be true or false."))]
    if errors:
        return None, errors
    return ReplyValues(unit, title, body, bool(active), basis), {}


def save_canned_reply(session: Session, actor: Actor, values: ReplyValues,
                      reply: CannedReply | None = None) -> Change:
    """Create a reply (``reply`` None) or update one."""
    before = None
    if reply is None:
        reply = CannedReply()
        session.add(reply)
    else:
        before = reply_snapshot(reply, session.get(Unit, reply.unit_id))
    reply.unit_id, reply.title, reply.body, reply.active = values.unit.id, values.title, values.body, values.active
    reply.legal_basis = values.legal_basis
    session.flush()
    change = Change("canned_reply", "updated" if before else "created", reply.id, before,
                    reply_snapshot(reply, values.unit))
    if change.changed:
        _log(session, change, actor, free_text=("title", "body", "legal_basis"))
    return change


def deactivate_canned_reply(session: Session, actor: Actor, reply: CannedReply) -> Change:
    unit = session.get(Unit, reply.unit_id)
    before = reply_snapshot(reply, unit)
    reply.active = False
    session.flush()
    change = Change("canned_reply", "deactivated", reply.id, before, reply_snapshot(reply, unit))
    if change.changed:
        _log(session, change, actor, free_text=("title", "body", "legal_basis"))
    return change
