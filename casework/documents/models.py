"""The written notices made for a case, and the administrator's texts for them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime, utcnow
from casework.documents.kinds import Document
from casework.documents.texts import TITLE_MAX
from casework.enums import enum_column


class CaseDocument(Base):
    """One written notice: the move's event that made it, its kind and language, and the key
    of its PDF in the file store (encrypted there). Erased with the case's personal data."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), unique=True)
    kind: Mapped[Document] = mapped_column(enum_column(Document, name="document_kind"))
    locale: Mapped[str] = mapped_column(sa.String(10))
    storage_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DocumentTemplate(Base):
    """An administrator's text for one kind in one language, used instead of the default."""

    __tablename__ = "document_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Document] = mapped_column(enum_column(Document, name="document_template_kind"))
    locale: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("kind", "locale", name="uq_document_template_kind_locale"),)
