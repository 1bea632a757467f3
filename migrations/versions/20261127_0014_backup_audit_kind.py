"""the audit log records backups taken and restored (audit kind 'backup')

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 09:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template', 'identity_reveal', 'case_file', 'retention')
NEW_AUDIT_KINDS = ('backup',)


def _check(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_auditkind'), type_='check')
        batch_op.create_check_constraint('auditkind', sa.column('kind').in_(kinds))


def upgrade() -> None:
    _check(AUDIT_KINDS + NEW_AUDIT_KINDS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audit_entry WHERE kind IN ('backup')"))
    _check(AUDIT_KINDS)
