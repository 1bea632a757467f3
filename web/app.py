"""The Flask application factory. No side effects: no migrations, no network, no keys made."""
from __future__ import annotations

import io
import logging

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

from casework.context import Services
from casework.db import Database
from casework.settings import Settings
from web import requestdb


class InMemoryRequest(Request):
    """Uploads stay in memory (bounded by max_request_bytes), never in a temporary file on
    disk: evidence is written to disk only once encrypted."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, with its signing serializer made once per set of keys:
    Flask makes a new one for every request, cookie or not (3% of a short request's time,
    issue 18). The serializer keeps no state between calls; a changed key makes a new one."""

    _made: tuple[tuple, object] | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]


class App(Flask):
    """Flask, with the request as the transaction boundary (web.requestdb): the session is
    committed or rolled back as soon as the answer is made, before every after-request hook
    (the staff cookie, the security headers, the request log and its counters see the answer
    that is sent, a failed commit's error page included) and before anything is sent."""

    def process_response(self, response):
        return super().process_response(requestdb.settle(response))


def create_app(settings: Settings, *, services: Services | None = None, database: Database | None = None) -> Flask:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    app = App(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        static_url_path="/static",
    )
    app.request_class = InMemoryRequest
    app.session_interface = CookieSessions()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        MAX_FORM_PARTS=1000,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.testing and not settings.database_url.startswith("sqlite"),
        PERMANENT_SESSION_LIFETIME=1800,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; a long form still submits
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(root / "web" / "translations"),
        TESTING=settings.testing,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["changtong.settings"] = settings
    app.extensions["changtong.db"] = database or Database(settings.database_url)
    app.extensions["changtong.services"] = services or Services.from_settings(settings)

    from web import auth, errors, extensions, request_limits, requestdb, security, urls
    from web.api import bp as api_bp
    from web.public import bp as public_bp

    request_limits.init_app(app, settings)  # first: the size of a body before anything reads it
    urls.init_app(app)  # absolute URLs from CHANGTONG_BASE_URL, never from the Host header
    extensions.init_app(app, settings)
    from web import ops

    ops.init_app(app)  # /healthz, /readyz, /metrics; its request hooks run first
    requestdb.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    from web.i18n import current_locale, field_message, filer, for_case, for_filer, template_gettext, title
    from casework.cases.models import Rating
    from casework.mediation.models import RespondentKind
    from web.presenters import (deadline_explanation, public_case, public_moves, rated_latest_reply, rating_window,
                                stage_name, stage_title, state_name, unit_title)
    from web.requestdb import db_session

    app.jinja_env.globals.update(current_locale=current_locale, title=title, public_case=public_case,
                                 field_message=field_message,
                                 public_moves=public_moves, ratings=list(Rating),
                                 respondent_kinds=list(RespondentKind),
                                 deadline_explanation=deadline_explanation, db_session=db_session,
                                 unit_title=unit_title, filer=filer, for_filer=for_filer, for_case=for_case,
                                 rated_latest_reply=rated_latest_reply, rating_window=rating_window,
                                 stage_title=stage_title,
                                 stage_name=stage_name, state_name=state_name)
    app.context_processor(template_gettext)  # the request's translations looked up once per page
    # the move forms' file fields state the limits the machine checks
    app.jinja_env.globals.update(max_files=settings.max_files, max_file_mb=settings.max_file_bytes // (1024 * 1024))
    from web.admin import bp as admin_bp
    from web.supervise import bp as supervise_bp
    from web.desk import bp as desk_bp
    from web.desk_api import bp as desk_api_bp
    from web.staff import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(desk_api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(supervise_bp)
    from web.open311 import bp as open311_bp

    app.register_blueprint(open311_bp)
    extensions.csrf.exempt(open311_bp)  # Open311 clients send no cookies
    extensions.csrf.exempt(api_bp)
    extensions.csrf.exempt(desk_api_bp)  # bearer tokens, no cookies
    logging.getLogger("werkzeug").addFilter(security.RedactFilter())
    return app
