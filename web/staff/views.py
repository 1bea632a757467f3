"""Staff sign-in and sign-out.

One generic message for an unknown user and a wrong password (and the same work for
both, see casework.accounts.passwords). Failed attempts count against a limit per account
name, not per IP address: guessing one account's password is slowed down without locking
anyone else out.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from casework.accounts.operations import authenticate
from web.auth import current_user, end_session, start_session
from web.extensions import limiter
from web.requestdb import db_session
from web.staff.blueprint import bp

LOGIN_LIMIT = "10 per 15 minutes"


def _account_key() -> str:
    return "login:" + (request.form.get("username") or "").strip().lower()[:64]


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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, key_func=_account_key, methods=["POST"],
               deduct_when=lambda r: r.status_code == 401)
def login():
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(next_url, url_for("desk.home")))
        return render_template("staff/login.html", username="", next_url=next_url, error=None)
    username = request.form.get("username", "")
    user = authenticate(db_session(), username, request.form.get("password", ""))
    if user is None:
        error = _("Wrong user name or password.")
        return render_template("staff/login.html", username=username, next_url=next_url, error=error), 401
    start_session(user)  # with the last login time (and a rehashed password), committed with the redirect
    return redirect(safe_next(next_url, url_for("desk.home")), code=303)


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("staff.login"), code=303)
