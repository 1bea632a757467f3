"""Proving a phone number with a 6-digit code sent by SMS (issue 19). No Flask here.

The code goes out through the outbox (template ``verify_code``, the code its only payload) and
is stored only as an HMAC under the query pepper, bound to its verification's random id, like
the query code (casework.privacy.codes). A code lasts ``CODE_MINUTES``; ``MAX_ATTEMPTS`` wrong
codes kill it (counted in its row, one atomic UPDATE, so any number of processes count together).

How often codes are sent is limited per number (one a minute, ``PER_NUMBER`` a day) and per
browser session or client (``PER_CLIENT`` a day), never per IP address. The counters live in the
limiter's shared storage (casework.ratelimit: the database, or Redis), so they hold across
processes and nodes. ``send_code`` only tests them and returns the hits to make: the caller
makes them once its own transaction has ended (``count``), as every database-backed limit does.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

from limits import RateLimitItem, parse
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from casework.context import Services
from casework.db import as_utc
from casework.notify.models import OutboxChannel
from casework.notify.queue import capped, new_message, recipient_hash
from casework.verify.models import PhoneVerification

CODE_MINUTES = 5
MAX_ATTEMPTS = 5
RESEND = parse("1 per 60 seconds")  # per number
PER_NUMBER = parse("5 per day")
PER_CLIENT = parse("10 per day")  # per browser session, or per API client
LOCKED = parse("1 per 15 minutes")  # after a code died of wrong guesses: no new code to that number for now
TEMPLATE = "verify_code"


class Refused(Exception):
    """No code sent now: ``reason`` (resend, number, client) and the seconds to wait."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


@dataclass
class Sent:
    verification: PhoneVerification
    hits: list[tuple[RateLimitItem, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Checked:
    """What a code proved: ``ok``; or why not (wrong with ``tries_left``, dead, expired, unknown)."""
    ok: bool
    reason: str = ""
    tries_left: int = 0
    verification: PhoneVerification | None = None
    died: bool = False  # this wrong code was its last try


def phone_hash(services: Services, phone: str) -> str:
    """The keyed hash of the normalised number (the outbox's): the same for +86 138…, 138 …"""
    return recipient_hash(services, OutboxChannel.sms, phone)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


def _code_hash(services: Services, verification_id: str, code: str) -> str:
    msg = f"verify:{verification_id}:{''.join(ch for ch in code if ch.isdigit())}".encode()
    return hmac.new(services.settings.query_pepper, msg, hashlib.sha256).hexdigest()


def _lock_key(number_hash: str) -> str:
    return f"verify-locked:{number_hash[:40]}"


def lock_hits(services: Services, phone: str) -> list[tuple[RateLimitItem, str]]:
    """The hit that stops new codes to this number for ``LOCKED`` (made when a code dies)."""
    return [(LOCKED, _lock_key(phone_hash(services, phone)))]


def _keys(number_hash: str, client_key: str | None) -> list[tuple[str, RateLimitItem, str]]:
    keys = [("locked", LOCKED, _lock_key(number_hash)),("resend", RESEND, f"verify-resend:{number_hash[:40]}"),
            ("number", PER_NUMBER, f"verify-number:{number_hash[:40]}")]
    if client_key:
        keys.append(("client", PER_CLIENT, "verify-client:" + hashlib.sha256(client_key.encode()).hexdigest()[:40]))
    return keys


def wait_seconds(limiter, services: Services, phone: str, client_key: str | None = None) -> int:
    """Seconds until one more code may be sent to this number (0: now)."""
    wait = 0
    for _reason, item, key in _keys(phone_hash(services, phone), client_key):
        if not limiter.test(item, key):
            reset = limiter.get_window_stats(item, key).reset_time
            wait = max(wait, max(1, int(reset - time.time()) + 1))
    return wait


def send_code(session: Session, services: Services, limiter, *, phone: str, purpose: str, locale: str,
              client_key: str | None = None) -> Sent:
    """Store a new verification and queue its code to ``phone``; Refused past a limit. The
    caller commits, then ``count(limiter, sent.hits)``."""
    number_hash = phone_hash(services, phone)
    keys = _keys(number_hash, client_key)
    for reason, item, key in keys:
        if not limiter.test(item, key):
            reset = limiter.get_window_stats(item, key).reset_time
            raise Refused(reason, max(1, int(reset - time.time()) + 1))
    if capped(session, services, OutboxChannel.sms, TEMPLATE, number_hash):  # the outbox's daily cap
        raise Refused("number", 24 * 3600)
    now = services.clock()
    # a day-old verification is of no use: gone with the next code sent (they hold a number's hash)
    session.execute(delete(PhoneVerification).where(PhoneVerification.created_at < now - timedelta(days=1)))
    code = new_code()
    vid = secrets.token_urlsafe(16)
    verification = PhoneVerification(
        id=vid, phone_hash=number_hash, code_hash=_code_hash(services, vid, code), purpose=purpose,
        created_at=now, expires_at=now + timedelta(minutes=CODE_MINUTES), attempts=0)
    session.add(verification)
    new_message(session, services, dedupe_key=f"verify:{vid}", case_id=None, channel=OutboxChannel.sms,
                template=TEMPLATE, locale=locale, recipient=phone, payload=json.dumps({"code": code}).encode(),
                at=now)
    session.flush()
    return Sent(verification, [(item, key) for reason, item, key in keys if reason != "locked"])


def count(limiter, hits) -> None:
    """Count the codes sent (after the sending transaction has ended)."""
    for item, key in hits:
        limiter.hit(item, key)


def check_code(session: Session, services: Services, verification_id: str, phone: str, code: str) -> Checked:
    """Whether ``code`` is the one sent to ``phone`` under this verification. A wrong code is
    counted (the caller must commit even though it answers an error)."""
    verification = session.get(PhoneVerification, (verification_id or "")[:32]) if verification_id else None
    if verification is None or not hmac.compare_digest(verification.phone_hash, phone_hash(services, phone)):
        return Checked(False, "unknown")
    now = services.clock()
    if verification.used_at is not None:
        return Checked(False, "unknown", verification=verification)
    if verification.attempts >= MAX_ATTEMPTS:
        return Checked(False, "dead", verification=verification)
    if as_utc(verification.expires_at) <= now:
        return Checked(False, "expired", verification=verification)
    if hmac.compare_digest(verification.code_hash, _code_hash(services, verification.id, code or "")):
        verification.verified_at = verification.verified_at or now
        return Checked(True, verification=verification)
    session.execute(update(PhoneVerification).where(
        PhoneVerification.id == verification.id, PhoneVerification.attempts < MAX_ATTEMPTS,
    ).values(attempts=PhoneVerification.attempts + 1).execution_options(synchronize_session=False))
    session.refresh(verification, ["attempts"])
    left = max(0, MAX_ATTEMPTS - verification.attempts)
    return Checked(False, "dead" if left == 0 else "wrong", tries_left=left, verification=verification,
                   died=left == 0)


def use(verification: PhoneVerification, services: Services) -> None:
    """A proved code files one case or signs in once."""
    verification.used_at = services.clock()
