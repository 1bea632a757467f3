"""`changtong backup restore`: an archive into a new, empty instance.

1. The database must be empty: no tables at all, or migrated with every table empty.
   Anything else is refused before a single change.
2. The schema is brought to the archive's Alembic revision.
3. In one transaction: the rows are loaded table by table, parents first, in batches (COPY
   on PostgreSQL; a foreign key that closes a cycle is set once every table is in); each
   upload file is written into a staging directory, checked against its sha256, and moved
   into place once the whole archive has matched; PostgreSQL sequences are moved past the
   highest id. Any mismatch, or keys that do not open the archive's data, rolls the whole
   transaction back and leaves no file behind.
4. The migrations run on to head, and the search index is rebuilt from the restored cases.

The archive is portable: a SQLite backup restores into PostgreSQL and the other way round.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from casework import migrate
from casework.backup.archive import ArchiveReader, parse_upload_member, sha256_file, upload_path
from casework.backup.errors import BackupError
from casework.backup.schema import decoder, plan, reflect
from casework.privacy.crypto import DecryptionError

BATCH = 5000


@dataclass
class RestoreResult:
    manifest: dict
    rows: int
    cases: int
    files: int
    files_present: int  # already in the upload directory with the same content
    indexed: int | None
    revision: str  # the revision the database is at now


def database_state(conn: sa.Connection) -> str | None:
    """The revision of an empty database (None when it has no schema yet); BackupError
    when it is not empty."""
    names = set(sa.inspect(conn).get_table_names())
    if not names:
        return None
    if "alembic_version" not in names:
        raise BackupError("the database has tables but no Changtong schema revision; a backup is restored "
                          "only into a new, empty database (nothing was changed)")
    full = [n for n in sorted(names - {"alembic_version"})
            if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(n)).limit(1)).first() is not None]
    if full:
        shown = ", ".join(full[:6]) + (", ..." if len(full) > 6 else "")
        raise BackupError(f"the database is not empty (rows in {shown}); a backup is restored only into a new, "
                          "empty database (nothing was changed)")
    revisions = list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    return revisions[0] if revisions else None


def _migrate_to(url: str, current: str | None, wanted: str) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    try:
        script.get_revision(wanted)
    except Exception:
        raise BackupError(f"the backup was made at schema revision {wanted!r}, which this version of Changtong "
                          "does not know; restore it with the version that made it, or a newer one") from None

    def descends(rev: str, ancestor: str) -> bool:
        return any(r.revision == ancestor for r in script.iterate_revisions(rev, "base"))

    if current == wanted:
        return
    if current is None or descends(wanted, current):
        migrate.upgrade(url, wanted)
    elif descends(current, wanted):
        migrate.downgrade(url, wanted)
    else:
        raise BackupError(f"the database is at revision {current}, on another branch than the backup's {wanted}")


class _KeyCheck:
    """The first encrypted value of each kind is opened with this instance's keys before
    anything commits: a restore with the wrong keys would give an unreadable instance."""

    MESSAGE = ("the keys of this instance do not open the backup's {what}: set CHANGTONG_PII_KEY (and "
               "CHANGTONG_IDENTITY_KEY) to those of the instance the backup was made from; the backup does not "
               "hold them (nothing was restored)")

    def __init__(self, services):
        self.services = services
        self.case_done = self.file_done = services is None

    def case_row(self, row: dict) -> None:
        if self.case_done or not row.get("complainant_name_enc"):
            return
        self.case_done = True
        try:  # a report's identity is under CHANGTONG_IDENTITY_KEY, the rest under the PII key
            self.services.party_cipher(row.get("type")).decrypt(row["complainant_name_enc"], "case.complainant.name")
        except DecryptionError:
            raise BackupError(self.MESSAGE.format(what="personal data")) from None

    def file(self, key: str, variant: str, path: Path) -> None:
        if self.file_done:
            return
        self.file_done = True
        try:
            self.services.cipher.decrypt(path.read_bytes(), f"file:{key}.{variant}")
        except DecryptionError:
            raise BackupError(self.MESSAGE.format(what="files")) from None


def restore_backup(db, settings, archive: Path, *, services=None,
                   progress: Callable[[str], None] | None = None, reindex: bool = True) -> RestoreResult:
    """Restore ``archive`` into the (empty) database ``db`` and ``settings.upload_dir``.
    ``services`` (this instance's keys) lets the restore check that they open the data."""
    say = progress or (lambda _msg: None)
    url = db.url
    with open(archive, "rb") as fh:
        reader = ArchiveReader(fh)
        manifest = reader.manifest
        wanted = manifest["alembic_revision"]
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)  # (where SQLite's file goes by default)
        try:
            with db.engine.connect() as conn:
                current = database_state(conn)
                conn.rollback()
        except sa.exc.OperationalError as exc:
            raise BackupError(f"cannot reach the database ({type(exc.orig).__name__}); check DATABASE_URL "
                              "and that the database exists") from None
        _migrate_to(url, current, wanted)
        upload_dir = Path(settings.upload_dir)
        upload_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=upload_dir))
        check = _KeyCheck(services)
        counts = {"rows": 0, "files": 0, "present": 0}
        conn = db.engine.connect()
        if db.is_sqlite:
            conn = conn.execution_options(sqlite_immediate=True)  # the write lock from the start
        try:
            with conn.begin():
                database_state(conn)  # still empty, now under the write transaction
                plans = {p.name: p for p in plan(reflect(conn))}
                late: list[tuple] = []
                for kind, info, payload in reader.items():
                    if kind == "table":
                        try:
                            n = _load_table(conn, plans, info, payload, late, check)
                        except (ValueError, TypeError) as exc:  # a value that does not decode
                            raise BackupError(f"the archive is damaged: a value in {info['name']} cannot be read "
                                              f"({type(exc).__name__})") from None
                        except sa.exc.DBAPIError as exc:
                            raise BackupError(f"the rows of {info['name']} do not load into this database "
                                              f"({type(exc.orig).__name__}); nothing was restored") from None
                        counts["rows"] += n
                        say(f"{info['name']}: {n} rows")
                    else:
                        counts["present" if _stage_file(upload_dir, staging, info, payload, check) else "files"] += 1
                for table, pk, values in late:
                    conn.execute(sa.update(table).where(*[table.c[k] == v for k, v in pk.items()]).values(values))
                if conn.dialect.name == "postgresql":
                    _reset_sequences(conn, plans.values())
                # the whole archive matched: the files go into place, then the rows commit (a
                # failed commit leaves only unreferenced files, which a second restore accepts)
                _move_into_place(staging, upload_dir)
        finally:
            conn.close()
            shutil.rmtree(staging, ignore_errors=True)
    say(f"uploads: {counts['files']} files written, {counts['present']} already in place")
    try:
        migrate.upgrade(url, "head")
    except Exception as exc:
        raise BackupError(f"the backup was restored at schema revision {wanted}, but migrating on failed "
                          f"({type(exc).__name__}); fix the cause and run `changtong db upgrade`") from exc
    indexed = None
    if reindex:
        try:
            indexed = _reindex(db, settings, services)
        except Exception as exc:
            raise BackupError(f"the backup was restored, but rebuilding the search index failed "
                              f"({type(exc).__name__}); run `changtong reindex`") from exc
        say(f"search index: {indexed} cases")
    with db.engine.connect() as c:
        revision = c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    cases = next((t["rows"] for t in manifest["tables"] if t["name"] == "case"), 0)
    return RestoreResult(manifest, counts["rows"], cases, counts["files"], counts["present"], indexed, revision)


def _load_table(conn, plans, info, rows, late, check) -> int:
    p = plans.get(info["name"])
    if p is None:
        raise BackupError(f"the backup has a table {info['name']!r} that the schema at its revision lacks")
    table = p.table
    names = [name for name, _ in info["columns"]]
    missing = [n for n in names if n not in table.c]
    if missing:
        raise BackupError(f"the backup has columns {info['name']}.{', '.join(missing)} that the schema lacks")
    decoders = [decoder(k, table.c[n].type) for n, k in info["columns"]]
    deferred = [n for n in p.deferred if n in names]
    is_case = info["name"] == "case"
    write = _copier(conn, table, names, [k for _, k in info["columns"]])
    batch, count = [], 0
    for raw in rows:
        row = {n: d(v) for n, d, v in zip(names, decoders, raw)}
        if is_case:
            check.case_row(row)
        if deferred:
            values = {n: row[n] for n in deferred if row[n] is not None}
            if values:
                late.append((table, {k: row[k] for k in p.pk}, values))
                row.update({n: None for n in values})
        batch.append(row)
        if len(batch) >= BATCH:
            write(batch)
            count += len(batch)
            batch = []
    if batch:
        write(batch)
        count += len(batch)
    return count


def _copier(conn, table: sa.Table, names: list[str], kinds: list[str]):
    """Rows into ``table``: COPY on PostgreSQL (psycopg; a batched INSERT sends one statement
    per row there), executemany elsewhere. Both in the connection's transaction."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return lambda batch: conn.execute(table.insert(), batch)
    raw = conn.connection.driver_connection
    prep = conn.dialect.identifier_preparer
    sql = f"COPY {prep.format_table(table)} ({', '.join(prep.quote(n) for n in names)}) FROM STDIN"
    json_cols = [n for n, k in zip(names, kinds) if k == "json"]

    def copy(batch: list[dict]) -> None:
        with raw.cursor() as cur, cur.copy(sql) as cp:
            for row in batch:
                for n in json_cols:
                    if row[n] is not None:
                        row[n] = json.dumps(row[n], ensure_ascii=False)
                cp.write_row([row[n] for n in names])
    return copy


def _stage_file(upload_dir: Path, staging: Path, entry: dict, chunks, check) -> bool:
    """Write one upload into the staging directory (checked against its sha256 as it ends);
    True if an identical file is in place already (a restore into the data directory the
    backup came from, e.g. moving from SQLite to PostgreSQL)."""
    key, variant = parse_upload_member(entry["member"])
    path = upload_path(upload_dir, key, variant)
    if path.exists():
        for _ in chunks:  # read (and checked) all the same
            pass
        if sha256_file(path)[0] != entry["sha256"]:
            raise BackupError(f"a different file is already at {path}; restore into an empty data directory")
        return True
    staged = upload_path(staging, key, variant)
    staged.parent.mkdir(exist_ok=True)
    with open(staged, "wb") as out:
        for chunk in chunks:  # raises at the end if the checksum does not match
            out.write(chunk)
    check.file(key, variant, staged)
    return False


def _move_into_place(staging: Path, upload_dir: Path) -> None:
    for sub in sorted(p for p in staging.iterdir() if p.is_dir()):
        (upload_dir / sub.name).mkdir(exist_ok=True)
        for f in sub.iterdir():
            os.replace(f, upload_dir / sub.name / f.name)


def _reset_sequences(conn, plans) -> None:
    prep = conn.dialect.identifier_preparer
    for p in plans:
        if len(p.pk) != 1 or not isinstance(p.table.c[p.pk[0]].type, sa.Integer):
            continue
        col = p.pk[0]
        seq = conn.scalar(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                          {"t": prep.format_table(p.table), "c": col})
        if seq:
            conn.execute(sa.text(f"SELECT setval(:s, COALESCE((SELECT MAX({prep.quote(col)}) FROM "
                                 f"{prep.format_table(p.table)}), 0) + 1, false)"), {"s": seq})


def _reindex(db, settings, services) -> int:
    from casework.context import Services
    from casework.search import make_backend
    from casework.search.sync import reindex_all

    services = services or Services.from_settings(settings)
    return reindex_all(db, services, make_backend(settings, db))
