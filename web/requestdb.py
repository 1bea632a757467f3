"""One database session per request: reads for GET, a write session for the rest.

Views call ``db_session()``; the view commits (the boundary), teardown closes.
"""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

from casework.context import Services
from casework.db import Database


def database() -> Database:
    return current_app.extensions["changtong.db"]


def services() -> Services:
    return current_app.extensions["changtong.services"]


def db_session() -> Session:
    if "db_session" not in g:
        db = database()
        write = request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = (db.write if write else db.read)()
    return g.db_session


def init_app(app) -> None:
    @app.teardown_appcontext
    def _close(exc):
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
