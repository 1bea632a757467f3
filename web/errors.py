"""Error pages in the user's language (JSON under /api/), never a stack trace."""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger("changtong.web")
RETRY_AFTER = 5  # seconds: a database restart or fail-over takes about that long


def _messages():
    return {
        400: _("The request could not be understood."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist."),
        405: _("This page cannot be used this way."),
        413: _too_large(),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Nothing you sent was lost if you saw a case number; otherwise please try again."),
        503: _("The service is busy. Please try again in a moment."),
    }


def _too_large() -> str:
    """A body over its route's limit (web.request_limits): an upload form names the file
    limit, any other form or API call the size it may be."""
    from web.request_limits import SMALL_REQUEST_BYTES

    limit = g.get("request_limit") or SMALL_REQUEST_BYTES
    if request.path.startswith("/api/"):  # a program reads it: the limit in bytes, no form to go back to
        return _("The request body is too large: at most %(bytes)s bytes can be sent here.", bytes=f"{limit:,}")
    if limit > SMALL_REQUEST_BYTES:
        settings = current_app.extensions["changtong.settings"]
        return _("What you sent is too large. Files may be at most %(mb)d MB each; go back and choose smaller files.",
                 mb=settings.max_file_bytes // 2**20)
    return _("What you sent is too large: at most %(kb)d KB can be sent here. Shorten the text and send it again.",
             kb=limit // 1024)


def _respond(code: int, message: str):
    if request.path.startswith("/api/"):
        extra = {"max_bytes": g.get("request_limit") or _small()} if code == 413 else {}
        return jsonify({"error": {"status": code, "message": message, **extra}}), code
    if request.blueprint in STAFF_PAGES and g.get("staff_user") is not None:
        return render_template("errors/staff_error.html", code=code, message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def _small() -> int:
    from web.request_limits import SMALL_REQUEST_BYTES

    return SMALL_REQUEST_BYTES


STAFF_PAGES = frozenset({"desk", "supervise"})  # their errors keep the desk's bar (templates/desk/base.html)


def _database_unavailable():
    """The database went away (restart, fail-over, connection cut) during this request.

    What the request wrote is rolled back, nothing is retried here (a write is not repeated
    behind the client's back); the client is told to send it again: a 503 with Retry-After,
    as JSON under /api/ and as a page for the forms. Resending is safe: the API's
    Idempotency-Key returns the first case if it was stored after all."""
    discard_request_session()
    log.warning("database unavailable on %s %s", request.method, request.path)
    if request.path.startswith("/api/"):
        message = _("The service is briefly unavailable. Please send the same request again, with the same Idempotency-Key, in a few seconds.")
        resp = jsonify({"error": {"status": 503, "message": message, "retry_after": RETRY_AFTER}})
    else:
        message = _("The service is briefly unavailable. Please try again in a few seconds.")
        hint = _("If you were sending a form, go back and send it again: it will not be filed twice.") \
            if request.method == "POST" else None
        resp = _page("errors/unavailable.html", message=message, hint=hint)
    resp.status_code = 503
    resp.headers["Retry-After"] = str(RETRY_AFTER)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def discard_request_session() -> None:
    """Roll back and close this request's session after its connection was lost (the
    boundary, web.requestdb.settle, then has nothing left to commit or roll back)."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
            session.close()
        except Exception:  # the connection is gone; the pool discards it
            log.debug("rollback after a lost connection failed", exc_info=True)


def _page(template: str, **context):
    return make_response(render_template(template, code=503, **context))


def _lost_connection(err: DBAPIError) -> bool:
    return isinstance(err, OperationalError) or bool(getattr(err, "connection_invalidated", False))


def init_app(app) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    def _db_unavailable(err):
        return _database_unavailable()

    @app.errorhandler(DBAPIError)
    def _db_error(err: DBAPIError):
        if _lost_connection(err):
            return _database_unavailable()
        return _unexpected(err)

    @app.errorhandler(CSRFError)
    def _csrf(err):
        from web.public.expired import csrf_failed

        resp = csrf_failed()
        if resp is not None:
            return resp
        return _respond(400, _("This form has expired or was sent from elsewhere. Please go back, reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        from web.request_limits import NestedTooDeep, too_deep_message

        code = err.code or 500
        if err.response is not None:  # the view's own answer (a lookup's form past its limit, web.public.opened)
            return err.response
        if isinstance(err, NestedTooDeep):
            return _respond(code, too_deep_message())
        resp = make_response(_respond(code, _messages().get(code, err.description or "")))
        if isinstance(err, MethodNotAllowed) and err.valid_methods:  # RFC 9110 15.5.6: a 405 says what is allowed
            resp.headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, _messages()[500])
