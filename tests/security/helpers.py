"""What the security tests share: every table's row counts, and the whole database as text."""
from __future__ import annotations

import re

from sqlalchemy import inspect, text

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


def table_names(db) -> list[str]:
    return sorted(t for t in inspect(db.engine).get_table_names() if t != "alembic_version")


def row_counts(db) -> dict[str, int]:
    """Rows per table but the rate-limit counters (a refused lookup counts there: that is the
    limit, not data it stored)."""
    with db.session_scope(write=False) as s:  # the test's own connection: what it wrote, committed or not
        conn = s.connection()
        return {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in table_names(db)
                if t != "rate_limit_counter"}


def dump(db) -> str:
    """Every row of every table, every column, as text (bytes decoded as latin-1 and as hex)."""
    out = []
    with db.session_scope(write=False) as s:
        conn = s.connection()
        for t in table_names(db):
            for row in conn.execute(text(f'SELECT * FROM "{t}"')):
                for value in row:
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        b = bytes(value)
                        out.append(b.decode("latin-1"))
                        out.append(b.hex())
                    elif value is not None:
                        out.append(str(value))
    return "\n".join(out)


def csrf(client, path="/track") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    page = client.get("/track").get_data(as_text=True)  # any form's token (signed in or not)
    return client.post("/staff/login", data={"csrf_token": CSRF.search(page).group(1),
                                             "username": username, "password": password})
