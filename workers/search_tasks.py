"""The search index's worker task: index what changed since the watermark.

Wired by workers/app.py (``search_tasks.register(app, context)`` inside make_celery); beat
sends it every CHANGTONG_SEARCH_SECONDS (workers/schedule.py).

The task reads ``Case.updated_at >= watermark`` from the database (the database is the
outbox: every committed change moves updated_at), writes the index, and only then stores the
new watermark, so a broker or worker that was down delays the index but never loses a change.
It is safe to run twice and concurrently (a file lock serialises batches).
"""
from __future__ import annotations

from typing import Callable


def register(app, context: Callable) -> None:
    @app.task(name="changtong.index_search", shared=False)
    def index_search() -> dict:
        from casework.search import make_backend
        from casework.search.sync import sync_once

        db, services = context()
        return {"indexed_new": sync_once(db, services, make_backend(services.settings, db))}
