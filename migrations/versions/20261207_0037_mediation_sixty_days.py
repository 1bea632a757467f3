"""The mediation time limit follows the 市场监督管理投诉举报处理办法 of 2026 (市场监管总局令第121号,
in force 2026-04-15): 60 days from acceptance (第二十三条第一款第五项), not the 45 working days of
the 暂行办法 it repealed. Only a row still holding the old default is changed; a limit an
administrator set otherwise stays. Cases already in mediation keep the deadline they were given.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE time_limit SET amount = 60, working_days = :false "
        "WHERE stage = 'mediation' AND case_type IS NULL AND amount = 45 AND working_days = :true"
    ).bindparams(true=True, false=False))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE time_limit SET amount = 45, working_days = :true "
        "WHERE stage = 'mediation' AND case_type IS NULL AND amount = 60 AND working_days = :false"
    ).bindparams(true=True, false=False))
