"""Rate-limit counters in the application's database: the `limits` storage for an install
without Redis.

Why: every limit (wrong query or answer codes per case number, staff logins per account) must
hold across all the processes that answer requests. ``memory://`` counts per process, so under
gunicorn each worker had a budget of its own (two workers: about 20 wrong codes instead of 10).
`limits` ships no storage that is shared between processes without a server (memory, Redis,
Valkey, Memcached, MongoDB), so with no REDIS_URL the counters are rows of one small table in
the database every process already uses: shared by the workers of a SQLite install and by every
node of a PostgreSQL one. With REDIS_URL set, Redis is used instead (casework.settings).

The strategy is Flask-Limiter's default, fixed window: a counter per key with the end of its
window. A hit is one upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on SQLite and
PostgreSQL alike) that restarts the window when it has ended, so concurrent hits from any number
of processes are counted exactly; rows whose window has ended are deleted on the next hit.
Only failures are counted (a wrong code, a failed login), after the request's own transaction has
ended, so the extra write is rare and never waits on the request's lock.
"""
from __future__ import annotations

import time
from typing import Callable

import sqlalchemy as sa
from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, Database

SCHEME = "changtong-db"
URI = f"{SCHEME}://"


class RateLimitCounter(Base):
    """One fixed window of one rate-limit key: its hits and when the window ends."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(sa.Integer)
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)  # seconds since the epoch


_table = RateLimitCounter.__table__


class DatabaseStorage(Storage):
    """`limits` storage over the rate_limit_counter table: the methods of the fixed-window
    strategy (the one in use; no MovingWindowSupport). Give it the app's Database: ``storage_from_string(URI,
    database=db)``, which Flask-Limiter does with RATELIMIT_STORAGE_OPTIONS."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 database: "Database | Callable[[], Database] | None" = None, **options) -> None:
        if database is None:
            raise ConfigurationError(f"{SCHEME}:// needs the application's Database (database=...)")
        # a Database, or a function giving the one of the app being served (one limiter object
        # serves every app made in a process, as in the tests)
        self._database = database
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    def _write(self, *statements):
        # the write session of the Database, looked up each time: its own transaction (BEGIN
        # IMMEDIATE on SQLite, so writers queue), committed at once
        with self.database.write() as session:
            results = [session.execute(s) for s in statements]
            value = results[-1].scalar() if results[-1].returns_rows else results[-1].rowcount
            session.commit()
            return value

    def _read(self, statement):
        with self.database.read() as session:
            return session.execute(statement).scalar()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = (postgresql.insert if self.database.engine.dialect.name == "postgresql" else sqlite.insert)(_table)
        ended = _table.c.expires_at <= now
        upsert = insert.values(key=key, hits=amount, expires_at=now + expiry).on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={"hits": sa.case((ended, amount), else_=_table.c.hits + amount),
                  "expires_at": sa.case((ended, now + expiry), else_=_table.c.expires_at)},
        ).returning(_table.c.hits)
        expired = sa.delete(_table).where(_table.c.expires_at <= now, _table.c.key != key)
        return int(self._write(expired, upsert))

    def get(self, key: str) -> int:
        hits = self._read(sa.select(_table.c.hits).where(_table.c.key == key, _table.c.expires_at > time.time()))
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        expires_at = self._read(sa.select(_table.c.expires_at).where(_table.c.key == key))
        now = time.time()
        return float(expires_at) if expires_at is not None and expires_at > now else now

    @property
    def database(self) -> Database:
        return self._database() if callable(self._database) else self._database

    def check(self) -> bool:
        try:
            self._read(sa.select(sa.literal(1)))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        return self._write(sa.delete(_table))

    def clear(self, key: str) -> None:
        self._write(sa.delete(_table).where(_table.c.key == key))
