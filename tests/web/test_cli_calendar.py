"""`changtong calendar add` lets an administrator check the rules against a notice."""
from click.testing import CliRunner

from tests.web.test_cli import env_for
from web.cli import main


def test_calendar_add_explains_the_national_day_holiday(settings, db):
    out = CliRunner().invoke(main, ["calendar", "add", "2026-09-29", "7"], env=env_for(settings))
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[-1] == "2026-10-14"
    assert any("skip 2026-10-01" in line and "国庆节" in line for line in lines)
    assert any("count 2026-10-10 Sat: make-up working day" in line for line in lines)


def test_calendar_days_roll_forward_and_bad_input_is_refused(settings, db):
    out = CliRunner().invoke(main, ["calendar", "add", "2026-09-20", "11", "--calendar-days"], env=env_for(settings))
    assert out.output.strip().splitlines()[-1] == "2026-10-08"
    bad = CliRunner().invoke(main, ["calendar", "add", "next tuesday", "3"], env=env_for(settings))
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_override_and_import(settings, db, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["calendar", "override", "2027-01-02", "--working", "--note", "2027 元旦调休"],
                       env=env_for(settings))
    assert ok.exit_code == 0, ok.output
    out = runner.invoke(main, ["calendar", "add", "2026-12-31", "1"], env=env_for(settings))
    assert out.output.strip().splitlines()[-1] == "2027-01-02"
    bad = tmp_path / "bad.csv"
    bad.write_text("date,working,note\n2027-02-06,maybe,春节调休\n", encoding="utf-8")
    res = runner.invoke(main, ["calendar", "import", str(bad)], env=env_for(settings))
    assert res.exit_code == 1 and "line 2" in res.output
