"""stat_rollup: each unit's figures counted against the unit whose work they are (the unit that
handled the case at first instance; a finding or opinion against the unit whose decision is in
force; overdue now against the unit holding the case), not against the unit holding the case
now (casework.stats.rollup). A review request had moved a reply's rating and the request itself
to the review body. The rollups are computed by the worker, not in SQL: the watermark of the
rollup job is cleared, so its next refresh (within CHANGTONG_STATS_SECONDS, or
``changtong stats refresh``) recomputes every month, as ``--full`` does, and sets a new
generation for the public figures. No table changes.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 10:00:00
"""
from alembic import op


revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE stat_refresh SET watermark = NULL WHERE job = 'rollup'")


def downgrade() -> None:
    # the older code recomputes every month too, so no row keeps the newer attribution
    op.execute("UPDATE stat_refresh SET watermark = NULL WHERE job = 'rollup'")
