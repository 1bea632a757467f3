"""case: drop ix_case_state and ix_case_unit_id, each the first column of a wider index (issue 18)

``ix_case_state_due`` (state, due_at) serves whatever ``ix_case_state`` served, and
``ix_case_unit_state_due_id`` (unit_id, state, due_at, id) whatever ``ix_case_unit_id`` served,
the unit's foreign key included. Every filing wrote both for nothing: 15 indexes became 13, about 3%
more submissions a second on SQLite (bench/README.md).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 12:40:00
"""
from alembic import op


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_case_state", table_name="case")
    op.drop_index("ix_case_unit_id", table_name="case")


def downgrade() -> None:
    op.create_index("ix_case_unit_id", "case", ["unit_id"])
    op.create_index("ix_case_state", "case", ["state"])
