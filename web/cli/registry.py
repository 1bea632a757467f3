"""`changtong associations|import-associations|units|categories …`: the association registry,
units and categories on the command line. Every change is audited with actor kind "cli" and the
login that ran the command (casework.audit.operations.cli_actor)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from casework.registry.models import UnitKind
from web.cli.table import table

UNIT_KINDS = [k.value for k in UnitKind]  # every kind the web form offers (纪检监察 included)


def _db():
    return current_app.extensions["changtong.db"]


def _actor():
    from casework.audit.operations import cli_actor

    return cli_actor()


def _english(errors) -> str:
    """Domain messages (per field) in English, one line each."""
    return "\n".join(f"{name}: {m.render(lambda s: s)}" for name, msgs in errors.items() for m in msgs)


# --- associations ---------------------------------------------------------------------------------

associations_group = AppGroup("associations", help="The association registry (import with `changtong import-associations`).")


def _set_status(credit_code: str, deregister: bool) -> None:
    from casework.registry import operations as ops

    with _db().session_scope() as session:
        assoc = ops.by_credit_code(session, credit_code)
        if assoc is None:
            raise click.ClickException(f"no association has the credit code {credit_code.strip()!r}")
        change = (ops.deregister_association if deregister else ops.reinstate_association)(session, _actor(), assoc)
        name, status = assoc.name, assoc.status.value
    click.echo(f"{credit_code.strip().upper()} {name}: {status}" + ("" if change.changed else " (no change)"))


@associations_group.command("deregister")
@click.argument("credit_code")
def deregister_cmd(credit_code: str) -> None:
    """Mark the association deregistered (注销): kept for old cases and statistics, no longer
    offered to someone filing a case."""
    _set_status(credit_code, True)


@associations_group.command("reinstate")
@click.argument("credit_code")
def reinstate_cmd(credit_code: str) -> None:
    """Undo a deregistration made in error."""
    _set_status(credit_code, False)


@associations_group.command("list")
@click.argument("query", default="")
@click.option("--status", type=click.Choice(["active", "deregistered"]), default=None)
@click.option("--page", type=click.IntRange(1), default=1)
def associations_list_cmd(query: str, status: str | None, page: int) -> None:
    """Associations matching QUERY (name, credit code, pinyin initials), 50 a page."""
    from casework.registry.operations import list_associations

    with _db().session_scope(write=False) as session:
        result = list_associations(session, query, status or "", page)
        rows = [(a.credit_code, a.name, a.level.value, a.region_code, a.status.value,
                 a.member_count if a.member_count is not None else "-") for a in result.rows]
    table(("credit code", "name", "level", "region", "status", "members"), rows)
    click.echo(f"{result.total} found" + (f"; more with --page {page + 1}" if result.has_next else ""), err=True)


@click.command("import-associations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_associations_command(path: str) -> None:
    """Import associations from a CSV file; a file with any bad row imports nothing."""
    from pathlib import Path

    from casework.registry.operations import import_audited

    with open(path, encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in fh) - 1
    with open(path, encoding="utf-8-sig", newline="") as fh, \
            click.progressbar(length=max(total, 0), label="checking and importing") as bar:
        with _db().session_scope() as session:
            # the importer reports a running total; the bar wants increments
            result = import_audited(session, _actor(), fh, filename=Path(path).name,
                                    progress=lambda n: bar.update(n - bar.pos))
            if result.errors:
                session.rollback()
    if result.errors:
        for err in result.errors:
            click.echo(f"line {err.line}: {err.field}: {err.reason}", err=True)
        click.echo(f"{len(result.errors)} error(s); nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"imported: {result.created} new, {result.updated} updated")


# --- units -------------------------------------------------------------------------------------------

units_group = AppGroup("units", help="Units: the bodies that handle cases.")


@units_group.command("list")
@click.option("--kind", type=click.Choice(UNIT_KINDS), default=None)
def units_list_cmd(kind: str | None) -> None:
    """Every unit with its kind, region, notice mailbox and number of staff roles."""
    from casework.registry.units import unit_list

    with _db().session_scope(write=False) as session:
        rows = [(u.code, u.name, u.kind.value, u.region_code, u.notice_email or "-", n, "yes" if u.active else "no")
                for u, n in unit_list(session) if kind is None or u.kind.value == kind]
    table(("code", "name", "kind", "region", "notice mailbox", "staff", "in use"), rows)


@units_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The unit's name in Chinese")
@click.option("--name-en", default="", help="Its name in English")
@click.option("--kind", required=True, type=click.Choice(UNIT_KINDS))
@click.option("--region", "region_code", required=True, help="GB/T 2260 code, 100000 for a national body")
@click.option("--notice-email", default="", help="An office mailbox for the unit's notices")
@click.option("--supervising-unit", default="", help="Code of the unit that receives supervision notices")
@click.option("--association", default="", help="Credit code of the association a mediation body belongs to")
@click.option("--lead-approves-not-accept", is_flag=True, help="Only the unit lead may decline a case")
@click.option("--people-mediation-committee", is_flag=True,
              help="A mediation body that is a 人民调解委员会 (its agreements cite 人民调解法)")
def units_create_cmd(code: str, name: str, name_en: str, kind: str, region_code: str, notice_email: str,
                     supervising_unit: str, association: str, lead_approves_not_accept: bool,
                     people_mediation_committee: bool) -> None:
    """Create the unit CODE (lower-case letters, digits, hyphens; fixed once created)."""
    from casework.registry import units as ops

    raw = {"code": code, "name": name, "name_en": name_en, "kind": kind, "region_code": region_code,
           "notice_email": notice_email, "supervising_unit": supervising_unit, "association": association,
           "lead_approves_not_accept": "1" if lead_approves_not_accept else "",
           "people_mediation_committee": "1" if people_mediation_committee else "", "active": "1"}
    with _db().session_scope() as session:
        values, errors = ops.check_unit(session, raw)
        if errors:
            raise click.ClickException(_english(errors))
        ops.create_unit(session, _actor(), values)
    click.echo(f"created unit {values.code}: {values.name} ({values.kind.value}, {values.region_code})")


@units_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def units_import_cmd(path: str) -> None:
    """Create or update units from a CSV file (columns: see docs/operations.md); a file with any
    bad row imports nothing. A unit may name as its supervising unit one further down the file."""
    from casework.registry.unit_import import import_units

    with _db().session_scope() as session:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            result = import_units(session, _actor(), fh)
        if result.errors:
            session.rollback()
    if result.errors:
        for err in result.errors:
            click.echo(str(err), err=True)
        click.echo(f"{len(result.errors)} error(s); nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"units imported: {result.created} new, {result.updated} updated, {result.unchanged} unchanged")


# --- categories --------------------------------------------------------------------------------------

categories_group = AppGroup("categories", help="Categories offered when a case is filed.")
GROUPS = ["grievance", "mediation", "suggestion"]


@categories_group.command("list")
@click.option("--group", type=click.Choice(GROUPS), default=None,
              help="grievance: complaints and reports; mediation; suggestion")
def categories_list_cmd(group: str | None) -> None:
    """Every category by group and sort order."""
    from casework.registry.categories import categories_by_group

    with _db().session_scope(write=False) as session:
        rows = [(g.value, c.sort_order, c.code, c.name, c.name_en, "yes" if c.active else "no")
                for g, cats in categories_by_group(session) if group in (None, g.value) for c in cats]
    table(("group", "order", "code", "name", "english", "in use"), rows)


@categories_group.command("add")
@click.argument("code")
@click.option("--group", required=True, type=click.Choice(GROUPS))
@click.option("--name", required=True, help="Name in Chinese")
@click.option("--name-en", required=True, help="Name in English")
@click.option("--sort-order", default=100, type=click.IntRange(0, 9999))
@click.option("--association-is-party", is_flag=True, help="The association itself is a party")
def categories_add_cmd(code: str, group: str, name: str, name_en: str, sort_order: int,
                       association_is_party: bool) -> None:
    """Add the category CODE (lower-case letters, digits, underscores; fixed once created)."""
    from casework.registry import categories as ops

    raw = {"code": code, "group": group, "name": name, "name_en": name_en, "sort_order": str(sort_order),
           "association_is_party": "1" if association_is_party else ""}
    with _db().session_scope() as session:
        values, errors = ops.check_category(session, raw)
        if errors:
            raise click.ClickException(_english(errors))
        ops.create_category(session, _actor(), values)
    click.echo(f"added category {values.code} ({values.group.value}): {values.name}")


def _category_active(code: str, active: bool) -> None:
    from casework.registry import categories as ops

    try:
        with _db().session_scope() as session:
            cat = ops.by_code(session, code)
            if cat is None:
                raise click.ClickException(f"no category has the code {code.strip()!r}")
            ops.set_category_active(session, _actor(), cat, active)
    except ops.CategoryError as err:
        raise click.ClickException(err.message.render(lambda s: s)) from None
    click.echo(f"{code.strip().lower()}: {'in use' if active else 'out of use'}")


@categories_group.command("deactivate")
@click.argument("code")
def categories_deactivate_cmd(code: str) -> None:
    """Stop offering the category CODE when a case is filed (cases keep it)."""
    _category_active(code, False)


@categories_group.command("activate")
@click.argument("code")
def categories_activate_cmd(code: str) -> None:
    """Offer the category CODE again."""
    _category_active(code, True)
