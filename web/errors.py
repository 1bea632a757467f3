"""Error pages in the user's language (JSON under /api/), never a stack trace."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("changtong.web")


def _messages():
    return {
        400: _("The request could not be understood."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist."),
        405: _("This page cannot be used this way."),
        413: _("What you sent is too large. Files may be at most %(mb)d MB each; go back and choose smaller files.", mb=10),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Nothing you sent was lost if you saw a case number; otherwise please try again."),
        503: _("The service is busy. Please try again in a moment."),
    }


def _respond(code: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify({"error": {"status": code, "message": message}}), code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        from web.public.intake import csrf_failed_intake

        resp = csrf_failed_intake()
        if resp is not None:
            return resp
        return _respond(400, _("This form has expired or was sent from elsewhere. Please go back, reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = err.code or 500
        return _respond(code, _messages().get(code, err.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, _messages()[500])
