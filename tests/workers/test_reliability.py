"""Faults with the real parts: a real redis-server that is stopped, a real Celery worker
that is killed. Nothing is lost, nothing is sent or done twice."""
import json
import shutil
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from casework.cases.models import Case, Event, EventKind
from casework.db import utcnow
from casework.notify.channels import FileSink
from casework.privacy.crypto import Cipher
from casework.notify.models import OutboxMessage, OutboxStatus
from tests.workers.conftest import wait_for

# a Celery worker process reads and writes the rows: the test commits them
pytestmark = [pytest.mark.redis, pytest.mark.commits]


def test_redis_down_while_200_cases_are_filed(db, settings, client, submission_data, redis_server, start_worker,
                                               make_staff):
    from casework.accounts.models import Role
    from tests.web.test_desk_api import auth, token_for

    hotline = auth(token_for(db, make_staff("miit", Role.handler)))  # a registered client vouches (issue 19)
    shutil.rmtree(settings.notice_dir, ignore_errors=True)
    sink = FileSink(settings.notice_dir / "sms", Cipher(settings.pii_keys))
    start_worker(redis_server.url, beat=True, CHANGTONG_DISPATCH_SECONDS=1)
    redis_server.stop()
    numbers = []
    for i in range(200):
        resp = client.post("/api/v1/cases", data=json.dumps(submission_data(
            complainant={"name": "张三", "phone": f"1380013{i:04d}"}, phone_verified_by_client=True)),
            content_type="application/json", headers=hotline)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        numbers.append(resp.get_json()["case_number"])
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 200  # every case stored
    redis_server.start()  # back on the same port: the worker and beat reconnect
    wait_for(lambda: len(sink.delivered()) >= 200, timeout=90, what="200 receipts sent")
    time.sleep(3)  # anything doubled would show up now
    delivered = sink.delivered()
    assert len(delivered) == 200
    assert sorted(n for d in delivered for n in numbers if n in d["body"]) == sorted(numbers)
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.status != OutboxStatus.sent)) == 0


def _many_due_cases(db, file_case, n):
    """n open cases due tomorrow (copies of one real case, inserted in bulk)."""
    first = file_case().case_id
    with db.session_scope() as s:
        row = s.execute(select(Case.__table__).where(Case.id == first)).mappings().one()
        base = {k: v for k, v in row.items() if k != "id"}
        due = utcnow() + timedelta(hours=20)
        rows = [base | {"number": f"TS2026112{i:07d}", "idempotency_key": None, "due_at": due}
                for i in range(1, n)]
        s.execute(insert(Case.__table__), rows)
        # their units were told of them already: the sweep starts with the reminders this test is
        # about (telling 1,500 new cases in chunks of 25 first outlasted the wait on a busy machine)
        s.execute(text('UPDATE "case" SET due_at = :due, announced_unit_id = unit_id'), {"due": due})
        return s.scalar(select(func.count()).select_from(Case))


def reminders(db):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.kind == EventKind.reminder))


def test_worker_killed_mid_sweep_misses_and_doubles_nothing(db, settings, file_case, redis_server, start_worker):
    from workers.app import make_celery

    total = _many_due_cases(db, file_case, 1500)
    client = make_celery(type(settings)(**{**settings.__dict__, "redis_url": redis_server.url}))
    worker = start_worker(redis_server.url, CHANGTONG_SWEEP_CHUNK=25)
    client.send_task("changtong.sweep_deadlines")
    wait_for(lambda: reminders(db) >= 25, timeout=60, interval=0.02, what="the sweep to start")
    worker.kill()  # SIGKILL, mid-sweep
    partial = reminders(db)
    assert 0 < partial < total, "the worker was not killed mid-sweep"
    start_worker(redis_server.url, CHANGTONG_SWEEP_CHUNK=25)
    client.send_task("changtong.sweep_deadlines")  # what beat does on its next tick
    wait_for(lambda: reminders(db) >= total, timeout=120, what="the sweep to finish")
    client.send_task("changtong.sweep_deadlines")  # and once more: nothing doubles
    time.sleep(3)
    with db.session_scope(write=False) as s:
        per_case = s.execute(select(Event.case_id, func.count()).where(Event.kind == EventKind.reminder)
                             .group_by(Event.case_id)).all()
        assert len(per_case) == total and {n for _, n in per_case} == {1}
        # the unit's digests name every case exactly once between them
        import json as _json

        from casework.context import Services

        cipher = Services.from_settings(settings).cipher
        named = []
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.template == "unit_reminder")):
            payload = _json.loads(cipher.decrypt(m.payload_enc, "outbox.payload"))
            assert payload["count"] <= 25  # one digest per chunk of 25
            named.append(payload["count"])
        assert sum(named) == total
