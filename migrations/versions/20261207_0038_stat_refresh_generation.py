"""stat_refresh.generation: a new random number each time a refresh changes the rollups, so that
what the public pages withhold (casework.stats.published, kept per process) is made again after
each change, even two refreshes within the same instant or a database restored or made anew

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('stat_refresh', sa.Column('generation', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('stat_refresh', schema=None) as batch_op:
        batch_op.drop_column('generation')
