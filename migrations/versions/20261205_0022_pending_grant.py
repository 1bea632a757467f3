"""pending_grant: a custodian role waits for a second administrator (issue 17, item 5)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 19:45:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('handler', 'unit_lead', 'triage_operator', 'supervisor', 'administrator', 'custodian', name='role', native_enum=False, create_constraint=True, length=23), nullable=False),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['user_account.id'], name=op.f('fk_pending_grant_requested_by_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_pending_grant_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pending_grant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_grant')),
    sa.UniqueConstraint('user_id', 'unit_id', 'role', name='uq_pending_grant_user_unit_role')
    )
    with op.batch_alter_table('pending_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_grant_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_grant_user_id'))
    op.drop_table('pending_grant')
