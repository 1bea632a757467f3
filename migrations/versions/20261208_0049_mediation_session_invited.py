"""mediation_session.invited: whether the parties were sent an invitation to the session. Only a
session still to come is announced; one recorded after the fact (its time already past when it
was entered) is not, and its later move or cancellation is not told as the change of a session
they knew of. Every session before this revision was announced when it was scheduled: invited.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_column('invited')
