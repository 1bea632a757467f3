"""Who is asking: the staff member behind a session cookie or an API token.

Login is required by default: every endpoint outside the public blueprints (public site,
public API, static files) needs a signed-in staff member. Views then make one domain
permission check (casework.workflow.machine.may / casework.accounts.permissions).

A page asked for without a session goes to the sign-in page and comes back after it. A form sent
without one (its session ended while it was being filled in) comes back to the nearest page a GET
answers (the case page, not the move's POST-only address, which would answer 405), and what was
typed into it comes back too (web.staff.kept_text).
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.operations import user_for_token
from web import sessions as staff_sessions
from web.requestdb import db_session

PUBLIC_BLUEPRINTS = {"public", "api", "open311", "ops"}  # ops: probes and scrapers
# signing out of a session that has ended already only goes to the sign-in page (it asked to sign
# in first, and came back to the sign-out's POST-only address)
PUBLIC_ENDPOINTS = {"static", "staff.index", "staff.login", "staff.logout"}
# what a staff member whose password an administrator set may reach before choosing their own
BEFORE_OWN_PASSWORD = {"staff.password", "staff.logout", "staff.keep_alive"}


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
    from web.staff import kept_text

    session.clear()  # anonymous data (CSRF token, opened cases) starts afresh at sign-in
    kept_text.remember_typist(user.id)  # whose text a form refused later is: a keyed tag, never a credential
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
                    return jsonify({"error": {"status": 403, "message": _("Choose your own password first.")}}), 403
                return redirect(url_for("staff.password", next=_here()), code=303 if _sent() else 302)
            return None
        if request.blueprint == "desk_api":
            return unauthenticated()
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"error": {"status": 401, "message": _("You are not signed in. Sign in again to go on.")}}), 401
        if _sent():
            return _refused_form()
        return redirect(url_for("staff.login", next=_here()))

    def _sent() -> bool:
        return request.method not in ("GET", "HEAD", "OPTIONS")

    def _here() -> str:
        """The page to come back to. A page asked for: itself, its query only if it has one
        (``full_path`` ends a bare path with "?", and the sign-in page carried ``next=/desk?``).
        A form sent: the nearest page a GET answers (its POST-only address would answer 405)."""
        if _sent():
            from web.public.pages import get_page

            page = get_page(request.path)
            return page if page != url_for("public.index") else url_for("desk.home")
        return request.full_path.rstrip("?")

    def _refused_form():
        """A form sent after the session ended: to the sign-in page, and back to the form's page
        after it with what was typed (web.staff.kept_text); a text too long to keep is shown on
        the sign-in page, to copy."""
        from web.staff import kept_text

        page = _here()
        outcome, unsent = kept_text.keep_refused(page)
        minutes = current_app.config["STAFF_SESSION_IDLE_SECONDS"] // 60
        if outcome == "too_long":
            notice = _("You were signed out after %(minutes)d minutes without activity, and what you typed was "
                       "not sent. It is too long to keep through the sign-in: copy it from below first, then "
                       "sign in and paste it into the form again.", minutes=minutes)
            return render_template("staff/login.html", username="", next_url=page, error=None, notice=notice,
                                   unsent=unsent), 401
        if outcome == "kept":
            flash(_("You were signed out after %(minutes)d minutes without activity, and what you typed was not "
                    "sent yet. Sign in: it is put back into its form, to check and send.", minutes=minutes), "warning")
        else:
            flash(_("You were signed out after %(minutes)d minutes without activity. Sign in to go on.",
                    minutes=minutes), "warning")
        return redirect(url_for("staff.login", next=page), code=303)

    @app.context_processor
    def _inject():
        return {"staff_user": g.get("staff_user")}
