"""a unit's case list exported (台账) is an audit entry: the audit kind 'case_list'

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template', 'identity_reveal', 'case_file', 'retention', 'backup', 'contact_details')
NEW_AUDIT_KINDS = ('case_list',)


def _check(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_auditkind'), type_='check')
        batch_op.create_check_constraint('auditkind', sa.column('kind').in_(kinds))


def upgrade() -> None:
    _check(AUDIT_KINDS + NEW_AUDIT_KINDS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audit_entry WHERE kind IN ('case_list')"))
    _check(AUDIT_KINDS)
