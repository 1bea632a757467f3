"""Routing rules to and from CSV: round trips, all-or-nothing imports, --replace, and
`changtong routing explain`."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from casework.accounts.actor import Actor
from casework.cases.models import Case
from casework.registry.models import Association
from casework.routing.csvio import COLUMNS, export_text, import_rules
from casework.routing.models import RoutingRule
from tests.web.test_cli import env_for
from web.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = FIXTURES / "routing_rules.csv"
CAAM = "中国汽车工业协会"
ADMIN = Actor.system("test")
RULE_COLUMNS = [c.name for c in RoutingRule.__table__.columns]


@pytest.fixture(autouse=True)
def restore_rules(db):
    """The rule table is shared by the whole run: put every rule back as it was, ids included."""
    with db.session_scope(write=False) as s:
        saved = [dict(row._mapping) for row in s.execute(RoutingRule.__table__.select())]
    yield
    with db.session_scope() as s:
        s.execute(delete(RoutingRule))
        if saved:
            s.execute(RoutingRule.__table__.insert(), saved)


def exported(db) -> str:
    with db.session_scope(write=False) as s:
        return export_text(s)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def run(settings, *args):
    return CliRunner().invoke(main, ["routing", *args], env=env_for(settings))


def test_export_then_import_round_trips(db):
    before = exported(db)
    assert before.splitlines()[0] == ",".join(COLUMNS)
    assert len(rows(before)) > 10
    with db.session_scope() as s:
        again = import_rules(s, ADMIN, before)
    assert again.ok and (again.created, again.updated) == (0, 0) and again.unchanged == len(rows(before))
    with db.session_scope() as s:
        replaced = import_rules(s, ADMIN, before.encode("utf-8-sig"), replace=True)
    assert replaced.ok and replaced.created == replaced.deleted == len(rows(before))
    assert exported(db) == before


def test_export_lists_rules_in_the_engines_order(db):
    complaint = [r for r in rows(exported(db)) if r["case_type"] == "complaint"]
    specific = [r["category"] != "*" for r in complaint]
    assert specific == sorted(specific, reverse=True)  # category rules before the catch-all
    catch_all = [int(r["priority"]) for r in complaint if r["category"] == "*"]
    assert catch_all == sorted(catch_all)


BAD = """case_type,category,association,target,priority,active,note
complaint,finance_assets,*,registration_authority,10,true,ok
complaint,no_such_category,*,registration_authority,10,true,bad category
report,*,*,the_moon,10,true,bad target
complaint,*,*,main_industry_department,10,true,ok
"""


def test_a_bad_file_reports_every_bad_line_and_changes_nothing(db):
    before = exported(db)
    with db.session_scope() as s:
        result = import_rules(s, ADMIN, BAD, replace=True)
        assert not s.new and not s.dirty and not s.deleted
    assert [(e.line, e.field) for e in result.errors] == [(3, "category"), (4, "target")]
    assert "no_such_category" in result.errors[0].reason
    assert exported(db) == before


def test_the_cli_reports_bad_lines_with_exit_code_1(settings, db, tmp_path):
    before = exported(db)
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    for args in (["import", str(path)], ["import", str(path), "--replace"]):
        result = run(settings, *args)
        assert result.exit_code == 1, result.output
        assert "line 3: category:" in result.output and "line 4: target:" in result.output
        assert "line 2" not in result.output and "nothing was imported" in result.output
    assert exported(db) == before


@pytest.mark.parametrize("body, line, reason", [
    ("mediation,illegal_fees,*,mediation_body,10,true,\n", 2, "not one of this case type's categories"),
    ("complaint,*,91110000000000000X,main_industry_department,10,true,\n", 2, "credit code"),
    ("complaint,*,*,main_industry_department,-1,true,\n", 2, "Priority"),
    ("complaint,*,*,main_industry_department,10,maybe,\n", 2, "true or false"),
    ("complaint,*,*,main_industry_department,10,true,\ncomplaint,*,*,main_industry_department,20,true,\n",
     3, "as line 2"),
])
def test_row_checks(db, body, line, reason):
    with db.session_scope() as s:
        result = import_rules(s, ADMIN, ",".join(COLUMNS) + "\n" + body)
    assert result.errors and result.errors[0].line == line and reason in result.errors[0].reason


def test_header_problems_are_reported(db):
    with db.session_scope() as s:
        result = import_rules(s, ADMIN, "case_type,category,target,priority,active,note,colour\n")
    assert {(e.line, e.field) for e in result.errors} == {(1, "association"), (1, "colour")}


def test_replace_makes_the_file_the_whole_rule_set(settings, db, file_case):
    with db.session_scope() as s:
        s.add(RoutingRule(case_type="suggestion", target="supervisory_unit", priority=3, note="not in the file"))
    result = run(settings, "import", str(GOOD), "--replace")
    assert result.exit_code == 0, result.output
    assert "32 new" in result.output and "deleted (replaced)" in result.output
    now = rows(exported(db))
    assert len(now) == 32 and not any(r["note"] == "not in the file" for r in now)
    with open(GOOD, encoding="utf-8") as fh:
        assert sorted(map(sorted_items, now)) == sorted(map(sorted_items, csv.DictReader(fh)))
    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == CAAM))
    receipt = file_case(association=caam)  # the file's override for 中国汽车工业协会
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).unit.code == "mca"


def sorted_items(row):
    return tuple(sorted(row.items()))


def test_without_replace_rows_are_upserted_and_other_rules_stay(settings, db, tmp_path):
    before = rows(exported(db))
    path = tmp_path / "one.csv"
    path.write_text(",".join(COLUMNS) + "\n"
                    "complaint,*,*,main_industry_department,15,true,moved\n"
                    "suggestion,policy,*,party_work_department,5,,new rule\n", encoding="utf-8")
    result = run(settings, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 new, 1 updated" in result.output
    after = rows(exported(db))
    assert len(after) == len(before) + 1
    moved = [r for r in after if r["note"] == "moved"]
    assert len(moved) == 1 and moved[0]["priority"] == "15"
    assert [r for r in after if r["note"] == "new rule"][0]["active"] == "true"  # blank = active


def test_replace_refuses_a_file_without_rules(settings, db, tmp_path):
    before = exported(db)
    path = tmp_path / "empty.csv"
    path.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    result = run(settings, "import", str(path), "--replace")
    assert result.exit_code == 1 and "no rules" in result.output
    assert exported(db) == before


def test_export_to_a_file_and_back(settings, db, tmp_path):
    path = tmp_path / "rules.csv"
    result = run(settings, "export", str(path))
    assert result.exit_code == 0 and "exported" in result.output
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheet programs read it as UTF-8
    assert path.read_text(encoding="utf-8-sig") == exported(db)
    assert run(settings, "import", str(path)).exit_code == 0
    to_stdout = run(settings, "export")
    assert to_stdout.exit_code == 0 and exported(db) in to_stdout.output


def test_explain_prints_the_rules_tried_and_why(settings, db, file_case):
    with db.session_scope() as s:
        caam = s.scalar(select(Association).where(Association.name == CAAM))
        s.add(RoutingRule(case_type="complaint", association_id=caam.id, target="mediation_body",
                          priority=1, note="misconfigured"))
        code = caam.credit_code
    receipt = file_case(association=code)
    result = run(settings, "explain", receipt.case_number)
    out = result.output
    assert result.exit_code == 0, out
    assert receipt.case_number in out and "routed: routed to miit" in out
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert "skipped: caam-mediation, unit belongs to the association" in lines[0]
    # a decoupled association has no business supervisory unit (未脱钩 ones go there first)
    assert "supervisory_unit" in lines[1] and "skipped: the association is decoupled" in lines[1]
    assert "CHOSEN: miit" in lines[2]
    assert "not reached" in lines[3]
    assert "decision: miit" in out
    assert "张三" not in out and "13800138000" not in out
    missing = run(settings, "explain", "TS00000000000000")
    assert missing.exit_code == 1
