"""Whoosh (whoosh-reloaded) with jieba's Chinese analyzer.

Layout under the root directory (``data_dir/search``)::

    index -> index-<hex>     a symlink to the live index; a rebuild writes a new directory
    index-<hex>/             and swaps the link with an atomic rename (os.replace)
    watermark                the incremental indexer's position (casework.search.sync)

The searchable text is one field (``text``); title, description, replies and association name
are stored beside it for display, highlighted by casework.search.text as the PostgreSQL backend
does; a query that is a case number also finds that case. Counting stops at COUNT_CAP
matches (a common word matches a fifth of all cases).

Permission filtering is a filter query inside the search (``unit`` is ``u<id>``, ``triage``
for a case waiting for routing, ``none`` for a case without a unit that is not waiting), so a
hit the user may not see is neither returned nor counted. Writers take Whoosh's write lock
with a timeout (``ix.writer(timeout=…)``): two processes wait for each other instead of
corrupting the index, and a writer that cannot get the lock raises instead of losing work.
"""
from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from markupsafe import Markup
from whoosh import index
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.qparser import AndGroup, FieldsPlugin, QueryParser, WildcardPlugin
from whoosh.query import And, DateRange, Every, Not, Or, Term

from casework.cases.numbers import is_well_formed, normalize_number
from casework.search.backend import COUNT_CAP, CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult
from casework.search.text import analyzer, hit_html

# the searchable text of a case: its title (twice, so that a match there weighs more), the
# association's name, the description and the public replies, in one field; one posting list
# per word lets Whoosh skip blocks that cannot reach the top results (a common word over a
# million cases in ~20 ms, where four fields took ~300 ms)
TITLE_REPEAT = 2
log = logging.getLogger(__name__)
WRITE_TIMEOUT = 60.0
BUILD_LIMIT_MB = 128  # per writing process
SCHEMA_FIELD = "text"  # an index without it was built by an earlier version: rebuilt on open


def build_procs() -> int:
    """Processes for a full rebuild: one per core, but one inside a daemon process (a Celery
    prefork child may not start children)."""
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def make_schema() -> Schema:
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
        text=TEXT(analyzer=analyzer()),
        # shown (and highlighted) with a hit, not searched field by field
        title=STORED(),
        description=STORED(),
        replies=STORED(),
        association_name=STORED(),
    )


def unit_key(unit_id: int | None, state: str) -> str:
    if unit_id is not None:
        return f"u{unit_id}"
    return "triage" if state == "received" else "none"


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


class WhooshBackend(SearchBackend):
    """One instance per index root and process (``casework.search.default_backend`` keeps
    it): the open index is shared by the threads, each thread keeps its own searcher (is it up
    to date is a directory listing) and opens a new one after a writer has committed, and a
    rebuild that swapped the link makes the next search open the new index."""

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
        elif held is not None and held[0] is ix:
            searcher = _reopen(ix, held[1])
        else:
            if held is not None:
                held[1].close()
            searcher = ix.searcher()
        self._local.held = (ix, searcher)
        return searcher

    def _open_fresh(self):
        if not self.link.exists() or not self._current(index.open_dir(str(self.link))):
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / "create.lock", "a+") as fh:  # one process creates or replaces it
                fcntl.flock(fh, fcntl.LOCK_EX)
                if not self.link.exists():
                    self._swap(self._finish(self._new_dir()))
                elif not self._current(index.open_dir(str(self.link))):
                    self._replace_outdated()
        return index.open_dir(str(self.link))

    @staticmethod
    def _current(ix) -> bool:
        return SCHEMA_FIELD in ix.schema.names()

    def _replace_outdated(self) -> None:
        """An index from an earlier version (other fields): swap in an empty one and move the
        indexer's watermark back to the beginning, so the worker indexes every case again
        (search answers from what is indexed so far; `changtong reindex` does it at once)."""
        from casework.search.sync import EPOCH, write_watermark

        log.warning("search index %s has an earlier schema: replaced; the worker re-indexes every case",
                    self.link.resolve())
        self._swap(self._finish(self._new_dir()))
        write_watermark(self, EPOCH)

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
            "text": "\n".join([doc.title] * TITLE_REPEAT + [doc.association_name or "", doc.description, *doc.replies]),
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
        parser = QueryParser(SCHEMA_FIELD, schema, group=AndGroup)
        # words only: no "field:" syntax (ids and filters are not for typing), no wildcards
        # (a prefix scan over a large index is slow); AND, NOT, OR and "phrases" still work
        parser.remove_plugin_class(FieldsPlugin)
        parser.remove_plugin_class(WildcardPlugin)
        return parser.parse(text)

    @staticmethod
    def _count(searcher, q, filter_q, results) -> tuple[int, bool]:
        """(matches up to COUNT_CAP, whether there are more), within the same filter."""
        if results.has_exact_length():
            n = len(results)
            return min(n, COUNT_CAP), n > COUNT_CAP
        n = 0
        for _ in searcher.docs_for_query(And([q, filter_q]) if filter_q is not None else q):
            n += 1
            if n > COUNT_CAP:
                return COUNT_CAP, True
        return n, False

    def search(self, query: SearchQuery) -> SearchResult:
        per_page = max(1, min(query.per_page, 100))
        page = max(1, query.page)
        if query.sees_nothing:
            return SearchResult([], 0, page, per_page)
        searcher = self._searcher()
        q = self._parse(searcher.schema, query.text)
        number = case_number(query.text)
        if number is not None:  # a case number typed: that case, besides any text that says it
            q = Or([q, Term("number", number)])
        filter_q = self._filter(query)
        # no words: newest first; words: ranked (BM25F), skipping blocks that cannot make the page
        order = {} if query.text.strip() else {"sortedby": "submitted_at", "reverse": True}
        results = searcher.search(q, filter=filter_q, limit=page * per_page, **order)
        total, more = self._count(searcher, q, filter_q, results)
        terms = positive_terms(q)
        hits = []
        for hit in results[(page - 1) * per_page:page * per_page]:
            title, snip = hit_html(terms, hit["title"], hit["description"], hit.get("replies", ""),
                                   hit.get("association_name", ""))
            submitted = hit.get("submitted_at")
            hits.append(SearchHit(
                case_id=int(hit["case_id"]), number=hit["number"], state=hit["state"], type=hit["type"],
                unit_id=hit.get("unit_id"),
                submitted_at=submitted.replace(tzinfo=timezone.utc) if submitted else None,
                score=float(hit.score or 0.0),
                title_html=Markup(title), snippet_html=Markup(snip)))
        return SearchResult(hits, total, page, per_page, more=more)


def _reopen(ix, old):
    """A searcher over the segments the index lists now, keeping the old searcher's reader of
    each segment listed again with the same deletions (opening every segment anew costs
    ~10 ms a segment); the old searcher is not to be used afterwards.

    Not Searcher.refresh(): whoosh-reloaded's ``reader(reuse=…)`` adds back every segment of
    the old reader that the index no longer lists (a writer merged it away) and reuses a
    segment's reader with its old deletions, so each commit that replaced a case made its
    earlier versions show again, more of them with every refresh (issue 16)."""
    from whoosh.reading import EmptyReader, MultiReader, SegmentReader
    from whoosh.searching import Searcher

    toc = ix._read_toc()
    held = {r.segment().segment_id(): r for r, _ in old.reader().leaf_readers() if r.segment() is not None}
    readers = []
    for seg in toc.segments:
        r = held.get(seg.segment_id())
        if r is not None and r.segment().deleted_count() == seg.deleted_count():
            del held[seg.segment_id()]  # unchanged: deletions only ever grow
        else:
            r = SegmentReader(ix.storage, toc.schema, seg, generation=toc.generation)
        readers.append(r)
    for r in held.values():  # merged away, or with new deletions
        r.close()
    old.is_closed = True
    reader = MultiReader(readers, generation=toc.generation) if readers else EmptyReader(toc.schema)
    return Searcher(reader, fromindex=ix)


def case_number(text: str) -> str | None:
    """The case number a query is, as stored (``ts 2026-1127-4839-27`` -> ``TS20261127483927``),
    or None when it is not one."""
    number = normalize_number(text)
    return number if is_well_formed(number) else None


def positive_terms(q) -> set[str]:
    """The words a query looks for (not those it excludes with NOT), to highlight."""
    if isinstance(q, Not):
        return set()
    if q.is_leaf():
        return {text if isinstance(text, str) else text.decode("utf-8")
                for field, text in q.terms(phrases=True) if field == SCHEMA_FIELD}
    out: set[str] = set()
    for child in q.children():
        out |= positive_terms(child)
    return out
