"""Staff sign-in and sign-out.

One generic message for an unknown user and a wrong password (and the same work for
both, see casework.accounts.passwords). Failed attempts count against a limit per account
name, not per IP address, shared by every process (the limiter's storage): past it, a wrong
password is answered 429 and the form says when to try again. A right password is never
refused, so strangers typing wrong passwords for a staff member's name cannot lock them out
(as with the query-code lookups, web.public.opened); every attempt still costs the guesser a
full password hash.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import after_this_request, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from limits import parse

from casework.accounts.operations import authenticate, change_own_password
from casework.accounts.passwords import MIN_LENGTH
from web.auth import current_user, end_session, start_session
from web.i18n import tr_errors
from web.extensions import limiter
from web.requestdb import db_session
from web.staff.blueprint import bp

LOGIN_LIMIT = parse("10 per 15 minutes")


def _account_key(username: str | None = None) -> str:
    """The counter of wrong passwords for an account name: the sign-in form's, or a signed-in
    user's own (a wrong current password on the password page counts as a wrong sign-in)."""
    raw = request.form.get("username") if username is None else username
    return "login:" + (raw or "").strip().lower()[:64]


def safe_next(target: str | None, default: str) -> str:
    """A path on this site, never another host (no open redirect)."""
    target = (target or "").strip()
    if target.endswith("?"):
        target = target[:-1]
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or parts.scheme or parts.netloc or any(ord(c) < 32 for c in target)):
        return default
    return target


def _wrong_password_allowed(username: str | None = None) -> tuple[bool, int]:
    """Whether one more wrong password for this account name is answered as such, or (False,
    seconds to wait); the attempt is counted once the request's transaction has ended (the
    counter is a row of the same database, see casework.ratelimit)."""
    key = _account_key(username)

    @after_this_request
    def count(response):
        limiter.limiter.hit(LOGIN_LIMIT, key)
        return response

    if limiter.limiter.test(LOGIN_LIMIT, key):
        return True, 0
    reset = limiter.limiter.get_window_stats(LOGIN_LIMIT, key).reset_time
    return False, max(1, int(reset - time.time()) + 1)


@bp.get("/", strict_slashes=False)
def index():
    """/staff, the address a newcomer types: the sign-in page (which leads a signed-in member on
    to the desk)."""
    return redirect(url_for("staff.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(next_url, url_for("desk.home")))
        return render_template("staff/login.html", username="", next_url=next_url, error=None)
    username = request.form.get("username", "")
    user = authenticate(db_session(), username, request.form.get("password", ""))
    if user is None:
        allowed, wait = _wrong_password_allowed()
        if not allowed:
            minutes = (wait + 59) // 60
            error = _("Too many wrong passwords for this user name. Try again in %(minutes)d minutes.",
                      minutes=minutes)
            return (render_template("staff/login.html", username=username, next_url=next_url, error=error),
                    429, {"Retry-After": str(wait)})
        error = _("Wrong user name or password.")
        return render_template("staff/login.html", username=username, next_url=next_url, error=error), 401
    start_session(user)  # with the last login time (and a rehashed password), committed with the redirect
    return redirect(safe_next(next_url, url_for("desk.home")), code=303)


@bp.post("/keep-alive")
def keep_alive():
    """The warning's "Stay signed in" (static/js/desk.js, before the idle limit): the session's last
    activity is this request (web.sessions records it, at most once a minute); 204. A session that
    has ended already answers 401 (web.auth), and the page says so."""
    return "", 204


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("staff.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """A staff member's own new password. Until they have chosen one, an administrator's
    password takes them here from every page (web.auth); once changed, this browser gets a new
    session and every other session of theirs ends."""
    user = current_user()
    next_url = request.values.get("next", "")
    errors, problem, status, headers = {}, None, 200, {}
    if request.method == "POST":
        form = request.form
        errors = change_own_password(db_session(), user, form.get("current_password", ""),
                                     form.get("new_password", ""), form.get("new_password_again", ""))
        if not errors:
            start_session(user)
            flash(_("Your password has been changed. You have been signed out everywhere else."), "success")
            return redirect(safe_next(next_url, url_for("desk.home")), code=303)
        status = 422
        if "current_password" in errors:  # guessed like a sign-in: the same counter, the same wait
            allowed, wait = _wrong_password_allowed(user.username)
            if not allowed:
                problem = _("Too many wrong passwords for this user name. Try again in %(minutes)d minutes.",
                            minutes=(wait + 59) // 60)
                errors, status, headers = {}, 429, {"Retry-After": str(wait)}
    # nothing typed is sent back: a password never travels in a page
    return render_template("staff/password.html", errors=tr_errors(errors), problem=problem, next_url=next_url,
                           required=user.password_change_required, min_length=MIN_LENGTH), status, headers
