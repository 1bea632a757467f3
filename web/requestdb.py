"""One database session per request, and the request as its transaction boundary.

Views call ``db_session()`` (reads for GET, a write session for the rest) and never commit
or roll back: operations flush, and once the answer is made, before any after-request hook
runs and before it is sent, ``settle`` decides (web.app.App.process_response calls it):

- an answer below 400 (a page, a file, a redirect) commits;
- an error answer (a refused form, an abort, a view's exception turned into a 500 page)
  rolls back, except a 4xx whose view called ``keep_on_error()``: what it wrote on the way
  to a refusal is part of the answer (the filing form's staged files on a 422). A 5xx
  always rolls back. A view that shows objects again after an operation failed half-way
  calls ``discard_changes()`` first, so the page shows them as stored;
- a commit that fails (a unique key, a concurrent update, a lost connection) rolls back
  and answers what the app's error handlers make of that exception (web.errors: a 500
  page, a 503 for a lost connection, in the user's language, JSON under /api/), never
  the success page; the signed cookie session goes back to what it was when the request
  first used the database, so no "saved" flash or before/after of a change that was not
  kept reaches the next page.

A session a view committed itself is committed again for nothing, and one it rolled back
rolls back for nothing: hand commits left in a view are harmless. Teardown closes the
session. Because the boundary only calls commit and rollback, it works the same when the
session is joined to a test's outer transaction (join_transaction_mode="create_savepoint").
The CLI and the workers use casework.db.Database.session_scope, the same rule for a command
or a task.
"""
from __future__ import annotations

import copy
import logging

from flask import current_app, g, request, session as cookie_session
from sqlalchemy.orm import Session

from casework.context import Services
from casework.db import Database

log = logging.getLogger("changtong.web")


def database() -> Database:
    return current_app.extensions["changtong.db"]


def services() -> Services:
    return current_app.extensions["changtong.services"]


def db_session() -> Session:
    if "db_session" not in g:
        db = database()
        write = request.method not in ("GET", "HEAD", "OPTIONS")
        # the cookie session as it was before this request's database work (see settle);
        # dict.copy does not mark the session accessed (which would add Vary: Cookie)
        g.db_cookie_before = copy.deepcopy(dict.copy(cookie_session._get_current_object()))
        g.db_session = (db.write if write else db.read)()
    return g.db_session


def keep_on_error() -> None:
    """Commit what this request wrote even though its answer is a 4xx (never a 5xx): for a
    view whose refusal keeps something for the next try. Call it right before answering."""
    g.db_keep_on_error = True


def discard_changes() -> None:
    """Drop what this request has changed so far, now instead of at the boundary: for a view
    that answers a refusal after an operation failed half-way, before it reads the objects
    again to show them as stored (an operation may have changed them in memory, and a
    half-made row would otherwise be flushed by the next query)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def settle(response):
    """Commit or roll back this request's session for ``response``; the answer to send."""
    session: Session | None = g.get("db_session")
    if session is None or not (session.in_transaction() or session.new or session.dirty or session.deleted):
        return response  # never used (a kept page): nothing to commit or roll back
    status = response.status_code
    if status >= 500 or (status >= 400 and not g.get("db_keep_on_error")):
        _rollback(session)
        return response
    try:
        session.commit()
    except Exception as err:  # noqa: BLE001 - every failure of the commit is answered
        _rollback(session)
        _restore_cookie_session()
        app = current_app._get_current_object()
        return app.make_response(app.handle_user_exception(err))
    return response


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception:  # the connection is gone: the pool discards it (see web.errors)
        log.debug("rollback at the end of a request failed", exc_info=True)


def _restore_cookie_session() -> None:
    before = g.pop("db_cookie_before", None)
    current = cookie_session._get_current_object()
    if before is not None and dict.copy(current) != before:
        current.clear()
        current.update(before)


def init_app(app) -> None:
    @app.teardown_appcontext
    def _close(exc):
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
