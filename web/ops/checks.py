"""Readiness checks: the database answers and is at the Alembic head, Redis answers (when
REDIS_URL is set), the data directory (and the uploads' one) takes a file. Each check has its own short timeout and
the checks run side by side, so /readyz answers within about TIMEOUT seconds whatever hangs.

Redis is reported but does not make a node unready (DEGRADES): while it is down a node still
takes every submission (the database commits it, the outbox carries its notices) and the rate
limits count in the database (web.extensions.RedisElseDatabase); only the broker's work (notices,
the sweep) waits for it. Every node shares one Redis, so a /readyz that failed on it would take
every node out of the load balancer at once: the whole site down for a delay of notices.

A failure is reported by the check's name and the exception's class, never its text (a
driver's message may carry a host, a user or a URL).
"""
from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from casework.settings import Settings

TIMEOUT = 2.0  # seconds, per check and for the whole answer
DEGRADES = frozenset({"redis"})  # a check that fails here leaves the node ready, degraded


def probe_engine(url: str) -> Engine:
    """An engine of its own for the probe: a fresh connection per check (a pool of the app's
    may be exhausted or hold a dead connection), with a connect and statement timeout.
    A SQLite file that is missing is an error here, not an empty new database."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = u.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            u = u.set(database=Path(path).resolve().as_uri(), query={**u.query, "mode": "rw", "uri": "true"})
        return create_engine(u, poolclass=NullPool, connect_args={"timeout": TIMEOUT}, hide_parameters=True)
    connect_args = {}
    if u.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, int(TIMEOUT)),
                        "options": f"-c statement_timeout={int(TIMEOUT * 1000)}"}
    return create_engine(u, poolclass=NullPool, connect_args=connect_args, hide_parameters=True)


class Readiness:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None
        self._heads: frozenset[str] | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = probe_engine(self.settings.database_url)
            return self._engine

    @property
    def heads(self) -> frozenset[str]:
        if self._heads is None:  # the migrations shipped with this code: read once
            from alembic.script import ScriptDirectory

            from casework.migrate import alembic_config

            self._heads = frozenset(ScriptDirectory.from_config(alembic_config(self.settings.database_url)).get_heads())
        return self._heads

    def database(self) -> dict:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
        at_head = current == self.heads
        return {"schema": {"ok": at_head, **({} if at_head else {"error": "not at the migration head"
                                                                 if current else "no schema"})}}

    def redis(self) -> dict:
        import redis

        client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=TIMEOUT,
                                      socket_connect_timeout=TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return {}

    def data_dir(self) -> dict:
        """A file can be made in the data directory, and in the uploads' directory when it
        exists (it may be a volume of its own)."""
        for directory in (self.settings.data_dir, self.settings.upload_dir):
            if directory == self.settings.data_dir or directory.is_dir():
                with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-"):
                    pass
        return {}

    def run(self) -> dict[str, dict]:
        checks = {"database": self.database, "data_dir": self.data_dir}
        if self.settings.redis_url:
            checks["redis"] = self.redis
        started = time.monotonic()
        futures = {name: self._pool.submit(_timed, fn) for name, fn in checks.items()}
        results: dict[str, dict] = {}
        for name, future in futures.items():
            left = max(0.05, TIMEOUT + 0.5 - (time.monotonic() - started))
            try:
                results.update(future.result(timeout=left)(name))
            except FutureTimeout:
                results[name] = {"ok": False, "error": "timeout"}
        if not results["database"]["ok"]:
            results["schema"] = {"ok": False, "error": "not checked: the database does not answer"}
        return results


def _timed(fn):
    started = time.monotonic()
    try:
        extra = fn()
        error = None
    except Exception as exc:  # the class only: a message may name a host, a user or a URL
        extra, error = {}, type(exc).__name__
    ms = round((time.monotonic() - started) * 1000, 1)

    def result(name: str) -> dict:
        own = {"ok": error is None, "ms": ms, **({"error": error} if error else {})}
        return {name: own, **extra}

    return result
