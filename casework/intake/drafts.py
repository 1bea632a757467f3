"""A filing form's draft while its SMS code is on its way (issue 19, without JavaScript).

The form's first POST sends a code to the complainant's phone; instead of answering that POST
with the form again (which back from the receipt, or a reload, would ask to send again), the web
layer keeps what was typed here and answers 303 See Other to the form's GET address, which
shows the form filled in with the code's box (Post/Redirect/Get, web.public.intake). A wrong or
missing code, or a new code refused, keeps it again, with what was typed since, and answers the
same way.

A draft holds a name, a phone, maybe an ID number: it is one ciphertext under the data key
(the purpose names the form's token, so a value cannot be moved to another token's row), kept
under the form's token for the code's minutes, and not read once a case is filed under that
token (its address then shows an empty form). Drafts past their minutes are deleted with the next
draft kept and by the hourly sweep of staged uploads (casework.intake.operations.sweep_staged). Nothing here logs or returns a value to log.

The web layer keeps other things said once on the next page the same way, under a random token
(web.once.keep_once): a party's refused move, and the respondent's answer code the
desk's case page shows after accept_mediation.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.context import Services
from casework.db import Base, UTCDateTime, as_utc
from casework.privacy.crypto import DecryptionError


class IntakeDraft(Base):
    """What a filing form held when a code was sent for it, encrypted, for the code's minutes."""

    __tablename__ = "intake_draft"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the form's token
    draft_enc: Mapped[bytes] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def purpose(token: str) -> str:
    return f"intake_draft:{token}"


def keep_draft(session: Session, services: Services, token: str, draft: dict, *, minutes: int) -> None:
    """Keep ``draft`` (JSON: what was typed and the code's box) under the form's token for
    ``minutes``, replacing the token's earlier draft; drafts past their minutes go too."""
    now = services.clock()
    session.execute(delete(IntakeDraft).where((IntakeDraft.expires_at < now) | (IntakeDraft.token == token)))
    session.add(IntakeDraft(
        token=token, expires_at=now + timedelta(minutes=minutes),
        draft_enc=services.cipher.encrypt(json.dumps(draft, ensure_ascii=False).encode("utf-8"), purpose(token)),
    ))
    session.flush()


def read_draft(session: Session, services: Services, token: str) -> dict | None:
    """The draft kept under ``token`` while its minutes last; None after them, for an unknown
    token or one that does not open (the caller checks the token is this browser's)."""
    if not token:
        return None
    row = session.get(IntakeDraft, token)
    if row is None or as_utc(row.expires_at) <= services.clock():
        return None
    try:
        draft = json.loads(services.cipher.decrypt(row.draft_enc, purpose(token)))
    except (DecryptionError, ValueError):
        return None
    return draft if isinstance(draft, dict) else None


def sweep_drafts(session: Session, services: Services) -> int:
    """Delete the drafts past their minutes; how many."""
    return session.execute(delete(IntakeDraft).where(IntakeDraft.expires_at < services.clock())).rowcount or 0
