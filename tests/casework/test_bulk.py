"""Assigning many cases at once: each in its own savepoint, so a stale or refused case leaves
the others assigned, and one commit keeps them."""
from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Case, Event, EventKind
from casework.workflow.bulk import perform_many


def test_one_stale_and_one_foreign_case_leave_the_others_assigned(db, services, file_case, make_staff):
    lead, handler = make_staff("miit", Role.unit_lead), make_staff("miit", Role.handler)
    ids = [file_case().case_id for _ in range(3)]
    with db.session_scope(write=False) as s:
        unit_id = s.get(Case, ids[0]).unit_id
        versions = {i: str(s.get(Case, i).version) for i in ids}
    versions[ids[1]] = "999"  # the lead saw an older page
    versions[123456789] = "1"  # a case that is not (or no longer) in the queue
    with db.session_scope() as s:
        result = perform_many(s, services, lead, unit_id, versions, "assign", handler_id=str(handler.user_id))
    with db.session_scope(write=False) as s:
        numbers = {i: s.get(Case, i).number for i in ids}
        assigned = {i for i in ids if s.get(Case, i).handler_id == handler.user_id}
        events = s.scalars(select(Event.case_id).where(Event.kind == EventKind.assigned)).all()
    assert result.done == [numbers[ids[0]], numbers[ids[2]]] and result.stale == [numbers[ids[1]]]
    assert result.elsewhere == 1 and not result.refused
    assert assigned == {ids[0], ids[2]} and sorted(events) == sorted([ids[0], ids[2]])


def test_a_refused_handler_is_reported_once_per_reason(db, services, file_case, make_staff):
    lead = make_staff("miit", Role.unit_lead)
    outsider = make_staff("mca", Role.handler)
    ids = [file_case().case_id for _ in range(2)]
    with db.session_scope(write=False) as s:
        unit_id = s.get(Case, ids[0]).unit_id
        versions = {i: str(s.get(Case, i).version) for i in ids}
    with db.session_scope() as s:
        result = perform_many(s, services, lead, unit_id, versions, "assign", handler_id=str(outsider.user_id))
    assert not result.done and len(result.refused) == 2
    [(reason, numbers)] = result.reasons()
    assert reason[0].msgid == "Choose a handler of this unit." and len(numbers) == 2
