"""Filing a case: the one operation every intake channel calls.

``submit_case`` stores the case, its first event, its attachments and the notices to the
complainant in one transaction (it flushes; the caller commits). A replayed submission
(same idempotency key) returns the first one's receipt instead of filing again.
"""
from __future__ import annotations

import hashlib

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.cases.models import (
    ActorKind, Attachment, Case, CaseState, Channel, Event, EventKind, IntakeReceipt,
)
from casework.cases.numbers import new_case_number
from casework.context import Services
from casework.db import as_utc
from casework.intake.files import CleanFile
from casework.intake.validation import Submission
from casework.notify.models import OutboxChannel
from casework.notify.queue import new_message
from casework.privacy.codes import hash_code, new_query_code

NUMBER_ATTEMPTS = 8
VERIFIED_VIA = frozenset({"sms", "api_client"})  # case.phone_verified_via of a proved number


@dataclass(frozen=True)
class Receipt:
    case_id: int
    case_number: str
    state: CaseState
    # None when a replay comes after the receipt expired: the code was shown once already
    query_code: str | None
    replayed: bool = False


def stage_file(session: Session, services: Services, token: str | None, clean: CleanFile, *,
               role: str | None = None, case_id: int | None = None) -> Attachment:
    """Keep a checked upload under the form's token until the case is filed (or file it with
    ``case_id`` at once); ``role`` marks an agent's power of attorney."""
    key = services.files.new_key()
    services.files.put(key, "orig", clean.original)
    services.files.put(key, "staff", clean.staff_copy)
    att = Attachment(
        staging_token=None if case_id else token, case_id=case_id, role=role,
        filename=clean.filename, content_type=clean.content_type,
        size=len(clean.original), sha256=clean.sha256, storage_key=key,
        uploaded_at=services.clock(),
    )
    session.add(att)
    session.flush()
    return att


def staged_files(session: Session, token: str) -> list[Attachment]:
    if not token:
        return []
    return list(session.scalars(
        select(Attachment).where(Attachment.staging_token == token).order_by(Attachment.id)
    ))


def unstage_file(session: Session, services: Services, token: str, attachment_id: int) -> None:
    att = session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.staging_token == token
    ))
    if att is not None:
        services.files.delete(att.storage_key)
        session.delete(att)
        session.flush()


def scoped_key(namespace: str, raw: str) -> str:
    """A client's idempotency key in one channel's namespace (``api:``, ``open311:``), within
    the 64 characters stored: a longer one is replaced by its SHA-256 (still one key per key)."""
    key = f"{namespace}:{raw}"
    if len(key) > 64:
        key = f"{namespace}:" + hashlib.sha256(raw.encode()).hexdigest()[:63 - len(namespace)]
    return key


class KeyReused(ValueError):
    """An idempotency key sent again with a different request: it replays only its own."""


def request_digest(data) -> str:
    """SHA-256 of a request's content, independent of key order and spacing: what an
    idempotency key is bound to (a replay must send the same request)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find_receipt(session: Session, services: Services, idempotency_key: str,
                 digest: str | None = None) -> Receipt | None:
    """The receipt of the case filed under this key (with its query code within the receipt's
    minutes), or None; KeyReused when ``digest`` differs from the first request's."""
    case = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
    if case is None:
        return None
    if digest is not None and case.idempotency_digest is not None and digest != case.idempotency_digest:
        raise KeyReused(idempotency_key)
    rec = session.get(IntakeReceipt, idempotency_key)
    code = None
    if rec is not None and rec.query_code_enc and as_utc(rec.expires_at) > services.clock():
        code = services.cipher.decrypt_text(rec.query_code_enc, f"receipt:{case.number}")
    return Receipt(case.id, case.number, case.state, code, replayed=True)


def submit_case(
    session: Session,
    services: Services,
    sub: Submission,
    *,
    channel: Channel,
    idempotency_key: str | None = None,
    idempotency_digest: str | None = None,
    staging_token: str | None = None,
    power_of_attorney: CleanFile | None = None,
    phone_verified: str | None = None,
) -> Receipt:
    """``phone_verified``: how the complainant's phone number was proved, ``sms`` (a code sent
    to it, casework.verify) or ``api_client`` (a registered client vouched); otherwise the number
    is kept as unverified and nothing is ever sent to it (issue 19)."""
    if idempotency_key:
        existing = find_receipt(session, services, idempotency_key, idempotency_digest)
        if existing is not None:
            return existing

    now = services.clock()
    cipher = services.cipher
    who = services.party_cipher(sub.type)  # a report's identity: its own key
    code = new_query_code()
    for attempt in range(NUMBER_ATTEMPTS):
        number = new_case_number(sub.type, now)
        case = Case(
            number=number, type=sub.type, state=CaseState.received, channel=channel,
            association_id=sub.association_id, association_hint=sub.association_hint,
            category_id=sub.category_id, title=sub.title, description=sub.description,
            anonymous=sub.anonymous, locale=sub.locale, idempotency_key=idempotency_key,
            idempotency_digest=idempotency_digest if idempotency_key else None,
            query_code_hash=hash_code(services.settings.query_pepper, number, code),
            submitted_at=now, updated_at=now,
            complainant_name_enc=who.encrypt_text(sub.complainant.name, "case.complainant.name"),
            complainant_phone_enc=who.encrypt_text(sub.complainant.phone, "case.complainant.phone"),
            complainant_email_enc=who.encrypt_text(sub.complainant.email, "case.complainant.email"),
            complainant_id_number_enc=who.encrypt_text(sub.complainant.id_number, "case.complainant.id_number"),
            complainant_kind=sub.complainant_kind,
        )
        if sub.organisation is not None:
            case.organisation_name = sub.organisation.name
            case.organisation_credit_code = sub.organisation.credit_code
        if sub.agent is not None:
            case.agent_name_enc = who.encrypt_text(sub.agent.name, "case.agent.name")
            case.agent_phone_enc = who.encrypt_text(sub.agent.phone, "case.agent.phone")
        if sub.complainant.phone and not sub.anonymous:
            from casework.verify.service import phone_hash

            case.complainant_phone_hash = phone_hash(services, sub.complainant.phone)
            case.phone_verified_via = phone_verified if phone_verified in VERIFIED_VIA else "unverified"
            case.phone_verified_at = now if case.phone_verified_via != "unverified" else None
        if sub.respondent is not None:
            case.respondent_name_enc = cipher.encrypt_text(sub.respondent.name, "case.respondent.name")
            case.respondent_phone_enc = cipher.encrypt_text(sub.respondent.phone, "case.respondent.phone")
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            break
        except IntegrityError:
            if idempotency_key:
                existing = find_receipt(session, services, idempotency_key, idempotency_digest)
                if existing is not None:  # the same submission won a race with itself
                    return existing
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    session.add(Event(
        case=case, created_at=now, actor_kind=ActorKind.public, kind=EventKind.submitted,
        to_state=CaseState.received, summary=f"{sub.type.value} submitted via {channel.value}",
        data={"channel": channel.value, "anonymous": sub.anonymous},
    ))
    if power_of_attorney is not None and sub.agent is not None:  # the API's: filed with the case
        from casework.intake.validation import POWER_OF_ATTORNEY

        stage_file(session, services, None, power_of_attorney, role=POWER_OF_ATTORNEY, case_id=case.id)
    if staging_token and sub.agent is None:  # a power of attorney staged before "本人" was chosen stays out
        from casework.intake.validation import POWER_OF_ATTORNEY

        for att in session.scalars(select(Attachment).where(
                Attachment.staging_token == staging_token, Attachment.role == POWER_OF_ATTORNEY)):
            services.files.delete(att.storage_key)
            session.delete(att)
        session.flush()
    if staging_token:
        n = session.execute(
            update(Attachment).where(Attachment.staging_token == staging_token)
            .values(case_id=case.id, staging_token=None)
        ).rowcount
        if n:
            session.add(Event(
                case=case, created_at=now, actor_kind=ActorKind.public,
                kind=EventKind.attachment_added, summary=f"{n} attachment(s) filed with the case",
                data={"count": n},
            ))
    if sub.mediation is not None:
        from casework.mediation.models import Mediation, RespondentKind

        session.add(Mediation(case_id=case.id, respondent_kind=RespondentKind(sub.mediation.respondent_kind),
                              claim=sub.mediation.claim, amount=sub.mediation.amount))
        session.flush()
        session.refresh(case, ["mediation"])

    from casework.routing.operations import route_new_case

    route_new_case(session, services, case)
    _queue_receipt_notices(session, services, case, code, sub)
    if idempotency_key:
        session.execute(delete(IntakeReceipt).where(IntakeReceipt.expires_at < now))
        session.add(IntakeReceipt(
            idempotency_key=idempotency_key, case_id=case.id,
            query_code_enc=cipher.encrypt_text(code, f"receipt:{case.number}"),
            expires_at=now + timedelta(minutes=services.settings.receipt_minutes),
        ))
    session.flush()
    session.flush()
    return Receipt(case.id, case.number, case.state, code)


def _queue_receipt_notices(session, services, case: Case, code: str, sub: Submission) -> None:
    """A copy of the number and code to the complainant's phone and e-mail (outbox)."""
    payload = json.dumps({"case_number": case.number, "query_code": code}).encode()
    phone = sub.complainant.phone if case.phone_verified_via in VERIFIED_VIA else None  # never an unverified number
    for channel, recipient in ((OutboxChannel.sms, phone),
                               (OutboxChannel.email, sub.complainant.email)):
        if not recipient:
            continue
        new_message(session, services, dedupe_key=f"case:{case.id}:receipt:{channel.value}", case_id=case.id,
                    channel=channel, template="case_receipt", locale=sub.locale, recipient=recipient,
                    payload=payload, at=case.submitted_at)  # not past the recipient's daily cap


STAGED_FOR = timedelta(days=1)  # how long an upload waits for its form to be sent


def sweep_staged(db, services: Services, *, chunk: int = 500) -> int:
    """Delete the staged uploads (rows and both encrypted files) older than ``STAGED_FOR`` that
    never became part of a case. One statement per chunk deletes only rows still staged (a
    filing that took one meanwhile keeps it); the files go after the commit."""
    cutoff = services.clock() - STAGED_FOR
    deleted = 0
    while True:
        with db.session_scope() as s:
            ids = list(s.scalars(select(Attachment.id).where(
                Attachment.case_id.is_(None), Attachment.staging_token.is_not(None),
                Attachment.uploaded_at < cutoff).order_by(Attachment.id).limit(chunk)))
            if not ids:
                return deleted
            keys = list(s.scalars(delete(Attachment).where(
                Attachment.id.in_(ids), Attachment.case_id.is_(None)).returning(Attachment.storage_key)))
        for key in keys:
            services.files.delete(key)
        deleted += len(keys)
        if len(ids) < chunk:
            return deleted


def count_staged(session: Session, token: str) -> int:
    return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.staging_token == token)) or 0
