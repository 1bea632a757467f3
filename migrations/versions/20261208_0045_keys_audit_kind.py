"""`changtong keys rotate` writes an audit entry: the audit kind 'keys' (counts only, never a
value or a key). Query-code hashes need no column to say which pepper made them: a new hash
names its pepper's id in its own 64 characters (casework.privacy.codes).

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-08 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None

AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template', 'identity_reveal', 'case_file', 'retention', 'backup', 'contact_details',
               'case_list')
NEW_AUDIT_KINDS = ('keys',)


def _check(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_auditkind'), type_='check')
        batch_op.create_check_constraint('auditkind', sa.column('kind').in_(kinds))


def upgrade() -> None:
    _check(AUDIT_KINDS + NEW_AUDIT_KINDS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audit_entry WHERE kind IN ('keys')"))
    _check(AUDIT_KINDS)
