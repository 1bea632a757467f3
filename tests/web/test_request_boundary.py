"""The request is the transaction boundary (web.requestdb): views flush, the answer decides.

A success or a redirect commits before it is sent; an error answer or an exception rolls
back; a commit that fails answers the error page of that failure (never the success page),
with the cookie session as it was; a view that calls keep_on_error() keeps its writes on a
4xx (never on a 5xx)."""
from __future__ import annotations

import io
import itertools
import json
import re
from datetime import date, timedelta

import pytest
from flask import Response, g, has_request_context
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casework.accounts.models import Role, StaffSession, User
from casework.audit.models import AuditEntry
from casework.cases.models import Attachment, Case
from casework.db import utcnow
from casework.deadlines.models import CalendarOverride, CalendarYear
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as
from tests.web.test_public_pages import form_data, open_form, png_bytes
from web.requestdb import db_session, keep_on_error, settle

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ZH_500 = "系统出现问题"
ZH_503 = "服务暂时不可用"
_n = itertools.count(1)


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("mca", Role.administrator)
    login_as(client, db, actor)
    return actor


@pytest.fixture
def failing_commit():
    """fail(exc): the next commit of a request's session (not of a savepoint) raises exc."""
    armed: list[Exception] = []

    def raise_once(session):
        if armed and has_request_context() and g.get("db_session") is session \
                and not session.in_nested_transaction():
            raise armed.pop()

    event.listen(Session, "before_commit", raise_once)
    yield armed.append
    event.remove(Session, "before_commit", raise_once)


def new_unit(client, code: str, *, then=lambda: None):
    token = CSRF.search(client.get("/admin/units/new").get_data(as_text=True)).group(1)
    then()
    return client.post("/admin/units/new", data={
        "csrf_token": token, "code": code, "name": "边界测试局", "kind": "industry_department",
        "region_code": "440300", "active": "1"})


def unit_rows(db, code: str) -> tuple[int, int]:
    with db.session_scope(write=False) as s:
        units = s.scalar(select(func.count()).select_from(Unit).where(Unit.code == code))
        entries = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == code))
        return units, entries


def test_a_redirect_commits(client, db, admin):
    code = f"boundary-{next(_n)}"
    resp = new_unit(client, code)
    assert resp.status_code == 303
    assert unit_rows(db, code) == (1, 1)


def test_a_view_that_fails_after_its_operation_flushed_leaves_nothing(client, db, admin, monkeypatch):
    def broken(change, **kw):
        raise RuntimeError("after the flush")

    monkeypatch.setattr("web.admin.units.carry_change", broken)
    code = f"boundary-{next(_n)}"
    resp = new_unit(client, code)
    assert resp.status_code == 500 and ZH_500 in resp.get_data(as_text=True)
    assert unit_rows(db, code) == (0, 0)


@pytest.mark.parametrize("exc", [
    IntegrityError("INSERT INTO unit", {}, Exception("duplicate key")),
    StaleDataError("UPDATE statement on table 'unit' expected to update 1 row(s); 0 were matched."),
])
def test_a_failed_commit_answers_the_error_page_not_the_redirect(client, db, admin, failing_commit, exc):
    code = f"boundary-{next(_n)}"
    resp = new_unit(client, code, then=lambda: failing_commit(exc))
    assert resp.status_code == 500
    html = resp.get_data(as_text=True)
    assert ZH_500 in html and 'lang="zh-CN"' in html
    assert resp.headers["Cache-Control"] == "no-store"  # the after-request hooks saw the error page
    assert unit_rows(db, code) == (0, 0)
    assert new_unit(client, code).status_code == 303  # sent again, it is stored
    assert unit_rows(db, code) == (1, 1)


def test_a_failed_commit_leaves_no_saved_message_for_the_next_page(client, db, admin, failing_commit):
    """The cookie session goes back to what it was: the flash of a change that was not kept
    does not greet the user on the next page."""
    token = CSRF.search(client.get("/admin/calendar").get_data(as_text=True)).group(1)
    failing_commit(IntegrityError("INSERT INTO calendar_override", {}, Exception("duplicate key")))
    resp = client.post("/admin/calendar/overrides", data={"csrf_token": token, "day": "2999-10-12",
                                                          "working": "0", "note": "边界测试"})
    assert resp.status_code == 500 and "已保存" not in resp.get_data(as_text=True)
    with client.session_transaction() as cookie:
        assert "_flashes" not in cookie
    with db.session_scope(write=False) as s:
        assert s.get(CalendarOverride, date(2999, 10, 12)) is None
    assert "已保存" not in client.get("/admin/calendar").get_data(as_text=True)


def test_a_sign_in_whose_commit_fails_sets_no_staff_cookie(client, db, make_staff, failing_commit):
    from tests.security.helpers import CSRF as ANY_FORM, PASSWORD
    from web.sessions import COOKIE

    actor = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        username = s.get(User, actor.user_id).username
    token = ANY_FORM.search(client.get("/track").get_data(as_text=True)).group(1)
    failing_commit(IntegrityError("INSERT INTO staff_session", {}, Exception("duplicate key")))
    resp = client.post("/staff/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert resp.status_code == 500 and client.get_cookie(COOKIE) is None
    with db.session_scope(write=False) as s:
        assert s.scalars(select(StaffSession).where(StaffSession.user_id == actor.user_id)).all() == []


def test_a_commit_that_loses_the_database_answers_503_in_english_too(client, db, admin, failing_commit):
    client.get("/lang/en?next=/")
    lost = OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
    code = f"boundary-{next(_n)}"
    resp = new_unit(client, code, then=lambda: failing_commit(lost))
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert "The service is briefly unavailable" in resp.get_data(as_text=True)
    assert unit_rows(db, code) == (0, 0)


def test_an_api_filing_whose_commit_fails_is_a_500_and_can_be_sent_again(client, db, failing_commit,
                                                                         submission_data):
    def post():
        return client.post("/api/v1/cases", data=json.dumps(submission_data()), content_type="application/json",
                           headers={"Idempotency-Key": "boundary-key-1-3c9a7e51d2b84f06a1e2"})

    with db.session_scope(write=False) as s:
        before = s.scalar(select(func.count()).select_from(Case))
    failing_commit(IntegrityError("INSERT INTO cases", {}, Exception("duplicate key")))
    failed = post()
    assert failed.status_code == 500 and ZH_500 in failed.get_json()["error"]["message"]
    again = post()
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers  # not stored the first time
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before + 1


def test_the_filing_form_keeps_its_staged_files_on_a_422(client, db):
    """keep_on_error: the refused form's files wait, under its token, for the next try."""
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(
        csrf, token, title="短", attachments=(io.BytesIO(png_bytes()), "凭证.png")),
        content_type="multipart/form-data")
    assert resp.status_code == 422
    with db.session_scope(write=False) as s:
        staged = s.scalars(select(Attachment).where(Attachment.staging_token == token)).all()
        assert [(a.filename, a.case_id) for a in staged] == [("凭证.png", None)]


def test_a_refused_post_still_counts_as_activity_of_the_staff_session(client, db, admin):
    with db.session_scope() as s:
        s.execute(update(StaffSession).where(StaffSession.user_id == admin.user_id)
                  .values(last_seen_at=utcnow() - timedelta(minutes=10)))
    token = CSRF.search(client.get("/admin/units/new").get_data(as_text=True)).group(1)
    refused = client.post("/admin/units/new", data={"csrf_token": token, "code": "Bad Code"})
    assert refused.status_code == 422
    with db.session_scope(write=False) as s:
        seen = s.scalar(select(StaffSession.last_seen_at).where(StaffSession.user_id == admin.user_id))
    assert utcnow() - seen < timedelta(minutes=1)


# --- settle itself ---------------------------------------------------------------------------

def _year_kept(db, year: int) -> bool:
    with db.session_scope(write=False) as s:
        return s.get(CalendarYear, year) is not None


def _answer(app, year: int, status: int, *, keep: bool = False, commit_by_hand: bool = False) -> None:
    with app.test_request_context("/boundary", method="POST"):
        s = db_session()
        s.add(CalendarYear(year=year, confirmed=True, note="boundary test"))
        s.flush()
        if commit_by_hand:
            s.commit()  # what a view not yet converted does: the boundary's commit is then a no-op
        if keep:
            keep_on_error()
        settle(Response(status=status))


@pytest.mark.parametrize("status, keep, kept", [
    (200, False, True), (303, False, True), (404, False, False), (422, False, False),
    (422, True, True), (403, True, True), (500, True, False), (503, True, False),
])
def test_what_each_answer_does_with_the_writes(app, db, status, keep, kept):
    year = 3000 + next(_n)
    _answer(app, year, status, keep=keep)
    assert _year_kept(db, year) is kept


def test_a_hand_commit_before_the_boundary_is_harmless(app, db):
    year = 3100 + next(_n)
    _answer(app, year, 422, commit_by_hand=True)
    assert _year_kept(db, year)  # committed by the view, as before
