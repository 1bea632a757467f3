"""PostgreSQL full-text search over jieba-segmented text: a store many web nodes can share.

Each case is one row of ``search_document`` (casework.search.models). Its text is segmented
in Python with the very analyzer the Whoosh backend uses (jieba's ChineseAnalyzer: jieba
search mode, lower case, English stop words, Porter stemming), so both backends agree on what
a word is. The lexemes go into the tsvector as a literal (``'会费':3A,17B …``) rather than
through ``to_tsvector``: PostgreSQL's own parser would split them again, differently under
different locales. Title and association name weigh A, description and public replies B.

A query is segmented the same way. Words are ANDed; ``OR``, ``NOT`` and "phrases" (the
words of a phrase ANDed) work as in the Whoosh backend; anything else is just words. The
tsquery is a literal too, so no input is syntax to PostgreSQL. A query that is a case number
(as casework.cases.numbers normalises it) also finds that case. Permission (``unit_key`` IN
…) and every filter are inside the SQL, and the total is counted with the same WHERE, so a
case the user may not see is neither returned nor counted. Ranking is ``ts_rank_cd``; the
highlighting is done in Python over the stored text, HTML-escaped, with ``<mark>`` as the
only markup.

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
from datetime import timezone
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert

from casework.search.backend import COUNT_CAP, CaseDoc, SearchBackend, SearchHit, SearchQuery, SearchResult
from casework.search.models import SearchDocument
from casework.search.text import hit_html, lexemes
from casework.search.whoosh_backend import case_number, unit_key

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 256
FIELD_GAP = 100  # positions between fields, so a phrase never spans two fields
T = SearchDocument.__table__


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(weighted: Iterable[tuple[str, str]]) -> str:
    """``[(text, weight), …]`` -> a tsvector literal with positions and weights."""
    positions: dict[str, list[str]] = defaultdict(list)
    pos = 1
    for text, weight in weighted:
        for lex in lexemes(text):
            if len(positions[lex]) < MAX_POSITIONS_PER_LEXEME:
                positions[lex].append(f"{min(pos, MAX_POSITION)}{weight}")
            pos += 1
        pos += FIELD_GAP
    return " ".join(f"{_quote(lex)}:{','.join(p)}" for lex, p in positions.items())


# -- the query language: words, "phrases", OR, NOT ------------------------------------------

_PARTS = re.compile(r'"([^"]*)"?|(\S+)')


def parse(text: str) -> tuple[str | None, set[str]]:
    """-> (tsquery literal or None when no word is left, the words to highlight)."""
    clauses: list[str] = []  # each an operand, "|" or "!"
    for m in _PARTS.finditer(text or ""):
        phrase, word = m.group(1), m.group(2)
        if word in ("OR", "NOT", "AND"):
            clauses.append({"OR": "|", "NOT": "!", "AND": "&"}[word])
            continue
        lex = list(dict.fromkeys(lexemes(phrase if phrase is not None else word)))
        if lex:
            clauses.append("(" + " & ".join(_quote(x) for x in lex) + ")")
    expr: list[str] = []
    positive: set[str] = set()
    pending_op, negate = "&", False
    for c in clauses:
        if c in ("|", "&"):
            pending_op = c
            continue
        if c == "!":
            negate = not negate
            continue
        if expr:
            expr.append(pending_op)
        expr.append("!" + c if negate else c)
        if not negate:
            positive.update(re.findall(r"'((?:[^']|'')*)'", c))
        pending_op, negate = "&", False
    if not expr:
        return None, set()
    positive = {p.replace("''", "'").replace("\\\\", "\\") for p in positive}
    return " ".join(expr), positive


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
        return {
            "case_id": doc.case_id, "number": doc.number, "unit_key": unit_key(doc.unit_id, doc.state),
            "state": doc.state, "type": doc.type, "category": doc.category_code,
            "unit_id": doc.unit_id, "association_id": doc.association_id,
            "submitted_at": doc.submitted_at, "title": doc.title, "description": doc.description,
            "replies": replies, "association_name": doc.association_name or "",
            "tsv": tsvector_literal([(doc.title, "A"), (doc.association_name or "", "A"),
                                     (doc.description, "B"), (replies, "B")]),
        }

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
    def _where(query: SearchQuery) -> list:
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
        if query.date_from is not None:
            where.append(T.c.submitted_at >= _aware(query.date_from))
        if query.date_to is not None:
            where.append(T.c.submitted_at < _aware(query.date_to))
        return where

    def search(self, query: SearchQuery) -> SearchResult:
        per_page = max(1, min(query.per_page, 100))
        page = max(1, query.page)
        if query.sees_nothing:
            return SearchResult([], 0, page, per_page)
        where = self._where(query)
        terms: set[str] = set()
        if (query.text or "").strip():
            tsquery, terms = parse(query.text)
            number = case_number(query.text)
            if tsquery is None and number is None:  # nothing searchable was typed
                return SearchResult([], 0, page, per_page)
            q = sa.cast(sa.literal(tsquery or "", sa.Text), postgresql.TSQUERY)
            matches = T.c.tsv.op("@@")(q)
            # a case number typed: that case, besides any text that says it
            where.append(matches if number is None else sa.or_(matches, T.c.number == number))
            score = sa.func.ts_rank_cd(T.c.tsv, q)
            order = [score.desc(), T.c.submitted_at.desc(), T.c.case_id.desc()]
        else:
            score = sa.literal(0.0)
            order = [T.c.submitted_at.desc(), T.c.case_id.desc()]
        cols = [T.c.case_id, T.c.number, T.c.state, T.c.type, T.c.unit_id, T.c.submitted_at, T.c.title,
                T.c.description, T.c.replies, T.c.association_name, score.label("score")]
        with self.db.engine.connect() as conn:
            capped = sa.select(T.c.case_id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = conn.scalar(sa.select(sa.func.count()).select_from(capped)) or 0
            rows = conn.execute(sa.select(*cols).where(*where).order_by(*order)
                                .limit(per_page).offset((page - 1) * per_page)).all()
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


def _aware(value):
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
