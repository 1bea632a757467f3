"""Prometheus metrics of the web: request counters and durations, and gauges read from the
database and Redis when a scrape asks (cached a few seconds).

Under gunicorn with several workers, PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py sees
to it) and each worker writes its counters to files there; a scrape, whichever worker
answers it, adds up every worker's files. Without it (one process: tests, `flask run`) the
plain registry of this process. The gauges are facts of the database, not of a process:
the worker that answers the scrape computes them.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, literal_column, select, text

from casework.cases.models import Case
from casework.cases.queue import OPEN_STATES
from casework.db import Database
from casework.notify.models import OutboxMessage, OutboxStatus
from casework.settings import Settings

disable_created_metrics()  # no *_created series: they double what a scrape carries
REQUESTS = Counter("changtong_http_requests", "HTTP requests answered, by method, URL rule and status.",
                   ["method", "endpoint", "status"])
DURATION = Histogram("changtong_http_request_duration_seconds", "Time to answer a request, by URL rule.",
                     ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # no URL rule (a 404 on a made-up path): one label, not one per path
CACHE_SECONDS = 5.0
# the Celery queues the workers read (kombu keeps priorities 3, 6, 9 in keys of their own)
QUEUES = ("celery",)
_PRIORITY_SEP = "\x06\x16"
_PRIORITIES = ("", "3", "6", "9")


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


_children: dict[tuple[str, str, int], tuple] = {}  # the labelled series, found once (a bounded set)


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    key = (method if method in METHODS else "OTHER", endpoint, status)  # a made-up method is one key
    found = _children.get(key)
    if found is None:  # labels() takes a lock and builds the key every time (issue 18)
        found = _children[key] = (REQUESTS.labels(key[0], endpoint, str(status)), DURATION.labels(endpoint))
    found[0].inc()
    found[1].observe(seconds)


class StateCollector:
    """Gauges computed at scrape time with a few indexed queries, cached CACHE_SECONDS."""

    def __init__(self, settings: Settings, database: Database):
        self.settings, self.database = settings, database
        self._lock = threading.Lock()
        self._cached: tuple[float, list] | None = None

    def collect(self):
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, self._measure())
            return list(self._cached[1])

    def _measure(self) -> list:
        families = []
        up = GaugeMetricFamily("changtong_dependency_up",
                               "1 when the dependency answered the last metrics query, else 0.",
                               labels=["dependency"])
        try:
            families += self._database()
            up.add_metric(["database"], 1)
        except Exception:
            up.add_metric(["database"], 0)
        if self.settings.redis_url:
            try:
                families += self._redis()
                up.add_metric(["redis"], 1)
            except Exception:
                up.add_metric(["redis"], 0)
        return families + [up]

    def _database(self) -> list:
        with self.database.session_scope(write=False) as s:
            by_state = dict(s.execute(select(Case.state, func.count()).where(Case.state.in_(OPEN_STATES))
                                      .group_by(Case.state)).all())
            # from the partial index ix_case_overdue_level (overdue cases only): "case".overdue
            # written bare, as the index says it; on SQLite the state's index is kept out of it
            # with a unary + (else it would read every open case)
            if self.database.is_sqlite:
                open_state = literal_column('+"case".state').in_([st.value for st in OPEN_STATES])
            else:
                open_state = Case.state.in_(OPEN_STATES)
            overdue = s.scalar(select(func.count()).select_from(Case).where(text('"case".overdue'), open_state))
            outbox = dict(s.execute(select(OutboxMessage.status, func.count())
                                    .where(OutboxMessage.status.in_((OutboxStatus.pending, OutboxStatus.sending,
                                                                     OutboxStatus.failed)))
                                    .group_by(OutboxMessage.status)).all())
            oldest = s.scalar(select(func.min(OutboxMessage.created_at))
                              .where(OutboxMessage.status.in_((OutboxStatus.pending, OutboxStatus.sending))))
        open_cases = GaugeMetricFamily("changtong_cases_open", "Open cases (not yet concluded), by state.",
                                       labels=["state"])
        for state in OPEN_STATES:
            open_cases.add_metric([state.value], by_state.get(state, 0))
        overdue_g = GaugeMetricFamily("changtong_cases_overdue", "Open cases past their deadline (超期).",
                                      value=overdue or 0)
        messages = GaugeMetricFamily("changtong_outbox_messages",
                                     "Notices in the outbox not yet sent, by status (pending, sending, failed).",
                                     labels=["status"])
        for status in (OutboxStatus.pending, OutboxStatus.sending, OutboxStatus.failed):
            messages.add_metric([status.value], outbox.get(status, 0))
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
            age = max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds())
        oldest_g = GaugeMetricFamily("changtong_outbox_oldest_pending_age_seconds",
                                     "Age of the oldest notice not yet sent (0 when none waits).", value=age)
        return [open_cases, overdue_g, messages, oldest_g]

    def _redis(self) -> list:
        import redis

        client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in QUEUES:
                for p in _PRIORITIES:
                    pipe.llen(queue + (_PRIORITY_SEP + p if p else ""))
            lengths = pipe.execute()
        finally:
            client.close()
        family = GaugeMetricFamily("changtong_celery_queue_length", "Tasks waiting in a Celery queue (Redis).",
                                   labels=["queue"])
        for i, queue in enumerate(QUEUES):
            family.add_metric([queue], sum(lengths[i * len(_PRIORITIES):(i + 1) * len(_PRIORITIES)]))
        return [family]


class _Process:
    """The counters of this process (the plain registry), as one collector."""

    def collect(self):
        return REGISTRY.collect()


def exposition(state: StateCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.MultiProcessCollector(registry)
    else:
        registry.register(_Process())
    registry.register(state)
    return generate_latest(registry)
