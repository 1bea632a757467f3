"""staff see a complaint's or mediation's contact details with a reason: the event kind
'contact_viewed' (internal timeline) and the audit kind 'contact_details'

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 19:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

EVENT_KINDS = ('submitted', 'routed', 'accepted', 'not_accepted', 'transferred', 'sent_back', 'info_requested',
               'info_supplied', 'replied', 'withdrawn', 'assigned', 'extended', 'suspended', 'resumed', 'rated',
               'review_requested', 'review_decided', 'closed', 'reminder', 'overdue', 'supervised',
               'mediation_started', 'mediation_ended', 'session_logged', 'identity_revealed', 'linked', 'rerouted',
               'state_changed', 'note', 'attachment_added', 'reveal_requested', 'reveal_decided', 'original_opened',
               'erased')
NEW_EVENT_KINDS = ('contact_viewed',)
AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template', 'identity_reveal', 'case_file', 'retention', 'backup')
NEW_AUDIT_KINDS = ('contact_details',)


def _checks(events: tuple[str, ...], audits: tuple[str, ...]) -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_eventkind'), type_='check')
        batch_op.create_check_constraint('eventkind', sa.column('kind').in_(events))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_auditkind'), type_='check')
        batch_op.create_check_constraint('auditkind', sa.column('kind').in_(audits))


def upgrade() -> None:
    _checks(EVENT_KINDS + NEW_EVENT_KINDS, AUDIT_KINDS + NEW_AUDIT_KINDS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM event WHERE kind IN ('contact_viewed')"))
    op.execute(sa.text("DELETE FROM audit_entry WHERE kind IN ('contact_details')"))
    _checks(EVENT_KINDS, AUDIT_KINDS)
