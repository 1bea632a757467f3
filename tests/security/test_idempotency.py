"""Issue 17, item 6: replaying an Idempotency-Key returned the case number and query code to
anyone, with any body, for 10 minutes, unthrottled, and keys could be 8 characters. Now a key
is bound to its request (a hash of the body): another body under it is answered 422 with nothing
of the first case; keys are 32 to 64 characters; replays of one key are throttled.
docs/security.md names these tests."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from casework.cases.models import Case
from tests.web.test_api import post_case
from tests.web.test_open311 import form, post


def cases(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_a_key_replays_only_its_own_request(client, db, submission_data):
    key = str(uuid.uuid4())
    first = post_case(client, submission_data(), **{"Idempotency-Key": key})
    assert first.status_code == 201
    # the same request, its fields in another order, is the same request
    again = post_case(client, dict(reversed(list(submission_data().items()))), **{"Idempotency-Key": key})
    assert again.status_code == 201 and again.get_json() == first.get_json()
    stranger = post_case(client, submission_data(title="别的标题，不同的请求"), **{"Idempotency-Key": key})
    assert stranger.status_code == 422
    body = stranger.get_data(as_text=True)
    assert first.get_json()["case_number"] not in body and first.get_json()["query_code"] not in body
    assert "Idempotency-Key" in stranger.get_json()["errors"]
    assert cases(db) == 1


def test_keys_must_carry_at_least_128_bits(client, db, submission_data):
    for short in ("abcdefgh", "hotline-call-000123", "k" * 31):
        resp = post_case(client, submission_data(), **{"Idempotency-Key": short})
        assert resp.status_code == 422 and "32" in resp.get_json()["errors"]["Idempotency-Key"][0]
    assert cases(db) == 0
    assert post_case(client, submission_data(), **{"Idempotency-Key": uuid.uuid4().hex}).status_code == 201


def test_replays_of_one_key_are_throttled(client, db, submission_data):
    key = "replay-" + uuid.uuid4().hex
    assert post_case(client, submission_data(), **{"Idempotency-Key": key}).status_code == 201
    statuses = [post_case(client, submission_data(), **{"Idempotency-Key": key}).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    other = post_case(client, submission_data(), **{"Idempotency-Key": "replay-" + uuid.uuid4().hex})
    assert other.status_code == 201  # another key is not affected


def test_open311_binds_its_keys_too(client, db):
    key = {"Idempotency-Key": "open311-" + uuid.uuid4().hex}
    first = post(client, form(), **key)
    assert first.status_code == 200
    assert post(client, form(), **key).headers["Idempotent-Replayed"] == "true"
    stranger = post(client, form(description="另一份完全不同的请求描述，协会强制要求我们参加收费培训。"), **key)
    assert stranger.status_code == 422
    assert first.get_json()[0]["service_request_id"] not in stranger.get_data(as_text=True)
    assert post(client, form(), **{"Idempotency-Key": "short-key-0001"}).status_code == 400
