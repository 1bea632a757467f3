"""Which tables a backup holds, in which order they load, and how each column is written.

The tables are reflected from the database itself, not taken from the models: an archive
is made at the database's Alembic revision (which may be behind the code, e.g. a backup
taken right before ``changtong db upgrade``) and restored at that same revision before
the migrations run on. The models only say which foreign keys close a cycle (``use_alter``).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.schema import sort_tables_and_constraints

from casework.backup.errors import BackupError

# Tables left out, and why (written into the manifest too).
EXCLUDED = {
    "alembic_version": "the schema revision is recorded in the manifest instead",
    "staff_session": "staff sign-ins: after a restore everyone signs in again",
    "intake_receipt": "receipts shown again to a replayed submit for ten minutes; transient",
    "intake_draft": "a filing form's text while its SMS code is pending, a few minutes; transient",
    "staff_request_key": "the staff API's Idempotency-Keys, kept 24 hours; transient",
    "search_document": "the PostgreSQL search index: rebuilt from the cases after a restore",
    "rate_limit_counter": "rate-limit windows of a few minutes (casework.ratelimit); transient",
    "reference_version": "the stamp of the cached reference data (casework.reference): the restore's own "
                         "writes set a new one",
}

# the kind a column is written as, by its type; the first match wins (a Float is a Numeric)
_KIND_OF: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (sa.JSON, "json"),
    (sa.LargeBinary, "bytes"),
    (sa.DateTime, "datetime"),
    (sa.Date, "date"),
    (sa.Float, "float"),
    (sa.Numeric, "decimal"),
    (sa.Boolean, "bool"),
    (sa.Integer, "int"),
    ((sa.String, sa.Text, sa.Enum), "text"),
)
KINDS = tuple(kind for _types, kind in _KIND_OF)


def column_kind(type_: sa.types.TypeEngine) -> str:
    """How a value of this column is written into the archive (portable between databases)."""
    for types, kind in _KIND_OF:
        if isinstance(type_, types):
            return kind
    raise BackupError(f"a column of type {type_!r} cannot be written into a backup")


def encode(kind: str, value):
    """A column value as JSON. Timestamps are UTC: every timestamp column in Changtong is
    stored in UTC (casework.db.UTCDateTime), and SQLite hands them back without a zone."""
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "datetime":
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    if kind == "bool":
        return bool(value)
    return value


def decoder(kind: str, target: sa.types.TypeEngine):
    """A function turning an archived value back into what the target column binds."""
    if kind == "bytes":
        return lambda v: None if v is None else base64.b64decode(v, validate=True)
    if kind == "datetime":
        aware = bool(getattr(target, "timezone", False))

        def to_datetime(v):
            if v is None:
                return None
            dt = datetime.fromisoformat(v)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            dt = dt.astimezone(timezone.utc)
            return dt if aware else dt.replace(tzinfo=None)
        return to_datetime
    if kind == "date":
        return lambda v: None if v is None else date.fromisoformat(v)
    if kind == "decimal":
        return lambda v: None if v is None else Decimal(v)
    if kind not in KINDS:
        raise BackupError(f"the archive has a column of unknown kind {kind!r}")
    return lambda v: v


@dataclass
class TablePlan:
    table: sa.Table
    # foreign-key columns loaded as NULL and set once every table is in (cycles, self references)
    deferred: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def pk(self) -> list[str]:
        return [c.name for c in self.table.primary_key.columns]


def reflect(conn: sa.Connection) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(bind=conn)
    for table in meta.tables.values():
        for col in table.columns:
            if isinstance(col.type, sa.JSON):  # a missing value stays SQL NULL, not JSON null
                col.type = type(col.type)(none_as_null=True)
    return meta


def _use_alter() -> set[tuple[str, tuple[str, ...]]]:
    import casework.models  # noqa: F401  (fills the metadata)
    from casework.db import Base

    return {(fk.parent.table.name, tuple(fk.constraint.column_keys)) for t in Base.metadata.tables.values()
            for fk in t.foreign_keys if fk.use_alter}


def plan(meta: sa.MetaData) -> list[TablePlan]:
    """The tables a backup holds, parents before children."""
    tables = [t for name, t in meta.tables.items() if name not in EXCLUDED]
    alter = _use_alter()

    def skip(fkc: sa.ForeignKeyConstraint):
        return True if (fkc.table.name, tuple(fkc.column_keys)) in alter else None

    ordered = sort_tables_and_constraints(tables, filter_fn=skip)
    plans, late = [], set()
    for table, _fkcs in ordered:
        if table is None:
            late.update(_fkcs)
            continue
        plans.append(TablePlan(table))
    for p in plans:
        for fkc in p.table.foreign_key_constraints:
            if fkc in late or fkc.referred_table is p.table:
                for col in fkc.columns:
                    if not col.nullable:
                        raise BackupError(f"{p.name}.{col.name} closes a cycle of foreign keys but cannot be NULL")
                    if col.name not in p.deferred:
                        p.deferred.append(col.name)
    return plans
