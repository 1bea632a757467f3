"""`changtong keys`: fresh secrets for an env file; `keys rotate` moves the stored data onto the
current keys and pepper; `keys check` says what still needs an _OLD value (exit 1 while anything
does). Counts and the names of settings only, never a value (casework.privacy.rotation).
Registered in web/cli/__init__.py."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.settings import new_key


@click.group("keys", invoke_without_command=True)
@click.pass_context
def keys_group(ctx: click.Context) -> None:
    """Print fresh secrets for an env file (never commit them); `rotate` and `check` for rotation."""
    if ctx.invoked_subcommand is None:
        for name in ("CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER"):
            click.echo(f"{name}={new_key()}")


def _services():
    return current_app.extensions["changtong.db"], current_app.extensions["changtong.services"]


def _say(message: str) -> None:
    click.echo(f"  {message}")


def _print_remaining(tally) -> None:
    lines = tally.not_current()
    if not lines:
        click.echo("Everything is under the current keys and pepper.")
        return
    click.echo("Not under the current key or pepper (table.column [key ring]: what it is under):")
    for line, counts in lines.items():
        click.echo(f"  {line}: " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items())))
    for line, n in sorted(tally.open_codes.items()):
        click.echo(f"  {line}: {n} of them on cases not finished yet")


@keys_group.command("rotate")
@click.option("--batch", default=200, show_default=True, help="Rows per transaction.")
@with_appcontext
def rotate_command(batch: int) -> None:
    """Re-encrypt every stored value and file under the current keys (the data key ring and the
    identity key ring) and re-hash what can be under the current pepper. Safe while the site
    runs; run it again after an interruption: what is done is skipped."""
    from casework.audit.operations import cli_actor
    from casework.privacy.rotation import CODE_LINES, CURRENT, NO_KEY, rotate

    db, services = _services()
    click.echo("Rotating: values under a retired key are re-encrypted under the current one.")
    tally = rotate(db, services, actor=cli_actor(), batch=batch, say=_say)
    click.echo(f"Rewritten: {sum(tally.rewritten.values())} values, hashes and files"
               + "".join(f"; {table} {n}" for table, n in sorted(tally.rewritten.items())) + ".")
    if tally.changed_meanwhile:
        click.echo(f"{sum(tally.changed_meanwhile.values())} rows changed while they were read (each was written "
                   "anew under the current key, or run `changtong keys rotate` again).")
    unopened = {line: c[NO_KEY] for line, c in tally.found.items() if c[NO_KEY]}
    for line, n in sorted(unopened.items()):
        click.echo(f"  {line}: {n} open with no configured key (left as they are)")
    for line in CODE_LINES:
        waiting = sum(n for k, n in tally.found[line].items() if k != CURRENT)
        if waiting:
            click.echo(f"  {line}: {waiting} under a retired or unknown pepper, re-hashed when next used "
                       f"({tally.open_codes[line]} on cases not finished yet)")
    click.echo("`changtong keys check` says when the _OLD values can be removed.")


@keys_group.command("check")
@click.option("--batch", default=500, show_default=True, help="Rows read at a time.")
@with_appcontext
def check_command(batch: int) -> None:
    """Count, per table, column and key ring, what still needs a retired key (_OLD) or pepper.
    Exit status 0 when none does (the _OLD values can be removed), 1 otherwise."""
    from casework.privacy.rotation import check

    db, services = _services()
    tally = check(db, services, batch=batch, say=_say)
    _print_remaining(tally)
    blocking, codes = tally.blocking(), sum(tally.open_codes.values())
    if blocking - codes:
        click.echo(f"{blocking - codes} stored values and hashes still need a retired key or pepper (or open with "
                   "none): keep the _OLD settings and run `changtong keys rotate`.")
    if codes:
        click.echo(f"{codes} codes of cases not finished yet are under a retired pepper: each is re-hashed when it is "
                   "next used; keep CHANGTONG_QUERY_PEPPER_OLD until then.")
    if blocking:
        sys.exit(1)
    click.echo("No value needs CHANGTONG_PII_KEY_OLD, CHANGTONG_IDENTITY_KEY_OLD or CHANGTONG_QUERY_PEPPER_OLD "
               "any more (see docs/operations.md, Rotating keys, before removing them).")
