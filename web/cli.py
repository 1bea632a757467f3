"""The `changtong` command: a Flask CLI group with the project's own commands."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import select

from casework import migrate
from casework.accounts.models import Role
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
    click.echo(f"CHANGTONG_IDENTITY_KEY={new_key()}")
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
    from web.cli_admin_registry import import_associations_cmd as run

    run(path)


# -- staff accounts ----------------------------------------------------------------------

ROLE_NAMES = [r.value for r in Role]


@main.group("users")
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
    _table(("username", "display name", "active", "roles"), rows)


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
    _table(("username", "password", "unit", "role", ""),
           [(r.spec.username, r.spec.password, r.spec.unit_code, r.spec.role.value,
             "new" if r.created else "") for r in results])


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(_width(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        click.echo("  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)).rstrip())


from web.cli_admin import routing_group  # noqa: E402
from web.cli_admin_registry import associations_group, audit_cmd, categories_group, units_group  # noqa: E402
from web.cli_admin_users import users_disable  # noqa: E402,F401  (adds its commands to the users group)
from web.cli_calendar import calendar_group  # noqa: E402
from web.cli_search import reindex_command  # noqa: E402
from web.cli_stats import stats_group  # noqa: E402

main.add_command(routing_group)
main.add_command(associations_group)
main.add_command(units_group)
main.add_command(categories_group)
main.add_command(audit_cmd)
main.add_command(calendar_group)
main.add_command(reindex_command)
main.add_command(stats_group)
from web.cli_retention import retention_group  # noqa: E402
main.add_command(retention_group)
from web.cli_backup import backup_group  # noqa: E402
main.add_command(backup_group)
