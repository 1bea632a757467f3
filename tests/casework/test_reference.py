"""The reference data cached per process (casework.reference, issue 18): its version changes in
the transaction of every write to a watched table and of nothing else, a change rolled back
takes its version with it, the cache hands out plain immutable data, and a process sees a
change committed through another engine (another node) at its next look."""
from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from casework import reference
from casework.cases.models import Case, CaseType, Category, Stage
from casework.db import Base, Database
from casework.deadlines.limits import Deadlines
from casework.deadlines.models import CalendarOverride, TimeLimit
from casework.reference import WATCHED
from casework.registry.models import Association, Unit
from casework.routing.engine import routing_data
from casework.routing.models import JointMediationBody, RoutingRule

COMPOSITES = "51100000500009247D"  # 中国复合材料工业协会 (demo registry)


def _triggers(conn) -> dict[str, set[str]]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(sa.text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"))
    else:
        rows = conn.execute(sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
    found: dict[str, set[str]] = {}
    for table, name in rows:
        found.setdefault(table, set()).add(name)
    return found


def test_every_watched_table_has_its_triggers_and_no_other_table_has_one(db):
    """A migration that rebuilds a watched table on SQLite (batch_alter_table) drops its triggers:
    this says so, on both databases."""
    with db.engine.connect() as conn:
        found = _triggers(conn)
    expected_per_table = 1 if db.engine.dialect.name == "postgresql" else None
    for table, columns in WATCHED.items():
        names = found.get(table, set())
        if expected_per_table:
            assert names == {"reference_changed"}, table
        else:
            wanted = {f"reference_changed_{table}_{op}" for op in
                      (("insert", "update", "delete") if columns is None else ("update", "delete"))}
            assert names == wanted, table
    assert set(found) == set(WATCHED)


def _version(session):
    return reference.read_version(session)


def test_the_version_changes_with_every_write_to_a_watched_table_and_only_then(db, file_case):
    with db.session_scope() as s:
        v = _version(s)

        def changed() -> bool:
            nonlocal v
            now = _version(s)
            moved, v = now != v, now
            return moved

        s.execute(update(Category).where(Category.code == "forced_membership").values(name_en="Forced membership!"))
        assert changed()
        s.execute(update(Unit).where(Unit.code == "miit").values(notice_email="office@miit.example"))
        assert changed()
        rule = s.scalar(select(RoutingRule).limit(1))
        rule.priority += 1
        s.flush()
        assert changed()
        s.add(CalendarOverride(day=date(2031, 1, 2), working=False, note="test"))
        s.flush()
        assert changed()
        s.execute(update(TimeLimit).where(TimeLimit.stage == Stage.rating).values(amount=20))
        assert changed()
        unit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
        s.add(JointMediationBody(region_prefix="44", unit_id=unit))
        s.flush()
        assert changed()
        s.execute(update(Association).where(Association.credit_code == COMPOSITES).values(region_code="510100"))
        assert changed()
        # the registry lookup keeps the registry (migration 0029): a name counts too
        s.execute(update(Association).where(Association.credit_code == COMPOSITES)
                  .values(pinyin_initials="zgfhclgyxh", name_en="Composites"))
        assert changed()
    file_case()  # a case filed (its rows, its events) changes nothing
    with db.session_scope() as s:
        assert _version(s) == v
        s.execute(update(Case).values(title="标题已改"))
        assert _version(s) == v


def test_a_change_rolled_back_takes_its_version_with_it(db):
    with db.session_scope() as s:
        before = _version(s)
        nested = s.begin_nested()
        s.execute(update(Category).where(Category.code == "forced_membership").values(sort_order=99))
        inside = _version(s)
        nested.rollback()
        assert inside != before and _version(s) == before


def test_the_cache_hands_out_plain_immutable_data_never_orm_objects(db, file_case):
    file_case()  # an association looked up and remembered, the parts loaded
    with db.session_scope(write=False) as s:
        snap = reference.current(s)
        parts = [reference.categories(s, snap), routing_data(s, snap), Deadlines.load(s),
                 snap.association(s, COMPOSITES)]

    def walk(value, depth=0):
        assert not isinstance(value, Base), value
        assert not isinstance(value, (dict, list, set)), f"mutable {type(value).__name__} in the cache"
        if depth > 6:
            return
        if dataclasses.is_dataclass(value):
            assert type(value).__dataclass_params__.frozen, type(value)
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), depth + 1)
        elif isinstance(value, MappingProxyType):
            for k, v in value.items():
                walk(k, depth + 1)
                walk(v, depth + 1)
        elif isinstance(value, (tuple, frozenset)):
            for v in value:
                walk(v, depth + 1)

    categories, routing, deadlines, assoc = parts
    walk(categories)
    walk(routing)
    walk(assoc)
    walk(deadlines.limits)
    walk(deadlines.calendar.overrides)
    with pytest.raises(TypeError):
        deadlines.limits[(None, Stage.triage)] = None  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        categories.ordered[0].active = False  # type: ignore[misc]


def test_a_snapshot_lasts_as_long_as_its_version(db):
    with db.session_scope(write=False) as s:
        first = reference.current(s)
    with db.session_scope(write=False) as s:
        assert reference.current(s) is first and reference.cached(s) is first
    with db.session_scope() as s:
        s.execute(update(Category).where(Category.code == "forced_membership").values(sort_order=98))
        changed = reference.current(s)
        assert changed is not first and changed.version != first.version
        assert reference.categories(s, changed).by_code["forced_membership"].sort_order == 98


@pytest.mark.commits  # a second engine (another node) commits; this process must see it
def test_a_change_committed_through_another_engine_is_seen_at_the_next_look(db, settings):
    with db.session_scope(write=False) as s:
        before = Deadlines.load(s)
        limit = before.limit(CaseType.complaint, Stage.acceptance)
        assert reference.categories(s).by_code["forced_membership"].active
    other = Database(settings.database_url)  # its own engine and connections
    try:
        with other.session_scope() as s:
            s.execute(update(TimeLimit).where(TimeLimit.case_type == CaseType.complaint,
                                              TimeLimit.stage == Stage.acceptance).values(amount=limit.amount + 3))
            s.execute(update(Category).where(Category.code == "forced_membership").values(active=False))
        with db.session_scope(write=False) as s:
            after = Deadlines.load(s)
            assert after is not before
            assert after.limit(CaseType.complaint, Stage.acceptance).amount == limit.amount + 3
            assert not reference.categories(s).by_code["forced_membership"].active
    finally:
        with other.session_scope() as s:
            s.execute(update(TimeLimit).where(TimeLimit.case_type == CaseType.complaint,
                                              TimeLimit.stage == Stage.acceptance).values(amount=limit.amount))
            s.execute(update(Category).where(Category.code == "forced_membership").values(active=True))
        other.dispose()
