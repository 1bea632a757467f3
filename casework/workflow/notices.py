"""The notices a move sends (the ``notices`` column of the workflow table), written into the
outbox in the move's transaction. A notice says only that there is news and where to look;
no case content travels by SMS or e-mail.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from casework.cases.models import Case, Event
from casework.cases.numbers import CHINA
from casework.notify.models import OutboxChannel
from casework.notify.queue import queue_case_update, queue_message
from casework.notify.templates import ROUND
from casework.workflow.states import review_round
from casework.workflow.spec import Ctx, Notice

SUPERVISION_TEMPLATE = "supervision_notice"
SUPERVISION_REPORT_TEMPLATE = "supervision_report"
REVIEW_DECIDED_TEMPLATE = "review_decided_unit"
SUPERVISION_MOVED_TEMPLATE = "supervision_moved"
URGED_TEMPLATE = "case_urged"
SESSION_TEMPLATE = "mediation_session"
# a session scheduled, moved or cancelled (the event's action): each its own text to both parties
SESSION_TEMPLATES = {"scheduled": SESSION_TEMPLATE, "moved": "mediation_session_moved",
                     "cancelled": "mediation_session_cancelled"}
REVEAL_REQUESTED_TEMPLATE = "reveal_requested"
REVEAL_DECIDED_TEMPLATE = "reveal_decided"
EXTENSION_ASKED_TEMPLATE = "extension_asked"
RESPONDENT_STATEMENT_TEMPLATE = "respondent_statement"
UNIT_LOCALE = "zh_CN"  # a unit's mailbox is written to in Chinese


def _mobile(phone: str | None) -> str | None:
    return phone if phone and len(phone) == 11 and phone.startswith("1") else None


def respondent_mobile(ctx: Ctx) -> str | None:
    """The mediation respondent's mobile number, if one was given."""
    return _mobile(ctx.services.cipher.decrypt_text(ctx.case.respondent_phone_enc, "case.respondent.phone"))


def _complainant(ctx: Ctx, event: Event) -> None:
    template = "case_document" if (event.data or {}).get("document") else "case_update"
    queue_case_update(ctx.session, ctx.services, ctx.case, event, template)


def _body(ctx: Ctx, locale: str) -> str:
    """The name of the mediation body that holds the case, in the recipient's language."""
    unit = ctx.case.unit
    if unit is None:
        return ""
    return (unit.name_en or unit.name) if (locale or "").startswith("en") else unit.name


def _respondent_invite(ctx: Ctx, event: Event) -> None:
    """The answer code, and what a provider's template may name besides (CHANGTONG_SMS_TEMPLATES):
    the mediation body and the day by which to answer (silence after it counts as refusal)."""
    phone = respondent_mobile(ctx)
    code = getattr(event, "respondent_code", None)
    if phone and code:
        locale = _language_of(ctx, "respondent")
        due = ctx.case.mediation.answer_due_at if ctx.case.mediation is not None else None
        queue_message(ctx.session, ctx.services, dedupe_key=f"case:{ctx.case.id}:respondent_invite:sms",
                      case=ctx.case, channel=OutboxChannel.sms, template="respondent_invite",
                      locale=locale, recipient=phone,
                      payload={"case_number": ctx.case.number, "respondent_code": code, "body": _body(ctx, locale),
                               "answer_by": due.astimezone(CHINA).strftime("%Y-%m-%d") if due is not None else ""})


def _language_of(ctx: Ctx, who: str) -> str:
    """The applicant is told in the case's language (the one they filed in); the respondent, who
    never chose one, in the platform's (Chinese by default): an English filing sent a company
    in China its invitation in English."""
    return ctx.case.locale if who == "applicant" else ctx.services.settings.default_locale


def _parties(ctx: Ctx) -> list[tuple[str, str]]:
    """The mediation's parties a text can reach: (who, mobile number), the applicant's only if it
    was proved (an unproved number gets nothing), the respondent's if one was given."""
    case: Case = ctx.case
    applicant = None if case.anonymous or case.phone_verified_via == "unverified" else ctx.services.cipher.decrypt_text(
        case.complainant_phone_enc, "case.complainant.phone")
    return [(who, phone) for who, phone in (("applicant", _mobile(applicant)), ("respondent", respondent_mobile(ctx)))
            if phone]


def _both_parties(template: str) -> Callable[[Ctx, Event], None]:
    def send(ctx: Ctx, event: Event) -> None:
        case: Case = ctx.case
        for who, phone in _parties(ctx):
            queue_message(ctx.session, ctx.services, dedupe_key=f"case:{case.id}:{template}:{who}",
                          case=case, channel=OutboxChannel.sms, template=template, locale=_language_of(ctx, who),
                          recipient=phone, payload={"case_number": case.number})
    return send


def _china_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _mediation_session(ctx: Ctx, event: Event) -> None:
    """A session was scheduled, moved or cancelled (the event's ``action``): each party is told
    the case, the date and time (Beijing time, as the mediator set it) and the place or meeting
    link; a moved session's text gives the time it was moved from too, a cancelled one's the
    time of the session called off. One text per party and event, held to the daily cap like
    every text to a member of the public. The reason is on the status page, not in the text.
    Only a session still to come is announced: one entered at or after its time (recorded after
    the fact, ``invited`` false) sends nothing, and so does the cancellation of such a session; one
    moved from it to a new time sends the invitation to the new time (the parties never heard of
    the old one). Events from before ``invited`` was kept were all announced."""
    case: Case = ctx.case
    data = event.data
    action = data.get("action", "scheduled")
    if not data.get("invited", True) or (action == "cancelled" and not data.get("was_invited", True)):
        return
    if action == "moved" and not data.get("was_invited", True):
        action = "scheduled"
    template = SESSION_TEMPLATES[action]
    payload = {"case_number": case.number, "session_time": _china_time(data["scheduled_at"]),
               "place": data["place"]}
    if action == "moved" and data.get("was"):
        payload["old_time"] = _china_time(data["was"])
    for who, phone in _parties(ctx):
        queue_message(ctx.session, ctx.services, dedupe_key=f"case:{case.id}:event:{event.id}:{template}:{who}",
                      case=case, channel=OutboxChannel.sms, template=template, locale=_language_of(ctx, who),
                      recipient=phone, payload=payload)


def _unit_supervision(ctx: Ctx, event: Event) -> None:
    _mail_units(ctx, [ctx.case.unit_id], template=SUPERVISION_TEMPLATE,
                key=f"supervise:{ctx.case.id}:{ctx.now.isoformat()}",
                payload={"case_number": ctx.case.number, "respond_by": event.data["respond_by"]})


def _mail_units(ctx: Ctx, unit_ids, *, template: str, key: str, payload: dict) -> None:
    """One e-mail to the notice mailbox of each of these units that has one (``key`` + the unit
    makes its dedupe key). Every notice to a unit goes this way: a unit's mailbox is not held to
    the daily cap that protects a member of the public from a flood of messages."""
    from casework.registry.models import Unit

    for unit_id in sorted({u for u in unit_ids if u is not None}):
        unit = ctx.session.get(Unit, unit_id)
        if unit is not None and unit.notice_email:
            queue_message(ctx.session, ctx.services, dedupe_key=f"{key}:{unit_id}", case=ctx.case,
                          channel=OutboxChannel.email, template=template, locale=UNIT_LOCALE,
                          recipient=unit.notice_email, payload=payload, unit_mailbox=True)


def _supervisor_report(ctx: Ctx, event: Event) -> None:
    """The unit reported on a 督办单: the mailbox of each unit whose supervisor issued it is told
    which case (the report itself is read on the desk)."""
    _mail_units(ctx, event.data.get("supervisor_unit_ids") or (), template=SUPERVISION_REPORT_TEMPLATE,
                key=f"supervision-report:{ctx.case.id}:{event.data['supervision']}",
                payload={"case_number": ctx.case.number, "respond_by": event.data["respond_by"]})


def _supervision_follows(ctx: Ctx, event: Event) -> None:
    """A case transferred (or sent back) while a 督办单 waits for its report: the notice follows the
    case, since the unit that has the matter now is the one that can act and report. That unit's
    mailbox gets the 督办单, and the supervisors' mailboxes are told where it went (the unit they
    wrote to no longer has it)."""
    from casework.workflow.supervision import open_notice

    notice = open_notice(ctx.case)
    if notice is None:
        return
    payload = {"case_number": ctx.case.number, "respond_by": notice.data["respond_by"]}
    _mail_units(ctx, [ctx.case.unit_id], template=SUPERVISION_TEMPLATE,
                key=f"supervise-follows:{ctx.case.id}:{event.id}", payload=payload)
    _mail_units(ctx, notice.data.get("supervisor_unit_ids") or (), template=SUPERVISION_MOVED_TEMPLATE,
                key=f"supervision-moved:{ctx.case.id}:{event.id}", payload=payload)


def _deciding_units(ctx: Ctx, event: Event) -> None:
    """A review decided: the units that replied or decided before it are told which case and
    which round decided it, 复查 or 复核 (信访工作条例 第三十五、三十六条; by the state the case was
    in before the move, as the desk's flash names it); they read the decision on the desk
    (casework.accounts.permissions.decided_it), and a review that supports the request is carried
    out by them, as a rule (第三十二条第二款)."""
    from casework.workflow.handling import deciding_units

    _mail_units(ctx, deciding_units(ctx.case) - {ctx.case.unit_id}, template=REVIEW_DECIDED_TEMPLATE,
                key=f"review-decided:{ctx.case.id}:{event.id}",
                payload={"case_number": ctx.case.number, ROUND: review_round(event.from_state, UNIT_LOCALE)})


def _unit_urged(ctx: Ctx, event: Event) -> None:
    """The complainant urged (催办) an overdue case: the unit's mailbox is told which case (one
    notice per urge; the queue marks the case too)."""
    _mail_units(ctx, [ctx.case.unit_id], template=URGED_TEMPLATE, key=f"urged:{ctx.case.id}:{event.data.get('due', '')}",
                payload={"case_number": ctx.case.number})


def _unit_extension_asked(ctx: Ctx, event: Event) -> None:
    """A handler asked the unit's lead to extend the handling time (信访工作条例 第三十四条: 经本机关、
    单位负责人批准): the unit's mailbox is told which case, for the lead to decide on the desk."""
    _mail_units(ctx, [ctx.case.unit_id], template=EXTENSION_ASKED_TEMPLATE,
                key=f"extension-asked:{ctx.case.id}:{event.id}", payload={"case_number": ctx.case.number})


def _unit_respondent_statement(ctx: Ctx, event: Event) -> None:
    """A mediation's respondent put its side in writing: the mediation body's mailbox is told which
    case (one notice per statement; the statement is read on the desk, never in the mail)."""
    _mail_units(ctx, [ctx.case.unit_id], template=RESPONDENT_STATEMENT_TEMPLATE,
                key=f"respondent-statement:{ctx.case.id}:{event.id}", payload={"case_number": ctx.case.number})


def reveal_requested(ctx: Ctx) -> None:
    """A handler asked to see a report's identity (casework.workflow.reveal.request): the mailbox
    of the unit holding the report is told which case, for its identity custodian to decide on
    the desk. Never the reason, nor who asked: both stay on the desk, behind the sign-in."""
    _mail_units(ctx, [ctx.case.unit_id], template=REVEAL_REQUESTED_TEMPLATE,
                key=f"reveal-requested:{ctx.case.id}:{ctx.actor.user_id}:{ctx.now.isoformat()}",
                payload={"case_number": ctx.case.number})


def reveal_decided(ctx: Ctx, request) -> None:
    """The custodian decided a request (casework.workflow.reveal.decide): the same mailbox is
    told which case, so that the handler who asked looks at the desk while an approval's
    24 hours run. Not the decision nor the custodian's note: the desk shows them to the asker."""
    _mail_units(ctx, [ctx.case.unit_id], template=REVEAL_DECIDED_TEMPLATE,
                key=f"reveal-decided:{request.id}", payload={"case_number": ctx.case.number})


SENDERS: dict[Notice, Callable[[Ctx, Event], None]] = {
    Notice.complainant: _complainant,
    Notice.respondent_invite: _respondent_invite,
    Notice.mediation_ended: _both_parties("mediation_ended"),
    Notice.mediation_session: _mediation_session,
    Notice.judicial_confirmation: _both_parties("judicial_confirmation"),
    Notice.unit_supervision: _unit_supervision,
    Notice.unit_urged: _unit_urged,
    Notice.unit_extension_asked: _unit_extension_asked,
    Notice.unit_respondent_statement: _unit_respondent_statement,
    Notice.supervisor_report: _supervisor_report,
    Notice.supervision_follows: _supervision_follows,
    Notice.deciding_units: _deciding_units,
}


def send(ctx: Ctx, event: Event, notices: tuple[Notice, ...]) -> None:
    for notice in notices:
        SENDERS[notice](ctx, event)
