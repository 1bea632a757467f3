"""Writing notices into the outbox, in the same transaction as the change they announce.

A notice says only that there is news and where to look: no case content travels by SMS
or e-mail. The dedupe key makes writing it twice harmless.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.cases.models import Case, Event
from casework.context import Services
from casework.notify.models import OutboxChannel, OutboxMessage


# notices one phone number or address receives from the platform in 24 hours, at most: filing
# forty cases in a second with a stranger's number must not send that stranger forty messages
# (the receipt page still shows the number and code; issue 17, item 8)
DAILY_CAP = {OutboxChannel.sms: 10, OutboxChannel.email: 20}
log = logging.getLogger("changtong.notify")


def recipient_hash(services: Services, channel: OutboxChannel, recipient: str) -> str:
    """A keyed hash (HMAC with the query pepper) of the normalised recipient: digits of a phone
    number, the lower-cased address; equal for the same person, useless without the key."""
    value = re.sub(r"\D", "", recipient)[-11:] if channel is OutboxChannel.sms else recipient.strip().lower()
    return hmac.new(services.settings.query_pepper, f"{channel.value}:{value}".encode(), hashlib.sha256).hexdigest()


def capped(session: Session, services: Services, channel: OutboxChannel, template: str, key: str) -> bool:
    """Whether this member of the public has had their day's notices (a unit's mailbox is never
    capped: its senders say ``unit_mailbox``, and the sweep's digests do not come this way)."""
    since = services.clock() - timedelta(days=1)
    sent = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient_hash == key, OutboxMessage.created_at > since))
    if sent >= DAILY_CAP[channel]:
        log.warning("notice not queued: its recipient had %d %s notices in 24 hours (template %s)",
                    sent, channel.value, template)  # never the recipient
        return True
    return False


def new_message(session: Session, services: Services, *, dedupe_key: str, case_id: int | None,
                channel: OutboxChannel, template: str, locale: str, recipient: str, payload: bytes,
                at: datetime | None = None, unit_mailbox: bool = False) -> OutboxMessage | None:
    """One outbox row, unless a member of the public reached the daily cap (then None, nothing
    queued). ``unit_mailbox``: the recipient is a unit's notice mailbox, which is not capped (a
    supervisor's unit may be told of dozens of reports in a day)."""
    key = recipient_hash(services, channel, recipient)
    if not unit_mailbox and capped(session, services, channel, template, key):
        return None
    now = at or services.clock()
    msg = OutboxMessage(
        dedupe_key=dedupe_key, case_id=case_id, channel=channel, template=template, locale=locale,
        recipient_enc=services.cipher.encrypt_text(recipient, "outbox.recipient"), recipient_hash=key,
        payload_enc=services.cipher.encrypt(payload, "outbox.payload"), created_at=now, next_attempt_at=now,
    )
    session.add(msg)
    return msg


# two texts alike within this time say nothing the first did not: a case accepted and replied to in
# the same minute sent "a written notice on your case" twice; the second is not queued (the status
# page shows both moves)
ALIKE_WINDOW = timedelta(minutes=1)


def _alike_just_sent(session: Session, services: Services, case: Case | None, channel: OutboxChannel,
                     template: str, recipient: str, payload: dict) -> bool:
    """Whether the same text went to the same phone about the same case within ``ALIKE_WINDOW``:
    an SMS whose payload is the case number alone (its text is then the same word for word)."""
    if channel is not OutboxChannel.sms or case is None or set(payload) - {"case_number"}:
        return False
    since = services.clock() - ALIKE_WINDOW
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.case_id == case.id, OutboxMessage.template == template, OutboxMessage.channel == channel,
        OutboxMessage.recipient_hash == recipient_hash(services, channel, recipient),
        OutboxMessage.created_at > since).limit(1)) is not None


def queue_message(session: Session, services: Services, *, dedupe_key: str, case: Case | None,
                  channel: OutboxChannel, template: str, locale: str, recipient: str | None,
                  payload: dict | None = None, unit_mailbox: bool = False) -> OutboxMessage | None:
    if not recipient:
        return None
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    if _alike_just_sent(session, services, case, channel, template, recipient, payload or {}):
        log.info("notice not queued: the same %s text about this case went to its recipient within a minute", template)
        return None
    return new_message(session, services, dedupe_key=dedupe_key, case_id=case.id if case else None,
                       channel=channel, template=template, locale=locale, recipient=recipient,
                       payload=json.dumps(payload or {}).encode(), unit_mailbox=unit_mailbox)


def complainant_reachable(case: Case) -> bool:
    """Whether a notice to the complainant reaches anyone (as ``queue_case_update`` sends it):
    an e-mail address, or a number proved by a code (or vouched for by the API client)."""
    if case.anonymous:
        return False
    return case.complainant_email_enc is not None or (
        case.complainant_phone_enc is not None and case.phone_verified_via != "unverified")


def queue_case_update(session: Session, services: Services, case: Case, event: Event,
                      template: str = "case_update") -> None:
    """Tell the complainant to look at the status page (the moves that do are marked in the
    workflow table); an anonymous complainant gave no contact. ``case_document`` says a
    written notice is there to download (never what it says)."""
    if case.anonymous:
        return
    cipher = services.party_cipher(case.type)
    for channel, blob, purpose in (
        (OutboxChannel.sms, case.complainant_phone_enc, "case.complainant.phone"),
        (OutboxChannel.email, case.complainant_email_enc, "case.complainant.email"),
    ):
        if blob is None:
            continue
        if channel is OutboxChannel.sms and case.phone_verified_via == "unverified":
            continue  # nobody proved the number: nothing is sent to it (issue 19)
        queue_message(
            session, services, dedupe_key=f"case:{case.id}:event:{event.id}:{channel.value}",
            case=case, channel=channel, template=template, locale=case.locale,
            recipient=cipher.decrypt_text(blob, purpose), payload={"case_number": case.number},
        )
