"""The audit log's record of a backup taken (in the database it was taken from) and of a
restore (in the database restored into): who, when, which archive, what it held. Written
after the work succeeded, in a transaction of its own; an archive never holds its own entry."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record


def _held(manifest: dict) -> dict:
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    return {"archive_created_at": manifest["created_at"], "schema_revision": manifest["alembic_revision"],
            "from_database": manifest["dialect"], "cases": rows.get("case", 0), "events": rows.get("event", 0),
            "attachments": rows.get("attachment", 0), "upload_files": manifest["uploads"]["files"]}


log = logging.getLogger("changtong.admin")


def record_backup(db, actor: Actor, archive: Path, manifest: dict) -> bool:
    """False when the database's schema predates this kind of entry (a backup taken before
    `changtong db upgrade`, as one should): the backup stands, the entry is not written."""
    try:
        with db.session_scope() as s:
            record(s, actor, Change("backup", "created", archive.name, None,
                                    {"archive": archive.name, "bytes": archive.stat().st_size, **_held(manifest)}))
    except IntegrityError:
        log.warning("backup %s not in the audit log: the schema is older than the code", archive.name)
        return False
    return True


def record_restore(db, actor: Actor, archive: Path, manifest: dict) -> None:
    with db.session_scope() as s:
        record(s, actor, Change("backup", "imported", archive.name, None, {"archive": archive.name, **_held(manifest)}))
