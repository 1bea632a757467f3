"""Making, finding and reading the written notices, and the administrator's texts for them.

``produce`` is called by the machine within the move (casework.workflow.machine.perform):
the document exists exactly when the move does. Like every operation these flush and never
commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.cases.models import Case, Event
from casework.context import Services
from casework.documents import render
from casework.documents.kinds import Document
from casework.documents.models import CaseDocument, DocumentTemplate
from casework.documents.texts import BODY_MAX, LOCALES, REQUIRED, TEMPLATES, TITLE_MAX, placeholders
from casework.i18n import Message, N_
from casework.text import clean_text
from casework.notify.templates import check_placeholders


def text_of(session: Session, kind: Document, locale: str) -> tuple[str, str]:
    """(title, body) of a kind in a language: the administrator's text, else the default."""
    row = session.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == kind,
                                                        DocumentTemplate.locale == locale))
    return (row.title, row.body) if row is not None else TEMPLATES[kind][locale]


def produce(session: Session, services: Services, case: Case, event: Event, kind: Document) -> CaseDocument:
    """Make the document of this move (its event is flushed), store it encrypted and record it.
    The same event gets one document however often this is called."""
    existing = session.scalar(select(CaseDocument).where(CaseDocument.event_id == event.id))
    if existing is not None:
        return existing
    locale = render.language(case)
    title, body = text_of(session, kind, locale)
    pdf = render.document_pdf(title, body, render.values(session, services, case, event, kind, locale), locale)
    key = services.files.new_key()
    services.files.put(key, "orig", pdf)
    doc = CaseDocument(case_id=case.id, event_id=event.id, kind=kind, locale=locale, storage_key=key,
                       created_at=event.created_at)
    session.add(doc)
    session.flush()
    return doc


def case_documents(session: Session, case: Case) -> list[CaseDocument]:
    """The case's documents still held, oldest first."""
    return list(session.scalars(select(CaseDocument).where(
        CaseDocument.case_id == case.id, CaseDocument.storage_key.is_not(None)).order_by(CaseDocument.id)))


def case_document(session: Session, case: Case, document_id: int) -> CaseDocument | None:
    doc = session.get(CaseDocument, document_id)
    return doc if doc is not None and doc.case_id == case.id and doc.storage_key else None


def document_bytes(services: Services, doc: CaseDocument) -> bytes:
    """The stored PDF; LookupError when it was erased."""
    if not doc.storage_key:
        raise LookupError("no document")
    return services.files.get(doc.storage_key, "orig")


def document_filename(case: Case, doc: CaseDocument) -> str:
    return f"{case.number}-{doc.kind.value.replace('_', '-')}-{doc.id}.pdf"


# --- administration ------------------------------------------------------------------------------

@dataclass
class TemplateRow:
    kind: Document
    locale: str
    title: str
    body: str
    default_title: str
    default_body: str
    overridden: bool
    placeholders: list[str]
    required: list[str]


def template_rows(session: Session) -> list[TemplateRow]:
    overrides = {(row.kind, row.locale): (row.title, row.body) for row in session.scalars(select(DocumentTemplate))}
    rows = []
    for kind in Document:
        for locale in LOCALES:
            default_title, default_body = TEMPLATES[kind][locale]
            title, body = overrides.get((kind, locale), (default_title, default_body))
            rows.append(TemplateRow(kind, locale, title, body, default_title, default_body,
                                    (kind, locale) in overrides, placeholders(kind), sorted(REQUIRED[kind])))
    return rows


def template_row(session: Session, kind: Document, locale: str) -> TemplateRow | None:
    return next((r for r in template_rows(session) if (r.kind, r.locale) == (kind, locale)), None)


def check_text(kind: Document, title: str, body: str) -> tuple[tuple[str, str] | None, dict[str, list[Message]]]:
    """Validate an administrator's text: lengths, well-formed placeholders, none the kind does
    not know, and every part the law requires kept (REQUIRED)."""
    title, body = clean_text(title), clean_text(body, multiline=True)
    errors = check_placeholders(
        (("title", title, TITLE_MAX), ("body", body, BODY_MAX)), placeholders(kind), REQUIRED[kind],
        unknown=N_("Unknown placeholders: %(unknown)s. This document knows only: %(known)s."),
        missing=N_("This document must keep %(missing)s: the law requires it to state that part."))
    return (None, errors) if errors else ((title, body), {})


def _snapshot(title: str, body: str, overridden: bool) -> dict:
    return {"title": title, "body": body, "overridden": overridden}


def save_template(session: Session, actor: Actor, kind: Document, locale: str, title: str, body: str) -> Change:
    """Set the administrator's text (checked by ``check_text`` first)."""
    row = session.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == kind,
                                                        DocumentTemplate.locale == locale))
    before = _snapshot(row.title, row.body, True) if row else _snapshot(*TEMPLATES[kind][locale], False)
    if row is None:
        row = DocumentTemplate(kind=kind, locale=locale)
        session.add(row)
    row.title, row.body = title, body
    session.flush()
    change = Change("notice_template", "updated", f"document:{kind.value}:{locale}", before,
                    _snapshot(title, body, True))
    record(session, actor, change)
    return change


def reset_template(session: Session, actor: Actor, kind: Document, locale: str) -> Change | None:
    """Back to the default text; None when there was nothing to reset."""
    row = session.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == kind,
                                                        DocumentTemplate.locale == locale))
    if row is None:
        return None
    change = Change("notice_template", "reset", f"document:{kind.value}:{locale}",
                    _snapshot(row.title, row.body, True), _snapshot(*TEMPLATES[kind][locale], False))
    session.delete(row)
    session.flush()
    record(session, actor, change)
    return change
