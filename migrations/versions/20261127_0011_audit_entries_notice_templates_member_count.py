"""audit entries, notice template overrides, associations' member count

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 05:33:20.271441
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

AUDIT_ACTOR_KINDS = ('staff', 'cli', 'system')
AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template')
AUDIT_ACTIONS = ('created', 'updated', 'deactivated', 'reactivated', 'removed', 'imported', 'deregistered',
                 'reinstated', 'granted', 'revoked', 'password_set', 'reset')


def upgrade() -> None:
    op.create_table('notice_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_template')),
    sa.UniqueConstraint('template', 'locale', name=op.f('uq_notice_template_template_locale'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_kind', sa.Enum(*AUDIT_ACTOR_KINDS, name='auditactorkind', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum(*AUDIT_KINDS, name='auditkind', native_enum=False, create_constraint=True, length=28), nullable=False),
    sa.Column('action', sa.Enum(*AUDIT_ACTIONS, name='auditaction', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index('ix_audit_entry_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entry_kind_at', ['kind', 'at'], unique=False)

    with op.batch_alter_table('association', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_count', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('member_count_nonnegative', 'member_count IS NULL OR member_count >= 0')


def downgrade() -> None:
    with op.batch_alter_table('association', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_association_member_count_nonnegative'), type_='check')
        batch_op.drop_column('member_count')

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_kind_at')
        batch_op.drop_index('ix_audit_entry_at')
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_user_id'))

    op.drop_table('audit_entry')
    op.drop_table('notice_template')
