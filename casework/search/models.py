"""The table the PostgreSQL search backend (casework.search.pg_backend) keeps: one row per
case, with what may be shown and highlighted (the case's own text and its public replies,
never an identity or an internal note) and a tsvector of the jieba-segmented text.

The tsvector also holds the document's filters as lexemes without positions (``'unit u5'``,
``'state closed'``, ``'type …'``, ``'category …'``, ``'number …'``; see pg_backend), so that the GIN
index answers a search within a unit with that unit's matches only.

The table exists on SQLite too (models and migrations stay the same everywhere), but ``tsv``
is plain TEXT there and the backend is only usable on PostgreSQL."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime

TSVECTOR = sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")


class SearchDocument(Base):
    __tablename__ = "search_document"
    __table_args__ = (
        sa.Index("ix_search_document_tsv", "tsv", postgresql_using="gin"),
        # an empty query lists what the user may see, newest first
        sa.Index("ix_search_document_unit_key_submitted_at", "unit_key", "submitted_at"),
        # every unit's newest first: a supervisor's common word stops at the 1,001st newest match
        sa.Index("ix_search_document_submitted_at", "submitted_at"),
    )

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    number: Mapped[str] = mapped_column(sa.String(20))
    # the permission key: u<unit id>, "triage" (waiting for routing) or "none"
    unit_key: Mapped[str] = mapped_column(sa.String(24))
    state: Mapped[str] = mapped_column(sa.String(40))
    type: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str] = mapped_column(sa.String(60))
    unit_id: Mapped[int | None] = mapped_column(sa.Integer)
    association_id: Mapped[int | None] = mapped_column(sa.Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # what may be highlighted (HTML-escaped when shown)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text)
    replies: Mapped[str] = mapped_column(sa.Text, default="")
    association_name: Mapped[str] = mapped_column(sa.Text, default="")
    tsv: Mapped[str | None] = mapped_column(TSVECTOR)
