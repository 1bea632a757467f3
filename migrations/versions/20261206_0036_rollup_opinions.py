"""stat_rollup.with_opinion, supported: complaints replied with an opinion, and those whose
request was supported (信访工作条例 第三十二条), for the supervisors' dashboard

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('stat_rollup', sa.Column('with_opinion', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('stat_rollup', sa.Column('supported', sa.Integer(), nullable=False, server_default='0'))
    # the worker's next refresh recomputes every month (not only the changed ones), so the new
    # measures count the opinions given before this revision too
    op.execute(sa.text("UPDATE stat_refresh SET watermark = NULL"))


def downgrade() -> None:
    with op.batch_alter_table('stat_rollup', schema=None) as batch_op:
        batch_op.drop_column('supported')
        batch_op.drop_column('with_opinion')
