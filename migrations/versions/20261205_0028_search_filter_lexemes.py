"""search_document: the filters as lexemes of the tsvector ('unit u5', 'state closed', 'type …',
'category …', 'number …', and 'block 244' for case ids 244 × 4096 …), so that the GIN index
answers a search within a unit with that unit's matches only and a search over every unit finds
its newest matches among the newest blocks; an index on submitted_at (a list without words, newest
first, over every unit) (issue 18)

The lexemes of existing rows are computed here from the row's own columns, as the backend
writes them (casework.search.pg_backend.FILTER_FIELDS); the GIN index is dropped for the
update and built again (at a million rows: ~45 s of UPDATE and ~50 s of index build on two
cores). On SQLite the table is never filled (the backend needs PostgreSQL): only the index.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# '<field> ' || column, as casework.search.pg_backend.FILTER_FIELDS and BLOCK at this revision
LEXEMES = ("ARRAY['unit ' || unit_key, 'state ' || state, 'type ' || type, 'category ' || category, "
           "'number ' || number, 'block ' || (case_id / 4096)]")


def upgrade() -> None:
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index('ix_search_document_submitted_at', ['submitted_at'], unique=False)
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_search_document_tsv', table_name='search_document')
    op.execute(f"UPDATE search_document SET tsv = coalesce(tsv, ''::tsvector) || array_to_tsvector({LEXEMES})")
    op.create_index('ix_search_document_tsv', 'search_document', ['tsv'], unique=False, postgresql_using='gin')
    op.execute("ANALYZE search_document")  # the planner learns how common each unit and state is


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"UPDATE search_document SET tsv = ts_delete(tsv, {LEXEMES}) WHERE tsv IS NOT NULL")
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index('ix_search_document_submitted_at')
