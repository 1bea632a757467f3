"""Writing notices into the outbox, in the same transaction as the change they announce.

A notice says only that there is news and where to look: no case content travels by SMS
or e-mail. The dedupe key makes writing it twice harmless.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.cases.models import Case, Event
from casework.context import Services
from casework.notify.models import OutboxChannel, OutboxMessage


def queue_message(session: Session, services: Services, *, dedupe_key: str, case: Case | None,
                  channel: OutboxChannel, template: str, locale: str, recipient: str | None,
                  payload: dict | None = None) -> OutboxMessage | None:
    if not recipient:
        return None
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    now = services.clock()
    msg = OutboxMessage(
        dedupe_key=dedupe_key, case_id=case.id if case else None, channel=channel, template=template,
        locale=locale, recipient_enc=services.cipher.encrypt_text(recipient, "outbox.recipient"),
        payload_enc=services.cipher.encrypt(json.dumps(payload or {}).encode(), "outbox.payload"),
        created_at=now, next_attempt_at=now,
    )
    session.add(msg)
    return msg


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
        queue_message(
            session, services, dedupe_key=f"case:{case.id}:event:{event.id}:{channel.value}",
            case=case, channel=channel, template=template, locale=case.locale,
            recipient=cipher.decrypt_text(blob, purpose), payload={"case_number": case.number},
        )
