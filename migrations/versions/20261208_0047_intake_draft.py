"""intake_draft: a filing form's draft while its SMS code is on its way (casework.intake.drafts),
encrypted, kept for the code's minutes under the form's token, so that the code's step answers
303 See Other to the form's GET address (Post/Redirect/Get without JavaScript).

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-08 18:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'intake_draft',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('draft_enc', sa.LargeBinary(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_intake_draft')),
    )
    with op.batch_alter_table('intake_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_draft_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_draft_expires_at'))
    op.drop_table('intake_draft')
