"""Sending what the outbox holds, once.

Each message goes through three short transactions: take it (pending -> sending, with a
lease), send it (outside any transaction), record the result (sent, or back to pending
with back-off, or failed). A worker that dies in between leaves the message "sending"
with a lease that runs out; the next run takes it again and the channel's idempotency key
keeps the second attempt from reaching the person twice. Payloads (a query code) are
erased once sent.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from casework.context import Services
from casework.db import Database
from casework.notify.channels import (
    FileSink, Notice, PermanentError, SmtpEmail, TransientError,
)
from casework.notify.models import OutboxChannel, OutboxMessage, OutboxStatus
from casework.notify.providers import sms_channel
from casework.notify.templates import load_overrides, render

log = logging.getLogger("changtong.notify")
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def channels_for(services: Services) -> dict[OutboxChannel, object]:
    """The configured channels; the development file sink only where the settings allow it
    (Settings.notice_problem: never silently)."""
    s = services.settings
    s.require_notice_channels()
    sms = sms_channel(s) or FileSink(s.notice_dir / "sms", services.cipher)
    email = (SmtpEmail(s.smtp_host, s.smtp_port, s.smtp_sender, username=s.smtp_username,
                       password=s.smtp_password, starttls=s.smtp_starttls)
             if s.smtp_host else FileSink(s.notice_dir / "email", services.cipher))
    return {OutboxChannel.sms: sms, OutboxChannel.email: email}


def due_ids(db: Database, now: datetime, limit: int = 500) -> list[int]:
    with db.session_scope(write=False) as s:
        return list(s.scalars(
            select(OutboxMessage.id).where(or_(
                (OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.locked_until < now),
            )).order_by(OutboxMessage.id).limit(limit)
        ))


def _take(db: Database, message_id: int, now: datetime, lease: timedelta) -> bool:
    """Atomically move one message to "sending" under a lease (Settings.outbox_lease: held
    until then, then another run may take it again); False if someone else has it."""
    with db.session_scope() as s:
        n = s.execute(
            update(OutboxMessage).where(
                OutboxMessage.id == message_id,
                or_((OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now),
                    (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.locked_until < now)),
            ).values(status=OutboxStatus.sending, locked_until=now + lease,
                     attempts=OutboxMessage.attempts + 1)
        ).rowcount
    return n == 1


def send_message(db: Database, services: Services, message_id: int, channels=None) -> str:
    """Send one outbox message if it is due; returns what happened (for logs and tests)."""
    now = services.clock()
    if not _take(db, message_id, now, services.settings.outbox_lease):
        return "skipped"
    with db.session_scope(write=False) as s:
        msg = s.get(OutboxMessage, message_id)
        cipher = services.cipher
        recipient = cipher.decrypt_text(msg.recipient_enc, "outbox.recipient")
        payload = json.loads(cipher.decrypt(msg.payload_enc, "outbox.payload")) if msg.payload_enc else {}
        subject, body = render(msg.template, msg.locale, payload, load_overrides(s), site=services.settings.base_url)
        notice = Notice(key=f"outbox:{msg.id}:{msg.dedupe_key}", recipient=recipient, subject=subject, body=body,
                        template=msg.template, params=payload)
        channel, attempts = msg.channel, msg.attempts
    sender = (channels or channels_for(services))[channel]
    try:
        sender.send(notice)
    except TransientError as exc:
        return _record(db, message_id, OutboxStatus.pending if attempts < MAX_ATTEMPTS else OutboxStatus.failed,
                       str(exc), retry_at=services.clock() + backoff(attempts))
    except PermanentError as exc:
        return _record(db, message_id, OutboxStatus.failed, str(exc))
    return _record(db, message_id, OutboxStatus.sent, None, sent_at=services.clock())


def _record(db: Database, message_id: int, status: OutboxStatus, error: str | None, *,
            retry_at: datetime | None = None, sent_at: datetime | None = None) -> str:
    values = {"status": status, "locked_until": None, "last_error": error}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if status is OutboxStatus.sent:
        values.update(sent_at=sent_at, payload_enc=None)  # a query code is not kept once sent
    with db.session_scope() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
    log.info("outbox message %s: %s%s", message_id, status.value, f" ({error})" if error else "")
    return status.value


def _due_clause(now: datetime):
    return or_((OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now),
               (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.locked_until < now))


def send_batch(db: Database, services: Services, message_ids: list[int], channels=None) -> dict[str, int]:
    """Send many messages with two transactions for the lot: take them all under one lease,
    send each, record the results together. A worker that dies in between leaves the lot
    leased; it is taken again when the lease runs out, and the idempotency keys keep the
    messages already delivered from going out twice."""
    now = services.clock()
    lease = services.settings.outbox_lease
    with db.session_scope() as s:
        taken = s.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(message_ids), _due_clause(now))
            .values(status=OutboxStatus.sending, locked_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.dedupe_key, OutboxMessage.channel, OutboxMessage.template,
                       OutboxMessage.locale, OutboxMessage.recipient_enc, OutboxMessage.payload_enc,
                       OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        ).all()
        overrides = load_overrides(s)  # the administrators' texts, read once for the lot
    chans = channels or channels_for(services)
    cipher = services.cipher
    outcome: dict[int, tuple[OutboxStatus, str | None]] = {}
    for m in taken:
        payload = json.loads(cipher.decrypt(m.payload_enc, "outbox.payload")) if m.payload_enc else {}
        subject, body = render(m.template, m.locale, payload, overrides, site=services.settings.base_url)
        notice = Notice(key=f"outbox:{m.id}:{m.dedupe_key}", subject=subject, body=body,
                        recipient=cipher.decrypt_text(m.recipient_enc, "outbox.recipient"),
                        template=m.template, params=payload)
        try:
            chans[m.channel].send(notice)
            outcome[m.id] = (OutboxStatus.sent, None)
        except TransientError as exc:
            outcome[m.id] = (OutboxStatus.pending if m.attempts < MAX_ATTEMPTS else OutboxStatus.failed, str(exc))
        except PermanentError as exc:
            outcome[m.id] = (OutboxStatus.failed, str(exc))
    done = services.clock()
    attempts = {m.id: m.attempts for m in taken}
    with db.session_scope() as s:
        sent = [i for i, (st, _) in outcome.items() if st is OutboxStatus.sent]
        if sent:
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent)).values(
                status=OutboxStatus.sent, sent_at=done, locked_until=None, last_error=None, payload_enc=None))
        for i, (st, err) in outcome.items():
            if st is not OutboxStatus.sent:
                s.execute(update(OutboxMessage).where(OutboxMessage.id == i).values(
                    status=st, locked_until=None, last_error=err, next_attempt_at=done + backoff(attempts[i])))
    counts: dict[str, int] = {}
    for st, _ in outcome.values():
        counts[st.value] = counts.get(st.value, 0) + 1
    counts["skipped"] = len(message_ids) - len(taken)
    return counts


def dispatch_due(db: Database, services: Services, limit: int = 500) -> dict[str, int]:
    counts: dict[str, int] = {}
    channels = channels_for(services)
    for mid in due_ids(db, services.clock(), limit):
        result = send_message(db, services, mid, channels)
        counts[result] = counts.get(result, 0) + 1
    return counts


def troubled(session, limit: int = 20) -> list[OutboxMessage]:
    """The newest notices that failed or wait for a retry after an error (the administrator's
    panel): template, channel, attempts, status, the provider's error. The caller shows none
    of the recipient or the payload."""
    return list(session.scalars(
        select(OutboxMessage).where(or_(OutboxMessage.status == OutboxStatus.failed,
                                        (OutboxMessage.status == OutboxStatus.pending)
                                        & OutboxMessage.last_error.is_not(None)))
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc()).limit(limit)))
