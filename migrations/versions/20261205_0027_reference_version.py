"""reference_version: one row whose version the triggers of the reference tables (categories,
units, routing rules, joint mediation bodies, time limits, calendar overrides and years, the
routing columns of associations) replace with a new random number in the writer's own
transaction, so that every process knows when its cached copy is out of date (issue 18;
casework.reference)

The tables and columns are listed here as they are at this revision (casework.reference.WATCHED
says the same; tests/casework/test_reference.py checks that every watched table has its
triggers at head). On SQLite a later migration that rebuilds one of these tables
(batch_alter_table) drops its triggers with it and must create them again.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

WATCHED = {
    "category": None,
    "unit": None,
    "routing_rule": None,
    "joint_mediation_body": None,
    "time_limit": None,
    "calendar_override": None,
    "calendar_year": None,
    "association": ("credit_code", "region_code", "status", "decoupled", "registration_authority_id",
                    "main_industry_department_id", "supervisory_unit_id", "mediation_body_id",
                    "party_work_department_id"),
}
FUNCTION = "changtong_reference_changed"

# SQLite: a plain UPDATE, and an INSERT guarded by NOT EXISTS for the very first change (writers
# are serialised there). Not INSERT OR REPLACE: an outer INSERT OR IGNORE would impose its IGNORE
# on a conflict clause inside the trigger, and the version would stay.
SQLITE_BODY = (
    "UPDATE reference_version SET version = random() WHERE id = 1; "
    "INSERT INTO reference_version (id, version) SELECT 1, random() "
    "WHERE NOT EXISTS (SELECT 1 FROM reference_version WHERE id = 1);"
)


def _sqlite_events(columns):
    if columns is None:
        return {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
    return {"update": "UPDATE OF " + ", ".join(columns), "delete": "DELETE"}


def upgrade() -> None:
    op.create_table('reference_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_version'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO reference_version (id, version) VALUES (1, (random() * 9.0e18)::bigint)
                ON CONFLICT (id) DO UPDATE SET version = excluded.version;
                RETURN NULL;
            END $$""")
        for table, columns in WATCHED.items():
            update = "UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns)
            inserts = "INSERT OR " if columns is None else ""
            op.execute(f"CREATE TRIGGER reference_changed AFTER {inserts}{update} OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
        return
    for table, columns in WATCHED.items():
        for name, event in _sqlite_events(columns).items():
            op.execute(f"CREATE TRIGGER reference_changed_{table}_{name} AFTER {event} ON {table} "
                       f"BEGIN {SQLITE_BODY} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS reference_changed ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for table, columns in WATCHED.items():
            for name in _sqlite_events(columns):
                op.execute(f"DROP TRIGGER IF EXISTS reference_changed_{table}_{name}")
    op.drop_table('reference_version')
