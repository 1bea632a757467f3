"""Flask extensions, created unbound and initialised by create_app."""
from __future__ import annotations

from babel import Locale
from flask import current_app, has_app_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect

LOCALES = ("zh_CN", "en")
LANG_COOKIE = "lang"

babel = Babel()
csrf = CSRFProtect()


def _no_key() -> str:
    # every limit in this app names its own key; nothing is keyed by IP address
    return "global"


limiter = Limiter(key_func=_no_key, default_limits=[], headers_enabled=False)


def select_locale() -> Locale:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return _parsed(chosen)
    if request.path.startswith("/api/"):
        return _parsed(request.accept_languages.best_match(LOCALES, "zh_CN"))
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def remember_language(resp, code: str):
    """``resp`` with the language cookie set to ``code`` (one of LOCALES) for a year: every page
    after it is in that language."""
    resp.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return resp


_PARSED: dict[str, Locale] = {}


def _parsed(code: str) -> Locale:
    """``code``'s babel Locale, parsed once per process: flask_babel parses what the selector
    gives on every request (~18 µs), and takes a Locale as it is."""
    try:
        return _PARSED[code]
    except KeyError:
        return _PARSED.setdefault(code, Locale.parse(code))


_last_database: list = []


def _current_database():
    """The database of the app serving the request (the limiter is one object per process);
    outside a request, the one of the app made last."""
    return current_app.extensions["changtong.db"] if has_app_context() else _last_database[-1]


def init_app(app, settings) -> None:
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = settings.rate_limit_storage
    # the database storage (no Redis) counts in the app's own database (casework.ratelimit)
    _last_database[:] = [app.extensions["changtong.db"]]
    app.config["RATELIMIT_STORAGE_OPTIONS"] = ({"database": _current_database}
                                               if not settings.redis_url else {})
    app.config["RATELIMIT_HEADERS_ENABLED"] = False
    limiter.init_app(app)
    _no_check_before_every_request(app)


def _no_check_before_every_request(app) -> None:
    """Every limit here is declared where it applies: a view's decorator (checked by the
    decorator itself) or a direct count (sign-in, SMS codes, idempotent replays). Flask-Limiter's
    before-request check looks for default, application and blueprint limits, of which there are
    none, on every request of every page (about 0.1 ms); it is left out while there are none."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or getattr(manager, "_blueprint_limits", True):
        return  # a limit that only the before-request check applies: keep it
    funcs = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in funcs:
        funcs.remove(limiter._check_request_limit)
