"""`changtong units import`: an administrator sets up hundreds of units from one file, all or
nothing, a unit naming the unit above it even further down the file, and a second run changes
nothing."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from casework.audit.models import AuditEntry
from casework.registry.models import Unit
from tests.web.test_cli import env_for
from web.cli import main


@pytest.fixture
def fresh(settings, tmp_path):
    """(run, database) of a new migrated SQLite database of its own."""
    from casework.db import Database

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = dict(env_for(settings), DATABASE_URL=url, CHANGTONG_DATA_DIR=str(tmp_path / "data"))
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, list(args), env=env)
        assert result.exit_code == code, (args, result.output, getattr(result, "stderr", ""))
        return result.output + (getattr(result, "stderr", "") or "")

    run("db", "upgrade")
    database = Database(url)
    yield run, database
    database.dispose()


def write(tmp_path, text: str):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


def units(database) -> dict[str, Unit]:
    with database.session_scope(write=False) as s:
        rows = s.scalars(select(Unit)).all()
        for u in rows:
            _ = u.supervising_unit
        s.expunge_all()
        return {u.code: u for u in rows}


PROVINCES = (
    "code,name,kind,region_code,supervising_unit,notice_email,lead_approves_not_accept\n"
    # the provincial department names the ministry, which comes later in the file
    "sc-jxt,四川省经济和信息化厅,industry_department,510000,miit,jxt@sc.example,是\n"
    "gd-gxt,广东省工业和信息化厅,industry_department,440000,miit,,否\n"
    "miit,工业和信息化部,industry_department,100000,,office@miit.example,\n"
)


def test_units_come_from_one_file_with_the_unit_above_further_down_and_a_second_run_changes_nothing(fresh, tmp_path):
    run, database = fresh
    out = run("units", "import", write(tmp_path, PROVINCES))
    assert "3 new, 0 updated, 0 unchanged" in out
    got = units(database)
    assert got["sc-jxt"].supervising_unit.code == "miit" and got["gd-gxt"].supervising_unit.code == "miit"
    assert got["miit"].supervising_unit is None
    assert got["sc-jxt"].lead_approves_not_accept and not got["gd-gxt"].lead_approves_not_accept
    assert got["sc-jxt"].notice_email == "jxt@sc.example" and got["gd-gxt"].notice_email is None
    assert all(u.active for u in got.values())
    with database.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id.in_(got))) == 3

    assert "0 new, 0 updated, 3 unchanged" in run("units", "import", write(tmp_path, PROVINCES))
    with database.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id.in_(got))) == 3


def test_a_column_left_out_keeps_the_units_value_and_a_blank_cell_clears_it(fresh, tmp_path):
    run, database = fresh
    run("units", "create", "miit", "--name", "工业和信息化部", "--name-en", "MIIT", "--kind", "industry_department",
        "--region", "100000", "--notice-email", "office@miit.example")
    out = run("units", "import", write(tmp_path, "code,name,kind,region_code,notice_email\n"
                                                  "miit,工业和信息化部,industry_department,100000,\n"))
    assert "0 new, 1 updated" in out
    miit = units(database)["miit"]
    assert miit.name_en == "MIIT"          # no name_en column: kept
    assert miit.notice_email is None       # a blank cell: cleared


def test_a_file_with_any_bad_row_imports_nothing_and_names_every_line(fresh, tmp_path):
    run, database = fresh
    before = set(units(database))
    out = run("units", "import", write(tmp_path,
              "code,name,kind,region_code,supervising_unit,active\n"
              "ok-unit,一个正常的单位,industry_department,510000,,\n"                  # line 2: fine alone
              "bad-region,区划错误的单位,industry_department,5100,,\n"                  # line 3
              "Bad Code,代码错误,industry_department,510000,,\n"                        # line 4
              "orphan,上级不存在,industry_department,510000,nowhere,\n"                 # line 5
              "flag,标记错误,industry_department,510000,,maybe\n"                       # line 6
              "ok-unit,重复的代码,industry_department,510000,,\n"),                     # line 7
              code=1)
    assert "line 7, code: the code ok-unit is already on line 2" in out
    assert "line 6, active" in out
    assert "nothing was imported" in out
    assert set(units(database)) == before

    out = run("units", "import", write(tmp_path,
              "code,name,kind,region_code,supervising_unit\n"
              "ok-unit,一个正常的单位,industry_department,510000,\n"
              "bad-region,区划错误的单位,industry_department,5100,\n"
              "bad--code-UPPER!,代码错误,industry_department,510000,\n"
              "orphan,上级不存在,industry_department,510000,nowhere\n"), code=1)
    assert "line 3, region_code: A region code is 6 digits" in out
    assert "line 4, code" in out
    assert "line 5, supervising_unit: There is no unit with the code nowhere" in out
    assert set(units(database)) == before


def test_units_that_supervise_each_other_in_a_loop_are_refused(fresh, tmp_path):
    """A review (复查, 复核) goes to the level above the unit that decided (信访工作条例 第三十五条、
    第三十六条), and 督办 to the unit above: a loop would send them back where they came from."""
    run, database = fresh
    out = run("units", "import", write(tmp_path,
              "code,name,kind,region_code,supervising_unit\n"
              "aaa,甲单位,industry_department,510000,bbb\n"
              "bbb,乙单位,industry_department,510000,aaa\n"), code=1)
    assert "supervise each other in a loop" in out and "line 2" in out and "line 3" in out
    assert "aaa" not in units(database)

    run("units", "import", write(tmp_path, "code,name,kind,region_code,supervising_unit\n"
                                           "aaa,甲单位,industry_department,510000,\n"
                                           "bbb,乙单位,industry_department,510000,aaa\n"))
    out = run("units", "import", write(tmp_path, "code,name,kind,region_code,supervising_unit\n"
                                                  "aaa,甲单位,industry_department,510000,bbb\n"), code=1)
    assert "is itself supervised by this unit" in out


def test_a_missing_setting_is_said_in_one_line_not_a_traceback(tmp_path, monkeypatch):
    """An operator who runs the command outside the directory of its .env reads what is missing."""
    for name in ("CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["units", "list"], env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 2
    assert "Error: CHANGTONG_SECRET_KEY is not set" in result.output and ".env in this directory" in result.output
    assert "Traceback" not in result.output
