"""Health, readiness, metrics and structured logs, as an operator and Prometheus see them."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.cluster import free_port
from casework.logs import JsonFormatter, RedactFilter, redact
from tests.conftest import needs_service

ROOT = Path(__file__).resolve().parents[2]
PHONE, EMAIL, NAME = "13912345678", "zhang.wei@example.cn", "张伟明"


def samples(text: str) -> dict[tuple, float]:
    """{(name, (label pairs sorted)): value} of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(scrape: dict, name: str, **labels) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client, **headers) -> dict:
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    return samples(resp.get_data(as_text=True))


def app_for(settings, **changes):
    from web.app import create_app

    return create_app(dataclasses.replace(settings, **changes))


# -- liveness and readiness -------------------------------------------------------------------

def test_healthz_answers_without_cookie_or_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in resp.headers and re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


def test_healthz_of_an_app_whose_database_is_gone(settings, tmp_path):
    app = app_for(settings, database_url=f"sqlite:///{tmp_path / 'missing.db'}")
    assert app.test_client().get("/healthz").status_code == 200  # alive: only /readyz says not ready


def test_readyz_ok(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "ok" and "failed" not in body
    assert {k: v["ok"] for k, v in body["checks"].items()} == {"database": True, "schema": True, "data_dir": True}
    assert "Set-Cookie" not in resp.headers


@pytest.mark.parametrize("url", [
    "sqlite:///{tmp}/missing.db",  # a file that is not there (and is not made by the probe)
    "postgresql+psycopg://changtong:s3cretpass@127.0.0.1:{port}/changtong",  # a closed port
])
def test_readyz_names_an_unreachable_database(settings, tmp_path, url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    url = url.format(tmp=tmp_path, port=port)
    client = app_for(settings, database_url=url).test_client()
    started = time.monotonic()
    resp = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "fail" and "database" in body["failed"] and body["checks"]["data_dir"]["ok"]
    text = resp.get_data(as_text=True)
    assert "s3cretpass" not in text and str(port) not in text and "changtong@" not in text
    assert not (tmp_path / "missing.db").exists()


def test_readyz_names_a_schema_behind_the_migrations(settings, tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "old.db").execute("CREATE TABLE alembic_version (version_num VARCHAR(32))").connection.commit()
    resp = app_for(settings, database_url=f"sqlite:///{tmp_path / 'old.db'}").test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["failed"] == ["schema"] and resp.get_json()["checks"]["database"]["ok"]


def test_readyz_names_a_data_dir_that_takes_no_file(settings, db, tmp_path):
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the data directory should be")
    resp = app_for(settings, data_dir=not_a_dir).test_client().get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["failed"] == ["data_dir"]


@pytest.mark.redis
def test_readyz_names_redis_when_it_stops_and_stays_ready(settings, db, tmp_path):
    """Redis down leaves a node ready (200, "degraded"): it still takes every submission, and
    one Redis shared by every node must not take them all out of the load balancer at once."""
    import shutil

    from tests.workers.conftest import RedisServer

    if not shutil.which("redis-server"):
        needs_service("redis-server (apt-get install redis-server)")
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        client = app_for(settings, redis_url=redis.url).test_client()
        ok = client.get("/readyz")
        assert ok.status_code == 200 and ok.get_json()["checks"]["redis"]["ok"]
        assert "changtong_celery_queue_length" in client.get("/metrics").get_data(as_text=True)
    finally:
        redis.stop()
    try:
        down = client.get("/readyz")
        body = down.get_json()
        assert down.status_code == 200 and body["status"] == "degraded" and body["degraded"] == ["redis"]
        assert "failed" not in body and body["checks"]["redis"] == {"ok": False, "error": "ConnectionError",
                                                                   "ms": body["checks"]["redis"]["ms"]}
        assert str(redis.port) not in down.get_data(as_text=True)
    finally:
        app_for(settings)  # the rate limiter is one for all apps: back to its in-memory store


# -- metrics ----------------------------------------------------------------------------------

def test_request_counters_move_by_url_rule(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/v1/cases/TS2026010112345?secret=1").status_code == 404
    client.get("/no/such/page/13800138000")
    after = scrape(client)
    rule = dict(method="GET", endpoint="/api/v1/cases/<number>", status="404")
    assert value(after, "changtong_http_requests_total", **rule) - value(before, "changtong_http_requests_total", **rule) == 3
    unmatched = dict(method="GET", endpoint="<unmatched>", status="404")
    assert value(after, "changtong_http_requests_total", **unmatched) - \
        value(before, "changtong_http_requests_total", **unmatched) == 1
    hist = "changtong_http_request_duration_seconds_count"
    assert value(after, hist, endpoint="/api/v1/cases/<number>") - value(before, hist, endpoint="/api/v1/cases/<number>") == 3
    text = client.get("/metrics").get_data(as_text=True)
    assert "TS2026010112345" not in text and "secret" not in text and "13800138000" not in text


def test_a_made_up_method_is_counted_as_other_under_one_series(client):
    from web.ops import metrics

    before = scrape(client)
    client.open("/healthz", method="QUUX")
    kept = len(metrics._children)  # the series this process has found
    for verb in ("FOO", "BAR"):
        client.open("/healthz", method=verb)
    assert len(metrics._children) == kept  # a client cannot grow it with names of its own
    after = scrape(client)
    other = dict(method="OTHER", endpoint="<unmatched>", status="405")  # no rule matched the method
    assert value(after, "changtong_http_requests_total", **other) - value(before, "changtong_http_requests_total", **other) == 3
    assert not any(dict(labels).get("method") in ("QUUX", "FOO", "BAR") for _, labels in after)


def test_gauges_count_open_and_overdue_cases(settings, db, services, file_case):
    from casework.context import Services
    from casework.cases.models import Case
    from casework.deadlines.sweep import sweep

    late = [file_case().case_id for _ in range(3)]
    with db.session_scope(write=False) as s:
        due = max(s.get(Case, cid).due_at for cid in late)
    sweep(db, Services(settings=services.settings, cipher=services.cipher, files=services.files,
                       clock=lambda: due + timedelta(hours=1)))
    fresh = [file_case() for _ in range(2)]
    assert len(fresh) == 2
    from web.app import create_app

    got = scrape(create_app(settings, services=services, database=db).test_client())  # a cold cache
    assert value(got, "changtong_cases_overdue") == 3
    open_total = sum(v for (name, _), v in got.items() if name == "changtong_cases_open")
    assert open_total == 5 and value(got, "changtong_cases_open", state="pending_acceptance") == 5
    assert value(got, "changtong_dependency_up", dependency="database") == 1
    # filing wrote notices (SMS to the complainant) that no worker has sent
    assert value(got, "changtong_outbox_messages", status="pending") >= 5
    assert value(got, "changtong_outbox_oldest_pending_age_seconds") >= 0


def test_metrics_token_when_set(settings, db):
    client = app_for(settings, metrics_token="t0ken-for-prometheus").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert scrape(client, Authorization="Bearer t0ken-for-prometheus")
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


# -- structured logs ----------------------------------------------------------------------------

def test_one_request_line_with_the_url_rule_and_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="changtong.request")
    resp = client.get(f"/track?number=TS2026010112345&code=7K3M-Q9XD-2HWT-RB4N&phone={PHONE}",
                      headers={"X-Request-ID": "lb-4f2a9c81-0001"})
    assert resp.headers["X-Request-ID"] == "lb-4f2a9c81-0001"
    [record] = [r for r in caplog.records if r.name == "changtong.request"]
    assert (record.request_id, record.method, record.endpoint, record.status) == ("lb-4f2a9c81-0001", "GET", "/track", 200)
    assert record.duration_ms >= 0
    line = JsonFormatter().format(record)
    assert "TS2026010112345" not in line and "7K3M" not in line and PHONE not in line and "?" not in line
    assert json.loads(line)["endpoint"] == "/track"


@pytest.mark.parametrize("incoming", ["has spaces in it", "x" * 200, PHONE, "7K3M-Q9XD-2HWT-RB4N", "short"])
def test_a_request_id_that_is_not_sane_is_replaced(client, incoming):
    resp = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


def _record(msg, *args, exc=None, **extra):
    record = logging.LogRecord("changtong.test", logging.WARNING, __file__, 1, msg, args, exc)
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def test_json_lines_mask_personal_data_in_message_args_and_traceback():
    try:
        raise ValueError(f"bad contact {EMAIL} / +86 139-1234-5678")
    except ValueError:
        exc = sys.exc_info()
    record = _record("filed by %s, phone %s, id %s, code %s", NAME, PHONE, "11010519491231002X",
                     "7k3m-q9xd-2hwt-rb4n", exc=exc, request_id="r-12345678", status=500, data={"phone": PHONE})
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert set(entry) >= {"ts", "level", "logger", "message", "request_id", "status", "exc"}
    assert entry["ts"].endswith("Z") and entry["level"] == "WARNING" and entry["status"] == 500
    for secret in (PHONE, "139-1234-5678", EMAIL, "11010519491231002X", "7k3m", "q9xd"):
        assert secret not in line
    assert "data" not in entry  # a library's extra (Celery's task arguments) is not written
    assert entry["message"] == f"filed by {NAME}, phone [phone], id [id], code [code]"  # names: see docs


def test_redact_filter_keeps_caplog_and_other_handlers_clean():
    record = _record("sms to %s failed", PHONE)
    assert RedactFilter().filter(record) and record.getMessage() == "sms to [phone] failed"
    assert redact("case TS2026112700123, credit code 51100000500009247D") == \
        "case TS2026112700123, credit code 51100000500009247D"  # case numbers and codes of associations stay


def test_the_quick_check_never_lets_through_what_a_pattern_masks():
    """redact skips a text in which no pattern can match (issue 18): on texts made of the
    characters the patterns are built from, it masks exactly as the patterns in turn do."""
    import random

    from casework.logs import _PATTERNS

    def every_pattern(text):
        for mask, pattern in _PATTERNS:
            text = pattern.sub(mask, text)
        return text

    rng = random.Random(18)
    pieces = ["1", "3", "8", "0", "9", "X", "x", "a", "K", "M", "Z", "-", "_", " ", "@", ".", "+86", "86 ",
              "１", "３", PHONE, "139-1234-5678", "11010519491231002X", "7K3M", "Q9XD", "zhang.wei", "example.cn",
              "TS2026112700123", "/api/v1/cases", "GET", "201", "张"]
    texts = ["GET /api/v1/cases 201", "POST /file/<case_type> 303", "r-12345678", PHONE, EMAIL,
             "7K3M-Q9XD-2HWT-RB4N", "7k3mq9xd2hwtrb4n", "+86 139 1234 5678", "１３９１２３４５６７８"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))) for _ in range(20_000)]
    changed = 0
    for text in texts:
        assert redact(text) == every_pattern(text), text
        changed += redact(text) != text
    assert changed > 2_000  # the texts do hold what is masked


def test_text_lines_when_asked_are_masked_too(monkeypatch):
    from casework.logs import TextFormatter, formatter_class

    assert formatter_class() is JsonFormatter
    monkeypatch.setenv("CHANGTONG_LOG_FORMAT", "text")
    assert formatter_class() is TextFormatter
    line = TextFormatter().format(_record("notice to %s", EMAIL, request_id="r-12345678"))
    assert line.endswith("WARNING changtong.test [%d] notice to [email] request_id=r-12345678" % os.getpid())


# -- a real gunicorn --------------------------------------------------------------------------

def _get(url: str, **headers) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _send(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def _gunicorn(settings, tmp_path, **extra):
    """gunicorn -c gunicorn.conf.py web.wsgi:app on a free port, with ``extra`` in its environment;
    yields its base URL and its two output files, once it answers /healthz."""
    import base64

    port = free_port()
    while any(v.endswith(f":{port}") for v in extra.values()):  # not a port ``extra`` binds already
        port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGTONG_", "PROMETHEUS_"))}
    env.update({
        "DATABASE_URL": settings.database_url, "CHANGTONG_DATA_DIR": str(settings.data_dir),
        "CHANGTONG_SECRET_KEY": settings.secret_key,
        "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
        "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode(),
        "CHANGTONG_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "PYTHONPATH": str(ROOT),
        "CHANGTONG_DEV_NOTICE_FILES": "1", **extra,
    })
    env.pop("REDIS_URL", None)
    out, err = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "web.wsgi:app"], cwd=tmp_path, env=env, stdout=fo, stderr=fe,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, err.read_text()
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        yield base, out, err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)


@pytest.fixture
def gunicorn(settings, db, tmp_path):
    with _gunicorn(settings, tmp_path) as served:
        yield served


def _answered_after(staff_port: int, public_port: int, waiting: int = 4, step: float = 0.5) -> int:
    """One worker, busy with a public connection that sends its request late, and ``waiting``
    more such connections queued behind it; then a staff request to ``staff_port``. The public
    requests are released one every ``step`` seconds, in the order they connected. How many
    public requests had been released when the staff request was answered."""
    idle = [socket.create_connection(("127.0.0.1", public_port), timeout=10) for _ in range(1 + waiting)]
    time.sleep(0.2)  # the worker has taken the first and sits reading it
    released, answered = [0], {}

    def staff():
        _get(f"http://127.0.0.1:{staff_port}/healthz")
        answered["after"] = released[0]

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(staff)
        time.sleep(0.2)  # the staff request is in its queue before any public one is released
        for conn in idle:
            time.sleep(step)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            conn.shutdown(socket.SHUT_WR)  # done sending: gunicorn's lingering close need not wait for us
            released[0] += 1
        done.result(timeout=30)
    for conn in idle:
        assert conn.recv(12).startswith(b"HTTP/1.1 200")
        conn.close()
    return answered["after"]


def test_a_staff_request_is_not_queued_behind_the_public_backlog(settings, db, tmp_path):
    """CHANGTONG_STAFF_BIND: the same workers take connections from the staff's address and the
    public one in turn, so a handler's page waits for one public request, not for every public
    request queued before it (a flood of filings would otherwise hold the desk up; issue 18)."""
    staff_port = free_port()
    with _gunicorn(settings, tmp_path, WEB_CONCURRENCY="1", CHANGTONG_STAFF_BIND=f"127.0.0.1:{staff_port}") as (base, *_):
        public_port = int(base.rsplit(":", 1)[1])
        assert _get(f"http://127.0.0.1:{staff_port}/readyz")[0] == 200  # the whole app answers there too
        through_staff_door = _answered_after(staff_port, public_port)
        through_public_door = _answered_after(public_port, public_port)
    # the public door: behind all five public requests; the staff door: after the one the worker
    # was reading and at most the next (taken in the same turn)
    assert through_public_door == 5
    assert through_staff_door <= 2


@pytest.mark.commits  # gunicorn's workers file the case: other processes, rows of their own
def test_gunicorn_aggregates_workers_and_logs_json_without_personal_data(gunicorn, submission_data):
    base, out, err = gunicorn
    body = json.dumps(submission_data(complainant={"name": NAME, "phone": PHONE, "email": EMAIL})).encode()
    status, raw = _send(base + "/api/v1/cases", body, "application/json")
    assert status == 201, raw
    receipt = json.loads(raw)
    number, code = receipt["case_number"], receipt["query_code"]
    status, raw = _get(f"{base}/api/v1/cases/{number}", **{"X-Query-Code": code})
    assert status == 200 and json.loads(raw)["case_number"] == number
    # the query code in a query string and in a form (refused: no CSRF token) is not logged either
    assert _get(f"{base}/track?number={number}&code={code}")[0] == 200
    form = f"number={number}&code={code}&phone={PHONE}".encode()
    assert _send(base + "/track", form, "application/x-www-form-urlencoded")[0] == 400
    assert _get(base + "/readyz")[0] == 200

    n = 60
    with ThreadPoolExecutor(8) as pool:  # concurrent, so that both workers answer some
        assert set(pool.map(lambda _: _get(base + "/api/v1/categories")[0], range(n))) == {200}
    status, raw = _get(base + "/metrics")
    assert status == 200
    got = samples(raw.decode())
    # the scrape counts every request, whichever worker answered it
    assert value(got, "changtong_http_requests_total", method="GET", endpoint="/api/v1/categories", status="200") == n
    assert value(got, "changtong_http_requests_total", method="POST", endpoint="/api/v1/cases", status="201") == 1
    assert value(got, "changtong_http_requests_total", method="GET", endpoint="/api/v1/cases/<number>",
                 status="200") == 1
    assert value(got, "changtong_http_requests_total", method="GET", endpoint="/healthz", status="200") >= 1
    assert value(got, "changtong_cases_open", state="pending_acceptance") >= 1

    time.sleep(0.3)  # let the last lines reach the files
    lines = [line for f in (out, err) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in entries)
    requests = [e for e in entries if e["logger"] == "changtong.request"]
    assert {e["endpoint"] for e in requests} >= {"/api/v1/cases", "/api/v1/cases/<number>", "/track"}
    burst = [e for e in requests if e["endpoint"] == "/api/v1/categories"]
    assert len(burst) == n and len({e["pid"] for e in burst}) == 2, "both workers answered the burst"
    assert all(set(e) >= {"ts", "level", "request_id", "method", "status", "duration_ms"} for e in burst)
    everything = "\n".join(lines)
    for secret in (PHONE, EMAIL, NAME, code, code.replace("-", ""), json.dumps(NAME)[1:-1]):
        assert secret not in everything, secret


@pytest.mark.parametrize("wanted", [False, True])
def test_gunicorn_builds_an_access_line_only_when_it_is_written(monkeypatch, wanted):
    """gunicorn.conf.py's logger (issue 18): with ``gunicorn.access`` at WARNING (the default,
    the app logs each request itself) no access atoms are built; with
    CHANGTONG_GUNICORN_ACCESS_LOG=1 the line is written as gunicorn's own logger writes it."""
    import runpy

    from gunicorn import glogging
    from gunicorn.config import Config

    # gunicorn.conf.py loads the checkout's .env (as the app does): not into this test process
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")
    if wanted:
        monkeypatch.setenv("CHANGTONG_GUNICORN_ACCESS_LOG", "1")
    else:
        monkeypatch.delenv("CHANGTONG_GUNICORN_ACCESS_LOG", raising=False)
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    cfg = Config()
    for name in ("logger_class", "logconfig_dict", "access_log_format"):
        cfg.set(name, conf[name])
    built = []
    monkeypatch.setattr(glogging.Logger, "atoms", lambda self, *a: built.append(a) or {"m": "GET", "U": "/x"})
    lines = []
    logger = cfg.logger_class(cfg)
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger("gunicorn.access").addHandler(handler)
    try:
        logger.access(None, None, {}, timedelta(milliseconds=3))
    finally:
        logging.getLogger("gunicorn.access").removeHandler(handler)
        logging.getLogger("gunicorn.access").setLevel(logging.NOTSET)
    assert bool(built) is wanted
    assert (lines == ["GET /x - - -ms"]) if wanted else lines == []
