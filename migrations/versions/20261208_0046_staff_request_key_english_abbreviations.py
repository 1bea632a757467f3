"""staff_request_key: the staff API's moves made under an Idempotency-Key (casework.idempotency);
and the associations saved before this version get their English abbreviation among their
lookup terms (casework.registry.lookup.english_abbreviations: China Association of Automobile
Manufacturers → caam), which every save adds from now on.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-08 12:00:00
"""
import re

import sqlalchemy as sa
from alembic import op


revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None

# casework.registry.lookup as of this migration (a migration keeps its own copy)
LITTLE_WORDS = frozenset(("of", "and", "the", "for", "in", "on", "at", "to", "a", "an", "&"))
EN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*|&")
PARENTHESES = re.compile(r"[(（][^)）]*[)）]")
COLUMN_MAX = 200


def english_abbreviations(name_en):
    words = EN_WORD.findall(PARENTHESES.sub(" ", name_en or ""))
    if len(words) < 2:
        return ()
    out = []
    for chosen in ([w for w in words if w.lower() not in LITTLE_WORDS], [w for w in words if w != "&"]):
        initials = "".join(w[0] for w in chosen).lower()
        if len(initials) >= 2 and initials not in out:
            out.append(initials)
    return tuple(out)


def upgrade() -> None:
    op.create_table(
        'staff_request_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_staff_request_key_case_id_case'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_staff_request_key_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_request_key')),
        sa.UniqueConstraint('user_id', 'key', name='uq_staff_request_key_user_key'),
    )
    with op.batch_alter_table('staff_request_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_request_key_created_at'), ['created_at'], unique=False)

    conn = op.get_bind()
    changed = []
    for ident, name_en, terms in conn.execute(sa.text(
            "SELECT id, name_en, pinyin_initials FROM association WHERE name_en IS NOT NULL AND name_en <> ''")):
        have = (terms or "").split()
        value = terms or ""
        for term in english_abbreviations(name_en):
            if term in have or len(f"{value} {term}".strip()) > COLUMN_MAX:
                continue
            have.append(term)
            value = f"{value} {term}".strip()
        if value != (terms or ""):
            changed.append({"id": ident, "terms": value})
    if changed:
        conn.execute(sa.text("UPDATE association SET pinyin_initials = :terms WHERE id = :id"), changed)


def downgrade() -> None:
    # the English abbreviations stay among the terms: the older code only reads them as letters to match
    with op.batch_alter_table('staff_request_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_request_key_created_at'))
    op.drop_table('staff_request_key')
