"""Whoosh (whoosh-reloaded) with jieba's words (casework.search.segment, from jieba-rs).

Layout under the root directory (``data_dir/search``)::

    index -> index-<hex>     a symlink to the live index; a rebuild writes a new directory
    index-<hex>/             and swaps the link with an atomic rename (os.replace)
    watermark                the incremental indexer's position (casework.search.sync)

The searchable text is one field (``text``); title, description, replies and association name
are stored beside it for display, highlighted by casework.search.text as the PostgreSQL backend
does; a query that is a case number also finds that case.

Each case also carries its words prefixed with its unit key (``scoped``: ``u12|会费``; the key is
``u<id>``, ``triage`` for a case waiting for routing, ``none`` otherwise) and its unit key with
its state (``unit_state``: ``u12/closed``). A search within some units (a handler's view)
reads those units' postings only, so it costs what their matches cost whatever other units
hold, and a case the user may not see is neither returned nor counted: permission is part of
the query, not a filter over the platform's matches (issue 18).

The ranking is tf·idf, and a search walks at most about COUNT_CAP + 1 matches: it starts near
the end of the index, where the words' frequencies say that many matches are left, and walks
further back only if they are not there. Up to COUNT_CAP matches, all are ranked and counted;
beyond, the count says "more than COUNT_CAP" and the matches indexed last (cases filed or
changed most recently) are ranked. A common word over a million cases costs about the same as
over a thousand.

The index is opened without memory-mapping its files, so what grows with the index stays in
the page cache and not in each web worker's memory, and with this version's schema object
(never unpickling an older one: that would import jieba's analyzer). Writers take Whoosh's
write lock with a timeout (``ix.writer(timeout=…)``): two processes wait for each other instead
of corrupting the index, and a writer that cannot get the lock raises instead of losing work.
"""
from __future__ import annotations

import bisect
import fcntl
import heapq
import logging
import multiprocessing
import os
import secrets
import shutil
import sys
import threading
import time
import weakref
from array import array
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from markupsafe import Markup
from whoosh import scoring
from whoosh.codec.whoosh3 import _INT_SIZE, W3LeafMatcher
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex
from whoosh.qparser import AndGroup, FieldsPlugin, PhrasePlugin, QueryParser, WildcardPlugin, syntax
from whoosh.qparser.common import attach
from whoosh.matching import NullMatcher, NullMatcherClass, ReadTooFar, WrappingMatcher
from whoosh.query import And, DateRange, Every, Not, NullQuery, Or, Phrase, Term, WrappingQuery

from casework.cases.numbers import is_well_formed, normalize_number
from casework.search.backend import COUNT_CAP, CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult
from casework.search.text import PhrasePlan, analyzer, hit_html, lexemes, phrase_plan, says_phrase

# the searchable text of a case: its title (twice, so that a match there weighs more), the
# association's name, the description and the public replies, in one field; one posting list
# per word lets Whoosh skip blocks that cannot reach the top results (a common word over a
# million cases in ~20 ms, where four fields took ~300 ms)
TITLE_REPEAT = 2
log = logging.getLogger(__name__)
WRITE_TIMEOUT = 60.0
BUILD_LIMIT_MB = 128  # per writing process
SCHEMA_FIELD = "text"
# an index whose stored schema lacks it was built by an earlier version: replaced on open and
# filled again by the worker (its pickled schema names its fields)
VERSION_FIELD = "scoped"
SCOPED = "scoped"
# ranking: tf·idf. BM25F's block bound (the block's top weight over its shortest document) is
# so loose on complaints, which are much alike in length, that a common word scored every match:
# 190 ms at 100,000 cases and ~2 s at a million, where tf·idf skips all but a few blocks (2 ms).
# It reads no document lengths either (one file read per match without mmap).
WEIGHTING = scoring.TF_IDF


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
        # the unit's own copy of each word ("u12|会费") and of its state ("u12/closed"): a search
        # within some units reads only those units' postings (issue 18)
        scoped=KEYWORD(scorable=True),
        unit_state=ID(),
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
        FileIndex.create(FileStorage(str(path), supports_mmap=False), make_schema(), "MAIN")
        return path

    @staticmethod
    def _finish(path: Path) -> Path:
        done = path.with_name(path.name.replace("building-", "index-", 1))
        os.replace(path, done)
        return done

    def _swap(self, path: Path, *, keep_previous: bool = True) -> None:
        """Point the live link at ``path`` in one rename; remove older index directories. The
        one just replaced is kept when ``keep_previous`` (a process replacing
        an outdated index, whose own threads may still search it); a rebuild removes it too
        (``swap_in``): a searcher of another process that has it open reads on from the files it
        holds (an open file outlives its name), and its next search opens the new index."""
        previous = self.link.resolve() if self.link.is_symlink() else None
        tmp = self.root / f".index-link-{secrets.token_hex(4)}"
        os.symlink(path.name, tmp)
        os.replace(tmp, self.link)
        keep = {path.name, previous.name if previous and keep_previous else None}
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
            searcher = ix.searcher(weighting=WEIGHTING())
        self._local.held = (ix, searcher)
        return searcher

    def _open_fresh(self):
        if not self.link.exists() or not self._current(self.link):
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / "create.lock", "a+") as fh:  # one process creates or replaces it
                fcntl.flock(fh, fcntl.LOCK_EX)
                if not self.link.exists():
                    self._swap(self._finish(self._new_dir()))
                elif not self._current(self.link):
                    self._replace_outdated()
        return open_index(self.link)

    @staticmethod
    def _current(path: Path) -> bool:
        """Whether the index at ``path`` has this version's fields, read from the bytes of its
        newest table of contents: unpickling an older schema would import the analyzer it
        names (jieba's, with its dictionaries)."""
        tocs = sorted(path.glob("_MAIN_*.toc"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
        return bool(tocs) and VERSION_FIELD.encode() in tocs[-1].read_bytes()

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
        text = "\n".join([doc.title] * TITLE_REPEAT + [doc.association_name or "", doc.description, *doc.replies])
        key = unit_key(doc.unit_id, doc.state)
        return {
            "case_id": str(doc.case_id),
            "number": doc.number,
            "type": doc.type,
            "state": doc.state,
            "category": doc.category_code,
            "unit": key,
            "unit_id": doc.unit_id,
            "scoped": " ".join(f"{key}|{word}" for word in lexemes(text) if " " not in word),
            "unit_state": f"{key}/{doc.state}",
            "association_id": str(doc.association_id or ""),
            "submitted_at": _naive_utc(doc.submitted_at),
            "text": text,
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
            writer = open_index(path).writer(timeout=WRITE_TIMEOUT, limitmb=BUILD_LIMIT_MB, **options)
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
        """Make the index built at ``path`` the live one and remove the previous one (and any
        older): only the live index stays, so no copy of the cases' text outlives a rebuild (an
        erased case's text included)."""
        self._swap(path, keep_previous=False)

    def rebuild(self, batches: Iterable[Iterable[CaseDoc]]) -> int:
        """Build a new index and swap it in: search answers from the old one until the rename."""
        path, n = self.build_new(batches)
        self.swap_in(path)
        return n

    def clear(self) -> None:
        self._swap(self._finish(self._new_dir()))

    def count(self) -> int:
        return self._open().doc_count()

    # -- searching ---------------------------------------------------------------------------
    @staticmethod
    def _keys(query: SearchQuery) -> list[str] | None:
        """The unit keys the search is confined to (None: every case)."""
        keys = None
        if query.unit_ids is not None:
            keys = [f"u{u}" for u in sorted(query.unit_ids)] + (["triage"] if query.include_triage else [])
        if query.unit is not None:
            keys = [k for k in (keys if keys is not None else [f"u{query.unit}"]) if k == f"u{query.unit}"]
        return keys

    @staticmethod
    def _filters(query: SearchQuery, keys: list[str] | None) -> list:
        """The filters besides the units' (the state's too when no unit confines it)."""
        parts = []
        if query.state and keys is None:
            parts.append(Term("state", query.state))
        if query.type:
            parts.append(Term("type", query.type))
        if query.category:
            parts.append(Term("category", query.category))
        if query.date_from or query.date_to:
            parts.append(DateRange("submitted_at", _naive_utc(query.date_from), _naive_utc(query.date_to),
                                   endexcl=True))
        return parts

    def _parse(self, schema, text: str, aliases: tuple[tuple[str, str], ...] = ()):
        text = (text or "").strip()
        if not text:
            return Every()
        parser = QueryParser(SCHEMA_FIELD, schema, group=AndGroup)
        # words only: no "field:" syntax (ids and filters are not for typing), no wildcards
        # (a prefix scan over a large index is slow); AND, NOT, OR and "phrases" still work,
        # a phrase as both backends read one (TextPhrase)
        parser.remove_plugin_class(FieldsPlugin)
        parser.remove_plugin_class(WildcardPlugin)
        parser.remove_plugin_class(PhrasePlugin)
        parser.add_plugin(_PhrasePlugin())
        if aliases:
            parser.add_plugin(_AliasPlugin(aliases))
        return parser.parse(text)

    def search(self, query: SearchQuery) -> SearchResult:
        """Words, ranked (tf·idf), or without words the newest first. Within some units (a
        handler's view, or a unit chosen), each word is read from those units' own postings
        (``scoped``) and the state from theirs (``unit_state``): the search costs what those
        units' matches cost, however many cases other units hold. Every filter is a clause of
        the query itself, not a set of allowed documents built from the whole index."""
        per_page = max(1, min(query.per_page, 100))
        page = max(1, query.page)
        if query.sees_nothing:
            return SearchResult([], 0, page, per_page)
        searcher = self._searcher()
        words = self._parse(searcher.schema, query.text, query.aliases)
        number = case_number(query.text)
        keys = self._keys(query)
        if keys is not None and not keys:
            return SearchResult([], 0, page, per_page)
        if keys is None:
            q = words
        elif isinstance(words, Every):
            q = _any([Term("unit_state", f"{k}/{query.state}") if query.state else Term("unit", k) for k in keys])
        else:
            q = _scoped(words, keys)
            if not _confined(words):  # e.g. "NOT 会费": it would match other units' cases
                q = And([q, _quiet(_any([Term("unit", k) for k in keys]))])
            if query.state:
                q = And([q, _quiet(_any([Term("unit_state", f"{k}/{query.state}") for k in keys]))])
        if number is not None:  # a case number typed: that case, besides any text that says it
            found = Term("number", number)
            if keys is not None:
                found = And([found, _any([Term("unit", k) for k in keys])])
                if query.state:
                    found = And([found, Term("state", query.state)])
            q = Or([q, found])
        filters = self._filters(query, keys)
        if filters:
            q = And([q, *map(_quiet, filters)])
        want = page * per_page
        ranked = bool(query.text.strip())
        docs, total, more = _collect(searcher, q, want, ranked)
        terms = positive_terms(words)
        hits = []
        for docnum, score in docs[(page - 1) * per_page:want]:
            hit = searcher.stored_fields(docnum)
            title, snip = hit_html(terms, hit["title"], hit["description"], hit.get("replies", ""),
                                   hit.get("association_name", ""))
            submitted = hit.get("submitted_at")
            hits.append(SearchHit(
                case_id=int(hit["case_id"]), number=hit["number"], state=hit["state"], type=hit["type"],
                unit_id=hit.get("unit_id"),
                submitted_at=submitted.replace(tzinfo=timezone.utc) if submitted else None,
                score=float(score if ranked else 0.0),
                title_html=Markup(title), snippet_html=Markup(snip)))
        return SearchResult(hits, total, page, per_page, more=more)


def _leaves(searcher):
    return searcher.leaf_searchers() if searcher.subsearchers else [(searcher, 0)]


def _walk(searcher, q, ranked: bool, start: int = 0):
    """(global document number, sort key) for each match of ``q`` from document ``start`` on,
    segment by segment (deleted documents are left out by the segments' own matchers). The key
    is the score (``ranked``) or the submission time."""
    context = searcher.context(weighting=searcher.weighting)
    for sub, offset in _leaves(searcher):
        if offset + sub.doc_count_all() <= start:
            continue
        m = q.matcher(sub, context)
        if start > offset and m.is_active():
            m.skip_to(start - offset)
        dates = None if ranked else _Dates(sub.reader().column_reader("submitted_at", translate=False))
        while m.is_active():
            local = m.id()
            yield offset + local, (m.score() if ranked else dates[local])
            m.next()


def _density(searcher, q) -> float:
    """An upper bound of the share of documents ``q`` matches: the rarest of the words (or
    unit clauses) that every match must have; 1.0 when there is none to go by."""
    n = max(1, searcher.doc_count_all())
    shares = [searcher.doc_frequency(field, text) / n for field, text in _required_terms(q)]
    return max(min(shares), 1.0 / n) if shares else 1.0


def _required_terms(q) -> list[tuple[str, object]]:
    from whoosh.query import AndMaybe, AndNot

    if isinstance(q, Term):
        return [(q.fieldname, q.text)]
    if isinstance(q, (AndNot, AndMaybe)):
        return _required_terms(q.a)
    if isinstance(q, And):
        return [t for c in q.children() for t in _required_terms(c)]
    if isinstance(q, (_Quiet, TextPhrase)):
        return _required_terms(q.child)
    return []


class _Dates:
    """A segment's submission times as sortable numbers, read 4,096 at a time (one read each,
    not one per case: the index is not memory-mapped)."""

    CHUNK = 4096

    def __init__(self, column):
        self._column = column
        self._chunks: dict[int, tuple] = {}

    def __getitem__(self, docnum: int):
        chunk = self._chunks.get(docnum // self.CHUNK)
        if chunk is None:
            chunk = self._chunks[docnum // self.CHUNK] = self._read(docnum // self.CHUNK)
        i = docnum % self.CHUNK
        return chunk[i] if i < len(chunk) else 0

    def _read(self, n: int):
        c = self._column
        first = n * self.CHUNK
        count = max(0, min(self.CHUNK, c._count - first))
        values = array(c._typecode)
        if count:
            values.frombytes(c._dbfile.get(c._basepos + c._fixedlen * first, c._fixedlen * count))
            if sys.byteorder == "little":  # stored big-endian ("!")
                values.byteswap()
        return values


def _collect(searcher, q, want: int, ranked: bool) -> tuple[list[tuple[int, float]], int, bool]:
    """The first ``want`` matches, best first (``ranked``: tf·idf, newer first among equals) or
    newest submitted first; and how many match, counted up to COUNT_CAP.

    The walk starts where, at the density the words' document frequencies allow at most, about
    COUNT_CAP + 1 matches (or twice the pages asked for) are left before the end of the index,
    skipping whole blocks to get there. When that tail holds more than COUNT_CAP matches, the
    count says "more than COUNT_CAP" and these, the matches indexed last (cases filed or
    changed most recently), are ranked. Otherwise the rest is walked too, until the count passes
    COUNT_CAP or the index ends. A common word at a million cases costs about a thousand
    postings, not the 200,000 it matches."""
    need = max(COUNT_CAP + 1, 2 * want)
    n = searcher.doc_count_all()
    start = max(0, n - int(need * 1.2 / _density(searcher, q)))
    seen = list(_walk(searcher, q, ranked, start))
    while len(seen) < need and start > 0:
        # fewer than the bound allowed (words that seldom meet): go back as far again as the
        # density found says is needed, then further if need be
        found = max(len(seen), 1) / (n - start)
        earlier = max(0, start - int((need - len(seen)) * 1.5 / found))
        head = []
        for item in _walk(searcher, q, ranked, earlier):
            if item[0] >= start:
                break
            head.append(item)
        seen, start = head + seen, earlier
    more = len(seen) > COUNT_CAP
    top = heapq.nlargest(want, seen, key=lambda item: (item[1], item[0]))
    return [(d, k if ranked else 0.0) for d, k in top], COUNT_CAP if more else len(seen), more


class _Quiet(WrappingQuery):
    """A clause that only filters: it adds nothing to a hit's score (a constant would flatten
    the ranking that casework.search.similar cuts at a share of the best score). Not
    ConstantScoreQuery: that reads every id of its clause into a list first (all cases of a
    date range), and takes a score of 0 for "none given" (1.0)."""

    def matcher(self, searcher, context=None):
        m = self.child.matcher(searcher, context)
        return m if isinstance(m, NullMatcherClass) else _QuietMatcher(m)


class _QuietMatcher(WrappingMatcher):
    def _replacement(self, newchild):
        return _QuietMatcher(newchild)

    def supports_block_quality(self):
        return False

    def score(self):
        return 0.0


def _quiet(q):
    return _Quiet(q)


def _any(parts: list):
    return parts[0] if len(parts) == 1 else Or(parts)


def _confined(q) -> bool:
    """Whether every document ``q`` matches must contain one of its (positive) words: then the
    scoped words alone confine it to the units; otherwise (a NOT alone, an unknown node) the
    units are ANDed in as well."""
    from whoosh.query import AndMaybe, AndNot, Require

    if isinstance(q, (Term, Phrase)):
        return q.fieldname == SCHEMA_FIELD
    if isinstance(q, TextPhrase):
        return _confined(q.child)
    if isinstance(q, (AndNot, AndMaybe)):
        return _confined(q.a)
    if isinstance(q, Require):
        return _confined(q.a) or _confined(q.b)
    if isinstance(q, And):
        return any(_confined(c) for c in q.children())
    if isinstance(q, Or):
        return bool(q.subqueries) and all(_confined(c) for c in q.children())
    return False


def _scoped(q, keys: list[str]):
    """``q`` with each word of the text read from these units' own postings: ``会费`` becomes
    ``u12|会费`` (OR ``u13|会费`` …); a phrase (TextPhrase) is found among the documents that
    have its words in these units, its positions read from the text for those only."""
    if isinstance(q, Term) and q.fieldname == SCHEMA_FIELD:
        text = q.text if isinstance(q.text, str) else q.text.decode("utf-8")
        return _any([Term(SCOPED, f"{k}|{text}", boost=q.boost) for k in keys])
    if isinstance(q, Phrase) and q.fieldname == SCHEMA_FIELD:
        return And([*(_scoped(Term(SCHEMA_FIELD, w), keys) for w in q.words), q])
    return q.apply(lambda child: _scoped(child, keys))


# -- "phrases" ---------------------------------------------------------------------------------
class TextPhrase(WrappingQuery):
    """A quoted phrase (casework.search.text.PhrasePlan): the documents ``child`` matches (its
    words ANDed: from the text, or from some units' own postings once _scoped) where those
    words stand at the phrase's offsets (the text's positions are character offsets) and,
    unless they spell it whole, whose stored text says the phrase.

    Only the documents ``child`` stops at are looked at: the words' positions are read by
    skipping their postings in the text to each of those (a unit's search reads no other
    unit's documents), and the stored text only of those whose positions fit. Whoosh's Phrase
    took the positions for word counts (1, 2, 3) and the query's overlapping search-mode words
    (两万, 万元, 两万元) for a sequence: a Chinese phrase of two words or more never matched."""

    def __init__(self, child, plan: PhrasePlan, fieldname: str = SCHEMA_FIELD):
        super().__init__(child)
        self.plan = plan
        self.fieldname = fieldname

    def __repr__(self):
        return f"{type(self).__name__}({self.child!r}, {self.plan.text!r})"

    def __eq__(self, other):
        return type(other) is type(self) and other.child == self.child and other.plan == self.plan

    def __hash__(self):
        return hash((type(self).__name__, self.child, self.plan))

    def _rewrap(self, child):
        return type(self)(child, self.plan, self.fieldname)

    def matcher(self, searcher, context=None):
        m = self.child.matcher(searcher, context)
        if isinstance(m, NullMatcherClass) or not m.is_active():
            return NullMatcher()
        reader = searcher.reader()
        for word, _ in self.plan.words:
            if (self.fieldname, word) not in reader:
                return NullMatcher()
        return _PhraseMatcher(m, searcher, self.fieldname, self.plan)


def text_phrase(text: str, fieldname: str = SCHEMA_FIELD):
    plan = phrase_plan(text)
    if plan is None:
        return NullQuery
    return TextPhrase(_any_and([Term(fieldname, w) for w, _ in plan.words]), plan, fieldname)


def _any_and(parts: list):
    return parts[0] if len(parts) == 1 else And(parts)


class _PhraseMatcher(WrappingMatcher):
    """The child's documents where the phrase stands (TextPhrase)."""

    def __init__(self, child, searcher, fieldname: str, plan: PhrasePlan):
        super().__init__(child)
        self._searcher, self._fieldname, self._plan = searcher, fieldname, plan
        self._positions = [(searcher.postings(fieldname, word), offset) for word, offset in plan.words]
        self._find()

    def _stands(self) -> bool:
        docnum = self.child.id()
        starts = None
        for m, offset in self._positions:
            if m.is_active():
                m.skip_to(docnum)
            if not m.is_active() or m.id() != docnum:
                return False
            here = {p - offset for p in m.value_as("positions")}
            starts = here if starts is None else starts & here
            if not starts:
                return False
        if self._plan.exact:
            return True
        f = self._searcher.stored_fields(docnum)
        return says_phrase(self._plan, f.get("title"), f.get("association_name"), f.get("description"),
                           f.get("replies"))

    def _find(self):
        while self.child.is_active() and not self._stands():
            self.child.next()

    def next(self):
        self.child.next()
        self._find()

    def skip_to(self, id):
        self.child.skip_to(id)
        self._find()

    def reset(self):
        self.child.reset()
        self._positions = [(self._searcher.postings(self._fieldname, w), o) for w, o in self._plan.words]
        self._find()

    def all_ids(self):
        m = self.copy()
        while m.is_active():
            yield m.id()
            m.next()

    def copy(self):
        return _PhraseMatcher(self.child.copy(), self._searcher, self._fieldname, self._plan)

    def replace(self, minquality=0):
        return self if self.is_active() else NullMatcher()

    def supports_block_quality(self):
        return False


class _PhrasePlugin(PhrasePlugin):
    """"…" as a TextPhrase (no ~slop: a phrase is written as the text has it)."""

    class PhraseNode(PhrasePlugin.PhraseNode):
        def query(self, parser):
            return attach(text_phrase(self.text, self.fieldname or parser.fieldname), self)

    class PhraseTagger(PhrasePlugin.PhraseTagger):
        def create(self, parser, match):
            return _PhrasePlugin.PhraseNode(match.group("text"), match.start("text"))

    def taggers(self, parser):
        return [(self.PhraseTagger(self.expr), 0)]


class _AliasPlugin:
    """A word that names an association (SearchQuery.aliases: 中钢协) also finds the phrase of
    its full name (中国钢铁工业协会), which each of its cases' text holds: ``中钢协`` is read as
    ``(中钢协 OR "中国钢铁工业协会")``, after AND, OR and NOT are grouped."""

    def __init__(self, aliases):
        self.names = {word.lower(): name for word, name in aliases}

    def taggers(self, parser):
        return ()

    def filters(self, parser):
        return [(self._expand, 700)]

    def _expand(self, parser, group):
        for i, node in enumerate(group.nodes):
            if isinstance(node, syntax.GroupNode):
                self._expand(parser, node)
            elif isinstance(node, syntax.WordNode) and node.text.lower() in self.names:
                phrase = _PhrasePlugin.PhraseNode(self.names[node.text.lower()], node.startchar)
                phrase.startchar, phrase.endchar = node.startchar, node.endchar
                group.nodes[i] = syntax.OrGroup([node, phrase])
        return group


# -- skipping to a document in a long posting list --------------------------------------------
# Whoosh's W3 postings have no skip list: skip_to reads every block header on the way (a seek, a
# read and an unpickle each), ~80 ms to reach the end of a common word's list in a segment of
# 500,000 cases. The first skip in a list reads its headers once into a small index (block
# start, last id), kept per segment file for the BLOCK_INDEX_TERMS lists used last; later skips
# bisect it and read one header.
BLOCK_INDEX_TERMS = 256
_block_indexes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_block_lock = threading.Lock()


def _block_index(m) -> tuple[array, array]:
    key = m._startoffset
    with _block_lock:
        per_file = _block_indexes.get(m._postfile)
        if per_file is None:
            per_file = _block_indexes[m._postfile] = OrderedDict()
        found = per_file.get(key)
        if found is not None:
            per_file.move_to_end(key)
            return found
    last_ids, starts = array("q"), array("q")
    f, pos = m._postfile, m._baseoffset
    while True:
        f.seek(pos)
        length = f.read_int()
        info = f.read_pickle()
        last_ids.append(info[1])
        starts.append(pos)
        if length < 0:
            break
        pos += _INT_SIZE + length
    with _block_lock:
        per_file[key] = (last_ids, starts)
        while len(per_file) > BLOCK_INDEX_TERMS:
            per_file.popitem(last=False)
    return last_ids, starts


def _skip_to(self, targetid):
    """W3LeafMatcher.skip_to with the block index: the same position, without the walk, and
    within the block by bisection, not by stepping through its other documents (a phrase reads
    a word's positions in the text's postings for a unit's cases, among every unit's)."""
    if not self.is_active():
        raise ReadTooFar
    if targetid > self._maxid:  # past this block: its ids need not be read
        last_ids, starts = _block_index(self)
        i = bisect.bisect_left(last_ids, targetid)
        if i >= len(last_ids):
            self._atend = True
            return
        self._goto(starts[i])
    if self._ids is None:
        self._read_ids()
    if targetid > self._ids[self._i]:
        self._i = bisect.bisect_left(self._ids, targetid, self._i, self._blocklength)


W3LeafMatcher.skip_to = _skip_to


def open_index(path: Path):
    """The index at ``path`` with this version's schema (never unpickling the stored one: an
    index written with jieba's analyzer has the same words, see casework.search.segment) and
    without memory-mapping its files: mapped segment files count in every worker's memory
    (~2.4× the index on disk per worker after a few searches), read ones stay in the page cache."""
    return FileIndex(FileStorage(str(path), supports_mmap=False), schema=make_schema(), indexname="MAIN")


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
    return Searcher(reader, fromindex=ix, weighting=WEIGHTING())


def case_number(text: str) -> str | None:
    """The case number a query is, as stored (``ts 2026-1127-4839-27`` -> ``TS20261127483927``),
    or None when it is not one."""
    number = normalize_number(text)
    return number if is_well_formed(number) else None


def positive_terms(q) -> set[str]:
    """The words a query looks for (not those it excludes with NOT), to highlight; a phrase
    is marked whole."""
    if isinstance(q, Not):
        return set()
    if isinstance(q, TextPhrase):
        return {q.plan.text}
    if q.is_leaf():
        return {text if isinstance(text, str) else text.decode("utf-8")
                for field, text in q.terms(phrases=True) if field == SCHEMA_FIELD}
    out: set[str] = set()
    for child in q.children():
        out |= positive_terms(child)
    return out
