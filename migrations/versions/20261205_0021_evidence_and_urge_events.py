"""the complainant's moves after filing: the event kinds 'evidence_added' (a statement or files
added to an open case) and 'urged' (催办 of a case past its handling deadline); the files of
such an event (and a reply's documents) point to it through attachment.event_id, which exists

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

EVENT_KINDS = ('submitted', 'routed', 'accepted', 'not_accepted', 'transferred', 'sent_back', 'info_requested',
               'info_supplied', 'replied', 'withdrawn', 'assigned', 'extended', 'suspended', 'resumed', 'rated',
               'review_requested', 'review_decided', 'closed', 'reminder', 'overdue', 'supervised',
               'mediation_started', 'mediation_ended', 'session_logged', 'identity_revealed', 'linked', 'rerouted',
               'state_changed', 'note', 'attachment_added', 'reveal_requested', 'reveal_decided', 'original_opened',
               'erased', 'contact_viewed')
NEW_EVENT_KINDS = ('evidence_added', 'urged')


def _checks(events: tuple[str, ...]) -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_eventkind'), type_='check')
        batch_op.create_check_constraint('eventkind', sa.column('kind').in_(events))


def upgrade() -> None:
    _checks(EVENT_KINDS + NEW_EVENT_KINDS)


def downgrade() -> None:
    op.execute(sa.text("UPDATE attachment SET event_id = NULL WHERE event_id IN "
                       "(SELECT id FROM event WHERE kind IN ('evidence_added', 'urged'))"))
    op.execute(sa.text("DELETE FROM event WHERE kind IN ('evidence_added', 'urged')"))
    _checks(EVENT_KINDS)
