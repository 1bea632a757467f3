"""mediation.oral_agreement: an agreement reached orally before a 人民调解委员会, its content
recorded by the mediator (人民调解法 第二十八、三十条)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 20:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every agreement recorded before this revision was a written one
    op.add_column('mediation', sa.Column('oral_agreement', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('mediation', schema=None) as batch_op:
        batch_op.drop_column('oral_agreement')
