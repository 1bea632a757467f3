"""Who is asking: the staff member behind a session cookie or an API token.

Login is required by default: every endpoint outside the public blueprints (public site,
public API, static files) needs a signed-in staff member. Views then make one domain
permission check (casework.workflow.machine.may / casework.accounts.permissions).
"""
from __future__ import annotations

from flask import abort, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.operations import user_for_token
from web import sessions as staff_sessions
from web.requestdb import db_session

PUBLIC_BLUEPRINTS = {"public", "api", "open311", "ops"}  # ops: probes and scrapers
PUBLIC_ENDPOINTS = {"static", "staff.login"}
# what a staff member whose password an administrator set may reach before choosing their own
BEFORE_OWN_PASSWORD = {"staff.password", "staff.logout"}


def _load_session_user() -> User | None:
    user = staff_sessions.load_user()  # the server-side row; the Flask session holds no identity
    return user if user is not None and user.active else None


def _load_token_user() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return user_for_token(db_session(), header[7:].strip())


def current_user() -> User | None:
    if "staff_user" not in g:
        g.staff_user = _load_token_user() if request.blueprint == "desk_api" else _load_session_user()
    return g.staff_user


def current_actor() -> Actor:
    user = current_user()
    if user is None:
        abort(401)
    return Actor.staff(user)


def unauthenticated():
    """The staff API's 401: in the caller's language (Accept-Language), with the scheme it takes
    (RFC 6750: a token sent but not live is ``invalid_token``)."""
    challenge = 'Bearer realm="changtong-staff-api"'
    if request.headers.get("Authorization", "").startswith("Bearer "):
        challenge += ', error="invalid_token"'
    message = _("A live staff API token is required: send it as Authorization: Bearer <token>.")
    return jsonify({"error": {"status": 401, "message": message}}), 401, {"WWW-Authenticate": challenge}


def start_session(user: User) -> None:
    session.clear()  # anonymous data (CSRF token, opened cases) starts afresh at sign-in
    staff_sessions.begin(user)  # a new server-side session; the one this browser had ends


def end_session() -> None:
    staff_sessions.end()
    session.clear()


def init_app(app) -> None:
    staff_sessions.init_app(app)

    @app.before_request
    def _require_login():
        if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        user = current_user()
        if user is not None:
            if user.password_change_required and request.blueprint != "desk_api" \
                    and request.endpoint not in BEFORE_OWN_PASSWORD:
                # an administrator's password: its holder's own one first (an API token is not a password)
                if request.accept_mimetypes.best == "application/json":
                    return jsonify({"error": {"status": 403, "message": "choose your own password first"}}), 403
                return redirect(url_for("staff.password", next=_here()))
            return None
        if request.blueprint == "desk_api":
            return unauthenticated()
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"error": {"status": 401, "message": "authentication required"}}), 401
        return redirect(url_for("staff.login", next=_here()))

    def _here() -> str:
        """The page asked for, to come back to: its query only if it has one (``full_path`` ends
        a bare path with "?", and the sign-in page carried ``next=/desk?``)."""
        return request.full_path.rstrip("?")

    @app.context_processor
    def _inject():
        return {"staff_user": g.get("staff_user")}
