"""user_account.password_change_required: a password an administrator set is replaced by its
holder at the next sign-in

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # accounts made before this revision keep the password they have: none is asked to change it
    op.add_column('user_account', sa.Column('password_change_required', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_change_required')
