"""`changtong backup create`: every table and every upload file, from one snapshot.

Every table is read inside ONE read-only transaction: REPEATABLE READ on PostgreSQL (a
snapshot: cases filed meanwhile are either wholly in the backup or not at all), a single
read transaction on SQLite (WAL gives it a snapshot too). The files copied are exactly those
the attachment and mediation rows of that snapshot name. A file is written to disk before
its row commits and never changed afterwards (casework.intake.operations.stage_file,
casework.mediation.operations), so every file the snapshot names is there; a missing one is an
error, never skipped. Rows stream through a server-side cursor into spool files beside the
archive (the manifest, with their checksums, comes first in the archive), so memory stays
flat however many cases there are. The archive is written under a temporary name and
renamed when complete.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from casework.backup.archive import (
    FORMAT, KEYS, MANIFEST, UPLOADS_INDEX, VERSION, sha256_file, upload_member, upload_path,
)
from casework.backup.errors import BackupError
from casework.backup.schema import EXCLUDED, column_kind, encode, plan, reflect

BATCH = 2000
# columns holding a FileStore key, and the variants stored under it: every ``services.files.put``
# of the code writes under one of these (tests/casework/test_backup.py checks each kind is restored)
FILE_COLUMNS = {"attachment": ("storage_key", ("orig", "staff")), "mediation": ("agreement_key", ("orig",)),
                "case_document": ("storage_key", ("orig",))}


@dataclass
class BackupResult:
    path: Path
    manifest: dict

    @property
    def cases(self) -> int:
        return next((t["rows"] for t in self.manifest["tables"] if t["name"] == "case"), 0)


def _app_version() -> str:
    try:
        from importlib.metadata import version

        return version("changtong")
    except Exception:  # not installed as a package (a checkout)
        return "unknown"


@dataclass
class _Hashing:
    """A file object for tarfile that hashes what it hands out."""

    fh: object
    digest: object = None
    size: int = 0

    def __post_init__(self):
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _snapshot(engine: Engine) -> sa.Connection:
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        raise BackupError(f"cannot reach the database ({type(exc.orig).__name__}); check DATABASE_URL") from None
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def _revision(conn: sa.Connection, meta: sa.MetaData) -> str:
    if "alembic_version" not in meta.tables:
        raise BackupError("the database has no schema revision (run `changtong db upgrade` first)")
    revisions = list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    if len(revisions) != 1:
        raise BackupError(f"the database has {len(revisions)} schema revisions; expected one")
    return revisions[0]


def _dump_table(conn, p, path: Path, files_out, upload_dir: Path) -> dict:
    columns = [(c.name, column_kind(c.type)) for c in p.table.columns]
    kinds = [k for _, k in columns]
    names = [n for n, _ in columns]
    file_col = FILE_COLUMNS.get(p.name)
    key_at = erased_at = None
    if file_col is not None and file_col[0] in names:  # (an older schema may lack the column)
        key_at = names.index(file_col[0])
        erased_at = names.index("erased_at") if "erased_at" in names else None
    digest, size, rows = hashlib.sha256(), 0, 0
    query = sa.select(p.table).order_by(*[p.table.c[c] for c in p.pk])
    with open(path, "wb") as out:
        for row in conn.execution_options(yield_per=BATCH).execute(query):
            line = (json.dumps([encode(k, v) for k, v in zip(kinds, row)], ensure_ascii=False,
                               separators=(",", ":")) + "\n").encode()
            out.write(line)
            digest.update(line)
            size += len(line)
            rows += 1
            if key_at is not None and row[key_at] and (erased_at is None or row[erased_at] is None):
                for variant in file_col[1]:
                    files_out(row[key_at], variant, upload_dir)
    return {"name": p.name, "columns": [list(c) for c in columns], "rows": rows,
            "sha256": digest.hexdigest(), "bytes": size}


def create_backup(engine: Engine, upload_dir: Path, target: Path, *,
                  progress: Callable[[str], None] | None = None) -> BackupResult:
    """Write a backup of the database behind ``engine`` and the files under ``upload_dir``
    to ``target`` (refused if it exists). Returns the manifest written."""
    target = Path(target).absolute()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new name (backups are never overwritten)")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix=".changtong-backup-", dir=target.parent) as spool_dir:
        spool = Path(spool_dir)
        index_path = spool / UPLOADS_INDEX
        uploads = {"files": 0, "bytes": 0}
        with open(index_path, "wb") as index:

            def add_file(key: str, variant: str, root: Path) -> None:
                path = upload_path(root, key, variant)
                try:
                    sha, size = sha256_file(path)
                except FileNotFoundError:
                    raise BackupError(f"an upload named by the database is missing on disk: {path} "
                                      "(nothing was written; restore the file or investigate before backing up)"
                                      ) from None
                index.write((json.dumps({"member": upload_member(key, variant), "sha256": sha, "size": size},
                                        separators=(",", ":")) + "\n").encode())
                uploads["files"] += 1
                uploads["bytes"] += size

            with _snapshot(engine) as conn, conn.begin():
                meta = reflect(conn)
                revision = _revision(conn, meta)
                created_at = datetime.now(timezone.utc)
                tables = []
                for n, p in enumerate(plan(meta), start=1):
                    member = f"tables/{n:03d}-{p.name}.jsonl"
                    info = _dump_table(conn, p, spool / f"{n:03d}.jsonl", add_file, Path(upload_dir))
                    info["member"] = member
                    tables.append(info)
                    say(f"{p.name}: {info['rows']} rows")
        uploads["sha256"] = sha256_file(index_path)[0]
        uploads["member"] = UPLOADS_INDEX
        manifest = {
            "format": FORMAT, "version": VERSION, "created_at": created_at.isoformat(),
            "alembic_revision": revision, "dialect": engine.dialect.name,
            "application": {"name": "changtong", "version": _app_version()},
            "tables": tables, "uploads": uploads,
            "excluded_tables": {k: v for k, v in EXCLUDED.items() if k in meta.tables},
            "keys_not_included": list(KEYS),
        }
        say(f"uploads: {uploads['files']} files, {uploads['bytes']} bytes")
        partial = target.with_name(f".{target.name}.partial")
        try:
            _write_archive(partial, manifest, spool, index_path, Path(upload_dir), created_at)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(target, manifest)


def _write_archive(partial: Path, manifest: dict, spool: Path, index_path: Path, upload_dir: Path,
                   created_at: datetime) -> None:
    mtime = created_at.timestamp()

    def info(name: str, size: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = size, mtime, 0o600
        return ti

    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # personal data, even encrypted
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            tar.addfile(info(MANIFEST, len(body)), io.BytesIO(body))
            for n, t in enumerate(manifest["tables"], start=1):
                path = spool / f"{n:03d}.jsonl"
                with open(path, "rb") as fh:
                    tar.addfile(info(t["member"], t["bytes"]), fh)
            with open(index_path, "rb") as fh:
                tar.addfile(info(UPLOADS_INDEX, os.fstat(fh.fileno()).st_size), fh)
            with open(index_path, "rb") as index:
                for line in index:
                    entry = json.loads(line)
                    _, _, rest = entry["member"].partition("/")
                    path = upload_dir / rest
                    try:
                        fh = open(path, "rb")
                    except FileNotFoundError:
                        raise BackupError(f"an upload vanished while the backup ran: {path} "
                                          "(erased by retention meanwhile? run the backup again)") from None
                    with fh:
                        src = _Hashing(fh)
                        tar.addfile(info(entry["member"], entry["size"]), src)
                        if src.size != entry["size"] or src.digest.hexdigest() != entry["sha256"]:
                            raise BackupError(f"an upload changed while the backup ran: {path}")
        raw.flush()
        os.fsync(raw.fileno())
