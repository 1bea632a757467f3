"""phone_verification, and on the case: the phone number's keyed hash and how it was verified
(issue 19, verified phone and 我的诉求)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 20:15:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'phone_verification',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_verification')),
    )
    with op.batch_alter_table('phone_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_verification_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_verification_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('complainant_phone_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_verified_via', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('phone_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_complainant_phone_hash'), ['complainant_phone_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_complainant_phone_hash'))
        batch_op.drop_column('phone_verified_at')
        batch_op.drop_column('phone_verified_via')
        batch_op.drop_column('complainant_phone_hash')
    with op.batch_alter_table('phone_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_verification_created_at'))
        batch_op.drop_index(batch_op.f('ix_phone_verification_phone_hash'))
    op.drop_table('phone_verification')
