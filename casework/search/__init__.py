"""Full-text search over cases: a small interface (backend.py), the Whoosh + jieba backend
(whoosh_backend.py), the document a case becomes (documents.py) and the incremental and
full indexing the worker and `changtong reindex` run (sync.py)."""
from __future__ import annotations

from pathlib import Path

from casework.search.backend import CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult

__all__ = ["CaseDoc", "SearchBackend", "SearchHit", "SearchQuery", "SearchResult", "search_root",
           "default_backend"]


def search_root(settings) -> Path:
    return Path(settings.data_dir) / "search"


def default_backend(settings) -> SearchBackend:
    from casework.search.whoosh_backend import WhooshBackend

    return WhooshBackend(search_root(settings))
