"""casework.prepared: a submission's INSERTs converted before the write lock (issue 18) must
store exactly what SQLAlchemy's own INSERT stores, on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from casework.cases.models import ActorKind, Case, CaseState, Channel, Event, EventKind
from casework.intake.operations import submit_case
from casework.intake.validation import validate_submission
from casework.prepared import PreparedInsert

_event = Event.__table__
ROW = dict(created_at=datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=timezone.utc), actor_kind=ActorKind.public,
           actor_id=None, kind=EventKind.submitted, from_state=None, to_state=CaseState.received,
           summary="投诉 submitted via api", public_text=None, internal_text=None,
           data={"channel": "api", "anonymous": False, "名": "值"})


@pytest.fixture
def case_id(session, services, submission_data):
    sub, errors = validate_submission(session, submission_data())
    assert not errors
    return submit_case(session, services, sub, channel=Channel.api).case_id


def test_a_prepared_row_is_stored_as_sqlalchemys_own_insert_stores_it(session, case_id):
    prepared = PreparedInsert(_event, tuple(ROW) + ("case_id",))
    conn = session.connection()
    conn.execute(sa.insert(_event), [dict(ROW, case_id=case_id, summary="by SQLAlchemy")])
    prepared.execute_many(conn, [prepared.row(conn.dialect, dict(ROW, case_id=case_id, summary="prepared"))])
    columns = [c for c in _event.c if c.key not in ("id", "summary")]
    ours, theirs = (session.execute(select(*columns).where(_event.c.case_id == case_id, _event.c.summary == s)).one()
                    for s in ("prepared", "by SQLAlchemy"))
    assert ours == theirs
    assert ours.kind is EventKind.submitted and ours.data["名"] == "值"
    assert ours.created_at == ROW["created_at"]


def test_a_column_whose_default_is_a_function_must_be_given():
    with pytest.raises(ValueError, match="created_at"):
        PreparedInsert(_event, [k for k in ROW if k != "created_at"] + ["case_id"])


def test_constant_defaults_are_filled_in(session, case_id):
    row = session.execute(select(Case.extended, Case.overdue, Case.supervision_level, Case.reviews_requested)
                          .where(Case.id == case_id)).one()
    assert tuple(row) == (False, False, 0, 0)


def test_the_driver_path_raises_sqlalchemys_error_and_a_listener_sees_every_statement(session, case_id, db):
    """casework.db.driver_execute: on SQLite the driver's connection directly, and its error comes
    out as SQLAlchemy's, as from exec_driver_sql (a caller catching IntegrityError still does);
    with a listener on the engine (a statement counter, a tracer), through SQLAlchemy so that it
    sees the statement."""
    from sqlalchemy import event

    from casework.db import driver_execute

    conn = session.connection()
    prepared = PreparedInsert(_event, tuple(ROW) + ("case_id",))
    orphan = prepared.row(conn.dialect, dict(ROW, case_id=10**9))  # no such case: the foreign key refuses it
    with pytest.raises(sa.exc.IntegrityError):
        with session.begin_nested():
            prepared.execute_many(session.connection(), [orphan])
    seen = []

    def listener(_conn, _cursor, statement, *_):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert driver_execute(session.connection(), "SELECT 41 + 1") == [(42,)]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert seen == ["SELECT 41 + 1"]
    assert driver_execute(session.connection(), "SELECT 41 + 2") == [(43,)]  # and without one
    assert seen == ["SELECT 41 + 1"]
