"""Reference data, cached per process: categories, units, routing rules, joint mediation bodies,
time limits, the calendar overrides, and the associations' routing facts.

Filing a case read all of these from the database each time (about 8 ms of the 15 ms a
submission cost, issue 18). They change when an administrator changes them, so each process
keeps them as plain immutable data (frozen dataclasses, tuples, read-only mappings; never ORM
objects, which belong to one session) and asks the database one cheap question per use: has
anything changed?

**The version.** ``reference_version`` holds one row, ``version``, a random 63-bit number that
database triggers (migrations 0027 and 0029) replace on every INSERT, UPDATE or DELETE of the
watched tables (``WATCHED``, the registry of associations included). The trigger runs inside the
writer's own transaction, whoever the writer is: an admin page, the CLI, a CSV import, a restore, a
worker, raw SQL, another process or another node. So the new version becomes visible exactly when
the change does, and a change rolled back takes its version with it. A random number rather than a
counter: a rolled-back change must never leave a number that the next change takes again, or a
process that read the rolled-back state from inside that transaction would keep it under the number
of another state.

**Reading it.** ``current(session)`` reads the version (one primary-key SELECT) and gives this
process's snapshot of it, made again (its parts loaded lazily, in that session) when the number
changed. ``cached(session)`` gives the last snapshot without asking, for work done before the
transaction that checks it: a submission validates and routes on it, then reads the version
first thing in its write transaction and does that work again if it changed (see
casework.intake.operations). A TTL alone would not do: a change made on another node must be
seen by the next submission here.

**Pages.** A page that only shows reference data (the empty filing form, kept whole by
web.pagecache; the registry lookup, casework.registry.lookup) asks ``recent(engine, session)``:
the snapshot ``current`` confirmed in this process less than ``PAGE_RECHECK_SECONDS`` ago, without
a session or a statement, else ``current``'s answer. A change made by another process or node is
on those pages at most that long after it is committed; one made through this process (an admin
page's save: a flush of a watched table) on the next page. A part such a page loads is read in
the transaction that read its version (``Snapshot.holds``, then ``current``). Nothing that decides
(routing, deadlines, validation of a filing) uses it.

Parts are loaded by their owners (``Snapshot.part``): the categories and associations here, the
routing data in casework.routing.engine, the deadlines in casework.deadlines.limits.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.i18n import bilingual
from casework.cases.models import Category, CategoryGroup
from casework.db import Base, driver_execute
from casework.registry.models import Association, AssociationStatus

T = TypeVar("T")

# table -> the columns whose change matters (None: any change); the migration's triggers watch
# exactly these, and tests/casework/test_reference.py checks that every one has its triggers
WATCHED: dict[str, tuple[str, ...] | None] = {
    "category": None,
    "unit": None,
    "routing_rule": None,
    "joint_mediation_body": None,
    "time_limit": None,
    "calendar_override": None,
    "calendar_year": None,
    # every change of an association (migration 0029): routing and validation read its routing
    # facts, and the registry lookup keeps a copy of the registry (casework.registry.lookup)
    "association": None,
}
ASSOCIATIONS_KEPT = 4096  # associations remembered per process (least recently used go first)


class ReferenceVersion(Base):
    """One row (id 1), written only by the triggers of the watched tables."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)


_table = ReferenceVersion.__table__
_READ = sa.select(_table.c.version).where(_table.c.id == 1)


class Snapshot:
    """The reference data of one version, as this process has loaded it so far."""

    def __init__(self, version: int | None):
        self.version = version
        self._parts: dict[str, object] = {}
        self._associations: OrderedDict[str, AssociationRef] = OrderedDict()  # by credit code
        self._codes: dict[int, str] = {}  # association id -> credit code, for those remembered
        self._lock = threading.Lock()

    def holds(self, name: str) -> bool:
        """Whether the part ``name`` is loaded (a page that took this snapshot from ``recent``
        asks ``current`` in its own transaction before it loads one)."""
        return name in self._parts

    def part(self, name: str, load: Callable[[Session], T], session: Session) -> T:
        """The part ``name``, loaded with ``load(session)`` the first time it is asked for."""
        try:
            return self._parts[name]  # type: ignore[return-value]
        except KeyError:
            pass
        value = load(session)
        with self._lock:
            return self._parts.setdefault(name, value)  # type: ignore[return-value]

    def association(self, session: Session, credit_code: str) -> AssociationRef | None:
        """The association with this credit code: remembered, or read (and remembered if found)."""
        with self._lock:
            found = self._associations.get(credit_code)
            if found is not None:
                self._associations.move_to_end(credit_code)
                return found
        return self._remember(association_row(session, Association.credit_code == credit_code))

    def association_by_id(self, session: Session, association_id: int) -> AssociationRef | None:
        with self._lock:
            code = self._codes.get(association_id)
            if code is not None:
                self._associations.move_to_end(code)
                return self._associations[code]
        return self._remember(association_row(session, Association.id == association_id))

    def _remember(self, found: AssociationRef | None) -> AssociationRef | None:
        if found is not None:
            with self._lock:
                self._associations[found.credit_code] = found
                self._codes[found.id] = found.credit_code
                while len(self._associations) > ASSOCIATIONS_KEPT:
                    _code, gone = self._associations.popitem(last=False)
                    self._codes.pop(gone.id, None)
        return found


_snapshots: dict[str, Snapshot] = {}  # database URL -> its latest snapshot in this process
_guard = threading.Lock()


def _key(session: Session) -> str:
    return _engine_key(session.get_bind().engine)


def _engine_key(engine: sa.Engine) -> str:
    key = engine.__dict__.get("_changtong_reference_key")
    if key is None:  # the URL rendered once per engine
        key = engine.__dict__["_changtong_reference_key"] = engine.url.render_as_string(hide_password=False)
    return key


def read_version(session: Session) -> int | None:
    """The database's reference version as this session sees it (None before the first change),
    its own pending changes flushed first (autoflush), so that their triggers have run. Sent as
    the driver's SQL, compiled once, to the driver (casework.db.driver_execute): the statement's
    own cost, not the ORM's (issue 18)."""
    if session.autoflush:  # as Session.execute would (a clean session's flush does nothing)
        session.flush()
    conn = session.connection()
    sql = _READ_SQL.get(conn.dialect.name)
    if sql is None:
        sql = _READ_SQL[conn.dialect.name] = str(_READ.compile(dialect=conn.dialect,
                                                               compile_kwargs={"literal_binds": True}))
    rows = driver_execute(conn, sql)
    return rows[0][0] if rows else None


_READ_SQL: dict[str, str] = {}  # dialect name -> _READ as its SQL


def current(session: Session) -> Snapshot:
    """The snapshot of the version this session sees (one SELECT)."""
    asked = time.monotonic()
    version = read_version(session)
    key = _key(session)
    _confirmed[key] = asked
    snap = _snapshots.get(key)
    if snap is None or snap.version != version:
        with _guard:
            snap = _snapshots.get(key)
            if snap is None or snap.version != version:
                snap = _snapshots[key] = Snapshot(version)
    return snap


PAGE_RECHECK_SECONDS = 1.0
_confirmed: dict[str, float] = {}  # database URL -> when current() last asked (time.monotonic)


def recent(engine: sa.Engine, session: Callable[[], Session], within: float | None = None) -> Snapshot:
    """For a page that only shows reference data: the snapshot of ``engine``'s database that
    ``current`` confirmed less than ``within`` (PAGE_RECHECK_SECONDS) seconds ago in this
    process, with no session and no statement; else ``current(session())``."""
    within = PAGE_RECHECK_SECONDS if within is None else within
    key = _engine_key(engine)
    snap, asked = _snapshots.get(key), _confirmed.get(key)
    if snap is not None and asked is not None and time.monotonic() - asked < within:
        return snap
    return current(session())


@event.listens_for(Session, "after_flush")
def _watched_flush(session: Session, _context) -> None:
    """A change of reference data flushed in this process: its pages ask again (``recent``)."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in WATCHED:
            _confirmed.clear()
            return


def cached(session: Session) -> Snapshot:
    """This process's latest snapshot for the session's database, unchecked (no SELECT once one
    is held): for work that ``current`` confirms later in the same transaction."""
    snap = _snapshots.get(_key(session))
    return snap if snap is not None else current(session)


# -- categories --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    group: CategoryGroup
    name: str
    name_en: str
    sort_order: int
    active: bool
    association_is_party: bool

    def display_name(self, locale: str) -> str:
        return bilingual(self.name, self.name_en, locale)


@dataclass(frozen=True)
class Categories:
    by_id: Mapping[int, CategoryRef]
    by_code: Mapping[str, CategoryRef]
    ordered: tuple[CategoryRef, ...]  # by sort order, then id (as every list shows them)

    def offered(self, group: CategoryGroup | None = None) -> tuple[CategoryRef, ...]:
        """The categories in use (of one group), in their order."""
        return tuple(c for c in self.ordered if c.active and (group is None or c.group is group))


def _load_categories(session: Session) -> Categories:
    rows = session.execute(sa.select(*(Category.__table__.c[n] for n in (
        "id", "code", "group", "name", "name_en", "sort_order", "active", "association_is_party")))).all()
    refs = sorted((CategoryRef(*row) for row in rows), key=lambda c: (c.sort_order, c.id))
    return Categories(MappingProxyType({c.id: c for c in refs}), MappingProxyType({c.code: c for c in refs}),
                      tuple(refs))


def categories(session: Session, snapshot: Snapshot | None = None) -> Categories:
    snap = snapshot or current(session)
    return snap.part("categories", _load_categories, session)


# -- associations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssociationRef:
    """What validation and routing read of an association."""
    id: int
    credit_code: str
    region_code: str
    status: AssociationStatus
    decoupled: bool
    registration_authority_id: int
    main_industry_department_id: int
    supervisory_unit_id: int | None
    mediation_body_id: int | None
    party_work_department_id: int | None


_ASSOCIATION_COLUMNS = tuple(Association.__table__.c[n] for n in AssociationRef.__dataclass_fields__)


def association_row(session: Session, where) -> AssociationRef | None:
    row = session.execute(sa.select(*_ASSOCIATION_COLUMNS).where(where)).first()
    return AssociationRef(*row) if row is not None else None
