"""The `changtong` command: a Flask CLI group with the project's own commands.

The commands of one subject live in a module of this package named after it (routing,
registry, users, audit, calendar, search, stats, retention, backup, notices, keys); this module defines the
group, the few commands of its own (db, seed-defaults, seed-demo, demo-cases) and adds the others to it."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from casework import migrate
from casework.settings import Settings
from web.cli.audit import audit_cmd
from web.cli.backup import backup_group
from web.cli.calendar import calendar_group
from web.cli.keys import keys_group
from web.cli.notices import notices_command
from web.cli.registry import associations_group, categories_group, import_associations_command, units_group
from web.cli.retention import retention_group
from web.cli.routing import routing_group
from web.cli.search import reindex_command
from web.cli.stats import stats_group
from web.cli.users import users_group


def _create_app():
    from flask.cli import NoAppException

    from casework.settings import SettingsError
    from web.app import create_app

    try:
        settings = Settings.from_env()
    except SettingsError as exc:  # a missing or bad setting: its message, not a traceback
        raise NoAppException(f"{exc} (the settings are read from the environment and from .env in this directory)") from None
    settings.keep_files_private()  # reindex, restore, notices: what they write is not world-readable
    return create_app(settings)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Changtong: complaints, reports and mediation for industry associations."""


def _db():
    return current_app.extensions["changtong.db"]


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head). The schema only: the standard
    reference data is `changtong seed-defaults` (a new install, once); it says when that is missing."""
    settings: Settings = current_app.extensions["changtong.settings"]  # (its data directory: _create_app)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")
    if revision == "head":
        from casework.registry.defaults import missing

        with _db().session_scope(write=False) as session:
            absent = missing(session)
        if absent:
            click.echo(f"the standard reference data is missing ({', '.join(absent)}): no case can be filed yet. "
                       "A new install: run `changtong seed-defaults`. (Restoring a backup? Restore it first, "
                       "into this database as it is.)")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1 or base)."""
    migrate.downgrade(current_app.extensions["changtong.settings"].database_url, revision)
    click.echo(f"database at {revision}")


@main.command("seed-defaults")
def seed_defaults() -> None:
    """Add the standard reference data that is missing: the categories, the default routing
    rules, the statutory time limits and the platform's triage unit (safe to run again; a row
    that exists, edited or not, is never changed). Run once at the first start, after `db upgrade`."""
    from casework.registry.defaults import load_defaults

    with _db().session_scope() as session:
        loaded = load_defaults(session)
    click.echo(loaded.describe())


@main.command("seed-demo")
@click.option("--force", is_flag=True, help="Load the demo even though the database has real units")
def seed_demo(force: bool) -> None:
    """DEMO ONLY: add made-up units, associations and notice mailboxes (with the standard
    reference data) for a development machine or a trial; never on a production install. Safe to
    run again; a unit it did not make keeps its fields."""
    from casework.registry.demo import DemoRefused, load_demo

    click.echo("seed-demo: adds some 20 demo units and 8 demo associations (shown in the public lookup) "
               "and @notice.example mailboxes. Not for production.", err=True)
    try:
        with _db().session_scope() as session:
            real = load_demo(session, force=force)
    except DemoRefused as refused:
        raise click.ClickException(
            f"this database has units of its own ({refused}) and no demo: it looks like a real install. The demo "
            "would put made-up associations in its public lookup. Use `changtong seed-defaults` for the standard "
            "reference data, or `seed-demo --force` to add the demo anyway (the existing units are left as they are)."
        ) from None
    if real:
        click.echo(f"demo data loaded beside the units of this install ({', '.join(real)}), which were left as they are")
    else:
        click.echo("demo data loaded")


@main.command("demo-cases")
def demo_cases() -> None:
    """File the demo cases into an empty database and print them (DEMO ONLY; nothing if any
    case exists). Needs `seed-demo` and `users demo` first."""
    from casework.cases.demo import load_demo_cases
    from casework.deadlines.sweep import sweep
    from casework.stats.risk import grade_all
    from casework.stats.rollup import refresh

    services = current_app.extensions["changtong.services"]
    with _db().session_scope() as session:
        filed = load_demo_cases(session, services)
    if not filed:
        click.echo("demo cases: none filed (the database already has cases)")
        return
    # what the worker's beat does every few minutes, once now: the overdue cases are marked and
    # escalated, the statistics and risk grades made, before the first page is opened
    sweep(_db(), services)
    refresh(_db(), services.clock)
    grade_all(_db(), services.settings, services.clock)
    click.echo(f"Demo cases filed ({len(filed)}, DEMO ONLY). Track one at /track with its number and query code:")
    from web.cli.table import table

    table(("case number", "query code", "state", "unit", "title"),
          [(f.number, f.query_code, f.state, f.unit, f.title) for f in filed])


for command in (routing_group, associations_group, import_associations_command, units_group, categories_group,
                users_group, audit_cmd, calendar_group, reindex_command, stats_group, retention_group, backup_group,
                notices_command, keys_group):
    main.add_command(command)
