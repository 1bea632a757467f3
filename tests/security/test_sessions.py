"""Promise 1 (sessions): staff sessions are server-side rows, rotated at sign-in, ended when
idle, at their absolute end, at sign-out, and when the password changes or the account is
disabled. Sign-in is throttled per account and does not tell which accounts exist."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role, StaffSession, User
from casework.accounts.operations import set_password, set_user_active
from casework.accounts.sessions import hash_id
from casework.db import utcnow
from tests.security.helpers import CSRF, PASSWORD, dump, sign_in
from web.sessions import COOKIE


@pytest.fixture
def handler(make_staff):
    return make_staff("miit", Role.handler)


def _username(db, actor) -> str:
    with db.session_scope(write=False) as s:
        return s.get(User, actor.user_id).username


def _cookie(client) -> str | None:
    c = client.get_cookie(COOKIE)
    return c.value if c else None


def _rows(db, user_id=None) -> list[StaffSession]:
    with db.session_scope(write=False) as s:
        q = select(StaffSession)
        if user_id is not None:
            q = q.where(StaffSession.user_id == user_id)
        return list(s.scalars(q))


def _signed_in(client) -> bool:
    resp = client.get("/desk")  # a handler is sent on to a queue; anyone signed out to the sign-in page
    assert resp.status_code == 302
    return not resp.headers["Location"].startswith("/staff/login")


def test_the_cookie_holds_only_a_random_id_and_the_database_only_its_hash(app, client, db, handler):
    assert sign_in(client, _username(db, handler)).status_code == 303
    sid = _cookie(client)
    assert sid and len(sid) >= 43  # 32 random bytes, base64url
    [row] = _rows(db, handler.user_id)
    assert row.id_hash == hash_id(sid) and sid not in dump(db)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    # Flask's signed cookie carries no identity (only anonymous data such as the CSRF token)
    flask_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if flask_cookie is not None:
        data = app.session_interface.get_signing_serializer(app).loads(flask_cookie.value)
        assert not {"uid", "user_id", "_user_id", "pwv"} & set(data)
    assert _signed_in(client)


def test_a_forged_flask_session_is_not_a_sign_in(app, client, db, handler):
    with client.session_transaction() as sess:  # what the cookie session used to hold
        sess["uid"] = handler.user_id
        sess["user_id"] = handler.user_id
    assert not _signed_in(client)


def test_sign_in_rotates_the_id_and_the_old_one_is_dead(app, client, db, handler):
    name = _username(db, handler)
    sign_in(client, name)
    old = _cookie(client)
    sign_in(client, name)
    new = _cookie(client)
    assert new and new != old
    assert [r.id_hash for r in _rows(db, handler.user_id)] == [hash_id(new)]
    stale = app.test_client()
    stale.set_cookie(COOKIE, old)
    assert not _signed_in(stale)


def test_a_planted_id_is_not_adopted(app, client, db, handler):
    client.set_cookie(COOKIE, "attacker-chosen-session-id-attacker-chosen-id")
    sign_in(client, _username(db, handler))
    assert _cookie(client) != "attacker-chosen-session-id-attacker-chosen-id"
    assert _signed_in(client)


def test_an_idle_session_ends(app, client, db, handler):
    sign_in(client, _username(db, handler))
    with db.session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    assert _signed_in(client)  # 29 minutes idle: still open, and last seen moves on
    assert utcnow() - _rows(db, handler.user_id)[0].last_seen_at < timedelta(minutes=1)
    with db.session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert not _signed_in(client)
    assert _rows(db, handler.user_id) == []  # the dead row is gone


def _hold_write_lock(db):
    """Another process's writer (a burst of filings, an import) holding what a session's
    activity would write: SQLite's one write lock; on PostgreSQL a lock on the sessions' table
    that lets reads through. Returns the open connection; closing it lets go."""
    conn = db.engine.execution_options(sqlite_immediate=True).connect()
    conn.begin()  # BEGIN IMMEDIATE on SQLite (casework.db)
    if not db.is_sqlite:
        conn.exec_driver_sql("LOCK TABLE staff_session IN EXCLUSIVE MODE")
    return conn


@pytest.mark.commits  # two connections: the page and another writer
def test_a_desk_page_does_not_wait_for_the_write_lock(app, client, db, handler):
    """A handler's page view only reads its session (issue 18): while another writer holds the
    lock, the queue still opens; only the once-a-minute record of activity waits for it."""
    import threading

    sign_in(client, _username(db, handler))
    assert _signed_in(client)  # just signed in: nothing to record for a minute
    holder = _hold_write_lock(db)
    answers = []
    viewer = threading.Thread(target=lambda: answers.append(client.get("/desk", follow_redirects=True).status_code))
    try:
        viewer.start()
        viewer.join(timeout=1.5)
        assert answers == [200], "the desk waited for another writer's lock"
    finally:
        holder.close()  # rolls back
        viewer.join()
    # a minute later the view records the activity (a short write of its own)
    with db.session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    assert _signed_in(client)
    assert utcnow() - _rows(db, handler.user_id)[0].last_seen_at < timedelta(minutes=1)


def test_the_idle_limit_is_a_setting(app, client, db, handler):
    sign_in(client, _username(db, handler))
    app.config["STAFF_SESSION_IDLE_SECONDS"] = 5 * 60
    try:
        with db.session_scope() as s:
            s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
        assert not _signed_in(client)
    finally:
        app.config["STAFF_SESSION_IDLE_SECONDS"] = 30 * 60


def test_a_session_ends_at_its_absolute_end_however_busy(app, client, db, handler):
    sign_in(client, _username(db, handler))
    with db.session_scope() as s:
        s.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not _signed_in(client)


def test_sign_out_deletes_the_row_and_the_id_no_longer_works(app, client, db, handler):
    sign_in(client, _username(db, handler))
    sid = _cookie(client)
    page = client.get("/desk/search").get_data(as_text=True)
    resp = client.post("/staff/logout", data={"csrf_token": CSRF.search(page).group(1)})
    assert resp.status_code == 303
    assert _rows(db, handler.user_id) == [] and not _cookie(client)
    replay = app.test_client()
    replay.set_cookie(COOKIE, sid)
    assert not _signed_in(replay)


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_a_disabled_account_ends_every_session(app, db, handler, make_staff, change):
    name = _username(db, handler)
    browsers = [app.test_client(), app.test_client()]
    for b in browsers:
        sign_in(b, name)
    assert len(_rows(db, handler.user_id)) == 2
    admin = make_staff("mca", Role.administrator)
    with db.session_scope() as s:
        user = s.get(User, handler.user_id)
        if change == "password":
            set_password(s, admin, user, "another long password")
        else:
            set_user_active(s, admin, user, False)
    assert _rows(db, handler.user_id) == []
    assert not any(_signed_in(b) for b in browsers)


def test_other_users_sessions_survive_a_password_change(app, db, handler, make_staff):
    other = make_staff("miit", Role.handler)
    b = app.test_client()
    sign_in(b, _username(db, other))
    admin = make_staff("mca", Role.administrator)
    with db.session_scope() as s:
        set_password(s, admin, s.get(User, handler.user_id), "another long password")
    assert _signed_in(b)


def _normalised(resp, username):
    body = CSRF.sub("CSRF", resp.get_data(as_text=True).replace(username, "USERNAME"))  # a fresh signed token each time
    headers = sorted((k, v) for k, v in resp.headers.items() if k not in ("Date", "Set-Cookie", "Content-Length", "X-Request-ID"))
    return resp.status_code, body, headers


def test_wrong_password_and_unknown_account_get_identical_answers(app, db, handler):
    name = _username(db, handler)
    unknown = name.replace("miit", "tiim")  # same length, no such account
    client = app.test_client()
    a = sign_in(client, name, "not the password")
    b = sign_in(client, unknown, "not the password")
    assert a.status_code == 401
    assert _normalised(a, name) == _normalised(b, unknown)
    assert not _cookie(client)


def test_sign_in_is_throttled_per_account_for_existing_and_unknown_alike(app, client, db, handler, make_staff):
    name = _username(db, handler)
    unknown = name.replace("miit", "tiim")
    for _ in range(10):
        sign_in(client, name, "wrong password here")
        sign_in(client, unknown, "wrong password here")
    a, b = sign_in(client, name, "wrong password here"), sign_in(client, unknown, "wrong password here")
    assert a.status_code == b.status_code == 429  # past the limit wrong passwords wait, known name or not
    # the same page and headers; Retry-After counts down from each name's own first attempt, which
    # the loop above made in turn, so the two may stand a second apart when a second ticked between
    wait_a, wait_b = int(a.headers["Retry-After"]), int(b.headers["Retry-After"])
    assert abs(wait_a - wait_b) <= 1 and 0 < wait_a <= 900
    a.headers["Retry-After"] = b.headers["Retry-After"]
    assert _normalised(a, name)[1:] == _normalised(b, unknown)[1:]
    # issue 17, item 9: the right password is never refused, so guessers cannot lock staff out
    assert sign_in(client, name, PASSWORD).status_code == 303
    other = make_staff("miit", Role.handler)
    assert sign_in(client, _username(db, other)).status_code == 303  # nobody else is locked out


def test_expired_rows_are_swept_at_the_next_sign_in(app, db, handler, make_staff):
    sign_in(app.test_client(), _username(db, handler))
    with db.session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    other = make_staff("miit", Role.handler)
    sign_in(app.test_client(), _username(db, other))
    assert _rows(db, handler.user_id) == [] and len(_rows(db, other.user_id)) == 1
