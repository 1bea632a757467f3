"""Cases this browser opened with a number and a code, and the lookup budget they share.

The applicant (query code) and the respondent (answer code) each open a case for 30
minutes; the grant lives in the signed session under its own key. Failed lookups of either
kind count against one limit per case number (no IP address is kept). Only failures count
and only failures are refused: a correct code always opens the case, so strangers guessing
at a number cannot lock its complainant out. (A correct answer past the limit is an oracle,
but an 80-bit code at the rate one server answers is out of reach.)
"""
from __future__ import annotations

import math
import time

from flask import make_response, redirect, render_template, request, session, url_for
from flask_babel import ngettext

from casework.cases.numbers import normalize_number
from web.lookup_limit import failures_limited
from web.requestdb import db_session, services

MINUTES = 30
APPLICANT = "tracked"
RESPONDENT = "responding"


def grant(kind: str, number: str) -> None:
    now = time.time()
    opened = {n: t for n, t in (session.get(kind) or {}).items() if t > now - MINUTES * 60}
    opened[number] = now
    session[kind] = opened


def is_open(kind: str, number: str) -> bool:
    t = (session.get(kind) or {}).get(number)
    return t is not None and t > time.time() - MINUTES * 60


def forget(kind: str, number: str) -> None:
    opened = dict(session.get(kind) or {})
    opened.pop(normalize_number(number), None)
    session[kind] = opened


def open_case(kind: str, lookup, template: str, error: str, endpoint: str, resume=None):
    """The posted number and code: a wrong code and an unknown number answer the same 404 on
    ``template`` (what a form that had expired carried rides along again); the right ones open the
    case for ``kind`` and go on to ``endpoint``, or, with such a form's text, to ``resume(case,
    kept)``: the page with that form filled in again."""
    number = normalize_number(request.form.get("number", ""))
    case = lookup(db_session(), services().settings.query_pepper, number, request.form.get("code", ""))
    kept = carried(kind)
    if case is None:
        return render_template(template, number=number, error=error, kept=kept), 404
    grant(kind, case.number)
    if kept is not None and resume is not None:
        return resume(case, kept)
    return redirect(url_for(endpoint, number=case.number), code=303)


# -- a move's form that had expired (CSRF) ----------------------------------------------------
# The public session lasts 30 minutes, and with it both the CSRF token and this browser's opening
# of the case: a statement typed for longer was answered "this form has expired" and was gone.
# Now the page comes back with what was typed (files cannot be sent back: they are chosen again).
# When the case's opening went with the session, the lookup form comes instead, with the text
# shown and carried in its "resume" fields; the right code then opens the page with the text in
# its form again (the text is in the form that is sent, never in the signed session: a cookie
# holds 4 KB, a statement up to 5,000 characters).

RESUME = "resume"
RESUMABLE: dict[str, dict[str, list[str]]] = {}  # kind -> move -> its fields (web.public.track, .respond)


def resumable(kind: str, moves, **more: list[str]) -> None:
    """The moves (``Move`` names of the table) whose form may come back after it expired for
    ``kind``, with their fields but files; ``more``: forms that are no move of the table."""
    from casework.workflow.spec import Kind
    from casework.workflow.table import MOVES

    RESUMABLE[kind] = {m: [f.name for f in MOVES[m].fields if f.kind is not Kind.files] for m in moves} | more


def kept_values(kind: str, move: str, form, prefix: str = "") -> dict | None:
    """The typed values of ``move``'s fields in ``form`` (each under ``prefix`` + its name), or
    None for a move that is not ``kind``'s."""
    fields = RESUMABLE.get(kind, {}).get(move)
    if fields is None:
        return None
    return {name: form.get(prefix + name, "")[:20_000] for name in fields}


def carried(kind: str) -> dict | None:
    """What the lookup form carries of a form that had expired: {"move", "values"}, or None."""
    move = request.form.get(RESUME, "")
    values = kept_values(kind, move, request.form, RESUME + ".") if move else None
    return {"move": move, "values": values} if values is not None else None


def expired_form(kind: str, number: str, move: str, template: str, notice: str, page):
    """A move's form whose CSRF token failed: ``page(number, values)`` when this browser still has
    the case open, else the lookup form ``template`` (400) with ``notice`` and the text carried.
    None for a move that is not ``kind``'s (the usual error page)."""
    values = kept_values(kind, move, request.form)
    if values is None:
        return None
    number = normalize_number(number)
    if not is_open(kind, number):
        return render_template(template, number=number, error=None, notice=notice,
                               kept={"move": move, "values": values}), 400
    return page(number, values)


def lookup_key(number: str) -> str:
    """The rate-limit key of failed lookups of one case number, whichever way they come in."""
    return "lookup:" + normalize_number(number)[:20]


def _number_key() -> str:
    return lookup_key(request.form.get("number", ""))


def _right_code() -> bool:
    from casework.cases.queries import case_for_lookup
    from casework.mediation.operations import respondent_lookup

    lookup = respondent_lookup if request.endpoint == "public.respond_submit" else case_for_lookup
    number, code = request.form.get("number", ""), request.form.get("code", "")
    return lookup(db_session(), services().settings.query_pepper, number, code) is not None


FORMS = {"public.respond_submit": "public/respond.html"}  # the other lookup view is /track's


def _refused(limit):
    """Past the limit, the lookup's own form again (429), with the number kept and how long wrong
    codes stay refused; the error page said only "please wait" and lost the number."""
    minutes = max(1, math.ceil((limit.reset_at - time.time() - 1) / 60))  # reset_at is a whole second past the window
    error = ngettext("Too many wrong codes were tried for this case number. For the next %(num)d minute a wrong "
                     "code is refused; check the code you were given and try again.",
                     "Too many wrong codes were tried for this case number. For the next %(num)d minutes a wrong "
                     "code is refused; check the code you were given and try again.", minutes)
    template = FORMS.get(request.endpoint, "public/track.html")
    kind = RESPONDENT if request.endpoint == "public.respond_submit" else APPLICANT
    resp = make_response(render_template(template, number=normalize_number(request.form.get("number", "")),
                                         error=error, kept=carried(kind)), 429)
    resp.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    return resp


# decorate a lookup view: wrong query codes and wrong answer codes count together per number
lookup_limited = failures_limited(scope="lookup", key=_number_key, right_code=_right_code, refused=_refused)
