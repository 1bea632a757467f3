"""Gunicorn settings for Changtong: `gunicorn -c gunicorn.conf.py web.wsgi:app`.

Gunicorn also reads this file on its own when it starts in the repository's root. Options
given on the command line win over what is set here.

The settings below come from the process environment and from `.env`, loaded here first, the
way the app loads it (web/wsgi.py: python-dotenv's load_dotenv(), which finds the `.env` of the
directory this file is in, or of the nearest directory above it). A variable the process already
has wins over the same line in `.env` (so `make run`'s CHANGTONG_BIND, or a systemd unit's
Environment=, wins); PYTHON_DOTENV_DISABLED=1 turns `.env` off.

Environment:
  CHANGTONG_BIND             address to listen on (default 127.0.0.1:5000; the image and
                             docker-compose.yml: 0.0.0.0:8000)
  CHANGTONG_STAFF_BIND       a second address the same workers listen on, for the staff (the desk,
                             supervision, administration: point the staff's entrance at it). Each
                             worker then takes connections from the two addresses in turn, so a
                             flood of public requests cannot queue a handler's page behind it
                             (unset: one address; docker-compose.yml: 0.0.0.0:8001)
  WEB_CONCURRENCY            worker processes (default 2; about 2 x cores + 1 for a busy node)
  CHANGTONG_TIMEOUT          seconds a worker may spend on one request before it is restarted (60)
  FORWARDED_ALLOW_IPS        proxies whose X-Forwarded-Proto/-For are believed (default 127.0.0.1;
                             the address of the reverse proxy in front, or "*" only where nothing
                             else can reach gunicorn's port)
  CHANGTONG_LOG_FORMAT       json (default) or text; CHANGTONG_LOG_LEVEL (INFO)
  CHANGTONG_GUNICORN_ACCESS_LOG=1  also gunicorn's own access lines (off: the app writes one line
                             per request with its id and URL rule; gunicorn's carries the raw path)
  CHANGTONG_PRELOAD          1 (default): load the app in the master before forking the workers
                             (shared memory); 0: in each worker
  PROMETHEUS_MULTIPROC_DIR   where the workers write their metrics; wiped at start. Unset, a private
                             temporary directory is made and removed at exit. One directory per
                             gunicorn instance: two instances must not share one.
"""
import os as _os
import shutil as _shutil
import tempfile as _tempfile
from pathlib import Path as _Path

from dotenv import load_dotenv as _load_dotenv

# -- .env, before anything below reads the environment (the web app's own load_dotenv() in
# web/wsgi.py then finds every variable set and changes nothing) ---------------------------------
_load_dotenv()

# -- metrics: multiprocess mode, chosen before prometheus_client is imported anywhere -----------
if not _os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _os.environ["PROMETHEUS_MULTIPROC_DIR"] = _tempfile.mkdtemp(prefix="changtong-metrics-")  # the workers inherit it
    _os.environ["CHANGTONG_OWN_METRICS_DIR"] = _os.environ["PROMETHEUS_MULTIPROC_DIR"]  # removed at exit
_metrics_dir = _Path(_os.environ["PROMETHEUS_MULTIPROC_DIR"])

from casework import logs as _logs  # noqa: E402

bind = [_os.environ.get("CHANGTONG_BIND", "127.0.0.1:5000")]
# the staff's own door: a sync worker with two listeners selects on both and accepts one
# connection from each that is ready before it looks again (gunicorn's SyncWorker.run_for_multiple),
# so a staff request waits for at most one public request per worker, not for the whole backlog
if _os.environ.get("CHANGTONG_STAFF_BIND"):
    bind.append(_os.environ["CHANGTONG_STAFF_BIND"])
workers = int(_os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# the app (and what it loads: the calendar, jieba-rs's dictionary) is loaded once in the master
# and the workers fork from it, sharing those pages: about half the memory per worker (PSS).
# CHANGTONG_PRELOAD=0 loads it in each worker instead (needed for `kill -HUP` code reloads).
preload_app = _os.environ.get("CHANGTONG_PRELOAD", "1") != "0"
timeout = int(_os.environ.get("CHANGTONG_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# X-Forwarded-* headers are believed only from these addresses (gunicorn's own default too)
forwarded_allow_ips = _os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# requests larger than this header size are refused before the app sees them
limit_request_line = 8190
# no control socket ($HOME/.gunicorn/gunicorn.ctl): nothing uses it, and two instances on one
# host would contend for the one path
control_socket_disable = True

# -- logs: every line a JSON object (casework.logs), personal data masked ------------------------
# the access format, should gunicorn's access log be turned on: no client address, no query string
access_log_format = '%(m)s %(U)s %(s)s %(B)s %(M)sms'
logger_class = "web.ops.accesslog.Logger"  # builds no access line the level below drops
logconfig_dict = _logs.dict_config()
logconfig_dict["filters"]["request_id"] = {"()": "web.ops.RequestIdFilter"}
logconfig_dict["handlers"]["changtong"]["filters"].append("request_id")
logconfig_dict["loggers"].update({
    "gunicorn.error": {"level": _logs.level(), "handlers": ["changtong"], "propagate": False},
    "alembic": {"level": "WARNING"},  # /readyz reads the schema's revision: no line per probe
    "gunicorn.access": {"level": "INFO" if _os.environ.get("CHANGTONG_GUNICORN_ACCESS_LOG") == "1" else "WARNING",
                        "handlers": ["changtong"], "propagate": False},
})


def on_starting(server):
    """The master, before the first worker: counters of an earlier run are wiped."""
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink(missing_ok=True)
    # (jieba's Python dictionary is not loaded: the words come from jieba-rs, casework.search.segment)
    # the official calendar of the years deadlines fall in (python-holidays imports its countries on
    # first use: 0.4-0.8 s in each worker's first filing otherwise)
    from casework.deadlines.calendar import warm

    warm()


def when_ready(server):
    """The master, right before it forks the workers: what the preloaded app made (the app,
    the dictionaries, the calendar: some 170,000 objects) goes into the collector's permanent
    generation, so no worker's collection walks it again. Before this, a worker's full
    collection took 150 ms in the middle of a request, and touching those objects'
    headers copied the pages the workers otherwise share."""
    import gc

    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """A worker's own database connections: none opened in the master is shared after the fork
    (SQLAlchemy's advice for forking; create_app opens none, this keeps it that way)."""
    if preload_app:
        db = server.app.wsgi().extensions.get("changtong.db")
        if db is not None:
            db.engine.dispose(close=False)


def child_exit(server, worker):
    """A worker that ended (restarted or stopped) hands back its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))


def on_exit(server):
    own = _os.environ.get("CHANGTONG_OWN_METRICS_DIR")
    if own and own == str(_metrics_dir):
        _shutil.rmtree(own, ignore_errors=True)
