"""A real Celery worker (prefork, Redis broker) counts its tasks on its metrics port and
writes one JSON line per task that ends."""
import json
import urllib.request

import pytest
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from tests.workers.conftest import free_port, wait_for

# a Celery worker process reads and writes the rows: the test commits them
pytestmark = [pytest.mark.redis, pytest.mark.commits]


def _scrape(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_failing_task_counts_on_the_worker_metrics_port(redis_server, start_worker, db, tmp_path):
    port = free_port()
    worker = start_worker(redis_server.url, CHANGTONG_WORKER_METRICS_PORT=port)
    wait_for(lambda: _port_open(port), timeout=60, what="the worker's metrics port")
    client = Celery("probe", broker=redis_server.url)
    # a task given an argument it does not take raises TypeError in the worker: a failure
    client.send_task("changtong.sweep_deadlines", args=["13800138000"])
    failures = ("changtong_task_failures_total", (("task", "changtong.sweep_deadlines"),))
    wait_for(lambda: _scrape(port).get(failures) == 1.0, timeout=60, what="the failure counted")
    # a task that works: counted as a success, and the failure stays counted once
    client.send_task("changtong.dispatch_outbox")
    success = ("changtong_tasks_total", (("outcome", "success"), ("task", "changtong.dispatch_outbox")))
    got = wait_for(lambda: (lambda s: s if s.get(success) == 1.0 else None)(_scrape(port)), timeout=60,
                   what="the success counted")
    assert got[failures] == 1.0
    assert got[("changtong_tasks_total", (("outcome", "failure"), ("task", "changtong.sweep_deadlines")))] == 1.0
    assert got[("changtong_task_duration_seconds_count", (("task", "changtong.dispatch_outbox"),))] == 1.0
    client.close()

    worker.stop()
    # the log lines (Celery's start-up banner on stdout is not one)
    lines = [line for line in worker.logfile.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    ended = {e["task"]: e for e in entries if e["logger"] == "changtong.tasks" and "task" in e}
    assert ended["changtong.sweep_deadlines"]["outcome"] == "failure"
    assert ended["changtong.dispatch_outbox"]["outcome"] == "success" and ended["changtong.dispatch_outbox"]["runtime_ms"] >= 0
    assert ended["changtong.sweep_deadlines"]["task_id"]
    assert any(e["level"] == "ERROR" and "TypeError" in e.get("exc", "") + e["message"] for e in entries)
    assert "13800138000" not in worker.logfile.read_text(encoding="utf-8")


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
