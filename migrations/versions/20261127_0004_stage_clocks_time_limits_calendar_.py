"""stage clocks, time limits, calendar overrides, ratings, event kinds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:05:22.445631
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

EVENT_KINDS_2 = ['submitted', 'routed', 'accepted', 'not_accepted', 'transferred', 'sent_back',
                 'info_requested', 'info_supplied', 'replied', 'withdrawn', 'assigned',
                 'state_changed', 'note', 'attachment_added']
EVENT_KINDS_4 = EVENT_KINDS_2 + ['extended', 'suspended', 'resumed', 'rated', 'review_requested',
                                 'review_decided', 'closed', 'reminder', 'overdue', 'supervised',
                                 'mediation_started', 'mediation_ended', 'session_logged',
                                 'identity_revealed', 'linked', 'rerouted']


def upgrade() -> None:
    op.create_table('calendar_override',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_override'))
    )
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('time_limit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.Enum('complaint', 'report', 'mediation', 'suggestion', name='limit_case_type', native_enum=False, create_constraint=True, length=18), nullable=True),
    sa.Column('stage', sa.Enum('triage', 'acceptance', 'report_notice', 'transfer_objection', 'handling', 'extension', 'rating', 'review_request', 'review', 're_review', 'mediation', 'mediation_end_notice', 'judicial_confirmation', name='stage', native_enum=False, create_constraint=True, length=29), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('working_days', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint('amount > 0 AND amount <= 366', name=op.f('ck_time_limit_amount_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_limit')),
    sa.UniqueConstraint('case_type', 'stage', name='uq_time_limit_type_stage')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.Enum('triage', 'acceptance', 'report_notice', 'transfer_objection', 'handling', 'extension', 'rating', 'review_request', 'review', 're_review', 'mediation', 'mediation_end_notice', 'judicial_confirmation', name='case_stage', native_enum=False, create_constraint=True, length=29), nullable=True))
        batch_op.add_column(sa.Column('stage_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('extended', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('supervision_level', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reviews_requested', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint('reviews_at_most_two', 'reviews_requested BETWEEN 0 AND 2')
        batch_op.add_column(sa.Column('rating', sa.Enum('satisfied', 'basically_satisfied', 'dissatisfied', name='rating', native_enum=False, create_constraint=True, length=27), nullable=True))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_eventkind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.VARCHAR(length=24), type_=sa.VARCHAR(length=25),
                              existing_nullable=False)
        batch_op.create_check_constraint('eventkind', sa.column('kind').in_(EVENT_KINDS_4))



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_eventkind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.VARCHAR(length=25), type_=sa.VARCHAR(length=24),
                              existing_nullable=False)
        batch_op.create_check_constraint('eventkind', sa.column('kind').in_(EVENT_KINDS_2))

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_reviews_at_most_two'), type_='check')
        batch_op.drop_constraint(op.f('ck_case_rating'), type_='check')
        batch_op.drop_constraint(op.f('ck_case_case_stage'), type_='check')
        batch_op.drop_column('rating')
        batch_op.drop_column('reviews_requested')
        batch_op.drop_column('supervision_level')
        batch_op.drop_column('overdue')
        batch_op.drop_column('extended')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('stage_started_at')
        batch_op.drop_column('stage')

    op.drop_table('time_limit')
    op.drop_table('calendar_year')
    op.drop_table('calendar_override')
