"""ix_event_supervision_notice: the 督办单 supervisors issued, a partial index on the event table,
for /supervise/notices (a few rows among millions of events)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

WHERE = "kind = 'supervised' AND actor_kind = 'staff'"


def upgrade() -> None:
    op.create_index('ix_event_supervision_notice', 'event', ['id'], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_event_supervision_notice', table_name='event',
                  postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))
