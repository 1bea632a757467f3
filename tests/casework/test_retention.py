"""Retention, with the clock frozen: a case closed longer than the period loses its personal
data and files; one closed a day less keeps them; statistics count the same."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import ActorKind, Attachment, Case, CaseType, Channel, EventKind
from casework.context import Services
from casework.intake.operations import submit_case
from casework.intake.validation import validate_submission
from casework.notify.models import OutboxMessage
from casework.retention.operations import PERSONAL, erase_expired
from casework.stats import queries, rollup
from casework.workflow.machine import perform

BASE = datetime(2023, 3, 6, 2, 0, tzinfo=timezone.utc)
IDENTITY = {"name": "李四", "phone": "13900139000", "email": "li@example.cn", "id_number": "11010519491231002X"}


def at(services, moment):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files, clock=lambda: moment)


def closed_case(db, services, submission_data, when, **changes) -> str:
    """A case filed and withdrawn (a report: not opened by its unit) at ``when``, with one
    uploaded file."""
    clock = at(services, when)
    with db.session_scope() as s:
        sub, errors = validate_submission(s, submission_data(**changes))
        assert not errors, errors
        number = submit_case(s, clock, sub, channel=Channel.api).case_number
        case = s.scalar(select(Case).where(Case.number == number))
        key = services.files.new_key()
        services.files.put(key, "orig", b"original evidence")
        services.files.put(key, "staff", b"staff copy")
        s.add(Attachment(case_id=case.id, filename="凭证.png", content_type="image/png", size=17, sha256="0" * 64,
                         storage_key=key, uploaded_at=when))
        if case.type is CaseType.report:  # a reporter's withdrawal does not end a report: its unit does
            unit = Actor(ActorKind.staff, roles=frozenset({(case.unit_id, Role.handler)}))
            perform(s, clock, unit, case, "not_accept", reason="unverifiable", public_text="举报内容无法核实，不予立案。")
        else:
            perform(s, clock, Actor.complainant(case.id), case, "withdraw", public_text="不再需要处理")
    return number


def load(s, number) -> Case:
    return s.scalar(select(Case).where(Case.number == number))


def figures(db, services, now):
    rollup.refresh(db, lambda: now, full=True)
    with db.session_scope(write=False) as s:
        period = queries.Period(rollup.month_of(BASE - timedelta(days=60)), rollup.month_of(now))
        return queries.totals(s, period), queries.totals(s, period, type="report")


def test_cases_closed_longer_than_the_period_are_erased_and_statistics_stay(db, services, submission_data):
    assert services.settings.retention_days == 1095
    old = closed_case(db, services, submission_data, BASE, type="report", category="illegal_fees",
                      complainant=dict(IDENTITY))
    recent = closed_case(db, services, submission_data, BASE + timedelta(days=2))
    anon = closed_case(db, services, submission_data, BASE, type="report", category="illegal_fees",
                       anonymous=True, complainant=None)
    now = BASE + timedelta(days=1096, hours=1)  # old: closed 1096 days ago; recent: 1094
    later = at(services, now)
    with db.session_scope(write=False) as s:
        old_key = s.scalar(select(Attachment.storage_key).join(Case).where(Case.number == old))
        recent_key = s.scalar(select(Attachment.storage_key).join(Case).where(Case.number == recent))
        assert s.scalar(select(OutboxMessage.id).join(Case, Case.id == OutboxMessage.case_id)
                        .where(Case.number == old)) is not None  # the receipt notice, for the check below
    before = figures(db, services, now)

    dry = erase_expired(db, later, dry_run=True)
    # each: its upload and the written 不予受理告知书 of its unit (casework.documents)
    assert sorted(dry.cases) == sorted([old, anon]) and dry.files == 4
    with db.session_scope(write=False) as s:
        assert load(s, old).complainant_phone_enc is not None  # a dry run changes nothing

    result = erase_expired(db, later)
    assert sorted(result.cases) == sorted([old, anon]) and result.files == 4 and result.outbox >= 1
    with db.session_scope(write=False) as s:
        case = load(s, old)
        assert all(getattr(case, col) is None for col in PERSONAL)
        assert case.state.value == "not_accepted" and case.category.code == "illegal_fees" and case.unit_id
        att = s.scalar(select(Attachment).where(Attachment.case_id == case.id))
        assert att.erased_at is not None and att.filename == "-" and att.size == 17
        assert all(m.recipient_enc is None and m.payload_enc is None
                   for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)))
        erased = [e for e in case.events if e.kind is EventKind.erased]
        assert len(erased) == 1 and not erased[0].is_public
        kept = load(s, recent)
        assert kept.complainant_phone_enc is not None
        assert not any(e.kind is EventKind.erased for e in kept.events)
    with pytest.raises(FileNotFoundError):
        services.files.get(old_key, "orig")
    with pytest.raises(FileNotFoundError):
        services.files.get(old_key, "staff")
    assert services.files.get(recent_key, "orig") == b"original evidence"

    assert figures(db, services, now) == before  # statistics count the same
    # idempotent: nothing more to do; two days later the recent one goes too
    assert erase_expired(db, later).cases == []
    assert erase_expired(db, at(services, now + timedelta(days=2))).cases == [recent]


def test_the_period_is_a_setting(db, services, submission_data):
    number = closed_case(db, services, submission_data, BASE)
    short = replace(services.settings, retention_days=30)
    svc = Services(settings=short, cipher=services.cipher, files=services.files,
                   clock=lambda: BASE + timedelta(days=31))
    assert erase_expired(db, svc).cases == [number]


def test_the_period_is_shown_to_administrators_and_the_command_runs(app, db, make_staff, settings):
    import re

    from click.testing import CliRunner

    from casework.accounts.models import Role, User

    admin = make_staff("mca", Role.administrator)
    client = app.test_client()
    with db.session_scope(write=False) as s:
        username = s.scalar(select(User.username).where(User.id == admin.user_id))
    page = client.get("/staff/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"csrf_token": csrf, "username": username, "password": "correct horse battery"})
    html = client.get("/admin/").get_data(as_text=True)
    assert 'id="retention-days"' in html and "1095" in html
    from tests.web.test_cli import env_for
    from web.cli import main

    out = CliRunner().invoke(main, ["retention", "run", "--dry-run"], env=env_for(settings))
    assert out.exit_code == 0, out.output
    assert "1095 days" in out.output and "Would erase 0 case(s)" in out.output


def test_the_worker_runs_it_daily(settings):
    from workers.app import make_celery

    celery = make_celery(settings)
    entry = celery.conf.beat_schedule["erase-expired"]
    assert entry["task"] == "changtong.erase_expired" and entry["schedule"] == 24 * 3600
    assert "changtong.erase_expired" in celery.tasks
