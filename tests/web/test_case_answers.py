"""The case API's answers kept per process (web.api.answers, issue 18): a case asked again is
answered without loading it, and every change a complainant would see is in the next answer:
a move, a deadline moved by a Core UPDATE, a renamed association, another language, another
day. A wrong code is refused as before. (Every test's case API answer is also checked against
one made with nothing kept: tests/conftest.checking_kept_answers.)"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.workflow.machine import perform
from tests.conftest import BASIS
from tests.web.test_submission_cost import counted
from web.api.answers import Answers


@pytest.fixture
def filed(client, submission_data):
    made = client.post("/api/v1/cases", json=submission_data()).get_json()
    path = f"/api/v1/cases/{made['case_number']}"
    return path, {"X-Query-Code": made["query_code"], "Accept-Language": "en"}, made


def _fresh(app, client, path, headers):
    """The answer made now, nothing kept."""
    app.extensions["changtong.answers"] = Answers()
    return client.get(path, headers=headers).get_json()


def test_a_case_asked_again_is_answered_from_its_code_row_alone(client, db, filed, one_answer):
    path, headers, _made = filed
    first = client.get(path, headers=headers)
    with counted(db) as seen:
        again = client.get(path, headers=headers)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.mimetype == "application/json" and again.headers["Cache-Control"] == "no-store"
    assert len(seen["statements"]) == 1 and "query_code_hash" in seen["statements"][0], seen["statements"]
    wrong = client.get(path, headers={**headers, "X-Query-Code": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 404 and "case_number" not in wrong.get_json()


def test_every_move_is_in_the_next_answer(app, client, db, services, filed, make_staff):
    """信访工作条例 第二十二、三十二条: 受理 then 答复, each seen by the complainant at once."""
    path, headers, made = filed
    assert client.get(path, headers=headers).get_json()["state"] == "pending_acceptance"
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        case = s.scalar(select(Case).where(Case.number == made["case_number"]))
        perform(s, services, handler, case, "accept")
    accepted = client.get(path, headers=headers).get_json()
    assert accepted["state"] == "accepted" and accepted == _fresh(app, client, path, headers)
    with db.session_scope() as s:
        case = s.scalar(select(Case).where(Case.number == made["case_number"]))
        perform(s, services, handler, case, "reply", opinion="supported", legal_basis=BASIS,
                public_text="The fees were refunded.", finding="substantiated")
    replied = client.get(path, headers=headers).get_json()
    assert replied["state"] == "replied" and "rate" in replied["actions"]
    assert replied["timeline"][-1]["text"] == "The fees were refunded."
    assert replied == _fresh(app, client, path, headers)


def test_a_deadline_moved_by_a_core_update_is_in_the_next_answer(client, db, filed):
    """The deadline sweep writes cases with Core UPDATEs, which leave the mapper's version as it
    was: the row's updated_at (the column's onupdate) tells the kept answer from the new one."""
    path, headers, made = filed
    before = client.get(path, headers=headers).get_json()["deadline"]["due_date"]
    with db.session_scope() as s:
        due = s.scalar(select(Case.due_at).where(Case.number == made["case_number"]))
        s.execute(update(Case).where(Case.number == made["case_number"]).values(due_at=due + timedelta(days=3)))
    after = client.get(path, headers=headers).get_json()["deadline"]["due_date"]
    assert after != before


def test_a_renamed_association_is_in_the_next_answer(client, db, filed):
    from casework.registry.models import Association

    path, headers, made = filed
    headers = {**headers, "Accept-Language": "zh-CN"}
    name = client.get(path, headers=headers).get_json()["association_name"]
    with db.session_scope() as s:
        case = s.scalar(select(Case).where(Case.number == made["case_number"]))
        association = s.get(Association, case.association_id)
        old, association.name = association.name, association.name + "（更名）"
    try:
        assert client.get(path, headers=headers).get_json()["association_name"] == name + "（更名）"
    finally:
        with db.session_scope() as s:
            s.get(Association, case.association_id).name = old


def test_each_language_has_its_own_answer(app, client, filed):
    path, headers, _made = filed
    english = client.get(path, headers=headers).get_json()
    chinese = client.get(path, headers={**headers, "Accept-Language": "zh-CN"}).get_json()
    assert english["type_title"] == "Complaint" and chinese["type_title"] == "投诉"
    assert client.get(path, headers=headers).get_json() == english == _fresh(app, client, path, headers)


def test_a_kept_answer_is_not_used_on_the_next_day(app, client, db, services, filed, monkeypatch, one_answer):
    path, headers, _made = filed
    client.get(path, headers=headers)
    tomorrow = services.clock() + timedelta(days=1)
    monkeypatch.setitem(app.extensions, "changtong.services", replace(services, clock=lambda: tomorrow))
    with counted(db) as seen:
        assert client.get(path, headers=headers).status_code == 200
    assert len(seen["statements"]) >= 2, "the case was not loaded again: yesterday's answer was used"


def test_the_kept_answers_keep_to_their_day_their_minute_and_their_bytes():
    kept = Answers(budget=3000, keep_seconds=60)
    # 23:59:30 in China; its deadlines (23:59:59) end with the day
    made = datetime(2026, 12, 8, 15, 59, 30, tzinfo=timezone.utc)
    kept.put("a", b"x" * 300, made)
    assert kept.get("a", made + timedelta(seconds=20)) == b"x" * 300
    assert kept.get("a", made + timedelta(seconds=61)) is None  # a minute at most
    kept.put("a", b"x" * 300, made)
    assert kept.get("a", made + timedelta(seconds=45)) is None  # 00:00:15: another China day
    kept.put("a", b"x" * 300, made)
    assert kept.get("a", made - timedelta(seconds=1)) is None  # a clock set back
    for key in "bcdefghijk":
        kept.put(key, b"y" * 300, made)
    assert len(kept) == 10 and kept.get("b", made) == b"y" * 300  # 3,000 bytes: the oldest went first
    kept.put("long", b"z" * 400, made)  # more than an eighth of the budget: never kept
    assert kept.get("long", made) is None
