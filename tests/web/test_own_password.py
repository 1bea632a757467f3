"""A staff member's own password: one an administrator set (a new account, a reset) is replaced by
its holder at the next sign-in, before any other page; anyone signed in changes theirs from the
desk or administration, proving the current one. The change ends their other sessions."""
from __future__ import annotations

import re

from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.accounts.operations import authenticate, issue_token
from casework.accounts.sessions import find_session, open_session
from casework.audit.models import AuditEntry
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client, path: str) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def _sign_in(client, username: str, password: str):
    return client.post("/staff/login", data={"csrf_token": _csrf(client, "/staff/login"), "username": username,
                                             "password": password, "next": "/desk/search"})


def _change(client, current: str, new: str, again: str | None = None, next_url: str = ""):
    return client.post("/staff/password", data={
        "csrf_token": _csrf(client, "/staff/password"), "current_password": current, "new_password": new,
        "new_password_again": new if again is None else again, "next": next_url})


def test_a_password_an_administrator_gave_is_replaced_at_first_sign_in(app, client, db, make_staff):
    admin = make_staff("mca", Role.administrator)
    login_as(client, db, admin)
    made = client.post("/admin/users/new", data={"csrf_token": _csrf(client, "/admin/users/new"), "username": "wang.fang",
                                                  "display_name": "王芳", "password": "", "unit": "miit",
                                                  "role": "handler"})
    html = made.get_data(as_text=True)
    given = re.search(r'<code id="password">([^<]+)</code>', html).group(1)
    assert "首次使用此密码登录时，需设置自己的密码" in html
    with db.session_scope(write=False) as s:
        user_id = s.scalar(select(User.id).where(User.username == "wang.fang"))
    assert 'id="password-pending"' in client.get(f"/admin/users/{user_id}").get_data(as_text=True)

    staff = app.test_client()
    signed_in = _sign_in(staff, "wang.fang", given)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/desk/search"
    held = staff.get("/desk/search")  # every page leads to the password page first
    assert held.status_code == 302 and held.headers["Location"].startswith("/staff/password?next=/desk/search")
    assert staff.get("/admin/users").headers["Location"].startswith("/staff/password")
    page = staff.get("/staff/password").get_data(as_text=True)
    assert 'id="password-required"' in page and "您的密码由管理员设置" in page
    assert 'id="find-number"' not in page and "nav-search" not in page  # no way on that only bounces back
    assert 'id="logout"' in page

    wrong = _change(staff, "not the password", "我自己的新密码2026")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "当前密码不正确。" in text
    assert "我自己的新密码2026" not in text and given not in text  # nothing typed comes back
    differ = _change(staff, given, "我自己的新密码2026", "我自己的新密码2025")
    assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.get_data(as_text=True)
    same = _change(staff, given, given)
    assert same.status_code == 422 and "新密码不能与当前密码相同。" in same.get_data(as_text=True)
    short = _change(staff, given, "短密码")
    assert short.status_code == 422 and 'id="new_password-error"' in short.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        assert s.get(User, user_id).password_change_required is True  # nothing changed yet

    done = _change(staff, given, "我自己的新密码2026", next_url="/desk/search")
    assert done.status_code == 303 and done.headers["Location"] == "/desk/search"
    desk = staff.get("/desk/search")
    assert desk.status_code == 200 and "密码已更改" in desk.get_data(as_text=True)
    assert 'id="find-number"' in desk.get_data(as_text=True)
    with db.session_scope() as s:
        assert authenticate(s, "wang.fang", given) is None
        assert authenticate(s, "wang.fang", "我自己的新密码2026").password_change_required is False
    entry = _last_entry(db)
    assert (entry.action.value, entry.object_id, entry.actor_user_id) == ("password_set", "wang.fang", user_id)
    assert 'id="password-pending"' not in client.get(f"/admin/users/{user_id}").get_data(as_text=True)


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, client, db, make_staff):
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        user = s.get(User, handler.user_id)
        from casework.accounts.passwords import hash_password

        user.password_hash = hash_password("the old password 1")
    with db.session_scope() as s:
        elsewhere = open_session(s, s.get(User, handler.user_id))  # a phone left signed in
        token = issue_token(s, s.get(User, handler.user_id), "integration")
    login_as(client, db, handler)
    desk = client.get("/desk/search").get_data(as_text=True)
    assert 'href="/staff/password"' in desk  # the desk's bar leads to it
    page = client.get("/staff/password").get_data(as_text=True)
    assert 'id="password-required"' not in page  # nobody asked this one to change it
    assert _change(client, "the old password 1", "the new password 2").status_code == 303
    assert client.get("/desk/search").status_code == 200  # still signed in here
    with db.session_scope(write=False) as s:
        assert find_session(s, elsewhere) is None  # and out everywhere else
    # an administrator's reset asks for a password of their own again; an API token is no password
    admin = make_staff("mca", Role.administrator)
    other = app.test_client()
    login_as(other, db, admin)
    assert other.post(f"/admin/users/{handler.user_id}/password",
                      data={"csrf_token": _csrf(other, f"/admin/users/{handler.user_id}"),
                            "password": "set by the admin 3"}).status_code == 303
    with db.session_scope(write=False) as s:
        assert s.get(User, handler.user_id).password_change_required is True
    assert app.test_client().get("/api/v1/desk/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _last_entry(db) -> AuditEntry:
    with db.session_scope(write=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.kind == "user").order_by(AuditEntry.id.desc())).first()
        s.expunge(entry)
        return entry


def test_guessing_the_current_password_is_throttled_like_a_sign_in(app, client, db, make_staff):
    """Someone holding a signed-in browser cannot try passwords on this page faster than at the
    sign-in form: wrong current passwords count against the account's sign-in limit (10 per 15
    minutes), and past it the page answers 429 and says when to try again."""
    from web.extensions import limiter

    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        from casework.accounts.passwords import hash_password

        s.get(User, handler.user_id).password_hash = hash_password("the right password 1")
        username = s.get(User, handler.user_id).username
    login_as(client, db, handler)
    with app.app_context():
        limiter.reset()
    for _ in range(10):
        assert _change(client, "a wrong guess", "the new password 2").status_code == 422
    stopped = _change(client, "another wrong guess", "the new password 2")
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    assert "此用户名密码错误次数过多" in stopped.get_data(as_text=True)
    wrong_sign_in = _sign_in(app.test_client(), username, "a wrong guess")  # the same counter
    assert wrong_sign_in.status_code == 429
