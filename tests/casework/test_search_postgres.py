"""The PostgreSQL search backend within units (issue 18): a handler's search reads that unit's
matches, not the platform's. Every statement the search sends is captured and run again under
EXPLAIN (ANALYZE, FORMAT JSON), and every plan node that reads search_document or one of its
indexes is counted: the rows it handed on plus those it threw away (filter, recheck). Our unit
has 600 cases, 6 of them saying 会费; three other units hold 100 cases each saying it: no node
may read more than our 6. Before, the GIN index handed over the 301 cases of every unit saying
the word and a filter on unit_key dropped those of other units (or, had the word been commoner
than the unit's cases, the unit's 600 were read through its index on unit_key and filtered).

Also here: what a common word ranks (the best of the newest COUNT_CAP matches), the supervisor's
search over the newest blocks of case ids, and existing rows getting their filter lexemes from
the migration."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from casework.cases.models import Case
from casework.registry.models import Unit
from casework.search import SearchQuery, sync
from tests.conftest import needs_service

pytestmark = [pytest.mark.postgres, pytest.mark.commits]

LONG = "，请协会依法处理并答复。"
OTHERS = 100  # matching cases in each of three other units
QUIET = 594  # our unit's cases that do not say 会费


@pytest.fixture
def pg(db, tmp_path):
    from casework.search.pg_backend import PostgresBackend

    if db.engine.dialect.name != "postgresql":
        needs_service("PostgreSQL (TEST_DATABASE_URL)")  # the suite's PostgreSQL pass runs it
    backend = PostgresBackend(db, tmp_path / "search")
    backend.clear()
    yield backend
    backend.clear()


def units(db, n: int) -> list[int]:
    with db.session_scope(write=False) as s:
        return list(s.scalars(select(Unit.id).order_by(Unit.id).limit(n)))


def copies(db, source_id: int, unit_id: int, n: int, tag: str, state: str | None = None) -> list[int]:
    """n cases like ``source_id`` in ``unit_id``: rows of the case table, copied in SQL (filing
    hundreds through the intake would take most of a minute); indexed by the indexer as any."""
    cols = [c.name for c in Case.__table__.columns if c.name not in ("id", "number", "unit_id", "idempotency_key",
                                                                      "state")]
    names = ", ".join(f'"{c}"' for c in cols)
    with db.engine.begin() as conn:
        return list(conn.execute(text(
            f'INSERT INTO "case" (number, unit_id, state, {names}) '
            f"SELECT :tag || lpad(g::text, 6, '0'), :unit, coalesce(:state, c.state), {names} "
            f'FROM "case" c, generate_series(1, :n) g WHERE c.id = :src RETURNING id'),
            {"tag": tag, "unit": unit_id, "state": state, "n": n, "src": source_id}).scalars())


@pytest.fixture
def platform(db, services, file_case, pg):
    """Our unit: 6 cases saying 会费 (3 closed) and QUIET saying something else; the lead's
    second unit: 10 saying 会费; three other units: OTHERS each saying 会费 (and 评比)."""
    fee = file_case(title="强制入会并收取会费", description="协会要求必须入会，并收取会费两万元" + LONG)
    other = file_case(title="评比表彰收费问题", description="协会以评比为名向企业收取赞助费用" + LONG)
    ours, second, *others = units(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text('UPDATE "case" SET unit_id = :u WHERE id IN (:a, :b)'),
                     {"u": ours, "a": fee.case_id, "b": other.case_id})
    mixed = file_case(title="会费与评比", description="协会收取会费并组织评比活动" + LONG)
    copies(db, fee.case_id, ours, 2, "TSA")
    copies(db, fee.case_id, ours, 3, "TSB", state="closed")
    copies(db, other.case_id, ours, QUIET - 1, "TSC")
    copies(db, fee.case_id, second, 10, "TSD")
    for i, unit in enumerate(others):
        copies(db, mixed.case_id, unit, OTHERS, f"TSE{i}")
    with db.engine.begin() as conn:  # the mixed case itself goes to the first other unit
        conn.execute(text('UPDATE "case" SET unit_id = :u WHERE id = :id'), {"u": others[0], "id": mixed.case_id})
    sync.reindex_all(db, services, pg)
    # as autovacuum leaves a table: the index entries of rows deleted by earlier tests are gone
    # (a bitmap index scan hands them over and the heap drops them unseen), statistics are fresh
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE search_document"))
    return {"ours": ours, "second": second, "others": others, "fee": fee}


def reads(db, backend, query: SearchQuery):
    """(the result, [(plan node, rows it read from search_document or an index of it), …]) of
    every statement the search sent, run again in the same order under EXPLAIN ANALYZE."""
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = backend.search(query)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert sent, "the search sent nothing"
    nodes = []
    with db.engine.connect() as conn:
        for statement, parameters in sent:
            if "search_document" not in statement:
                conn.exec_driver_sql(statement, parameters)  # SETs and set_config: as the search had them
                continue
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
            nodes += _reading(plan[0]["Plan"])
        conn.rollback()
    return result, nodes


def _reading(node) -> list[tuple[str, int]]:
    found = []
    name = node.get("Index Name") or node.get("Relation Name") or ""
    if name == "search_document" or name.endswith("search_document") or "search_document_" in name:
        n = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
             + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
        found.append((f"{node['Node Type']} on {name}", n))
    for child in node.get("Plans", []):
        found += _reading(child)
    return found


def numbers(result) -> set[str]:
    return {h.number for h in result.hits}


def test_a_handlers_search_reads_only_that_units_matches(db, pg, platform):
    ours = platform["ours"]
    result, nodes = reads(db, pg, SearchQuery(text="会费", unit_ids=frozenset({ours})))
    assert result.total == 6 and not result.more and len(result.hits) == 6
    assert {h.unit_id for h in result.hits} == {ours}
    assert nodes and max(n for _, n in nodes) <= 6, nodes


def test_a_state_filter_and_a_word_alone_stay_within_the_unit(db, pg, platform):
    ours = platform["ours"]
    closed, nodes = reads(db, pg, SearchQuery(text="会费", unit_ids=frozenset({ours}), state="closed"))
    assert closed.total == 3 and {h.state for h in closed.hits} == {"closed"}
    assert max(n for _, n in nodes) <= 6, nodes
    # two words: fewer matches still
    both, nodes = reads(db, pg, SearchQuery(text="会费 入会", unit_ids=frozenset({ours})))
    assert both.total == 6 and max(n for _, n in nodes) <= 6, nodes
    # NOT alone has no word to confine it: the unit does (its cases, of which QUIET lack 会费)
    without, nodes = reads(db, pg, SearchQuery(text="NOT 会费", unit_ids=frozenset({ours}), per_page=100))
    assert without.total == QUIET and {h.unit_id for h in without.hits} == {ours}
    assert max(n for _, n in nodes) <= QUIET + 6, nodes


def test_a_phrase_reads_only_the_units_cases_having_its_words(db, pg, platform):
    """A quoted phrase: its words through the GIN index, then the phrase in each found row's
    text; no more rows read than the unit's cases having the words (6), although 300 cases of
    other units say the phrase too."""
    ours = platform["ours"]
    said, nodes = reads(db, pg, SearchQuery(text='"收取会费"', unit_ids=frozenset({ours})))
    assert said.total == 6 and {h.unit_id for h in said.hits} == {ours}
    assert nodes and max(n for _, n in nodes) <= 6, nodes
    backwards, nodes = reads(db, pg, SearchQuery(text='"会费收取"', unit_ids=frozenset({ours})))
    assert backwards.total == 0 and max(n for _, n in nodes) <= 6, nodes
    everywhere = pg.search(SearchQuery(text='"收取会费"', unit_ids=None))
    assert everywhere.total == 6 + 10 + 3 * OTHERS + 1  # and the case the others were copied from


def test_a_lead_of_two_units_reads_those_units_matches(db, pg, platform):
    ours, second = platform["ours"], platform["second"]
    result, nodes = reads(db, pg, SearchQuery(text="会费", unit_ids=frozenset({ours, second})))
    assert result.total == 16 and {h.unit_id for h in result.hits} == {ours, second}
    assert max(n for _, n in nodes) <= 16, nodes
    # asking for another unit through the filter does not get around the permission, nor reads it
    theirs, nodes = reads(db, pg, SearchQuery(text="会费", unit_ids=frozenset({ours}), unit=platform["others"][0]))
    assert theirs.total == 0 and max((n for _, n in nodes), default=0) == 0, nodes


def test_a_case_number_in_a_units_search(db, pg, platform):
    ours, number = platform["ours"], platform["fee"].case_number
    mine, nodes = reads(db, pg, SearchQuery(text=number, unit_ids=frozenset({ours})))
    assert numbers(mine) == {number} and mine.total == 1
    assert max(n for _, n in nodes) <= 1, nodes
    elsewhere, _ = reads(db, pg, SearchQuery(text=number, unit_ids=frozenset({platform["others"][1]})))
    assert elsewhere.total == 0


def test_a_supervisor_counts_to_the_cap_over_every_unit(db, pg, platform, monkeypatch):
    import casework.search.pg_backend as pgb

    everything = pg.search(SearchQuery(text="会费", unit_ids=None, per_page=100))
    assert everything.total == 16 + 3 * OTHERS + 1 and not everything.more
    monkeypatch.setattr(pgb, "COUNT_CAP", 100)
    capped = pg.search(SearchQuery(text="会费", unit_ids=None))
    assert (capped.total, capped.more) == (100, True)
    assert pg.search(SearchQuery(text="评比", unit_ids=None)).more


# -- ranking a common word -------------------------------------------------------------------

def test_more_matches_than_the_cap_rank_the_newest_cap_matches(db, services, file_case, pg, monkeypatch):
    """Three cases say 强制入会 in the title (the best matches), the oldest first; then five
    say it in the description. With COUNT_CAP 4 the newest four are ranked: the newest title
    match first, then the three newer description matches; then the older ones newest first,
    best or not. With a cap above the matches all are ranked: the three title matches first."""
    import casework.search.pg_backend as pgb

    best = [file_case(title="强制入会的投诉", description="详细情况见附件材料" + LONG) for _ in range(3)]
    rest = [file_case(title="其他问题说明", description="协会要求我们强制入会" + LONG) for _ in range(5)]
    sync.reindex_all(db, services, pg)
    order = [b.case_number for b in best] + [r.case_number for r in rest]  # oldest first

    ranked_all = pg.search(SearchQuery(text="强制入会", unit_ids=None))
    assert [h.number for h in ranked_all.hits][:3] == order[2::-1]  # the title matches, newest first
    monkeypatch.setattr(pgb, "COUNT_CAP", 4)
    capped = pg.search(SearchQuery(text="强制入会", unit_ids=None))
    assert (capped.total, capped.more) == (4, True)
    newest_four = order[4:]  # all description matches: ranked among themselves, newest first on a tie
    assert [h.number for h in capped.hits][:4] == newest_four[::-1]
    assert [h.number for h in capped.hits][4:] == order[3::-1]  # older: by date, the title matches too
    page2 = pg.search(SearchQuery(text="强制入会", unit_ids=None, per_page=3, page=2))
    assert [h.number for h in page2.hits] == [newest_four[0], order[3], order[2]]


def test_a_supervisors_common_word_is_found_in_the_newest_blocks(db, services, file_case, pg, monkeypatch):
    """With blocks of 2 case ids, the supervisor's search counts its matches in the newest
    blocks first and widens them until they hold COUNT_CAP + 1: the same page as without."""
    import casework.search.pg_backend as pgb

    for i in range(14):  # 9 say 会费 in the title
        file_case(title=f"收取会费问题{i}" if i % 3 else "其他问题说明", description="协会强制入会" + LONG)
    monkeypatch.setattr(pgb, "BLOCK", 2)
    sync.reindex_all(db, services, pg)
    monkeypatch.setattr(pgb, "COUNT_CAP", 3)
    windows = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        windows.extend(v for v in (parameters or {}).values() if isinstance(v, str) and "'block " in v)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        found = pg.search(SearchQuery(text="会费", unit_ids=None, per_page=2, page=2))
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert windows, "no block was looked at"
    monkeypatch.setattr(pgb, "MAX_BLOCKS", 0)  # every case at once
    plain = pg.search(SearchQuery(text="会费", unit_ids=None, per_page=2, page=2))
    assert [h.number for h in found.hits] == [h.number for h in plain.hits] and len(found.hits) == 2
    assert (found.total, found.more) == (plain.total, plain.more) == (3, True)


# -- the upgrade ----------------------------------------------------------------------------

def test_rows_indexed_before_the_upgrade_are_found_within_their_unit(database_url, services, submission_data,
                                                                    tmp_path):
    """A search_document row written before the filter lexemes existed gets them from the
    migration: after the upgrade (no reindex) a handler's search finds the case."""
    from alembic.script import ScriptDirectory

    from casework import migrate
    from casework.cases.models import Channel
    from casework.db import Database, make_engine
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.registry.demo import load_demo
    from casework.search.pg_backend import PostgresBackend

    if not database_url.startswith("postgresql"):
        needs_service("PostgreSQL (TEST_DATABASE_URL)")
    engine = make_engine(database_url)
    with engine.begin() as conn:  # a schema of its own, as tests/casework/test_migrations.py does
        conn.execute(text("DROP SCHEMA IF EXISTS search_upgrade CASCADE; CREATE SCHEMA search_upgrade"))
    url = f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3Dsearch_upgrade"
    ours = Database(url)
    try:
        migrate.upgrade(url)
        with ours.session_scope() as s:
            load_demo(s)
        with ours.session_scope() as s:
            sub, errors = validate_submission(s, submission_data())
            assert not errors
            receipt = submit_case(s, services, sub, channel=Channel.web)
        backend = PostgresBackend(ours, tmp_path / "search")
        assert sync.reindex_all(ours, services, backend) == 1
        with ours.session_scope(write=False) as s:
            unit = s.get(Case, receipt.case_id).unit_id
        script = ScriptDirectory.from_config(migrate.alembic_config(url))
        lexemes = next(r for r in script.walk_revisions() if r.path.endswith("_search_filter_lexemes.py"))
        migrate.downgrade(url, lexemes.down_revision)  # the rows as the earlier version wrote them
        with ours.engine.connect() as conn:
            def having(lexeme):
                return conn.scalar(text("SELECT count(*) FROM search_document WHERE tsv @@ CAST(:q AS tsquery)"),
                                   {"q": f"'{lexeme}'"})

            assert having("会费") == 1 and having(f"unit u{unit}") == 0
        ours.dispose()
        migrate.upgrade(url)
        found = backend.search(SearchQuery(text="会费", unit_ids=frozenset({unit})))
        assert [h.number for h in found.hits] == [receipt.case_number] and found.total == 1
        assert backend.search(SearchQuery(text="会费", unit_ids=frozenset({unit + 1000}))).total == 0
    finally:
        ours.dispose()
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS search_upgrade CASCADE"))
        engine.dispose()
