"""a review (复查) or re-review (复核) may wait for the platform's triage with no unit, when the
unit that decided has no upper level configured

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:30:00
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BEFORE = "state IN ('received', 'withdrawn') OR unit_id IS NOT NULL"
AFTER = "state IN ('received', 'withdrawn', 'under_review', 'under_re_review') OR unit_id IS NOT NULL"


def _set(rule: str) -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_routed_has_unit'), type_='check')
        batch_op.create_check_constraint('routed_has_unit', rule)


def upgrade() -> None:
    _set(AFTER)


def downgrade() -> None:
    # a review still waiting for triage goes back to the unit that decided last
    if op.get_bind().dialect.name == 'sqlite':
        from_unit = "CAST(json_extract(e.data, '$.from_unit_id') AS INTEGER)"
    else:
        from_unit = "(e.data->>'from_unit_id')::int"
    op.execute(f"UPDATE \"case\" SET unit_id = (SELECT {from_unit} FROM event e WHERE e.case_id = \"case\".id "
               "AND e.kind = 'review_requested' ORDER BY e.id DESC LIMIT 1) "
               "WHERE unit_id IS NULL AND state IN ('under_review', 'under_re_review')")
    _set(BEFORE)
