"""mediation by the statutes: the respondent's time to answer, a party's recusal request, the
agreement's particulars, signing date and performance follow-up, and the body's kind
(人民调解委员会 or another mediation body)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

STAGES = ('triage', 'acceptance', 'report_notice', 'transfer_objection', 'handling', 'extension', 'rating',
          'review_request', 'review', 're_review', 'mediation', 'mediation_end_notice', 'judicial_confirmation',
          'material')
NEW_STAGES = ('mediation_answer', 'performance_followup')
OUTCOMES = ('agreement', 'no_agreement', 'refused', 'timed_out')
NEW_OUTCOMES = ('ended_by_party',)


def _stage_checks(stages) -> None:
    with op.batch_alter_table('time_limit', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_time_limit_stage'), type_='check')
        batch_op.create_check_constraint('stage', sa.column('stage').in_(stages))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_case_stage'), type_='check')
        batch_op.create_check_constraint('case_stage', sa.column('stage').in_(stages))


def upgrade() -> None:
    _stage_checks(STAGES + NEW_STAGES)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('people_mediation_committee', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('mediation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_mediation_outcome'), type_='check')
        batch_op.alter_column('outcome', existing_type=sa.VARCHAR(length=20), type_=sa.VARCHAR(length=22),
                              existing_nullable=True)
        batch_op.create_check_constraint('outcome', sa.column('outcome').in_(OUTCOMES + NEW_OUTCOMES))
        batch_op.add_column(sa.Column('answer_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recusal_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recusal_requested_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('recusal_request', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('recusal_paused_clock', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('particulars_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('liability', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('performance_method', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('performance_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('signed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('followup_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('followup_reminded', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('performance', sa.Enum('performed', 'partly', 'not_performed', name='performance',
                                                             native_enum=False, create_constraint=True, length=21),
                                      nullable=True))


def downgrade() -> None:
    op.execute(sa.text("UPDATE mediation SET outcome = 'no_agreement' WHERE outcome IN ('ended_by_party')"))
    with op.batch_alter_table('mediation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_mediation_performance'), type_='check')
        for column in ('performance', 'followed_up_at', 'followup_reminded', 'followup_due', 'signed_on',
                       'performance_due', 'performance_method', 'liability', 'issues', 'particulars_enc',
                       'recusal_paused_clock', 'recusal_request', 'recusal_requested_by', 'recusal_requested_at',
                       'answer_due_at'):
            batch_op.drop_column(column)
        batch_op.drop_constraint(op.f('ck_mediation_outcome'), type_='check')
        batch_op.alter_column('outcome', existing_type=sa.VARCHAR(length=22), type_=sa.VARCHAR(length=20),
                              existing_nullable=True)
        batch_op.create_check_constraint('outcome', sa.column('outcome').in_(OUTCOMES))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('people_mediation_committee')
    op.execute(sa.text("DELETE FROM time_limit WHERE stage IN ('mediation_answer', 'performance_followup')"))
    op.execute(sa.text("UPDATE \"case\" SET stage = NULL WHERE stage IN ('mediation_answer', 'performance_followup')"))
    _stage_checks(STAGES)
