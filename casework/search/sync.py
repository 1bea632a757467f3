"""Keeping the index in step with the database, without a table of its own.

Every committed change to a case moves ``Case.updated_at`` (filing and every state-machine
move), so the database itself is the outbox: ``reindex_changed`` indexes every case whose
``updated_at >= since``. The worker (``sync_once``) keeps its position in
``data_dir/search/watermark`` and writes it only after the batch is committed to the index,
so a worker that dies mid-way redoes the batch; re-indexing replaces a case's document by
case_id, so doing it twice doubles nothing. The new watermark lags the time the batch was
read by OVERLAP, so a transaction that set ``updated_at`` before the read but committed after
it is still picked up next time.

``reindex_all`` builds a whole new index in a new directory and swaps it in with a rename;
afterwards it moves the watermark back to when the rebuild started, so changes made during the
rebuild (which the worker may have written into the old index) are indexed again.
"""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casework.cases.models import Case
from casework.search.backend import SearchBackend
from casework.search.documents import case_doc

BATCH = 500
OVERLAP = timedelta(minutes=2)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _root(backend: SearchBackend) -> Path:
    root = Path(getattr(backend, "root"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def sync_lock(backend: SearchBackend) -> Iterator[None]:
    """One incremental batch or one index swap at a time, across processes."""
    with open(_root(backend) / "sync.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_watermark(backend: SearchBackend) -> datetime:
    path = _root(backend) / "watermark"
    try:
        return datetime.fromisoformat(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return EPOCH


def write_watermark(backend: SearchBackend, value: datetime) -> None:
    root = _root(backend)
    tmp = root / "watermark.tmp"
    tmp.write_text(value.isoformat())
    tmp.replace(root / "watermark")


def _load(session, ids: list[int]) -> list[Case]:
    return list(session.scalars(
        select(Case).where(Case.id.in_(ids)).order_by(Case.id)
        .options(selectinload(Case.events), selectinload(Case.association), selectinload(Case.category))))


def _batches(db, ids_query) -> Iterator[list]:
    """CaseDocs in batches of BATCH, each batch read in its own short read session."""
    with db.session_scope(write=False) as s:
        ids = list(s.scalars(ids_query))
    for start in range(0, len(ids), BATCH):
        with db.session_scope(write=False) as s:
            yield [case_doc(c) for c in _load(s, ids[start:start + BATCH])]


def reindex_changed(db, services, backend: SearchBackend, since: datetime) -> datetime:
    """Index every case with ``updated_at >= since``; returns the watermark for next time
    (to be stored only now that the index has committed)."""
    started = services.clock()
    query = select(Case.id).where(Case.updated_at >= since).order_by(Case.id)
    for docs in _batches(db, query):
        backend.index_cases(docs)
    return max(since, started - OVERLAP)


def sync_once(db, services, backend: SearchBackend) -> int:
    """The worker's scheduled step: index what changed since the stored watermark."""
    with sync_lock(backend):
        since = read_watermark(backend)
        before = backend.count()
        new = reindex_changed(db, services, backend, since)
        write_watermark(backend, new)
        return backend.count() - before


def case_count(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count(Case.id))) or 0


def reindex_all(db, services, backend: SearchBackend,
                progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index into a new directory and swap it in; search keeps answering
    from the old index meanwhile. ``progress(n)`` is called after each batch of n cases."""
    started = services.clock()

    def batches():
        for docs in _batches(db, select(Case.id).order_by(Case.id)):
            yield docs
            if progress is not None:
                progress(len(docs))

    build_new = getattr(backend, "build_new", None)
    if build_new is not None:
        # the long part runs unlocked; only the swap and the watermark wait for the worker
        path, n = build_new(batches())
        with sync_lock(backend):
            backend.swap_in(path)
            write_watermark(backend, min(read_watermark(backend), started - OVERLAP))
        return n
    backend.clear()
    n = sum(backend.index_cases(docs) for docs in batches())
    with sync_lock(backend):
        write_watermark(backend, min(read_watermark(backend), started - OVERLAP))
    return n
