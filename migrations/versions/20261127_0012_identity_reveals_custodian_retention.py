"""identity reveal requests, the custodian role, erased attachments, reveal/retention event kinds

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 06:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ROLES = ('handler', 'unit_lead', 'triage_operator', 'supervisor', 'administrator')
NEW_ROLES = ('custodian',)
EVENT_KINDS = ('submitted', 'routed', 'accepted', 'not_accepted', 'transferred', 'sent_back', 'info_requested',
               'info_supplied', 'replied', 'withdrawn', 'assigned', 'extended', 'suspended', 'resumed', 'rated',
               'review_requested', 'review_decided', 'closed', 'reminder', 'overdue', 'supervised',
               'mediation_started', 'mediation_ended', 'session_logged', 'identity_revealed', 'linked', 'rerouted',
               'state_changed', 'note', 'attachment_added')
NEW_EVENT_KINDS = ('reveal_requested', 'reveal_decided', 'original_opened', 'erased')
AUDIT_KINDS = ('routing_rule', 'joint_mediation_body', 'canned_reply', 'time_limit', 'calendar_override',
               'calendar_year', 'association', 'unit', 'user', 'membership', 'api_token', 'category',
               'notice_template')
NEW_AUDIT_KINDS = ('identity_reveal', 'case_file', 'retention')
AUDIT_ACTIONS = ('created', 'updated', 'deactivated', 'reactivated', 'removed', 'imported', 'deregistered',
                 'reinstated', 'granted', 'revoked', 'password_set', 'reset')
NEW_AUDIT_ACTIONS = ('requested', 'approved', 'denied', 'viewed', 'downloaded', 'erased')


def _checks(new: bool) -> None:
    plus = (lambda old, extra: old + extra) if new else (lambda old, extra: old)
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_membership_role'), type_='check')
        batch_op.create_check_constraint('role', sa.column('role').in_(plus(ROLES, NEW_ROLES)))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_eventkind'), type_='check')
        batch_op.create_check_constraint('eventkind', sa.column('kind').in_(plus(EVENT_KINDS, NEW_EVENT_KINDS)))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_auditkind'), type_='check')
        batch_op.drop_constraint(op.f('ck_audit_entry_auditaction'), type_='check')
        batch_op.create_check_constraint('auditkind', sa.column('kind').in_(plus(AUDIT_KINDS, NEW_AUDIT_KINDS)))
        batch_op.create_check_constraint('auditaction',
                                         sa.column('action').in_(plus(AUDIT_ACTIONS, NEW_AUDIT_ACTIONS)))


def upgrade() -> None:
    op.create_table('reveal_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'denied', name='revealstatus', native_enum=False,
                                create_constraint=True, length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_reveal_request_decided_when_not_pending')),
    sa.CheckConstraint("(status = 'approved') = (expires_at IS NOT NULL)", name=op.f('ck_reveal_request_approved_expires')),
    sa.CheckConstraint('decided_by IS NULL OR decided_by <> requested_by', name=op.f('ck_reveal_request_not_self_approved')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_reveal_request_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_reveal_request_decided_by_user_account')),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], name=op.f('fk_reveal_request_requested_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reveal_request'))
    )
    with op.batch_alter_table('reveal_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reveal_request_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reveal_request_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_reveal_request_status'), ['status'], unique=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    _checks(new=True)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM membership WHERE role IN ('custodian')"))
    op.execute(sa.text("DELETE FROM event WHERE kind IN ('reveal_requested', 'reveal_decided', 'original_opened', 'erased')"))
    op.execute(sa.text("DELETE FROM audit_entry WHERE kind IN ('identity_reveal', 'case_file', 'retention')"
                       " OR action IN ('requested', 'approved', 'denied', 'viewed', 'downloaded', 'erased')"))
    _checks(new=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('reveal_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reveal_request_status'))
        batch_op.drop_index(batch_op.f('ix_reveal_request_requested_by'))
        batch_op.drop_index(batch_op.f('ix_reveal_request_case_id'))
    op.drop_table('reveal_request')
