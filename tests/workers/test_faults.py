"""Faults with the real parts (bench/faults.py): PostgreSQL restarted mid-load, Redis
restarted and a worker SIGKILLed while cases are filed. And, without any service, what a
client sees when the database is unreachable: a 503 with Retry-After, never a 500."""
from __future__ import annotations

import json

import pytest

from casework.db import Database
from tests.conftest import needs_service
from tests.workers.conftest import free_port


@pytest.fixture
def dead_db_client(settings, services):
    """The app on a database nobody listens on (what a restart looks like from the web)."""
    from web.app import create_app

    dead = Database(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing",
                    connect_args={"connect_timeout": 2})
    app = create_app(settings, services=services, database=dead)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app.test_client()
    dead.dispose()


def test_api_answers_503_with_retry_after_when_the_database_is_down(dead_db_client, submission_data):
    resp = dead_db_client.post("/api/v1/cases", data=json.dumps(submission_data()),
                               content_type="application/json", headers={"Idempotency-Key": "fault-test-0001-7d2e9b4c1a6f3e80b5c4"})
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.get_json()
    assert body["error"]["status"] == 503 and body["error"]["message"]
    assert body["error"]["retry_after"] == int(resp.headers["Retry-After"])


def test_web_form_shows_a_friendly_page_when_the_database_is_down(dead_db_client):
    resp = dead_db_client.post("/file/complaint", data={"form_token": "x" * 32, "title": "t"})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"]
    page = resp.get_data(as_text=True)
    assert "<html" in page and "Traceback" not in page
    assert 'role="alert"' in page and "/file/complaint" in page  # the way back to the form


# -- the real parts: bench/faults.py's stack, smaller ----------------------------------------------

@pytest.fixture(scope="module")
def stack():
    import glob
    import shutil

    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        needs_service("PostgreSQL server binaries (apt-get install postgresql)")
    if not shutil.which("redis-server"):
        needs_service("redis-server (apt-get install redis-server)")
    from bench.faults import Stack

    # a short lease, so that a batch the killed worker held is taken again within the test
    with Stack(lease=8) as s:
        yield s


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_restart_and_worker_sigkill_under_load_lose_and_double_nothing(stack):
    from bench.faults import check, run_redis_and_worker_faults

    load, _ = run_redis_and_worker_faults(stack, n=300, clients=20)
    assert set(load.events) >= {"redis restart done", "worker SIGKILL done"}
    assert load.accepted == 300, load.statuses  # every client got its case, retrying with its key
    got = check(stack, [load])
    assert got["cases"] == got["accepted_keys"] == 300
    assert got["duplicates"] == 0 and got["cases_without_a_2xx_key"] == 0 and got["2xx_without_a_case"] == 0
    assert got["receipt_files_per_case"] == {1: 300}  # every receipt sent, none twice
    assert got["sms_files_without_sent_row"] == got["sent_sms_rows_without_file"] == 0
    assert got["outbox_not_sent"] == 0
    assert got["index_docs"] == 300 and got["index_equals_cases"]


@pytest.mark.redis
@pytest.mark.postgres
def test_database_restart_mid_load_answers_503_and_leaves_no_half_written_case(stack):
    from bench.faults import check, run_database_restart, wait_settled

    load, took = run_database_restart(stack, n=150, clients=20)
    assert "database restart done" in load.events and took > 0
    assert set(load.statuses) <= {201, 503, "socket"}, load.statuses  # never a 500
    assert load.unavailable, "the restart was not seen by any client"
    assert all(u["retry_after"] and int(u["retry_after"]) > 0 and u["message"] for u in load.unavailable)
    assert load.accepted == 150 and load.retried_ok >= 1  # the retries with the same key got through
    wait_settled(stack, timeout=60)
    got = check(stack, [load])  # over the whole database (the other test's cases too, if it ran)
    assert got["cases_without_submitted_event"] == 0 and got["cases_without_receipt_notice"] == 0
    assert got["2xx_without_a_case"] == 0 and got["duplicates"] == 0  # each 2xx names its stored case
    assert got["outbox_not_sent"] == 0 and got["index_equals_cases"]
    assert got["receipt_files_per_case"] == {1: got["cases"]}
