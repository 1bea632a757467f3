"""case.idempotency_digest: an Idempotency-Key replays only the request that first used it
(issue 17, item 6)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('idempotency_digest')
