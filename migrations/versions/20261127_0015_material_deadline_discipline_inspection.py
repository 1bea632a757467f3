"""the material time limit (补正: stage 'material', case.info_due_at) and the discipline inspection
unit kind and routing target (纪检监察)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

STAGES = ('triage', 'acceptance', 'report_notice', 'transfer_objection', 'handling', 'extension', 'rating',
          'review_request', 'review', 're_review', 'mediation', 'mediation_end_notice', 'judicial_confirmation')
NEW_STAGES = ('material',)
UNIT_KINDS = ('industry_department', 'registration_authority', 'supervisory_unit', 'party_work_department',
              'mediation_body', 'triage')
NEW_UNIT_KINDS = ('discipline_inspection',)
TARGETS = ('main_industry_department', 'registration_authority', 'supervisory_unit', 'mediation_body',
           'party_work_department', 'joint_mediation_body')
NEW_TARGETS = ('discipline_inspection',)


def _checks(stages, kinds, targets) -> None:
    with op.batch_alter_table('time_limit', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_time_limit_stage'), type_='check')
        batch_op.create_check_constraint('stage', sa.column('stage').in_(stages))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_case_stage'), type_='check')
        batch_op.create_check_constraint('case_stage', sa.column('stage').in_(stages))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_unit_unitkind'), type_='check')
        batch_op.create_check_constraint('unitkind', sa.column('kind').in_(kinds))
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_routing_rule_routetarget'), type_='check')
        batch_op.create_check_constraint('routetarget', sa.column('target').in_(targets))


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('info_due_at', sa.DateTime(timezone=True), nullable=True))
    _checks(STAGES + NEW_STAGES, UNIT_KINDS + NEW_UNIT_KINDS, TARGETS + NEW_TARGETS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM time_limit WHERE stage IN ('material')"))
    op.execute(sa.text("DELETE FROM routing_rule WHERE target IN ('discipline_inspection')"))
    op.execute(sa.text("UPDATE unit SET kind = 'party_work_department' WHERE kind IN ('discipline_inspection')"))
    _checks(STAGES, UNIT_KINDS, TARGETS)
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('info_due_at')
