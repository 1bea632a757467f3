"""written notices: case_document (one PDF per move that makes one) and document_template
(an administrator's text for a kind in a language)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KINDS = ('acceptance', 'non_acceptance', 'transfer', 'handling_opinion', 'review_opinion', 're_review_opinion')


def upgrade() -> None:
    op.create_table('case_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='document_kind', native_enum=False, create_constraint=True, length=25), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_document_case_id_case')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_case_document_event_id_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_document')),
    sa.UniqueConstraint('event_id', name=op.f('uq_case_document_event_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_case_document_storage_key'))
    )
    with op.batch_alter_table('case_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_document_case_id'), ['case_id'], unique=False)
    op.create_table('document_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='document_template_kind', native_enum=False, create_constraint=True, length=25), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_template')),
    sa.UniqueConstraint('kind', 'locale', name=op.f('uq_document_template_kind_locale'))
    )


def downgrade() -> None:
    op.drop_table('document_template')
    with op.batch_alter_table('case_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_document_case_id'))
    op.drop_table('case_document')
