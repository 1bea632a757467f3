"""Who is asking: the staff member behind a session cookie or an API token.

Login is required by default: every endpoint outside the public blueprints (public site,
public API, static files) needs a signed-in staff member. Views then make one domain
permission check (casework.workflow.machine.may / casework.accounts.permissions).
"""
from __future__ import annotations

import hashlib
import time

from flask import abort, g, jsonify, redirect, request, session, url_for
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.operations import user_for_token
from web.requestdb import db_session

PUBLIC_BLUEPRINTS = {"public", "api"}
PUBLIC_ENDPOINTS = {"static", "staff.login"}
IDLE_SECONDS = 30 * 60


def _load_session_user() -> User | None:
    uid, seen = session.get("uid"), session.get("seen", 0)
    if uid is None:
        return None
    if time.time() - seen > IDLE_SECONDS:
        session.clear()
        return None
    user = db_session().scalar(select(User).where(User.id == uid, User.active))
    if user is None or session.get("pwv") != _password_version(user):
        session.clear()  # account disabled, or password changed since this login
        return None
    session["seen"] = int(time.time())
    return user


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


def _password_version(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def start_session(user: User) -> None:
    session.clear()  # a new session at login (no fixation)
    session.permanent = True
    session["uid"] = user.id
    session["seen"] = int(time.time())
    session["pwv"] = _password_version(user)


def end_session() -> None:
    session.clear()


def init_app(app) -> None:
    @app.before_request
    def _require_login():
        if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if current_user() is not None:
            return None
        if request.blueprint == "desk_api" or request.accept_mimetypes.best == "application/json":
            return jsonify({"error": {"status": 401, "message": "authentication required"}}), 401
        return redirect(url_for("staff.login", next=request.full_path))

    @app.context_processor
    def _inject():
        return {"staff_user": g.get("staff_user")}
