"""ix_case_unit_attention: a unit's cases flagged overdue or under a 督办单 awaiting its report, for
the queue's 超期与督办 tab and its count on every queue page (casework.cases.queue.attention), which
otherwise read every case of the unit (9 ms for the biggest unit of 100,000 cases).

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-08 03:30:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0048'
down_revision = '0047'
branch_labels = None
depends_on = None

# as casework.cases.models.ATTENTION_SQL (a migration keeps its own copy)
SQLITE = "overdue = 1 OR notice_report_due IS NOT NULL"
POSTGRESQL = "overdue OR notice_report_due IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_case_unit_attention', 'case', ['unit_id', 'state'], unique=False,
                    postgresql_where=sa.text(POSTGRESQL), sqlite_where=sa.text(SQLITE))


def downgrade() -> None:
    op.drop_index('ix_case_unit_attention', table_name='case',
                  postgresql_where=sa.text(POSTGRESQL), sqlite_where=sa.text(SQLITE))
