"""The staff session cookie: it carries only a random id; who is signed in comes from the
server-side row (casework.accounts.sessions), never from Flask's signed cookie session,
which keeps only anonymous data (the CSRF token, cases opened with a query code).

A page view (GET) reads the session row and its user in the request's read transaction; the
activity it records (last seen, at most once a minute per browser) or a dead row's deletion is
a short write transaction of its own, committed at once, whatever the request's answer. Another
method resumes in a write transaction of its own when the request has not used the database
yet (the sign-in check before any other view), else in the request's write session (SQLite has
one writer at a time), committed by the request's boundary (web.requestdb); so do sign-in and
sign-out.
A 5xx answer leaves the browser's staff cookie as it was: what the request did to the
session rows was rolled back.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request

from casework.accounts import sessions as store
from casework.accounts.models import User
from casework.db import utcnow
from web.requestdb import database, db_session

COOKIE = "ct_staff"


def lifetimes() -> store.Lifetimes:
    cfg = current_app.config
    return store.Lifetimes(idle=timedelta(seconds=cfg["STAFF_SESSION_IDLE_SECONDS"]),
                           absolute=timedelta(seconds=cfg["STAFF_SESSION_ABSOLUTE_SECONDS"]))


def load_user() -> User | None:
    """The signed-in staff user of this request's cookie, or None (a dead cookie is cleared).

    A GET reads the row in the request's read transaction and returns the user loaded there;
    only a chore (the activity to record, once a minute per browser, or a dead row to delete)
    takes a short write transaction of its own, committed at once. A page view never waits for
    the write lock behind case submissions otherwise (on SQLite there is one writer at a time).
    Another method resumes in its own write transaction when the request has not used the
    database yet, else in the request's write session."""
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    now = utcnow()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        found = store.find_session(db_session(), sid, now=now, lifetimes=lifetimes())
        if found is not None and found.chore:
            with database().session_scope() as s:
                store.do_chore(s, found, now=now)
        user = found.user if found is not None else None
    elif "db_session" not in g:
        with database().session_scope() as s:
            resumed = store.resume_session(s, sid, now=now, lifetimes=lifetimes())
            uid = resumed.id if resumed is not None else None
        user = db_session().get(User, uid) if uid is not None else None
    else:
        user = store.resume_session(db_session(), sid, now=now, lifetimes=lifetimes())
    if user is None:
        g.staff_cookie = ""  # clear a dead cookie
    return user


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
