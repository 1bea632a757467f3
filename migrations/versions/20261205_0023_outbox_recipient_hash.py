"""outbox_message.recipient_hash: a keyed hash of the recipient, so that notices to one phone
or address can be capped per day (issue 17, item 8) while the recipient stays encrypted

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_outbox_message_recipient_day', ['recipient_hash', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_recipient_day')
        batch_op.drop_column('recipient_hash')
