"""The `changtong` command as an administrator uses it."""
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

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
