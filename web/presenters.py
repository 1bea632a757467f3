"""What the complainant is shown of a case, shared by the status page and the JSON API."""
from __future__ import annotations

from flask_babel import gettext as _

from casework.cases.models import Case, CaseState, EventKind
from casework.cases.queries import public_events
from casework.db import as_utc
from casework.cases.numbers import CHINA
from web.i18n import current_locale, title

NEXT_STEP = {
    CaseState.received: lambda: _("The platform is sending your case to the unit responsible for it, normally within one working day."),
    CaseState.pending_acceptance: lambda: _("The responsible unit will decide whether to accept your case and tell you (7 working days for a complaint, 15 for a report)."),
    CaseState.accepted: lambda: _("Your case is being handled. You will get a written reply, normally within 60 days of acceptance."),
    CaseState.need_info: lambda: _("The unit needs more material from you. The clock is paused until you answer."),
    CaseState.replied: lambda: _("A reply has been given. Please rate it within 15 days; if you are not satisfied you can ask for a review."),
    CaseState.under_review: lambda: _("Your request for review is being decided (within 30 days)."),
    CaseState.under_re_review: lambda: _("Your request for re-review is being decided (within 30 days); that decision is final."),
    CaseState.mediating: lambda: _("Mediation is under way (normally within 45 working days from both parties' consent)."),
    CaseState.mediated: lambda: _("Mediation reached an agreement. You may jointly apply to a court for judicial confirmation within 30 days."),
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
    return title(ev.kind)


def local_time(dt) -> str:
    return as_utc(dt).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def association_name(case: Case) -> str | None:
    if case.association is None:
        return None
    if current_locale().startswith("en") and case.association.name_en:
        return case.association.name_en
    return case.association.name


def public_deadline(case: Case) -> dict | None:
    """The date the current stage should end, as the complainant may know it."""
    if case.due_at is None or case.stage is None:
        return None
    return {
        "stage": case.stage.value,
        "stage_title": title(case.stage),
        "due_date": as_utc(case.due_at).astimezone(CHINA).strftime("%Y-%m-%d"),
        "paused": case.paused_at is not None,
    }


def public_case(case: Case) -> dict:
    locale = current_locale()
    return {
        "deadline": public_deadline(case),
        "version": case.version,
        "case_number": case.number,
        "type": case.type.value,
        "type_title": title(case.type),
        "state": case.state.value,
        "state_title": title(case.state),
        "next_step": NEXT_STEP[case.state](),
        "category": case.category.code,
        "category_title": case.category.display_name(locale),
        "association": case.association.credit_code if case.association else None,
        "association_name": association_name(case),
        "title": case.title,
        "submitted_at": local_time(case.submitted_at),
        "attachments": [{"filename": a.filename, "size": a.size} for a in case.attachments],
        "timeline": [
            {"at": local_time(ev.created_at), "title": event_title(ev), "text": ev.public_text or ""}
            for ev in public_events(case)
        ],
    }


def public_moves(case: Case) -> set[str]:
    """The moves the complainant of this case may make now."""
    from casework.accounts.actor import Actor
    from casework.workflow.machine import available_moves

    return {m.name for m in available_moves(Actor.complainant(case.id), case)}
