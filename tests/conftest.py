"""Shared fixtures: a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL),
migrated once per run with Alembic, demo registry loaded once. Each test runs in one
transaction rolled back at its end: every session of the test (its own, the app's request
sessions, operations through session_scope, the CLI run in-process) joins it through a
SAVEPOINT. A test marked ``commits`` (its data must reach another connection: a worker
process, a live server thread, racing threads, a backup) commits for real, and every table
but the demo registry is emptied after it. Factories return callables."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.ddl import sort_tables

from casework import migrate
from casework.context import Services
from casework.db import Database
from casework.settings import Settings, new_key

# the laws a complaint's reply names for its opinion (信访工作条例 第三十二条)
BASIS = "《国务院办公厅关于进一步规范行业协会商会收费的通知》"

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "web" / "translations"


def pytest_configure(config):
    """Stop at once when a catalog is not compiled: without the .mo files the pages come out
    in English and dozens of tests fail without saying why."""
    stale = [str(po.with_suffix(".mo").relative_to(ROOT)) for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
             if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if stale:
        pytest.exit(f"the translations are not compiled: {', '.join(stale)} is missing or older than its messages.po. "
                    "Run `make translations` (or `.venv/bin/pybabel compile -d web/translations -D messages`), "
                    "then the tests again.", returncode=pytest.ExitCode.USAGE_ERROR)


def _reads_database_env(path: Path, _seen: dict = {}) -> bool:  # noqa: B006 - a per-run cache
    if path not in _seen:
        _seen[path] = "TEST_DATABASE_URL" in path.read_text(encoding="utf-8")
    return _seen[path]


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass (TEST_DATABASE_URL on PostgreSQL, the second half of `make test`) runs
    only the tests that reach a database: those taking the ``database_url`` fixture (``db``,
    ``app``, ``client``… all do), those marked ``postgres`` and those whose module reads
    TEST_DATABASE_URL itself. The others ran identically on SQLite a moment before."""
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    keep, dropped = [], []
    for item in items:
        if ("database_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres") is not None
                or _reads_database_env(Path(str(item.fspath)))):
            keep.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def needs_service(reason: str):
    """Skip outside CI only; in CI a missing service is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"CI requires this service: {reason}")
    pytest.skip(reason)  # never in CI: the line above fails there


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _this_workers(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"  # each xdist worker's own tmp dir


def _this_workers(url: str) -> str:
    """Under pytest-xdist (`make test` runs the suite in two processes) each worker uses a
    PostgreSQL database of its own beside TEST_DATABASE_URL's (``test_gw0``, ``test_gw1``),
    made when missing: the ``db`` fixture drops and recreates the schema of the one it uses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    import sqlalchemy as sa

    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


def make_settings(database_url: str, data_dir: Path, **overrides) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "CHANGTONG_DATA_DIR": str(data_dir),
        "CHANGTONG_SECRET_KEY": new_key(),
        "CHANGTONG_PII_KEY": new_key(),
        "CHANGTONG_QUERY_PEPPER": new_key(),
    }
    overrides.setdefault("testing", True)
    return Settings.from_env(env, **overrides)


@pytest.fixture(scope="session")
def settings(database_url, data_dir) -> Settings:
    return make_settings(database_url, data_dir)


@pytest.fixture(scope="session")
def db(settings) -> Database:
    database = Database(settings.database_url)
    if not database.is_sqlite:
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(settings.database_url)
    from casework.registry.demo import load_demo

    with database.session_scope() as session:
        load_demo(session)
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashes():
    """Staff passwords are hashed with argon2id at a small cost in the tests' own process (1 MiB,
    one pass: under a millisecond instead of ~100 ms, which was half the suite's time); the same
    code, and processes the tests start (gunicorn, workers) keep the real parameters."""
    from argon2 import PasswordHasher

    from casework.accounts import passwords

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    mp = pytest.MonkeyPatch()
    mp.setattr(passwords, "_hasher", quick)
    mp.setattr(passwords, "_DUMMY", quick.hash("not a password of anyone"))  # the unknown user's, as cheap
    yield
    mp.undo()


@pytest.fixture(scope="session")
def _emptied_after_commits(db) -> list[str]:
    """The tables a committing test empties, children first: every table but those holding
    rows once migrated and seeded (the demo registry, the default limits, alembic_version)."""
    meta = MetaData()
    with db.engine.connect() as conn:
        meta.reflect(conn)
        empty = [t for t in meta.tables.values() if conn.scalar(select(func.count()).select_from(t)) == 0]
    return [t.name for t in reversed(sort_tables(empty))]


@pytest.fixture(autouse=True)
def _fresh_public_figures():
    """The public statistics' settled figures are kept per process and database
    (casework.stats.published); the tests share one database, so each test starts without them
    (a slow machine would otherwise serve one test the figures kept from another)."""
    from casework.stats import published

    with published._lock:
        published._cache.clear()
    yield


@pytest.fixture(autouse=True)
def _isolation(request):
    """Every test that touches the database runs in one transaction, rolled back at its end;
    a test marked ``commits`` commits, and its rows are deleted afterwards."""
    if "db" not in request.fixturenames:
        yield
        return
    database: Database = request.getfixturevalue("db")
    emptied = request.getfixturevalue("_emptied_after_commits")
    if request.node.get_closest_marker("commits"):
        yield
        with database.engine.begin() as conn:
            for table in emptied:
                conn.execute(text(f'DELETE FROM "{table}"'))
        return
    from web.cli import main as cli_main

    mp = pytest.MonkeyPatch()
    with database.engine.connect() as conn:
        outer = conn.begin()
        joined = sessionmaker(conn, class_=JoinedSession, expire_on_commit=False,
                              join_transaction_mode="create_savepoint")
        mp.setattr(database, "read", joined)
        mp.setattr(database, "write", joined)
        # the CLI run in-process (CliRunner) builds its app from the environment: with this database
        mp.setattr(cli_main, "create_app", lambda: _cli_app(database))
        try:
            yield
        finally:
            mp.undo()
            outer.rollback()  # the reference version goes back with it: the cached copy is reloaded


class JoinedSession(Session):
    """A session of a test: its transaction is a SAVEPOINT on the test's connection. Closed
    without a commit or a rollback, one that wrote nothing releases its savepoint instead of
    rolling back to it: ROLLBACK TO would also undo what another session committed inside it
    meanwhile (a request made while the test's read session is open), which a transaction of
    its own never did."""

    def close(self) -> None:
        transaction = self.get_transaction()
        if transaction is not None and transaction.is_active and not self.info.get("wrote"):
            self.commit()
        super().close()


@event.listens_for(JoinedSession, "before_flush")
def _flushing(session, _ctx, _instances) -> None:
    session.info["wrote"] = True


@event.listens_for(JoinedSession, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)


@event.listens_for(JoinedSession, "do_orm_execute")
def _executed(state) -> None:
    if not state.is_select:
        state.session.info["wrote"] = True


def _cli_app(database: Database):
    from web.app import create_app

    return create_app(Settings.from_env(), database=database)


@pytest.fixture(scope="session")
def services(settings) -> Services:
    return Services.from_settings(settings)


@pytest.fixture
def session(db):
    with db.session_scope() as s:
        yield s


@pytest.fixture(scope="session")
def app(settings, db, services):
    from web.app import create_app

    return checking_kept_answers(create_app(settings, services=services, database=db))


def checking_kept_answers(app):
    """Every answer of ``GET /api/v1/cases/<n>`` in the suite is also made again with nothing
    kept (web.api.answers), in the same request, and the two must be the same bytes: a change
    of a case that the kept answer's key misses fails whichever test made it and asked again."""
    from flask import current_app

    from web.api.answers import Answers

    view = app.view_functions["api.get_case"]
    plain = view.__wrapped__  # without the lookups' limit: a wrong code is counted once

    def checked(**kw):
        given = current_app.make_response(view(**kw))
        if not current_app.config.get("CHECK_KEPT_ANSWERS", True) or given.status_code != 200:
            return given
        kept = current_app.extensions.get("changtong.answers")
        current_app.extensions["changtong.answers"] = Answers()
        try:
            made = current_app.make_response(plain(**kw))
        finally:
            current_app.extensions["changtong.answers"] = kept
        assert (given.status_code, given.get_data()) == (made.status_code, made.get_data()), \
            "a kept case API answer differs from the one made now"
        return given

    app.view_functions["api.get_case"] = checked
    return app


@pytest.fixture
def one_answer(app, monkeypatch):
    """The case API's GET as it runs, not made a second time to check the kept answer."""
    monkeypatch.setitem(app.config, "CHECK_KEPT_ANSWERS", False)


@pytest.fixture
def client(app):
    from web.extensions import limiter

    with app.app_context():  # the counters of this app's database
        limiter.reset()
    return app.test_client()


@pytest.fixture
def submission_data():
    """A valid complaint as the JSON API takes it; tests change what they need."""

    def make(**changes):
        data = {
            "type": "complaint",
            "association": "51100000500009247D",
            "category": "forced_membership",
            "title": "强制入会并收取会费",
            "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
            "complainant": {"name": "张三", "phone": "13800138000"},
            "privacy_consent": True,
        }
        return changed(data, changes)

    return make


def changed(data: dict, changes: dict) -> dict:
    """``data`` with ``changes`` applied: a value replaces the field, None removes it."""
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def file_case(db, services, submission_data):
    """Files a case through the domain operation and commits; returns the receipt."""
    from casework.cases.models import Channel
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission

    def make(**changes):
        with db.session_scope() as s:
            sub, errors = validate_submission(s, submission_data(**changes))
            assert not errors, errors
            return submit_case(s, services, sub, channel=Channel.api, phone_verified="sms")  # a proved number

    return make


@pytest.fixture
def make_staff(db):
    """make_staff("miit", Role.handler) -> Actor (a new user with that role in that unit)."""
    from sqlalchemy import select

    from casework.accounts.actor import Actor
    from casework.accounts.models import Role, User
    from casework.accounts.operations import create_user, grant_role
    from casework.registry.models import Unit

    counter = iter(range(1, 10_000))

    def make(unit_code: str, *roles: Role, username: str | None = None, password: str = "correct horse battery"):
        with db.session_scope() as s:
            unit = s.scalar(select(Unit).where(Unit.code == unit_code))
            name = username or f"{unit_code}-{roles[0].value}-{next(counter)}".replace("_", "-")
            user = create_user(s, name, f"{unit.name} {roles[0].value}", password)
            for role in roles:
                grant_role(s, user, unit, role)
            s.flush()
            user = s.scalar(select(User).where(User.id == user.id))
            return Actor.staff(user)

    return make


@pytest.fixture(scope="session")
def cjk_pdf():
    """WeasyPrint needs Pango and the Noto CJK fonts from the system (Debian packages)."""
    import shutil
    import subprocess

    try:
        import weasyprint  # noqa: F401  (fails without Pango)
    except OSError as exc:
        needs_service(f"Pango for WeasyPrint (apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}")
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    if "Noto Sans CJK" not in fonts:
        needs_service("Noto CJK fonts (apt-get install fonts-noto-cjk)")


@pytest.fixture
def mediation(db, file_case):
    """A mediation request about 中国汽车工业协会 (routed to its mediation body); its case id."""
    from sqlalchemy import select

    from casework.registry.models import Association

    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    return file_case(type="mediation", category="member_contract", association=caam, claim="请求对方支付货款三十万元。",
                     amount="300000", respondent={"name": "某某零部件有限公司", "kind": "member_company",
                                                  "phone": "13900139000"})


# -- statistics: a hand-counted set of cases ---------------------------------------------------

@pytest.fixture
def act(db, services, make_staff):
    """act(case_id, move, **fields): the complainant rates and asks for review; anything else
    is done by a handler of the case's unit. Returns the case's new state."""
    from casework.accounts.actor import Actor
    from casework.accounts.models import Role
    from casework.cases.models import Case
    from casework.registry.models import Unit
    from casework.workflow.machine import perform

    handlers = {}

    def do(case_id, name, **fields):
        actor = Actor.complainant(case_id) if name in ("rate", "request_review") else None
        if actor is None:
            with db.session_scope(write=False) as s:
                code = s.get(Unit, s.get(Case, case_id).unit_id).code
            if code not in handlers:
                handlers[code] = make_staff(code, Role.handler)
            actor = handlers[code]
        with db.session_scope() as s:
            c = s.get(Case, case_id)
            perform(s, services, actor, c, name, **fields)
            return c.state

    return do


@pytest.fixture
def hand_counted(db, services, file_case, act):
    """Five cases about 中国复合材料工业协会, filed now, whose figures are counted by hand:
    a accepted, replied (substantiated, the request supported), rated satisfied, closed; b not
    accepted; c accepted, replied (the request not supported), review asked (now decided one level
    up, at 中央社会工作部); d left past its acceptance
    deadline (overdue, supervised by the sweep); e a report accepted and replied (not
    substantiated), which closes it (a report is neither rated nor reviewed).
    Totals: received 5, accepted 3, not_accepted 1, replied 3, concluded 3, on_time 3,
    overdue_now 1, ever_overdue 1, rated 2, satisfied 1, reviewed 1, supervised 1,
    with_finding 2, substantiated 1, with_opinion 2, supported 1."""
    from datetime import timedelta

    from casework.cases.models import Case, CaseState
    from casework.context import Services
    from casework.deadlines.sweep import sweep

    reply = "经核查，协会已停止强制入会做法并退还会费。"
    a, b, c, d = (file_case().case_id for _ in range(4))
    e = file_case(type="report", title="协会违规收费", description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    act(a, "accept")
    act(a, "reply", opinion="supported", legal_basis=BASIS, public_text=reply, finding="substantiated")
    assert act(a, "rate", rating="satisfied") is CaseState.closed
    act(b, "not_accept", reason="no_clear_request", public_text="投诉事项不明确，请补充具体事实后重新提交。")
    act(c, "accept")
    act(c, "reply", opinion="not_supported", legal_basis=BASIS, public_text=reply)
    act(c, "request_review", public_text="答复没有解决问题，请复查。")
    act(e, "accept")
    act(e, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，未发现违规收费情况。", finding="not_substantiated")
    with db.session_scope(write=False) as s:
        due = s.get(Case, d).due_at
    later = due + timedelta(hours=1)
    sweep(db, Services(settings=services.settings, cipher=services.cipher, files=services.files,
                       clock=lambda: later))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


@pytest.fixture
def sms_code(db, services):
    """The last verification code queued by SMS to a number (tests.phone_codes)."""
    from tests.phone_codes import last_code

    return lambda phone="13800138000": last_code(db, services, phone)


@pytest.fixture
def post_filing():
    """Post a filing form, going through the SMS code step when it asks (tests.phone_codes)."""
    from tests.phone_codes import post_filing

    return post_filing
