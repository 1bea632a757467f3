"""case.notice_report_due: the date by which the unit owes a report on its open 督办单 (none once
it reported), with a partial index for the supervisor's list of notices waiting for a report;
filled from the events for notices issued before

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 06:00:00
"""
import json
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

WHERE = "notice_report_due IS NOT NULL"


def _data(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def upgrade() -> None:
    op.add_column('case', sa.Column('notice_report_due', sa.Date(), nullable=True))  # no table rebuild
    op.create_index('ix_case_notice_report_due', 'case', ['notice_report_due', 'id'], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))
    bind = op.get_bind()
    latest = {}  # case id -> (notice id, respond_by) of its latest 督办单
    for notice_id, case_id, data in bind.execute(sa.text(
            "SELECT id, case_id, data FROM event WHERE kind = 'supervised' AND actor_kind = 'staff' ORDER BY id")):
        latest[case_id] = (notice_id, _data(data).get("respond_by"))
    answered = set()
    ids = list(latest)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = bind.execute(sa.text("SELECT data FROM event WHERE kind = 'note' AND case_id IN :ids")
                            .bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk})
        for (data,) in rows:
            data = _data(data)
            if data.get("action") == "supervision_report":
                answered.add(data.get("supervision"))
    case = sa.table('case', sa.column('id', sa.Integer), sa.column('notice_report_due', sa.Date))
    for case_id, (notice_id, respond_by) in latest.items():
        if notice_id not in answered and respond_by:
            bind.execute(case.update().where(case.c.id == case_id)
                         .values(notice_report_due=date.fromisoformat(respond_by)))


def downgrade() -> None:
    op.drop_index('ix_case_notice_report_due', table_name='case',
                  postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('notice_report_due')
