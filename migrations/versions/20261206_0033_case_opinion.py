"""case.opinion: a complaint's reply states its handling opinion, supported, explained or not
supported (信访工作条例 第三十二条)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

OPINIONS = ('supported', 'explained', 'not_supported')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # a column added in place, its check with it: batch mode would copy every case row
        allowed = ", ".join(f"'{o}'" for o in OPINIONS)
        op.execute(sa.text(f'ALTER TABLE "case" ADD COLUMN opinion VARCHAR(21) CONSTRAINT ck_case_opinion '
                           f'CHECK (opinion IN ({allowed}))'))
        return
    op.add_column('case', sa.Column('opinion', sa.VARCHAR(length=21), nullable=True))
    op.create_check_constraint(op.f('ck_case_opinion'), 'case', sa.column('opinion').in_(OPINIONS))


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_opinion'), type_='check')
        batch_op.drop_column('opinion')
