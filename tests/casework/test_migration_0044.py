"""Migration 0044 (a mediation session moved or cancelled): the sessions scheduled before it stand
as scheduled, a change without its reason is refused by the database, and the downgrade keeps the
sessions. (Up, down and up again with the others, and the head against the models:
tests/casework/test_migrations.py.) On PostgreSQL too: ``_fresh_url`` takes TEST_DATABASE_URL's server."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from casework import migrate
from casework.db import make_engine
from tests.casework.test_migrations import _fresh_url


def test_0044_keeps_the_sessions_scheduled_before_it_and_wants_a_reason_for_a_change(
        tmp_path, services, submission_data):
    from casework.cases.models import Channel
    from casework.db import Database
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.registry.demo import load_demo

    url = _fresh_url(tmp_path)
    migrate.upgrade(url, "0043")
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
        sub, errors = validate_submission(s, submission_data())
        assert not errors, errors
        case_id = submit_case(s, services, sub, channel=Channel.web).case_id
    db.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO mediation_session (case_id, scheduled_at, place, online, held, created_at) "
                          "VALUES (:c, CURRENT_TIMESTAMP, '协会会议室', :no, :no, CURRENT_TIMESTAMP)"),
                     {"c": case_id, "no": False})
    migrate.upgrade(url, "0044")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, status_reason, moved_to_id FROM mediation_session")).one()
    assert tuple(row) == ("scheduled", None, None)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # cancelled, but when and why not said
        conn.execute(text("UPDATE mediation_session SET status = 'cancelled'"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # held, so it took place as scheduled
        conn.execute(text("UPDATE mediation_session SET held = :yes, status = 'cancelled', status_reason = '取消', "
                          "status_changed_at = CURRENT_TIMESTAMP"), {"yes": True})
    with engine.begin() as conn:
        conn.execute(text("UPDATE mediation_session SET status = 'cancelled', status_reason = '取消', "
                          "status_changed_at = CURRENT_TIMESTAMP"))
    migrate.downgrade(url, "0043")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT place FROM mediation_session")) == "协会会议室"
    engine.dispose()
    migrate.downgrade(url, "base")
