"""Every migration runs up and down, and the head matches the models exactly."""
import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from casework import migrate
from casework.db import Base, make_engine


def _fresh_url(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    # a separate schema on the same server, so the suite's own database is untouched; one for
    # each xdist worker, so that two of these tests never migrate the same schema at once
    schema = "migration_check_" + os.environ.get("PYTEST_XDIST_WORKER", "main")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def test_migrations_up_down_and_head_matches_models(tmp_path):
    url = _fresh_url(tmp_path)
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = [r.revision for r in script.walk_revisions("base", "heads")][::-1]
    assert revisions, "no migrations"
    for rev in revisions:  # one step at a time, up then down then up
        migrate.upgrade(url, rev)
        migrate.downgrade(url, "-1")
        migrate.upgrade(url, rev)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        # Alembic does not compare CHECK constraints: compare their names here
        insp = inspect(conn)
        for table in Base.metadata.sorted_tables:
            in_db = {c["name"] for c in insp.get_check_constraints(table.name)}
            in_models = {c.name for c in table.constraints
                         if c.__class__.__name__ == "CheckConstraint"}
            assert in_db == in_models, (table.name, in_db ^ in_models)
    migrate.downgrade(url, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_migrations_keep_cases_and_their_events(tmp_path, settings, services, submission_data):
    """Down and up again with a case and its timeline in the database: SQLite rebuilds tables
    to alter them, which must not trip over the rows that refer to them."""
    from casework.cases.models import Channel
    from casework.db import Database
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.registry.demo import load_demo

    url = _fresh_url(tmp_path)
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
    with db.session_scope() as s:
        sub, errors = validate_submission(s, submission_data())
        assert not errors
        number = submit_case(s, services, sub, channel=Channel.web).case_number
    db.dispose()
    migrate.downgrade(url, "0002")
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        case_id = conn.execute(text('SELECT id FROM "case" WHERE number = :n'), {"n": number}).scalar()
        assert case_id is not None
        assert conn.execute(text("SELECT count(*) FROM event WHERE case_id = :c"), {"c": case_id}).scalar() >= 1
    migrate.downgrade(url, "base")
    engine.dispose()


def test_the_mediation_limit_moves_to_the_2026_measures_unless_an_administrator_changed_it(tmp_path):
    """市场监督管理投诉举报处理办法 (2026, in force 2026-04-15) 第二十三条第一款第五项: mediation ends
    without agreement 60 days after acceptance; the 暂行办法 it repealed gave 45 working days.
    Migration 0037 moves a platform still on the old default, and leaves a limit an
    administrator set (here 30 working days) as it is."""
    url = _fresh_url(tmp_path)
    migrate.upgrade(url, "0036")
    engine = make_engine(url)
    select_limit = text("SELECT amount, working_days FROM time_limit WHERE stage = 'mediation' AND case_type IS NULL")
    for before, after in (((45, True), (60, False)), ((30, True), (30, True))):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM time_limit"))
            conn.execute(text("INSERT INTO time_limit (case_type, stage, amount, working_days, note) "
                              "VALUES (NULL, 'mediation', :a, :w, 'statutory default')"),
                         {"a": before[0], "w": before[1]})
        migrate.upgrade(url, "0037")
        with engine.connect() as conn:
            amount, working = conn.execute(select_limit).one()
        assert (amount, bool(working)) == after
        migrate.downgrade(url, "0036")
        with engine.connect() as conn:
            amount, working = conn.execute(select_limit).one()
        assert (amount, bool(working)) == before
    engine.dispose()
    migrate.downgrade(url, "base")


def test_a_notice_issued_before_0040_still_waits_for_its_report(tmp_path, settings, services, submission_data):
    """Migration 0040 gives each case the date its open 督办单 asks a report by, from the events: a
    notice answered by a report leaves none, one not answered keeps its date."""
    from datetime import datetime, timedelta, timezone

    from casework.accounts.models import Role
    from casework.accounts.operations import create_user
    from casework.cases.models import Case, Channel
    from casework.cases.numbers import CHINA
    from casework.db import Database
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.accounts.actor import Actor
    from casework.registry.demo import load_demo
    from casework.workflow.machine import perform

    url = _fresh_url(tmp_path)
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
    respond_by = (datetime.now(timezone.utc).astimezone(CHINA).date() + timedelta(days=9)).isoformat()
    numbers = []
    with db.session_scope() as s:
        mca = s.scalar(select_unit("mca"))
        supervisor = Actor.staff(create_user(s, "sup-0040", "督办人员", "password-0040-long", unit=mca, role=Role.supervisor))
        for reported in (False, True):
            sub, errors = validate_submission(s, submission_data())
            assert not errors
            case = s.get(Case, submit_case(s, services, sub, channel=Channel.web).case_id)
            perform(s, services, supervisor, case, "issue_supervision", respond_by=respond_by,
                    internal_text="请于期限前报告办理情况。")
            if reported:
                handler = Actor.staff(create_user(s, "h-0040", "承办人", "password-0040-long",
                                                  unit=case.unit, role=Role.handler))
                perform(s, services, handler, case, "report_supervision", internal_text="已核实并整改。")
            numbers.append(case.number)
    db.dispose()
    engine = make_engine(url)
    due = text('SELECT notice_report_due FROM "case" WHERE number = :n')
    with engine.connect() as conn:
        assert [str(conn.execute(due, {"n": n}).scalar()) for n in numbers] == [respond_by, "None"]
    migrate.downgrade(url, "0039")
    migrate.upgrade(url, "0040")
    with engine.connect() as conn:
        assert [str(conn.execute(due, {"n": n}).scalar()) for n in numbers] == [respond_by, "None"]
    engine.dispose()  # (not down to base: the early schemas do not know these events' kinds)


def test_0042_has_the_next_refresh_recompute_every_month_of_the_rollups(tmp_path, settings, services, submission_data):
    """Migration 0042 (each figure counted against the unit whose work it is): the rollups made
    before it are made again, every month, by the worker's next refresh."""
    from datetime import datetime, timedelta, timezone

    from casework.cases.models import Channel
    from casework.db import Database
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.registry.demo import load_demo
    from casework.stats.rollup import month_of, refresh

    url = _fresh_url(tmp_path)
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
        sub, errors = validate_submission(s, submission_data())
        assert not errors
        submit_case(s, services, sub, channel=Channel.web)
        filed = month_of(services.clock())
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    assert refresh(db, lambda: later) == [filed]
    assert refresh(db, lambda: later) == []  # nothing changed since
    migrate.downgrade(url, "0041")
    migrate.upgrade(url, "0042")
    assert refresh(db, lambda: later) == [filed]
    db.dispose()


def select_unit(code):
    from sqlalchemy import select

    from casework.registry.models import Unit

    return select(Unit).where(Unit.code == code)


def test_0043_keeps_a_reporters_earlier_files_by_their_place_not_their_names(tmp_path, services, submission_data):
    """Migration 0043: a report's files sent before it had the names they came with, which can
    name the reporter (王小明_付款记录.jpg); they are renamed 附件1, 附件2, … in the order they
    came. A complaint's files and the staff's keep their names; an erased file's stays blank."""
    from casework.cases.models import Attachment, Case, Channel
    from casework.db import Database
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.registry.demo import load_demo

    url = _fresh_url(tmp_path)
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
        ids = {}
        for kind in ("report", "complaint"):
            data = (submission_data(type="report", anonymous=True, category="illegal_fees", complainant=None)
                    if kind == "report" else submission_data())
            sub, errors = validate_submission(s, data)
            assert not errors, errors
            ids[kind] = submit_case(s, services, sub, channel=Channel.web).case_id
        now = services.clock()
        for i, (kind, name, staff, ct) in enumerate([
                ("report", "王小明_付款记录.jpg", False, "image/jpeg"), ("report", "经办人核查.pdf", True, "application/pdf"),
                ("report", "王小明_收据.pdf", False, "application/pdf"), ("complaint", "张三_发票.png", False, "image/png")]):
            s.add(Attachment(case_id=ids[kind], from_staff=staff, filename=name, content_type=ct, size=1,
                             sha256="0" * 64, storage_key=f"k{i}", uploaded_at=now))
    migrate.downgrade(url, "0042")
    migrate.upgrade(url, "0043")
    with db.engine.connect() as conn:
        names = [tuple(r) for r in conn.execute(text("SELECT case_id, filename FROM attachment ORDER BY id"))]
    assert names == [(ids["report"], "附件1.jpg"), (ids["report"], "经办人核查.pdf"), (ids["report"], "附件2.pdf"),
                     (ids["complaint"], "张三_发票.png")]
    db.dispose()


def test_0045_takes_the_audit_entry_of_a_key_rotation_and_its_downgrade_removes_it(tmp_path):
    """Migration 0045: `changtong keys rotate` records an audit entry of kind 'keys' (counts only);
    0044's check constraint refused it, and the downgrade removes such entries before it comes back."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    url = _fresh_url(tmp_path)
    insert = text("INSERT INTO audit_entry (at, actor_kind, actor_name, kind, action, object_id) "
                  "VALUES (CURRENT_TIMESTAMP, 'cli', 'ops', 'keys', 'updated', 'rotate')")
    migrate.upgrade(url, "0044")
    engine = make_engine(url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert)
    migrate.upgrade(url, "0045")
    with engine.begin() as conn:
        conn.execute(insert)
    migrate.downgrade(url, "0044")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM audit_entry")) == 0
    engine.dispose()


def test_0046_gives_the_associations_saved_before_it_their_english_abbreviation(tmp_path):
    """Migration 0046: "caam" found nothing, as an association saved before it had only the pinyin
    initials of its names among its lookup terms; it gains the initials of its English name's words
    (China Association of Automobile Manufacturers: caam), and the staff API's key table."""
    from casework.db import Database
    from casework.registry.demo import load_demo
    from casework.registry.lookup import search_associations

    url = _fresh_url(tmp_path)
    migrate.upgrade(url)
    db = Database(url)
    with db.session_scope() as s:
        load_demo(s)
    migrate.downgrade(url, "0045")
    with db.engine.begin() as conn:  # as an earlier version saved them: the pinyin terms only
        conn.execute(text("UPDATE association SET pinyin_initials = 'zgqcgyxh zqx' WHERE name = '中国汽车工业协会'"))
    migrate.upgrade(url, "0046")
    with db.engine.connect() as conn:
        terms = conn.scalar(text("SELECT pinyin_initials FROM association WHERE name = '中国汽车工业协会'"))
        assert terms == "zgqcgyxh zqx caam caoam"
        assert "staff_request_key" in inspect(conn).get_table_names()
    with db.session_scope(write=False) as s:
        assert [a.name for a in search_associations(s, "caam")] == ["中国汽车工业协会"]
    db.dispose()


def test_0047_adds_the_filing_forms_draft_table_and_its_downgrade_removes_it(tmp_path):
    """Migration 0047: intake_draft keeps a filing form's encrypted draft while its SMS code is on
    its way (casework.intake.drafts); the downgrade drops it."""
    url = _fresh_url(tmp_path)
    migrate.upgrade(url, "0047")
    engine = make_engine(url)
    with engine.connect() as conn:
        insp = inspect(conn)
        assert "intake_draft" in insp.get_table_names()
        assert {c["name"] for c in insp.get_columns("intake_draft")} == {"token", "draft_enc", "expires_at"}
        assert [i["column_names"] for i in insp.get_indexes("intake_draft")] == [["expires_at"]]
    migrate.downgrade(url, "0046")
    with engine.connect() as conn:
        assert "intake_draft" not in inspect(conn).get_table_names()
    engine.dispose()
