"""association: every insert, update and deletion gives the reference data a new version (issue 18)

Migration 0027 watched only the association columns routing and validation read. The registry
lookup (``GET /api/v1/associations``, the filing form's no-JavaScript 查找) now searches a copy of
the registry kept per process (casework.registry.lookup), which shows names, abbreviations,
pinyin initials, level and region and must see a new association: the whole table is watched,
as casework.reference.WATCHED says.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 02:10:00
"""
from alembic import op


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

FUNCTION = "changtong_reference_changed"
ROUTING_COLUMNS = ("credit_code", "region_code", "status", "decoupled", "registration_authority_id",
                   "main_industry_department_id", "supervisory_unit_id", "mediation_body_id",
                   "party_work_department_id")
# as in 0027
SQLITE_BODY = (
    "UPDATE reference_version SET version = random() WHERE id = 1; "
    "INSERT INTO reference_version (id, version) SELECT 1, random() "
    "WHERE NOT EXISTS (SELECT 1 FROM reference_version WHERE id = 1);"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reference_changed ON association")
        op.execute("CREATE TRIGGER reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON association FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
        return
    op.execute("DROP TRIGGER IF EXISTS reference_changed_association_update")
    for name, event in (("insert", "INSERT"), ("update", "UPDATE")):
        op.execute(f"CREATE TRIGGER reference_changed_association_{name} AFTER {event} ON association "
                   f"BEGIN {SQLITE_BODY} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reference_changed ON association")
        op.execute("CREATE TRIGGER reference_changed AFTER UPDATE OF " + ", ".join(ROUTING_COLUMNS)
                   + f" OR DELETE OR TRUNCATE ON association FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
        return
    op.execute("DROP TRIGGER IF EXISTS reference_changed_association_insert")
    op.execute("DROP TRIGGER IF EXISTS reference_changed_association_update")
    op.execute("CREATE TRIGGER reference_changed_association_update AFTER UPDATE OF " + ", ".join(ROUTING_COLUMNS)
               + f" ON association BEGIN {SQLITE_BODY} END")
