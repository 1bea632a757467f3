"""`changtong users`: staff accounts, roles, API tokens and the demo logins."""
from click.testing import CliRunner
from sqlalchemy import func, select

from casework.accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from casework.accounts.models import ApiToken, User
from casework.accounts.operations import authenticate
from tests.web.test_cli import env_for
from web.cli import main

PASSWORD = "a long enough secret"


def run(settings, *args, input=None):
    return CliRunner().invoke(main, ["users", *args], env=env_for(settings), input=input)


def roles_of(db, username):
    with db.session_scope(write=False) as s:
        user = s.scalar(select(User).where(User.username == username))
        return None if user is None else sorted((m.unit.code, m.role.value) for m in user.memberships)


def test_create_with_password_from_stdin_then_sign_in(settings, db):
    result = run(settings, "create", "wang.li", "--unit", "miit", "--role", "handler",
                 "--display-name", "王力", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created wang.li" in result.output
    assert roles_of(db, "wang.li") == [("miit", "handler")]
    with db.session_scope() as s:
        user = authenticate(s, "wang.li", PASSWORD)
        assert user is not None and user.display_name == "王力"
        assert PASSWORD not in user.password_hash


def test_create_prompts_twice_for_the_password(settings, db):
    result = run(settings, "create", "li.na", "--unit", "mca", "--role", "handler", "--role", "unit_lead",
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert roles_of(db, "li.na") == [("mca", "handler"), ("mca", "unit_lead")]


def test_create_refuses_clearly(settings, db):
    ok = run(settings, "create", "zhao.qi", "--unit", "miit", "--role", "handler", "--password-stdin",
             input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    cases = [
        (["zhao.qi", "--unit", "miit", "--role", "handler"], PASSWORD, "username zhao.qi is taken"),
        (["short.pw", "--unit", "miit", "--role", "handler"], "short", "at least 10 characters"),
        (["no.unit", "--unit", "nowhere", "--role", "handler"], PASSWORD, "no unit has the code 'nowhere'"),
        (["Bad Name", "--unit", "miit", "--role", "handler"], PASSWORD, "username: 3-64"),
        (["triager", "--unit", "miit", "--role", "triage_operator"], PASSWORD, "platform triage unit"),
        (["no.role", "--unit", "miit", "--role", "boss"], PASSWORD, "Invalid value for '--role'"),
    ]
    for args, password, message in cases:
        result = run(settings, "create", *args, "--password-stdin", input=password + "\n")
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_grant_and_list(settings, db):
    run(settings, "create", "chen.yu", "--unit", "miit", "--role", "handler", "--password-stdin",
        input=PASSWORD + "\n")
    assert run(settings, "grant", "chen.yu", "--unit", "samr", "--role", "unit_lead").exit_code == 0
    assert run(settings, "grant", "chen.yu", "--unit", "samr", "--role", "unit_lead").exit_code == 0  # again
    assert roles_of(db, "chen.yu") == [("miit", "handler"), ("samr", "unit_lead")]
    assert "no user is called 'nobody'" in run(settings, "grant", "nobody", "--unit", "miit", "--role",
                                               "handler").output
    listing = run(settings, "list").output
    assert "chen.yu" in listing and "handler@miit, unit_lead@samr" in listing


def test_token_is_printed_once_and_opens_the_staff_api(settings, db, client):
    run(settings, "create", "sun.hao", "--unit", "miit", "--role", "handler", "--password-stdin",
        input=PASSWORD + "\n")
    result = run(settings, "token", "sun.hao", "--label", "hotline")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("ct_") and "\n" not in token
    with db.session_scope(write=False) as s:
        row = s.scalar(select(ApiToken))
        assert row.label == "hotline" and token not in row.token_hash
    me = client.get("/api/v1/desk/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "sun.hao"

    assert "revoked 1 token(s)" in run(settings, "revoke-tokens", "sun.hao").output
    assert client.get("/api/v1/desk/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert run(settings, "token", "nobody").exit_code != 0


def test_demo_staff_are_made_once_and_can_sign_in(settings, db):
    first = run(settings, "demo")
    assert first.exit_code == 0, first.output
    for spec in DEMO_STAFF:
        assert spec.username in first.output
    assert DEMO_PASSWORD in first.output and "DEMO ONLY" in first.output
    again = run(settings, "demo")
    assert again.exit_code == 0, again.output
    assert " new" not in again.output
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(User)) == len(DEMO_STAFF)
        assert authenticate(s, "demo-handler-miit", DEMO_PASSWORD) is not None
    assert roles_of(db, "demo-lead-miit") == [("miit", "unit_lead")]
    assert roles_of(db, "demo-triage") == [("triage", "triage_operator")]
    assert roles_of(db, "demo-supervisor") == [("swd-central", "supervisor")]
    assert roles_of(db, "demo-admin") == [("mca", "administrator")]
    wanted = {("miit", "handler"), ("miit", "unit_lead"), ("mca", "handler"), ("samr", "handler"),
              ("sc-economy-it", "handler"), ("swd-central", "handler"),
              ("triage", "triage_operator"), ("caam-mediation", "handler"), ("swd-central", "supervisor"),
              ("mca", "administrator"), ("miit", "custodian")}
    assert {(d.unit_code, d.role.value) for d in DEMO_STAFF} == wanted
