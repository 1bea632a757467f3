"""The audit trail: every administrative change writes one entry, in the change's own
transaction, with who, when and the values before and after; never a password. Notice texts
an administrator overrides are the ones sent."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from casework.accounts.actor import Actor
from casework.accounts.models import Role, User
from casework.accounts import operations as accounts
from casework.audit.models import AuditActorKind, AuditEntry
from casework.audit.operations import Change, cli_actor, record
from casework.audit.queries import REVEAL, Filters, audit_log
from casework.cases.models import ActorKind, Case, Event, EventKind, Stage
from casework.deadlines import operations as deadlines
from casework.deadlines.models import TimeLimit
from casework.notify import dispatch
from casework.notify import templates as notices
from casework.notify.channels import FileSink
from casework.notify.models import OutboxChannel
from casework.registry import categories
from casework.registry.models import Unit
from casework.routing import operations_admin as routing


def newest(db, n=1) -> list[AuditEntry]:
    with db.session_scope(write=False) as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(n)))
        s.expunge_all()
    return rows[::-1]


def last_id(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def entries_since(db, first: int) -> list[AuditEntry]:
    with db.session_scope(write=False) as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.id > first).order_by(AuditEntry.id)))
        s.expunge_all()
    return rows


@pytest.fixture
def admin(make_staff):
    return make_staff("mca", Role.administrator)


def test_an_entry_records_who_when_and_before_after(db, admin):
    with db.session_scope() as s:
        entry = record(s, admin, Change("unit", "updated", "miit", {"name": "甲", "active": True},
                                        {"name": "乙", "active": True}))
        username = s.get(User, admin.user_id).username
    [got] = newest(db)
    assert got.id == entry.id and got.actor_kind is AuditActorKind.staff
    assert (got.actor_user_id, got.actor_name) == (admin.user_id, username)
    assert got.changed == ["name"] and got.before["name"] == "甲" and got.after["name"] == "乙"
    assert abs(got.at - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_an_update_that_changes_nothing_writes_nothing(db, admin):
    first = last_id(db)
    with db.session_scope() as s:
        assert record(s, admin, Change("unit", "updated", "miit", {"a": 1}, {"a": 1})) is None
    assert entries_since(db, first) == []


def test_the_entry_goes_with_its_transaction(db, admin):
    first = last_id(db)
    with pytest.raises(RuntimeError):
        with db.session_scope() as s:
            record(s, admin, Change("unit", "created", "x", None, {"code": "x"}))
            raise RuntimeError("the change failed")
    assert entries_since(db, first) == []


def test_cli_actor_records_the_login(db):
    with db.session_scope() as s:
        record(s, cli_actor("ops-admin"), Change("unit", "created", "x-cli", None, {"code": "x-cli"}))
        record(s, Actor.system("cli"), Change("unit", "created", "y-cli", None, {"code": "y-cli"}))
        record(s, Actor.system("sweep"), Change("unit", "created", "z-cli", None, {"code": "z-cli"}))
    a, b, c = newest(db, 3)
    assert (a.actor_kind, a.actor_name, a.actor_user_id) == (AuditActorKind.cli, "ops-admin", None)
    assert (b.actor_kind, b.actor_name) == (AuditActorKind.cli, "cli")
    assert (c.actor_kind, c.actor_name) == (AuditActorKind.system, "sweep")


def test_routing_rule_changes_are_audited(db, admin):
    first = last_id(db)
    with db.session_scope() as s:
        lookups = routing.Lookups(s)
        values, errors = routing.check_rule(lookups, {"case_type": "report", "category": "", "association": "",
                                                      "target": "party_work_department", "priority": "9001",
                                                      "active": "1", "note": "审计测试"})
        assert not errors
        created = routing.create_rule(s, admin, values)
        values.priority = 9002
        rule = s.get(routing.RoutingRule, created.row_id)
        routing.update_rule(s, admin, rule, values)
        routing.update_rule(s, admin, rule, values)  # unchanged: no entry
        routing.deactivate_rule(s, admin, rule)
        s.delete(rule)
    got = entries_since(db, first)
    assert [(e.kind.value, e.action.value, e.object_id) for e in got] == [
        ("routing_rule", "created", str(created.row_id)), ("routing_rule", "updated", str(created.row_id)),
        ("routing_rule", "deactivated", str(created.row_id))]
    assert (got[1].before["priority"], got[1].after["priority"]) == (9001, 9002)
    assert got[0].after["note"] == "审计测试"


def test_time_limits_and_calendar_changes_are_audited(db, admin):
    first = last_id(db)
    with db.session_scope() as s:
        limit = s.scalar(select(TimeLimit).where(TimeLimit.stage == Stage.acceptance).limit(1))
        old = limit.amount
        deadlines.update_limit(s, limit.id, str(old + 1), limit.working_days, actor=admin)
        deadlines.update_limit(s, limit.id, str(old), limit.working_days, actor=admin)
        deadlines.set_override(s, date(2031, 5, 6), True, "测试调休", actor=admin)
        deadlines.remove_override(s, date(2031, 5, 6), actor=admin)
        result = deadlines.import_overrides(s, "date,working,note\n2031-10-08,1,调休\n2031-10-09,0,测试\n", actor=admin)
        assert result.imported == 2
        deadlines.set_year(s, 2031, True, "国务院通知", actor=admin)
    got = entries_since(db, first)
    assert [(e.kind.value, e.action.value) for e in got] == [
        ("time_limit", "updated"), ("time_limit", "updated"), ("calendar_override", "created"),
        ("calendar_override", "removed"), ("calendar_override", "imported"), ("calendar_year", "created")]
    assert (got[0].before["amount"], got[0].after["amount"]) == (old, old + 1)
    assert got[3].before == {"day": "2031-05-06", "working": True, "note": "测试调休"} and got[3].after is None
    assert got[4].after == {"count": 2, "first": "2031-10-08", "last": "2031-10-09"}


def test_account_changes_are_audited_without_passwords(db, admin):
    first = last_id(db)
    with db.session_scope() as s:
        miit = s.scalar(select(Unit).where(Unit.code == "miit"))
        samr = s.scalar(select(Unit).where(Unit.code == "samr"))
        user, _ = accounts.create_staff_user(s, admin, "audit.zhang", "张审计", "first secret 123", miit, [Role.handler])
        grant = accounts.grant_membership(s, admin, user, samr, Role.unit_lead)
        assert accounts.grant_membership(s, admin, user, samr, Role.unit_lead) is None  # had it already
        accounts.set_password(s, admin, user, "second secret 456")
        accounts.set_user_active(s, admin, user, False)
        m = next(m for m in user.memberships if m.unit_id == samr.id)
        accounts.revoke_membership(s, admin, m)
        hashes = [user.password_hash]
    got = entries_since(db, first)
    assert [(e.kind.value, e.action.value) for e in got] == [
        ("user", "created"), ("membership", "granted"), ("user", "password_set"), ("user", "deactivated"),
        ("membership", "revoked")]
    assert got[0].after == {"username": "audit.zhang", "display_name": "张审计", "active": True,
                            "roles": "handler@miit"}
    assert got[1].after == {"user": "audit.zhang", "unit": "samr", "role": "unit_lead"} and grant is not None
    assert got[2].before is None and got[2].after is None
    for e in got:
        blob = repr((e.before, e.after))
        assert "secret" not in blob and not any(h in blob for h in hashes) and "argon2" not in blob


def test_nobody_disables_themselves_or_drops_their_own_admin_role(db, admin):
    with db.session_scope() as s:
        me = s.get(User, admin.user_id)
        with pytest.raises(accounts.AccountError):
            accounts.set_user_active(s, admin, me, False)
        with pytest.raises(accounts.AccountError):
            accounts.revoke_membership(s, admin, me.memberships[0])


def test_the_last_category_in_use_of_a_group_stays(db, admin):
    with db.session_scope() as s:
        values, errors = categories.check_category(s, {"code": "audit_test_cat", "group": "suggestion",
                                                       "name": "测试建议", "name_en": "Test suggestion"})
        assert not errors
        categories.create_category(s, admin, values)
        cat = categories.by_code(s, "audit_test_cat")
        others = [c for g, cs in categories.categories_by_group(s) if g.value == "suggestion" for c in cs if c is not cat]
        for c in others:
            c.active = False
        s.flush()
        with pytest.raises(categories.CategoryError):
            categories.set_category_active(s, admin, cat, False)
        s.rollback()


# --- notice texts -------------------------------------------------------------------------------

def test_unknown_placeholders_are_refused_by_name():
    ok, errors = notices.check_text("case_update", "新进展", "案件 $case_number 有新进展：$title，$complainant_name")
    assert ok is None
    message, lacking = errors["body"]  # the unknown ones and the one it must keep, in one answer
    assert message.params["unknown"] == "$title, $complainant_name" and message.params["known"] == "$case_number, $site"
    assert lacking.params == {"missing": "$site"}
    assert notices.check_text("case_update", "$case_number 有新进展", "案件 ${case_number} 有新进展，费用$$5，见 ${site}")[1] == {}
    assert "body" in notices.check_text("case_update", "s", "费用 $5")[1]  # a bare $
    # the receipt must keep the query code: the complainant cannot look anything up without it
    assert notices.check_text("case_receipt", "已提交", "案件编号 $case_number，请到 $site/track 查询")[1]["body"][0].params == {
        "missing": "$query_code"}


def test_an_override_is_what_is_sent_and_a_reset_brings_the_default_back(db, services, file_case, tmp_path, admin):
    sink = {OutboxChannel.sms: FileSink(tmp_path / "sms", services.cipher),
            OutboxChannel.email: FileSink(tmp_path / "email", services.cipher)}
    text_ = "【畅通】已收到：编号 $case_number，查询码 $query_code，在 $site/track 查询（管理员改写）"
    first = last_id(db)
    with db.session_scope() as s:
        checked, errors = notices.check_text("case_receipt", "已收到您的案件", text_)
        assert not errors
        notices.save_override(s, admin, "case_receipt", "zh_CN", *checked)
    try:
        receipt = file_case()
        for mid in dispatch.due_ids(db, services.clock()):
            dispatch.send_message(db, services, mid, sink)
        [sms] = sink[OutboxChannel.sms].delivered()
        assert sms["body"] == (f"【畅通】已收到：编号 {receipt.case_number}，查询码 {receipt.query_code}，"
                               f"在 {services.settings.base_url}/track 查询（管理员改写）")
        # the batch sender reads the same texts
        file_case()
        counts = dispatch.send_batch(db, services, dispatch.due_ids(db, services.clock()), sink)
        assert counts["sent"] == 1
        assert all("管理员改写" in m["body"] for m in sink[OutboxChannel.sms].delivered())
    finally:
        with db.session_scope() as s:
            assert notices.reset_override(s, admin, "case_receipt", "zh_CN") is not None
            assert notices.reset_override(s, admin, "case_receipt", "zh_CN") is None
    saved, reset = entries_since(db, first)
    assert (saved.kind.value, saved.action.value, saved.object_id) == ("notice_template", "updated", "case_receipt:zh_CN")
    assert saved.before["overridden"] is False and saved.after["body"] == text_
    assert reset.action.value == "reset" and reset.after["overridden"] is False
    assert notices.render("case_receipt", "zh_CN", {"case_number": "N", "query_code": "Q"}) == notices.render(
        "case_receipt", "zh_CN", {"case_number": "N", "query_code": "Q"}, {})


# --- the log --------------------------------------------------------------------------------------

def log(db, filters=Filters(), **kw):
    with db.session_scope(write=False) as s:
        return audit_log(s, filters, **kw)


def test_the_log_lists_changes_and_identity_reveals_newest_first(db, admin, file_case, make_staff):
    handler = make_staff("miit", Role.handler)
    receipt = file_case()
    with db.session_scope() as s:
        record(s, admin, Change("category", "updated", "reveal_test", {"name": "甲"}, {"name": "乙"}))
        case = s.scalar(select(Case).where(Case.number == receipt.case_number))
        s.add(Event(case=case, actor_kind=ActorKind.staff, actor_id=handler.user_id, kind=EventKind.identity_revealed,
                    summary="identity revealed by staff", internal_text="理由：需要核实"))
        handler_name = s.get(User, handler.user_id).username
    page = log(db, Filters())
    top = page.rows[0]
    assert top.reveal is not None and top.reveal.case_number == receipt.case_number
    assert top.reveal.actor_name == handler_name
    assert page.rows[1].entry is not None and page.rows[1].entry.object_id == "reveal_test"

    only = log(db, Filters(kind=REVEAL))
    assert only.rows and all(r.reveal for r in only.rows)
    assert all(r.entry for r in log(db, Filters(kind="category")).rows)
    by_case = log(db, Filters(object_id=receipt.case_number.lower()))
    assert [r.reveal.case_number for r in by_case.rows] == [receipt.case_number]
    assert log(db, Filters(actor=handler_name)).rows[0].reveal is not None
    today = datetime.now(timezone.utc).date()
    assert log(db, Filters(since=today + timedelta(days=2))).rows == []
    assert log(db, Filters(until=today - timedelta(days=2), kind=REVEAL)).rows == []


def test_the_log_pages(db, admin):
    with db.session_scope() as s:
        for n in range(5):
            record(s, admin, Change("unit", "updated", f"page-{n}", {"n": n}, {"n": n + 1}))
    one = log(db, Filters(kind="unit"), page=1, page_size=2)
    two = log(db, Filters(kind="unit"), page=2, page_size=2)
    assert one.has_next and [r.entry.object_id for r in one.rows] == ["page-4", "page-3"]
    assert [r.entry.object_id for r in two.rows] == ["page-2", "page-1"]
    with db.session_scope() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.object_id.like("page-%")))
