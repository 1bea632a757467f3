"""The other party of a mediation (the respondent), and the mediation parts of the
applicant's status page.

The respondent opens its page with the case number and its own code (given once to the
mediation body's coordinator, and sent to its phone), exactly as the applicant opens the
status page: a wrong code and an unknown number answer the same 404, and failed tries
count against a limit per case number. On its page it agrees to or refuses
mediation, sees the schedule and, after an agreement, downloads the 调解协议书.

The applicant downloads the same document from the status page and, after a failed
mediation, turns the request into a complaint (the new number and query code are shown
once, at the receipt's address).
"""
from __future__ import annotations

import secrets

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from casework.accounts.actor import Actor
from casework.cases.models import Case, CaseType
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_by_number
from casework.intake.operations import keep_receipt
from casework.intake.validation import OWN_ANSWER_CODE, SCAN_MAX, mentions_code
from casework.mediation.operations import (
    RESPONDENT_PREFIX, agreement_bytes, agreement_filename, grievance_categories, respondent_lookup, turn_into_complaint,
)
from casework.privacy import masking
from casework.privacy.codes import check_code
from casework.workflow.machine import MOVES, WorkflowError, available_moves, perform
from casework.workflow.spec import RESPONDENT as RESPONDENT_PARTY
from web import kept_files, move_fields
from web.i18n import current_locale, tr, tr_errors
from web.presenters import local_time, public_mediation
from web.public.blueprint import bp
from web.public.documents import pdf_download
from web.public.intake import to_receipt
from web.public.opened import RESPONDENT, expired_form, forget, is_open, lookup_limited, open_case, resumable
from web.public import refused as refused_send
from web.public.track import REOPEN, authorised as _applicantauthorised, expired_text, to_status, unconfirmed
from web.requestdb import db_session, services

RESPONDENT_MOVES = move_fields.party_moves(RESPONDENT_PARTY)  # the table's moves for the respondent
resumable(RESPONDENT, RESPONDENT_MOVES)  # a form that expired comes back (web.public.opened)
DONE = {
    "respondent_consent": lambda: _("Thank you. You agreed to mediation; the mediation body will contact both parties."),
    "respondent_refuse": lambda: _("Your answer has been recorded: you do not agree to mediation."),
    "respondent_end_mediation": lambda: _("You ended the mediation. Either party may now turn to arbitration or a court."),
    "respondent_request_recusal": lambda: _("Your request for a mediator's recusal has been received. Mediation is suspended until the mediation body decides."),
    "respondent_statement": lambda: _("Your written statement has been sent to the mediation body. It is listed below."),
}
# the respondent's files kept from a refused send (web.kept_files), apart from the applicant's
# status page in the same browser
_FILE_MOVES = [MOVES[m] for m in RESPONDENT_MOVES if kept_files.has_files(MOVES[m])]


def _scope(number: str) -> str:
    return RESPONDENT_PREFIX + number


@bp.context_processor
def _mediation_helpers():
    return {"public_mediation": public_mediation,
            "complaint_categories": lambda: grievance_categories(db_session())}



def _responding(number: str) -> bool:
    return is_open(RESPONDENT, number)


def _mediation_case(number: str) -> Case:
    case = case_by_number(db_session(), number)
    if case is None or case.type is not CaseType.mediation or case.mediation is None:
        abort(404)
    return case


def agreement_response(case: Case) -> Response:
    """The 调解协议书 as a download (never cached); 404 when there is none."""
    med = case.mediation
    if med is None or not med.agreement_key:
        abort(404)
    return pdf_download(lambda: agreement_bytes(services(), med), agreement_filename(case))


# -- the respondent -------------------------------------------------------------------

@bp.get("/respond")
def respond_form():
    return render_template("public/respond.html", number=request.args.get("number", ""), error=None)


@bp.post("/respond")
@lookup_limited
def respond_submit():
    return open_case(RESPONDENT, respondent_lookup, "public/respond.html",
                     _("No mediation request matches this case number and answer code. Check both and try again."),
                     "public.respond_status", resume=_resumed)


def _resumed(case: Case, kept: dict):
    """The request opened again with a form's text carried (web.public.opened): that form filled in."""
    g.language_next = url_for("public.respond_status", number=case.number)
    if case.type is not CaseType.mediation or case.mediation is None:  # respondent_lookup finds only these
        abort(404)
    return _render_respondent(case, values=kept["values"], failed_move=kept["move"],
                              move_error=expired_text(kept["move"]), kept_text=True)


def csrf_failed_respond(number: str, move: str):
    """The respondent's page again with the form that had expired filled in (400), or the lookup
    form with the text carried when this device's opening of the request ran out with the session."""
    def page(number, values):
        case = case_by_number(db_session(), number)
        if case is None or case.type is not CaseType.mediation or case.mediation is None:
            return None
        return _render_respondent(case, status=400, values=values, failed_move=move, move_error=expired_text(move),
                                  kept_text=True)
    return expired_form(RESPONDENT, number, move, "public/respond.html", _(REOPEN), page)


def _render_respondent(case: Case, *, status: int = 200, values=None, errors=None, failed_move=None,
                       move_error=None, kept_text=False):
    # an organisation that applies is named in full (not personal data); a person masked
    applicant = case.organisation_name or masking.masked_party(
        services().cipher, case, "complainant", unreadable="").get("name", "")
    moves = {m.name for m in available_moves(Actor.respondent(case.id), case, services().clock())}
    return render_template(
        "public/respond_status.html", case=case, m=public_mediation(case, "respondent"), applicant=applicant,
        category=case.category.display_name(current_locale()), moves=moves, values=values or {},
        errors=errors or {}, failed_move=failed_move, move_error=move_error, kept_text=kept_text,
        statements=_statements(case), kept=kept_files.kept(_scope(case.number), _FILE_MOVES),
    ), status


def _statements(case: Case) -> list[dict]:
    """The respondent's own written statements, oldest first, each with the names of its files."""
    return [{"id": ev.id, "at": local_time(ev.created_at), "text": ev.internal_text or "",
             "files": [{"filename": a.filename, "size": a.size} for a in ev.files if a.erased_at is None]}
            for ev in case.mediation.statements]


@bp.get("/respond/<number>")
def respond_status(number: str):
    number = normalize_number(number)
    if not _responding(number):
        return redirect(url_for("public.respond_form", number=number))
    # a move just refused (Post/Redirect/Get, web.public.refused): its form filled in with its errors, once
    return _render_respondent(_mediation_case(number), **(refused_send.take(_scope(number)) or {}))


def own_code_in(text: str, case: Case, limit: int = SCAN_MAX) -> bool:
    stored = case.mediation.respondent_code_hash if case.mediation else None
    pepper = services().settings.query_pepper
    return mentions_code(text, lambda c: check_code(pepper, RESPONDENT_PREFIX + case.number, c, stored), limit=limit)


@bp.post("/respond/<number>/moves/<move>")
def respond_move(number: str, move: str):
    number = normalize_number(number)
    if not _responding(number):
        return redirect(url_for("public.respond_form", number=number), code=303)
    if move not in RESPONDENT_MOVES:
        abort(404)
    db = db_session()
    case = _mediation_case(number)
    values = move_fields.from_form(MOVES[move], request.form, request.files)
    send = kept_files.Send(_scope(number), MOVES[move], values)  # files kept from a refused send go with it

    def refused(errors, message, status):
        return refused_send.to_page(_scope(number), move, values, errors, message, status,
                                    url_for("public.respond_status", number=number), send=send)

    for name in ("public_text", "statement"):  # the answer code pasted into a text the staff read
        if own_code_in(values.get(name, ""), case, move_fields.text_max(MOVES[move], name)):
            message = _(OWN_ANSWER_CODE)
            return refused({name: [message]}, message, 422)
    message = unconfirmed(move)
    if message is not None:
        return refused({"confirm": [message]}, message, 422)
    try:
        perform(db, services(), Actor.respondent(case.id), case, move,
                version=request.form.get("version"), **values)
    except WorkflowError as err:
        return refused(tr_errors(err.errors), tr(err.message), err.status)
    send.done()
    flash(DONE[move]())
    return redirect(url_for("public.respond_status", number=number), code=303)


@bp.get("/respond/<number>/agreement.pdf")
def respond_agreement(number: str):
    number = normalize_number(number)
    if not _responding(number):
        return redirect(url_for("public.respond_form", number=number))
    return agreement_response(_mediation_case(number))


@bp.post("/respond/<number>/leave")
def respond_leave(number: str):
    forget(RESPONDENT, number)
    return redirect(url_for("public.index"), code=303)


# -- the applicant ---------------------------------------------------------------------

@bp.get("/track/<number>/agreement.pdf")
def track_agreement(number: str):
    number = normalize_number(number)
    if not _applicantauthorised(number):
        return redirect(url_for("public.track_form", number=number))
    return agreement_response(_mediation_case(number))


@bp.post("/track/<number>/complaint")
def track_complaint(number: str):
    """Turn a failed mediation into a complaint; the new receipt is shown as a filing's is (its
    GET address, the code for this browser within the receipt's minutes)."""
    number = normalize_number(number)
    if not _applicantauthorised(number):
        return redirect(url_for("public.track_form", number=number), code=303)
    db = db_session()
    case = _mediation_case(number)
    category = request.form.get("category", "")
    try:
        receipt = turn_into_complaint(db, services(), case, category)
    except WorkflowError as err:
        return to_status(number, "turn_into_complaint", {"category": category}, tr_errors(err.errors),
                         tr(err.message), err.status)
    # shown as a filing's receipt is: 303 to its GET address, the code kept for this browser only
    key = secrets.token_urlsafe(32)
    keep_receipt(db, services(), key, receipt)
    return to_receipt(key, receipt.case_number)
