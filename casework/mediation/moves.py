"""The steps of the mediation moves (declared in casework.workflow.table).

pending_acceptance --accept_mediation--> accepted (the 60 days start, 办法 第二十三条; the respondent
    has 10 working days to answer, the design's: 人民调解法 第十七条 sets none)
accepted --record_consent / respondent_consent--> mediating (the clock keeps running)
accepted --record_refusal / respondent_refuse--> mediation_failed (refused)
accepted --mediation_no_answer (the sweep)--> mediation_failed (refused: silence)
accepted, mediating --end_mediation (applicant) / respondent_end_mediation--> mediation_failed
    (人民调解法 第二十三条)
mediating --record_agreement--> mediated · --record_no_agreement--> mediation_failed
mediating --record_oral_agreement--> mediated (before a 人民调解委员会 the parties may agree orally and
    the mediator records the content: 第二十八条; it takes effect when reached: 第三十条)
mediating --mediation_timeout (the sweep)--> mediation_failed (timed out)
mediated --record_signing--> (the agreement takes effect: 第二十九条; 司法确认 within 30 days: 第三十三条)
mediated --record_followup--> (回访 on performance: 第三十一条)
sessions (scheduled, moved, cancelled, logged), recusals, a party's recusal request and its decision
(办法 第二十一条), a pause for appraisal or testing (办法 第二十二条): no state change.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import object_session
from stdnum.cn import ric, uscc

from casework.accounts.models import User
from casework.cases.numbers import CHINA
from casework.db import as_utc
from casework.i18n import Message, N_
from casework.cases.models import Stage
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import end_of_day, start_of_day
from casework.mediation.models import (
    MediationSession, MediatorRecusal, Outcome, Performance, RecusalDecision, SessionStatus,
)
from casework.privacy.codes import hash_code, new_query_code
from casework.workflow.handling import pause, store_files, unpause
from casework.workflow.notices import respondent_mobile
from casework.workflow.spec import Ctx, MoveNotAllowed, invalid

PARTICULARS_PURPOSE = "mediation.particulars"
# the parties' particulars on the 调解协议书 (人民调解法 第二十九条 (一)): form field -> key
PARTICULARS = ("applicant_id", "applicant_address", "applicant_agent",
               "respondent_id", "respondent_address", "respondent_agent")
# what a party is told when mediation ends without agreement: the other routes
OTHER_ROUTES = {
    "zh": "调解未能进行或未达成协议。您可以依法申请仲裁、向人民法院提起诉讼，或者将本申请转为投诉。",
    "en": ("Mediation could not go ahead or reached no agreement. You may apply for arbitration, "
           "bring a claim in court, or turn this request into a complaint."),
}
NO_ANSWER = {
    "zh": "被申请人未在期限内答复是否同意调解，视为拒绝调解。",
    "en": "The respondent did not answer within the time limit, which counts as refusing mediation.",
}

CHINA_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
RESPONDENT_PREFIX = "R:"  # keeps a respondent code from ever matching as a query code


def respondent_code_hash(pepper: bytes, case_number: str, code: str) -> str:
    return hash_code(pepper, RESPONDENT_PREFIX + case_number, code)


def _mediation(ctx: Ctx):
    med = ctx.case.mediation
    if med is None:
        raise MoveNotAllowed(Message(N_("This case has no mediation particulars.")))
    return med


def accept_mediation(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    code = new_query_code()
    med.respondent_code_hash = respondent_code_hash(ctx.services.settings.query_pepper, ctx.case.number, code)
    if ctx.case.handler_id is None and ctx.actor.user_id is not None:
        ctx.case.handler_id = ctx.actor.user_id
    ctx.event.respondent_code = code  # shown once to the coordinator, sent by SMS; never stored
    med.answer_due_at = answer_due(ctx)
    # the invitation goes by SMS to a mobile number only (casework.workflow.notices)
    return {"answer_due": med.answer_due_at.isoformat(), "respondent_invited_by_sms": bool(respondent_mobile(ctx))}


def consent(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    med.respondent_consented_at, med.answer_due_at = ctx.now, None
    if ctx.case.stage is not Stage.mediation:  # a case accepted before the clock ran from acceptance
        ctx.start_stage(Stage.mediation)
    return {"consent": "respondent"}


def _lang(case) -> str:
    return "en" if (case.locale or "").startswith("en") else "zh"


def answer_due(ctx: Ctx) -> datetime:
    """The respondent's deadline to answer (time limit mediation_answer, 10 working days)."""
    return ctx.deadlines.due(ctx.case.type, Stage.mediation_answer, ctx.now)


def no_answer_due(case, now) -> Message | None:
    med = case.mediation
    if med is None or med.answer_due_at is None or med.respondent_consented_at is not None or now <= med.answer_due_at:
        return Message(N_("The respondent's time to answer has not passed."))
    return None


def no_answer(ctx: Ctx) -> dict:
    """Silence counts as refusal (人民调解法 第十七条): ended, and the applicant is told the other routes."""
    med = _mediation(ctx)
    lang = _lang(ctx.case)
    ctx.event.public_text = NO_ANSWER[lang] + ("" if lang == "zh" else " ") + OTHER_ROUTES[lang]
    return {**_end(ctx, med, Outcome.refused), "silence": True, "answer_due": med.answer_due_at.isoformat()}


def party_end(ctx: Ctx) -> dict:
    """A party ends mediation (人民调解法 第二十三条 (二): 要求终止调解)."""
    med = _mediation(ctx)
    who = "respondent" if ctx.actor.kind.value == "respondent" else "applicant"
    reason = ctx.values.get("public_text")
    ctx.event.public_text = ((reason + "\n") if reason else "") + OTHER_ROUTES[_lang(ctx.case)]
    if med.recusal_requested_at is not None:
        med.recusal_requested_at = med.recusal_requested_by = med.recusal_request = None
        med.recusal_paused_clock = False
    return {**_end(ctx, med, Outcome.ended_by_party), "by": who}


# -- the respondent's side in writing (书面意见) ------------------------------------------------

# Attachment.role of a file the respondent sent with a statement: not the applicant's own evidence
STATEMENT_FILE = "respondent"


def respondent_statement(ctx: Ctx) -> dict:
    """The respondent puts its side in writing, once it agreed to mediation and while it goes on:
    its account of the dispute and what it proposes, with files stored like the applicant's
    evidence. Each statement is its own dated event (none replaces another). Staff read it (the
    event's internal text, the desk's mediation section); the applicant does not see it: the
    mediator hears each party and decides what to put to the other in a session (人民调解法 第二十二条;
    a party states its own will, 第二十三条 (四))."""
    ctx.event.internal_text = ctx.values["statement"]
    names = store_files(ctx, from_staff=False)
    for att in ctx.event.files:
        att.role = STATEMENT_FILE
    return {"statement": len(ctx.values["statement"]), **({"files": len(names)} if names else {})}


# -- recusal asked for by a party (办法 第二十一条; 人民调解法 第二十三条 (一)) -----------------

def no_recusal_pending(case, now) -> Message | None:
    med = case.mediation
    if med is not None and med.recusal_requested_at is not None:
        return Message(N_("A request for a mediator's recusal is waiting for the coordinator's decision; mediation is suspended until then."))
    return None


def agreement_ready(case, now) -> Message | None:
    """An agreement follows a session that was held (a product rule: 人民调解法 sets no such
    step, but an agreement recorded before any session met, or while the only one is still to
    come, is out of order); and not while a recusal request waits."""
    if (why := no_recusal_pending(case, now)) is not None:
        return why
    med = case.mediation
    if med is None or not any(s.held for s in med.sessions):
        return Message(N_("Log a held session before recording the agreement."))
    return None


def oral_agreement_ready(case, now) -> Message | None:
    """An oral agreement (人民调解法 第二十八条) is for a 人民调解委员会, whose law provides for it; any
    other mediation body records a written agreement. Otherwise as a written one."""
    if case.unit is None or not case.unit.people_mediation_committee:
        return Message(N_("Only a people's mediation committee can record an oral agreement (人民调解法 第二十八条); "
                          "record a written agreement."))
    return agreement_ready(case, now)


def session_to_log(case, now) -> Message | None:
    """A session is logged as held from those scheduled and not yet held whose time has come
    (``session_problem``, the field's own check): with none, the move is not offered (its form
    had no session to choose, and its refusal marked no field; one offered right after a session
    was set for a later day was then refused). A session moved or cancelled is not one to log."""
    med = case.mediation
    waiting = _waiting(med)
    if not waiting:
        return Message(N_("Schedule a session first: only a scheduled session can be logged as held."))
    if all(as_utc(s.scheduled_at) > now for s in waiting):
        return _not_yet(min(as_utc(s.scheduled_at) for s in waiting))
    return None


def _waiting(med) -> list[MediationSession]:
    """The sessions still standing (neither moved nor cancelled) and not yet held."""
    return [s for s in med.sessions if s.stands and not s.held] if med is not None else []


def _not_yet(when: datetime) -> Message:
    return Message(N_("This session is set for %(when)s: it can be recorded as held once it has taken place."),
                   {"when": when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")})


def recusal_pending(case, now) -> Message | None:
    med = case.mediation
    if med is None or med.recusal_requested_at is None:
        return Message(N_("No party has asked for a mediator's recusal."))
    return None


def request_recusal(ctx: Ctx) -> dict:
    """Mediation is suspended (the clock stands still) until the coordinator decides."""
    med = _mediation(ctx)
    who = "respondent" if ctx.actor.kind.value == "respondent" else "applicant"
    med.recusal_requested_at, med.recusal_requested_by = ctx.now, who
    med.recusal_request = ctx.values["public_text"]
    med.recusal_paused_clock = ctx.case.paused_at is None and ctx.case.due_at is not None
    if med.recusal_paused_clock:
        pause(ctx)
    return {"recusal_requested_by": who, "paused": med.recusal_paused_clock}


def decide_recusal(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    decision = ctx.values["decision"]
    data: dict = {"decision": decision.value, "requested_by": med.recusal_requested_by}
    if decision is RecusalDecision.granted:
        if not str(ctx.values.get("user_id") or "").strip():
            raise invalid("user_id", N_("Choose the mediator who steps aside."))
        ctx.values["internal_text"] = ctx.values.get("internal_text") or med.recusal_request or ""
        data.update(recuse(ctx))
    if med.recusal_paused_clock:
        data.update(unpause(ctx))
    med.recusal_requested_at = med.recusal_requested_by = med.recusal_request = None
    med.recusal_paused_clock = False
    return data


# -- appraisal or testing (鉴定、检测): not counted in the 60 days (办法 第二十二条) -------

def suspend(ctx: Ctx) -> dict:
    pause(ctx)
    return {"appraisal": True}


def appraisal_paused(case, now) -> Message | None:
    if case.paused_at is None:
        return Message(N_("The clock of this case is not paused."))
    if case.mediation is not None and case.mediation.recusal_paused_clock:
        return Message(N_("Mediation is suspended for a recusal request; it restarts with the coordinator's decision."))
    return None


def resume(ctx: Ctx) -> dict:
    return unpause(ctx)


def refuse(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.refused)


def _end(ctx: Ctx, med, outcome: Outcome) -> dict:
    """The outcome; the table sets the state, the clock and the notices."""
    med.outcome, med.ended_at = outcome, ctx.now
    return {"outcome": outcome.value}


def _day(ctx: Ctx, name: str) -> date:
    raw = str(ctx.values.get(name) or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, N_("Give the date as YYYY-MM-DD.")) from None


def agreement(ctx: Ctx) -> dict:
    """The 调解协议书's content (人民调解法 第二十九条): the parties' particulars, the main facts,
    the dispute items and each party's responsibility, the agreed content, and how and by
    when it is performed. It takes effect only when signed (record_signing)."""
    med = _mediation(ctx)
    v = ctx.values  # the parties' numbers and the deadline were checked with the fields (Field.check)
    due = date.fromisoformat(v["performance_due"])
    particulars = {k: v.get(k) or "" for k in PARTICULARS}
    med.particulars_enc = ctx.services.cipher.encrypt(
        json.dumps(particulars, ensure_ascii=False).encode(), PARTICULARS_PURPOSE)
    med.facts, med.issues, med.liability, med.terms = v["facts"], v["issues"], v["liability"], v["terms"]
    med.performance_method, med.performance_due = v["performance_method"], due
    ctx.event.public_text = f"{med.terms}\n{med.performance_method}（{due.isoformat()}）"
    return {**_end(ctx, med, Outcome.agreement), "performance_due": due.isoformat()}


def performance_due_problem(raw, case, now) -> Message | None:
    """The performance deadline: a date, not in the past (the field's own check)."""
    try:
        due = date.fromisoformat(str(raw).strip())
    except ValueError:
        return Message(N_("Give the date as YYYY-MM-DD."))
    if due < china_date(now):
        return Message(N_("The performance deadline cannot be in the past."))
    return None


_OTHER_ID = re.compile(r"^[0-9A-Za-z()（）-]{5,20}$")


def party_id_problem(raw, case=None, now=None) -> Message | None:
    """A party's number in the 调解协议书 (人民调解法 第二十九条: the parties' particulars): an
    18-character one must check out as a resident ID (居民身份证号码, GB 11643) or a unified social
    credit code (GB 32100); another (a passport, a Hong Kong or Macao permit) is letters and
    digits with at least four digits."""
    value = "".join(raw.split())
    if len(value) == 18:
        if ric.is_valid(value) or uscc.is_valid(value):
            return None
        return Message(N_("This 18-character number is neither a valid resident ID number nor a valid unified social credit code: check its last character."))
    if _OTHER_ID.match(value) and sum(c.isdigit() for c in value) >= 4:
        return None
    return Message(N_("Give the party's resident ID number, unified social credit code, or the number of another identity document."))


def particulars(services, med) -> dict[str, str]:
    """The parties' particulars of the agreement, decrypted ({} when none were recorded)."""
    if not med.particulars_enc:
        return {}
    return json.loads(services.cipher.decrypt(med.particulars_enc, PARTICULARS_PURPOSE).decode())


# -- signing: the agreement takes effect (人民调解法 第二十九条), 司法确认 within 30 days of it --

def not_signed(case, now) -> Message | None:
    med = case.mediation
    if med is None or med.outcome is not Outcome.agreement or med.oral_agreement:
        return Message(N_("There is no agreement to sign."))
    if med.signed_on is not None:
        return Message(N_("The signing of this agreement has already been recorded."))
    return None


def signed_on_problem(raw, case, now) -> Message | None:
    """The signing date: a date from the day the agreement was recorded to today (the field's
    own check, said with the other fields' errors)."""
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        return Message(N_("Give the date as YYYY-MM-DD."))
    med = case.mediation
    if day > china_date(now) or (med is not None and med.ended_at is not None and day < china_date(med.ended_at)):
        return Message(N_("The signing date lies between the day the agreement was recorded and today."))
    return None


def signing(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    day = _day(ctx, "signed_on")  # the fields checked the date (signed_on_problem) and the confirmation
    return _takes_effect(ctx, med, day)


def _takes_effect(ctx: Ctx, med, day: date) -> dict:
    """The agreement took effect on ``day``: the 30 days for 司法确认 run from it (人民调解法
    第三十三条), and the follow-up on performance (回访) is due some working days after the
    performance deadline."""
    med.signed_on = day
    ctx.start_stage(Stage.judicial_confirmation, start_of_day(day))
    if med.performance_due is not None:
        med.followup_due = china_date(ctx.deadlines.due(ctx.case.type, Stage.performance_followup,
                                                        end_of_day(med.performance_due)))
        med.followup_reminded = False
    return {"signed_on": day.isoformat(), "judicial_confirmation_by": china_date(ctx.case.due_at).isoformat(),
            "followup_due": med.followup_due.isoformat() if med.followup_due else None}


def oral_agreement(ctx: Ctx) -> dict:
    """人民调解法 第二十八条: 当事人认为无需制作调解协议书的，可以采取口头协议方式，人民调解员应当记录协议内容;
    第三十条: 口头调解协议自各方当事人达成协议之日起生效. The mediator records what was agreed and how
    it is performed (and by when, if a day was agreed); no 调解协议书 is made and nothing waits for
    signatures: the agreement takes effect today, and the 30 days for 司法确认 run from today."""
    med = _mediation(ctx)
    v = ctx.values  # the confirmation and the date were checked as fields
    due = date.fromisoformat(v["performance_due"]) if v.get("performance_due") else None
    med.oral_agreement = True
    med.terms, med.performance_method, med.performance_due = v["terms"], v["performance_method"], due
    ctx.event.public_text = f"{med.terms}\n{med.performance_method}" + (f"（{due.isoformat()}）" if due else "")
    return {**_end(ctx, med, Outcome.agreement), "oral": True, **_takes_effect(ctx, med, china_date(ctx.now))}


def signed(case, now) -> Message | None:
    med = case.mediation
    if med is None or med.signed_on is None:
        return Message(N_("Record the signing of the agreement first."))
    return None


def followup(ctx: Ctx) -> dict:
    """The outcome of the follow-up on performance (人民调解法 第三十一条: the body supervises
    performance and urges the parties to perform)."""
    med = _mediation(ctx)
    result: Performance = ctx.values["performance"]
    med.performance, med.followed_up_at = result, ctx.now
    return {"performance": result.value}


def no_agreement(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.no_agreement)


def timed_out(case, now) -> Message | None:
    if case.due_at is None or now <= case.due_at:
        return Message(N_("The mediation time limit has not passed."))
    return None


def timeout(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.timed_out)


def _parse_when(raw: str) -> datetime | None:
    for fmt in CHINA_FORMATS:
        try:
            return datetime.strptime((raw or "").strip(), fmt).replace(tzinfo=CHINA)
        except ValueError:
            continue
    return None


# a session recorded after the fact (it was held before anyone entered it): its time may lie up to
# this long before now; an earlier time is a typo. Only a session still to come is announced to the
# parties (casework.workflow.notices): one entered at or after its time sends no invitation, and the
# desk asks to log how it went.
AFTER_THE_FACT = timedelta(hours=24)


def earliest_session_time(now: datetime) -> datetime:
    """The earliest time a session may be entered with now (Beijing time): AFTER_THE_FACT back,
    rounded up to the minute the form takes, so the time the message gives is one accepted."""
    earliest = (now - AFTER_THE_FACT).astimezone(CHINA)
    if earliest.second or earliest.microsecond:
        earliest = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return earliest


def scheduled_at_problem(raw, case, now) -> Message | None:
    """A session's date and time (the field's own check): one still to come, or one held up to
    AFTER_THE_FACT ago and recorded after the fact (the parties are then sent no invitation);
    one before that is a typo, and the message gives the earliest time taken."""
    when = _parse_when(raw)
    if when is None:
        return Message(N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    earliest = earliest_session_time(now)
    if when < earliest:
        return Message(N_("A session held earlier can be recorded up to %(hours)d hours after its time: give a time "
                          "from %(earliest)s (Beijing time) on."),
                       {"hours": int(AFTER_THE_FACT.total_seconds() // 3600),
                        "earliest": earliest.strftime("%Y-%m-%d %H:%M")})
    return None


def schedule(ctx: Ctx) -> dict:
    """A session at a time still to come is announced to both parties (the table's notice); one
    whose time has come (recorded after the fact) is not: ``invited`` says which, for the notice,
    for a later move or cancellation of the session, and for the desk, which asks to log it."""
    when = _parse_when(ctx.values.get("scheduled_at"))
    if when is None:  # a step is run through the machine, which checked the field
        raise invalid("scheduled_at", N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    place, online = ctx.values["place"], ctx.values["online"]
    invited = when > ctx.now
    ctx.session.add(MediationSession(case_id=ctx.case.id, scheduled_at=when, place=place, online=online,
                                     invited=invited))
    return {"action": "scheduled", "scheduled_at": when.isoformat(), "place": place, "online": online,
            "invited": invited}


def _session_of(raw, case) -> MediationSession | None:
    session = object_session(case).get(MediationSession, int(raw)) if str(raw or "").isdigit() else None
    return session if session is not None and session.case_id == case.id else None


def session_problem(raw, case, now) -> Message | None:
    """One of this case's sessions, still standing, whose time has come (the field's own check)."""
    session = _session_of(raw, case)
    if session is None:
        return Message(N_("Choose one of this case's sessions."))
    if not session.stands:
        return _changed(session)
    if as_utc(session.scheduled_at) > now:
        return _not_yet(as_utc(session.scheduled_at))
    return None


def log_session(ctx: Ctx) -> dict:
    session = _session_of(ctx.values.get("session_id"), ctx.case)
    if session is None or not session.stands:  # a step is run through the machine, which checked the field
        raise invalid("session_id", N_("Choose one of this case's sessions."))
    session.attendees, session.summary = ctx.values["attendees"], ctx.values["summary"]
    session.internal_notes = ctx.values.get("internal_text")
    session.held = True
    return {"action": "held", "session_id": session.id}


# -- a session moved or called off --------------------------------------------------------------
# 人民调解法 says nothing of telling the parties a session's time and place, nor of changing them
# (第四章, 第十七至二十七条; 第二十七条 asks the mediator to record the mediation, which the
# event does); 人民调解工作若干规定 (2002) 第二十八条 says only where a mediation is held. Telling
# both parties at once, with the reason, is the platform's rule, as it is for scheduling.

def _changed(session: MediationSession) -> Message:
    if session.status is SessionStatus.moved:
        return Message(N_("This session was moved: choose the session that replaced it."))
    return Message(N_("This session was cancelled."))


def session_to_change(case, now) -> Message | None:
    """A session can be moved or cancelled while it stands and has not been logged as held
    (one whose time passed with nothing recorded too: it may not have taken place)."""
    if not _waiting(case.mediation):
        return Message(N_("There is no scheduled session to move or cancel."))
    return None


def changeable_problem(raw, case, now) -> Message | None:
    """One of this case's sessions, still standing and not held (the field's own check)."""
    session = _session_of(raw, case)
    if session is None:
        return Message(N_("Choose one of this case's sessions."))
    if session.held:
        return Message(N_("This session was held: it can no longer be moved or cancelled."))
    if not session.stands:
        return _changed(session)
    return None


def new_time_problem(raw, case, now) -> Message | None:
    """The new date and time of a moved session: still to come (the field's own check)."""
    when = _parse_when(raw)
    if when is None:
        return Message(N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    if when <= now:
        return Message(N_("A session can only be moved to a time still to come."))
    return None


def _changing(ctx: Ctx) -> MediationSession:
    session = _session_of(ctx.values.get("session_id"), ctx.case)
    if session is None or session.held or not session.stands:  # the machine checked the field
        raise invalid("session_id", N_("Choose one of this case's sessions."))
    return session


def move_session(ctx: Ctx) -> dict:
    """The session is replaced by one at the new time (and place: an empty place keeps the old
    one, and whether it is online): the old one reads "moved", with the reason, and is no longer
    one to log. Both parties are told the new date, time and place (the table's notice); of a
    session they were never invited to (recorded after its time), they get the invitation to the
    new one, not a change to a time they never heard of (``was_invited``)."""
    old = _changing(ctx)
    when = _parse_when(ctx.values.get("scheduled_at"))
    if when is None:  # the machine checked the field
        raise invalid("scheduled_at", N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    typed = (ctx.values.get("place") or "").strip()
    place, online = (typed, bool(ctx.values.get("online"))) if typed else (old.place, old.online)
    if when == as_utc(old.scheduled_at) and place == old.place and online == old.online:
        raise invalid("scheduled_at", N_("That is the session's time and place already: give a new time or place."))
    new = MediationSession(case_id=ctx.case.id, scheduled_at=when, place=place, online=online)  # still to come
    ctx.session.add(new)
    old.status, old.status_reason, old.status_changed_at = SessionStatus.moved, ctx.values["public_text"], ctx.now
    old.moved_to = new
    return {"action": "moved", "session_id": old.id, "was": as_utc(old.scheduled_at).isoformat(),
            "was_place": old.place, "scheduled_at": when.isoformat(), "place": place, "online": online,
            "was_invited": old.invited}


def cancel_session(ctx: Ctx) -> dict:
    """The session is called off, with the reason; both parties are told (the table's notice),
    unless they were never invited to it (recorded after its time: ``was_invited``)."""
    session = _changing(ctx)
    session.status, session.status_reason = SessionStatus.cancelled, ctx.values["public_text"]
    session.status_changed_at = ctx.now
    return {"action": "cancelled", "session_id": session.id, "scheduled_at": as_utc(session.scheduled_at).isoformat(),
            "place": session.place, "online": session.online, "was_invited": session.invited}


def _mediator_of(raw, case) -> User | None:
    user = object_session(case).get(User, int(raw)) if str(raw or "").isdigit() else None
    return user if user is not None and any(mm.unit_id == case.unit_id for mm in user.memberships) else None


def mediator_problem(raw, case, now=None) -> Message | None:
    """A member of the body that holds the case (the field's own check)."""
    return None if _mediator_of(raw, case) is not None else Message(N_("Choose a mediator of this body."))


def recuse(ctx: Ctx) -> dict:
    user = _mediator_of(ctx.values.get("user_id"), ctx.case)
    if user is None:  # a step is run through the machine, which checked the field
        raise invalid("user_id", N_("Choose a mediator of this body."))
    reason = ctx.values["internal_text"]
    if ctx.session.scalar(select(MediatorRecusal.id).where(MediatorRecusal.case_id == ctx.case.id,
                                                           MediatorRecusal.user_id == user.id)) is None:
        ctx.session.add(MediatorRecusal(case_id=ctx.case.id, user_id=user.id, reason=reason))
    if ctx.case.handler_id == user.id:
        ctx.case.handler_id = None
    return {"recused_user_id": user.id}
