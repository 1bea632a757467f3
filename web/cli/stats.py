"""`changtong stats refresh|risk|show`: the statistics the workers keep, by hand.

Registered in web/cli/__init__.py with ``main.add_command(stats_group)``.
"""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext


def _context():
    return current_app.extensions["changtong.db"], current_app.extensions["changtong.services"]


@click.group("stats")
def stats_group() -> None:
    """Statistics for supervision and public disclosure."""


@stats_group.command("refresh")
@click.option("--full", is_flag=True, help="Recompute every month, not only those with changes.")
@with_appcontext
def refresh_command(full: bool) -> None:
    """Bring the monthly rollups up to date (the worker does this every minute)."""
    from casework.stats.rollup import refresh

    db, services = _context()
    months = refresh(db, services.clock, full=full, progress=lambda m: click.echo(f"  {m}"))
    click.echo(f"Recomputed {len(months)} month(s).")


@stats_group.command("risk")
@with_appcontext
def risk_command() -> None:
    """Grade every association with cases in the last 12 months (the worker does this hourly)."""
    from casework.stats.risk import grade_all

    db, services = _context()
    click.echo(f"Graded {grade_all(db, services.settings, services.clock)} association(s).")


@stats_group.command("show")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120))
@with_appcontext
def show_command(months: int) -> None:
    """Print the totals of the last MONTHS months."""
    from casework.stats import queries
    from casework.stats.models import MEASURES

    db, _services = _context()
    period = queries.Period.last_months(datetime.now(timezone.utc), months)
    with db.session_scope(write=False) as s:
        t = queries.totals(s, period)
    click.echo(f"{period.first} .. {period.last}")
    for m in MEASURES:
        click.echo(f"  {m:18s} {t[m]:>10,}")
    for r in t.RATES:
        v = getattr(t, r)
        click.echo(f"  {r:18s} {'—' if v is None else f'{v * 100:.1f}%':>10s}")
