"""Backup and restore through the `changtong backup` command, with a real database and real
files: a realistic instance is backed up, restored into a brand-new database and data
directory, and every row, file, search hit and query-code lookup is found again."""
from __future__ import annotations

import base64
import io
import json
import re
import secrets
import tarfile
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from casework.cases.numbers import CHINA
from casework.accounts.models import Role
from casework.audit.models import AuditEntry, AuditKind
from casework.backup import create_backup
from casework.backup.schema import EXCLUDED
from casework.cases.models import Attachment, Case, Channel, Event
from casework.context import Services
from casework.db import Database
from casework.mediation.models import MediationSession
from casework.notify.models import OutboxMessage
from casework.settings import Settings
from casework.workflow.machine import perform
from web.cli import main
from tests.conftest import BASIS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# a backup reads the database through a connection of its own: the instance is committed
pytestmark = pytest.mark.commits


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, format="PNG")
    return out.getvalue()


def env_for(settings: Settings, **changes) -> dict:
    env = {
        "DATABASE_URL": settings.database_url,
        "CHANGTONG_DATA_DIR": str(settings.data_dir),
        "CHANGTONG_SECRET_KEY": settings.secret_key,
        "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
        "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode(),
        "CHANGTONG_SEARCH_BACKEND": settings.search_backend,
    }
    env.update(changes)
    return env


def cli(settings: Settings, *args: str, **env):
    return CliRunner().invoke(main, ["backup", *args], env=env_for(settings, **env))


# -- a new, empty instance ----------------------------------------------------------------------

@pytest.fixture
def fresh(database_url, settings, tmp_path):
    """fresh(kind) -> Settings of a brand-new instance with this instance's keys: a new SQLite
    file, or on the PostgreSQL run (kind "same") a new database created on the same server;
    and a new data directory."""
    created: list[str] = []
    server = None if database_url.startswith("sqlite") else sa.engine.make_url(database_url)

    def make(kind: str = "same") -> Settings:
        data_dir = tmp_path / f"restored-{secrets.token_hex(3)}"
        if kind == "sqlite" or server is None:
            url = f"sqlite:///{data_dir / 'changtong.db'}"
        else:
            name = f"{server.database}_restore_{secrets.token_hex(4)}"
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            created.append(name)
            url = server.set(database=name).render_as_string(hide_password=False)
        # on PostgreSQL the restored instance searches with the postgres backend, on SQLite with Whoosh
        search = "whoosh" if url.startswith("sqlite") else "postgres"
        return Settings.from_env(env_for(settings, DATABASE_URL=url, CHANGTONG_DATA_DIR=str(data_dir),
                                         CHANGTONG_SEARCH_BACKEND=search), testing=True)

    yield make
    if created:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- a realistic instance ----------------------------------------------------------------------

def file_with_files(db, services, submission_data, files: list[bytes], **changes):
    from casework.intake.files import inspect_upload
    from casework.intake.operations import stage_file, submit_case
    from casework.intake.validation import validate_submission

    token = secrets.token_hex(16)
    with db.session_scope() as s:
        for n, data in enumerate(files):
            stage_file(s, services, token, inspect_upload(f"photo-{n}.png", data, max_bytes=1 << 20))
    with db.session_scope() as s:
        sub, errors = validate_submission(s, submission_data(**changes))
        assert not errors, errors
        return submit_case(s, services, sub, channel=Channel.web, idempotency_key=token, staging_token=token)


@pytest.fixture
def instance(db, services, submission_data, file_case, mediation, make_staff, act):
    """Complaints (with attachments, replies, a staff file), an anonymous report, a mediation
    with sessions and an agreement file, a staged upload not yet filed, an erased attachment,
    audit entries and outbox notices. Returns what the test needs to find again."""
    from casework.accounts.operations import create_staff_user
    from casework.audit.operations import cli_actor
    from casework.intake.files import inspect_upload
    from casework.intake.operations import stage_file
    from casework.registry.models import Unit

    complaints = [file_with_files(db, services, submission_data, [png((10 * n, 80, 160)), png((200, 10 * n, 0))],
                                  title=f"强制{trade}企业入会并收取会费") for n, trade in enumerate(("钢铁", "纺织", "化工"))]
    plain = file_case(title="协会违规收取评比费用", description="协会以评比为名收取费用五千元，否则不予推荐。")
    report = file_case(type="report", anonymous=True, category="illegal_fees", complainant={"name": "王五"},
                       title="匿名举报协会乱收费", description="某协会以年检为名收取企业费用。")
    act(complaints[0].case_id, "accept")
    act(complaints[0].case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已停止强制入会做法并退还会费。", finding="substantiated")
    act(complaints[1].case_id, "not_accept", reason="no_clear_request", public_text="投诉事项不明确，请补充具体事实。")
    act(report.case_id, "accept")
    # a file staff attached to the reply of complaint 0
    with db.session_scope() as s:
        staged = stage_file(s, services, "staff-upload", inspect_upload("答复函.png", png((1, 2, 3)), max_bytes=1 << 20))
        reply = s.scalar(select(Event).where(Event.case_id == complaints[0].case_id).order_by(Event.id.desc()))
        staged.case_id, staged.staging_token, staged.from_staff, staged.event_id = reply.case_id, None, True, reply.id
    # a mediation: accepted, consent, a session scheduled and logged, an agreement document
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    med_id = mediation.case_id
    for move, fields in (("accept_mediation", {}), ("record_consent", {"public_text": "被申请人电话表示同意。"}),
                         ("schedule_session", {"scheduled_at": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M"), "place": "协会三楼会议室"})):
        with db.session_scope() as s:
            perform(s, services, coordinator, s.get(Case, med_id), move, **fields)
    with db.session_scope() as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == med_id))
        perform(s, services, coordinator, s.get(Case, med_id), "log_session", session_id=session_id,
                attendees="申请人、被申请人、调解员", summary="双方就付款期限交换意见。", internal_text="被申请人资金紧张")
        key = services.files.new_key()  # as store_agreement does (the PDF itself needs Pango)
        services.files.put(key, "orig", b"%PDF-1.7 agreement")
        s.get(Case, med_id).mediation.agreement_key = key
    # an upload still waiting for its form, and an attachment whose file retention erased
    with db.session_scope() as s:
        stage_file(s, services, "form-in-progress", inspect_upload("x.png", png((9, 9, 9)), max_bytes=1 << 20))
        erased = s.scalar(select(Attachment).where(Attachment.case_id == complaints[2].case_id).order_by(Attachment.id))
        services.files.delete(erased.storage_key)
        erased.erased_at, erased.filename = services.clock(), "(erased)"
    with db.session_scope() as s:  # an audit entry
        create_staff_user(s, cli_actor("ops"), f"backup-{secrets.token_hex(3)}", "值班员", "correct horse battery",
                          s.scalar(select(Unit).where(Unit.code == "miit")), [Role.handler])
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) > 0
    return {"complaints": complaints, "plain": plain, "report": report, "mediation": med_id}


def holds_no_key_and_no_plain_personal_data(settings, archive):
    """The files are copied as stored (encrypted), the phone numbers are ciphertext, and no
    setting of the instance is in it."""
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        blob = b"".join(tar.extractfile(m).read() for m in tar.getmembers())
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json" and "uploads.jsonl" in names
    assert "13800138000".encode() not in blob and "张三".encode() not in blob
    for secret in (settings.pii_keys[0], settings.query_pepper):
        assert base64.urlsafe_b64encode(secret) not in blob and secret not in blob
    # no upload or written notice is in the clear: a PNG's signature and header chunk, a PDF's first
    # line (long enough that random ciphertext never holds them: "\x89PNG" alone once did, by chance)
    assert b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" not in blob and b"%PDF-1.7\n%" not in blob
    assert manifest["keys_not_included"] == ["CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER"]
    assert "staff_session" in manifest["excluded_tables"]


# -- comparing two databases -------------------------------------------------------------------

def _norm(value):
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table a backup holds, normalised across SQLite and PostgreSQL."""
    engine = Database(url).engine
    meta = sa.MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for table in sorted(meta.tables.values(), key=lambda t: t.name):
            if table.name in EXCLUDED:
                continue
            cols = sorted(table.c, key=lambda c: c.name)
            query = select(*cols).order_by(*table.primary_key.columns)
            if table.name == "audit_entry":  # the backup's and the restore's own entries: checked apart
                query = query.where(table.c.kind != "backup")
            rows = conn.execute(query).all()
            out[table.name] = [tuple(_norm(v) for v in row) for row in rows]
    engine.dispose()
    return out


def test_restore_into_an_empty_instance_finds_every_case_file_and_event(db, settings, services, instance, fresh,
                                                                       tmp_path):
    archive = tmp_path / "nightly.tar.gz"
    made = cli(settings, "create", str(archive))
    assert made.exit_code == 0, made.output
    assert "Backup written" in made.output and "CHANGTONG_PII_KEY" in made.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    checked = cli(settings, "verify", str(archive))
    assert checked.exit_code == 0 and "is intact" in checked.output, checked.output
    holds_no_key_and_no_plain_personal_data(settings, archive)

    kinds = ["same"] + (["sqlite"] if not settings.database_url.startswith("sqlite") else [])
    before = table_rows(settings.database_url)
    assert before["case"] and before["event"] and before["attachment"] and before["mediation_session"]
    for kind in kinds:  # the configured database, and on the PostgreSQL run also PostgreSQL -> SQLite
        target = fresh(kind)
        done = cli(target, "restore", str(archive))
        assert done.exit_code == 0, done.output
        assert f"Restored {len(before['case'])} cases" in done.output
        assert table_rows(target.database_url) == before  # every row of every table, ids included
        assert backup_entries(target.database_url) == [("imported", archive.name, len(before["case"]))]
        check_restored_instance(db, services, target, instance)
    # the instance backed up records who took the copy (the archive does not hold that entry)
    assert backup_entries(settings.database_url) == [("created", archive.name, len(before["case"]))]


def backup_entries(url: str) -> list[tuple]:
    database = Database(url)
    try:
        with database.session_scope(write=False) as s:
            return [(e.action.value, e.object_id, e.after["cases"]) for e in s.scalars(
                select(AuditEntry).where(AuditEntry.kind == AuditKind.backup).order_by(AuditEntry.id))]
    finally:
        database.dispose()


def check_restored_instance(db, services, target: Settings, instance):
    from casework.search import make_backend
    from casework.search.backend import SearchQuery
    from web.app import create_app

    restored_db = Database(target.database_url)
    restored = Services.from_settings(target)
    try:
        with db.session_scope(write=False) as s, restored_db.session_scope(write=False) as r:
            for case in s.scalars(select(Case).order_by(Case.id)):
                again = r.get(Case, case.id)
                assert (again.number, again.state, again.stage, again.due_at, again.anonymous) == \
                       (case.number, case.state, case.stage, case.due_at, case.anonymous)
                assert [e.kind for e in again.events] == [e.kind for e in case.events]
            live = list(s.scalars(select(Attachment).where(Attachment.erased_at.is_(None))))
            assert len(live) == 3 * 2 - 1 + 1 + 1  # six filed, one erased, staff file, staged file
            for att in live:
                for variant in ("orig", "staff"):  # the same bytes through FileStore and the same keys
                    assert restored.files.get(att.storage_key, variant) == services.files.get(att.storage_key, variant)
            agreement = s.get(Case, instance["mediation"]).mediation.agreement_key
            assert restored.files.get(agreement, "orig") == b"%PDF-1.7 agreement"
            # the written notices (受理告知书, 信访处理意见书, …): a backup once left their PDFs out
            from casework.documents.models import CaseDocument
            docs = list(s.scalars(select(CaseDocument).where(CaseDocument.storage_key.is_not(None))))
            assert len(docs) >= 3, docs  # accept and reply of complaint 0, not_accept of complaint 1, …
            for doc in docs:
                assert restored.files.get(doc.storage_key, "orig") == services.files.get(doc.storage_key, "orig")
            assert r.scalar(select(func.count()).select_from(Attachment).where(Attachment.erased_at.is_not(None))) == 1
        # new rows get new ids after a restore (PostgreSQL sequences moved past the highest id)
        receipt = file_after_restore(restored_db, restored)
        assert receipt.case_id > max(c.case_id for c in instance["complaints"])
        # search finds a restored case
        number = instance["complaints"][1].case_number
        hits = make_backend(target, restored_db).search(SearchQuery(text="纺织", unit_ids=None, include_triage=True))
        assert number in [h.number for h in hits.hits]
        # a complainant still follows a case with the query code given at filing
        app = create_app(target, services=restored, database=restored_db)
        client = app.test_client()
        plain = instance["plain"]
        csrf = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
        resp = client.post("/track", data={"csrf_token": csrf, "number": plain.case_number, "code": plain.query_code})
        assert resp.status_code == 303
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert plain.case_number in page and "协会违规收取评比费用" in page
    finally:
        restored_db.dispose()


def file_after_restore(database, services):
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission

    data = {"type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
            "title": "恢复后的新投诉", "description": "恢复之后提交的投诉，编号和序号都应是新的。",
            "complainant": {"name": "李四", "phone": "13700137000"}, "privacy_consent": True}
    with database.session_scope() as s:
        sub, errors = validate_submission(s, data)
        assert not errors
        return submit_case(s, services, sub, channel=Channel.api)


def copy_tables(from_url: str, to_url: str, names) -> None:
    """Rows of these tables into another schema of the same tables, column by column where the
    other has the column, rows it refuses left out (plain engines: no foreign keys enforced)."""
    source, target = sa.create_engine(from_url), sa.create_engine(to_url)
    meta_from, meta_to = sa.MetaData(), sa.MetaData()
    meta_from.reflect(source, only=names)
    meta_to.reflect(target, only=names)
    with source.connect() as read, target.begin() as write:
        for name in names:
            keep = [c.name for c in meta_to.tables[name].columns if c.name in meta_from.tables[name].columns]
            for row in read.execute(sa.select(*(meta_from.tables[name].c[k] for k in keep))):
                try:  # a row the old schema refuses (a unit kind it did not know yet) stays behind
                    with write.begin_nested():
                        write.execute(meta_to.tables[name].insert(), dict(row._mapping))
                except sa.exc.IntegrityError:
                    continue
    source.dispose()
    target.dispose()


def test_a_backup_from_an_older_schema_restores_and_migrates_to_head(fresh, tmp_path):
    """A backup taken before `changtong db upgrade` (the database revisions behind the code),
    restored into a new instance (on the PostgreSQL run: SQLite into PostgreSQL): loaded at its
    own revision, then migrated to head."""
    from alembic.script import ScriptDirectory

    from casework import migrate
    from casework.registry.demo import load_demo
    from casework.registry.models import Association, Unit

    old = fresh("sqlite")
    old.data_dir.mkdir()
    script = ScriptDirectory.from_config(migrate.alembic_config(old.database_url))
    head = script.get_current_head()
    previous = "0013"  # before 0014, which added the audit kind of backups: several revisions behind
    assert previous != head and script.get_revision(previous) is not None
    migrate.upgrade(old.database_url, previous)
    # the demo registry as today's code writes it, copied into the old schema (the columns it had)
    today = fresh("sqlite")
    today.data_dir.mkdir()
    migrate.upgrade(today.database_url)
    with Database(today.database_url).session_scope() as s:
        load_demo(s)
    copy_tables(today.database_url, old.database_url, ("unit", "association"))
    source = Database(old.database_url)
    archive = tmp_path / "before-upgrade.tar.gz"
    made = cli(old, "create", str(archive))
    assert made.exit_code == 0  # taken before the upgrade: the backup stands, the audit entry cannot be written yet
    assert "not recorded in the audit log" in made.output
    with tarfile.open(archive, "r:gz") as tar:
        assert json.loads(tar.extractfile("manifest.json").read())["alembic_revision"] == previous
    target = fresh()
    result = cli(target, "restore", "--no-reindex", str(archive))
    assert result.exit_code == 0, result.output
    assert f"schema revision {head}" in result.output
    restored = Database(target.database_url)

    def registry(database):
        with database.session_scope(write=False) as s:
            return sorted(s.scalars(select(Unit.code))), sorted(s.scalars(select(Association.credit_code)))

    assert registry(restored) == registry(source) and registry(restored)[1]
    source.dispose()
    restored.dispose()


# -- refusals ------------------------------------------------------------------------------------

@pytest.fixture
def small(db, services, submission_data, file_case):
    """Two complaints, one with two files."""
    return [file_with_files(db, services, submission_data, [png((1, 2, 3)), png((4, 5, 6))]), file_case()]


@pytest.fixture
def archive(settings, small, tmp_path) -> Path:
    path = tmp_path / "backup.tar.gz"
    assert cli(settings, "create", str(path)).exit_code == 0
    return path


def case_count(url: str) -> int | None:
    engine = Database(url).engine
    try:
        with engine.connect() as conn:
            if "case" not in sa.inspect(conn).get_table_names():
                return None
            return conn.scalar(sa.text('SELECT count(*) FROM "case"'))
    finally:
        engine.dispose()


def test_restore_into_a_database_with_cases_is_refused_and_changes_nothing(settings, archive):
    before = table_rows(settings.database_url)
    files_before = sorted(p for p in settings.upload_dir.rglob("*"))
    result = cli(settings, "restore", str(archive))
    assert result.exit_code == 1
    assert "not empty" in result.output and "nothing was changed" in result.output
    assert table_rows(settings.database_url) == before
    assert sorted(p for p in settings.upload_dir.rglob("*")) == files_before


def test_a_damaged_archive_is_refused_by_verify_and_restore(settings, archive, fresh, tmp_path):
    original = archive.read_bytes()
    # one flipped bit: in the middle of the compressed stream, near its end (where only the tar's
    # zero padding is: every checksum of the content still matches) and in the gzip trailer
    for at in (len(original) // 2, len(original) - 12, len(original) - 6, len(original) - 2):
        data = bytearray(original)
        data[at] ^= 0x40
        flipped = tmp_path / "flipped.tar.gz"
        flipped.write_bytes(bytes(data))
        result = cli(settings, "verify", str(flipped))
        assert result.exit_code == 1 and "damaged" in result.output, (at, len(original), result.output)

    # an intact gzip stream whose upload file had a byte changed: only the sha256 can tell
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(tampered, "w:gz") as out:
        changed = None
        for member in src:
            body = src.extractfile(member).read()
            if changed is None and member.name.startswith("uploads/"):
                body, changed = body[:-1] + bytes([body[-1] ^ 1]), member.name
            out.addfile(member, io.BytesIO(body))
    result = cli(settings, "verify", str(tampered))
    assert result.exit_code == 1 and f"{changed} does not match its checksum" in result.output

    for bad in (flipped, tampered):
        target = fresh()
        result = cli(target, "restore", str(bad))
        assert result.exit_code == 1 and "damaged" in result.output, result.output
        assert not case_count(target.database_url)  # no case was restored
        assert not any(p.is_file() for p in target.upload_dir.rglob("*.orig"))


def test_a_restore_with_other_keys_is_refused(settings, archive, fresh):
    from casework.settings import new_key

    target = fresh()
    result = cli(target, "restore", str(archive), CHANGTONG_PII_KEY=new_key())
    assert result.exit_code == 1
    assert "keys of this instance do not open" in result.output
    assert not case_count(target.database_url)


def test_a_file_missing_on_disk_fails_the_backup_without_an_archive(db, settings, services, small, tmp_path):
    with db.session_scope(write=False) as s:
        key = s.scalar(select(Attachment.storage_key).where(Attachment.erased_at.is_(None)).limit(1))
    path = services.files._path(key, "staff")
    saved = path.read_bytes()
    path.unlink()
    try:
        target = tmp_path / "incomplete.tar.gz"
        result = cli(settings, "create", str(target))
        assert result.exit_code == 1
        assert "missing on disk" in result.output and key in result.output
        assert list(tmp_path.iterdir()) == []  # neither the archive nor a partial one nor the spool
    finally:
        path.write_bytes(saved)


def test_an_existing_file_is_never_overwritten(settings, archive):
    before = archive.read_bytes()
    result = cli(settings, "create", str(archive))
    assert result.exit_code == 1 and "exists already" in result.output
    assert archive.read_bytes() == before


# -- consistency under load ---------------------------------------------------------

def test_a_backup_taken_while_cases_are_filed_is_self_consistent(db, settings, services, submission_data, tmp_path):
    """PostgreSQL reads in one REPEATABLE READ snapshot, SQLite in one read transaction (WAL):
    cases committed while the tables are read are wholly in the archive or wholly out."""
    stop = threading.Event()
    filed = []

    def filer():
        while not stop.is_set():
            filed.append(file_with_files(db, services, submission_data, [png((len(filed) % 255, 0, 0))]))

    def slowly(_table_done: str) -> None:  # cases keep committing between the tables being read
        stop.wait(0.05)

    worker = threading.Thread(target=filer)
    worker.start()
    try:
        while len(filed) < 3:
            stop.wait(0.05)
        archive = tmp_path / "busy.tar.gz"
        before = len(filed)
        create_backup(db.engine, settings.upload_dir, archive, progress=slowly)
        after = len(filed)
    finally:
        stop.set()
        worker.join()
    assert after > before  # filing went on while the backup ran
    assert cli(settings, "verify", str(archive)).exit_code == 0
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        tables = {t["name"]: t for t in manifest["tables"]}

        def rows(name):
            t = tables[name]
            cols = [c for c, _ in t["columns"]]
            return [dict(zip(cols, json.loads(line))) for line in tar.extractfile(t["member"])]

        cases = {r["id"] for r in rows("case")}
        events = rows("event")
        attachments = rows("attachment")
        files = {json.loads(line)["member"] for line in tar.extractfile("uploads.jsonl")}
    assert 3 <= len(cases) <= len(filed)
    assert {e["case_id"] for e in events} == cases  # each case with its events, no event without its case
    assert {a["case_id"] for a in attachments} - {None} == cases  # (None: a file staged, its case not yet filed)
    for a in attachments:  # every attachment row of the snapshot has both its files
        key = a["storage_key"]
        assert {f"uploads/{key[:2]}/{key}.orig", f"uploads/{key[:2]}/{key}.staff"} <= files
    assert len(files) == 2 * len(attachments)
