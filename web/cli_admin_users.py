"""More `changtong users …` commands: disable and enable an account, take a role away, set
a new password. (create, grant, token, revoke-tokens, list and demo are in web/cli.py.)
Every change is audited with actor kind "cli"."""
from __future__ import annotations

import click
from flask import current_app

from casework.accounts.models import Role
from web.cli import ROLE_NAMES, _read_password, _unit, _user, users_group


def _db():
    return current_app.extensions["changtong.db"]


def _actor():
    from casework.audit.operations import cli_actor

    return cli_actor()


def _set_active(name: str, active: bool) -> None:
    from casework.accounts.operations import set_user_active

    with _db().session_scope() as session:
        user = _user(session, name)
        set_user_active(session, _actor(), user, active)
        username = user.username
    click.echo(f"{username}: {'enabled' if active else 'disabled'}")


@users_group.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable NAME: it can no longer sign in, and its API tokens stop working."""
    _set_active(name, False)


@users_group.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """Enable NAME again."""
    _set_active(name, True)


@users_group.command("revoke")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Code of the unit")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES))
def users_revoke(name: str, unit_code: str, role: str) -> None:
    """Take NAME's role in a unit away."""
    from sqlalchemy import select

    from casework.accounts.models import Membership
    from casework.accounts.operations import revoke_membership

    with _db().session_scope() as session:
        user, unit = _user(session, name), _unit(session, unit_code)
        m = session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.unit_id == unit.id,
                                                    Membership.role == Role(role)))
        if m is None:
            raise click.ClickException(f"{user.username} has no role {role} at {unit.code}")
        revoke_membership(session, _actor(), m)
    click.echo(f"{name}: no longer {role} at {unit_code}")


@users_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin")
def users_set_password(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; its signed-in sessions end."""
    from casework.accounts.operations import AccountError, set_password

    with _db().session_scope(write=False) as session:
        _user(session, name)  # a typo fails before the password is asked
    password = _read_password(password_stdin)
    try:
        with _db().session_scope() as session:
            set_password(session, _actor(), _user(session, name), password)
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{name}: new password set")
