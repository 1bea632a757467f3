"""The deadline sweep: reminders, overdue flags, supervision in levels, closing unrated
replies, each once however often it runs."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, Event, EventKind
from casework.context import Services
from casework.deadlines.sweep import sweep
from casework.notify.models import OutboxMessage
from casework.workflow.machine import perform
from tests.conftest import BASIS


def clock_at(services, moment):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                    clock=lambda: moment)


def kinds(db, case_id):
    with db.session_scope(write=False) as s:
        return [e.kind for e in s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id))]


def case(db, case_id):
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id)


def notices(db, template):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == template))


def test_reminder_overdue_and_supervision_each_once(db, services, file_case):
    filed = file_case().case_id  # complaint: 7 working days to decide on acceptance
    due = case(db, filed).due_at
    before = clock_at(services, due - timedelta(days=1))
    assert sweep(db, before).reminded == 1
    assert sweep(db, before).reminded == 0  # a rerun reminds nobody twice
    after = clock_at(services, due + timedelta(hours=1))
    report = sweep(db, after)
    assert (report.overdue, report.supervised) == (1, 1)
    assert sweep(db, after).as_dict() | {"queries": 0} == {"announced": 0, "reminded": 0, "overdue": 0,
                                                          "supervised": 0, "closed": 0, "queries": 0, "errors": 0}
    c = case(db, filed)
    assert c.overdue and c.supervision_level == 1
    # N working days later the second level goes out, once
    much_later = clock_at(services, due + timedelta(days=10))
    assert sweep(db, much_later).supervised == 1
    assert sweep(db, much_later).supervised == 0
    assert case(db, filed).supervision_level == 2
    assert kinds(db, filed).count(EventKind.supervised) == 1  # level 2; level 1 is in the overdue event
    with db.session_scope(write=False) as s:
        overdue = s.scalar(select(Event).where(Event.case_id == filed, Event.kind == EventKind.overdue))
        assert overdue.data["supervision_level"] == 1 and overdue.data["supervision_unit_id"]
    assert kinds(db, filed).count(EventKind.reminder) == 1 and kinds(db, filed).count(EventKind.overdue) == 1
    assert notices(db, "unit_reminder") == 1 and notices(db, "unit_overdue") == 1
    assert notices(db, "supervision_1") == 1 and notices(db, "supervision_2") == 1


def test_a_paused_case_is_not_marked_overdue_and_gets_the_pause_back(db, services, file_case, make_staff):
    filed = file_case().case_id
    handler = make_staff("miit", Role.handler)
    start = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    # accepted 55 days before the material is asked for: the 60-day handling deadline passes
    # while the complainant still has time to supply it (15 days, 办法 第十五条)
    with db.session_scope() as s:
        perform(s, clock_at(services, start - timedelta(days=55)), handler, s.get(Case, filed), "accept")
    due = case(db, filed).due_at
    with db.session_scope() as s:
        perform(s, clock_at(services, start), handler, s.get(Case, filed), "request_info",
                public_text="请补充缴费凭证。")
    assert due + timedelta(days=1) < case(db, filed).info_due_at
    assert sweep(db, clock_at(services, due + timedelta(days=1))).overdue == 0
    # answered a week later: five working days of pause are added to the deadline
    from casework.accounts.actor import Actor

    with db.session_scope() as s:
        perform(s, clock_at(services, start + timedelta(days=7)), Actor.complainant(filed), s.get(Case, filed),
                "supply_info", public_text="凭证已上传。")
    c = case(db, filed)
    assert c.state is S.accepted and c.paused_at is None
    assert (c.due_at.date() - due.date()).days >= 7


def test_a_reply_not_rated_in_time_is_closed(db, services, file_case, make_staff):
    filed = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        c = s.get(Case, filed)
        perform(s, services, handler, c, "accept")
        perform(s, services, handler, c, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已停止强制入会做法并退还会费。")
    due = case(db, filed).due_at
    assert sweep(db, clock_at(services, due - timedelta(hours=1))).closed == 0
    assert sweep(db, clock_at(services, due + timedelta(hours=1))).closed == 1
    assert case(db, filed).state is S.closed
    assert kinds(db, filed)[-1] is EventKind.closed


def test_the_sweep_touches_only_due_cases(db, services, file_case):
    for _ in range(5):
        file_case()
    assert sweep(db, services).announced == 5  # the unit is told of its new cases, once
    report = sweep(db, services)  # nothing is due today
    assert report.as_dict() | {"queries": 0} == {"announced": 0, "reminded": 0, "overdue": 0, "supervised": 0,
                                                 "closed": 0, "queries": 0, "errors": 0}


def test_a_unit_gets_one_digest_not_one_mail_per_case(db, services, file_case):
    import json

    filed = [file_case().case_id for _ in range(3)]
    due = max(case(db, c).due_at for c in filed)
    sweep(db, clock_at(services, due + timedelta(hours=1)))
    with db.session_scope(write=False) as s:
        [digest] = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "unit_overdue")).all()
        payload = json.loads(services.cipher.decrypt(digest.payload_enc, "outbox.payload"))
        numbers = {s.get(Case, c).number for c in filed}
    assert payload["count"] == 3 and set(payload["case_numbers"].split()) == numbers


def test_a_short_digest_says_nothing_of_more_cases():
    """A digest that lists every case had "（另有 0 件）" in it; one that lists some says how many more."""
    from casework.notify.templates import placeholders, render

    values = {"count": 3, "case_numbers": "TS1 TS2 TS3", "more": 0}
    zh, en = render("unit_overdue", "zh_CN", values)[1], render("unit_overdue", "en", values)[1]
    assert "TS1 TS2 TS3。" in zh and "另有" not in zh and "more" not in en and "TS1 TS2 TS3." in en
    values = {"count": 25, "case_numbers": "TS1 TS2", "more": 23}
    assert "TS1 TS2（另有 23 件）" in render("unit_overdue", "zh_CN", values)[1]
    assert "TS1 TS2 (and 23 more)" in render("unit_overdue", "en", values)[1]
    assert "more" in placeholders("unit_overdue")  # an override written with $more still validates


def test_an_english_digest_of_one_case_reads_right():
    """"1 of your unit's cases are past their deadline" was what a unit with one overdue case read:
    every digest's English text names its count in brackets, right for one case as for many."""
    from casework.notify.templates import TEMPLATES, render

    digests = [name for name, texts in TEMPLATES.items() if "$count" in texts["en"][1]]
    assert set(digests) == {"unit_new_case", "unit_reminder", "unit_overdue", "supervision_1", "supervision_2"}
    for name in digests:
        body = render(name, "en", {"count": 1, "case_numbers": "TS1", "more": 0})[1]
        assert "(1): TS1." in body and " are " not in body and "1 overdue cases" not in body, body


def test_a_unit_is_told_of_new_cases_awaiting_its_acceptance_once_and_again_after_a_transfer(
        db, services, file_case, make_staff):
    """A unit hears of the cases routed to it by e-mail, in one digest per sweep, not one e-mail
    per case; a case transferred to another unit is new to that unit; a case already accepted is
    not announced (the unit decided on it)."""
    import json

    from casework.registry.models import Unit

    filed = [file_case().case_id for _ in range(3)]
    with db.session_scope(write=False) as s:
        first_unit = s.get(Case, filed[0]).unit_id
        numbers = {s.get(Case, c).number for c in filed}
        other = s.scalar(select(Unit.id).where(Unit.code == "samr"))
    assert {case(db, c).unit_id for c in filed} == {first_unit} and other != first_unit
    assert sweep(db, services).announced == 3
    assert sweep(db, services).announced == 0
    with db.session_scope(write=False) as s:
        [digest] = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "unit_new_case")).all()
        assert services.cipher.decrypt_text(digest.recipient_enc, "outbox.recipient") == s.get(Unit, first_unit).notice_email
        payload = json.loads(services.cipher.decrypt(digest.payload_enc, "outbox.payload"))
    assert payload["count"] == 3 and set(payload["case_numbers"].split()) == numbers
    handler = make_staff(_code(db, first_unit), Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, filed[0]), "transfer", unit_id=str(other), reason="other_unit_competent")
        perform(s, services, handler, s.get(Case, filed[1]), "accept")
    assert case(db, filed[0]).unit_id == other
    assert sweep(db, services).announced == 1  # the transferred case, to its new unit
    with db.session_scope(write=False) as s:
        digests = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "unit_new_case")
                            .order_by(OutboxMessage.id)).all()
        assert len(digests) == 2
        assert services.cipher.decrypt_text(digests[1].recipient_enc, "outbox.recipient") == s.get(Unit, other).notice_email


def _code(db, unit_id):
    from casework.registry.models import Unit

    with db.session_scope(write=False) as s:
        return s.get(Unit, unit_id).code


def test_the_unannounced_cases_are_read_from_their_partial_index(db):
    """At a million cases the sweep finds the few not announced yet from ix_case_unannounced,
    every five minutes, on SQLite and on PostgreSQL, without reading every case."""
    from casework.deadlines.sweep import unannounced
    from tests.plans import plan

    with db.session_scope(write=False) as s:
        shown = plan(db, s.connection(), unannounced(db, 1000))
    assert "ix_case_unannounced" in shown, shown
