"""The search index's worker task: index what changed since the watermark.

Wired by workers/app.py (inside make_celery, after the other tasks)::

    from workers import search_tasks
    search_tasks.register(app, context)

and in the beat schedule::

    "index-search": {"task": "changtong.index_search", "schedule": SEARCH_SECONDS,
                     "options": {"expires": 2 * SEARCH_SECONDS}},

The task reads ``Case.updated_at >= watermark`` from the database (the database is the
outbox: every committed change moves updated_at), writes the index, and only then stores the
new watermark, so a broker or worker that was down delays the index but never loses a change.
It is safe to run twice and concurrently (a file lock serialises batches).
"""
from __future__ import annotations

import os
from typing import Callable

SEARCH_SECONDS = float(os.environ.get("CHANGTONG_SEARCH_SECONDS", "10"))


def register(app, context: Callable) -> None:
    @app.task(name="changtong.index_search")
    def index_search() -> dict:
        from casework.search import make_backend
        from casework.search.sync import sync_once

        db, services = context()
        return {"indexed_new": sync_once(db, services, make_backend(services.settings, db))}

    app.conf.beat_schedule.setdefault(
        "index-search", {"task": "changtong.index_search", "schedule": SEARCH_SECONDS,
                         # a queued run older than the next one is dropped: one run indexes
                         # everything since the watermark, so a backlog of runs only delays
                         # the other tasks (the outbox) behind it
                         "options": {"expires": 2 * SEARCH_SECONDS}})
