"""INSERTs of the submission's path, compiled once per dialect, whose rows are converted before
the write transaction begins (issue 18).

SQLAlchemy converts a statement's values when it executes it: it looks the compiled statement
up in its cache, builds the parameters and runs each column type's bind processor (an enum to
its value, a datetime to SQLite's text, a dict to JSON). On a submission that is a third of the
time the write lock is held, and ``Session.execute`` adds the ORM's own step around it.
``PreparedInsert`` does the same conversion with the same processors
(``TypeEngine.bind_processor`` of each column's type for the dialect), but when the caller asks,
so that a filing makes its case row before ``BEGIN IMMEDIATE``; then it hands the statement and
the converted row to the driver (casework.db.driver_execute: ``Connection.exec_driver_sql`` when
something listens to the engine's statements, as the statement counters of
tests/web/test_submission_cost.py do, or on PostgreSQL).

Only constant defaults are filled in (a column's ``default=`` scalar); a column whose default is
made by a function must be given, and ``PreparedInsert`` refuses to be made otherwise, so that a
new column cannot silently go in as NULL.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from casework.db import driver_execute


class PreparedInsert:
    """``INSERT INTO table (keys…)``, optionally ``ON CONFLICT DO NOTHING`` and ``RETURNING``."""

    def __init__(self, table: sa.Table, keys: Iterable[str], *, skip_conflicts: bool = False,
                 returning: sa.Column | None = None):
        keys = tuple(keys)
        self.defaults: dict[str, Any] = {}
        for col in table.columns:
            if col.key in keys or col.default is None:
                continue
            if not col.default.is_scalar:
                raise ValueError(f"{table.name}.{col.key}: its default is made by a function; give it")
            self.defaults[col.key] = col.default.arg
        self.table = table
        self.keys = keys + tuple(self.defaults)
        self.skip_conflicts = skip_conflicts
        self.returning = returning
        self._compiled: dict[str, tuple[str, tuple[str, ...], tuple, bool]] = {}

    def _statement(self, dialect_name: str):
        make = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect_name)
        if self.skip_conflicts and make is None:
            raise NotImplementedError(f"ON CONFLICT DO NOTHING on {dialect_name}")
        stmt = (make or sa.insert)(self.table)
        if self.skip_conflicts:
            stmt = stmt.on_conflict_do_nothing()
        stmt = stmt.values({k: sa.bindparam(k, type_=self.table.c[k].type) for k in self.keys})
        return stmt.returning(self.returning) if self.returning is not None else stmt

    def _for(self, dialect):
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._statement(dialect.name).compile(dialect=dialect)
            order = tuple(compiled.positiontup) if compiled.positional else self.keys
            if set(order) != set(self.keys) or getattr(compiled, "escaped_bind_names", None):
                raise RuntimeError(f"{self.table.name}: the compiled INSERT's parameters are not its columns")
            processors = tuple(self.table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in order)
            found = self._compiled[dialect.name] = (compiled.string, order, processors, compiled.positional)
        return found

    def row(self, dialect, values: Mapping[str, Any]) -> tuple | dict:
        """One row's parameters as the driver takes them (every key given, or a constant default)."""
        _sql, order, processors, positional = self._for(dialect)
        defaults = self.defaults
        out = []
        for key, process in zip(order, processors):
            value = values[key] if key in values else defaults[key]
            out.append(value if process is None else process(value))
        return tuple(out) if positional else dict(zip(order, out))

    def execute(self, conn: sa.Connection, row: tuple | dict) -> list[tuple]:
        """The row inserted: what its RETURNING gives (a list of tuples; empty when ON CONFLICT
        DO NOTHING skipped it, or without RETURNING)."""
        return driver_execute(conn, self._for(conn.dialect)[0], row)

    def execute_many(self, conn: sa.Connection, rows: list) -> None:
        driver_execute(conn, self._for(conn.dialect)[0], rows, many=True)
