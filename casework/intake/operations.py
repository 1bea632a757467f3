"""Filing a case: the one operation every intake channel calls.

``submit_case`` stores the case, its first events, its attachments and the notices to the
complainant in one transaction (it writes and flushes; the caller commits). A replayed
submission (same idempotency key) returns the first one's receipt instead of filing again.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from casework.cases.models import (
    ActorKind, Attachment, Case, CaseState, CaseType, Channel, Event, EventKind, IntakeReceipt,
)
from casework.cases.numbers import DRAWS, digits_for, new_case_number
from casework.context import Services
from casework.db import as_utc
from casework.intake.files import CleanFile
from casework.intake.validation import Submission
from casework import reference
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.notify.queue import new_message
from casework.prepared import PreparedInsert
from casework.privacy.codes import hash_code, new_query_code
from casework.routing.operations import Routed

NUMBER_ATTEMPTS = DRAWS  # casework.cases.numbers: three of each width, five to seven digits
VERIFIED_VIA = frozenset({"sms", "api_client"})  # case.phone_verified_via of a proved number


@dataclass(frozen=True)
class Receipt:
    case_id: int
    case_number: str
    state: CaseState
    # None when a replay comes after the receipt expired: the code was shown once already
    query_code: str | None
    replayed: bool = False
    # of a case just filed (None on a replay): its type, and the channels a copy of the receipt
    # was queued on
    case_type: CaseType | None = None
    notices: frozenset[OutboxChannel] | None = None


def stage_file(session: Session, services: Services, token: str | None, clean: CleanFile, *,
               role: str | None = None, case_id: int | None = None, flush: bool = True) -> Attachment:
    """Keep a checked upload under the form's token until the case is filed (or file it with
    ``case_id`` at once); ``role`` marks an agent's power of attorney. ``flush=False`` leaves
    the row to the caller's flush."""
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
    if flush:
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


def keep_receipt(session: Session, services: Services, key: str, receipt: Receipt) -> None:
    """Keep ``receipt``'s query code (encrypted) under ``key`` for the receipt's minutes, as a
    keyed filing keeps its own: for a case filed without a key (a failed mediation turned into a
    complaint), so that the receipt can be shown at a GET address of the browser's (web.public)."""
    _keep(session, services, key, receipt.case_id, receipt.case_number, receipt.query_code, services.clock())
    session.flush()


def _keep(session: Session, services: Services, key: str, case_id: int, number: str, code: str, now) -> None:
    session.execute(delete(IntakeReceipt).where(IntakeReceipt.expires_at < now))
    session.add(IntakeReceipt(
        idempotency_key=key, case_id=case_id,
        query_code_enc=services.cipher.encrypt_text(code, f"receipt:{number}"),
        expires_at=now + timedelta(minutes=services.settings.receipt_minutes),
    ))


def kept_receipt(session: Session, services: Services, key: str) -> Receipt | None:
    """The receipt kept under ``key`` (a filing's idempotency key, or ``keep_receipt``'s), with
    its query code, while the receipt's minutes last; None after them or for an unknown key. Its
    ``case_type`` is the case's, its ``notices`` the channels a copy of the receipt was queued on."""
    rec = session.get(IntakeReceipt, key)
    if rec is None or not rec.query_code_enc or as_utc(rec.expires_at) <= services.clock():
        return None
    case = session.get(Case, rec.case_id)
    if case is None:
        return None
    code = services.cipher.decrypt_text(rec.query_code_enc, f"receipt:{case.number}")
    sent = frozenset(session.scalars(select(OutboxMessage.channel).where(
        OutboxMessage.case_id == case.id, OutboxMessage.template == "case_receipt")))
    return Receipt(case.id, case.number, case.state, code, replayed=True, case_type=case.type, notices=sent)


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
    is kept as unverified and nothing is ever sent to it (issue 19).

    Cheap by design (issue 18; ``tests/web/test_submission_cost.py`` holds it to its statement
    budget): the number, the code, the ciphertexts, the routing decision, the deadline and the
    case's row as the driver takes it (casework.prepared) are made first, from the cached
    reference data (casework.reference) and without a query; then the reference version is
    read, the first statement of the write transaction (on SQLite the one that takes the write
    lock), and the routing and the row are made again only if it changed; then the case goes in
    with its state, unit and clock in one INSERT (``ON CONFLICT DO NOTHING``: a taken number is
    drawn again, a key already used returns that case's receipt), its events in one more, and
    whatever ORM rows the rarer parts add (a mediation, an agent's power of attorney, notices,
    the receipt of a keyed request) in the one flush at the end."""
    now = services.clock()
    cipher = services.cipher
    who = services.party_cipher(sub.type)  # a report's identity: its own key
    code = new_query_code()
    snapshot = reference.cached(session)
    plan = _route(session, snapshot, sub, now)
    values = dict(
        type=sub.type, channel=channel,
        association_id=sub.association_id, association_hint=sub.association_hint,
        category_id=sub.category_id, title=sub.title, description=sub.description,
        anonymous=sub.anonymous, locale=sub.locale, idempotency_key=idempotency_key,
        idempotency_digest=idempotency_digest if idempotency_key else None,
        submitted_at=now, updated_at=now,
        complainant_name_enc=who.encrypt_text(sub.complainant.name, "case.complainant.name"),
        complainant_phone_enc=who.encrypt_text(sub.complainant.phone, "case.complainant.phone"),
        complainant_email_enc=who.encrypt_text(sub.complainant.email, "case.complainant.email"),
        complainant_id_number_enc=who.encrypt_text(sub.complainant.id_number, "case.complainant.id_number"),
        complainant_kind=sub.complainant_kind,
        organisation_name=sub.organisation.name if sub.organisation is not None else None,
        organisation_credit_code=sub.organisation.credit_code if sub.organisation is not None else None,
        agent_name_enc=who.encrypt_text(sub.agent.name, "case.agent.name") if sub.agent is not None else None,
        agent_phone_enc=who.encrypt_text(sub.agent.phone, "case.agent.phone") if sub.agent is not None else None,
        respondent_name_enc=(cipher.encrypt_text(sub.respondent.name, "case.respondent.name")
                             if sub.respondent is not None else None),
        respondent_phone_enc=(cipher.encrypt_text(sub.respondent.phone, "case.respondent.phone")
                              if sub.respondent is not None else None),
        complainant_phone_hash=None, phone_verified_via=None, phone_verified_at=None,
    )
    if sub.complainant.phone and not sub.anonymous:
        from casework.verify.service import phone_hash

        via = phone_verified if phone_verified in VERIFIED_VIA else "unverified"
        values.update(complainant_phone_hash=phone_hash(services, sub.complainant.phone), phone_verified_via=via,
                      phone_verified_at=now if via != "unverified" else None)

    dialect = session.get_bind().dialect
    insert = _case_insert(tuple(values) + _DRAWN)

    def case_row(attempt: int) -> tuple[str, tuple | dict]:  # the row, made before the write lock
        number = new_case_number(sub.type, now, digits_for(attempt))
        values.update(number=number, query_code_hash=hash_code(services.settings.query_pepper, number, code),
                      state=plan.state, unit_id=plan.unit_id, stage=plan.stage, stage_started_at=now,
                      due_at=plan.due_at)
        return number, insert.row(dialect, values)

    number, row = case_row(0)
    if session.new or session.deleted:  # rows the caller added first go in first
        session.flush()
    with session.no_autoflush:  # the caller's pending updates (a spent SMS code) ride in the one flush
        fresh = reference.current(session)  # the write transaction's first statement
        if fresh is not snapshot:  # the reference data changed since: route on what is current now
            plan = _route(session, fresh, sub, now)
            number, row = case_row(0)
        conn = session.connection()
        for attempt in range(NUMBER_ATTEMPTS):
            if attempt:
                number, row = case_row(attempt)
            inserted = insert.execute(conn, row)  # [] when the number was taken (ON CONFLICT DO NOTHING)
            case_id = inserted[0][0] if inserted else None
            if case_id is not None:
                break
            if idempotency_key:  # the key's case exists (a replay, or the same submission racing itself)
                existing = find_receipt(session, services, idempotency_key, idempotency_digest)
                if existing is not None:
                    return existing
            # else the number was taken: draw another
        else:
            raise RuntimeError(f"no free case number after {NUMBER_ATTEMPTS} draws")
        return _file(session, services, sub, case_id, number, code, plan, values, now, channel=channel,
                     idempotency_key=idempotency_key, staging_token=staging_token,
                     power_of_attorney=power_of_attorney)


def _file(session, services, sub: Submission, case_id: int, number: str, code: str, plan: Routed, values: dict,
          now, *, channel: Channel, idempotency_key, staging_token, power_of_attorney) -> Receipt:
    """The case's row is in: its events, files, mediation, notices and receipt, one flush."""
    events = [_event(case_id, now, ActorKind.public, EventKind.submitted, None, CaseState.received,
                     f"{sub.type.value} submitted via {channel.value}",
                     {"channel": channel.value, "anonymous": sub.anonymous})]
    if power_of_attorney is not None and sub.agent is not None:  # the API's: filed with the case
        from casework.intake.validation import POWER_OF_ATTORNEY

        stage_file(session, services, None, power_of_attorney, role=POWER_OF_ATTORNEY, case_id=case_id,
                   flush=False)
    if staging_token:
        from casework.intake.validation import POWER_OF_ATTORNEY

        filed = session.execute(
            update(Attachment).where(Attachment.staging_token == staging_token)
            .values(case_id=case_id, staging_token=None)
            .returning(Attachment.id, Attachment.role, Attachment.storage_key, Attachment.content_type)
        ).all()
        # a power of attorney staged before "本人" was chosen stays out
        stray = [(att_id, key) for att_id, role, key, _ct in filed if role == POWER_OF_ATTORNEY and sub.agent is None]
        if sub.type is CaseType.report:  # the form listed the names it came with; the case keeps none
            from casework.intake.files import report_file_name

            kept = sorted((att_id, ct) for att_id, role, _key, ct in filed if (att_id, _key) not in stray)
            for n, (att_id, ct) in enumerate(kept, 1):
                session.execute(update(Attachment).where(Attachment.id == att_id)
                                .values(filename=report_file_name(n, ct)))
        if stray:
            session.execute(delete(Attachment).where(Attachment.id.in_([att_id for att_id, _ in stray])))
            for _att_id, key in stray:
                services.files.delete(key)
        n = len(filed) - len(stray)
        if n:
            events.append(_event(case_id, now, ActorKind.public, EventKind.attachment_added, None, None,
                                 f"{n} attachment(s) filed with the case", {"count": n}))
    events.append(_event(case_id, now, ActorKind.system, EventKind.routed, CaseState.received, plan.to_state,
                         plan.summary, plan.data))
    _EVENTS.execute_many(session.connection(), [_EVENTS.row(session.get_bind().dialect, e) for e in events])
    if sub.mediation is not None:
        from casework.mediation.models import Mediation, RespondentKind

        session.add(Mediation(case_id=case_id, respondent_kind=RespondentKind(sub.mediation.respondent_kind),
                              claim=sub.mediation.claim, amount=sub.mediation.amount))
    sent = _queue_receipt_notices(session, services, case_id, number, code, sub, values["phone_verified_via"], now)
    if idempotency_key:
        _keep(session, services, idempotency_key, case_id, number, code, now)
    session.flush()
    return Receipt(case_id, number, plan.state, code, case_type=sub.type, notices=sent)


_case = Case.__table__
# what case_row adds to a submission's values: the number drawn, and where and when it goes
_DRAWN = ("number", "query_code_hash", "state", "unit_id", "stage", "stage_started_at", "due_at")


@functools.cache
def _case_insert(keys: tuple[str, ...]) -> PreparedInsert:
    """INSERT INTO case (keys…) … ON CONFLICT DO NOTHING RETURNING id: no row back when the number
    (or the idempotency key) is taken. One per set of keys: a filing's are always the same."""
    return PreparedInsert(_case, keys, skip_conflicts=True, returning=_case.c.id)


_EVENT_KEYS = ("case_id", "created_at", "actor_kind", "actor_id", "kind", "from_state", "to_state", "summary",
               "public_text", "internal_text", "data")
_EVENTS = PreparedInsert(Event.__table__, _EVENT_KEYS)  # a submission's events, in one executemany


def _event(case_id: int, at, actor_kind: ActorKind, kind: EventKind, from_state, to_state, summary: str,
           data: dict) -> dict:
    """An event row for the one INSERT of a submission's events (every row has every key)."""
    return dict(zip(_EVENT_KEYS, (case_id, at, actor_kind, None, kind, from_state, to_state, summary[:300],
                                  None, None, data)))


def _route(session: Session, snapshot: reference.Snapshot, sub: Submission, now) -> Routed:
    """Where the case goes and when its first stage ends, on one snapshot of the reference data
    (no query, once the snapshot holds the parts and the association)."""
    from casework.deadlines.limits import Deadlines
    from casework.routing.engine import Facts, party_to, route, routing_data
    from casework.routing.operations import routed

    category = reference.categories(session, snapshot).by_id.get(sub.category_id)
    facts = Facts(sub.type, sub.category_id, sub.association_id,
                  party_to(sub.type, sub.mediation.respondent_kind if sub.mediation is not None else None,
                           bool(category and category.association_is_party)))
    assoc = snapshot.association_by_id(session, sub.association_id) if sub.association_id is not None else None
    deadlines = snapshot.part("deadlines", Deadlines._load, session)
    return routed(route(routing_data(session, snapshot), facts, assoc), deadlines, sub.type, now)


def _queue_receipt_notices(session, services, case_id: int, number: str, code: str, sub: Submission,
                           verified_via: str | None, at) -> frozenset[OutboxChannel]:
    """A copy of the number and code to the complainant's phone and e-mail (outbox): the
    channels queued."""
    payload = json.dumps({"case_number": number, "query_code": code}).encode()
    phone = sub.complainant.phone if verified_via in VERIFIED_VIA else None  # never an unverified number
    sent = set()
    for channel, recipient in ((OutboxChannel.sms, phone),
                               (OutboxChannel.email, sub.complainant.email)):
        if not recipient:
            continue
        if new_message(session, services, dedupe_key=f"case:{case_id}:receipt:{channel.value}", case_id=case_id,
                       channel=channel, template="case_receipt", locale=sub.locale, recipient=recipient,
                       payload=payload, at=at) is not None:  # not past the recipient's daily cap
            sent.add(channel)
    return frozenset(sent)


STAGED_FOR = timedelta(days=1)  # how long an upload waits for its form to be sent


def sweep_staged(db, services: Services, *, chunk: int = 500) -> int:
    """Delete the staged uploads (rows and both encrypted files) older than ``STAGED_FOR`` that
    never became part of a case, and the filing forms' drafts past their minutes. One statement per chunk deletes only rows still staged (a
    filing that took one meanwhile keeps it); the files go after the commit."""
    from casework.intake.drafts import sweep_drafts

    with db.session_scope() as s:  # and the forms' drafts past their minutes (casework.intake.drafts)
        sweep_drafts(s, services)
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
