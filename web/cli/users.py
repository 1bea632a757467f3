"""`changtong users …`: staff accounts, their roles per unit and API tokens (create, grant,
revoke, disable, enable, set-password, token, revoke-tokens, list, demo).
Every change is audited with actor kind "cli"."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from casework.accounts.models import Role
from web.cli.table import table


def _db():
    return current_app.extensions["changtong.db"]


def _actor():
    from casework.audit.operations import cli_actor

    return cli_actor()


ROLE_NAMES = [r.value for r in Role]


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Staff accounts, their roles per unit, and API tokens."""


def _unit(session, code: str):
    from casework.registry.models import Unit

    unit = session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise click.ClickException(f"no unit has the code {code!r} (see the routing and registry admin)")
    return unit


def _user(session, name: str):
    from casework.accounts.models import User

    user = session.scalar(select(User).where(User.username == name.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user is called {name!r}")
    return user


def _read_password(from_stdin: bool) -> str:
    from casework.accounts.passwords import MIN_LENGTH

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(f"Password (at least {MIN_LENGTH} characters)", hide_input=True,
                        confirmation_prompt=True)


@users_group.command("create")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Code of the unit, e.g. miit")
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice(ROLE_NAMES),
              help="Role in that unit; repeat for more than one")
@click.option("--display-name", default="", help="Name shown to colleagues (default: NAME)")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin")
def users_create(name: str, unit_code: str, roles: tuple[str, ...], display_name: str,
                 password_stdin: bool) -> None:
    """Create the staff account NAME with a role in a unit."""
    from casework.accounts.operations import AccountError, create_staff_user
    from casework.audit.operations import cli_actor

    with _db().session_scope(write=False) as session:
        _unit(session, unit_code)  # a typo in the unit fails before the password is asked
    password = _read_password(password_stdin)
    try:
        with _db().session_scope() as session:
            unit = _unit(session, unit_code)
            user, _ = create_staff_user(session, cli_actor(), name, display_name or name, password, unit,
                                        [Role(r) for r in dict.fromkeys(roles)])
            username = user.username
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created {username}: {', '.join(roles)} at {unit_code}")


@users_group.command("grant")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="Code of the unit")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES))
def users_grant(name: str, unit_code: str, role: str) -> None:
    """Give NAME a role in a unit (nothing changes if it has it already)."""
    from casework.accounts.operations import AccountError, grant_membership
    from casework.audit.operations import cli_actor

    try:
        with _db().session_scope() as session:
            grant_membership(session, cli_actor(), _user(session, name), _unit(session, unit_code), Role(role))
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{name}: {role} at {unit_code}")


@users_group.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for, e.g. hotline-sync")
def users_token(name: str, label: str) -> None:
    """Issue an API token for NAME. It is printed once; only its hash is stored."""
    from casework.accounts.operations import issue_api_token
    from casework.audit.operations import cli_actor

    with _db().session_scope() as session:
        user = _user(session, name)
        if not user.active:
            raise click.ClickException(f"{user.username} is disabled")
        token = issue_api_token(session, cli_actor(), user, label=label[:100])
    click.echo(token)
    click.echo("(shown once: store it now; send it as `Authorization: Bearer <token>`)", err=True)


@users_group.command("revoke-tokens")
@click.argument("name")
@click.option("--label", default=None, help="Only the tokens with this label")
def users_revoke_tokens(name: str, label: str | None) -> None:
    """Revoke NAME's API tokens (all of them, or those with a label)."""
    from casework.accounts.models import ApiToken
    from casework.accounts.operations import revoke_api_token
    from casework.audit.operations import cli_actor

    with _db().session_scope() as session:
        user = _user(session, name)
        q = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        if label is not None:
            q = q.where(ApiToken.label == label)
        tokens = list(session.scalars(q))
        for token in tokens:
            revoke_api_token(session, cli_actor(), token)
    click.echo(f"revoked {len(tokens)} token(s) of {name}")


@users_group.command("list")
def users_list() -> None:
    """Every staff account with its roles."""
    from casework.accounts.models import User

    with _db().session_scope(write=False) as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        rows = [(u.username, u.display_name, "yes" if u.active else "no",
                 ", ".join(sorted(f"{m.role.value}@{m.unit.code}" for m in u.memberships)) or "-")
                for u in users]
    table(("username", "display name", "active", "roles"), rows)


@users_group.command("demo")
def users_demo() -> None:
    """Create the demo staff (safe to run again) and print their logins. Demo only."""
    from casework.accounts.demo import ensure_demo_staff

    try:
        with _db().session_scope() as session:
            results = ensure_demo_staff(session)
    except LookupError as err:
        raise click.ClickException(f"{err} (run `changtong seed-demo`)") from None
    click.echo("Demo staff logins (DEMO ONLY: fixed passwords; never on a database with real cases):")
    table(("username", "password", "unit", "role", ""),
           [(r.spec.username, r.spec.password, r.spec.unit_code, r.spec.role.value,
             "new" if r.created else "") for r in results])


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
