"""The steps of the handling moves (route, accept, transfer, reply, review ...) and their
guards. The table (casework.workflow.table) says when each runs and with which checked
values; a step changes what the table cannot say in one word and returns the event's data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import object_session

from casework.accounts.models import User
from casework.cases.models import Attachment, Case, CaseState as S, CaseType, Event, EventKind, Opinion, Rating, Stage
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import Deadlines, end_of_day
from casework.i18n import Message, N_
from casework.registry.models import Unit
from casework.routing.engine import check_unit_allowed
from casework.workflow.spec import HANDLERS, Ctx, invalid
from casework.workflow.states import CAN_BE_OVERDUE

MAX_REVIEWS = 2  # a review (复查) and a re-review (复核); the re-review is final


# -- the unit a move sends the case to: the field's own checks (said with the other fields' errors) --

def _unit_of(raw, case: Case) -> Unit | None:
    return object_session(case).get(Unit, int(raw)) if str(raw or "").isdigit() else None


def unit_problem(raw, case: Case, now=None) -> Message | None:
    """A unit that may receive this case: active, a handling unit, not the association's own
    (casework.routing.engine.check_unit_allowed)."""
    unit = _unit_of(raw, case)
    if unit is None or check_unit_allowed(unit, case):
        return Message(N_("This unit cannot receive this case."))
    return None


def transfer_unit_problem(raw, case: Case, now=None) -> Message | None:
    """A unit that may receive it, and not the one that has it."""
    return unit_problem(raw, case) or (
        Message(N_("The case is already at this unit.")) if int(raw) == case.unit_id else None)


def review_unit_problem(raw, case: Case, now=None) -> Message | None:
    """A unit that may receive it and did not decide it (信访工作条例 第三十五、三十六条)."""
    return unit_problem(raw, case) or (
        Message(N_("The unit that made the decision under review may not decide the review."))
        if int(raw) in deciding_units(case) else None)


def unit_field(ctx: Ctx, name: str = "unit_id") -> Unit:
    """The unit the field's check accepted."""
    unit = _unit_of(ctx.values.get(name), ctx.case)
    if unit is None:  # a step is run through the machine, which checked the field
        raise invalid(name, N_("This unit cannot receive this case."))
    return unit


# -- guards: why a move is not possible now (None: it is) -----------------------------------

def came_by_transfer(case, now) -> Message | None:
    """A unit that received a transfer outside its remit objects within the transfer-objection
    time limit (信访工作条例 第二十三条第三款: 5 working days from receipt), counted on the
    calendar with the administrator's overrides."""
    if case.transferred_from_unit_id is None or case.transferred_at is None:
        return Message(N_("This case did not come to this unit by a transfer."))
    deadlines = deadlines_of(case)
    if now > deadlines.due(case.type, Stage.transfer_objection, case.transferred_at):
        lim = deadlines.limit(case.type, Stage.transfer_objection)
        return Message(N_("The %(n)d working days to send a transfer back have passed.") if lim.working_days
                       else N_("The %(n)d days to send a transfer back have passed."), {"n": lim.amount})
    return None


def deadlines_of(case: Case) -> Deadlines:
    """The time limits and calendar (with the administrator's overrides) where the case is
    stored; the statutory defaults for a case in no session."""
    session = object_session(case)
    return Deadlines.load(session) if session is not None else Deadlines.defaults()


def extendable(case, now) -> Message | None:
    """Once per case, with the lead's approval: the handling time of a complaint or a mediation
    (信访工作条例 第三十四条: up to 30 days), the decision whether to open a report
    (立案, 市场监督管理行政处罚程序规定 第十八条: 15 working days more)."""
    if case.extended:
        return Message(N_("The handling time can be extended only once."))
    if case.stage not in _extendable_stages(case) or case.due_at is None:
        return Message(N_("Only the handling time can be extended."))
    return None


def extension_asked(case):
    """The handler's request to the lead to extend (``ask_extension``) still waiting: the latest,
    while the case has not been extended. None when none waits."""
    if case.extended:
        return None
    asks = [ev for ev in case.events if ev.kind is EventKind.note and (ev.data or {}).get("action") == ASK_EXTENSION]
    return max(asks, key=lambda ev: ev.id or 0) if asks else None


def extension_askable(case, now) -> Message | None:
    """A handler may ask the lead to extend while the lead may extend, once per request."""
    problem = extendable(case, now)
    if problem is None and extension_asked(case) is not None:
        return Message(N_("The unit lead has been asked to extend already."))
    return problem


def asked_extension_days(case) -> str | None:
    """The extension's form starts from the handler's request (its days and reason), which the
    lead may change."""
    ask = extension_asked(case)
    return str(ask.data["days"]) if ask is not None and ask.data.get("days") else None


def asked_extension_reason(case) -> str | None:
    ask = extension_asked(case)
    return ask.internal_text if ask is not None else None


def _extendable_stages(case) -> tuple[Stage, ...]:
    return (Stage.acceptance,) if case.type is CaseType.report else (Stage.handling, Stage.mediation)


def runs_extended(case) -> bool:
    """The deadline the case runs to now is the extended one: the case was extended and is still
    in the stage that was. After the reply the case carries another stage's date (the time to ask
    for a review), which no one extended."""
    return bool(case.extended) and case.stage in _extendable_stages(case)


def clock_running(case, now) -> Message | None:
    return Message(N_("The clock of this case is already paused.")) if case.paused_at is not None else None


def clock_paused(case, now) -> Message | None:
    return Message(N_("The clock of this case is not paused.")) if case.paused_at is None else None


def review_open(case, now) -> Message | None:
    """复查 within 30 days of the reply, 复核 within 30 days of the 复查 decision (信访工作条例
    第三十五、三十六条); the re-review decision is final."""
    if case.reviews_requested >= MAX_REVIEWS:
        return Message(N_("A review and a re-review have already been decided; that decision is final."))
    if case.stage is not Stage.review_request or (case.due_at is not None and now > case.due_at):
        return Message(N_("The time to ask for a review has passed."))
    return None


def evidence_open(case, now) -> Message | None:
    """Evidence serves a decision still to come: before the reply, and while a review decides.
    Once the reply is given, only a complaint whose review may still be asked for takes more (for
    that review); an answered suggestion has nothing left to decide."""
    if case.state is S.replied and (case.type is not CaseType.complaint or review_open(case, now) is not None):
        return Message(N_("The reply has been given: nothing more can be added to this case."))
    return None


def rating_due(case) -> datetime | None:
    """The end of the satisfaction rating's own window (15 days from the reply or the review
    decision: a design default, the administrator's to change), shorter than the window to ask
    for a review; None before a reply."""
    start = case.stage_started_at
    return deadlines_of(case).due(case.type, Stage.rating, start) if start is not None else None


def rating_open(case, now) -> Message | None:
    due = rating_due(case)
    if due is None or now > due:
        return Message(N_("The time to rate the reply has passed."))
    return None


def rating_lapsed(case, now) -> Message | None:
    """Closed when every window after the reply has lapsed: the rating's and, for a complaint,
    the review's (the case stays open while a review may still be asked for)."""
    if case.due_at is None or now <= case.due_at:
        return Message(N_("The rating window is still open."))
    return None


# -- who decides a review: one level up, never the unit that decided -------------------------

def deciding_units(case: Case) -> set[int]:
    """The units that replied to this case or decided a review of it: none of them may decide
    a review of it (信访工作条例 第三十五、三十六条)."""
    return {ev.data["unit_id"] for ev in case.events
            if ev.kind in (EventKind.replied, EventKind.review_decided)
            and isinstance((ev.data or {}).get("unit_id"), int)}


def review_body(case: Case):
    """The unit one level above the unit that holds the case's last decision, or None when
    none is configured (the platform's triage then assigns one)."""
    unit = case.unit
    upper = unit.supervising_unit if unit is not None else None
    if upper is None or not upper.active or upper.id in deciding_units(case) or check_unit_allowed(upper, case):
        return None
    return upper


def not_own_decision(case, now) -> Message | None:
    if case.unit_id is not None and case.unit_id in deciding_units(case):
        return Message(N_("The unit that made the decision under review may not decide the review."))
    return None


def review_to_route(case, now) -> Message | None:
    return None if case.unit_id is None else Message(N_("This review already has its deciding body."))


def reporter_to_tell(case, now) -> Message | None:
    if case.stage is not Stage.report_notice:
        return Message(N_("The reporter has been told the decision already."))
    return None


def not_withdrawn_yet(case, now) -> Message | None:
    if any(ev.kind is EventKind.withdrawn for ev in case.events):
        return Message(N_("Your withdrawal has been recorded already."))
    return None


def urgeable(case, now) -> Message | None:
    """催办: once the current handling deadline has passed (a case whose clock runs and that can
    be overdue), once per deadline: a new deadline (an extension, a new stage) may be urged again."""
    due = case.due_at
    if case.state not in CAN_BE_OVERDUE or due is None or case.paused_at is not None or now <= due:
        return Message(N_("You can urge the unit once its time limit has passed."))
    if any(ev.kind is EventKind.urged and (ev.data or {}).get("due") == due.isoformat() for ev in case.events):
        return Message(N_("You have urged the unit about this time limit already."))
    return None


def reply_has_finding(case) -> bool:
    return case.type in (CaseType.complaint, CaseType.report)


def reply_is_opinion(case) -> bool:
    """A complaint's reply is its 信访处理意见书 (信访工作条例 第三十一条第六项, 第三十二条): it states an
    opinion on the request and the laws that opinion rests on. A report is answered under the
    rules on administrative penalties, a suggestion is answered."""
    return case.type is CaseType.complaint


def decision_under_review(case) -> Event | None:
    """The decision a review (复查) or re-review (复核) decides on: the last reply or review decision.
    The desk shows it beside the decision's form, for reference only: the deciding body's finding,
    opinion and laws are its own (信访工作条例 第三十五、三十六条), and its form starts empty."""
    decisions = [ev for ev in case.events if ev.kind in (EventKind.replied, EventKind.review_decided)]
    return max(decisions, key=lambda e: e.id or 0) if decisions else None


# -- steps ----------------------------------------------------------------------------------

def route(ctx: Ctx) -> dict:
    unit = unit_field(ctx)
    ctx.case.unit_id, ctx.case.handler_id = unit.id, None
    return {"unit_id": unit.id, "unit": unit.code}


def accept(ctx: Ctx) -> dict:
    """Accepted (a report: a case is opened, 立案): the handling clock starts. A named reporter
    was to be told within 5 working days of the decision (暂行办法 第三十一条; the 办法 of 2026 that
    replaced it keeps no such duty, and the platform keeps the practice): the move tells them at
    once, by the 受理告知书 it makes, the notice it sends and the status page.
    (Only reports accepted before it did so wait in ``report_notice``: ``notify_reporter``.)"""
    case = ctx.case
    case.transferred_from_unit_id = None
    if case.handler_id is None and ctx.actor.user_id is not None:
        case.handler_id = ctx.actor.user_id
    ctx.start_stage(Stage.handling)
    return {}


def notify_reporter(ctx: Ctx) -> dict:
    """A case accepted before the decision itself told the reporter (see ``accept``) and still
    waiting in ``report_notice``: the reporter is told; the handling clock runs from the decision."""
    ctx.start_stage(Stage.handling, ctx.case.stage_started_at)
    return {}


def not_accept(ctx: Ctx) -> dict:
    return {"reason": ctx.values["reason"].value}


def transfer(ctx: Ctx) -> dict:
    unit = unit_field(ctx)
    previous = ctx.case.unit_id
    ctx.case.transferred_from_unit_id, ctx.case.transferred_at = previous, ctx.now
    ctx.case.unit_id, ctx.case.handler_id = unit.id, None
    return {"from_unit_id": previous, "to_unit_id": unit.id, "unit": unit.code, "reason": ctx.values["reason"].value}


def send_back(ctx: Ctx) -> dict:
    case = ctx.case
    back_to, previous = case.transferred_from_unit_id, case.unit_id
    case.unit_id, case.handler_id = back_to, None
    case.transferred_from_unit_id, case.transferred_at = None, None
    return {"from_unit_id": previous, "to_unit_id": back_to}


def pause(ctx: Ctx) -> None:
    if ctx.case.paused_at is None:
        ctx.case.paused_at = ctx.now


def unpause(ctx: Ctx) -> dict:
    """The time the clock stood still is added to the stage's deadline."""
    case = ctx.case
    if case.paused_at is None or case.due_at is None:
        case.paused_at = None
        return {}
    before = case.due_at
    case.due_at = ctx.deadlines.extend_by_pause(
        case.due_at, case.paused_at, ctx.now,
        working_days=ctx.deadlines.pause_counts_working_days(case.type, case.stage))
    case.paused_at = None
    if case.due_at > ctx.now:
        case.overdue = False
    return {"due_before": before.isoformat(), "due_after": case.due_at.isoformat()}


def request_info(ctx: Ctx) -> dict:
    """The stage clock stands still; the complainant's own clock (the material time limit)
    starts (办法 第十六条第五项: without the material the complaint is not accepted)."""
    case = ctx.case
    case.resume_state = case.state
    pause(ctx)
    case.info_due_at = ctx.deadlines.due(case.type, Stage.material, ctx.now)
    return {"resume_state": case.resume_state.value, "info_due": case.info_due_at.isoformat()}


def supply_info(ctx: Ctx) -> dict:
    """补正: the answer and/or the files asked for; the stage clock runs again."""
    ctx.case.state, ctx.case.resume_state, ctx.case.info_due_at = ctx.case.resume_state, None, None
    names = store_files(ctx, from_staff=False)
    return {"resumed": ctx.case.state.value, **unpause(ctx), **({"files": len(names)} if names else {})}


def material_lapsed(case, now) -> Message | None:
    if case.info_due_at is None or now <= case.info_due_at:
        return Message(N_("The time to supply the material has not passed."))
    return None


def material_lapsed_before_acceptance(case, now) -> Message | None:
    """不予受理 is a decision on acceptance: only a case not accepted yet can end so."""
    if case.resume_state is not S.pending_acceptance:
        return Message(N_("The case was accepted before the material was asked for: its handling goes on."))
    return material_lapsed(case, now)


def material_lapsed_after_acceptance(case, now) -> Message | None:
    if case.resume_state is not S.accepted:
        return Message(N_("The case is not accepted yet: without the material it is not accepted."))
    return material_lapsed(case, now)


# what the complainant is told when material asked for after acceptance did not come
MATERIAL_LAPSED_GOES_ON = {
    "zh": "您未在{due}前提交{asked}要求补充的材料。您的案件已经受理，办理单位将根据现有材料继续办理。",
    "en": ("The material asked for on {asked} was not received by {due}. Your case was accepted and the unit "
           "goes on handling it with what it has."),
}


def _tell_material_lapsed(ctx: Ctx, texts: dict[str, str]) -> None:
    """The event's public text, in the complainant's language, naming the day the material was
    asked for and the day it was due (read before the lapse clears them)."""
    case = ctx.case
    asked = case.paused_at or ctx.now
    lang = "en" if (case.locale or "").startswith("en") else "zh"
    own_dispute = case.type in (CaseType.complaint, CaseType.mediation)  # 办法 第十六条 is about a 投诉
    ctx.event.public_text = texts[lang].format(asked=china_date(asked).isoformat(),
                                               due=china_date(case.info_due_at or asked).isoformat(),
                                               what=_WHAT[lang][case.type],
                                               basis=_LAPSED_BASIS[lang] if own_dispute else "")


def go_on_without_material(ctx: Ctx) -> dict:
    """Material asked for after acceptance did not come in time: the case stays accepted and its
    handling goes on (the clock runs again, the time it stood still added), told to the complainant."""
    _tell_material_lapsed(ctx, MATERIAL_LAPSED_GOES_ON)
    ctx.case.state, ctx.case.resume_state, ctx.case.info_due_at = S.accepted, None, None
    return {"reason": "material_not_supplied", **unpause(ctx)}


# the written notice of 不予受理 when the material did not come (its text is the event's public
# text, kept in the complainant's language like the other notices a system move writes). Missing
# material is a ground not to accept a 投诉 in 办法 第十六条第五项; a report or a suggestion that
# lacks it is closed by the design's 补正 rule, which cites no article
MATERIAL_LAPSED_NOTICE = {
    "zh": ("不予受理告知：本平台于{asked}请您补正材料，截至{due}未收到补正材料，{basis}对您的{what}不予受理。"
           "您可以随时重新提交，请在新的提交中附上所需材料。"),
    "en": ("Notice of non-acceptance: on {asked} you were asked to supply missing material; none was received "
           "by {due}, so your {what} is not accepted{basis}. You may file the matter again at any time, as a new "
           "case with the material asked for."),
}
_LAPSED_BASIS = {"zh": "依据《市场监督管理投诉举报处理办法》第十六条第五项，",
                 "en": " (Measures on Handling Complaints and Reports concerning Market Regulation, 2026, art. 16(5))"}
_WHAT = {"zh": {CaseType.complaint: "投诉", CaseType.report: "举报", CaseType.suggestion: "建议",
                CaseType.mediation: "调解申请"},
         "en": {CaseType.complaint: "complaint", CaseType.report: "report", CaseType.suggestion: "suggestion",
                CaseType.mediation: "mediation request"}}


def close_material_lapsed(ctx: Ctx) -> dict:
    """The material was not supplied in time: not accepted (办法 第十六条第五项), with a
    written notice saying why and how to file again."""
    case = ctx.case
    due, was = case.info_due_at, case.resume_state
    _tell_material_lapsed(ctx, MATERIAL_LAPSED_NOTICE)
    case.resume_state, case.info_due_at, case.paused_at = None, None, None
    return {"reason": "material_not_supplied", "was": was.value if was else None,
            "info_due": due.isoformat() if due else None}


ASK_EXTENSION = "extension_asked"


def _extension_days(ctx: Ctx) -> int:
    """The days asked or given: empty is the most the law allows; else 1 to that."""
    most = ctx.deadlines.limit(ctx.case.type, Stage.extension)
    raw = str(ctx.values.get("days") or "").strip()
    days = int(raw) if raw.isdigit() else (most.amount if not raw else 0)
    if not 1 <= days <= most.amount:
        raise invalid("days", N_("A whole number from %(lo)d to %(hi)d, please."), lo=1, hi=most.amount)
    return days


def ask_extension(ctx: Ctx) -> dict:
    """信访工作条例 第三十四条: the handling time is extended 经本机关、单位负责人批准. The handler
    asks, with the days and the reason; the unit's mailbox is told, and the lead's extension
    form starts from them (``extend`` decides). The complainant is told only of an extension."""
    return {"action": ASK_EXTENSION, "days": _extension_days(ctx)}


def extend(ctx: Ctx) -> dict:
    """Once, by at most the extension's limit (信访工作条例 第三十四条: 不得超过30日; a report's 立案
    decision, 程序规定 第十八条: 15 working days); the lead may give fewer days."""
    case = ctx.case
    before = case.due_at
    most = ctx.deadlines.limit(case.type, Stage.extension)
    days = _extension_days(ctx)
    comp = ctx.deadlines.calendar.compute(china_date(case.due_at), days, working_days=most.working_days)
    case.due_at, case.extended, case.overdue = end_of_day(comp.end), True, False
    return {"due_before": before.isoformat(), "due_after": case.due_at.isoformat(), "days": days}


def suspend(ctx: Ctx) -> dict:
    pause(ctx)
    return {}


def hearing(ctx: Ctx) -> dict:
    """信访工作条例 第三十六条第二款: 复核机关、单位可以…举行听证…听证所需时间不计算在前款规定的期限内. The
    re-review's clock stands still until the unit restarts it (``resume``), which adds the days
    it stood to the deadline."""
    pause(ctx)
    return {"hearing": True}


def resume(ctx: Ctx) -> dict:
    return unpause(ctx)


def rate(ctx: Ctx) -> dict:
    """Rated: closed, unless dissatisfied while a review may still be asked for."""
    rating = ctx.values["rating"]
    ctx.case.rating = rating
    if rating is not Rating.dissatisfied or ctx.case.reviews_requested >= MAX_REVIEWS:
        ctx.case.state = S.closed
        ctx.start_stage(None)
    return {"rating": rating.value}


def request_review(ctx: Ctx) -> dict:
    """The first request opens the review (复查), the second the re-review (复核); each goes to
    the body one level above the unit that decided last, never back to it (信访工作条例
    第三十五、三十六条). With no upper level configured it waits for the platform's triage,
    with an internal note saying why."""
    case = ctx.case
    from_unit = case.unit
    upper = review_body(case)
    case.rating = Rating.dissatisfied
    case.reviews_requested += 1
    first = case.reviews_requested == 1
    case.state = S.under_review if first else S.under_re_review
    case.unit, case.handler_id = upper, None
    ctx.start_stage(Stage.review if first else Stage.re_review)
    if upper is None:
        ctx.event.internal_text = (f"{from_unit.name if from_unit else '-'}: no upper level (supervising unit) is "
                                   "configured; the platform's triage assigns the body that decides the "
                                   + ("review" if first else "re-review"))
    return {"round": case.reviews_requested, "from_unit_id": from_unit.id if from_unit else None,
            "to_unit_id": upper.id if upper is not None else None}


def route_review(ctx: Ctx) -> dict:
    """Triage names the body that decides a review when no upper level was configured: any
    unit but one that decided this case already."""
    unit = unit_field(ctx)
    ctx.case.unit, ctx.case.handler_id = unit, None
    return {"unit_id": unit.id, "unit": unit.code}


def decide_review(ctx: Ctx) -> dict:
    """A review (复查) decision goes back to the complainant, who may ask for a re-review within
    30 days (and rate it); a re-review (复核) decision is final (closed). Its opinion on the
    request, and its finding (none if it gives none), replace those reviewed: the status page
    shows them, and a request the review supports is carried out and reported on (第三十二条第二款,
    ``supported``)."""
    final = ctx.case.state is S.under_re_review
    ctx.case.state = S.closed if final else S.replied
    ctx.start_stage(None if final else Stage.review_request)
    previous = ctx.case.opinion
    return {"final": final, "unit_id": ctx.case.unit_id, **_decision(ctx),
            "previous_opinion": previous.value if previous is not None else None}


def close_unrated(ctx: Ctx) -> dict:
    return {"reason": "rating window lapsed"}


def store_files(ctx: Ctx, name: str = "files", *, from_staff: bool) -> list[str]:
    """The move's cleaned files (CleanFile) stored encrypted, as Attachments of the case and of
    the move's event, like the filing form's uploads; their names for the event's data."""
    names = []
    # a reporter's files are kept by their place, not their names (intake.files.report_file_name)
    by_place = not from_staff and ctx.case.type is CaseType.report
    placed = sum(1 for a in ctx.case.attachments if not a.from_staff) if by_place else 0
    for clean in ctx.values.get(name) or []:
        key = ctx.services.files.new_key()
        ctx.services.files.put(key, "orig", clean.original)
        ctx.services.files.put(key, "staff", clean.staff_copy)
        filename = clean.filename
        if by_place:
            from casework.intake.files import report_file_name

            placed += 1
            filename = report_file_name(placed, clean.content_type)
        ctx.session.add(Attachment(
            case=ctx.case, event=ctx.event, from_staff=from_staff, filename=filename,
            content_type=clean.content_type, size=len(clean.original), sha256=clean.sha256,
            storage_key=key, uploaded_at=ctx.now))
        names.append(filename)
    return names


def add_evidence(ctx: Ctx) -> dict:
    """The complainant's statement (the event's public text) and/or files, added to an open case."""
    names = store_files(ctx, from_staff=False)
    return {"files": len(names)} if names else {}


def urge(ctx: Ctx) -> dict:
    """催办: recorded against the deadline it concerns (one urge per deadline); the unit's
    mailbox is told (the table's notice) and its queue marks the case."""
    return {"due": ctx.case.due_at.isoformat(), "unit_id": ctx.case.unit_id}


def reply(ctx: Ctx) -> dict:
    """The written reply (处理意见书). A complaint waits for the complainant: the review window
    (30 days, 信访工作条例 第三十五条) holds the case open, the rating has 15 of them. A report is
    not rated or reviewed (市场监督管理投诉举报处理办法 第三十五、三十六条): its reply closes it.
    A suggestion is answered and may be rated. A case no one had claimed (a suggestion has no
    acceptance, which would have made its handler) is the answering handler's from then on."""
    case = ctx.case
    if case.handler_id is None and ctx.actor.user_id is not None:
        case.handler_id = ctx.actor.user_id
    if case.type is CaseType.report:
        case.state = S.closed
        ctx.start_stage(None)
    else:
        case.state = S.replied
        ctx.start_stage(Stage.rating if case.type is CaseType.suggestion else Stage.review_request)
    data = {"unit_id": case.unit_id, **_decision(ctx)}
    names = store_files(ctx, from_staff=True)  # documents with the reply, for the complainant
    if names:
        data["files"] = len(names)
    return data


def _decision(ctx: Ctx) -> dict:
    """What a reply or a review decision found and its opinion on the request, with the laws it
    rests on (信访工作条例 第三十二条): they become the case's, replacing any earlier decision's (a
    finding or opinion not given is none); the event's data, for the documents."""
    finding, opinion = ctx.values.get("finding"), ctx.values.get("opinion")
    ctx.case.finding, ctx.case.opinion = finding, opinion
    data = {"finding": finding.value} if finding else {}
    if opinion:
        data.update(opinion=opinion.value, legal_basis=ctx.values["legal_basis"])
    return data


def withdraw(ctx: Ctx) -> dict:
    ctx.case.resume_state = None
    return {}


def assign(ctx: Ctx) -> dict:
    raw = ctx.values.get("handler_id")
    user = ctx.session.get(User, int(raw)) if str(raw or "").isdigit() else None
    if user is None or not user.active or not any(
            m.unit_id == ctx.case.unit_id and m.role in HANDLERS for m in user.memberships):
        raise invalid("handler_id", N_("Choose a handler of this unit."))
    if ctx.case.type is CaseType.mediation:
        from casework.mediation.models import MediatorRecusal

        if ctx.session.scalar(select(MediatorRecusal.id).where(
                MediatorRecusal.case_id == ctx.case.id, MediatorRecusal.user_id == user.id)):
            raise invalid("handler_id", N_("This mediator has withdrawn from this case (回避) and cannot be assigned."))
    previous = ctx.case.handler_id
    ctx.case.handler_id = user.id
    return {"from_handler_id": previous, "to_handler_id": user.id, "handler": user.username}


def note(ctx: Ctx) -> dict:
    return {}


def supported(case, now) -> Message | None:
    """信访工作条例 第三十二条第二款: 有权处理的机关、单位作出支持信访请求意见的，应当督促有关机关、单位执行."""
    if case.opinion is not Opinion.supported:
        return Message(N_("Only a reply that supported the request is carried out and reported on."))
    return None


def execution(ctx: Ctx) -> dict:
    """What was done to carry out a supported request, told to the complainant (a public
    entry), with documents if any; as often as there is something to report."""
    names = store_files(ctx, from_staff=True)
    return {"action": "execution", **({"files": len(names)} if names else {})}
