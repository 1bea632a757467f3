"""A bare write, for ``bench/side.py``: the least a JSON API that stores what it is sent can do.

``POST /hello`` on a one-route Flask app parses the JSON body and stores it as one row of a
SQLite table (its own file, ``BARE_WRITE_DB``) in its own write transaction, with the pragmas
Changtong's SQLite connections use (WAL, ``synchronous=NORMAL``) and the same quick retries of
``BEGIN IMMEDIATE`` when the other worker holds the write lock (casework.db); it answers the
row's id, 201. No validation, no routing, no encryption, no ORM, no request hooks, one index
(the row id's).

The bare ``GET /hello`` is issue 18's yardstick; this is a second one for the submission: a
filing's share of it says how much of a filing's cost is Changtong's own work rather than
gunicorn, Flask and a committed SQLite write. Served by gunicorn as ``bench.barewrite:app``
(the same gunicorn.conf.py); never part of the product.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time

from flask import Flask, request

app = Flask(__name__)
_conn: sqlite3.Connection | None = None


def _db() -> sqlite3.Connection:
    """This worker's connection, opened at its first request (after gunicorn's fork)."""
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(os.environ["BARE_WRITE_DB"], isolation_level=None, timeout=30)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=NORMAL")
        _conn.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        _conn.execute("PRAGMA busy_timeout=0")  # the write lock is waited for below, as casework.db does
    return _conn


def _begin(conn: sqlite3.Connection) -> None:
    pause = 0.0001
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) != sqlite3.SQLITE_BUSY:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)


@app.get("/healthz")
def healthz():  # for the benchmark to see the server up; touches nothing
    return "ok"


@app.post("/hello")
def hello():
    data = request.get_json()
    conn = _db()
    _begin(conn)
    try:
        row_id = conn.execute("INSERT INTO note (body) VALUES (?)", (json.dumps(data, ensure_ascii=False),)).lastrowid
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {"id": row_id}, 201
