"""Administrators keep units, staff accounts and their roles, categories and notice texts;
only administrators may, and every change is in the audit log."""
from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Membership, Role, User
from casework.accounts.operations import authenticate
from casework.audit.models import AuditEntry
from casework.cases.models import Category
from casework.notify import templates as notices
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)")
PAGES = ["/admin/units", "/admin/units/new", "/admin/units/miit", "/admin/users", "/admin/users/new",
         "/admin/users?unit=miit", "/admin/categories", "/admin/categories/new?group=grievance",
         "/admin/categories/illegal_fees/edit", "/admin/notice-templates",
         "/admin/notice-templates/case_update/zh_CN", "/admin/associations", "/admin/associations/import",
         "/admin/audit", "/admin/audit?kind=identity_revealed&since=2026-01-01", "/admin"]
_n = itertools.count(1)


def csrf(client, path="/admin/units/new") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("mca", Role.administrator)
    login_as(client, db, actor)
    return actor


def last_entry(db, **where) -> AuditEntry:
    with db.session_scope(write=False) as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc())
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        entry = s.scalars(q).first()
        s.expunge_all()
        return entry


def test_every_admin_page_renders_for_an_administrator(client, admin):
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), path  # the CSP allows no inline script
        assert not re.search(r'(?:src|href)="(?://|https?:)', html), path  # nothing loaded from elsewhere


@pytest.mark.parametrize("role", [Role.handler, Role.unit_lead, Role.supervisor])
def test_other_roles_get_403_on_every_admin_page(client, db, make_staff, role):
    login_as(client, db, make_staff("miit" if role is not Role.supervisor else "mca", role))
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_signed_out_is_sent_to_sign_in(client):
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/staff/login?next=")


# --- units --------------------------------------------------------------------------------------

def test_create_and_edit_a_unit_with_its_audit(client, db, admin):
    code = f"sz-test-{next(_n)}"
    token = csrf(client)
    bad = client.post("/admin/units/new", data={"csrf_token": token, "code": "Bad Code", "name": "深圳市测试局",
                                                "kind": "industry_department", "region_code": "4403",
                                                "notice_email": "not-an-address", "supervising_unit": "nowhere"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="深圳市测试局"' in html
    for field in ("code", "region_code", "notice_email", "supervising_unit"):
        assert f'id="{field}-error"' in html, field
    resp = client.post("/admin/units/new", data={
        "csrf_token": token, "code": code, "name": "深圳市测试局", "name_en": "Shenzhen Test Bureau",
        "kind": "industry_department", "region_code": "440300", "notice_email": "office@test.example.cn",
        "supervising_unit": "sz-civil-affairs", "active": "1"})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/admin/units/{code}"
    entry = last_entry(db, kind="unit", object_id=code)
    assert entry.action.value == "created" and entry.after["notice_email"] == "office@test.example.cn"
    assert entry.after["supervising_unit"] == "sz-civil-affairs"

    resp = client.post(f"/admin/units/{code}", data={
        "csrf_token": token, "name": "深圳市测试局", "name_en": "Shenzhen Test Bureau", "kind": "industry_department",
        "region_code": "440300", "notice_email": "", "supervising_unit": "sz-civil-affairs"})  # "active" unticked
    assert resp.status_code == 303
    entry = last_entry(db, kind="unit", object_id=code)
    assert entry.action.value == "updated" and set(entry.changed) == {"notice_email", "active"}
    with db.session_scope(write=False) as s:
        unit = s.scalar(select(Unit).where(Unit.code == code))
        assert unit.active is False and unit.notice_email is None
    listing = client.get("/admin/units").get_data(as_text=True)
    assert f'id="unit-{code}" class="inactive"' in listing


def test_the_levels_above_a_unit_never_lead_back_to_it(client, db, admin):
    """A loop of supervising units was saved: overdue escalations went round, and a review (复查,
    复核, 信访工作条例 第三十五、三十六条: decided one level up) could come back to the unit that decided."""
    token = csrf(client)
    lower, middle = f"loop-a-{next(_n)}", f"loop-b-{next(_n)}"
    for code, upper in ((lower, "sz-civil-affairs"), (middle, lower)):
        assert client.post("/admin/units/new", data={
            "csrf_token": token, "code": code, "name": f"测试局{code}", "kind": "industry_department",
            "region_code": "440300", "supervising_unit": upper, "active": "1"}).status_code == 303
    # lower is above middle: making middle lower's upper level would close the circle
    looped = client.post(f"/admin/units/{lower}", data={
        "csrf_token": token, "name": f"测试局{lower}", "kind": "industry_department", "region_code": "440300",
        "supervising_unit": middle, "active": "1"})
    html = looped.get_data(as_text=True)
    assert looped.status_code == 422 and 'id="supervising_unit-error"' in html and middle in html
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Unit).where(Unit.code == lower)).supervising_unit.code == "sz-civil-affairs"

def test_a_unit_that_associations_name_keeps_its_kind(client, admin):
    resp = client.post("/admin/units/miit", data={"csrf_token": csrf(client), "name": "工业和信息化部",
                                                  "kind": "registration_authority", "region_code": "100000",
                                                  "active": "1"})
    assert resp.status_code == 422 and 'id="kind-error"' in resp.get_data(as_text=True)


# --- staff accounts --------------------------------------------------------------------------------

def test_create_a_user_with_a_generated_password_shown_once(client, db, admin):
    token = csrf(client, "/admin/users/new")
    name = f"test.li{next(_n)}"
    resp = client.post("/admin/users/new", data={"csrf_token": token, "username": name, "display_name": "李测试",
                                                 "password": "", "unit": "miit", "role": "handler"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code id="password">([^<]+)</code>', resp.get_data(as_text=True)).group(1)
    # and where to sign in with it, at the site's configured address (no notice goes to the new user)
    base = client.application.extensions["changtong.settings"].base_url
    assert f'id="sign-in-at">登录地址： <code>{base}/staff/login</code>' in resp.get_data(as_text=True)
    with db.session_scope() as s:
        user = authenticate(s, name, password)
        assert user is not None and [(m.unit.code, m.role) for m in user.memberships] == [("miit", Role.handler)]
        user_id = user.id
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert password not in page  # shown once, never again
    entry = last_entry(db, kind="user", object_id=name)
    assert entry.after == {"username": name, "display_name": "李测试", "active": True, "roles": "handler@miit"}
    assert password not in repr(entry.after)
    # the audit log shows the role by its title in the reader's language, not its code
    audit = client.get("/admin/audit?kind=user").get_data(as_text=True)
    assert "承办人 (miit)" in audit and "handler@miit" not in audit


def test_bad_new_user_keeps_the_fields_but_not_the_password(client, db, admin):
    token = csrf(client, "/admin/users/new")
    resp = client.post("/admin/users/new", data={"csrf_token": token, "username": "X", "display_name": "王五",
                                                 "password": "short", "unit": "miit", "role": "triage_operator"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="王五"' in html and 'value="short"' not in html
    for field in ("username", "password", "role"):
        assert f'id="{field}-error"' in html, field


def test_roles_disable_and_password_change_are_audited(client, db, admin, make_staff):
    other = make_staff("miit", Role.handler)
    token = csrf(client, f"/admin/users/{other.user_id}")
    assert client.post(f"/admin/users/{other.user_id}/memberships",
                       data={"csrf_token": token, "unit": "samr", "role": "unit_lead"}).status_code == 303
    granted = last_entry(db, kind="membership")
    assert granted.action.value == "granted" and granted.after["unit"] == "samr"
    with db.session_scope(write=False) as s:
        m = s.scalar(select(Membership).where(Membership.user_id == other.user_id, Membership.role == Role.unit_lead))
        mid = m.id
    assert client.post(f"/admin/users/{other.user_id}/memberships/{mid}/remove",
                       data={"csrf_token": token}).status_code == 303
    assert last_entry(db, kind="membership").action.value == "revoked"

    assert client.post(f"/admin/users/{other.user_id}/active",
                       data={"csrf_token": token, "active": "0"}).status_code == 303
    with db.session_scope(write=False) as s:
        assert s.get(User, other.user_id).active is False
    assert last_entry(db, kind="user").action.value == "deactivated"

    resp = client.post(f"/admin/users/{other.user_id}/password",
                       data={"csrf_token": token, "password": "a brand new secret"})
    assert resp.status_code == 303
    entry = last_entry(db, kind="user")
    assert entry.action.value == "password_set" and entry.before is None and entry.after is None
    short = client.post(f"/admin/users/{other.user_id}/password", data={"csrf_token": token, "password": "short"})
    assert short.status_code == 422 and 'id="password-error"' in short.get_data(as_text=True)


def test_an_administrator_cannot_lock_themselves_out(client, db, admin):
    token = csrf(client, f"/admin/users/{admin.user_id}")
    assert client.post(f"/admin/users/{admin.user_id}/active",
                       data={"csrf_token": token, "active": "0"}).status_code == 409
    with db.session_scope(write=False) as s:
        me = s.get(User, admin.user_id)
        assert me.active
        mid = me.memberships[0].id
    assert client.post(f"/admin/users/{admin.user_id}/memberships/{mid}/remove",
                       data={"csrf_token": token}).status_code == 409
    assert client.get("/admin/users").status_code == 200  # still an administrator


# --- categories --------------------------------------------------------------------------------------

def test_categories_add_edit_deactivate(client, db, admin):
    code = f"audit_cat_{next(_n)}"
    token = csrf(client, "/admin/categories/new")
    bad = client.post("/admin/categories/new", data={"csrf_token": token, "code": code, "group": "grievance",
                                                     "name": "", "name_en": "Test", "sort_order": "abc"})
    assert bad.status_code == 422 and 'id="name-error"' in bad.get_data(as_text=True)
    assert client.post("/admin/categories/new", data={
        "csrf_token": token, "code": code, "group": "grievance", "name": "测试类别", "name_en": "Test category",
        "sort_order": "990"}).status_code == 303
    assert client.post(f"/admin/categories/{code}/edit", data={
        "csrf_token": token, "name": "测试类别（改）", "name_en": "Test category", "sort_order": "991"}).status_code == 303
    entry = last_entry(db, kind="category", object_id=code)
    assert (entry.before["name"], entry.after["name"]) == ("测试类别", "测试类别（改）")
    assert set(entry.changed) == {"name", "sort_order"}
    # offered on the filing form until it is out of use
    assert code in client.get("/file/complaint").get_data(as_text=True)
    assert client.post(f"/admin/categories/{code}/active", data={"csrf_token": token, "active": "0"}).status_code == 303
    assert last_entry(db, kind="category", object_id=code).action.value == "deactivated"
    assert code not in client.get("/file/complaint").get_data(as_text=True)
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Category.active).where(Category.code == code)) is False


# --- notice texts ----------------------------------------------------------------------------------

def test_notice_text_override_refuses_unknown_placeholders_and_resets(client, db, admin):
    path = "/admin/notice-templates/case_update/zh_CN"
    token = csrf(client, path)
    bad = client.post(path, data={"csrf_token": token, "subject": "新进展",
                                  "body": "案件 $case_number：$title 已处理"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="body-error"' in html and "$title" in html
    assert "案件 $case_number：$title 已处理" in html  # what was typed is kept
    good = client.post(path, data={"csrf_token": token, "subject": "新进展",
                                   "body": "【畅通】案件 $case_number 有新消息，见 $site/track。"})
    assert good.status_code == 303
    listing = client.get("/admin/notice-templates").get_data(as_text=True)
    # the change box says what the text became: it showed "…" (two texts would not fit the
    # signed cookie; the box reads them from the change's audit entry)
    box = listing[listing.index('id="change"'):]
    box = box[:box.index("</section>")]
    assert "【畅通】案件 $case_number 有新消息，见 $site/track。" in box and "…" not in box
    row = listing[listing.index('id="tpl-case_update-zh_CN"'):]
    assert "【畅通】案件 $case_number 有新消息，见 $site/track。" in row[:row.index("</tr>")]
    with db.session_scope(write=False) as s:
        overrides = notices.load_overrides(s)
    assert notices.render("case_update", "zh_CN", {"case_number": "TS1"}, overrides,
                          site="https://ct.example.org")[1] == "【畅通】案件 TS1 有新消息，见 https://ct.example.org/track。"
    entry = last_entry(db, kind="notice_template", object_id="case_update:zh_CN")
    assert entry.after["body"] == "【畅通】案件 $case_number 有新消息，见 $site/track。"
    # the way back to the default stands on the edit page too, not only on the list
    assert f'<form method="post" action="{path}/reset">' in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/reset", data={"csrf_token": token}).status_code == 303
    assert last_entry(db, kind="notice_template").action.value == "reset"
    assert f'action="{path}/reset"' not in client.get(path).get_data(as_text=True)  # nothing to go back from
    with db.session_scope(write=False) as s:
        assert notices.load_overrides(s) == {}
    assert client.get("/admin/notice-templates/nothing/zh_CN").status_code == 404
    assert client.get("/admin/notice-templates/case_update/fr").status_code == 404


def test_an_invitation_text_may_give_the_sites_address(client, db, admin, settings):
    """The respondent's invitation says where the site is ($site, CHANGTONG_BASE_URL); the form
    says what $site stands for, and an override keeps the address filled in when sent."""
    path = "/admin/notice-templates/respondent_invite/zh_CN"
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'id="site-placeholder">\$site 为本平台地址 ' + re.escape(settings.base_url) + "（", page)
    assert 'id="site-placeholder"' in client.get("/admin/notice-templates/case_update/zh_CN").get_data(as_text=True)
    assert 'id="site-placeholder"' not in client.get("/admin/notice-templates/verify_code/zh_CN").get_data(as_text=True)
    body = "【某市协会调解中心】案件 $case_number，答复码 $respondent_code，请登录 $site/respond 答复。"
    assert client.post(path, data={"csrf_token": csrf(client, path), "subject": "调解邀请", "body": body}).status_code == 303
    with db.session_scope(write=False) as s:
        overrides = notices.load_overrides(s)
    sent = notices.render("respondent_invite", "zh_CN", {"case_number": "TJ1", "respondent_code": "AB"}, overrides,
                          site="https://ct.example.org")[1]
    assert sent == "【某市协会调解中心】案件 TJ1，答复码 AB，请登录 https://ct.example.org/respond 答复。"


def test_the_units_review_mail_knows_the_round_and_a_text_without_it_is_saved(client, db, admin):
    """The mail to the units whose decision a review decided names its round ($review_round: 复查 or
    复核, 信访工作条例 第三十五、三十六条); the form lists it and says what it stands for. It is not
    required: a text without it (as administrators wrote before it existed) is saved and sent."""
    path = "/admin/notice-templates/review_decided_unit/zh_CN"
    page = client.get(path).get_data(as_text=True)
    assert "<code>$review_round</code>" in page
    assert 'id="review-round-placeholder">$review_round 为上一级作出意见的轮次' in page
    assert 'id="review-round-placeholder"' not in client.get("/admin/notice-templates/case_urged/zh_CN").get_data(as_text=True)
    body = "【畅通】本单位的案件 $case_number，上一级已作出复查（复核）意见，请登录办理平台查看。"
    assert client.post(path, data={"csrf_token": csrf(client, path), "subject": "复查、复核意见已作出",
                                   "body": body}).status_code == 303
    with db.session_scope(write=False) as s:
        overrides = notices.load_overrides(s)
    assert notices.render("review_decided_unit", "zh_CN", {"case_number": "TJ1", "review_round": "复核"}, overrides) == (
        "复查、复核意见已作出", "【畅通】本单位的案件 TJ1，上一级已作出复查（复核）意见，请登录办理平台查看。")


def test_a_respondent_invitation_without_the_site_address_is_refused(client, db, admin):
    """The respondent has never seen the site: its answer code is useless without the address.
    The form says $site must be kept, and a text without it is refused and not saved."""
    path = "/admin/notice-templates/respondent_invite/en"
    page = client.get(path).get_data(as_text=True)
    assert re.search(r"：<code>\$case_number</code>、<code>\$respondent_code</code>、<code>\$site</code>。", page)
    body = "[Changtong] Case $case_number, your answer code $respondent_code. Answer on our website."
    bad = client.post(path, data={"csrf_token": csrf(client, path), "subject": "Invitation", "body": body})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="body-error"' in html and "$site" in html[html.index('id="body-error"'):][:300]
    with db.session_scope(write=False) as s:
        assert notices.load_overrides(s) == {} and s.scalar(select(notices.NoticeTemplate.id)) is None


def test_the_session_notice_is_listed_with_the_placeholders_it_must_keep(client, admin):
    listing = client.get("/admin/notice-templates").get_data(as_text=True)
    for locale in ("zh_CN", "en"):
        assert f'id="tpl-mediation_session-{locale}"' in listing
    row = listing[listing.index('id="tpl-mediation_session-zh_CN"'):]
    assert "调解会议安排" in row[:row.index("</tr>")]
    # each notice says when it goes out and to whom (the list named them by code alone)
    from casework.notify.templates import SENT_WHEN, TEMPLATES

    assert set(SENT_WHEN) == set(TEMPLATES)
    assert "安排尚未举行的调解会议时发给双方当事人：日期、时间和地点（会议时间过后补录的会议不发送通知）。" in row[:row.index("</tr>")]
    page = client.get("/admin/notice-templates/mediation_session/en").get_data(as_text=True)
    # in the page's own punctuation (the Chinese page read "占位符: $a, $b .")
    assert re.search(r"正文必须保留：<code>\$case_number</code>、<code>\$place</code>、<code>\$session_time</code>、<code>\$site</code>。", page)
    client.set_cookie("lang", "en")
    page = client.get("/admin/notice-templates/mediation_session/en").get_data(as_text=True)
    assert re.search(r"<code>\$case_number</code>, <code>\$place</code>, <code>\$session_time</code>, <code>\$site</code>\.", page)
    client.set_cookie("lang", "zh_CN")


def test_a_username_taken_is_said_on_the_form(client, db, admin, make_staff):
    """It was a 500 (the message's parameter clashed with the field's name)."""
    make_staff("miit", Role.handler, username="taken.name")
    token = csrf(client, "/admin/users/new")
    resp = client.post("/admin/users/new", data={"csrf_token": token, "username": "taken.name", "display_name": "赵六",
                                                 "password": "", "unit": "miit", "role": "handler"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="赵六"' in html
    assert re.search(r'id="username-error"[^>]*>[^<]*用户名 taken\.name 已被使用', html), html[html.find("username-error") - 200:][:600]


def test_unit_choices_are_named_in_the_pages_language(client, admin):
    """The supervising unit's and an association's unit lists were in Chinese on English pages."""
    client.set_cookie("lang", "en")
    unit_page = client.get("/admin/units/miit").get_data(as_text=True)
    assert ">Social Work Department of the CPC Central Committee (swd-central)</option>" in unit_page
    listing = client.get("/admin/associations").get_data(as_text=True)
    edit = re.search(r'href="(/admin/associations/[^"]+/edit)"', listing).group(1)
    assert "(swd-central)</option>" in client.get(edit).get_data(as_text=True)
    assert ">中央社会工作部 (swd-central)<" not in client.get(edit).get_data(as_text=True)
