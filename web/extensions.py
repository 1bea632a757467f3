"""Flask extensions, created unbound and initialised by create_app."""
from __future__ import annotations

import logging
import time
from functools import cached_property

import sqlalchemy as sa
from babel import Locale
from flask import current_app, g, has_app_context, request
from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from limits.storage import Storage, storage_from_string

from casework.ratelimit import DatabaseStorage, RateLimitCounter

log = logging.getLogger("changtong.ratelimit")

LOCALES = ("zh_CN", "en")
LANG_COOKIE = "lang"


class _Domain(Domain):
    """Flask-Babel's message domain, with the request's translations kept for the request.

    Flask-Babel finds them again for every message: the request's babel context three times, the
    locale, its name made again (``str(locale)``) and a cache lookup by it; 11.5 µs a message,
    about a tenth of a status page's presenting (issue 18). Kept with the locale they were made
    for, so ``force_locale`` (another locale for a while) and ``refresh`` (a new one) find theirs
    as before."""

    def get_translations(self):
        try:
            ctx = g._flask_babel
            translations, made_for = ctx.changtong_translations
            if made_for is ctx.babel_locale:
                return translations
        except (AttributeError, RuntimeError):  # the first message of a request, or none at all
            pass
        translations = super().get_translations()
        ctx = g.get("_flask_babel") if has_app_context() else None
        if ctx is not None and getattr(ctx, "babel_locale", None) is not None:
            ctx.changtong_translations = (translations, ctx.babel_locale)
        return translations


class _Babel(Babel):
    """Flask-Babel with ``_Domain`` as the app's message domain (every ``gettext``, the templates' too)."""

    @cached_property
    def domain_instance(self):
        return _Domain(domain=self.domain)


babel = _Babel()
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


class RedisElseDatabase(Storage):
    """The rate limits' storage with REDIS_URL set: Redis, and while Redis does not answer, the
    database (casework.ratelimit, the embedded default's storage), so that an outage of Redis
    costs no request a 500 and every limit still holds across processes and nodes: the
    wrong query codes per case number, the SMS codes per number and per browser, the sign-ins
    per account.

    Why not Flask-Limiter's own ``in_memory_fallback_enabled``: its fallback counts in process
    memory (each gunicorn worker of each node a budget of its own: 10 wrong codes become
    10 x workers x nodes), and it switches only in its decorator's check, while the SMS codes,
    sign-ins and idempotent replays here are counted by direct calls of ``limiter.limiter``
    (casework.verify, web.staff.views, web.idempotency), which would still raise. Here every
    call goes through the storage, whichever way it is made.

    A call that Redis fails (refused, a timeout, an error answer) is answered by the database,
    and Redis is left alone for ``RETRY`` seconds; then the next call tries it again, and once
    it answers, counting goes back to it. The counts made in the database during the outage
    are added to Redis's for as long as their windows last (any process's: the table's latest
    window end is read every ``LOOK`` seconds), so a number's budget is not new again when
    Redis returns. Counts Redis held before the outage cannot be read while it is down: a
    budget is at most twice itself once, across the switch.
    """

    STORAGE_SCHEME = ["changtong-redis-else-db"]
    RETRY = 5.0  # seconds Redis is left alone after it failed
    LOOK = 30.0  # seconds between reads of the latest window end in the database
    TIMEOUT = 0.5  # seconds to connect to Redis, and for its answer (a LAN answers in a millisecond)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *, redis_url: str,
                 database, **_options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        # options given in REDIS_URL's query (?socket_timeout=...) win over these
        self.redis = storage_from_string(redis_url, socket_connect_timeout=self.TIMEOUT,
                                         socket_timeout=self.TIMEOUT)
        self.database = DatabaseStorage(database=database)
        self._redis_errors = (self.redis.base_exceptions, OSError)
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried
        self._down = False
        self._database_live_until = 0.0  # time.time(): the latest end of a window counted in the database
        self._next_look = 0.0  # time.monotonic() of the next read of it

    @property
    def base_exceptions(self):
        return self.database.base_exceptions  # Redis's are answered by the database

    @property
    def redis_down(self) -> bool:
        """Whether this process counts in the database now (Redis failed and is not back)."""
        return self._down

    def _redis(self, name: str, *args):
        """Redis's answer to ``name(*args)``, or None if it is down (the caller asks the database)."""
        if self._down and time.monotonic() < self._down_until:
            return None
        try:
            value = getattr(self.redis, name)(*args)
        except self._redis_errors as exc:
            if not self._down:
                log.warning("rate limits: Redis does not answer (%s); counting in the database",
                            type(exc).__name__)
            self._down, self._down_until = True, time.monotonic() + self.RETRY
            self._next_look = 0.0
            return None
        if self._down:
            log.warning("rate limits: Redis answers again; counting in Redis")
            self._down = False
        return value

    def _outage_counts(self) -> bool:
        """Whether counts made in the database (during an outage) may still be live."""
        now = time.monotonic()
        if now >= self._next_look:
            self._next_look = now + self.LOOK
            with self.database.database.read() as session:
                latest = session.execute(sa.select(sa.func.max(RateLimitCounter.expires_at))).scalar()
            self._database_live_until = float(latest or 0.0)
        return self._database_live_until > time.time()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        hits = self._redis("incr", key, expiry, amount)
        if hits is None:
            self._database_live_until = max(self._database_live_until, time.time() + expiry)
            return self.database.incr(key, expiry, amount)
        return hits + (self.database.get(key) if self._outage_counts() else 0)

    def get(self, key: str) -> int:
        hits = self._redis("get", key)
        if hits is None:
            return self.database.get(key)
        return hits + (self.database.get(key) if self._outage_counts() else 0)

    def get_expiry(self, key: str) -> float:
        expiry = self._redis("get_expiry", key)
        if expiry is None:
            return self.database.get_expiry(key)
        if self._outage_counts() and self.database.get(key):
            return max(expiry, self.database.get_expiry(key))
        return expiry

    def check(self) -> bool:
        return self.redis.check() or self.database.check()

    def reset(self) -> int | None:
        self._redis("reset")
        return self.database.reset()

    def clear(self, key: str) -> None:
        self._redis("clear", key)
        self.database.clear(key)


def init_app(app, settings) -> None:
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    # the database storage counts in the app's own database (casework.ratelimit): alone without
    # Redis, and in Redis's place while Redis is down (RedisElseDatabase)
    _last_database[:] = [app.extensions["changtong.db"]]
    if settings.redis_url:
        app.config["RATELIMIT_STORAGE_URI"] = f"{RedisElseDatabase.STORAGE_SCHEME[0]}://"
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"redis_url": settings.redis_url, "database": _current_database}
    else:
        app.config["RATELIMIT_STORAGE_URI"] = settings.rate_limit_storage
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"database": _current_database}
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
