"""我的诉求: with a phone number and a fresh SMS code, the cases filed with that number (issue 19).

The number is found by its keyed hash on the case (case.complainant_phone_hash), so it stays
encrypted. Only cases whose number was proved when they were filed are listed (a code sent to
it, or a registered client vouching): a case filed with someone else's unproved number is not
shown to that number's holder. Never an anonymous report. Signing in lasts 30 minutes in this
browser's signed session; each case listed opens without its query code (web.public.opened).
The code's step is Post/Redirect/Get (``CODE_SENT`` below): no answer with the code's box, nor
the first code refused, is the answer to a POST, so back from the list, or a reload, never asks to
send the form again.
"""
from __future__ import annotations

import base64
import time

from flask import abort, redirect, render_template, request, session as browser, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from casework.cases.models import Case
from casework.cases.numbers import normalize_number
from casework.intake.operations import VERIFIED_VIA
from casework.intake.validation import normalize_mobile
from casework.privacy.crypto import DecryptionError
from casework.privacy.masking import mask_phone
from casework.verify.service import Refused, phone_hash, use
from web import phone_verify
from web.i18n import current_locale
from web.public.blueprint import bp
from web.public.opened import APPLICANT, MINUTES, grant
from web.requestdb import db_session, services

SIGNED_IN = "mine"  # the signed session's key: the number's hash and when it was proved


def signed_in() -> str | None:
    """The number's hash this browser proved for 我的诉求 in the last 30 minutes, or None."""
    held = browser.get(SIGNED_IN)
    if not isinstance(held, dict) or not isinstance(held.get("at"), (int, float)):
        return None
    if held["at"] <= time.time() - MINUTES * 60:
        browser.pop(SIGNED_IN, None)
        return None
    return held.get("hash")


def _cases(number_hash: str) -> list[Case]:
    return list(db_session().scalars(select(Case).where(
        Case.complainant_phone_hash == number_hash, Case.anonymous.is_(False),
        Case.phone_verified_via.in_(sorted(VERIFIED_VIA)),
    ).order_by(Case.submitted_at.desc(), Case.id.desc()).limit(200)))


def _form(phone="", verify=None, error=None, notice=None, status=200, field=None):
    """The number's form; ``field`` the one ``error`` is about ("phone", "verify_code"), marked."""
    return render_template("public/mine.html", phone=phone, verify=verify, error=error, notice=notice,
                           error_field=field, cases=None), status


# the code's step as Post/Redirect/Get: every answer to the form that shows the code's box (a code
# sent, a wrong or missing code, a new code refused), and the first code refused (no box: none was
# sent to this browser, its id is empty), is 303 See Other to /mine, which shows the number and the
# box from this browser's signed session; back from the list, or a reload, sends nothing again.
# The number is kept there encrypted under the data key (the cookie is signed, not secret), for
# the code's minutes; what the page should say (an error, once, with when a new code may be sent:
# its Retry-After) rides along.
CODE_SENT = "mine_code"
PHONE_PURPOSE = "mine.code_phone"


def _keep_code(phone: str, box: dict, said: tuple[str, str | None, int] | None = None, *,
               wait: int = 0) -> None:
    """``said``: the error, its field and status; ``wait``: for a 429, the seconds until a new code
    may be sent (kept as the time it ends, the said's fourth member)."""
    from casework.verify.service import CODE_MINUTES

    blob = services().cipher.encrypt_text(phone, PHONE_PURPOSE)
    now = int(time.time())
    browser[CODE_SENT] = {"id": box["id"], "masked": box["masked"], "phone": base64.urlsafe_b64encode(blob).decode(),
                          "until": now + CODE_MINUTES * 60,
                          "said": [*said, now + int(wait) if wait else 0] if said else None}


def _code_sent() -> dict | None:
    """The code's box this browser was answered with, while the code lives: its number, box (its
    id empty when no code was sent) and what it says once (an error with its field, status and
    when a new code may be sent, 0 if not said), or None."""
    held = browser.get(CODE_SENT)
    if not isinstance(held, dict) or not isinstance(held.get("until"), int) or held["until"] <= time.time():
        browser.pop(CODE_SENT, None)
        return None
    try:
        phone = services().cipher.decrypt_text(base64.urlsafe_b64decode(str(held.get("phone", ""))), PHONE_PURPOSE)
    except (DecryptionError, ValueError):
        browser.pop(CODE_SENT, None)
        return None
    said = held.get("said")
    if said:
        browser[CODE_SENT] = {**held, "said": None}  # said once: a reload shows the box without it
    if isinstance(said, list) and len(said) == 3:  # kept before the wait was
        said = [*said, 0]
    return {"phone": phone, "box": {"id": str(held.get("id", ""))[:32], "masked": str(held.get("masked", ""))},
            "said": said if isinstance(said, list) and len(said) == 4 else None}


def _to_box(phone: str, box: dict, said: tuple[str, str | None, int] | None = None, *, wait: int = 0):
    _keep_code(phone, box, said, wait=wait)
    return redirect(url_for("public.mine"), code=303)


@bp.get("/mine")
def mine():
    number_hash = signed_in()
    if number_hash is None:
        held = _code_sent()
        if held is None:
            return _form()
        box = held["box"] if held["box"]["id"] else None  # no id: no code was sent to this browser
        if held["said"]:
            text, field, status, until = held["said"]
            html, status = _form(held["phone"], box, text, status=int(status), field=field)
            wait = until - int(time.time()) if isinstance(until, int) and until else 0
            return html, status, ({"Retry-After": str(max(1, wait))} if status == 429 and until else {})
        if box is None:
            return _form(held["phone"])
        return _form(held["phone"], box, notice=_("We sent a 6-digit code by SMS to %(phone)s.", phone=box["masked"]))
    return render_template("public/mine.html", cases=_cases(number_hash), phone="", verify=None,
                           error=None, notice=None)


@bp.post("/mine")
def mine_submit():
    raw = request.form.get("phone", "")
    phone = normalize_mobile(raw)
    if phone is None:
        return _form(raw, error=_("Please give a mainland China mobile number (11 digits, e.g. 13800138000)."),
                     status=422, field="phone")
    key = phone_verify.browser_key()
    vid = request.form.get("verification_id", "")[:32]
    code = request.form.get("verify_code", "")
    box = {"id": vid, "masked": mask_phone(phone)}
    session = db_session()
    if vid and request.form.get("action") != "resend":
        if not code.strip():
            return _to_box(phone, box, (_("Enter the 6-digit code from the SMS."), "verify_code", 422))
        checked = phone_verify.check(session, vid, phone, code)
        if checked.ok:
            use(checked.verification, services())
            phone_verify.remember(phone)
            browser.pop(CODE_SENT, None)
            browser[SIGNED_IN] = {"hash": phone_hash(services(), phone), "at": time.time()}
            return redirect(url_for("public.mine"), code=303)
        # the wrong code is counted (a 303 keeps what the request wrote); a dead one says when a new
        # code may be sent, Retry-After too
        wait = phone_verify.dead_wait(checked, phone, key) if checked.reason == "dead" else 0
        return _to_box(phone, box, (phone_verify.checked_text(checked, phone, key), "verify_code",
                                    429 if wait else 422), wait=wait)
    try:
        verification = phone_verify.send(session, phone=phone, purpose="mine", locale=current_locale(), client_key=key)
    except Refused as refused:  # a new code refused: the box stays, saying why and for how long; the
        # first code refused (too soon from another browser, locked, the day's limit): no box, no id
        return _to_box(phone, box, (phone_verify.refused_text(refused), None, 429), wait=refused.retry_after)
    box["id"] = verification.id
    return _to_box(phone, box)


@bp.get("/mine/<number>")
def mine_open(number: str):
    """Open one of the listed cases: granted as if its query code had been typed."""
    number_hash = signed_in()
    if number_hash is None:
        return redirect(url_for("public.mine"))
    number = normalize_number(number)
    if not any(c.number == number for c in _cases(number_hash)):
        abort(404)
    grant(APPLICANT, number)
    return redirect(url_for("public.status", number=number), code=303)


@bp.post("/mine/leave")
def mine_leave():
    browser.pop(SIGNED_IN, None)
    return redirect(url_for("public.mine"), code=303)
