"""Submissions racing each other: numbers stay unique, a double submit files once.
Runs on SQLite and, in CI, on PostgreSQL where the race is real."""
import logging
import threading

import pytest

from sqlalchemy import func, select

from casework.cases.models import Case, Channel
from casework.intake.operations import submit_case
from casework.intake.validation import validate_submission

# threads racing on connections of their own; and the SQL log of a connection opened after the
# level is set: every test here commits
pytestmark = pytest.mark.commits


def race(db, services, data, n, key=None):
    barrier = threading.Barrier(n)
    receipts, errors = [], []

    def worker(i):
        try:
            with db.session_scope(write=False) as s:
                sub, errs = validate_submission(s, data)
            assert not errs
            barrier.wait(timeout=10)
            with db.session_scope() as s:
                receipts.append(submit_case(s, services, sub, channel=Channel.api,
                                            idempotency_key=key or f"race-{i}-{'x' * 20}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return receipts


def test_simultaneous_submissions_get_distinct_numbers(db, services, submission_data):
    receipts = race(db, services, submission_data(), 12)
    assert len({r.case_number for r in receipts}) == 12
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 12


def test_a_double_submit_racing_itself_files_one_case(db, services, submission_data):
    receipts = race(db, services, submission_data(), 4, key="same-form-token-123456")
    assert len({r.case_number for r in receipts}) == 1
    assert len({r.query_code for r in receipts}) == 1
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_personal_data_never_reaches_the_logs(client, caplog, submission_data):
    import json

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # an operator debugging SQL
    try:
        data = submission_data(complainant={"name": "欧阳娜娜", "phone": "13912345678", "email": "nana@example.cn"})
        body = client.post("/api/v1/cases", data=json.dumps(data), content_type="application/json").get_json()
        client.get(f"/api/v1/cases/{body['case_number']}", headers={"X-Query-Code": body["query_code"]})
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = caplog.text
    assert "INSERT INTO" in logged  # the SQL log was on
    for secret in ("欧阳娜娜", "13912345678", "nana@example.cn", body["query_code"]):
        assert secret not in logged
