"""Operations: /healthz (liveness), /readyz (readiness), /metrics (Prometheus), and the
request hooks behind them: a request id, one structured log line and the counters of
every request.

The three endpoints need no sign-in, no CSRF token, are never rate limited and set no
cookie. /metrics asks for ``Authorization: Bearer <CHANGTONG_METRICS_TOKEN>`` when that
setting is set.
"""
from __future__ import annotations

import hmac
import logging
import re
import secrets
import time

from flask import Blueprint, Flask, current_app, g, has_request_context, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from casework.logs import redact

bp = Blueprint("ops", __name__)
log = logging.getLogger("changtong.request")
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")
_QUIET = {"ops.healthz", "ops.readyz", "ops.metrics", "static"}  # probes and scrapes: DEBUG lines


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. Touches nothing else."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """503 with ``failed`` when a check this node cannot serve without fails (the database, its
    schema, the data directory); 200 with status ``degraded`` and ``degraded`` naming Redis when
    only Redis fails: the node still takes submissions (web.ops.checks)."""
    from web.ops.checks import DEGRADES

    checks = current_app.extensions["changtong.readiness"].run()
    down = sorted(name for name, result in checks.items() if not result["ok"])
    failed = [name for name in down if name not in DEGRADES]
    degraded = [name for name in down if name in DEGRADES]
    body = {"status": "fail" if failed else "degraded" if degraded else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    if degraded:
        body["degraded"] = degraded
    return jsonify(body), 503 if failed else 200


@bp.get("/metrics")
def metrics():
    from web.ops.metrics import exposition

    token = current_app.extensions["changtong.settings"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode())):
            return jsonify({"error": {"status": 401, "message": "a bearer token is required"}}), 401, \
                {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return exposition(current_app.extensions["changtong.state_collector"]), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record logged while it is served (error
    lines of the app included); gunicorn.conf.py attaches it to the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            rid = request_id()
            if rid:
                record.request_id = rid
        return True


def _incoming_id() -> str | None:
    """An X-Request-ID from a proxy is kept if it looks like an id (and masks to itself)."""
    value = request.headers.get("X-Request-ID", "")
    if _REQUEST_ID.fullmatch(value) and redact(value) == value:
        return value
    return None


def _start():
    g.request_started = time.perf_counter()
    g.request_id = _incoming_id() or secrets.token_hex(16)


def _finish(resp):
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    rid = g.get("request_id") or secrets.token_hex(16)
    resp.headers["X-Request-ID"] = rid
    req = request._get_current_object()  # the request looked up once, not once per attribute
    rule = req.url_rule.rule if req.url_rule is not None else None
    from web.ops.metrics import UNMATCHED, observe

    endpoint, method, status = rule or UNMATCHED, req.method, resp.status_code
    observe(method, endpoint, status, seconds)
    level = logging.DEBUG if req.endpoint in _QUIET and status < 400 else logging.INFO
    if log.isEnabledFor(level):
        # the URL rule, never the path or its query string; no address, no form value. Made as
        # Logger.log would, less its walk up the stack for a caller no line shows (issue 18)
        log.handle(log.makeRecord(log.name, level, __file__, 0, "%s %s %s", (method, endpoint, status), None,
                                  func="_finish",
                                  extra={"request_id": rid, "method": method, "endpoint": endpoint,
                                         "status": status, "duration_ms": round(seconds * 1000, 1)}))
    return resp


def init_app(app: Flask) -> None:
    """The clock and the id start before every other request hook, and every answer (a
    redirect to sign in, a refused CSRF token, a 500) is counted and logged."""
    from web.extensions import csrf, limiter
    from web.ops.checks import Readiness
    from web.ops.metrics import StateCollector

    settings = app.extensions["changtong.settings"]
    app.extensions["changtong.readiness"] = Readiness(settings)
    app.extensions["changtong.state_collector"] = StateCollector(settings, app.extensions["changtong.db"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # before CSRF, sign-in, ...
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)  # runs last, on the final answer
    app.register_blueprint(bp)
    csrf.exempt(bp)
    limiter.exempt(bp)
