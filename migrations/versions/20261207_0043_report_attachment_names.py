"""A reporter's files are kept by their place (附件1.jpg), not by the names they came with: a
name can name its sender (王小明_付款记录.jpg), and a report's identity is shown only through an
audited reveal (casework.intake.files.report_file_name). The files a reporter sent before are
renamed so, in the order they came; staff files keep their names, and an erased file's blank
name stays blank. The names cannot be put back: the downgrade leaves them.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 16:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT a.id, a.case_id, a.content_type, a.erased_at FROM attachment a JOIN "case" c ON c.id = a.case_id '
        "WHERE c.type = 'report' AND a.from_staff = :no ORDER BY a.case_id, a.id"), {"no": False}).all()
    place: dict[int, int] = {}
    renamed = []
    for att_id, case_id, content_type, erased_at in rows:
        place[case_id] = place.get(case_id, 0) + 1
        if erased_at is None:
            renamed.append({"id": att_id, "name": f"附件{place[case_id]}.{EXTENSIONS.get(content_type, 'bin')}"})
    if renamed:
        conn.execute(sa.text("UPDATE attachment SET filename = :name WHERE id = :id"), renamed)


def downgrade() -> None:
    pass
