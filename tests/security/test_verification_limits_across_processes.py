"""Issue 19: the limits on SMS verification codes hold across processes. Two gunicorn instances
on one database (as two workers of `make run`), asked in turn: one code a minute per number, five
wrong codes per code, then no new code for 15 minutes, counted once for both, with the embedded
default storage (rows in the database) and with Redis."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.phone_codes import last_code
from tests.security.test_limits_across_processes import _stop, _two_servers, redis_url  # noqa: F401

PHONE = "13700137001"
CASE = {"type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
        "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
        "complainant": {"name": "张三", "phone": PHONE}, "privacy_consent": True}


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.commits  # the servers write rows of their own (emptied after the test)
@pytest.mark.parametrize("storage", ["database", "redis"])
def test_code_limits_are_counted_once_across_processes(settings, db, services, tmp_path, request, storage):
    redis = request.getfixturevalue("redis_url") if storage == "redis" else None
    procs, bases = _two_servers(settings, tmp_path, redis)
    try:
        sends = [_post(f"{bases[i % 2]}/api/v1/verifications", {"phone": PHONE}) for i in range(4)]
        # each process alone would send a code: together they send one a minute
        assert [s for s, _ in sends] == [201, 429, 429, 429], sends
        vid = sends[0][1]["id"]
        code = last_code(db, services, PHONE)
        wrong = "000000" if code != "000000" else "111111"
        tries = [_post(f"{bases[i % 2]}/api/v1/cases", {**CASE, "verification": {"id": vid, "code": wrong}})
                 for i in range(5)]
        assert [s for s, _ in tries] == [422, 422, 422, 422, 429], tries
        assert [b.get("tries_left") for _, b in tries] == [4, 3, 2, 1, 0]
        # the right code is dead too, and the number gets no new code from either process
        assert _post(f"{bases[1]}/api/v1/cases", {**CASE, "verification": {"id": vid, "code": code}})[0] == 429
        assert _post(f"{bases[0]}/api/v1/verifications", {"phone": PHONE})[0] == 429
        assert _post(f"{bases[1]}/api/v1/verifications", {"phone": PHONE})[0] == 429
    finally:
        for proc in procs:
            _stop(proc)
