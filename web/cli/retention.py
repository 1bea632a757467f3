"""`changtong retention run [--dry-run]`: erase the personal data of cases closed longer than
the retention period (the worker does this daily). Registered in web/cli/__init__.py."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("retention")
def retention_group() -> None:
    """Retention of personal data (CHANGTONG_RETENTION_DAYS)."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be erased.")
@with_appcontext
def run_command(dry_run: bool) -> None:
    """Erase personal data and files of cases closed longer than the retention period."""
    from casework.audit.operations import cli_actor
    from casework.retention.operations import erase_expired

    db, services = current_app.extensions["changtong.db"], current_app.extensions["changtong.services"]
    result = erase_expired(db, services, dry_run=dry_run, actor=cli_actor())
    verb = "Would erase" if dry_run else "Erased"
    click.echo(f"Retention period: {services.settings.retention_days} days (cases closed before "
               f"{result.cutoff:%Y-%m-%d %H:%M} UTC).")
    for number in result.cases:
        click.echo(f"  {number}")
    click.echo(f"{verb} {len(result.cases)} case(s), {result.files} file(s)"
               + ("" if dry_run else f", {result.outbox} notice recipient(s)") + ".")
