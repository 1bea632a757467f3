"""mediation_session.status: a session moved (to the session that replaced it) or cancelled, when
and why; the parties are told either. Every session before this revision stands as scheduled.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

STATUSES = ('scheduled', 'moved', 'cancelled')


def upgrade() -> None:
    # a small table: rebuilt on SQLite to take its checks and the foreign key to itself
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.VARCHAR(length=17), nullable=False, server_default='scheduled'))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('moved_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_mediation_session_moved_to_id_mediation_session'),
                                    'mediation_session', ['moved_to_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_mediation_session_sessionstatus'),
                                         sa.column('status').in_(STATUSES))
        batch_op.create_check_constraint(batch_op.f('ck_mediation_session_held_as_scheduled'),
                                         sa.text("NOT held OR status = 'scheduled'"))
        batch_op.create_check_constraint(
            batch_op.f('ck_mediation_session_change_has_reason'),
            sa.text("status = 'scheduled' OR (status_changed_at IS NOT NULL AND status_reason IS NOT NULL)"))


def downgrade() -> None:
    # a moved session's replacement stays as a session of its own; a cancelled one reads as
    # scheduled again (the timeline keeps the events that moved and cancelled them)
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_mediation_session_change_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_mediation_session_held_as_scheduled'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_mediation_session_sessionstatus'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_mediation_session_moved_to_id_mediation_session'), type_='foreignkey')
        batch_op.drop_column('moved_to_id')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('status')
