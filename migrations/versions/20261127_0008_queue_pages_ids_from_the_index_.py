"""queue pages: ids from the index; statistics on unit and state

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 03:38:54.022208
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_unit_state_due'))
        batch_op.create_index('ix_case_unit_state_due_id', ['unit_id', 'state', 'due_at', 'id'], unique=False)

    # PostgreSQL multiplies the frequencies of "no unit" and "received" as if independent and
    # misjudges the triage queue by 50x; extended statistics tell it that they go together
    if op.get_bind().dialect.name == "postgresql":
        op.execute('CREATE STATISTICS IF NOT EXISTS case_unit_state (mcv) ON unit_id, state FROM "case"')



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS case_unit_state")
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_unit_state_due_id')
        batch_op.create_index(batch_op.f('ix_case_unit_state_due'), ['unit_id', 'state', 'due_at'], unique=False)

