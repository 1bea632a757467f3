"""A written notice (书面告知) as the move would issue it, before it is issued.

The move is made through the machine, exactly as it would be (its checks, its step, its event,
its document), inside a savepoint that is then rolled back: nothing of it stays, no notice leaves
(the outbox rows go with the savepoint), and the document is kept in memory, never written to the
file store. Each page of it carries a mark, 预览·未发出 / PREVIEW · NOT ISSUED, so that a preview
is never taken for the notice itself.
"""
from __future__ import annotations

import dataclasses
import io
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.cases.models import Case
from casework.context import Services
from casework.documents.models import CaseDocument
from casework.intake.files import FileStore

MARK_HTML = """<!doctype html><html><head><meta charset="utf-8"><style>
@page { size: A4; margin: 0; }
html { font-family: "Noto Sans CJK SC", sans-serif; }
.top { position: absolute; top: .8cm; left: 0; right: 0; text-align: center; color: #b3261e; font-size: 11pt;
       font-weight: 700; letter-spacing: .05em; }
.diagonal { position: absolute; top: 12cm; left: -2cm; right: -2cm; text-align: center; transform: rotate(-35deg);
            color: rgba(179, 38, 30, .16); font-size: 64pt; font-weight: 700; }
</style></head><body><p class="top">预览 · 未发出 — PREVIEW · NOT ISSUED</p><p class="diagonal">预览 PREVIEW</p></body></html>"""


class _Kept(FileStore):
    """A file store that keeps what is put in memory and writes nothing."""

    def __init__(self, base: FileStore):
        super().__init__(base.root, base.cipher)
        self.files: dict[tuple[str, str], bytes] = {}

    def put(self, key: str, variant: str, data: bytes) -> None:
        self.files[(key, variant)] = data

    def get(self, key: str, variant: str) -> bytes:
        return self.files[(key, variant)]

    def delete(self, key: str) -> None:
        for k in [k for k in self.files if k[0] == key]:
            del self.files[k]


class NoDocument(Exception):
    """The move, made with these values on this case, issues no written notice."""


def preview(session: Session, services: Services, actor: Actor, case: Case, name: str, *,
            version: Any = None, **fields: Any) -> tuple[bytes, str]:
    """The PDF the move ``name`` would issue with these fields, marked as a preview, and its kind.
    Raises what the machine raises for a move it refuses (the form's errors), or NoDocument."""
    from casework.workflow.machine import perform  # the machine imports the documents

    kept = _Kept(services.files)
    savepoint = session.begin_nested()
    try:
        event = perform(session, dataclasses.replace(services, files=kept), actor, case, name, version=version,
                        **fields)
        doc = session.scalar(select(CaseDocument).where(CaseDocument.event_id == event.id))
        pdf = kept.files.get((doc.storage_key, "orig")) if doc is not None else None
        kind = doc.kind.value if doc is not None else ""
    finally:
        savepoint.rollback()
    session.expire(case)
    if pdf is None:
        raise NoDocument(name)
    return marked(pdf), kind


@lru_cache(maxsize=1)
def _mark() -> bytes:
    from casework.mediation.document import html_to_pdf

    return html_to_pdf(MARK_HTML)


def marked(pdf: bytes) -> bytes:
    """Every page of the PDF with the preview mark laid over it."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc, pikepdf.open(io.BytesIO(_mark())) as mark:
        over = doc.copy_foreign(mark.pages[0].obj)
        for page in doc.pages:
            page.add_overlay(pikepdf.Page(over))
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()
