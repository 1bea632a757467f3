"""mediation: particulars, sessions, recusals; respondent actor

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:38:39.768117
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mediation',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('respondent_kind', sa.Enum('member_company', 'association', 'consumer', 'other', name='respondentkind', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('claim', sa.Text(), nullable=False),
    sa.Column('respondent_code_hash', sa.String(length=64), nullable=True),
    sa.Column('respondent_consented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('agreement', 'no_agreement', 'refused', 'timed_out', name='outcome', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('facts', sa.Text(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agreement_key', sa.String(length=100), nullable=True),
    sa.Column('followup_case_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome <> 'agreement' OR terms IS NOT NULL", name=op.f('ck_mediation_agreement_has_terms')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_mediation_amount_nonnegative')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_mediation_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['followup_case_id'], ['case.id'], name=op.f('fk_mediation_followup_case_id_case'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_mediation'))
    )
    op.create_table('mediation_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('attendees', sa.String(length=500), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('internal_notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_mediation_session_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_session'))
    )
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_session_case_id'), ['case_id'], unique=False)

    op.create_table('mediator_recusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_mediator_recusal_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mediator_recusal_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator_recusal')),
    sa.UniqueConstraint('case_id', 'user_id', name='uq_recusal_case_user')
    )
    with op.batch_alter_table('mediator_recusal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_recusal_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_actorkind'), type_='check')
        batch_op.alter_column('actor_kind', existing_type=sa.VARCHAR(length=14), type_=sa.VARCHAR(length=18),
                              existing_nullable=False)
        batch_op.create_check_constraint('actorkind', sa.column('actor_kind').in_(['public', 'respondent', 'staff', 'system']))



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_actorkind'), type_='check')
        batch_op.alter_column('actor_kind', existing_type=sa.VARCHAR(length=18), type_=sa.VARCHAR(length=14),
                              existing_nullable=False)
        batch_op.create_check_constraint('actorkind', sa.column('actor_kind').in_(['public', 'staff', 'system']))

    with op.batch_alter_table('mediator_recusal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_recusal_case_id'))

    op.drop_table('mediator_recusal')
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_session_case_id'))

    op.drop_table('mediation_session')
    op.drop_table('mediation')
