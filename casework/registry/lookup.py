"""Type-ahead lookup of an association in the registry: name, abbreviation, pinyin initials,
English abbreviation, code.

``pinyin_initials`` (casework.registry.pinyin) turns Chinese text into the first letters of its
pinyin (中国钢铁工业协会 → ``zggtgyxh``); ``index_terms`` stores those of an association's name and abbreviation in
``Association.pinyin_initials`` so that a search for ``zggt`` or ``zgx`` finds it, followed by
its English abbreviation as ``english_abbreviations`` reads it off the English name (China
Association of Automobile Manufacturers → ``caam``), so that ``caam`` finds it too. Every
writer of ``name`` / ``abbreviation`` / ``name_en`` (importer, demo loader, admin forms) calls
``index_terms`` afterwards; migration 0046 gave the associations saved before it their English
abbreviation.
"""
from __future__ import annotations

import bisect
import functools
import heapq
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.registry.pinyin import pinyin_initials  # noqa: F401 - the lookup's counterpart
from casework.text import clean_text
from casework.registry.models import Association, AssociationLevel, AssociationStatus

QUERY_MAX = 100  # longer input is cut: nothing in the registry is longer to type
LIMIT_MAX = 100
LIKE_ESCAPE = "\\"
_PINYIN_COLUMN_MAX = 200  # Association.pinyin_initials is String(200)

_ASCII_ALNUM = re.compile(r"^[a-z0-9]+$")


# the little words an English abbreviation leaves out: China Association of Automobile
# Manufacturers is CAAM, China Federation of Logistics & Purchasing CFLP
_LITTLE_WORDS = frozenset(("of", "and", "the", "for", "in", "on", "at", "to", "a", "an", "&"))
_EN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*|&")
_PARENTHESES = re.compile(r"[(（][^)）]*[)）]")


def english_abbreviations(name_en: str | None) -> tuple[str, ...]:
    """The abbreviations an English name is known by, lower case: the initials of its words
    without the little words (China Iron and Steel Association → ``cisa``), then, where it
    differs, with every word (China Chamber of International Commerce → ``ccic`` and ``ccoic``,
    the one it uses). Nothing for a name of fewer than two words; a part in parentheses does
    not count. An abbreviation made otherwise (CCCME) can be typed as the 简称."""
    words = _EN_WORD.findall(_PARENTHESES.sub(" ", name_en or ""))
    if len(words) < 2:
        return ()
    out: list[str] = []
    for chosen in ([w for w in words if w.lower() not in _LITTLE_WORDS], [w for w in words if w != "&"]):
        initials = "".join(w[0] for w in chosen).lower()
        if len(initials) >= 2 and initials not in out:
            out.append(initials)
    return tuple(out)


def index_terms(assoc: Association) -> str:
    """Fill ``assoc.pinyin_initials`` from its name and abbreviation ("zggtgyxh zgx"), then its
    English abbreviations (" cisa").

    Returns the value set. Terms are space separated, without duplicates, cut to the
    column's length at a term boundary.
    """
    terms: list[str] = []
    for term in (pinyin_initials(assoc.name or ""), pinyin_initials(assoc.abbreviation or ""),
                 *english_abbreviations(assoc.name_en)):
        if term and term not in terms:
            terms.append(term)
    value = ""
    for term in terms:
        candidate = f"{value} {term}" if value else term
        if len(candidate) > _PINYIN_COLUMN_MAX:
            if not value:  # a single over-long term: keep its beginning (prefix search still works)
                value = term[:_PINYIN_COLUMN_MAX]
            break
        value = candidate
    assoc.pinyin_initials = value
    return value


def escape_like(value: str) -> str:
    """Escape LIKE wildcards (``%``, ``_``) and the escape character itself."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _ilike(column, pattern: str, sqlite: bool):
    """``column`` matches ``pattern`` whatever the case. SQLAlchemy writes ILIKE on SQLite as
    ``lower(column) LIKE lower(pattern)``; SQLite's LIKE already ignores the case of ASCII letters
    and its lower() folds only those, so plain LIKE there finds the same rows without two calls of
    lower() per row and column (the lookup reads every row of the registry: ~40% of its time)."""
    if sqlite:
        return column.like(pattern, escape=LIKE_ESCAPE)
    return column.ilike(pattern, escape=LIKE_ESCAPE)


def _param(name: str, values: dict[str, str] | None = None):
    """A parameter of the lookup's clauses: named, its value given with each search of a kept
    statement; or with its value from ``values`` (a clause for another statement)."""
    key = f"lookup_{name}"
    if values is None:
        return sa.bindparam(key, type_=sa.String())
    return sa.bindparam(key, values[key], type_=sa.String(), unique=True)


def _word_match(i: int, ascii_word: bool, sqlite: bool = False, values=None):
    """The ``i``-th whitespace-separated word of a query: in the name, the English name or the
    abbreviation, or (ASCII letters and digits only) in the pinyin initials."""
    contains = _param(f"w{i}", values)
    clauses = [
        _ilike(Association.name, contains, sqlite),
        _ilike(sa.func.coalesce(Association.name_en, ""), contains, sqlite),
        _ilike(sa.func.coalesce(Association.abbreviation, ""), contains, sqlite),
    ]
    if ascii_word:
        clauses.append(Association.pinyin_initials.like(contains, escape=LIKE_ESCAPE))
    return sa.or_(*clauses)


@dataclass(frozen=True)
class _Terms:
    """What a query means against the registry's columns."""

    q: str
    words: tuple[str, ...]
    prefix: str
    code_prefix: str
    code: str
    py: str
    py_ok: bool

    @classmethod
    def of(cls, raw: str) -> "_Terms | None":
        q = clean_text(raw)[:QUERY_MAX]
        if not q:
            return None
        q_lower = q.lower()
        code = "".join(q.split()).upper()
        py = "".join(q_lower.split())
        return cls(q, tuple(q.split()), f"{escape_like(q_lower)}%", f"{escape_like(code)}%", code,
                   py, bool(_ASCII_ALNUM.match(py)))

    @property
    def loose(self) -> tuple[str, ...] | None:
        """The characters to look for in order when the query found nothing (四川食品工业协会,
        食品协会 or 川食协 for 四川省食品工业协会: a word left out, a short form): for a query of
        two characters or more with one beyond ASCII (letters already match the pinyin initials
        loosely); None otherwise."""
        chars = tuple("".join(self.q.lower().split()))
        if len(chars) < 2 or all(c.isascii() for c in chars):
            return None
        return chars

    @property
    def shape(self) -> tuple[tuple[bool, ...], bool]:
        """What the statement depends on besides the values: each word ASCII or not, and the
        whole query."""
        return tuple(bool(_ASCII_ALNUM.match(w.lower())) for w in self.words), self.py_ok

    def values(self) -> dict[str, str]:
        """The values of the parameters of ``_match`` and ``_statement``."""
        values = {f"w{i}": f"%{escape_like(w.lower())}%" for i, w in enumerate(self.words)}
        values.update(q=self.q, code=self.code, prefix=self.prefix, code_prefix=self.code_prefix)
        if self.py_ok:
            py = escape_like(self.py)
            values.update(py_contains=f"%{py}%", py_prefix=f"{py}%", py_term=f"% {py}%")
        return {f"lookup_{k}": v for k, v in values.items()}


def _match(ascii_words: tuple[bool, ...], py_ok: bool, sqlite: bool = False, values=None):
    """Every whitespace-separated word is in the name, English name, abbreviation or
    (ASCII letters and digits only) pinyin initials ("中国 复合" finds 中国复合材料工业协会);
    or the credit code starts with the query, spaces left out; or (ASCII only) the
    pinyin initials contain it, spaces left out ("zg gt")."""
    clauses = [
        sa.and_(*(_word_match(i, a, sqlite, values) for i, a in enumerate(ascii_words))),
        Association.credit_code.like(_param("code_prefix", values), escape=LIKE_ESCAPE),
    ]
    if py_ok:
        clauses.append(Association.pinyin_initials.like(_param("py_contains", values), escape=LIKE_ESCAPE))
    return sa.or_(*clauses)


def match_associations(q: str):
    """The WHERE clause of a registry search for ``q`` (None for a blank query): the
    administrators' list pages through it; ``search_associations`` ranks it."""
    terms = _Terms.of(q)
    return None if terms is None else _match(*terms.shape, values=terms.values())


def _statement(ascii_words: tuple[bool, ...], py_ok: bool, include_deregistered: bool, sqlite: bool, limit: int):
    name = Association.name
    abbr = sa.func.coalesce(Association.abbreviation, "")
    initials = Association.pinyin_initials
    exact = [
        sa.func.lower(name) == sa.func.lower(_param("q")),
        sa.func.lower(abbr) == sa.func.lower(_param("q")),
        Association.credit_code == _param("code"),
    ]
    starts = [
        _ilike(name, _param("prefix"), sqlite),
        _ilike(abbr, _param("prefix"), sqlite),
        Association.credit_code.like(_param("code_prefix"), escape=LIKE_ESCAPE),
    ]
    if py_ok:
        # a prefix of any space-separated term
        starts.append(initials.like(_param("py_prefix"), escape=LIKE_ESCAPE))
        starts.append(initials.like(_param("py_term"), escape=LIKE_ESCAPE))

    rank = sa.case((sa.or_(*exact), 0), (sa.or_(*starts), 1), else_=2)
    inactive = sa.case((Association.status == AssociationStatus.active, 0), else_=1)
    stmt = (
        select(Association)
        .where(_match(ascii_words, py_ok, sqlite))
        .order_by(rank, inactive, Association.name, Association.id)
        .limit(limit)
    )
    if not include_deregistered:
        stmt = stmt.where(Association.status == AssociationStatus.active)
    return stmt


# statements by shape, built once: building one took a fifth of a lookup, and a statement object
# keeps its cache key; queries of more than a few words are built each time
_STATEMENTS: dict[tuple, sa.Select] = {}
_KEPT_WORDS, _KEPT_SHAPES = 4, 512


def search_associations(session: Session, q: str, limit: int = 20, *,
                        include_deregistered: bool = False) -> list[Association]:
    """Associations matching ``q`` by name, abbreviation, pinyin initials or credit code.

    Matching is case-insensitive: every whitespace-separated word of ``q`` is in the name,
    English name or abbreviation, or (ASCII letters/digits) in the pinyin initials; or the
    pinyin initials contain ``q`` (spaces ignored); or the credit code starts with it
    (upper-cased). Order: exact name / abbreviation / credit code first, then prefix
    matches (name, abbreviation, any pinyin term, credit code), then the rest; within a
    rank active associations before deregistered ones; then by name. Blank ``q`` → ``[]``.

    Deregistered associations stay in the registry (for statistics and old cases) but are
    not offered to someone filing a case: they are left out unless ``include_deregistered``.
    """
    terms = _Terms.of(q)
    if terms is None:
        return []
    limit = max(1, min(int(limit), LIMIT_MAX))
    sqlite = session.get_bind().dialect.name == "sqlite"
    shape = (*terms.shape, include_deregistered, sqlite, limit)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        stmt = _statement(*shape)
        if len(terms.words) <= _KEPT_WORDS and len(_STATEMENTS) < _KEPT_SHAPES:
            _STATEMENTS[shape] = stmt
    found = list(session.scalars(stmt, terms.values()))
    if found or terms.loose is None:
        return found
    return list(session.scalars(_loose_statement(include_deregistered, sqlite, limit),
                                {"lookup_loose": "%" + "%".join(escape_like(c) for c in terms.loose) + "%"}))


@functools.cache
def _loose_statement(include_deregistered: bool, sqlite: bool, limit: int) -> sa.Select:
    """Nothing matched: names and abbreviations holding the query's characters in order
    (``_Terms.loose``), in the order of names."""
    pattern = _param("loose")
    inactive = sa.case((Association.status == AssociationStatus.active, 0), else_=1)
    stmt = (select(Association)
            .where(sa.or_(_ilike(Association.name, pattern, sqlite),
                          _ilike(sa.func.coalesce(Association.abbreviation, ""), pattern, sqlite)))
            .order_by(inactive, Association.name, Association.id)
            .limit(limit))
    if not include_deregistered:
        stmt = stmt.where(Association.status == AssociationStatus.active)
    return stmt


# -- the registry kept per process ---------------------------------------------------------------

KEPT_MAX = 20_000  # a registry larger than this is searched in the database, never kept


@dataclass(frozen=True)
class Listed:
    """What the lookup shows of an association (the attributes of ``Association`` it reads)."""

    id: int
    credit_code: str
    name: str
    name_en: str | None
    abbreviation: str | None
    level: AssociationLevel
    region_code: str
    status: AssociationStatus


_SEP, _END = "\x00", "\x01"  # never in a query: clean_text removes control characters


class KeptRegistry:
    """The registry as this process keeps it for one reference version (casework.reference): its
    associations in the database's order (name, id), and the texts a lookup matches as one string
    per kind, entries separated by a character no query holds, so that ``str.find`` over them
    (in C) finds the entries a word is in or starts with. About 350 bytes an association; a query
    that matches them all (one common character) ranks only the few it answers with."""

    def __init__(self, rows):
        self.listed = tuple(Listed(*row[:8]) for row in rows)
        names = [a.name.lower() for a in self.listed]
        abbrs = [(a.abbreviation or "").lower() for a in self.listed]
        pinyin = [row[8] or "" for row in rows]
        self._texts = _Blob([_SEP.join((n, (a.name_en or "").lower(), b))
                             for n, a, b in zip(names, self.listed, abbrs)])
        self._names, self._abbrs = _Blob(names), _Blob(abbrs)
        self._pinyin, self._codes = _Blob(pinyin), _Blob([a.credit_code for a in self.listed])
        self._named: dict[str, list[int]] = {}  # a lower-cased name or abbreviation -> its entries
        for i, value in (*enumerate(names), *enumerate(abbrs)):
            if value:
                self._named.setdefault(value, []).append(i)
        self._coded = {a.credit_code: i for i, a in enumerate(self.listed)}
        self._inactive = frozenset(i for i, a in enumerate(self.listed) if a.status is not AssociationStatus.active)

    def search(self, terms: "_Terms", limit: int) -> list[Listed]:
        """``search_associations``'s answer for active associations, from the kept registry (the
        same matches and order: exact, then prefix, then the rest; then the name)."""
        matched: set[int] | None = None
        for word in terms.words:
            w = word.lower()
            hits = self._texts.containing(w)
            if _ASCII_ALNUM.match(w):
                hits |= self._pinyin.containing(w)
            matched = hits if matched is None else matched & hits
            if not matched:
                break
        matched = set(matched or ())
        matched |= self._codes.starting(terms.code)
        if terms.py_ok:
            matched |= self._pinyin.containing(terms.py)
        matched -= self._inactive  # not offered to someone filing a case
        if not matched and terms.loose is not None:  # nothing: the characters in order
            loose = (self._names.holding_in_order(terms.loose) | self._abbrs.holding_in_order(terms.loose))
            return [self.listed[i] for i in heapq.nsmallest(limit, loose - self._inactive)]
        q = terms.q.lower()
        exact = {*self._named.get(q, ()), *((self._coded[terms.code],) if terms.code in self._coded else ())}
        exact &= matched
        starts = self._names.starting(q) | self._abbrs.starting(q) | self._codes.starting(terms.code)
        if terms.py_ok:
            starts |= self._pinyin.starting(terms.py) | self._pinyin.containing(" " + terms.py)
        starts = (starts & matched) - exact
        rest = matched - exact - starts
        out: list[int] = []
        for group in (exact, starts, rest):
            out += heapq.nsmallest(limit - len(out), group)  # the database's order of names
            if len(out) >= limit:
                break
        return [self.listed[i] for i in out]


class _Blob:
    """Texts, one per entry, in one string (each followed by _END), and where each begins."""

    def __init__(self, values: list[str]):
        self.starts, at = [], 0
        for v in values:
            self.starts.append(at)
            at += len(v) + 1
        self.text = _END + _END.join(values) + _END  # entry i begins at starts[i] + 1

    def containing(self, needle: str) -> set[int]:
        found: set[int] = set()
        starts, text, last = self.starts, self.text, len(self.starts) - 1
        at = text.find(needle)
        while at >= 0:
            i = bisect.bisect_right(starts, at - 1) - 1
            found.add(i)
            if i >= last:
                break
            at = text.find(needle, starts[i + 1] + 1)  # the rest of this entry need not be read
        return found

    def holding_in_order(self, chars: tuple[str, ...]) -> set[int]:
        """The entries holding these characters in this order, anything between them."""
        found: set[int] = set()
        pattern = re.compile(f"[^{_END}]*?".join(map(re.escape, chars)))
        for m in pattern.finditer(self.text):  # no match crosses an entry's end
            found.add(bisect.bisect_right(self.starts, m.start() - 1) - 1)
        return found

    def starting(self, prefix: str) -> set[int]:
        found: set[int] = set()
        needle, text, starts = _END + prefix, self.text, self.starts
        at = text.find(needle)
        while at >= 0:  # the _END before entry i stands at starts[i]
            found.add(bisect.bisect_left(starts, at))
            at = text.find(needle, at + 1)
        return found


_KEPT_COLUMNS = (Association.id, Association.credit_code, Association.name, Association.name_en,
                 Association.abbreviation, Association.level, Association.region_code, Association.status,
                 Association.pinyin_initials)


def _load_kept(session: Session) -> KeptRegistry | None:
    """The registry to keep, or None when it is larger than KEPT_MAX (then searched in SQL)."""
    if session.scalar(select(sa.func.count()).select_from(Association)) > KEPT_MAX:
        return None
    # the database's order of names for ties (SQLite: code points, as Python's); see test_lookup
    rows = session.execute(select(*_KEPT_COLUMNS).order_by(Association.name, Association.id)).all()
    return KeptRegistry(rows)


def lookup(session: Session, q: str, limit: int = 20) -> list:
    """The public type-ahead and the form's 查找: ``search_associations``'s answer for an active
    association, from the registry kept for the current reference version (asked at most once a
    second, ``casework.reference.recent``: a new or renamed association is found within a second
    in every process, at once in the one that saved it), or from the database when the registry
    is too large to keep. Items have the attributes of ``Association`` the pages show."""
    from casework import reference

    terms = _Terms.of(q)
    if terms is None:
        return []
    limit = max(1, min(int(limit), LIMIT_MAX))
    snap = reference.recent(session.get_bind().engine, lambda: session)
    if not snap.holds("registry"):  # read the registry in the transaction that read its version
        snap = reference.current(session)
    kept = snap.part("registry", _load_kept, session)
    if kept is None:
        return search_associations(session, q, limit)
    return kept.search(terms, limit)


def named_alone(session: Session, text: str) -> tuple[Association | None, int]:
    """The association a staff form's name, short name or pinyin initials names alone, with how
    many it matched (0, 1, or 2 for several): the desk's filters and the routing forms take a name
    where they took only a credit code."""
    matches = search_associations(session, text, limit=2, include_deregistered=True)
    return (matches[0] if len(matches) == 1 else None), len(matches)
