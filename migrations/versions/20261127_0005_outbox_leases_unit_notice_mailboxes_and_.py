"""outbox leases, unit notice mailboxes and supervising units

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 03:08:00.624927
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
        batch_op.create_index('ix_outbox_message_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.drop_constraint(op.f('ck_outbox_message_outboxstatus'), type_='check')
        batch_op.create_check_constraint('outboxstatus', sa.column('status').in_(['pending', 'sending', 'sent', 'failed']))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('supervising_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_unit_supervising_unit_id_unit'), 'unit', ['supervising_unit_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_supervising_unit_id_unit'), type_='foreignkey')
        batch_op.drop_column('supervising_unit_id')
        batch_op.drop_column('notice_email')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'], unique=False)
        batch_op.drop_column('locked_until')
        batch_op.drop_constraint(op.f('ck_outbox_message_outboxstatus'), type_='check')
        batch_op.create_check_constraint('outboxstatus', sa.column('status').in_(['pending', 'sent', 'failed']))

