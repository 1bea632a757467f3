"""Full-text search over cases: a small interface (backend.py), the Whoosh + jieba backend
(whoosh_backend.py), the document a case becomes (documents.py) and the incremental and
full indexing the worker and `changtong reindex` run (sync.py)."""
from __future__ import annotations

import threading
from pathlib import Path

from casework.search.backend import CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult

__all__ = ["CaseDoc", "SearchBackend", "SearchHit", "SearchQuery", "SearchResult", "search_root",
           "default_backend", "make_backend"]


def search_root(settings) -> Path:
    return Path(settings.data_dir) / "search"


_WHOOSH: dict[Path, SearchBackend] = {}
_WHOOSH_LOCK = threading.Lock()


def default_backend(settings) -> SearchBackend:
    """The Whoosh backend for this data directory, one per process: it keeps the index open
    and a searcher per thread between requests (opening a large index costs ~100 ms)."""
    from casework.search.whoosh_backend import WhooshBackend

    root = search_root(settings).resolve()
    with _WHOOSH_LOCK:
        backend = _WHOOSH.get(root)
        if backend is None:
            backend = _WHOOSH[root] = WhooshBackend(root)
        return backend


BACKENDS = ("whoosh", "postgres")


def make_backend(settings, db=None) -> SearchBackend:
    """The configured backend: Whoosh files under data_dir/search (one machine), or the
    ``search_document`` table (PostgreSQL only; many web nodes can share it). Chosen by
    the ``search_backend`` setting (CHANGTONG_SEARCH_BACKEND=whoosh|postgres)."""
    kind = (settings.search_backend or "whoosh").strip().lower()
    if kind == "whoosh":
        return default_backend(settings)
    if kind in ("postgres", "postgresql"):
        from casework.search.pg_backend import PostgresBackend

        if db is None:
            raise ValueError("the postgres search backend needs the database")
        # sync keeps its watermark and lock under root: apart from Whoosh's, so that switching
        # backends does not start the new one from the other's watermark
        return PostgresBackend(db, Path(settings.data_dir) / "search-postgres")
    raise ValueError(f"CHANGTONG_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {kind!r}")
