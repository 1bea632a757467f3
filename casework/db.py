"""Declarative base, engine and session helpers that work without Flask.

Operations flush; the boundary (a request, a task, a CLI command) commits. On SQLite
writes open with BEGIN IMMEDIATE so two writers queue for the lock (tried again every
fraction of a millisecond, then on the busy timeout) instead of failing when a read
transaction tries to upgrade.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they are UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp on every database: stored in UTC, read back aware
    (SQLite would otherwise return naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        return as_utc(value)


def make_engine(url: str, **kw) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            if conn.get_execution_options().get("sqlite_immediate"):
                _begin_immediate(conn)
            else:  # a read's BEGIN cannot wait for a lock: on the driver unless something listens (issue 18)
                driver_execute(conn, "BEGIN")

        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("hide_parameters", True)  # bound values may be personal data: never in logs
    return create_engine(url, **kw)


# how long a writer retries BEGIN IMMEDIATE in steps of 0.1 to 2 ms before SQLite's own busy
# handler takes over (up to its 30 s busy timeout, as before)
QUICK_WAIT_SECONDS = 2.0


def _begin_immediate(conn) -> None:
    """BEGIN IMMEDIATE: the write lock, waited for in short steps. SQLite's busy handler sleeps 1,
    2, 5, 10, 15 ms… between its tries, while a case submission holds the lock for about a
    millisecond: under two busy gunicorn workers the waiting, not the work, set the rate
    (issue 18). The quick tries run on the driver's connection with the busy timeout off, so a
    try that finds the lock taken fails at once; what outlasts them waits as it always did."""
    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        pause, give_up = 0.0001, time.monotonic() + QUICK_WAIT_SECONDS
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) != sqlite3.SQLITE_BUSY or time.monotonic() > give_up:
                    break
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
    finally:
        raw.execute("PRAGMA busy_timeout = 30000")
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's busy handler; its error is SQLAlchemy's as before


_STATEMENT_EVENTS = ("before_execute", "after_execute", "before_cursor_execute", "after_cursor_execute")
_DRIVER_EVENTS = ("do_execute", "do_executemany", "handle_error")


def _listened(conn) -> bool:
    """Whether anything listens to a statement of ``conn`` (its engine's events, its dialect's)."""
    return any(getattr(conn.dispatch, name) for name in _STATEMENT_EVENTS) \
        or any(getattr(conn.dialect.dispatch, name) for name in _DRIVER_EVENTS)


def driver_execute(conn, sql: str, params=(), *, many: bool = False):
    """``sql`` (the driver's own SQL and parameters, compiled beforehand) on ``conn``: the rows
    it returns (a list of tuples; ``[]`` for ``many``).

    On SQLite it goes to the driver's connection directly, unless something listens to the
    engine's statements (a statement counter, a tracer): ``exec_driver_sql`` spent about 40 µs
    around each of a filing's three statements, more than SQLite took to run them (issue 18).
    The driver's error comes out as SQLAlchemy's (``IntegrityError``, ``OperationalError``…), as
    from ``exec_driver_sql``. PostgreSQL always goes through ``exec_driver_sql``: SQLAlchemy
    tells a lost connection from other errors there and takes it out of the pool."""
    if conn.dialect.name != "sqlite" or _listened(conn):
        if many:
            conn.exec_driver_sql(sql, params)
            return []
        return list(conn.exec_driver_sql(sql, params))
    raw = conn.connection.dbapi_connection
    try:
        if many:
            raw.executemany(sql, params)
            return []
        return raw.execute(sql, params).fetchall()
    except sqlite3.Error as err:
        raise DBAPIError.instance(sql, params, err, sqlite3.Error, hide_parameters=True) from err


class Database:
    """An engine and two session factories: one for reads, one for writes."""

    def __init__(self, url: str, **engine_kw):
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.read = sessionmaker(self.engine, expire_on_commit=False)
        self.write = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session_scope(self, *, write: bool = True) -> Iterator[Session]:
        session = (self.write if write else self.read)()
        try:
            yield session
            if write:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
