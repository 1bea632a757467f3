"""PostgreSQL full-text search over jieba-segmented text: a store many web nodes can share.

Each case is one row of ``search_document`` (casework.search.models). Its text is segmented
in Python with the very analyzer the Whoosh backend uses (jieba's ChineseAnalyzer: jieba
search mode, lower case, English stop words, Porter stemming), so both backends agree on what
a word is. The lexemes go into the tsvector as a literal (``'会费':3A,17B …``) rather than
through ``to_tsvector``: PostgreSQL's own parser would split them again, differently under
different locales. Title and association name weigh A, description and public replies B.

Besides the words, the tsvector holds lexemes without a position for what a search filters
on: ``'unit u5'`` (the permission key: ``u<unit id>``, ``triage`` or ``none``), ``'state
closed'``, ``'type complaint'``, ``'category forced_membership'``, ``'number TS…'`` and ``'block
244'`` (the case id divided by BLOCK). No word of the analyzer has a space, so no typed word is
one of them, and they never rank: ``ts_rank_cd`` is given the words only. A search is one
``tsv @@ …`` condition per part (the words; the user's units ``'unit u5' | 'unit u7'``; each
filter), each a scan key of the GIN index, which skips through all of them to the documents
every one holds: a search within a unit reads that unit's matches and no other unit's (before,
the index handed over every match of the word, 213,010 for 会费 at a million cases, and a filter
on ``unit_key`` threw away those of other units). Dates are a condition on ``submitted_at``.

A query is segmented the same way. Words are ANDed; ``OR``, ``NOT`` and "phrases" work as in
the Whoosh backend; anything else is just words. A phrase (casework.search.text.PhrasePlan)
gives the GIN index its words (the tsvector's positions count words, search mode's parts
among them, and cannot say where a phrase stands), and the rows found are then read for the
phrase itself (``Parsed.check``): a search with a phrase costs what its words unquoted cost. The
tsquery is a literal too, so no input is syntax to PostgreSQL. A query that is a case number
(as casework.cases.numbers normalises it) also finds that case. Permission and every filter
are in the same conditions as the words, and the total is counted with them, so a case the
user may not see is neither returned nor counted.

Counting and ranking, in one statement: of the matches, the newest COUNT_CAP + 1 are taken
(that many means "more than COUNT_CAP"); the newest COUNT_CAP of them are ranked by
``ts_rank_cd``, ties newest first. So with COUNT_CAP matches or fewer all are ranked, and a word
matching more ranks the best among its newest COUNT_CAP matches, not the best of all
(``ts_rank_cd`` reads each match's tsvector: for the 213,010 of 会费 that alone is 0.5–1 s).
Pages past COUNT_CAP go on newest first. The matches come from the GIN index and are sorted
(fenced off from the ordering by OFFSET 0, and the table is never scanned: ``enable_seqscan`` is
off for the transaction), so the statement reads no document that does not match.

A search over every unit (a supervisor) would still read every match of a common word to sort
them. It first counts its matches in the newest blocks of case ids (``'block …'`` ORed into its
conditions: the GIN index skips to those blocks, so a try costs in proportion to their
documents), widening them at the density found until they hold COUNT_CAP + 1 matches, and then
sorts only those; with MAX_BLOCKS blocks not enough (a word rare in recent cases), or with an end
date, it takes all its matches. A search within units reads its units' matches only and sorts
them all: it costs in proportion to them.

Highlighting is done in Python over the stored text, HTML-escaped, with ``<mark>`` as the only
markup.

Indexing upserts by case_id (INSERT … ON CONFLICT DO UPDATE). A full rebuild
(``build_new``/``swap_in``, as casework.search.sync calls them) rewrites the rows in place,
batch by batch: search keeps answering throughout (each row is either its old or its new
version) and rows whose case is deleted go with it (ON DELETE CASCADE).

The watermark and the sync lock of casework.search.sync are files under ``root``, as for
Whoosh: run the indexing worker (beat) on one machine.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert

from casework.search.backend import COUNT_CAP, CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult
from casework.search.models import SearchDocument
from casework.search.text import PhrasePlan, hit_html, lexemes, phrase_plan
from casework.search.whoosh_backend import case_number, unit_key

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 256
FIELD_GAP = 100  # positions between fields, so a phrase never spans two fields
T = SearchDocument.__table__
# the filters a document carries as lexemes ('<field> <value>'): the row's column of each
FILTER_FIELDS = {"unit": "unit_key", "state": "state", "type": "type", "category": "category", "number": "number"}
# and the block of its case id ('block 244' = ids 999,424 … 1,003,519): a search over every unit
# finds its newest matches among the newest blocks (see _newest_blocks). The migration that added
# the lexemes computed them with 4096: another value needs `changtong reindex`.
BLOCK = 4096
MAX_BLOCKS = 64


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def filter_lexeme(field: str, value: str) -> str:
    """``unit u5``, ``state closed``, …: a space, which no word of the analyzer has."""
    return f"{field} {value}"


def tsvector_literal(weighted: Iterable[tuple[str, str]], filters: Iterable[str] = ()) -> str:
    """``[(text, weight), …]`` -> a tsvector literal with positions and weights, followed by
    the ``filters`` lexemes without positions."""
    positions: dict[str, list[str]] = defaultdict(list)
    pos = 1
    for text, weight in weighted:
        for lex in lexemes(text):
            if len(positions[lex]) < MAX_POSITIONS_PER_LEXEME:
                positions[lex].append(f"{min(pos, MAX_POSITION)}{weight}")
            pos += 1
        pos += FIELD_GAP
    words = [f"{_quote(lex)}:{','.join(p)}" for lex, p in positions.items()]
    return " ".join(words + [_quote(f) for f in dict.fromkeys(filters)])


# -- the query language: words, "phrases", OR, NOT ------------------------------------------

_PARTS = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Parsed:
    """A query read: ``words``, the tsquery the GIN index answers (None: no word left), which
    a query with a "phrase" (or an association's short name, SearchQuery.aliases) widens to
    the phrase's words (a NOT phrase left out); ``groups``, only for such a query, its OR-groups
    of operands, which ``check`` makes the whole query again as a condition on the columns of
    each row found, every phrase in its text; ``terms``, what to highlight."""

    words: str | None
    terms: set[str]
    groups: tuple = ()  # ((negated, ((tsquery, PhrasePlan | None), …)), …) per OR-group

    @property
    def has_phrase(self) -> bool:
        return any(plan is not None for group in self.groups for _, alts in group for _, plan in alts)

    def check(self, c):
        """The query as a condition on columns ``c`` (tsv, title, association_name, description,
        replies) of a row the GIN index found for ``words``."""
        def alternative(tsq: str, plan: PhrasePlan | None):
            found = _tsv_matches(c.tsv, tsq)
            if plan is None:
                return found
            return sa.and_(found, sa.or_(*(sa.func.strpos(sa.func.lower(col), plan.text) > 0
                                          for col in (c.title, c.association_name, c.description, c.replies))))

        def operand(negated: bool, alts):
            cond = sa.or_(*(alternative(t, p) for t, p in alts))
            return sa.not_(cond) if negated else cond

        return sa.or_(*(sa.and_(*(operand(n, alts) for n, alts in group)) for group in self.groups))


EVERYTHING = "!' '"  # no lexeme is a space: a tsquery every document matches


def parse(text: str, aliases: Iterable[tuple[str, str]] = ()) -> Parsed:
    """Words ANDed, ``OR``, ``NOT``, "phrases" (casework.search.text.PhrasePlan: the phrase's
    words for the GIN index, then the phrase in the row's text), and a word naming an
    association also as the phrase of its name (``aliases``)."""
    names = {word.lower(): name for word, name in aliases}
    clauses: list = []  # each an operand (its alternatives: (tsquery, plan or None)), "|", "&" or "!"
    terms: list[set[str]] = []
    for m in _PARTS.finditer(text or ""):
        phrase, word = m.group(1), m.group(2)
        if word in ("OR", "NOT", "AND"):
            clauses.append({"OR": "|", "NOT": "!", "AND": "&"}[word])
            continue
        alts, marked = [], set()
        if phrase is not None:
            plan = phrase_plan(phrase)
            if plan is not None:
                alts.append((_all_of(w for w, _ in plan.words), plan))
                marked.add(plan.text)
        else:
            lex = list(dict.fromkeys(lexemes(word)))
            if lex:
                alts.append((_all_of(lex), None))
                marked.update(lex)
            plan = phrase_plan(names[word.lower()]) if word.lower() in names else None
            if plan is not None:
                alts.append((_all_of(w for w, _ in plan.words), plan))
                marked.add(plan.text)
        if alts:
            clauses.append(tuple(alts))
            terms.append(marked)
    groups: list[list] = [[]]
    positive: set[str] = set()
    pending_op, negate = "&", False
    for c, marked in zip(clauses, _with_terms(clauses, terms)):
        if c in ("|", "&"):
            pending_op = c
            continue
        if c == "!":
            negate = not negate
            continue
        if pending_op == "|" and groups[-1]:
            groups.append([])
        groups[-1].append((negate, c))
        if not negate:
            positive |= marked
        pending_op, negate = "&", False
    groups = [g for g in groups if g]
    if not groups:
        return Parsed(None, set())
    ors = []
    for group in groups:
        ands = []
        for negated, alts in group:
            if negated and any(plan is not None for _, plan in alts):
                continue  # the GIN index finds a superset: the check excludes the phrase
            operand = alts[0][0] if len(alts) == 1 else "(" + " | ".join(t for t, _ in alts) + ")"
            ands.append("!" + operand if negated else operand)
        ors.append(" & ".join(ands) if ands else EVERYTHING)
    parsed = Parsed(" | ".join(ors), positive, tuple(tuple(g) for g in groups))
    return parsed if parsed.has_phrase else Parsed(parsed.words, positive)


def _with_terms(clauses: list, terms: list[set[str]]):
    """Each clause's words to highlight (operators: none)."""
    it = iter(terms)
    return [set() if c in ("|", "&", "!") else next(it) for c in clauses]


def _all_of(lexemes: Iterable[str]) -> str:
    return "(" + " & ".join(_quote(x) for x in lexemes) + ")"


def _tsv_matches(tsv, tsquery: str):
    return tsv.op("@@")(sa.cast(sa.literal(tsquery, sa.Text), postgresql.TSQUERY))


def _any_of(field: str, values: Iterable[str]) -> str:
    return "(" + " | ".join(_quote(filter_lexeme(field, v)) for v in values) + ")"


def filter_query(query: SearchQuery) -> list[str]:
    """The permission and the filters as tsquery operands, to be ANDed with the words."""
    terms = []
    if query.unit_ids is not None:
        keys = [f"u{u}" for u in sorted(query.unit_ids)] + (["triage"] if query.include_triage else [])
        terms.append(_any_of("unit", keys))
    if query.unit is not None:
        terms.append(_any_of("unit", [f"u{query.unit}"]))
    for field in ("state", "type", "category"):
        value = getattr(query, field)
        if value:
            terms.append(_any_of(field, [value]))
    return terms


def scoped(query: SearchQuery) -> bool:
    """Within some units (a handler, a lead, a triage operator, or a unit filter)."""
    return query.unit_ids is not None or query.unit is not None


class PostgresBackend(SearchBackend):
    def __init__(self, db, root: Path | str):
        """``db``: a casework.db.Database on PostgreSQL; ``root``: where sync keeps its
        watermark and lock."""
        if db.engine.dialect.name != "postgresql":
            raise RuntimeError("the PostgreSQL search backend needs PostgreSQL "
                               f"(this database is {db.engine.dialect.name})")
        self.db = db
        self.root = Path(root)

    # -- writing -------------------------------------------------------------------------------
    @staticmethod
    def _row(doc: CaseDoc) -> dict:
        replies = "\n".join(doc.replies)
        row = {
            "case_id": doc.case_id, "number": doc.number, "unit_key": unit_key(doc.unit_id, doc.state),
            "state": doc.state, "type": doc.type, "category": doc.category_code,
            "unit_id": doc.unit_id, "association_id": doc.association_id,
            "submitted_at": doc.submitted_at, "title": doc.title, "description": doc.description,
            "replies": replies, "association_name": doc.association_name or "",
        }
        row["tsv"] = tsvector_literal([(doc.title, "A"), (doc.association_name or "", "A"),
                                       (doc.description, "B"), (replies, "B")],
                                      [filter_lexeme(f, row[c]) for f, c in FILTER_FIELDS.items()]
                                      + [filter_lexeme("block", str(doc.case_id // BLOCK))])
        return row

    def index_cases(self, docs: Iterable[CaseDoc]) -> int:
        rows = {}
        for doc in docs:
            rows[doc.case_id] = self._row(doc)  # the last version of a case wins
        if not rows:
            return 0
        stmt = pg_insert(T)
        stmt = stmt.on_conflict_do_update(
            index_elements=[T.c.case_id],
            set_={c.name: stmt.excluded[c.name] for c in T.columns if c.name != "case_id"})
        with self.db.engine.begin() as conn:
            # sorted: two writers lock rows in the same order and never deadlock
            conn.execute(stmt, [rows[k] for k in sorted(rows)])
        return len(rows)

    def delete(self, case_ids: Iterable[int]) -> None:
        ids = [int(i) for i in case_ids]
        if ids:
            with self.db.engine.begin() as conn:
                conn.execute(sa.delete(T).where(T.c.case_id.in_(ids)))

    def clear(self) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(sa.delete(T))

    def count(self) -> int:
        with self.db.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(T)) or 0

    def build_new(self, batches: Iterable[Iterable[CaseDoc]]) -> tuple[None, int]:
        """A rebuild in place: every batch is upserted and committed; search keeps answering."""
        return None, sum(self.index_cases(batch) for batch in batches)

    def swap_in(self, path) -> None:  # nothing to swap: the rows were replaced in place
        return None

    # -- searching -----------------------------------------------------------------------------
    @staticmethod
    def _dates(query: SearchQuery) -> list:
        where = []
        if query.date_from is not None:
            where.append(T.c.submitted_at >= _aware(query.date_from))
        if query.date_to is not None:
            where.append(T.c.submitted_at < _aware(query.date_to))
        return where

    @classmethod
    def _where(cls, query: SearchQuery) -> list:
        """The permission and the filters as column conditions (a search without words)."""
        where = []
        if query.unit_ids is not None:
            allowed = [f"u{u}" for u in sorted(query.unit_ids)]
            if query.include_triage:
                allowed.append("triage")
            where.append(T.c.unit_key.in_(allowed))
        if query.state:
            where.append(T.c.state == query.state)
        if query.type:
            where.append(T.c.type == query.type)
        if query.category:
            where.append(T.c.category == query.category)
        if query.unit is not None:
            where.append(T.c.unit_key == f"u{query.unit}")
        return where + cls._dates(query)

    def search(self, query: SearchQuery) -> SearchResult:
        per_page = max(1, min(query.per_page, 100))
        page = max(1, query.page)
        if query.sees_nothing:
            return SearchResult([], 0, page, per_page)
        if (query.text or "").strip():
            parsed = parse(query.text, query.aliases)
            words, terms = parsed.words, parsed.terms
            number = case_number(query.text)
            if words is None and number is None:  # nothing searchable was typed
                return SearchResult([], 0, page, per_page)
            found = _quote(filter_lexeme("number", number)) if number is not None else None
            text = f"({words}) | {found}" if words and found else f"({words or found})"
            check = None
            if parsed.groups:  # a phrase: the rows the GIN index finds are read for it
                check = parsed.check if found is None else (
                    lambda c: sa.or_(parsed.check(c), _tsv_matches(c.tsv, found)))
            rows, total = self._search_words(query, [text, *filter_query(query)], words, page, per_page, check)
        else:
            terms = set()
            rows, total = self._list(query, page, per_page)
        hits = []
        for r in rows:
            title, snip = hit_html(terms, r.title, r.description, r.replies, r.association_name)
            submitted = r.submitted_at
            if submitted is not None and submitted.tzinfo is None:
                submitted = submitted.replace(tzinfo=timezone.utc)
            hits.append(SearchHit(
                case_id=r.case_id, number=r.number, state=r.state, type=r.type, unit_id=r.unit_id,
                submitted_at=submitted, score=float(r.score or 0.0),
                title_html=Markup(title), snippet_html=Markup(snip)))
        return SearchResult(hits, min(total, COUNT_CAP), page, per_page, more=total > COUNT_CAP)

    def _search_words(self, query: SearchQuery, match: list[str], words: str | None, page: int,
                      per_page: int, check=None) -> tuple[list, int]:
        """-> (the page's rows, how many match up to max(COUNT_CAP + 1, the page's end)).
        ``check``: a condition on the columns of each row the GIN index finds (Parsed.check)."""
        depth = max(COUNT_CAP + 1, page * per_page)  # the newest matches taken
        dates = self._dates(query)
        with self.db.engine.connect() as conn:
            # through the GIN index only, planned for this very tsquery
            conn.execute(sa.select(sa.func.set_config("enable_seqscan", "off", True),
                                   sa.func.set_config("plan_cache_mode", "force_custom_plan", True)))
            window = None
            if not scoped(query) and query.date_to is None:
                window = self._newest_blocks(conn, match, dates, depth, check)
            where = _matches(match if window is None else [*match, window])
            rows = conn.execute(self._page(where, dates, words, depth, page, per_page, check)).all()
            if rows:
                return rows, rows[0].total
            if page == 1:
                return [], 0
            # past the last page: how many there are, to say so
            return [], _count(conn, _matches(match), dates, COUNT_CAP + 1, check)

    @staticmethod
    def _newest_blocks(conn, match: list[str], dates: list, depth: int, check=None) -> str | None:
        """The newest blocks of case ids holding at least ``depth`` matches, as a tsquery
        operand; None when that takes more than MAX_BLOCKS blocks (or all there are).

        Each try counts the matches in the newest k blocks (stopping at ``depth``), which costs
        in proportion to those blocks' documents, and the next try takes as many blocks as
        should hold 1.25 × ``depth`` at the density found (at most 16 times as many)."""
        top_id = conn.scalar(sa.select(sa.func.max(T.c.case_id)))
        if top_id is None:
            return None
        top = top_id // BLOCK

        def ids(k: int) -> int:  # how many case ids the newest k blocks span
            return top_id - (top - k + 1) * BLOCK + 1

        k = 1 if ids(1) >= BLOCK // 2 else 2  # the newest block may have just begun
        while k <= min(top, MAX_BLOCKS):
            window = _any_of("block", [str(b) for b in range(top, top - k, -1)])
            found = _count(conn, _matches([*match, window]), dates, depth, check)
            if found >= depth:
                return window
            wanted = ids(k) * depth * 5 / (4 * max(found, 1))
            nxt = k + 1
            while nxt < 16 * k and ids(nxt) < wanted:
                nxt += 1
            k = nxt
        return None

    @staticmethod
    def _page(where, dates: list, words: str | None, depth: int, page: int, per_page: int, check=None):
        """The page: of the ``depth`` newest matches, the newest COUNT_CAP ranked, the rest by
        date; each row with how many matches there are (up to ``depth``)."""
        cap = COUNT_CAP
        # the GIN index's matches, fenced off (OFFSET 0) from the ordering, then sorted: never a
        # walk through the cases by date, which would read every unit's cases; sorted narrow
        matches = _matching(where, dates, check).subquery("matches")
        by_age = (matches.c.submitted_at.desc(), matches.c.case_id.desc())
        newest = sa.select(matches).order_by(*by_age).limit(depth).subquery("newest")
        counted = sa.select(
            newest, sa.func.count().over().label("total"),
            sa.func.row_number().over(order_by=(newest.c.submitted_at.desc(), newest.c.case_id.desc())).label("age"),
        ).subquery("counted")
        # each of the newest read again by its key (its text, its tsvector to rank): a lateral
        # subquery, fenced, so that it is a lookup per row and never a merge join over the table
        doc = (sa.select(*_COLUMNS, T.c.tsv).where(T.c.case_id == counted.c.case_id).offset(0)
               .lateral("doc"))
        ranked = counted.c.age <= cap
        if words is None:
            score = sa.literal(0.0)
        else:
            rank_q = sa.cast(sa.literal(words, sa.Text), postgresql.TSQUERY)
            score = sa.case((ranked, sa.func.ts_rank_cd(doc.c.tsv, rank_q)), else_=sa.literal(0.0))
        return (sa.select(*[doc.c[c.name] for c in _COLUMNS], score.label("score"), counted.c.total)
                .join_from(counted, doc, sa.true())
                .order_by(ranked.desc(), score.desc(), counted.c.submitted_at.desc(), counted.c.case_id.desc())
                .limit(per_page).offset((page - 1) * per_page))

    def _list(self, query: SearchQuery, page: int, per_page: int) -> tuple[list, int]:
        """No words: what the user may see, newest first."""
        where = self._where(query)
        with self.db.engine.connect() as conn:
            capped = sa.select(T.c.case_id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = conn.scalar(sa.select(sa.func.count()).select_from(capped)) or 0
            rows = conn.execute(sa.select(*_COLUMNS, sa.literal(0.0).label("score")).where(*where)
                                .order_by(T.c.submitted_at.desc(), T.c.case_id.desc())
                                .limit(per_page).offset((page - 1) * per_page)).all()
        return rows, total


def _matches(tsqueries: list[str]):
    """``tsv @@ q1 AND tsv @@ q2 …``: one GIN scan key each, so the scan skips through every
    list to the next document all of them hold, and the shortest list sets the pace (one key
    ``q1 & q2`` leans on the GIN's guess of which of its words is rarest, and a common word
    guessed rare is read through: 31 ms instead of 12 for 会费 in the biggest unit)."""
    return sa.and_(*[_tsv_matches(T.c.tsv, q) for q in tsqueries])


def _matching(where, dates: list, check=None):
    """(case_id, submitted_at) of the documents the GIN index finds, fenced off (OFFSET 0);
    with a ``check`` (a phrase), those of them that pass it: it is applied to the rows found,
    outside the fence, so that the planner never takes its words for index conditions."""
    if check is None:
        return sa.select(T.c.case_id, T.c.submitted_at).where(where, *dates).offset(0)
    found = (sa.select(T.c.case_id, T.c.submitted_at, T.c.tsv, T.c.title, T.c.association_name, T.c.description,
                       T.c.replies).where(where, *dates).offset(0).subquery("found"))
    return sa.select(found.c.case_id, found.c.submitted_at).where(check(found.c))


def _count(conn, where, dates: list, limit: int, check=None) -> int:
    """How many documents match, counting stops at ``limit``."""
    capped = _matching(where, dates, check).limit(limit).subquery()
    return conn.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


_COLUMNS = (T.c.case_id, T.c.number, T.c.state, T.c.type, T.c.unit_id, T.c.submitted_at, T.c.title,
            T.c.description, T.c.replies, T.c.association_name)


def _aware(value):
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
