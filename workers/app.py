"""The Celery application: outbox dispatch, the deadline sweep, search indexing, statistics.

Tasks take ids (or nothing), reload what they need, and are safe to run twice. The web
never talks to the broker: it commits the case and its outbox rows, and the beat's
frequent dispatch carries them out, so a broker that is down delays notices but never
loses a submission. With REDIS_URL set the broker is Redis; without it (the embedded
default) kombu's SQLAlchemy transport on a SQLite file in the data directory. What beat
sends, and how often, is the one table in workers/schedule.py. Each task belongs to the app
that defined it (shared=False): a second app in one process (the tests make several) gets
its own tasks bound to its own settings, not the first app's.
"""
from __future__ import annotations

import logging

from celery import Celery

from casework.context import Services
from casework.db import Database
from casework.settings import Settings
from workers.schedule import beat_schedule

log = logging.getLogger("changtong.workers")

FANOUT_AT = 50  # a backlog larger than this is split across worker processes
BATCH = 50


def broker_urls(settings: Settings) -> tuple[str, str]:
    if settings.redis_url:
        return settings.redis_url, settings.redis_url
    return (f"sqla+sqlite:///{settings.data_dir / 'broker.db'}",
            f"db+sqlite:///{settings.data_dir / 'results.db'}")


def make_celery(settings: Settings) -> Celery:
    broker, backend = broker_urls(settings)
    app = Celery("changtong", broker=broker, backend=backend)
    app.conf.update(
        task_acks_late=True,  # a task killed mid-way is delivered again; tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # retry the broker for as long as it is down: Celery's default of 100 retries (~45 min) then
        # exits the worker; None is forever (kombu 5.7 reads 0 as never retry)
        broker_connection_max_retries=None,
        timezone="Asia/Shanghai",
        beat_schedule=beat_schedule(settings),
    )
    state: dict = {}

    def context() -> tuple[Database, Services]:
        if "db" not in state:  # one engine per worker process, made after fork
            state["db"] = Database(settings.database_url)
            state["services"] = Services.from_settings(settings)
        return state["db"], state["services"]

    @app.task(name="changtong.dispatch_outbox", shared=False)
    def dispatch_outbox() -> dict:
        """Send what is due: a few inline, a backlog fanned out in batches so that every
        worker process takes a share."""
        from casework.notify.dispatch import due_ids, send_message

        db, services = context()
        ids = due_ids(db, services.clock(), limit=5000)
        if len(ids) <= FANOUT_AT:
            return {"sent_inline": sum(send_message(db, services, i) == "sent" for i in ids)}
        for start in range(0, len(ids), BATCH):
            send_outbox_batch.delay(ids[start:start + BATCH])
        return {"batches": (len(ids) + BATCH - 1) // BATCH}

    @app.task(name="changtong.send_outbox_batch", shared=False)
    def send_outbox_batch(message_ids: list[int]) -> dict:
        from casework.notify.dispatch import send_batch

        db, services = context()
        return send_batch(db, services, message_ids)

    @app.task(name="changtong.send_outbox_message", shared=False)
    def send_outbox_message(message_id: int) -> str:
        from casework.notify.dispatch import send_message

        db, services = context()
        return send_message(db, services, message_id)

    @app.task(name="changtong.sweep_deadlines", shared=False)
    def sweep_deadlines() -> dict:
        from casework.deadlines.sweep import sweep

        db, services = context()
        return sweep(db, services).as_dict()

    from workers import metrics, retention_tasks, search_tasks, stats_tasks

    search_tasks.register(app, context)
    stats_tasks.register(app, context)
    retention_tasks.register(app, context)
    metrics.install(app, settings)  # task counters, JSON logs, the metrics port
    return app
