"""The complainant's status page, opened with the case number and the query code.

A failed lookup answers the same whether the number exists or not, and counts against a
limit per case number (no IP address is kept): guessing is slowed down for that number
without locking anyone else out.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from casework.accounts.actor import Actor
from casework.i18n import N_
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_by_number, case_for_lookup, public_events
from casework.intake.validation import OWN_QUERY_CODE, mentions_code
from casework.privacy.codes import check_code
from casework.workflow.machine import MOVES, WorkflowError, perform
from casework.workflow.spec import COMPLAINANT
from web import kept_files, move_fields
from web.i18n import tr, tr_errors
from web.public.blueprint import bp
from web.public.mine import signed_in
from web.public.opened import APPLICANT, expired_form, forget, is_open, lookup_limited, open_case, resumable
from web.public import refused as refused_send
from web.requestdb import db_session, services



@bp.get("/track")
def track_form():
    return render_template("public/track.html", number=request.args.get("number", ""), error=None)


@bp.post("/track")
@lookup_limited
def track_submit():
    return open_case(APPLICANT, case_for_lookup, "public/track.html",
                     _("No case matches this case number and query code. Check both and try again."), "public.status",
                     resume=_resumed)


# a move's form whose CSRF token failed (web.public.opened.expired_form): what was typed comes back
EXPIRED = N_("This form had expired. Everything you typed is still here; please send it once more.")
EXPIRED_FILES = N_("This form had expired. Everything you typed is still here; please attach any files again and send it once more.")
REOPEN = N_("This form had expired, and with it this device's access to the case. Open the case again with its "
            "code and send the form once more: what you typed is kept below and goes back into the form.")


def expired_text(move: str) -> str:
    return _(EXPIRED_FILES) if move in MOVES and kept_files.has_files(MOVES[move]) else _(EXPIRED)


def status_page(case, *, values=None, errors=None, failed_move=None, move_error=None, status=200, kept_text=False):
    """The status page, with a move's form sent back filled in when ``failed_move``."""
    return render_template("public/status.html", case=case, events=public_events(case), values=values or {},
                           errors=errors or {}, failed_move=failed_move, move_error=move_error, kept_text=kept_text,
                           kept=kept_files.kept(case.number, _FILE_MOVES),
                           # signed in to 我的诉求 (the case may have been opened from its list): the way back
                           my_cases=signed_in() is not None), status


def _resumed(case, kept):
    """The case just opened again with a form's text carried: the page with that form filled in."""
    g.language_next = url_for("public.status", number=case.number)
    return status_page(case, values=kept["values"], failed_move=kept["move"],
                       move_error=expired_text(kept["move"]), kept_text=True)


def csrf_failed_move(number: str, move: str):
    """The status page again, the form that had expired filled in (400); or the lookup form with
    the text carried when the case's opening on this device ran out with the session."""
    def page(number, values):
        case = case_by_number(db_session(), number)
        if case is None:
            return None
        return status_page(case, values=values, failed_move=move, move_error=expired_text(move), status=400,
                           kept_text=True)
    return expired_form(APPLICANT, number, move, "public/track.html", _(REOPEN), page)


def authorised(number: str) -> bool:
    """This browser opened the case with its number and query code in the last 30 minutes."""
    return is_open(APPLICANT, number)


@bp.get("/track/<number>")
def status(number: str):
    number = normalize_number(number)
    if not authorised(number):
        return redirect(url_for("public.track_form", number=number))
    case = case_by_number(db_session(), number)
    if case is None:
        return redirect(url_for("public.track_form"))
    # a move just refused (Post/Redirect/Get): its form filled in with its errors, once
    return status_page(case, **(refused_send.take(number) or {}))


def to_status(number: str, move: str, values: dict, errors: dict, message: str, status: int, send=None):
    """A refused send of the status page's ``move``: kept, 303 to the page (web.public.refused)."""
    return refused_send.to_page(number, move, values, errors, message, status,
                                url_for("public.status", number=number), send=send)


# what the complainant can do on the status page: the table's moves for the complainant (the
# state machine decides when); each says what was done in its own words
PUBLIC_MOVES = move_fields.party_moves(COMPLAINANT)
_FILE_MOVES = [MOVES[m] for m in PUBLIC_MOVES if kept_files.has_files(MOVES[m])]
resumable(APPLICANT, PUBLIC_MOVES, turn_into_complaint=["category"])  # web.public.respond.track_complaint
DONE = {
    "supply_info": lambda: _("Your material has been sent to the unit; the clock runs again."),
    "rate": lambda: _("Thank you for rating the reply."),
    "request_review": lambda: _("Your request for review has been received."),
    "withdraw": lambda: _("Your case has been withdrawn."),
    "end_mediation": lambda: _("You ended the mediation. You may apply for arbitration, go to court, or turn this request into a complaint."),
    "request_recusal": lambda: _("Your request for a mediator's recusal has been received. Mediation is suspended until the mediation body decides."),
    "withdraw_report": lambda: _("Your withdrawal has been recorded. The unit decides whether the handling of the report goes on."),
    "add_evidence": lambda: _("Your evidence has been added to the case. The unit handling it can see it."),
    "urge": lambda: _("The unit has been urged to handle your case."),
}


# a withdrawal or the end of a mediation is not undone: the form asks for a ticked box (required
# in the page, and checked here for a browser that does not check it), so one tap does not end a case
WITHDRAW = N_("Tick the box to confirm that you want to withdraw this case.")
END_MEDIATION = N_("Tick the box to confirm that you want to end the mediation.")
REFUSE_MEDIATION = N_("Tick the box to confirm that you do not agree to mediation.")
CONFIRMED = {"withdraw": WITHDRAW, "withdraw_report": WITHDRAW,
             "end_mediation": END_MEDIATION, "respondent_end_mediation": END_MEDIATION,
             "respondent_refuse": REFUSE_MEDIATION}


def unconfirmed(move: str) -> str | None:
    """Why the move is refused: a move that needs the ticked box came without it."""
    if move in CONFIRMED and not request.form.get("confirm"):
        return _(CONFIRMED[move])
    return None


def done(move: str, case) -> str:
    """What the page says after a move; the second request for review is the re-review (复核)."""
    if move == "request_review" and case.reviews_requested > 1:
        return _("Your request for re-review has been received.")
    return DONE[move]()


@bp.post("/track/<number>/moves/<move>")
def public_move(number: str, move: str):
    number = normalize_number(number)
    if not authorised(number):
        return redirect(url_for("public.track_form", number=number), code=303)
    if move not in PUBLIC_MOVES:
        abort(404)
    db = db_session()
    case = case_by_number(db, number)
    if case is None:
        abort(404)
    values = move_fields.from_form(MOVES[move], request.form, request.files)
    send = kept_files.Send(number, MOVES[move], values)  # files kept from a refused send go with it

    def refused(errors, message, status):
        return to_status(number, move, values, errors, message, status, send=send)

    pepper = services().settings.query_pepper
    if mentions_code(values.get("public_text", ""), lambda c: check_code(pepper, case.number, c, case.query_code_hash),
                     limit=move_fields.text_max(MOVES[move], "public_text")):
        message = _(OWN_QUERY_CODE)
        return refused({"public_text": [message]}, message, 422)
    message = unconfirmed(move)
    if message is not None:
        return refused({"confirm": [message]}, message, 422)
    try:
        perform(db, services(), Actor.complainant(case.id), case, move,
                version=request.form.get("version"), **values)
    except WorkflowError as err:
        return refused(tr_errors(err.errors), tr(err.message), err.status)
    send.done()
    flash(done(move, case))
    return redirect(url_for("public.status", number=number), code=303)


@bp.post("/track/<number>/leave")
def leave(number: str):
    forget(APPLICANT, number)
    return redirect(url_for("public.index"), code=303)
