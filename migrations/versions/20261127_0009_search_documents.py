"""search documents: the PostgreSQL full-text backend's table (jieba-segmented tsvector)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 04:35:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_document',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('unit_key', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('replies', sa.Text(), nullable=False),
    sa.Column('association_name', sa.Text(), nullable=False),
    # a tsvector on PostgreSQL; plain TEXT (never filled) on SQLite, where the backend is unusable
    sa.Column('tsv', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_search_document_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_search_document'))
    )
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        # GIN on PostgreSQL; on SQLite postgresql_using is ignored (an index on an empty column)
        batch_op.create_index('ix_search_document_tsv', ['tsv'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_search_document_unit_key_submitted_at', ['unit_key', 'submitted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index('ix_search_document_unit_key_submitted_at')
        batch_op.drop_index('ix_search_document_tsv')
    op.drop_table('search_document')
