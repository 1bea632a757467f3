"""Faults with the real parts (bench/faults.py): PostgreSQL restarted mid-load, Redis
restarted and a worker SIGKILLed while cases are filed. And, without any service, what a
client sees when the database is unreachable: a 503 with Retry-After, never a 500."""
from __future__ import annotations

import json

import pytest

from casework.db import Database
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
                               content_type="application/json", headers={"Idempotency-Key": "fault-test-0001"})
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
