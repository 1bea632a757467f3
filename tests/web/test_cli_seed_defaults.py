"""A production install as README.md and docs/operations.md set it up, with no demo: the
standard reference data (`changtong seed-defaults`) is enough to take a case, is loaded once and
never overwrites, `db upgrade` stays schema-only (a backup restores into a just-migrated
database) but says what is missing, and `seed-demo` leaves real units alone."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from casework.cases.models import Case, Category
from casework.deadlines.models import Stage, TimeLimit
from casework.registry.models import Association, Unit, UnitKind
from casework.routing.models import JointMediationBody, RoutingRule
from tests.web.test_cli import env_for
from web.cli import main

REAL = "51100000500009247D"  # 中国复合材料工业协会
HEADER = ("credit_code,name,abbreviation,level,region_code,status,decoupled,registration_authority,"
          "main_industry_department,other_industry_departments,supervisory_unit,mediation_body,"
          "party_work_department,is_sample\n")


@pytest.fixture
def fresh(settings, tmp_path):
    """(env, run, database) of a new SQLite database of its own, migrated."""
    from casework.db import Database

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = dict(env_for(settings), DATABASE_URL=url, CHANGTONG_DATA_DIR=str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, list(args), env=env)
        assert result.exit_code == code, (args, result.output)
        return result.output

    out = run("db", "upgrade")
    assert "standard reference data is missing" in out and "seed-defaults" in out
    database = Database(url)
    yield env, run, database
    database.dispose()


def counts(database) -> dict[str, int]:
    with database.session_scope(write=False) as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (Category, RoutingRule, TimeLimit, Unit, Association, JointMediationBody)}


def real_units(run, tmp_path):
    """What README's First start has an administrator make: the registration authority, an
    industry department, and the associations from a file."""
    run("units", "create", "mca", "--name", "民政部", "--kind", "registration_authority", "--region", "100000")
    run("units", "create", "miit", "--name", "工业和信息化部", "--kind", "industry_department", "--region", "100000")
    csv = tmp_path / "associations.csv"
    csv.write_text(HEADER + f"{REAL},中国复合材料工业协会,中国复材协会,national,100000,active,true,mca,miit,,,,,false\n",
                   encoding="utf-8")
    run("import-associations", str(csv))


def test_a_fresh_install_with_the_defaults_takes_and_routes_a_complaint(fresh, tmp_path, submission_data):
    from casework.settings import Settings
    from web.app import create_app

    env, run, database = fresh
    assert counts(database)["Category"] == 0  # what the operator met: every filing refused
    real_units(run, tmp_path)
    out = run("seed-defaults")
    assert "20 categories" in out and "1 triage unit" in out
    got = counts(database)
    assert got["Category"] == 20 and got["RoutingRule"] > 0 and got["TimeLimit"] > 0
    assert got["Association"] == 1 and got["JointMediationBody"] == 0  # nothing made up
    with database.session_scope(write=False) as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
        assert set(units) == {"mca", "miit", "triage"} and units["triage"].kind is UnitKind.triage
        assert all(u.notice_email is None and u.supervising_unit_id is None for u in units.values())

    app = create_app(Settings.from_env(env, testing=True))
    client = app.test_client()
    codes = {c["code"] for c in client.get("/api/v1/categories").get_json()["items"]}
    assert {"forced_membership", "consumer", "policy"} <= codes
    resp = client.post("/api/v1/cases", data=json.dumps(submission_data()), content_type="application/json")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["state"] == "pending_acceptance"  # routed, not waiting for triage
    with database.session_scope(write=False) as s:
        case = s.scalar(select(Case))
        assert case.unit.code == "miit"  # the association's main industry department (decoupled)
    app.extensions["changtong.db"].dispose()


def test_seed_defaults_twice_changes_nothing_and_keeps_an_administrators_edits(fresh):
    _env, run, database = fresh
    assert "20 categories" in run("seed-defaults")
    first = counts(database)
    # an administrator's changes: a longer acceptance limit, a category withdrawn, a rule turned off
    with database.session_scope() as s:
        s.execute(update(TimeLimit).where(TimeLimit.case_type == "complaint", TimeLimit.stage == Stage.acceptance)
                  .values(amount=9, note="本单位规定"))
        s.execute(update(Category).where(Category.code == "service_quality").values(active=False, name="服务"))
        rule_id = s.scalar(select(RoutingRule.id).order_by(RoutingRule.id))
        s.execute(update(RoutingRule).where(RoutingRule.id == rule_id).values(active=False, priority=99))
    for _ in range(2):
        assert "nothing missing, nothing changed" in run("seed-defaults")
    assert "missing" not in run("db", "upgrade")  # nothing to say any more
    assert counts(database) == first
    with database.session_scope(write=False) as s:
        limit = s.scalar(select(TimeLimit).where(TimeLimit.case_type == "complaint",
                                                 TimeLimit.stage == Stage.acceptance))
        assert (limit.amount, limit.note) == (9, "本单位规定")
        category = s.scalar(select(Category).where(Category.code == "service_quality"))
        assert (category.active, category.name) == (False, "服务")
        rule = s.get(RoutingRule, rule_id)
        assert (rule.active, rule.priority) == (False, 99)


def test_a_missing_time_limit_is_added_back_and_the_rest_left(fresh):
    _env, run, database = fresh
    run("seed-defaults")
    with database.session_scope() as s:
        s.execute(TimeLimit.__table__.delete().where(TimeLimit.stage == Stage.rating))
        s.execute(update(TimeLimit).where(TimeLimit.stage == Stage.handling).values(amount=45))
    assert "1 time limits" in run("seed-defaults")
    with database.session_scope(write=False) as s:
        assert s.scalar(select(TimeLimit.amount).where(TimeLimit.stage == Stage.handling)) == 45
        assert s.scalar(select(TimeLimit.amount).where(TimeLimit.stage == Stage.rating)) == 15


def test_seed_demo_refuses_a_real_install_and_forced_leaves_its_units_alone(fresh, tmp_path):
    _env, run, database = fresh
    real_units(run, tmp_path)
    run("seed-defaults")
    before = counts(database)
    refused = run("seed-demo", code=1)
    assert "Not for production" in refused and "mca" in refused and "seed-defaults" in refused
    assert counts(database) == before  # nothing added

    out = run("seed-demo", "--force")
    assert "left as they are" in out
    with database.session_scope(write=False) as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
        for code in ("mca", "miit", "triage"):  # the install's own (and its triage unit)
            assert units[code].notice_email is None and units[code].supervising_unit_id is None, code
        assert units["samr"].notice_email == "samr@notice.example"  # the demo's own units get theirs
        # a demo unit never escalates to a real one (the demo has sc-civil-affairs answer to mca)
        assert units["sc-civil-affairs"].supervising_unit_id is None
        assert units["sz-civil-affairs"].supervising_unit_id == units["gd-civil-affairs"].id
        assert s.scalar(select(func.count()).select_from(Association).where(Association.is_sample)) == 7
    again = counts(database)
    run("seed-demo", "--force")
    assert counts(database) == again


def test_seed_demo_on_a_demo_database_with_a_unit_added_later_leaves_that_unit(fresh):
    """`make run` runs seed-demo each time: a developer's own unit does not stop it, nor gets a mailbox."""
    _env, run, database = fresh
    run("seed-demo")
    run("units", "create", "sc-market", "--name", "四川省市场监督管理局", "--kind", "industry_department",
        "--region", "510000")
    before = counts(database)
    run("seed-demo")
    assert counts(database) == before
    with database.session_scope(write=False) as s:
        mine = s.scalar(select(Unit).where(Unit.code == "sc-market"))
        assert mine.notice_email is None and mine.supervising_unit_id is None
        triage = s.scalar(select(Unit).where(Unit.code == "triage"))
        assert triage.notice_email == "triage@notice.example"  # as the demo always had it


def test_a_backup_restores_into_a_database_just_migrated(fresh, settings, tmp_path):
    """`db upgrade` adds no row: the restore, which takes only an empty database, still takes one
    that the Docker stack's migrate service (or the operator) has just migrated."""
    env, run, database = fresh
    source = dict(env_for(settings), DATABASE_URL=f"sqlite:///{tmp_path / 'source.db'}",
                  CHANGTONG_DATA_DIR=str(tmp_path / "source"))
    runner, archive = CliRunner(), tmp_path / "source.tar.gz"
    for args in (["db", "upgrade"], ["seed-defaults"], ["backup", "create", str(archive)]):
        result = runner.invoke(main, args, env=source)
        assert result.exit_code == 0, (args, result.output)
    assert all(v == 0 for v in counts(database).values())
    run("backup", "restore", str(archive), "--no-reindex")
    assert counts(database)["Category"] == 20
