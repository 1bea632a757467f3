"""`changtong routing …`: routing rules from and to CSV, and why a case went where it went.
The CSV format is described in casework.routing.csvio."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

routing_group = AppGroup("routing", help="Routing rules (import/export CSV, explain a case).")


def _db():
    return current_app.extensions["changtong.db"]


def _actor():
    from casework.audit.operations import cli_actor

    return cli_actor()


@routing_group.command("export")
@click.argument("path", default="-", metavar="[FILE]")
def export_cmd(path: str) -> None:
    """Write every routing rule as CSV to FILE (default: standard output).

    A file gets a UTF-8 byte order mark so that spreadsheet programs read the Chinese notes."""
    from casework.routing.csvio import export_rules

    with _db().session_scope(write=False) as session:
        if path == "-":
            n = export_rules(session, sys.stdout)
            click.echo(f"{n} rules exported", err=True)
            return
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            n = export_rules(session, fh)
    click.echo(f"{n} rules exported to {path}")


@routing_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Make the file the whole rule set: rules not in it are deleted (all in one transaction).")
def import_cmd(path: str, replace: bool) -> None:
    """Import routing rules from a CSV FILE; a file with any bad row imports nothing.

    Without --replace each row updates the rule with the same case_type, category,
    association and target, or adds one; other rules stay."""
    from casework.audit.operations import Change, record
    from casework.routing.csvio import import_rules

    data = Path(path).read_bytes()
    total = max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 0)
    with click.progressbar(length=total, label="checking and importing") as bar, \
            _db().session_scope() as session:
        actor = _actor()
        result = import_rules(session, actor, data, replace=replace, progress=bar.update)
        if result.errors:
            session.rollback()
        else:  # one audit entry for the file, in the import's transaction
            record(session, actor, Change("routing_rule", "imported", None, None, {
                "file": Path(path).name[:100], "mode": "replace" if replace else "upsert",
                "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                "deleted": result.deleted}))
    if result.errors:
        for err in result.errors:
            click.echo(f"line {err.line}: {err.field or 'row'}: {err.reason}", err=True)
        click.echo(f"{len(result.errors)} error(s); nothing was imported", err=True)
        sys.exit(1)
    deleted = f", {result.deleted} deleted (replaced)" if replace else ""
    click.echo(f"imported: {result.created} new, {result.updated} updated, "
               f"{result.unchanged} unchanged{deleted}")


_OUTCOME = {
    "chosen": "CHOSEN",
    "no_unit": "skipped: the association has no such unit",
    "decoupled": "skipped: the association is decoupled (no business supervisory unit)",
    "not_allowed": "skipped",
    "not_reached": "not reached (an earlier rule chose)",
}


@routing_group.command("explain")
@click.argument("number")
def explain_cmd(number: str) -> None:
    """Which rules are tried for case NUMBER, in order, and why each was skipped.

    Shows how the case was routed when it was filed (from its events) and what the
    current rules would decide now. Prints no personal data."""
    from casework.cases.models import Case, EventKind
    from casework.routing.operations_admin import explain

    with _db().session_scope(write=False) as session:
        case = session.scalar(select(Case).where(Case.number == number.strip().upper()))
        if case is None:
            click.echo(f"no case numbered {number.strip()}", err=True)
            sys.exit(1)
        assoc = case.association
        click.echo(f"case {case.number}: type {case.type.value}, category {case.category.code}, "
                   f"association {assoc.credit_code + ' ' + assoc.name if assoc else 'unknown'}")
        click.echo(f"now: {case.state.value}, at {case.unit.code if case.unit else 'no unit (triage)'}")
        for ev in case.events:
            if ev.kind in (EventKind.routed, EventKind.transferred):
                click.echo(f"{ev.created_at:%Y-%m-%d %H:%M} {ev.kind.value}: {ev.summary}")
        result = explain(session, case)
        click.echo("with the current rules:")
        if not result.steps:
            click.echo("  no rule applies")
        for i, step in enumerate(result.steps, 1):
            outcome = _OUTCOME[step.outcome]
            if step.outcome == "not_allowed":
                outcome = f"skipped: {step.unit.code}, {step.reason}"
            elif step.outcome == "chosen":
                outcome = f"CHOSEN: {step.unit.code}"
            click.echo(f"  {i}. {step.rule.describe()}: {outcome}")
        d = result.decision
        click.echo(f"decision: {d.unit.code if d.unit else 'triage'} ({d.reason})")
