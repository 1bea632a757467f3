"""The staff session cookie: it carries only a random id; who is signed in comes from the
server-side row (casework.accounts.sessions), never from Flask's signed cookie session,
which keeps only anonymous data (the CSRF token, cases opened with a query code).

A session is resumed in a short transaction of its own, committed at once, when the request
has not used the database yet (every GET, and the sign-in check before any other view):
resuming is activity (the idle clock moves on) whatever the request's answer. Sign-in and
sign-out, and a resume after the request's writes began, use the request's write session
(SQLite has one writer at a time), committed by the request's boundary (web.requestdb).
A 5xx answer leaves the browser's staff cookie as it was: what the request did to the
session rows was rolled back.
"""
from __future__ import annotations

from datetime import timedelta

import contextlib

from flask import current_app, g, request

from casework.accounts import sessions as store
from casework.accounts.models import User
from web.requestdb import database, db_session

COOKIE = "ct_staff"


def lifetimes() -> store.Lifetimes:
    cfg = current_app.config
    return store.Lifetimes(idle=timedelta(seconds=cfg["STAFF_SESSION_IDLE_SECONDS"]),
                           absolute=timedelta(seconds=cfg["STAFF_SESSION_ABSOLUTE_SECONDS"]))


@contextlib.contextmanager
def _own_unless_writing():
    if request.method in ("GET", "HEAD", "OPTIONS") or "db_session" not in g:
        with database().session_scope() as s:
            yield s
    else:
        yield db_session()


def load_user_id() -> int | None:
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    with _own_unless_writing() as s:
        user = store.resume_session(s, sid, lifetimes=lifetimes())
        if user is None:
            g.staff_cookie = ""  # clear a dead cookie
            return None
        return user.id


def begin(user: User) -> None:
    """At sign-in: the old session (if any) ends, a new id is issued; rows of sessions that
    have expired meanwhile (anyone's) are swept out."""
    s = db_session()
    store.close_session(s, request.cookies.get(COOKIE))
    store.purge_expired(s, lifetimes=lifetimes())
    g.staff_cookie = store.open_session(s, s.get(User, user.id), lifetimes=lifetimes())


def end() -> None:
    store.close_session(db_session(), request.cookies.get(COOKIE))
    g.staff_cookie = ""


def init_app(app) -> None:
    settings = app.extensions["changtong.settings"]
    app.config.setdefault("STAFF_SESSION_IDLE_SECONDS",
                          int(getattr(settings, "staff_session_idle_minutes", 30)) * 60)
    app.config.setdefault("STAFF_SESSION_ABSOLUTE_SECONDS",
                          int(getattr(settings, "staff_session_absolute_hours", 12)) * 3600)

    @app.after_request
    def _cookie(resp):
        value = g.pop("staff_cookie", None)
        if value is None or resp.status_code >= 500:
            return resp
        secure = app.config["SESSION_COOKIE_SECURE"]
        if value:
            resp.set_cookie(COOKIE, value, httponly=True, secure=secure, samesite="Lax", path="/")
        else:
            resp.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="Lax", path="/")
        return resp
