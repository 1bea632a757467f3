"""case.announced_unit_id: the unit whose mailbox the sweep told of the case awaiting its
acceptance, with a partial index for the sweep's list of cases not told yet. Cases awaiting
acceptance now are marked as told: their units have them in their queues already, and an upgrade
must not send every unit a digest of its whole backlog.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

# as casework.cases.models.UNANNOUNCED_SQL says it (a migration does not import the models)
UNANNOUNCED_SQL = {
    "sqlite": "state = 'pending_acceptance' AND announced_unit_id IS NOT unit_id",
    "postgresql": "state = 'pending_acceptance' AND announced_unit_id IS DISTINCT FROM unit_id",
}


def upgrade() -> None:
    op.add_column('case', sa.Column('announced_unit_id', sa.Integer(), nullable=True))  # no table rebuild
    op.execute("UPDATE \"case\" SET announced_unit_id = unit_id WHERE state = 'pending_acceptance'")
    op.create_index('ix_case_unannounced', 'case', ['id'], unique=False,
                    postgresql_where=sa.text(UNANNOUNCED_SQL["postgresql"]),
                    sqlite_where=sa.text(UNANNOUNCED_SQL["sqlite"]))


def downgrade() -> None:
    op.drop_index('ix_case_unannounced', table_name='case')
    with op.batch_alter_table('case') as batch:
        batch.drop_column('announced_unit_id')
