"""canned_reply.legal_basis: the laws a unit's canned reply rests on, filled in with its text as a
complaint's opinion's legal basis (信访工作条例 第三十二条)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('canned_reply', sa.Column('legal_basis', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('canned_reply', schema=None) as batch_op:
        batch_op.drop_column('legal_basis')
