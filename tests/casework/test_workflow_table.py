"""The workflow table (casework.workflow.table) against an explicit move × role matrix, and
the named state groups against each other.

Adding a move without fields, without a permission, or without a row in MATRIX below fails
here; a move whose permission does not match its row fails here too.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import ActorKind, Case, CaseState as S, CaseType
from casework.workflow import states
from casework.workflow.machine import MOVES, available_moves, may
from casework.workflow.spec import SYSTEM, Field, Kind, Party, Staff

UNIT, OTHER = 5, 9
# Who may make each move. A role name means "with that role in the unit holding the case";
# "@unrouted" means "on a case no unit holds yet"; complainant, respondent and system are the
# parties of one case and the workers.
MATRIX: dict[str, set[str]] = {
    "route": {"triage_operator@unrouted"},
    "accept": {"handler", "unit_lead"},
    "notify_reporter": {"handler", "unit_lead"},
    "not_accept": {"handler", "unit_lead"},
    "transfer": {"handler", "unit_lead"},
    "send_back": {"handler", "unit_lead"},
    "request_info": {"handler", "unit_lead"},
    "supply_info": {"complainant"},
    "close_material_lapsed": {"system"},
    "material_lapsed_handling_goes_on": {"system"},
    "assign": {"handler", "unit_lead"},
    "note": {"handler", "unit_lead"},
    "extend": {"unit_lead"},
    "ask_extension": {"handler"},
    "suspend": {"handler", "unit_lead"},
    "resume": {"handler", "unit_lead"},
    "reply": {"handler", "unit_lead"},
    "acknowledge_reply": {"handler", "unit_lead"},
    "link_duplicate": {"handler", "unit_lead", "triage_operator@unrouted"},
    "merge_report": {"handler", "unit_lead"},
    "add_evidence": {"complainant"},
    "urge": {"complainant"},
    "withdraw": {"complainant"},
    "withdraw_report": {"complainant"},
    "rate": {"complainant"},
    "request_review": {"complainant"},
    "route_review": {"triage_operator@unrouted"},
    "decide_review": {"handler", "unit_lead"},
    "close_unrated": {"system"},
    "issue_supervision": {"supervisor", "supervisor@unrouted"},
    "request_reveal": {"handler", "unit_lead"},
    "decide_reveal": {"custodian"},
    "reveal_contact": {"handler", "unit_lead"},
    "accept_mediation": {"handler", "unit_lead"},
    "record_consent": {"handler", "unit_lead"},
    "respondent_consent": {"respondent"},
    "record_refusal": {"handler", "unit_lead"},
    "respondent_refuse": {"respondent"},
    "schedule_session": {"handler", "unit_lead"},
    "log_session": {"handler", "unit_lead"},
    "move_session": {"handler", "unit_lead"},
    "cancel_session": {"handler", "unit_lead"},
    "recuse": {"handler", "unit_lead"},
    "record_agreement": {"handler", "unit_lead"},
    "record_oral_agreement": {"handler", "unit_lead"},
    "record_execution": {"handler", "unit_lead"},
    "report_supervision": {"handler", "unit_lead"},
    "hold_hearing": {"handler", "unit_lead"},
    "record_no_agreement": {"handler", "unit_lead"},
    "mediation_timeout": {"system"},
    "mediation_no_answer": {"system"},
    "end_mediation": {"complainant"},
    "respondent_end_mediation": {"respondent"},
    "request_recusal": {"complainant"},
    "respondent_request_recusal": {"respondent"},
    "respondent_statement": {"respondent"},
    "decide_recusal": {"handler", "unit_lead"},
    "suspend_mediation": {"handler", "unit_lead"},
    "resume_mediation": {"handler", "unit_lead"},
    "record_signing": {"handler", "unit_lead"},
    "record_followup": {"handler", "unit_lead"},
}
STAFF_ROLES = ("handler", "unit_lead", "triage_operator", "supervisor", "custodian", "administrator")


def actors() -> dict[str, Actor]:
    """Each role of the matrix as an actor; staff hold their role in UNIT (the triage
    operator, supervisor and administrator in units of their own, as in a deployment)."""
    home = {"triage_operator": 1, "supervisor": OTHER, "administrator": OTHER}
    out = {r: Actor(ActorKind.staff, user_id=i + 1, roles=frozenset({(home.get(r, UNIT), Role(r))}))
           for i, r in enumerate(STAFF_ROLES)}
    out.update(complainant=Actor.complainant(1), respondent=Actor.respondent(1), system=Actor.system())
    return out


def case_for(move, *, routed: bool) -> Case:
    kind = next(iter(sorted(move.types, key=lambda t: t.value)))
    return Case(id=1, type=kind, unit_id=UNIT if routed else None, state=next(iter(move.sources)))


def test_every_move_has_a_row_in_the_matrix_and_the_matrix_no_stale_row():
    assert set(MOVES) == set(MATRIX), (
        f"add to MATRIX: {sorted(set(MOVES) - set(MATRIX))}; remove from MATRIX: {sorted(set(MATRIX) - set(MOVES))}")


@pytest.mark.parametrize("name", sorted(MOVES))
def test_who_may_make_each_move_is_the_matrix(name):
    move = MOVES[name]
    assert isinstance(move.who, (Staff, Party)), f"{name} has no permission predicate"
    got = set()
    for routed in (True, False):
        case = case_for(move, routed=routed)
        for role, actor in actors().items():
            if move.who.allows(actor, case):
                got.add(role if routed else f"{role}@unrouted")
    # the parties act on their own case whether or not a unit holds it: the matrix names them once
    got = {r.removesuffix("@unrouted") if r.split("@")[0] in ("complainant", "respondent", "system") else r
           for r in got}
    assert got == MATRIX[name]


@pytest.mark.parametrize("name", sorted(MOVES))
def test_each_move_declares_fields_states_and_a_step(name):
    move = MOVES[name]
    assert move.sources and move.sources <= set(S), name
    assert move.to <= set(S), name
    assert callable(move.step), name
    assert move.title and move.event, name
    if move.who != SYSTEM:
        assert move.fields, f"{name} takes nothing: declare its fields (a person always says something)"
    for f in move.fields:
        assert isinstance(f, Field) and f.label, (name, f)
        assert f.kind is not Kind.choice or f.choices is not None, (name, f.name)
        assert f.kind is not Kind.ref or isinstance(f.choices, str), (name, f.name)
        assert 0 < f.lo <= f.hi, (name, f.name)
    assert len({f.name for f in move.fields}) == len(move.fields), f"{name} names a field twice"
    if move.followup is not None:
        assert move.followup_error, f"{name}: say what the user is told when the follow-up fails"


def test_state_groups_partition_and_nest():
    every = set(S)
    assert states.OPEN | states.FINISHED == every and not states.OPEN & states.FINISHED
    assert states.CLOCK_RUNNING <= states.OPEN and states.PAUSED <= states.OPEN
    assert not states.CLOCK_RUNNING & states.PAUSED
    assert states.CAN_BE_OVERDUE == states.CLOCK_RUNNING - states.ENDS_AT_DEADLINE
    assert S.mediating in states.CLOCK_RUNNING and S.mediating not in states.CAN_BE_OVERDUE
    tabbed = [s for tab in states.TABS.values() for s in tab]
    assert len(tabbed) == len(set(tabbed)), "a state shows in two tabs"
    assert set(tabbed) | set(states.TRIAGE) == every, "a state a unit can hold is in no tab"
    assert set(states.TABS["done"]) == states.FINISHED
    assert states.BEFORE_REPLY <= states.OPEN and not states.BEFORE_REPLY & states.REPLIED


def test_finished_cases_make_no_state_change_and_open_ones_can_move_on():
    for name, move in MOVES.items():
        if move.changes_state:
            assert not move.sources & states.FINISHED, f"{name} reopens a finished case"
    for state in states.OPEN:
        assert any(state in m.sources and m.changes_state for m in MOVES.values()), f"{state} is a dead end"


def test_a_unit_that_keeps_not_accepting_for_its_lead_does_not_offer_it_to_handlers():
    """The desk offers only what will succeed: where the unit requires its lead for 不予受理,
    a handler is not offered "do not accept" (it used to be offered, then refused with 403)."""
    from casework.registry.models import Unit

    unit = Unit(id=UNIT, code="u", name="u", lead_approves_not_accept=True)
    case = Case(id=1, type=CaseType.complaint, unit_id=UNIT, state=S.pending_acceptance)
    case.unit = unit
    now = datetime.now(timezone.utc)
    by = actors()
    assert "not_accept" not in {m.name for m in available_moves(by["handler"], case, now)}
    assert "not_accept" in {m.name for m in available_moves(by["unit_lead"], case, now)}
    assert not may(by["handler"], case, MOVES["not_accept"], now)
