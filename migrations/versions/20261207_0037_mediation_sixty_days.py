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


LIMIT = sa.table("time_limit", sa.column("stage", sa.String), sa.column("case_type", sa.String),
                 sa.column("amount", sa.Integer), sa.column("working_days", sa.Boolean))


def _move(amount: int, working_days: bool, to: tuple[int, bool]) -> None:
    """Only when the row holds ``amount``/``working_days``: on PostgreSQL time_limit's statement
    trigger (migration 0027) would otherwise stamp reference_version even for no row, and a new,
    empty database would no longer count as empty (a backup is restored only into one)."""
    where = sa.and_(LIMIT.c.stage == "mediation", LIMIT.c.case_type.is_(None),
                    LIMIT.c.amount == amount, LIMIT.c.working_days == working_days)
    bind = op.get_bind()
    if bind.execute(sa.select(LIMIT.c.amount).where(where)).first() is not None:
        bind.execute(LIMIT.update().where(where).values(amount=to[0], working_days=to[1]))


def upgrade() -> None:
    _move(45, True, to=(60, False))


def downgrade() -> None:
    _move(60, False, to=(45, True))
