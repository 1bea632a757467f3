"""The query plan of a statement as the app sends it (with its bound parameters), on SQLite or
PostgreSQL: for tests that a query reads the index meant for it."""
from __future__ import annotations

from sqlalchemy import text


def plan(db, conn, query) -> str:
    """SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN with sequential scans priced out
    (an index the planner can use then shows, even on a near-empty test table)."""
    compiled = query.compile(db.engine, compile_kwargs={"render_postcompile": True})  # an IN list as its values
    if db.is_sqlite:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
