"""SQLite's write lock (casework.db._begin_immediate, issue 18): a writer that finds it taken waits
in short steps and gets it once it is free, its connection keeps the 30 s busy timeout for
everything else, and a lock held past the quick tries is still waited for as before."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from casework import db as dbmod
from casework.db import Database


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'lock.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    database.dispose()


def _hold_the_lock(database: Database, seconds: float, holding: threading.Event,
                   letting_go: list[float] | None = None) -> threading.Thread:
    def hold():
        with database.session_scope() as s:
            s.execute(text("INSERT INTO t (v) VALUES ('held')"))
            holding.set()
            time.sleep(seconds)
            if letting_go is not None:
                letting_go.append(time.monotonic())  # the commit follows: the lock is free after it

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    return thread


def test_a_writer_waits_for_the_lock_and_keeps_its_busy_timeout(sqlite_db):
    holding, letting_go = threading.Event(), []
    holder = _hold_the_lock(sqlite_db, 0.3, holding, letting_go)
    with sqlite_db.session_scope() as s:
        s.execute(text("INSERT INTO t (v) VALUES ('waited')"))
        got_it = time.monotonic()
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    holder.join()
    # it waited for the holder's commit, and did not fail: measured against the holder's own
    # clock, not a fixed share of its 0.3 s (a busy machine starts this thread late)
    assert got_it >= letting_go[0]
    with sqlite_db.session_scope(write=False) as s:
        assert s.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == ["held", "waited"]


def test_a_lock_held_past_the_quick_tries_is_waited_for_on_the_busy_timeout(sqlite_db, monkeypatch):
    monkeypatch.setattr(dbmod, "QUICK_WAIT_SECONDS", 0.05)
    holding = threading.Event()
    holder = _hold_the_lock(sqlite_db, 0.4, holding)
    with sqlite_db.session_scope() as s:
        s.execute(text("INSERT INTO t (v) VALUES ('later')"))
    holder.join()
    with sqlite_db.session_scope(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 2
