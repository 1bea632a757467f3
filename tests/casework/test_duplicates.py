"""Repeated complaints: linking a case as a duplicate (link_duplicate), similar cases for the
desk (casework.search.similar.similar_cases) and the public counts of open matters
(open_matters), which never go below 3."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, EventKind
from casework.cases.queries import public_events
from casework.registry.models import Association
from casework.search import sync
from casework.search.similar import open_matters, similar_cases, unit_keys
from casework.search.whoosh_backend import WhooshBackend
from casework.workflow import machine
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed

LONG = "，请协会依法处理并答复。"


@pytest.fixture
def backend(tmp_path):
    return WhooshBackend(tmp_path / "search")


def link(db, services, actor, case_id, **fields):
    with db.session_scope() as s:
        case = s.get(Case, case_id)
        return machine.perform(s, services, actor, case, "link_duplicate", **fields).id


def number(db, case_id):
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id).number


# -- link_duplicate --------------------------------------------------------------------------

def test_a_handler_links_a_duplicate_the_original_gets_a_note_the_complainant_is_told(
        db, services, file_case, make_staff):
    original = file_case()
    dup = file_case(title="又被强制入会收会费")
    handler = make_staff("miit", Role.handler)
    text = "您反映的问题已由案件 %s 办理。" % original.case_number
    link(db, services, handler, dup.case_id, duplicate_of=original.case_number.lower(), public_text=text)
    with db.session_scope(write=False) as s:
        case = s.get(Case, dup.case_id)
        assert case.state is S.closed and case.stage is None and case.due_at is None
        ev = case.events[-1]
        assert ev.kind is EventKind.linked and ev.to_state is S.closed
        assert ev.data == {"move": "link_duplicate", "duplicate_of": original.case_number}
        # the complainant of the duplicate sees where it is handled
        assert text in [e.public_text for e in public_events(case)]
        orig = s.get(Case, original.case_id)
        assert orig.state is S.pending_acceptance  # unchanged
        note = orig.events[-1]
        assert note.kind is EventKind.note and not note.is_public
        assert note.data["duplicate"] == dup.case_number and dup.case_number in note.internal_text


def test_refused_links_change_nothing(db, services, file_case, make_staff):
    original = file_case()
    dup = file_case()
    other_unit = file_case(category="finance_assets")  # at 民政部 (mca)
    handler = make_staff("miit", Role.handler)
    with pytest.raises(Forbidden):  # not this unit's case
        link(db, services, make_staff("mca", Role.handler), dup.case_id, duplicate_of=original.case_number)
    for bad in ("", dup.case_number, "TS00000000000000", other_unit.case_number):
        with pytest.raises(InvalidMove) as err:
            link(db, services, handler, dup.case_id, duplicate_of=bad)
        assert "duplicate_of" in err.value.errors
    # a case that is itself a duplicate cannot be linked to
    link(db, services, handler, dup.case_id, duplicate_of=original.case_number)
    third = file_case()
    with pytest.raises(InvalidMove):
        link(db, services, handler, third.case_id, duplicate_of=dup.case_number)
    # and a closed case cannot be linked again
    with pytest.raises(MoveNotAllowed):
        link(db, services, handler, dup.case_id, duplicate_of=third.case_number)
    with db.session_scope(write=False) as s:
        assert s.get(Case, third.case_id).state is S.pending_acceptance
        assert s.get(Case, other_unit.case_id).events[-1].kind is EventKind.submitted or \
            s.get(Case, other_unit.case_id).events[-1].kind is EventKind.routed


def test_a_triage_operator_links_a_case_waiting_for_routing(db, services, file_case, make_staff):
    waiting = file_case(association="unknown", association_hint="某某商会")
    other_waiting = file_case(association="unknown", association_hint="某某商会")
    original = file_case()
    triage = make_staff("triage", Role.triage_operator)
    assert "link_duplicate" not in {m.name for m in _moves(db, make_staff("miit", Role.handler), waiting.case_id)}
    assert "link_duplicate" in {m.name for m in _moves(db, triage, waiting.case_id)}
    # the original must have been routed: a closed case needs a unit
    with pytest.raises(InvalidMove):
        link(db, services, triage, waiting.case_id, duplicate_of=other_waiting.case_number)
    # a routed case the triage operator may not see is not found
    with pytest.raises(InvalidMove):
        link(db, services, triage, waiting.case_id, duplicate_of=original.case_number)
    # one who also handles for that unit may: the duplicate closes at the original's unit
    both = make_staff("miit", Role.handler)
    from casework.accounts.actor import Actor
    from casework.accounts.models import User
    from casework.accounts.operations import grant_role
    from casework.registry.models import Unit

    with db.session_scope() as s:
        user = s.get(User, both.user_id)
        grant_role(s, user, s.scalar(select(Unit).where(Unit.code == "triage")), Role.triage_operator)
        s.flush()
        actor = Actor.staff(user)
    link(db, services, actor, waiting.case_id, duplicate_of=original.case_number)
    with db.session_scope(write=False) as s:
        case = s.get(Case, waiting.case_id)
        assert case.state is S.closed and case.unit_id == s.get(Case, original.case_id).unit_id


def _moves(db, actor, case_id):
    with db.session_scope(write=False) as s:
        return machine.available_moves(actor, s.get(Case, case_id))


def test_the_complainant_of_the_duplicate_is_told_where_the_matter_is_handled(
        db, services, file_case, make_staff):
    from casework.notify.models import OutboxMessage

    original, dup = file_case(), file_case()
    event_id = link(db, services, make_staff("miit", Role.handler), dup.case_id,
                    duplicate_of=original.case_number, public_text="已由案件 %s 办理。" % original.case_number)
    with db.session_scope(write=False) as s:
        sent = s.scalar(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == f"case:{dup.case_id}:event:{event_id}:sms"))
    assert sent is not None  # the table marks link_duplicate as a notice to the complainant


# -- similar cases ---------------------------------------------------------------------------

def test_similar_cases_ranked_and_only_what_the_viewer_may_see(db, services, backend, file_case, make_staff):
    base = file_case(title="协会强制入会收取会费", description="协会要求我公司必须强制入会并收取会费两万元" + LONG)
    close = file_case(title="强制入会并收取会费", description="协会强制入会，收取会费三万元" + LONG)
    loose = file_case(title="会费问题", description="会费标准不透明" + LONG)
    unrelated = file_case(title="年检材料问题", description="年检需要的材料太多，流程复杂" + LONG)
    # similar words but at another unit (民政部): never suggested to a miit handler
    elsewhere = file_case(category="finance_assets", title="强制入会收取会费",
                          description="协会强制入会收取会费" + LONG)
    # same words, another association: not suggested
    with db.session_scope(write=False) as s:
        caam = s.scalar(select(Association.credit_code).where(Association.name == "中国汽车工业协会"))
    other_assoc = file_case(association=caam, title="强制入会收取会费", description="协会强制入会收取会费" + LONG)
    closed = file_case(title="强制入会收取会费", description="协会强制入会收取会费" + LONG)
    old = file_case(title="强制入会收取会费", description="协会强制入会收取会费" + LONG)
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == closed.case_id).values(state=S.withdrawn))
        s.execute(update(Case).where(Case.id == old.case_id)
                  .values(submitted_at=services.clock() - timedelta(days=200)))
    sync.reindex_all(db, services, backend)

    handler = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        case = s.get(Case, base.case_id)
        keys = unit_keys(handler.unit_ids(Role.handler, Role.unit_lead), False)
        hits = similar_cases(backend, case, allowed_unit_keys=keys, now=services.clock())
        found = [h.number for h in hits]
        assert found[0] == close.case_number and loose.case_number in found
        for n in (base, unrelated, elsewhere, other_assoc, closed, old):
            assert n.case_number not in found
        # a supervisor (every unit) gets the other unit's case too
        assert elsewhere.case_number in [h.number for h in similar_cases(
            backend, case, allowed_unit_keys=None, now=services.clock())]
        # someone who sees no unit gets nothing
        assert similar_cases(backend, case, allowed_unit_keys=frozenset(), now=services.clock()) == []
        assert len(similar_cases(backend, case, allowed_unit_keys=None, limit=1, now=services.clock())) == 1


def test_cases_of_an_unknown_association_match_by_the_hint(db, services, backend, file_case):
    a = file_case(association="unknown", association_hint="某某 商会", title="商会强制入会收费")
    b = file_case(association="unknown", association_hint="某某商会", title="强制入会收费问题")
    c = file_case(association="unknown", association_hint="别的商会", title="强制入会收费问题")
    sync.reindex_all(db, services, backend)
    with db.session_scope(write=False) as s:
        hits = similar_cases(backend, s.get(Case, a.case_id), allowed_unit_keys=frozenset({"triage"}),
                             now=services.clock())
    assert [h.number for h in hits] == [b.case_number]
    assert c.case_number not in [h.number for h in hits]


# -- open matters (public) -------------------------------------------------------------------

def test_open_matters_counts_only_as_of_yesterday_without_reports(db, services, file_case):
    """Issue 17, item 7: a live count (threshold 3, reports included) told an association that a
    report was just filed. Now: no reports, nothing filed today, none below the threshold."""
    for _ in range(5):
        file_case()  # forced_membership
    for _ in range(4):
        file_case(category="illegal_fees")
    reports = [file_case(type="report", anonymous=True, complainant=None) for _ in range(5)]
    done = file_case()
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == done.case_id).values(state=S.withdrawn))
        for case_id, at in s.execute(select(Case.id, Case.submitted_at)).all():
            s.execute(update(Case).where(Case.id == case_id).values(submitted_at=at - timedelta(days=1)))
        assoc_id = s.scalar(select(Case.association_id).where(Case.id == done.case_id))
    assert all(r.case_number.startswith("JB") for r in reports)
    with db.session_scope(write=False) as s:
        matters = open_matters(s, assoc_id, now=services.clock(), minimum=5)
    assert [(m.category_code, m.count) for m in matters] == [("forced_membership", 5)]  # not 10: no reports
    assert matters[0].name  # the category's name, nothing about any case
    file_case()  # filed today: the count does not move until tomorrow
    with db.session_scope(write=False) as s:
        assert [m.count for m in open_matters(s, assoc_id, now=services.clock(), minimum=5)] == [5]
        # old cases do not count
        assert open_matters(s, assoc_id, now=services.clock() + timedelta(days=181), minimum=5) == []
        assert open_matters(s, None) == []


def test_a_complaint_is_not_closed_as_the_duplicate_of_a_suggestion(db, services, file_case, make_staff):
    """The similar-cases box offered to close a complaint (which must be answered) as the duplicate of an
    answered suggestion: a duplicate is of a case of its own type."""
    complaint = file_case()
    suggestion = file_case(type="suggestion", category="suggestion_other", title="建议规范协会收费", anonymous=False)
    handler = make_staff("miit", Role.handler)
    with db.session_scope(write=False) as s:
        assert s.get(Case, suggestion.case_id).unit_id == s.get(Case, complaint.case_id).unit_id
    with pytest.raises(InvalidMove) as err:
        link(db, services, handler, complaint.case_id, duplicate_of=suggestion.case_number)
    assert "duplicate_of" in err.value.errors
    with db.session_scope(write=False) as s:
        assert s.get(Case, complaint.case_id).state is S.pending_acceptance
