"""Redis stops under a production-like node (REDIS_URL set) and comes back: the public site and
API keep working, nothing is lost, and the limits still hold.

A redis-server of the test's own, on another port (bench.cluster.Redis, as tests/workers use),
is started, stopped and started again; the shared Redis of the machine is never touched. With it
down: the filing form's code request and the filing answer (the case is in the database, its
notices in the outbox), the API's code request answers 201, a wrong-code lookup answers 404 and
then 429 (never 500) with the counts in the database (shared by every process, not one
process's memory), /readyz answers 200 "degraded" naming redis, and /metrics says
dependency_up{redis}=0. Once it is back, the counts go to Redis again.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time

import pytest
from sqlalchemy import func, select

from casework.cases.models import Case
from casework.notify.models import OutboxMessage
from casework.ratelimit import RateLimitCounter
from tests.conftest import needs_service
from tests.web.test_ops import samples, value
from tests.web.test_public_pages import form_data, open_form

pytestmark = pytest.mark.redis

NUMBER = "C2026120599999"  # never issued: a wrong code and an unknown number count alike
OTHER = "C2026120599998"
WRONG = {"X-Query-Code": "AAAA-BBBB-CCCC-DDDD"}
VID = re.compile(r'name="verification_id" value="([^"]*)"')


@pytest.fixture
def own_redis(tmp_path):
    from bench.cluster import Redis

    if not shutil.which("redis-server"):
        needs_service("redis-server (apt-get install redis-server)")
    server = Redis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def node(settings, db, services, own_redis, monkeypatch):
    """An app as a production node runs it: REDIS_URL set (to the test's own redis-server)."""
    from web.app import create_app
    from web.extensions import RedisElseDatabase, limiter

    monkeypatch.setattr(RedisElseDatabase, "RETRY", 0.2)  # tries Redis again soon, not in 5 s
    app = create_app(dataclasses.replace(settings, redis_url=own_redis.url), services=services, database=db)
    app.testing = False  # an error answers 500, as in production, instead of raising in the test
    try:
        with app.app_context():
            limiter.reset()
        assert isinstance(limiter.storage, RedisElseDatabase)
        yield app
    finally:
        create_app(settings, services=services, database=db)  # the limiter is one for all apps: back to the database


def redis_keys(server) -> list[str]:
    import redis

    client = redis.Redis.from_url(server.url)
    try:
        return [k.decode() for k in client.keys("*")]
    finally:
        client.close()


def database_counts(db) -> dict[str, int]:
    with db.session_scope(write=False) as s:
        return {k: h for k, h in s.execute(select(RateLimitCounter.key, RateLimitCounter.hits))}


def post_json(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_with_redis_down_the_site_files_and_limits_and_after_it_returns_counts_in_redis_again(
        node, own_redis, db, sms_code):
    from web.extensions import limiter

    client = node.test_client()
    limit = int(node.extensions["changtong.settings"].lookup_limit.split()[0])  # "10 per 10 minutes"

    # Redis up: a wrong code is counted in Redis, nothing in the database
    assert client.get(f"/api/v1/cases/{OTHER}", headers=WRONG).status_code == 404
    assert any(OTHER in k for k in redis_keys(own_redis)) and database_counts(db) == {}
    assert client.get("/readyz").get_json()["status"] == "ok"

    own_redis.stop()

    # the API's code request: a code is issued (the SMS is an outbox row)
    sent = post_json(client, "/api/v1/verifications", {"phone": "13900139000"})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert re.fullmatch(r"\d{6}", sms_code("13900139000"))

    # the filing form: the code request, then the filing with the code
    csrf, token, _ = open_form(client)
    asked = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token, title="Redis 停止时的投诉"))
    assert asked.status_code == 200, asked.status_code
    vid = VID.search(asked.get_data(as_text=True)).group(1)
    again = client.post("/file/complaint", follow_redirects=True,
                        data=form_data(csrf, token, verification_id=vid, action="resend"))
    assert again.status_code == 429  # one code a minute per number: still counted (said on the form's address)
    filed = client.post("/file/complaint", follow_redirects=True, data=form_data(
        csrf, token, title="Redis 停止时的投诉", verification_id=vid, verify_code=sms_code()))
    assert filed.status_code == 200 and "查询码" in filed.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.title == "Redis 停止时的投诉"))
        assert case is not None and case.phone_verified_via == "sms"
        notices = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.case_id == case.id))
    assert notices >= 1  # the receipt waits in the outbox for the worker

    # wrong codes: 404 up to the limit, then 429; counted in the database, shared by every process
    statuses = [client.get(f"/api/v1/cases/{NUMBER}", headers=WRONG).status_code for _ in range(limit + 2)]
    assert statuses == [404] * limit + [429] * 2, statuses
    assert any(NUMBER in k and hits == limit for k, hits in database_counts(db).items())
    assert limiter.storage.redis_down

    # still ready: the node takes submissions; redis named as degraded, its port nowhere
    ready = client.get("/readyz")
    body = ready.get_json()
    assert ready.status_code == 200 and body["status"] == "degraded" and body["degraded"] == ["redis"]
    assert "failed" not in body and not body["checks"]["redis"]["ok"] and body["checks"]["database"]["ok"]
    assert str(own_redis.port) not in ready.get_data(as_text=True)
    scraped = samples(client.get("/metrics").get_data(as_text=True))
    assert value(scraped, "changtong_dependency_up", dependency="redis") == 0
    assert value(scraped, "changtong_dependency_up", dependency="database") == 1

    own_redis.start()  # an empty Redis (no persistence), as after a restart
    time.sleep(0.3)  # past RETRY

    # counts go to Redis again; the outage's counts still refuse the number they were made for
    assert client.get(f"/api/v1/cases/{OTHER}", headers=WRONG).status_code == 404
    assert not limiter.storage.redis_down
    assert any(OTHER in k for k in redis_keys(own_redis))
    assert client.get(f"/api/v1/cases/{NUMBER}", headers=WRONG).status_code == 429
    sent = post_json(client, "/api/v1/verifications", {"phone": "13700137000"})
    assert sent.status_code == 201 and any(k.startswith("LIMITS") and "verify" in k for k in redis_keys(own_redis))
    before = database_counts(db)
    assert client.get(f"/api/v1/cases/{OTHER}", headers=WRONG).status_code == 404
    assert database_counts(db) == before  # not in the database
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"


def test_a_redis_that_is_not_there_at_start_costs_no_request_a_500(settings, db, services, monkeypatch):
    """A node started while Redis is down (a free port nobody listens on) serves at once."""
    from bench.cluster import free_port
    from web.app import create_app

    app = create_app(dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"),
                     services=services, database=db)
    app.testing = False
    try:
        client = app.test_client()
        assert post_json(client, "/api/v1/verifications", {"phone": "13600136000"}).status_code == 201
        assert post_json(client, "/api/v1/verifications", {"phone": "13600136000"}).status_code == 429
        assert client.get(f"/api/v1/cases/{NUMBER}", headers=WRONG).status_code == 404
        assert client.get("/readyz").status_code == 200
    finally:
        create_app(settings, services=services, database=db)
