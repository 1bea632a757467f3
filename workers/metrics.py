"""What the workers tell an operator: task counters for Prometheus and structured log lines.

Counters come from Celery's task signals, in the process that ran the task (a prefork
child). With CHANGTONG_WORKER_METRICS_PORT set, the worker's main process serves them over
HTTP (``/metrics`` on that port, CHANGTONG_WORKER_METRICS_ADDR, default 127.0.0.1): the
children write their counters to PROMETHEUS_MULTIPROC_DIR (a private temporary directory
when that is unset, wiped at start either way) and a scrape adds them up.

Logs: Celery's own handlers write casework.logs JSON lines (masked), and every task that
ends writes one line with its name, id, outcome and runtime (never its arguments or result).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery, signals

from casework import logs
from casework.settings import Settings

log = logging.getLogger("changtong.tasks")
_state: dict = {"started": {}}


def _metrics():
    """Made on first use, after the multiprocess directory is chosen (prometheus_client
    decides between in-memory and file-backed values when a value is made)."""
    if "tasks" not in _state:
        from prometheus_client import Counter, Histogram, disable_created_metrics

        disable_created_metrics()
        _state["tasks"] = Counter("changtong_tasks", "Tasks that ended, by task and outcome (success, failure, retry).",
                                  ["task", "outcome"])
        _state["failures"] = Counter("changtong_task_failures", "Tasks that raised an error, by task.", ["task"])
        _state["duration"] = Histogram("changtong_task_duration_seconds", "Time a task ran, by task.", ["task"],
                                       buckets=(.01, .05, .1, .5, 1, 5, 10, 30, 60, 300))
    return _state


def _on_prerun(task_id=None, **_):
    _state["started"][task_id] = time.monotonic()


def _on_postrun(task_id=None, task=None, state=None, **_):
    started = _state["started"].pop(task_id, None)
    seconds = time.monotonic() - started if started is not None else 0.0
    name = getattr(task, "name", "?")
    _metrics()["duration"].labels(name).observe(seconds)
    outcome = (state or "unknown").lower()
    log.log(logging.INFO if outcome in ("success", "retry") else logging.WARNING, "task %s %s", name, outcome,
            extra={"task": name, "task_id": task_id, "outcome": outcome, "runtime_ms": round(seconds * 1000, 1)})


def _on_success(sender=None, **_):
    _metrics()["tasks"].labels(sender.name, "success").inc()


def _on_failure(sender=None, **_):
    m = _metrics()
    m["tasks"].labels(sender.name, "failure").inc()
    m["failures"].labels(sender.name).inc()


def _on_retry(sender=None, **_):
    _metrics()["tasks"].labels(sender.name, "retry").inc()


def _json_logs(logger=None, **_):
    if logger is not None:
        logs.apply_to(logger)
        logging.captureWarnings(True)  # a warning is a log line too, not free text on stderr


def multiprocess_dir() -> Path:
    """The directory the pool's children write their counters to: PROMETHEUS_MULTIPROC_DIR,
    or a temporary one of this worker's (set in the environment the children inherit).

    Not a Settings field: PROMETHEUS_MULTIPROC_DIR is prometheus_client's own convention, read
    by the library from the environment of every process (the pool's children too), so the
    environment is where it must be; read here when the worker starts, never at import."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own = tempfile.mkdtemp(prefix="changtong-worker-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own
        _state["own_dir"] = own
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # counters of an earlier run
        stale.unlink(missing_ok=True)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported before the directory was set: file-backed from now on
        values.ValueClass = values.get_value_class()
    return path


def install(app: Celery, settings: Settings) -> None:
    """Connect the signals (once per process, whatever the number of apps made)."""
    if _state.get("installed"):
        return
    _state["installed"] = True
    signals.after_setup_logger.connect(_json_logs, weak=False)
    signals.after_setup_task_logger.connect(_json_logs, weak=False)
    signals.task_prerun.connect(_on_prerun, weak=False)
    signals.task_postrun.connect(_on_postrun, weak=False)
    signals.task_success.connect(_on_success, weak=False)
    signals.task_failure.connect(_on_failure, weak=False)
    signals.task_retry.connect(_on_retry, weak=False)
    if not settings.worker_metrics_port:
        return

    def prepare(**_):  # the worker's main process, before the pool forks
        _state["dir"] = multiprocess_dir()

    def serve(**_):
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(_state["dir"]))
        _state["server"], _ = start_http_server(settings.worker_metrics_port, settings.worker_metrics_addr,
                                                registry=registry)
        log.info("task metrics on %s:%s/metrics", settings.worker_metrics_addr, settings.worker_metrics_port)

    def stop(**_):
        server = _state.pop("server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
        if _state.get("own_dir"):
            shutil.rmtree(_state.pop("own_dir"), ignore_errors=True)

    signals.worker_init.connect(prepare, weak=False)
    signals.worker_ready.connect(serve, weak=False)
    signals.worker_shutdown.connect(stop, weak=False)
