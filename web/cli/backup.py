"""`changtong backup create|verify|restore FILE`: the database and the uploads in one archive
(casework.backup). Registered in web/cli/__init__.py. Exit status 0 when done, 1 with a message."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

ARCHIVE = click.Path(dir_okay=False, path_type=Path)


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB"


def _summary(manifest: dict) -> str:
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    return (f"{rows.get('case', 0)} cases, {rows.get('event', 0)} events, {rows.get('attachment', 0)} attachments, "
            f"{manifest['uploads']['files']} upload files ({_size(manifest['uploads']['bytes'])}); "
            f"schema revision {manifest['alembic_revision']}, from {manifest['dialect']}, "
            f"made {manifest['created_at']}")


@click.group("backup")
def backup_group() -> None:
    """Back up the database and the uploads into one archive, check one, restore one.

    The archive does not hold CHANGTONG_PII_KEY, CHANGTONG_IDENTITY_KEY or
    CHANGTONG_QUERY_PEPPER: keep them apart from it; without them a restore is unreadable."""


@backup_group.command("create")
@click.argument("file", type=ARCHIVE)
@click.option("-v", "--verbose", is_flag=True, help="Print each table as it is read.")
@with_appcontext
def create_command(file: Path, verbose: bool) -> None:
    """Write a backup to FILE (a .tar.gz; an existing FILE is never overwritten)."""
    from casework.backup import BackupError, create_backup

    db, settings = current_app.extensions["changtong.db"], current_app.extensions["changtong.settings"]
    try:
        result = create_backup(db.engine, settings.upload_dir, file,
                               progress=(lambda m: click.echo(f"  {m}")) if verbose else None)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    from casework.audit.operations import cli_actor
    from casework.backup.audit import record_backup

    if not record_backup(db, cli_actor(), result.path, result.manifest):  # who took a copy of everything, when
        click.echo("(not recorded in the audit log: the database's schema is older than this version; "
                   "`changtong db upgrade` brings it up to date)", err=True)
    click.echo(f"Backup written to {result.path} ({_size(result.path.stat().st_size)}): {_summary(result.manifest)}.")
    click.echo("Keep CHANGTONG_PII_KEY, CHANGTONG_IDENTITY_KEY and CHANGTONG_QUERY_PEPPER apart from it: "
               "the backup does not hold them and cannot be read without them.")


@backup_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(file: Path) -> None:
    """Read FILE through and check every checksum and row count, without restoring it."""
    from casework.backup import BackupError, verify_backup

    try:
        manifest = verify_backup(file)
    except BackupError as err:
        raise click.ClickException(f"{file}: {err}") from None
    click.echo(f"{file} is intact: {_summary(manifest)}.")


@backup_group.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-reindex", is_flag=True, help="Leave the search index to `changtong reindex` later.")
@with_appcontext
def restore_command(file: Path, no_reindex: bool) -> None:
    """Restore FILE into this instance, whose database must be new and empty
    (DATABASE_URL: SQLite or PostgreSQL, whatever the backup was taken from: a SQLite
    backup restores into PostgreSQL and the other way round)."""
    from casework.backup import BackupError, restore_backup

    ext = current_app.extensions
    try:
        result = restore_backup(ext["changtong.db"], ext["changtong.settings"], file,
                                services=ext["changtong.services"], progress=lambda m: click.echo(f"  {m}"),
                                reindex=not no_reindex)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    from casework.audit.operations import cli_actor
    from casework.backup.audit import record_restore

    record_restore(ext["changtong.db"], cli_actor(), file, result.manifest)
    click.echo(f"Restored {result.cases} cases ({result.rows} rows, {result.files + result.files_present} upload "
               f"files) from {file}; the database is at schema revision {result.revision}.")
