"""Erasing the personal data of cases closed longer than the retention period.

A case is closed when it reached a final state (closed, not accepted, withdrawn, mediated,
mediation failed); it was closed at the last event that moved it into that state. Once the
period (``Settings.retention_days``) has passed since then, ``erase_expired`` sets every
personal ``*_enc`` column of the case to NULL (complainant, respondent and agent), the mediation's
respondent code and the names of those who attended its sessions, deletes the uploaded files
and the mediation agreement document from disk (the attachment rows stay, marked erased,
without a file name), blanks the recipient and payload of the case's outbox messages, and
drops its receipt. It writes one internal ``erased`` event. State, dates, type, category,
association, unit, rating, finding and the timeline stay: statistics count the same.

Idempotent: a case with an ``erased`` event is not looked at again. Files are deleted after
the transaction commits, so a failed transaction leaves them in place for the next run.
Who: the system (worker, daily) or the command line (``changtong retention run``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.cases.models import ActorKind, Attachment, Case, Event, EventKind, IntakeReceipt
from casework.context import Services
from casework.documents.models import CaseDocument
from casework.mediation.models import Mediation, MediationSession
from casework.notify.channels import erase_old_files
from casework.notify.models import OutboxMessage
from casework.workflow.states import FINISHED

FINAL = FINISHED  # the retention period runs from the end of the case
PERSONAL = ("complainant_name_enc", "complainant_phone_enc", "complainant_email_enc", "complainant_id_number_enc",
            "respondent_name_enc", "respondent_phone_enc", "agent_name_enc", "agent_phone_enc",
            "complainant_phone_hash")  # the number's keyed hash: 我的诉求 no longer finds an erased case
ERASED_NAME = "-"


@dataclass
class RetentionResult:
    cutoff: datetime
    cases: list[str] = field(default_factory=list)
    files: int = 0
    outbox: int = 0
    dry_run: bool = False
    notice_files: int = 0  # development notice files older than a week (casework.notify.channels)

    def as_dict(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "cases": len(self.cases), "files": self.files,
                "outbox": self.outbox, "dry_run": self.dry_run, "notice_files": self.notice_files}


def closed_at():
    """When the case entered the final state it is in (the last event that moved it there)."""
    return (select(func.max(Event.created_at))
            .where(Event.case_id == Case.id, Event.to_state == Case.state).scalar_subquery())


def _already_erased():
    return select(Event.id).where(Event.case_id == Case.id, Event.kind == EventKind.erased).exists()


def due_cases(session: Session, cutoff: datetime, limit: int | None = None) -> list[int]:
    q = (select(Case.id).where(Case.state.in_(FINAL), ~_already_erased(), closed_at() < cutoff)
         .order_by(Case.id))
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def _erase_case(session: Session, services: Services, case: Case, now: datetime, keys: list[str]) -> tuple[int, int]:
    with session.no_autoflush:  # the case changes with its event, flushed together
        return _erase(session, services, case, now, keys)


def _erase(session: Session, services: Services, case: Case, now: datetime, keys: list[str]) -> tuple[int, int]:
    for col in PERSONAL:
        setattr(case, col, None)
    files = 0
    for att in session.scalars(select(Attachment).where(Attachment.case_id == case.id,
                                                        Attachment.erased_at.is_(None))):
        keys.append(att.storage_key)
        att.erased_at, att.filename = now, ERASED_NAME
        files += 1
    for doc in session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                         CaseDocument.storage_key.is_not(None))):
        keys.append(doc.storage_key)  # the written notices name the complainant
        doc.storage_key, doc.erased_at = None, now
        files += 1
    med = session.get(Mediation, case.id)
    if med is not None:
        med.respondent_code_hash = None
        med.particulars_enc = None  # the parties' ID or credit code and address in the agreement
        if med.agreement_key:
            keys.append(med.agreement_key)
            med.agreement_key = None
            files += 1
        session.execute(update(MediationSession).where(MediationSession.case_id == case.id).values(attendees=None))
    outbox = session.execute(update(OutboxMessage).where(
        OutboxMessage.case_id == case.id,
        (OutboxMessage.recipient_enc.is_not(None)) | (OutboxMessage.payload_enc.is_not(None)),
    ).values(recipient_enc=None, recipient_hash=None, payload_enc=None)).rowcount or 0
    session.execute(IntakeReceipt.__table__.delete().where(IntakeReceipt.case_id == case.id))
    session.add(Event(case=case, created_at=now, actor_kind=ActorKind.system, actor_id=None, kind=EventKind.erased,
                      summary=f"personal data erased after {services.settings.retention_days} days",
                      data={"files": files, "outbox": outbox, "retention_days": services.settings.retention_days}))
    case.updated_at = now
    return files, outbox


def erase_expired(db, services: Services, *, dry_run: bool = False, chunk: int = 200,
                  actor: Actor | None = None) -> RetentionResult:
    """Erase every case due (in chunks, one transaction each); with ``dry_run`` only count."""
    now = services.clock()
    result = RetentionResult(cutoff=now - timedelta(days=services.settings.retention_days), dry_run=dry_run)
    actor = actor or Actor.system("retention")
    if dry_run:
        with db.session_scope(write=False) as s:
            ids = due_cases(s, result.cutoff)
            result.cases = list(s.scalars(select(Case.number).where(Case.id.in_(ids)))) if ids else []
            result.files = (s.scalar(select(func.count()).select_from(Attachment).where(
                Attachment.case_id.in_(ids), Attachment.erased_at.is_(None)))
                + s.scalar(select(func.count()).select_from(CaseDocument).where(
                    CaseDocument.case_id.in_(ids), CaseDocument.storage_key.is_not(None)))
                + s.scalar(select(func.count()).select_from(Mediation).where(
                    Mediation.case_id.in_(ids), Mediation.agreement_key.is_not(None)))) if ids else 0
        return result
    while True:
        keys: list[str] = []
        with db.session_scope() as s:
            ids = due_cases(s, result.cutoff, chunk)
            if not ids:
                break
            numbers = []
            for case in s.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)):
                files, outbox = _erase_case(s, services, case, now, keys)
                result.files += files
                result.outbox += outbox
                numbers.append(case.number)
            record(s, actor, Change("retention", "erased", numbers[0] if len(numbers) == 1 else f"{len(numbers)} cases",
                                    None, {"cases": numbers, "retention_days": services.settings.retention_days,
                                           "cutoff": result.cutoff.isoformat()}))
        for key in keys:  # after the commit: a rolled-back chunk keeps its files
            services.files.delete(key)
        result.cases.extend(numbers)
    # the development notice files (phone numbers, query codes) do not wait for the case's end:
    # the outbox erases a sent code at once, the file goes after FILE_DAYS
    result.notice_files = erase_old_files(services.settings.notice_dir, now.timestamp())
    return result
