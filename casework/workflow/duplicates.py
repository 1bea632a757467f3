"""Linking a case as a duplicate of another (``link_duplicate`` in the workflow table), and
merging a report that brings new facts into the reporter's earlier report (``merge_report``).

The duplicate leaves the queue by a state change (-> closed) with a ``linked`` event whose
data is ``{"duplicate_of": <number>}`` and whose public text tells the complainant where the
matter is handled (the web layer writes the default text in the complainant's language; the
domain stores what it is given). The original case gets an internal note naming the
duplicate. No table of its own: the link lives in the event data.

Who: the handlers and lead of the case's unit (pending_acceptance, accepted), or a triage
operator while the case waits for routing (received). A received case has no unit, and a
closed case must have one, so it takes the original's unit (where the matter is handled).
"""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.permissions import can_view_case
from casework.cases.models import Case, CaseState, CaseType, Event, EventKind, Stage
from casework.cases.numbers import normalize_number
from casework.deadlines.calendar import china_date
from casework.i18n import N_
from casework.workflow.spec import Ctx, invalid
from casework.workflow.states import LINK_TARGETS

NAME = "link_duplicate"


def _invalid(msgid: str, **params):
    return invalid("duplicate_of", msgid, **params)


def duplicate_of(event: Event) -> str | None:
    """The number a ``linked`` event points to, if any."""
    if event.kind is not EventKind.linked:
        return None
    value = (event.data or {}).get("duplicate_of")
    return value if isinstance(value, str) else None


def _linked(case_id):
    """A case closed as another's duplicate (or merged into another): its linked event changed
    its state. ``case_id`` a value, or ``Case.id`` inside a query."""
    return select(Event.id).where(Event.case_id == case_id, Event.kind == EventKind.linked, Event.to_state.is_not(None))


def is_duplicate(session, case: Case) -> bool:
    return session.scalar(_linked(case.id).limit(1)) is not None


def link(ctx: Ctx) -> dict:
    number = normalize_number(ctx.values["duplicate_of"])[:20]
    if number == ctx.case.number:
        raise _invalid(N_("A case cannot be a duplicate of itself."))
    original = ctx.session.scalar(select(Case).where(Case.number == number))
    # a number the actor may not see is answered like one that does not exist
    if original is None or not can_view_case(ctx.actor, original):
        raise _invalid(N_("There is no case with this number that you may see."))
    if original.type is not ctx.case.type:  # a complaint closed as the duplicate of a suggestion gets no reply
        raise _invalid(N_("A case can be closed as a duplicate only of a case of its own type (a complaint of a "
                          "complaint, a report of a report)."))
    if original.state not in LINK_TARGETS or is_duplicate(ctx.session, original):
        raise _invalid(N_("That case is closed or is itself a duplicate; link to the case where the matter is handled."))
    if ctx.case.unit_id is None and original.unit_id is None:
        raise _invalid(N_("That case has not been routed yet; route it first, then link this one to it."))
    if ctx.case.unit_id is None:
        ctx.case.unit_id = original.unit_id
    ctx.case.resume_state = None
    # the original's timeline names the duplicate (staff only); it does not change its state
    ctx.session.add(Event(
        case=original, created_at=ctx.now, actor_kind=ctx.actor.kind, actor_id=ctx.actor.user_id,
        kind=EventKind.note, summary=f"duplicate {ctx.case.number} linked by {ctx.actor.kind}:{ctx.actor.user_id or '-'}",
        internal_text=f"{ctx.case.number} → {original.number}",  # numbers only: the page titles it
        data={"move": "note", "duplicate": ctx.case.number}))
    return {"duplicate_of": original.number}


# -- 合并处理: 市场监督管理投诉举报处理办法 (2026) 第三十五条 ---------------------------------------
# "对于同一举报人就同一涉嫌违法事实重复举报同一被举报人的，不再另行处理" is link_duplicate;
# "对于同一举报人以补充新的事实为由再次举报同一被举报人的，可以合并处理，并自收到最后一次举报之日起
# 重新计算处理期限" is this: the later report closes into the earlier one, whose time limit runs
# again from the day the later one was received.

MERGE = "merge_report"
# the earlier report's stage clock restarts in the stage its state stands for: the 立案 decision
# while it waits for it, else handling (an extension: the handling period itself, counted again).
# A transfer-objection window still open on it closes: merging into it means the unit handles it
RESTART = {CaseState.pending_acceptance: Stage.acceptance, CaseState.accepted: Stage.handling}


# the earlier report's timeline entry, in its reporter's language (a system text, as the notices are)
MERGED_TEXT = {
    "zh": "您补充新事实的举报 {number}（{received} 收到）已与本举报合并处理。依照《市场监督管理投诉举报处理办法》"
          "第三十五条，处理期限自收到最后一次举报之日起重新计算，现为 {due} 前。",
    "en": "Your further report {number} with new facts (received {received}) is handled together with this one. "
          "Under article 35 of the Measures on Handling Complaints and Reports concerning Market Regulation, the "
          "time limit runs again from the last report's receipt: it is now {due}.",
}


def _merge_invalid(msgid: str, **params):
    return invalid("merge_into", msgid, **params)


def merge(ctx: Ctx) -> dict:
    later = ctx.case
    number = normalize_number(ctx.values["merge_into"])[:20]
    if number == later.number:
        raise _merge_invalid(N_("A report cannot be merged into itself."))
    earlier = ctx.session.scalar(select(Case).where(Case.number == number))
    if earlier is None or not can_view_case(ctx.actor, earlier):
        raise _merge_invalid(N_("There is no case with this number that you may see."))
    if earlier.type is not CaseType.report or is_duplicate(ctx.session, earlier):
        raise _merge_invalid(N_("Merge into the earlier report itself (a report, not a duplicate)."))
    if earlier.state not in RESTART:
        raise _merge_invalid(N_("That report has been answered or closed: handle this one as a report of its own."))
    if earlier.paused_at is not None:
        raise _merge_invalid(N_("That report's clock is paused (material asked for, or appraisal): merge once it runs again."))
    if later.submitted_at < earlier.submitted_at:
        raise _merge_invalid(N_("Merge the later report into the earlier one, not the other way round."))
    # 同一被举报人, 同一举报人 (办法 第三十五条): the same association, and the same reporter,
    # matched by the keyed hash of a proved phone number; the handler never sees who it is
    if later.association_id is None or later.association_id != earlier.association_id:
        raise _merge_invalid(N_("Only a report on the same association is merged (Measures on complaints and reports, art. 35)."))
    # both numbers proved (an SMS code, or a registered client vouching): a number merely typed in
    # could be anyone's, and a merge restarts the earlier report's time limit
    proved = later.phone_verified_at is not None and earlier.phone_verified_at is not None
    if not proved or later.complainant_phone_hash is None or later.complainant_phone_hash != earlier.complainant_phone_hash:
        raise _merge_invalid(N_("Only a report by the same reporter is merged (Measures on complaints and reports, art. 35); an anonymous "
                                "report cannot be matched to its reporter: handle it on its own, or mark it "
                                "as a duplicate if it repeats the same facts."))
    if later.unit_id is None:
        later.unit_id = earlier.unit_id
    later.resume_state = None
    stage = RESTART[earlier.state]
    before = earlier.due_at
    earlier.stage, earlier.paused_at, earlier.overdue, earlier.supervision_level = stage, None, False, 0
    earlier.stage_started_at = later.submitted_at  # 自收到最后一次举报之日起重新计算处理期限
    earlier.due_at = ctx.deadlines.due(earlier.type, stage, later.submitted_at)
    # the earlier report's timeline: the reporter (the same person) sees that the new facts were
    # merged and the time limit runs again; staff see the numbers
    lang = "en" if (earlier.locale or "").startswith("en") else "zh"
    ctx.session.add(Event(
        case=earlier, created_at=ctx.now, actor_kind=ctx.actor.kind, actor_id=ctx.actor.user_id,
        kind=EventKind.note, summary=f"report {later.number} merged by {ctx.actor.kind}:{ctx.actor.user_id or '-'}",
        internal_text=f"{later.number} → {earlier.number}",
        public_text=MERGED_TEXT[lang].format(number=later.number, received=china_date(later.submitted_at).isoformat(),
                                             due=china_date(earlier.due_at).isoformat()),
        data={"move": "note", "merged": later.number, "stage": stage.value,
              "due_before": before.isoformat() if before else None, "due_after": earlier.due_at.isoformat()}))
    return {"merged_into": earlier.number, "due_after": earlier.due_at.isoformat()}


def merge_candidates(session, case: Case, *, limit: int = 5) -> list[Case]:
    """The earlier reports ``case`` could be merged into (the conditions ``merge`` checks: the
    same association, the same reporter by a proved phone number, open before its reply, its
    clock running, not itself a duplicate), the most recent first. The desk lists them, so that the handler, who never
    sees who reported, finds the reporter's earlier report whatever words it used."""
    if (case.type is not CaseType.report or case.association_id is None or case.complainant_phone_hash is None
            or case.phone_verified_at is None):
        return []
    return list(session.scalars(
        select(Case).where(Case.id != case.id, Case.type == CaseType.report,
                           Case.association_id == case.association_id,
                           Case.complainant_phone_hash == case.complainant_phone_hash,
                           Case.phone_verified_at.is_not(None), Case.submitted_at <= case.submitted_at,
                           Case.state.in_(list(RESTART)), Case.paused_at.is_(None), ~_linked(Case.id).exists())
        .order_by(Case.submitted_at.desc(), Case.id.desc()).limit(limit)))
