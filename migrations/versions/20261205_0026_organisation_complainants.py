"""An organisation as the complainant and an agent (委托代理人) who files for one (issue 19):
case.complainant_kind, organisation_name, organisation_credit_code (not personal data),
agent_name_enc and agent_phone_enc (personal: ciphertext only), attachment.role (the agent's
授权委托书 is marked ``power_of_attorney``)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('complainant_kind', sa.String(length=12), nullable=False,
                                      server_default='person'))
        batch_op.add_column(sa.Column('organisation_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('organisation_credit_code', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('agent_name_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('agent_phone_enc', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('agent_phone_enc')
        batch_op.drop_column('agent_name_enc')
        batch_op.drop_column('organisation_credit_code')
        batch_op.drop_column('organisation_name')
        batch_op.drop_column('complainant_kind')
