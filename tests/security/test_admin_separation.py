"""Issue 17, item 5: one administrator alone could reveal a reporter (grant itself handler of
a unit, create a custodian, request, approve, read). Now an administrator gives no role to
itself, and an identity custodian's role takes effect only when a second administrator (not
the one who asked, not the account itself) confirms it. docs/security.md names these tests."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Membership, PendingGrant, Role, User
from tests.web.test_admin_routing import login_as
from tests.web.test_admin_users import csrf, last_entry

_ROLE = re.compile(r'id="membership-\d+"')


def roles_of(db, user_id: int) -> set[tuple[str, Role]]:
    with db.session_scope(write=False) as s:
        return {(m.unit.code, m.role) for m in s.scalars(select(Membership).where(Membership.user_id == user_id))}


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("mca", Role.administrator)
    login_as(client, db, actor)
    return actor


def give(client, user_id: int, unit: str, role: str):
    return client.post(f"/admin/users/{user_id}/memberships",
                       data={"csrf_token": csrf(client, f"/admin/users/{user_id}"), "unit": unit, "role": role})


@pytest.mark.parametrize("role", ["handler", "unit_lead", "custodian", "supervisor"])
def test_an_administrator_cannot_give_itself_a_role(client, db, admin, role):
    page = client.get(f"/admin/users/{admin.user_id}").get_data(as_text=True)
    assert "不能给自己授予角色" in page and "授予该角色</button>" not in page  # no form offered
    refused = give(client, admin.user_id, "miit", role)
    assert refused.status_code == 409 and "不能给自己授予角色" in refused.get_data(as_text=True)
    assert roles_of(db, admin.user_id) == {("mca", Role.administrator)}


def test_a_custodian_role_waits_for_a_second_administrator(client, db, admin, make_staff, app):
    colleague = make_staff("mca", Role.handler)
    asked = give(client, colleague.user_id, "mca", "custodian")
    assert asked.status_code == 303
    assert roles_of(db, colleague.user_id) == {("mca", Role.handler)}  # not yet a custodian
    assert last_entry(db, kind="membership").action.value == "requested"
    page = client.get(f"/admin/users/{colleague.user_id}").get_data(as_text=True)
    assert "待第二位管理员确认" in page and "确认授予" not in page  # the one who asked cannot confirm
    with db.session_scope(write=False) as s:
        grant_id = s.scalar(select(PendingGrant.id).where(PendingGrant.user_id == colleague.user_id))
    same = client.post(f"/admin/users/{colleague.user_id}/pending/{grant_id}/confirm",
                       data={"csrf_token": csrf(client, f"/admin/users/{colleague.user_id}")})
    assert same.status_code == 409 and "第二位管理员" in same.get_data(as_text=True)
    assert roles_of(db, colleague.user_id) == {("mca", Role.handler)}

    second = make_staff("mca", Role.administrator)
    other = app.test_client()
    login_as(other, db, second)
    page = other.get(f"/admin/users/{colleague.user_id}").get_data(as_text=True)
    assert "确认授予" in page
    ok = other.post(f"/admin/users/{colleague.user_id}/pending/{grant_id}/confirm",
                    data={"csrf_token": csrf(other, f"/admin/users/{colleague.user_id}")})
    assert ok.status_code == 303
    assert roles_of(db, colleague.user_id) == {("mca", Role.handler), ("mca", Role.custodian)}
    entry = last_entry(db, kind="membership")
    assert entry.action.value == "approved" and entry.actor_user_id == second.user_id
    with db.session_scope(write=False) as s:
        asker = s.get(User, admin.user_id).username
    assert entry.after["requested_by"] == asker


def test_a_new_account_created_as_custodian_has_no_role_until_confirmed(client, db, admin):
    resp = client.post("/admin/users/new", data={"csrf_token": csrf(client, "/admin/users/new"),
                                                 "username": "test.keeper", "display_name": "保管人",
                                                 "password": "a long enough password 1", "unit": "mca",
                                                 "role": "custodian"})
    assert resp.status_code == 303
    with db.session_scope(write=False) as s:
        user = s.scalar(select(User).where(User.username == "test.keeper"))
        assert user.memberships == []
        assert [p.role for p in s.scalars(select(PendingGrant).where(PendingGrant.user_id == user.id))] == [
            Role.custodian]


def test_a_pending_role_can_be_cancelled(client, db, admin, make_staff):
    colleague = make_staff("mca", Role.handler)
    give(client, colleague.user_id, "mca", "custodian")
    with db.session_scope(write=False) as s:
        grant_id = s.scalar(select(PendingGrant.id).where(PendingGrant.user_id == colleague.user_id))
    done = client.post(f"/admin/users/{colleague.user_id}/pending/{grant_id}/cancel",
                       data={"csrf_token": csrf(client, f"/admin/users/{colleague.user_id}")})
    assert done.status_code == 303
    assert "待第二位管理员确认" not in client.get(f"/admin/users/{colleague.user_id}").get_data(as_text=True)
    assert last_entry(db, kind="membership").action.value == "denied"
