"""The Celery application: outbox dispatch, the deadline sweep, search indexing, statistics.

Tasks take ids (or nothing), reload what they need, and are safe to run twice. The web
never talks to the broker: it commits the case and its outbox rows, and the beat's
frequent dispatch carries them out, so a broker that is down delays notices but never
loses a submission. With REDIS_URL set the broker is Redis; without it (the embedded
default) kombu's SQLAlchemy transport on a SQLite file in the data directory.
"""
from __future__ import annotations

import logging
import os

from celery import Celery

from casework.context import Services
from casework.db import Database
from casework.settings import Settings

log = logging.getLogger("changtong.workers")

DISPATCH_SECONDS = float(os.environ.get("CHANGTONG_DISPATCH_SECONDS", "5"))
SWEEP_SECONDS = float(os.environ.get("CHANGTONG_SWEEP_SECONDS", "300"))
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
        timezone="Asia/Shanghai",
        beat_schedule={
            # a run still queued when the next is due is dropped (each run does all that is due):
            # otherwise runs that take longer than their interval (indexing under load) pile up
            # in the one queue and notices wait behind them
            "dispatch-outbox": {"task": "changtong.dispatch_outbox", "schedule": DISPATCH_SECONDS,
                                "options": {"expires": 2 * DISPATCH_SECONDS}},
            "sweep-deadlines": {"task": "changtong.sweep_deadlines", "schedule": SWEEP_SECONDS},
        },
    )
    state: dict = {}

    def context() -> tuple[Database, Services]:
        if "db" not in state:  # one engine per worker process, made after fork
            state["db"] = Database(settings.database_url)
            state["services"] = Services.from_settings(settings)
        return state["db"], state["services"]

    @app.task(name="changtong.dispatch_outbox")
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

    @app.task(name="changtong.send_outbox_batch")
    def send_outbox_batch(message_ids: list[int]) -> dict:
        from casework.notify.dispatch import send_batch

        db, services = context()
        return send_batch(db, services, message_ids)

    @app.task(name="changtong.send_outbox_message")
    def send_outbox_message(message_id: int) -> str:
        from casework.notify.dispatch import send_message

        db, services = context()
        return send_message(db, services, message_id)

    @app.task(name="changtong.sweep_deadlines")
    def sweep_deadlines() -> dict:
        from casework.deadlines.sweep import sweep

        db, services = context()
        return sweep(db, services).as_dict()

    from workers import search_tasks, stats_tasks

    search_tasks.register(app, context)
    stats_tasks.register(app, context)
    from workers import retention_tasks  # noqa: E402
    retention_tasks.register(app, context)
    from workers import metrics  # noqa: E402

    metrics.install(app, settings)  # task counters, JSON logs, the metrics port
    return app
