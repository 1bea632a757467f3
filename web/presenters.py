"""What the complainant is shown of a case, shared by the status page and the JSON API."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _

from casework.i18n import bilingual
from casework.cases.models import Case, CaseState, CaseType, EventKind, Stage
from casework.cases.queries import public_events
from casework.mediation.document import amount_in_figures
from casework.mediation.moves import STATEMENT_FILE  # Attachment.role of a mediation respondent's files
from casework.workflow import supervision
from casework.db import as_utc
from casework.cases.numbers import CHINA
from web.i18n import current_locale, title
from web.requestdb import services

NEXT_STEP = {
    CaseState.received: lambda: _("The platform is sending your case to the unit responsible for it, normally within one working day."),
    # no period named: the administrator sets the limit and an extension moves it; the date is given
    # beside it (the status page's line beneath, the API's deadline, Open311's expected_datetime)
    CaseState.accepted: lambda: _("Your case is being handled. The unit will reply in writing by its deadline."),
    # the deadline's line beneath says the clock is paused, and in which stage
    CaseState.need_info: lambda: _("The unit needs more material from you."),
    CaseState.replied: lambda: _("A reply has been given. Please rate it within 15 days; if you are not satisfied you can ask for a review."),
    CaseState.under_review: lambda: _("Your request for review is being decided (within 30 days)."),
    CaseState.under_re_review: lambda: _("Your request for re-review is being decided (within 30 days); that decision is final."),
    CaseState.mediating: lambda: _("Mediation is under way (normally within 60 days from the acceptance of the request, time for appraisal or testing not counted)."),
    CaseState.mediation_failed: lambda: _("Mediation did not reach an agreement. You may go to arbitration or court, or turn this into a complaint."),
    CaseState.not_accepted: lambda: _("Your case was not accepted; the reason is shown below."),
    CaseState.closed: lambda: _("This case is closed."),
    CaseState.withdrawn: lambda: _("You withdrew this case."),
}


def event_title(ev) -> str:
    if ev.kind is EventKind.submitted:
        return _("Submitted")
    if ev.kind is EventKind.attachment_added:
        return _("%(n)d file(s) attached", n=int((ev.data or {}).get("count", 0)))
    if ev.kind is EventKind.state_changed and ev.to_state is not None:
        return _("Status: %(state)s", state=title(ev.to_state))
    if ev.kind is EventKind.review_requested and ev.to_state is CaseState.under_re_review:
        return _("Re-review requested")
    if ev.kind is EventKind.review_decided and ev.from_state is CaseState.under_re_review:
        return _("Re-review decided (final)")
    if ev.kind is EventKind.session_logged:  # three alike entries said nothing of which was which
        data = ev.data or {}
        if data.get("action") == "scheduled" and data.get("scheduled_at"):
            when = local_time(datetime.fromisoformat(data["scheduled_at"]))
            if data.get("invited") is False:  # its time had come: recorded after the fact, nobody invited
                return _("Session of %(when)s entered after its time (no invitation sent)", when=when)
            return _("Session scheduled for %(when)s", when=when)
        if data.get("action") == "held":
            return _("Session held")
        if data.get("action") == "moved" and data.get("was") and data.get("scheduled_at"):
            return _("Session of %(was)s moved to %(when)s", was=local_time(datetime.fromisoformat(data["was"])),
                     when=local_time(datetime.fromisoformat(data["scheduled_at"])))
        if data.get("action") == "cancelled" and data.get("scheduled_at"):
            return _("Session of %(when)s cancelled", when=local_time(datetime.fromisoformat(data["scheduled_at"])))
    if ev.kind is EventKind.suspended and (ev.data or {}).get("hearing"):
        return _("Clock paused for a hearing (听证)")
    if ev.kind is EventKind.note and (ev.data or {}).get("action") == "extension_asked":
        return _("Asked the unit lead to extend the handling time")
    if ev.kind is EventKind.note and (ev.data or {}).get("action") == "execution":
        return _("Carrying out the supported request (督促执行)")
    if supervision.is_report(ev):
        return _("Report on the supervision notice (督办反馈)")
    if ev.kind is EventKind.routed and (ev.data or {}).get("triage"):
        # no rule named a unit: the case waits for the platform's triage (it read "Routed" beside
        # "Unit: not routed yet")
        return _("Sent to the platform's triage")
    if ev.kind is EventKind.linked and (ev.data or {}).get("merged_into"):
        return _("Merged into the earlier report %(number)s", number=ev.data["merged_into"])
    if ev.kind is EventKind.note and (ev.data or {}).get("merged"):
        return _("Further report %(number)s merged in: the time limit runs again", number=ev.data["merged"])
    if ev.kind is EventKind.linked and (ev.data or {}).get("followup"):
        return _("Turned into complaint %(number)s", number=ev.data["followup"])
    return title(ev.kind)


def local_time(dt) -> str:
    return as_utc(dt).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def local_date(dt) -> str:
    return as_utc(dt).astimezone(CHINA).strftime("%Y-%m-%d")


def utc_time(dt) -> str | None:
    """An instant as the JSON APIs give it: ISO 8601 in UTC (the staff API's ``iso`` too), also
    for one set in this request in Beijing time (a deadline a move just computed)."""
    return as_utc(dt).astimezone(timezone.utc).isoformat() if dt is not None else None


def association_name(case: Case) -> str | None:
    if case.association is None:
        return None
    return bilingual(case.association.name, case.association.name_en, current_locale())


def public_deadline(case: Case) -> dict | None:
    """The date the current stage should end, as the complainant may know it."""
    if case.due_at is None or case.stage is None:
        return None
    return {
        "stage": case.stage.value,
        "stage_title": stage_title(case),
        "due_date": local_date(case.due_at),  # the day in China (the last day, inclusive)
        "due_at": utc_time(case.due_at),  # the instant it ends, for the JSON API
        "paused": case.paused_at is not None,
        # waiting for material (补正): the complainant's own deadline, while the stage clock stands still
        "material_due": (local_date(case.info_due_at)
                         if case.state is CaseState.need_info and case.info_due_at is not None else None),
    }


# a mediation request's steps read differently from a complaint's
MEDIATION_NEXT_STEP = {
    CaseState.pending_acceptance: lambda: _("The mediation body will decide whether to accept your request and tell you."),
    CaseState.accepted: lambda: _("The mediation body accepted your request and has asked the other party whether it agrees to mediation. Mediation starts only when both parties agree."),
}


def stage_title(case: Case) -> str:
    """The current stage as its people name it (``stage_name``); after a review's decision,
    what may be asked is a re-review."""
    if re_review_open(case):
        return _("Asking for a re-review")
    return stage_name(case.type, case.stage)


def state_name(case_type: CaseType, state: CaseState, name=title) -> str:
    """A state of a case type by its name (``name``: the page's own bound ``title``, on a page
    that names many). A suggestion is answered, not accepted: before its answer it awaits one.
    An accepted mediation request is not yet handled: it waits for the respondent to agree."""
    if case_type is CaseType.suggestion and state is CaseState.pending_acceptance:
        return _("Awaiting an answer")
    if case_type is CaseType.mediation and state is CaseState.accepted:
        return _("Awaiting the respondent's answer")
    return name(state)


def stage_name(case_type: CaseType | None, stage: Stage) -> str:
    """A stage of a case type by its name. A suggestion's first stage is its answer: it is
    answered, not accepted (casework.deadlines.limits, casework.workflow.table's
    ``acknowledge_reply``), so "decision on acceptance" misnamed it wherever its date was shown."""
    if case_type is CaseType.suggestion and stage is Stage.acceptance:
        return _("Answering the suggestion")
    return title(stage)


def re_review_open(case: Case) -> bool:
    """A review was decided: what may be asked now is the re-review (复核), not a review."""
    return case.state is CaseState.replied and case.stage is Stage.review_request and case.reviews_requested >= 1


# before acceptance each type waits for something else; the date is on the page beside it (the
# time limits are the administrator's to set, so the text names none)
PENDING_NEXT_STEP = {
    CaseType.complaint: lambda case: _("The responsible unit will decide whether to accept your complaint and tell you, by the date shown."),
    CaseType.report: lambda case: (
        _("The responsible unit will decide whether to take up your report, by the date shown. You filed without your name, so you will not be told: check this page.")
        if case.anonymous else
        _("The responsible unit will decide whether to take up your report and tell you, by the date shown.")),
    CaseType.suggestion: lambda case: _("The responsible unit will read your suggestion and answer it on this page, by the date shown."),
}


def step_and_date(case: Case) -> dict:
    """What happens next and by when (the ``next_step`` sentence, the current stage's
    ``deadline``): the status page's and the receipt's (templates/_macros/cases.html
    ``next_step``), and the API's."""
    return {"next_step": next_step(case), "deadline": public_deadline(case)}


def next_step(case: Case) -> str:
    if case.type is CaseType.mediation and case.state in MEDIATION_NEXT_STEP:
        return MEDIATION_NEXT_STEP[case.state]()
    if case.state is CaseState.pending_acceptance and case.type in PENDING_NEXT_STEP:
        return PENDING_NEXT_STEP[case.type](case)
    if case.state is CaseState.closed and case.type is CaseType.complaint and case.reviews_requested >= 2:
        return _("This case is closed. The re-review decision is final: the same matter on the same facts and reasons is not accepted again.")
    if re_review_open(case):
        return _("The review has been decided. If you are not satisfied, you can ask once for a re-review; its decision is final.")
    if case.state is CaseState.replied:
        return _replied_step(case)
    if case.state is CaseState.mediated:
        return mediated_step(case)
    return NEXT_STEP[case.state]()


def mediated_step(case: Case) -> str:
    """An agreement takes effect when the parties and the mediator have signed it and the body
    has sealed it (人民调解法 第二十九条); judicial confirmation may be asked for within 30 days
    of that day (第三十三条). Before the signing is recorded no such date runs yet."""
    med = case.mediation
    if med is None or med.signed_on is None:
        return _("Mediation reached an agreement. It takes effect when both parties and the mediator have signed it "
                 "and the mediation body has sealed it; from that day, you may jointly apply to a court for judicial "
                 "confirmation within 30 days.")
    if med.oral_agreement:  # 人民调解法 第二十八、三十条: recorded by the mediator, in effect when reached
        if case.stage is Stage.judicial_confirmation and case.due_at is not None:
            return _("Mediation reached an oral agreement, recorded by the mediator; it took effect on %(day)s, the day "
                     "it was reached. You may jointly apply to a court for judicial confirmation until %(due)s inclusive.",
                     day=med.signed_on.isoformat(), due=local_date(case.due_at))
        return _("Mediation reached an oral agreement, recorded by the mediator; it took effect on %(day)s, the day "
                 "it was reached.", day=med.signed_on.isoformat())
    if case.stage is Stage.judicial_confirmation and case.due_at is not None:
        return _("The mediation agreement took effect on %(day)s. You may jointly apply to a court for judicial "
                 "confirmation until %(due)s inclusive.", day=med.signed_on.isoformat(), due=local_date(case.due_at))
    return _("The mediation agreement took effect on %(day)s.", day=med.signed_on.isoformat())


def rated_latest_reply(case: Case) -> bool:
    """Whether the complainant has rated the latest reply or review decision. ``case.rating``
    alone does not say: it is kept across a review (asking for one counts as 不满意), so after
    the review's decision it is the earlier reply's."""
    last = None
    for ev in case.events:  # in the order they happened (by id)
        if ev.kind in (EventKind.replied, EventKind.review_decided, EventKind.rated):
            last = ev.kind
    return last is EventKind.rated


def _replied_step(case: Case) -> str:
    """A suggestion's answer has no review; a complaint rated 不满意 stays open for its review."""
    if case.type is CaseType.suggestion:
        return (_("Your suggestion has been answered. Please rate the answer within 15 days.") if case.rating is None
                else _("Your suggestion has been answered, and you have rated the answer."))
    if case.rating is not None:
        return _("You rated the reply as not satisfied. You can ask once for a review, by the date shown.")
    return NEXT_STEP[case.state]()


def rating_window(case: Case) -> dict | None:
    """While the latest reply (or review decision) waits for a rating: the last day to rate it
    (``by``; casework.workflow.handling.rating_due) and the day after which the case is closed
    as not rated if nothing more is done (``closed_after``: the sweep's ``close_unrated`` once the
    case's own deadline has passed, the review's window for a complaint, the rating's for a
    suggestion). None once rated or after the rating's window, by the app's clock (as the moves
    the page offers, ``public_moves``, and the case API's answer, web.api.answers)."""
    from casework.workflow.handling import rating_due

    if case.state is not CaseState.replied or case.type not in (CaseType.complaint, CaseType.suggestion):
        return None
    due = rating_due(case)
    if due is None or case.due_at is None or as_utc(due) < services().clock() or rated_latest_reply(case):
        return None
    return {"stage_title": stage_name(case.type, Stage.rating), "by": local_date(due),
            "closed_after": local_date(case.due_at)}


def unit_title(unit) -> str:
    return bilingual(unit.name, unit.name_en, current_locale())


def review_info(case: Case) -> dict | None:
    """Who decides a review and by when it may be asked (信访工作条例 第三十五、三十六条): the
    body one level above the unit that decided last; while a review is decided, that body."""
    from casework.workflow.handling import review_body

    if case.type is not CaseType.complaint:
        return None
    if case.state in (CaseState.under_review, CaseState.under_re_review):
        return {"deciding": unit_title(case.unit) if case.unit is not None else None}
    if case.state is CaseState.replied and case.stage is Stage.review_request and case.due_at is not None:
        body = review_body(case)
        return {"body": unit_title(body) if body is not None else None,
                "decided_by": unit_title(case.unit) if case.unit is not None else None,
                "by": local_date(case.due_at),
                "re_review": case.reviews_requested >= 1}
    return None


def _event_files(ev) -> list[dict]:
    """The files an event brought, as the complainant sees them: a reply's documents (``id``:
    downloadable from the status page), the complainant's own evidence by name."""
    from casework.workflow.table import FILE_EVENTS

    if ev.kind not in FILE_EVENTS:
        return []
    return [{"id": a.id if a.from_staff else None, "filename": a.filename, "size": a.size}
            for a in ev.files if a.erased_at is None]


def public_case(case: Case, *, utc: bool = False) -> dict:
    """``utc``: its times as the JSON API gives them (ISO 8601, UTC), not as a page shows them."""
    locale = current_locale()
    at = utc_time if utc else local_time
    return {
        **step_and_date(case),
        "review": review_info(case),
        "version": case.version,
        "case_number": case.number,
        "type": case.type.value,
        "type_title": title(case.type),
        "state": case.state.value,
        "state_title": state_name(case.type, case.state),
        "category": case.category.code,
        "category_title": case.category.display_name(locale),
        "association": case.association.credit_code if case.association else None,
        "association_name": association_name(case),
        # the unit answers, never a person (issue 16): who holds the case now, what the reply
        # found and how the complainant rated it
        "unit_name": unit_title(case.unit) if case.unit is not None else None,
        "finding": case.finding.value if case.finding is not None else None,
        "finding_title": title(case.finding) if case.finding is not None else None,
        # a complaint's handling opinion on the request (信访工作条例 第三十二条)
        "opinion": case.opinion.value if case.opinion is not None else None,
        "opinion_title": title(case.opinion) if case.opinion is not None else None,
        "rating": case.rating.value if case.rating is not None else None,
        "rating_title": title(case.rating) if case.rating is not None else None,
        # why it was not accepted, in the words of the 不予受理告知书 (the handler's text is in the timeline)
        **not_accepted_reason(case, locale),
        "title": case.title,
        "submitted_at": at(case.submitted_at),
        # the complainant's own files (a reply's documents are listed with the reply; the files a
        # mediation's respondent sent with its statement are not the applicant's to see)
        "attachments": [{"filename": a.filename, "size": a.size} for a in case.attachments
                        if not a.from_staff and a.role != STATEMENT_FILE],
        "timeline": [
            {"at": at(ev.created_at), "title": event_title(ev), "text": ev.public_text or "",
             "kind": ev.kind.value, "files": _event_files(ev)}
            for ev in public_events(case)
        ],
    }


def not_accepted_reason(case: Case, locale: str) -> dict:
    """``not_accepted_reason`` (the listed reason) and its ``_title`` for a case not accepted."""
    from casework.documents.texts import NOT_ACCEPT

    reason = None
    if case.state is CaseState.not_accepted:
        last = next((ev for ev in reversed(case.events) if ev.kind is EventKind.not_accepted), None)
        reason = (last.data or {}).get("reason") if last is not None else None
    words = NOT_ACCEPT["en" if locale.startswith("en") else "zh_CN"]
    return {"not_accepted_reason": reason,
            "not_accepted_reason_title": words[reason][0] if reason in words and reason != "other" else None}


def public_moves(case: Case) -> set[str]:
    """The moves the complainant of this case may make now, by the app's clock: the status page
    offers what a move made at the page's moment may do (the case API's ``allowed_moves`` too)."""
    from casework.accounts.actor import Actor
    from casework.workflow.machine import available_moves

    return {m.name for m in available_moves(Actor.complainant(case.id), case, services().clock())}


# -- mediation: what the parties see ----------------------------------------------------

RESPONDENT_NEXT_STEP = {
    CaseState.pending_acceptance: lambda: _("The mediation body has not yet decided whether to take up this request."),
    CaseState.accepted: lambda: _("The mediation body has taken up the request. Mediation starts only if you agree: please answer below."),
    CaseState.mediating: NEXT_STEP[CaseState.mediating],  # the same sentence for both parties
    CaseState.mediation_failed: lambda: _("Mediation has ended without an agreement. Either party may turn to arbitration or a court."),
    CaseState.withdrawn: lambda: _("The applicant withdrew the request."),
    CaseState.not_accepted: lambda: _("The mediation body did not take up this request."),
}


def respondent_next_step(case: Case) -> str:
    if case.state is CaseState.mediated:
        return mediated_step(case)
    return RESPONDENT_NEXT_STEP.get(case.state, NEXT_STEP[case.state])()


# money on a page as in the agreement: 12,000.50 (yuan, with its fen)
money = amount_in_figures


def _mediation_end(case: Case):
    """The latest event that ended the mediation (its public text: terms or advice)."""
    ended = [ev for ev in case.events if ev.kind is EventKind.mediation_ended]
    return ended[-1] if ended else None


def public_mediation(case: Case, party: str = "applicant") -> dict | None:
    """What a party of a mediation sees: the body, the request, the schedule (never the
    internal notes), the outcome, the agreement document and, for the applicant after a
    failed mediation, whether it can go on as a complaint."""
    med = case.mediation if case.type is CaseType.mediation else None
    if med is None:
        return None
    from casework.mediation.models import Outcome, never_held
    from casework.mediation.operations import can_turn_into_complaint

    sessions = [{
        "id": s.id,
        "at": local_time(s.scheduled_at),
        "place": s.place,
        "online": s.online,
        "held": s.held,
        "not_held": never_held(med, s),
        "summary": s.summary if s.held else None,
        # moved (to the session that replaced it) or cancelled, and why: the parties were told it
        "status": s.status.value,
        "reason": s.status_reason if not s.stands else None,
        "moved_to": local_time(s.moved_to.scheduled_at) if s.moved_to is not None else None,
    } for s in med.sessions]
    end = _mediation_end(case) if med.outcome is not None else None
    followup = None
    if med.followup_case_id:
        followup = next((ev.data.get("followup") for ev in reversed(case.events)
                         if ev.kind is EventKind.linked and (ev.data or {}).get("followup")), None)
    return {
        "body": unit_title(case.unit) if case.unit is not None else None,
        # the parties may choose or accept the mediator and ask for a recusal (人民调解法 第二十三条),
        # whose name the agreement carries anyway (第二十九条): so they see who it is
        "mediator": _mediator_name(case),
        "respondent_kind": title(med.respondent_kind),
        "claim": med.claim,
        "amount": money(med.amount),
        "consented": med.respondent_consented_at is not None,
        # the respondent's time to answer the invitation; no answer by then counts as refusing
        "answer_by": (local_date(med.answer_due_at)
                      if med.answer_due_at is not None and med.respondent_consented_at is None else None),
        "sessions": sessions,
        "outcome": med.outcome.value if med.outcome else None,
        "outcome_title": title(med.outcome) if med.outcome else None,
        "terms": med.terms if med.outcome is Outcome.agreement else None,
        "end_text": end.public_text if end is not None and med.outcome is not Outcome.agreement else None,
        "has_agreement": bool(med.agreement_key),
        # an oral agreement (人民调解法 第二十八条): no 调解协议书 (the next step says when it took effect)
        "oral": med.oral_agreement and med.outcome is Outcome.agreement,
        "followup": followup,
        "can_turn_into_complaint": party == "applicant" and can_turn_into_complaint(case),
        "next_step": respondent_next_step(case) if party == "respondent" else next_step(case),
    }


def _mediator_name(case: Case) -> str | None:
    """The display name of the mediator the body assigned (the case's handler), if any."""
    if case.handler_id is None:
        return None
    from casework.accounts.models import User
    from web.requestdb import db_session

    user = db_session().get(User, case.handler_id)
    return user.display_name if user is not None else None


def _day_label(note) -> str:
    reason = note.reason
    if reason == "weekend":
        return _("Weekend")
    if reason.startswith("holiday: "):
        from casework.deadlines.calendar import holiday_name

        return holiday_name(note.day, current_locale()) or reason.split(": ", 1)[1]
    if reason.startswith("make-up"):
        return _("Make-up working day (调休)")
    if reason.startswith("override: "):
        return _("Override: %(note)s", note=reason.split(": ", 1)[1])
    return reason


def deadline_explanation(session, case: Case) -> dict | None:
    """How the current stage's deadline was computed: start, the limit, each rest day
    skipped and make-up day counted, and the pauses and extension that moved it since."""
    from casework.deadlines.limits import Deadlines

    if case.stage is None or case.stage_started_at is None or case.due_at is None:
        return None
    deadlines = Deadlines.load(session)
    limit = deadlines.limit(case.type, case.stage)
    comp = deadlines.explain(case.type, case.stage, case.stage_started_at)
    moves = []
    for ev in case.events:
        data = ev.data or {}
        if "due_before" in data and "due_after" in data and as_utc(ev.created_at) >= as_utc(case.stage_started_at):
            moves.append({"at": local_time(ev.created_at), "what": title(ev.kind),
                          "before": data["due_before"][:10], "after": data["due_after"][:10]})
    return {
        "stage": stage_title(case),
        "start": comp.start.isoformat(),
        "amount": limit.amount,
        "working_days": limit.working_days,
        "computed_end": comp.end.isoformat(),
        "skipped": [{"day": n.day.isoformat(), "label": _day_label(n)} for n in comp.skipped],
        "counted": [{"day": n.day.isoformat(), "label": _day_label(n)} for n in comp.makeup_days],
        "rolled": [{"day": n.day.isoformat(), "label": _day_label(n)} for n in comp.rolled_forward],
        "moves": moves,
        "due": local_date(case.due_at),
        "paused": case.paused_at is not None,
        "unconfirmed": sorted(comp.unconfirmed_years),
    }
