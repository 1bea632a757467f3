"""The `changtong` command: a Flask CLI group with the project's own commands."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from casework import migrate
from casework.settings import Settings, new_key


def _create_app():
    from web.app import create_app

    return create_app(Settings.from_env())


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Changtong: complaints, reports and mediation for industry associations."""


def _db():
    return current_app.extensions["changtong.db"]


@main.command("keys", with_appcontext=False)
def keys() -> None:
    """Print fresh secrets for an env file (never commit them)."""
    click.echo(f"CHANGTONG_SECRET_KEY={new_key()}")
    click.echo(f"CHANGTONG_PII_KEY={new_key()}")
    click.echo(f"CHANGTONG_QUERY_PEPPER={new_key()}")


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    settings: Settings = current_app.extensions["changtong.settings"]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1 or base)."""
    migrate.downgrade(current_app.extensions["changtong.settings"].database_url, revision)
    click.echo(f"database at {revision}")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load demo units, associations and categories (safe to run again)."""
    from casework.registry.demo import load_demo

    with _db().session_scope() as session:
        load_demo(session)
    click.echo("demo data loaded")


@main.command("import-associations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_associations_cmd(path: str) -> None:
    """Import associations from a CSV file; a file with any bad row imports nothing."""
    from casework.registry.importer import import_associations

    with open(path, encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in fh) - 1
    with open(path, encoding="utf-8-sig", newline="") as fh, \
            click.progressbar(length=max(total, 0), label="checking and importing") as bar:
        with _db().session_scope() as session:
            result = import_associations(session, fh, progress=bar.update)
            if result.errors:
                session.rollback()
    if result.errors:
        for err in result.errors:
            click.echo(f"line {err.line}: {err.field}: {err.reason}", err=True)
        click.echo(f"{len(result.errors)} error(s); nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"imported: {result.created} new, {result.updated} updated")


from web.cli_admin import routing_group  # noqa: E402

main.add_command(routing_group)
