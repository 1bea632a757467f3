"""What one submission costs the database (issue 18): the statements it sends, its flushes, and
no lazy load, counted around one request of the JSON API and one of the filing form, on
SQLite and on PostgreSQL; and the cached reference data (casework.reference) seen to change
when another process changes a routing rule, a unit or a time limit."""
from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from casework.cases.models import Case, Event, EventKind
from casework.deadlines.models import TimeLimit
from casework.registry.models import Association, Unit
from casework.routing.models import RoutingRule
from tests.web.test_public_pages import form_data, open_form

ROOT = Path(__file__).resolve().parents[2]

# The statements one JSON API submission sends (an unverified phone, no e-mail, no key), not
# counting the transaction's own BEGIN / SAVEPOINT / RELEASE:
#   1. SELECT the reference version (casework.reference; the write transaction's first statement)
#   2. INSERT INTO case … ON CONFLICT DO NOTHING RETURNING id (its state, unit and deadline in it)
#   3. INSERT INTO event: "submitted" and "routed" in one executemany
API_STATEMENTS = 3
# The filing form's last step (the SMS code typed in, a proved number, staged nothing):
#   1. SELECT the case of the form's token (a replayed form shows its first receipt)
#   2-3. SELECT the verification, UPDATE it as used (the code is spent)
#   4. SELECT the reference version
#   5. INSERT INTO case … RETURNING id
#   6. UPDATE attachment … RETURNING: the files staged under the token become the case's (none here)
#   7. INSERT INTO event (submitted, routed)
#   8. SELECT count of the receipt notices to this number today (its daily cap)
#   9. DELETE the intake receipts that have expired
#   10-11. INSERT the SMS receipt notice and the intake receipt (the one flush)
FORM_STATEMENTS = 11
FLUSHES = 1  # at most: the operation's one flush (nothing pending on the API's path: none)
_CONTROL = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT)\b", re.I)


@contextlib.contextmanager
def counted(db):
    """Statements (transaction control left out), flushes and lazy loads while the block runs."""
    seen = {"statements": [], "flushes": 0, "lazy": []}

    def on_statement(_conn, _cursor, statement, _params, _context, _many):
        if not _CONTROL.match(statement):
            seen["statements"].append(" ".join(statement.split()))

    def on_flush(_session, _ctx):
        seen["flushes"] += 1

    def on_orm(state):
        if state.is_relationship_load:
            seen["lazy"].append(str(state.statement))

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(Session, "after_flush", on_flush)
    event.listen(Session, "do_orm_execute", on_orm)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(Session, "after_flush", on_flush)
        event.remove(Session, "do_orm_execute", on_orm)


def _listing(seen) -> str:
    return "\n".join(seen["statements"])


def test_an_api_submission_stays_within_its_statement_budget(client, db, submission_data):
    body = submission_data()
    assert client.post("/api/v1/cases", json=body).status_code == 201  # the cache holds this version now
    with counted(db) as seen:
        resp = client.post("/api/v1/cases", json=body)
    assert resp.status_code == 201
    assert len(seen["statements"]) <= API_STATEMENTS, _listing(seen)
    assert seen["flushes"] <= FLUSHES and seen["lazy"] == [], seen
    with db.session_scope(write=False) as s:  # and it is all there
        case = s.scalar(select(Case).where(Case.number == resp.get_json()["case_number"]))
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert case.unit_id is not None and case.due_at is not None and case.version == 1
    assert kinds == [EventKind.submitted, EventKind.routed]


def test_a_form_submission_stays_within_its_statement_budget(client, db, sms_code):
    csrf, token, _ = open_form(client)
    asked = client.post("/file/complaint", follow_redirects=True, data=form_data(csrf, token))
    vid = re.search(r'name="verification_id" value="([^"]*)"', asked.get_data(as_text=True)).group(1)
    code = sms_code()
    with counted(db) as seen:
        done = client.post("/file/complaint", data=form_data(csrf, token, verification_id=vid, verify_code=code))
    # the filing answers 303 See Other; its receipt is a GET of its own (web.public.intake)
    assert done.status_code == 303 and "查询码" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert len(seen["statements"]) <= FORM_STATEMENTS, _listing(seen)
    assert seen["flushes"] <= FLUSHES and seen["lazy"] == [], seen


# -- a change made by another process is seen by the next submission here ------------------------

CHANGE = textwrap.dedent("""
    import sys
    from sqlalchemy import select
    from casework.audit.operations import cli_actor
    from casework.db import Database
    from casework.deadlines.models import TimeLimit
    from casework.cases.models import CaseType, Stage
    from casework.registry.models import Association, Unit
    from casework.registry.units import set_unit_active
    from casework.routing import operations_admin as routing

    what, arg = sys.argv[1], sys.argv[2]
    db = Database(sys.argv[3])
    with db.session_scope() as s:
        actor = cli_actor()
        if what == "limit":
            row = s.scalar(select(TimeLimit).where(TimeLimit.case_type == CaseType.complaint,
                                                   TimeLimit.stage == Stage.acceptance))
            from casework.deadlines.operations import update_limit
            update_limit(s, row.id, arg, True, actor=actor)
        elif what == "unit":
            set_unit_active(s, actor, s.scalar(select(Unit).where(Unit.code == arg)), False)
        else:
            values, errors = routing.check_rule(routing.Lookups(s), {
                "case_type": "complaint", "category": "forced_membership", "association": arg,
                "target": "registration_authority", "priority": "1", "active": "1", "note": "test"})
            assert not errors, errors
            routing.create_rule(s, actor, values)
    db.dispose()
""")


def _in_another_process(settings, what: str, arg: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGTONG_")}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": settings.database_url,
                "CHANGTONG_DATA_DIR": str(settings.data_dir), "CHANGTONG_SECRET_KEY": settings.secret_key,
                "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
                "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode()})
    done = subprocess.run([sys.executable, "-c", CHANGE, what, arg, settings.database_url], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _filed(client, db, body):
    resp = client.post("/api/v1/cases", json=body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == resp.get_json()["case_number"]))
        routed = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == EventKind.routed))
        unit = s.get(Unit, case.unit_id) if case.unit_id else None
        return unit.code if unit else None, case.due_at, routed.data.get("rule_id")


@pytest.mark.commits  # the other process must see what this one committed, and the reverse
def test_a_change_made_in_another_process_is_seen_by_the_next_submission(client, db, settings, submission_data):
    body = submission_data()
    with db.session_scope(write=False) as s:
        limit = s.scalar(select(TimeLimit).where(TimeLimit.case_type == body["type"], TimeLimit.stage == "acceptance"))
        before = (limit.id, limit.amount, limit.working_days)
    unit, due, _rule = _filed(client, db, body)
    assert (unit, _filed(client, db, body)[1]) == ("miit", due)  # cached: the same again
    try:
        _in_another_process(settings, "limit", "20")  # 7 working days to accept -> 20
        unit2, due2, _ = _filed(client, db, body)
        assert unit2 == unit and due2 > due

        _in_another_process(settings, "unit", unit)  # the unit the rule chose is taken out of use
        unit3, _, _ = _filed(client, db, body)
        assert unit3 not in (unit, None)

        _in_another_process(settings, "rule", body["association"])  # a rule of the association's own
        unit4, _, rule4 = _filed(client, db, body)
        with db.session_scope(write=False) as s:
            new_rule = s.scalar(select(RoutingRule).where(RoutingRule.note == "test"))
            assoc = s.scalar(select(Association).where(Association.credit_code == body["association"]))
            assert rule4 == new_rule.id and unit4 == assoc.registration_authority.code
    finally:
        with db.session_scope() as s:  # put the registry back as the demo loaded it
            row = s.get(TimeLimit, before[0])
            row.amount, row.working_days = before[1], before[2]
            s.scalar(select(Unit).where(Unit.code == unit)).active = True
            for rule in s.scalars(select(RoutingRule).where(RoutingRule.note == "test")):
                s.delete(rule)
