"""The `changtong` command as an administrator uses it."""
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from casework.cases.models import Case
from casework.registry.models import Association
from web.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def env_for(settings):
    return {
        "DATABASE_URL": settings.database_url,
        "CHANGTONG_DATA_DIR": str(settings.data_dir),
        "CHANGTONG_SECRET_KEY": settings.secret_key,
        "CHANGTONG_PII_KEY": __import__("base64").urlsafe_b64encode(settings.pii_keys[0]).decode(),
        "CHANGTONG_QUERY_PEPPER": __import__("base64").urlsafe_b64encode(settings.query_pepper).decode(),
    }


def count(db):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Association))


def test_bad_file_reports_lines_and_imports_nothing(settings, db):
    before = count(db)
    result = CliRunner().invoke(main, ["import-associations", str(FIXTURES / "associations_bad.csv")],
                                env=env_for(settings))
    assert result.exit_code == 1
    assert "line 3" in result.output and "check digit" in result.output
    assert "line 5" in result.output and "no-such-unit" in result.output
    assert "nothing was imported" in result.output
    assert count(db) == before


def test_good_file_imports_then_updates(settings, db):
    before = count(db)
    runner = CliRunner()
    first = runner.invoke(main, ["import-associations", str(FIXTURES / "associations_good.csv")], env=env_for(settings))
    assert first.exit_code == 0, first.output
    assert "5 new, 0 updated" in first.output
    again = runner.invoke(main, ["import-associations", str(FIXTURES / "associations_good.csv")], env=env_for(settings))
    assert "0 new, 5 updated" in again.output
    assert count(db) == before + 5


def test_seed_demo_and_upgrade_are_safe_to_repeat(settings, db):
    runner = CliRunner()
    before = count(db)
    assert runner.invoke(main, ["db", "upgrade"], env=env_for(settings)).exit_code == 0
    assert runner.invoke(main, ["seed-demo"], env=env_for(settings)).exit_code == 0
    assert count(db) == before


def test_keys_prints_fresh_secrets():
    out = CliRunner().invoke(main, ["keys"]).output
    lines = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert set(lines) == {"CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER"}


def test_demo_cases_fill_an_empty_instance_once(settings, tmp_path):
    """`make run`'s demo cases: filed through the intake and the state machine at times in the
    last two months, in the states a desk, the statistics and supervision show; only into a
    database without cases, so a second run (or a real instance) gets none."""
    from casework.settings import Settings
    from web.app import create_app

    env = dict(env_for(settings), DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}", CHANGTONG_DATA_DIR=str(tmp_path))
    runner = CliRunner()
    for args in (["db", "upgrade"], ["seed-demo"], ["users", "demo"]):
        assert runner.invoke(main, args, env=env).exit_code == 0, args
    first = runner.invoke(main, ["demo-cases"], env=env)
    assert first.exit_code == 0, first.output
    rows = [line.split() for line in first.output.splitlines() if line[:2] in ("TS", "JB", "TJ", "JY")]
    states = {row[2] for row in rows}
    assert len(rows) == 14 and {"closed", "replied", "accepted", "need_info", "not_accepted",
                                "pending_acceptance", "received"} <= states, first.output
    again = runner.invoke(main, ["demo-cases"], env=env)
    assert again.exit_code == 0 and "none filed" in again.output
    closed = next(row for row in rows if row[2] == "closed")
    app = create_app(Settings.from_env(env, testing=True))
    client = app.test_client()
    case = client.get(f"/api/v1/cases/{closed[0]}", headers={"X-Query-Code": closed[1]}).get_json()
    assert case["state"] == "closed" and case["submitted_at"][:10] < case["timeline"][-1]["at"][:10]
    # the worker's first rounds are done: statistics made, long-open cases marked overdue
    stats = client.get("/stats").get_data(as_text=True)
    assert "统计数据尚未生成" not in stats and "13" in stats
    with app.extensions["changtong.db"].session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.overdue.is_(True))) >= 1
    # the named report can be walked through a reveal with the demo accounts: miit's handler asks,
    # miit's custodian approves, the handler then sees the reporter
    from casework.accounts.actor import Actor
    from casework.accounts.models import User
    from casework.workflow import machine, reveal

    db = app.extensions["changtong.db"]
    services = app.extensions["changtong.services"]
    with db.session_scope() as s:
        report = s.scalar(select(Case).where(Case.type == "report", Case.anonymous.is_(False)))
        assert report.unit.code == "miit" and report.state.value == "accepted"
        handler, custodian = (Actor.staff(s.scalar(select(User).where(User.username == name)))
                              for name in ("demo-handler-miit", "demo-custodian-miit"))
        machine.perform(s, services, handler, report, "request_reveal", reason="需要当面核实举报材料的来源")
        req = s.scalar(select(reveal.RevealRequest).where(reveal.RevealRequest.case_id == report.id))
        machine.perform(s, services, custodian, report, "decide_reveal", request_id=str(req.id), decision="approve",
                        note="同意，限本次核实")
        assert reveal.view_identity(s, services, handler, report)["name"] == "郑强"
    db.dispose()
