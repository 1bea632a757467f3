"""The administrators' command line: associations, units, users, categories and the audit
log. Every change it makes is audited with actor kind "cli"."""
from __future__ import annotations

import getpass

from click.testing import CliRunner
from sqlalchemy import select

from casework.accounts.models import ApiToken, User
from casework.audit.models import AuditActorKind, AuditEntry
from casework.cases.models import Category
from casework.registry.models import Association, AssociationStatus, Unit
from tests.web.test_admin_registry import csv_file, new_code
from tests.web.test_cli import env_for
from web.cli import main

PASSWORD = "a long enough secret"


def run(settings, *args, input=None):
    return CliRunner().invoke(main, list(args), env=env_for(settings), input=input)


def since(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def entries_after(db, first: int) -> list[AuditEntry]:
    with db.session_scope(write=False) as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.id > first).order_by(AuditEntry.id)))
        s.expunge_all()
        return rows


def login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def test_import_and_deregister_are_audited_as_cli(settings, db, tmp_path):
    code = new_code()
    path = tmp_path / "one.csv"
    path.write_bytes(csv_file({"credit_code": code, "name": "深圳市命令行测试协会", "member_count": "12"}))
    first = since(db)
    result = run(settings, "import-associations", str(path))
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated" in result.output
    result = run(settings, "associations", "deregister", code.lower())
    assert result.exit_code == 0 and "deregistered" in result.output, result.output
    assert run(settings, "associations", "deregister", "51440300MJ7799999X").exit_code != 0
    with db.session_scope(write=False) as s:
        assoc = s.scalar(select(Association).where(Association.credit_code == code))
        assert assoc.status is AssociationStatus.deregistered and assoc.member_count == 12
    imported, deregistered = entries_after(db, first)
    assert (imported.action.value, imported.after) == ("imported", {"file": "one.csv", "created": 1, "updated": 0})
    assert deregistered.action.value == "deregistered" and deregistered.object_id == code
    for e in (imported, deregistered):
        assert e.actor_kind is AuditActorKind.cli and e.actor_name == login() and e.actor_user_id is None
    listed = run(settings, "associations", "list", "命令行测试", "--status", "deregistered")
    assert code in listed.output
    again = run(settings, "associations", "reinstate", code)
    assert again.exit_code == 0 and "active" in again.output


def test_units_list_and_create(settings, db):
    first = since(db)
    bad = run(settings, "units", "create", "Bad Code", "--name", "x", "--kind", "industry_department",
              "--region", "12")
    assert bad.exit_code != 0 and "code:" in bad.output and "region_code:" in bad.output
    ok = run(settings, "units", "create", "cli-test-unit", "--name", "命令行测试局", "--kind", "industry_department",
             "--region", "440300", "--notice-email", "office@cli.example.cn", "--supervising-unit", "sz-civil-affairs")
    assert ok.exit_code == 0, ok.output
    listing = run(settings, "units", "list", "--kind", "industry_department").output
    assert "cli-test-unit" in listing and "office@cli.example.cn" in listing and "mca" not in listing.split()
    with db.session_scope(write=False) as s:
        unit = s.scalar(select(Unit).where(Unit.code == "cli-test-unit"))
        assert unit.supervising_unit.code == "sz-civil-affairs"
    [entry] = entries_after(db, first)
    assert (entry.kind.value, entry.action.value, entry.actor_kind) == ("unit", "created", AuditActorKind.cli)
    # every kind the web form offers: a 纪检监察 body (where leaders' misconduct is routed) too
    made = run(settings, "units", "create", "cli-discipline", "--name", "命令行纪检组", "--kind", "discipline_inspection",
               "--region", "440300")
    assert made.exit_code == 0, made.output
    assert "cli-discipline" in run(settings, "units", "list", "--kind", "discipline_inspection").output


def test_users_commands_are_audited(settings, db):
    first = since(db)
    assert run(settings, "users", "create", "cli.wang", "--unit", "miit", "--role", "handler", "--password-stdin",
               input=PASSWORD + "\n").exit_code == 0
    assert run(settings, "users", "grant", "cli.wang", "--unit", "samr", "--role", "unit_lead").exit_code == 0
    assert run(settings, "users", "grant", "cli.wang", "--unit", "samr", "--role", "unit_lead").exit_code == 0
    token = run(settings, "users", "token", "cli.wang", "--label", "hotline").stdout.strip()
    assert run(settings, "users", "revoke-tokens", "cli.wang").exit_code == 0
    assert run(settings, "users", "revoke", "cli.wang", "--unit", "samr", "--role", "unit_lead").exit_code == 0
    assert "has no role" in run(settings, "users", "revoke", "cli.wang", "--unit", "samr", "--role",
                                "unit_lead").output
    assert run(settings, "users", "set-password", "cli.wang", "--password-stdin",
               input="another long secret\n").exit_code == 0
    assert run(settings, "users", "disable", "cli.wang").exit_code == 0
    with db.session_scope(write=False) as s:
        assert s.scalar(select(User.active).where(User.username == "cli.wang")) is False
    assert run(settings, "users", "enable", "cli.wang").exit_code == 0
    got = entries_after(db, first)
    assert [(e.kind.value, e.action.value) for e in got] == [
        ("user", "created"), ("membership", "granted"), ("api_token", "created"), ("api_token", "revoked"),
        ("membership", "revoked"), ("user", "password_set"), ("user", "deactivated"), ("user", "reactivated")]
    assert all(e.actor_kind is AuditActorKind.cli for e in got)
    with db.session_scope(write=False) as s:
        hashes = [t.token_hash for t in s.scalars(select(ApiToken))] + [
            s.scalar(select(User.password_hash).where(User.username == "cli.wang"))]
    for e in got:
        blob = repr((e.before, e.after))
        assert token not in blob and PASSWORD not in blob and not any(h in blob for h in hashes)


def test_categories_list_add_deactivate(settings, db):
    first = since(db)
    assert "illegal_fees" in run(settings, "categories", "list", "--group", "grievance").output
    bad = run(settings, "categories", "add", "bad code", "--group", "grievance", "--name", "x", "--name-en", "x")
    assert bad.exit_code != 0 and "code:" in bad.output
    ok = run(settings, "categories", "add", "cli_test_cat", "--group", "grievance", "--name", "命令行测试",
             "--name-en", "CLI test", "--sort-order", "995")
    assert ok.exit_code == 0, ok.output
    assert run(settings, "categories", "deactivate", "cli_test_cat").exit_code == 0
    assert run(settings, "categories", "deactivate", "no_such").exit_code != 0
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Category.active).where(Category.code == "cli_test_cat")) is False
    got = entries_after(db, first)
    assert [(e.object_id, e.action.value) for e in got] == [("cli_test_cat", "created"),
                                                            ("cli_test_cat", "deactivated")]
    assert run(settings, "categories", "activate", "cli_test_cat").exit_code == 0


def test_routing_import_and_calendar_are_audited_as_cli(settings, db, tmp_path):
    from pathlib import Path

    first = since(db)
    rules = Path(__file__).resolve().parents[1] / "fixtures" / "routing_rules.csv"
    exported = tmp_path / "rules.csv"
    assert run(settings, "routing", "export", str(exported)).exit_code == 0
    assert run(settings, "routing", "import", str(exported)).exit_code == 0
    assert run(settings, "calendar", "override", "2032-01-02", "--working", "--note", "测试").exit_code == 0
    got = entries_after(db, first)
    assert [(e.kind.value, e.action.value) for e in got] == [("routing_rule", "imported"),
                                                            ("calendar_override", "created")]
    assert got[0].after["mode"] == "upsert" and got[0].after["file"] == "rules.csv"
    assert all(e.actor_kind is AuditActorKind.cli for e in got)
    assert rules.exists()


def test_audit_prints_entries_with_filters(settings, db):
    run(settings, "categories", "add", "cli_audit_cat", "--group", "suggestion", "--name", "打印测试",
        "--name-en", "Print test")
    out = run(settings, "audit", "--kind", "category", "--since", "2020-01-01").output
    line = next(line for line in out.splitlines() if "cli_audit_cat" in line)
    assert f"cli:{login()}" in line and "category cli_audit_cat created" in line and "name=打印测试" in line
    assert "cli_audit_cat" not in run(settings, "audit", "--kind", "unit").output
    assert "cli_audit_cat" not in run(settings, "audit", "--since", "2999-01-01").output
    assert run(settings, "audit", "--kind", "nonsense").exit_code != 0
    assert run(settings, "audit", "--since", "yesterday").exit_code != 0
