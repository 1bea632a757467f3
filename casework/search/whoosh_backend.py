"""Whoosh (whoosh-reloaded) with jieba's Chinese analyzer.

Layout under the root directory (``data_dir/search``)::

    index -> index-<hex>     a symlink to the live index; a rebuild writes a new directory
    index-<hex>/             and swaps the link with an atomic rename (os.replace)
    watermark                the incremental indexer's position (casework.search.sync)

Permission filtering is a filter query inside the search (``unit`` is ``u<id>``, ``triage``
for a case waiting for routing, ``none`` for a case without a unit that is not waiting), so a
hit the user may not see is neither returned nor counted. Writers take Whoosh's write lock
with a timeout (``ix.writer(timeout=…)``): two processes wait for each other instead of
corrupting the index, and a writer that cannot get the lock raises instead of losing work.
"""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from markupsafe import Markup, escape
from whoosh import highlight, index
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.qparser import AndGroup, FieldsPlugin, MultifieldParser, WildcardPlugin
from whoosh.query import And, DateRange, Every, Or, Term

from casework.search.backend import CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult

TEXT_FIELDS = ("title", "description", "replies", "association_name")
FIELD_BOOSTS = {"title": 3.0, "association_name": 1.5, "description": 1.0, "replies": 1.0}
WRITE_TIMEOUT = 60.0
SNIPPET_CHARS = 160
BUILD_LIMIT_MB = 128  # per writing process


def build_procs() -> int:
    """Processes for a full rebuild: one per core, but one inside a daemon process (a Celery
    prefork child may not start children)."""
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _analyzer():
    from jieba.analyse import ChineseAnalyzer

    return ChineseAnalyzer()


def make_schema() -> Schema:
    analyzer = _analyzer()
    return Schema(
        case_id=ID(stored=True, unique=True),
        number=ID(stored=True),
        type=ID(stored=True),
        state=ID(stored=True),
        category=ID(stored=True),
        unit=ID(stored=True),
        unit_id=STORED(),
        association_id=ID(stored=True),
        submitted_at=DATETIME(stored=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=FIELD_BOOSTS["title"]),
        description=TEXT(analyzer=analyzer, stored=True),
        replies=TEXT(analyzer=analyzer, stored=True),
        association_name=TEXT(analyzer=analyzer, stored=True, field_boost=FIELD_BOOSTS["association_name"]),
    )


def unit_key(unit_id: int | None, state: str) -> str:
    if unit_id is not None:
        return f"u{unit_id}"
    return "triage" if state == "received" else "none"


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


class MarkFormatter(highlight.Formatter):
    """Escapes all case text; the only markup it emits is <mark> around a matched term."""

    between = "…"

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return "<mark>%s</mark>" % escape(highlight.get_text(text, token, replace))


class WhooshBackend(SearchBackend):
    """One instance per index root and process (``casework.search.default_backend`` keeps
    it): the open index is shared by the threads, each thread keeps its own searcher and
    refreshes it when a writer has committed (a directory listing, no reopen), and a rebuild
    that swapped the link makes the next search open the new index."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._ix = None
        self._ix_target: str | None = None
        self._local = threading.local()

    # -- directories -------------------------------------------------------------------------
    @property
    def link(self) -> Path:
        return self.root / "index"

    def _new_dir(self) -> Path:
        """An empty index under a ``building-`` name: no swap ever removes it while it is
        being filled; ``_finish`` renames it to ``index-…`` when it is complete."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"building-{secrets.token_hex(6)}"
        path.mkdir()
        index.create_in(str(path), make_schema())
        return path

    @staticmethod
    def _finish(path: Path) -> Path:
        done = path.with_name(path.name.replace("building-", "index-", 1))
        os.replace(path, done)
        return done

    def _swap(self, path: Path) -> None:
        """Point the live link at ``path`` in one rename; remove older index directories
        (the one just replaced is kept, for searchers that still hold it open)."""
        previous = self.link.resolve() if self.link.is_symlink() else None
        tmp = self.root / f".index-link-{secrets.token_hex(4)}"
        os.symlink(path.name, tmp)
        os.replace(tmp, self.link)
        keep = {path.name, previous.name if previous else None}
        for old in self.root.glob("index-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def _target(self) -> str | None:
        try:
            return os.readlink(self.link)
        except OSError:
            return None

    def _open(self):
        """The live index, opened once per link target."""
        target = self._target()
        with self._lock:
            if self._ix is not None and target is not None and target == self._ix_target:
                return self._ix
        ix = self._open_fresh()
        with self._lock:
            self._ix, self._ix_target = ix, self._target()
        return ix

    def _searcher(self):
        """This thread's searcher over the live index, brought up to date."""
        ix = self._open()
        held = getattr(self._local, "held", None)
        if held is not None and held[0] is ix and held[1].up_to_date():
            searcher = held[1]  # nothing committed since: a directory listing, no reopening
        elif held is not None and held[0] is ix and held[1].reader().segments():
            searcher = held[1].refresh()  # reopens only the segments that changed
        else:
            if held is not None:
                held[1].close()
            searcher = ix.searcher()
        self._local.held = (ix, searcher)
        return searcher

    def _open_fresh(self):
        if not self.link.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / "create.lock", "a+") as fh:  # first use: one process creates it
                fcntl.flock(fh, fcntl.LOCK_EX)
                if not self.link.exists():
                    self._swap(self._finish(self._new_dir()))
        return index.open_dir(str(self.link))

    # -- writing -----------------------------------------------------------------------------
    @staticmethod
    def _fields(doc: CaseDoc) -> dict:
        return {
            "case_id": str(doc.case_id),
            "number": doc.number,
            "type": doc.type,
            "state": doc.state,
            "category": doc.category_code,
            "unit": unit_key(doc.unit_id, doc.state),
            "unit_id": doc.unit_id,
            "association_id": str(doc.association_id or ""),
            "submitted_at": _naive_utc(doc.submitted_at),
            "title": doc.title,
            "description": doc.description,
            "replies": "\n".join(doc.replies),
            "association_name": doc.association_name or "",
        }

    def _write(self, ix, docs: Iterable[CaseDoc], *, replace: bool = True) -> int:
        writer = ix.writer(timeout=WRITE_TIMEOUT)
        n = 0
        try:
            for doc in docs:
                (writer.update_document if replace else writer.add_document)(**self._fields(doc))
                n += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return n

    def index_cases(self, docs: Iterable[CaseDoc]) -> int:
        return self._write(self._open(), docs)

    def delete(self, case_ids: Iterable[int]) -> None:
        ix = self._open()
        writer = ix.writer(timeout=WRITE_TIMEOUT)
        for case_id in case_ids:
            writer.delete_by_term("case_id", str(case_id))
        writer.commit()

    def build_new(self, batches: Iterable[Iterable[CaseDoc]], procs: int | None = None) -> tuple[Path, int]:
        """Write every document into a new directory (not yet live); returns it and the count.
        A failure removes the new directory and leaves the live index untouched.

        One writer takes every batch; with ``procs`` > 1 (default: the machine's cores, where
        this process may start children) Whoosh's multiprocessing writer analyses and writes
        a segment per process, about 1.8× faster on two cores."""
        self._remove_abandoned()
        path = self._new_dir()
        procs = build_procs() if procs is None else procs
        options = {"procs": procs, "multisegment": True} if procs > 1 else {}
        try:
            writer = index.open_dir(str(path)).writer(timeout=WRITE_TIMEOUT, limitmb=BUILD_LIMIT_MB, **options)
            n = 0
            try:
                for batch in batches:
                    for doc in batch:
                        writer.add_document(**self._fields(doc))
                        n += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return self._finish(path), n

    def _remove_abandoned(self, older_than: float = 24 * 3600) -> None:
        """A rebuild killed mid-way leaves its building- directory behind: remove old ones."""
        now = time.time()
        for old in self.root.glob("building-*"):
            if now - old.stat().st_mtime > older_than:
                shutil.rmtree(old, ignore_errors=True)

    def swap_in(self, path: Path) -> None:
        self._swap(path)

    def rebuild(self, batches: Iterable[Iterable[CaseDoc]]) -> int:
        """Build a new index and swap it in: search answers from the old one until the rename."""
        path, n = self.build_new(batches)
        self._swap(path)
        return n

    def clear(self) -> None:
        self._swap(self._finish(self._new_dir()))

    def count(self) -> int:
        return self._open().doc_count()

    # -- searching ---------------------------------------------------------------------------
    @staticmethod
    def _filter(query: SearchQuery):
        parts = []
        if query.unit_ids is not None:
            allowed = [Term("unit", f"u{u}") for u in sorted(query.unit_ids)]
            if query.include_triage:
                allowed.append(Term("unit", "triage"))
            parts.append(Or(allowed))
        if query.state:
            parts.append(Term("state", query.state))
        if query.type:
            parts.append(Term("type", query.type))
        if query.category:
            parts.append(Term("category", query.category))
        if query.unit is not None:
            parts.append(Term("unit", f"u{query.unit}"))
        if query.date_from or query.date_to:
            parts.append(DateRange("submitted_at", _naive_utc(query.date_from), _naive_utc(query.date_to),
                                   endexcl=True))
        return And(parts) if parts else None

    def _parse(self, schema, text: str):
        text = (text or "").strip()
        if not text:
            return Every()
        parser = MultifieldParser(list(TEXT_FIELDS), schema, fieldboosts=FIELD_BOOSTS, group=AndGroup)
        # words only: no "field:" syntax (ids and filters are not for typing), no wildcards
        # (a prefix scan over a large index is slow); AND, NOT, OR and "phrases" still work
        parser.remove_plugin_class(FieldsPlugin)
        parser.remove_plugin_class(WildcardPlugin)
        return parser.parse(text)

    def search(self, query: SearchQuery) -> SearchResult:
        per_page = max(1, min(query.per_page, 100))
        page = max(1, query.page)
        if query.sees_nothing:
            return SearchResult([], 0, page, per_page)
        searcher = self._searcher()
        q = self._parse(searcher.schema, query.text)
        # no words: newest first; words: ranked (BM25F)
        order = {} if query.text.strip() else {"sortedby": "submitted_at", "reverse": True}
        results = searcher.search(q, filter=self._filter(query), limit=page * per_page, terms=True,
                                  **order)
        total = len(results)
        results.formatter = MarkFormatter()
        title_hl = highlight.Highlighter(fragmenter=highlight.WholeFragmenter(), formatter=MarkFormatter())
        snippet_hl = highlight.Highlighter(
            fragmenter=highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=40),
            formatter=MarkFormatter())
        hits = []
        for hit in results[(page - 1) * per_page:page * per_page]:
            results.highlighter = title_hl
            title = hit.highlights("title") or str(escape(hit["title"]))
            results.highlighter = snippet_hl
            snippet = ""
            for field in ("description", "replies", "association_name"):
                snippet = hit.highlights(field, top=2)
                if snippet:
                    break
            if not snippet:
                snippet = str(escape(hit["description"][:SNIPPET_CHARS]))
            submitted = hit.get("submitted_at")
            hits.append(SearchHit(
                case_id=int(hit["case_id"]), number=hit["number"], state=hit["state"], type=hit["type"],
                unit_id=hit.get("unit_id"),
                submitted_at=submitted.replace(tzinfo=timezone.utc) if submitted else None,
                score=float(hit.score or 0.0),
                title_html=Markup(title), snippet_html=Markup(snippet)))
        return SearchResult(hits, total, page, per_page)
