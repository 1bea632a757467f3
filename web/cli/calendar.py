"""`changtong calendar …`: check the working-day calendar against a State Council notice."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

calendar_group = AppGroup("calendar", help="The working-day calendar (holidays, 调休, overrides).")


def _deadlines():
    from casework.deadlines.limits import Deadlines

    db = current_app.extensions["changtong.db"]
    with db.session_scope(write=False) as s:
        return Deadlines.load(s)


@calendar_group.command("add")
@click.argument("start")
@click.argument("n", type=click.IntRange(1, 366))
@click.option("--calendar-days", is_flag=True, help="Count calendar days (a period ending on a rest day moves to the next working day).")
def add_cmd(start: str, n: int, calendar_days: bool) -> None:
    """Print the date N working (or calendar) days after START, and why."""
    try:
        day = date.fromisoformat(start)
    except ValueError:
        click.echo("START must be a date as YYYY-MM-DD", err=True)
        sys.exit(2)
    comp = _deadlines().calendar.compute(day, n, working_days=not calendar_days)
    for line in comp.lines():
        click.echo(line)
    click.echo(comp.end.isoformat())


@calendar_group.command("override")
@click.argument("day")
@click.option("--working/--rest", required=True, help="The date is a working day / a rest day.")
@click.option("--note", required=True, help="Why (e.g. the State Council notice).")
def override_cmd(day: str, working: bool, note: str) -> None:
    """Set one date's status, overriding the maintained calendar."""
    from casework.audit.operations import cli_actor
    from casework.deadlines.operations import DeadlineAdminError, parse_day, set_override

    parsed = parse_day(day)
    if parsed is None:
        click.echo("DAY must be a date as YYYY-MM-DD", err=True)
        sys.exit(2)
    db = current_app.extensions["changtong.db"]
    try:
        with db.session_scope() as s:
            set_override(s, parsed, working, note, actor=cli_actor())
    except DeadlineAdminError as err:
        click.echo(str(err), err=True)
        sys.exit(1)
    click.echo(f"{parsed.isoformat()}: {'working day' if working else 'rest day'} ({note})")


@calendar_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_cmd(path: str) -> None:
    """Import overrides from CSV (date,working,note); a file with any bad line imports nothing."""
    from casework.audit.operations import cli_actor
    from casework.deadlines.operations import import_overrides

    db = current_app.extensions["changtong.db"]
    with open(path, encoding="utf-8-sig") as fh, db.session_scope() as s:
        result = import_overrides(s, fh.read(), actor=cli_actor())
        if result.errors:
            s.rollback()
    if result.errors:
        for line, reason in result.errors:
            click.echo(f"line {line}: {reason}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"imported {result.imported} override(s)")
