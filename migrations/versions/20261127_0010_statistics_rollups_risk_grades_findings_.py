"""statistics rollups, risk grades, findings, case updated_at index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 05:21:11.659192
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stat_refresh',
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_stat_refresh'))
    )
    op.create_table('stat_rollup',
    sa.Column('dim', sa.String(length=16), nullable=False),
    sa.Column('key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('key2', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('not_accepted', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('concluded', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('overdue_now', sa.Integer(), nullable=False),
    sa.Column('ever_overdue', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('reviewed', sa.Integer(), nullable=False),
    sa.Column('supervised', sa.Integer(), nullable=False),
    sa.Column('mediation_ended', sa.Integer(), nullable=False),
    sa.Column('mediation_agreed', sa.Integer(), nullable=False),
    sa.Column('with_finding', sa.Integer(), nullable=False),
    sa.Column('substantiated', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('dim', 'type', 'key', 'key2', 'month', name=op.f('pk_stat_rollup'))
    )
    with op.batch_alter_table('stat_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_stat_rollup_dim_type_month', ['dim', 'type', 'month'], unique=False)

    op.create_table('association_risk',
    sa.Column('association_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['association.id'], name=op.f('fk_association_risk_association_id_association'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('association_id', name=op.f('pk_association_risk'))
    )
    with op.batch_alter_table('association_risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_risk_grade'), ['grade'], unique=False)

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finding', sa.VARCHAR(length=28), nullable=True))
        batch_op.create_check_constraint('finding', sa.column('finding').in_(
            ['substantiated', 'partly_substantiated', 'not_substantiated']))
        batch_op.create_index(batch_op.f('ix_case_updated_at'), ['updated_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_updated_at'))
        batch_op.drop_constraint(op.f('ck_case_finding'), type_='check')
        batch_op.drop_column('finding')

    with op.batch_alter_table('association_risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_risk_grade'))

    op.drop_table('association_risk')
    with op.batch_alter_table('stat_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_stat_rollup_dim_type_month')

    op.drop_table('stat_rollup')
    op.drop_table('stat_refresh')
