"""The web side of proving a phone number (casework.verify): the browser's key for the
per-session limit, sending a code with the limiter's counters made after the request's
transaction, and the messages a person reads (issue 19)."""
from __future__ import annotations

import secrets
import time

from flask import after_this_request, session as browser
from flask_babel import gettext as _, ngettext

from casework.verify import service as verify
from web.extensions import limiter
from web.requestdb import services

BROWSER_KEY = "verify_browser"  # a random value in the signed session: the per-session limit's key


PROVED = "verified_phones"  # the signed session's key: numbers this browser proved, by hash, and when
PROVED_MINUTES = 30


def remember(phone: str) -> None:
    """This browser proved ``phone``: for 30 minutes it files with it again without a new code."""
    now = time.time()
    held = {h: t for h, t in (browser.get(PROVED) or {}).items()
            if isinstance(t, (int, float)) and t > now - PROVED_MINUTES * 60}
    held[verify.phone_hash(services(), phone)] = now
    browser[PROVED] = held


def proved(phone: str) -> bool:
    t = (browser.get(PROVED) or {}).get(verify.phone_hash(services(), phone))
    return isinstance(t, (int, float)) and t > time.time() - PROVED_MINUTES * 60


def browser_key() -> str:
    key = browser.get(BROWSER_KEY)
    if not isinstance(key, str) or len(key) < 16:
        key = browser[BROWSER_KEY] = secrets.token_urlsafe(16)
    return key


def send(session, *, phone: str, purpose: str, locale: str, client_key: str | None):
    """Queue a code to ``phone``; the limits are counted once the request's transaction has
    ended (casework.ratelimit). Raises verify.Refused."""
    sent = verify.send_code(session, services(), limiter.limiter, phone=phone, purpose=purpose,
                            locale=locale, client_key=client_key)

    @after_this_request
    def count(response):
        if response.status_code < 400:
            verify.count(limiter.limiter, sent.hits)
        return response

    return sent.verification


def check(session, verification_id: str, phone: str, code: str) -> verify.Checked:
    """Check a code; a code that dies now locks the number's new codes for a while (counted
    after the request's transaction, which must be kept: web.requestdb.keep_on_error)."""
    checked = verify.check_code(session, services(), verification_id, phone, code)
    if checked.died:
        hits = verify.lock_hits(services(), phone)

        @after_this_request
        def lock(response):
            verify.count(limiter.limiter, hits)
            return response
    return checked


def wait(phone: str, client_key: str | None) -> int:
    return verify.wait_seconds(limiter.limiter, services(), phone, client_key)


def wait_text(seconds: int) -> str:
    if seconds <= 60:
        return ngettext("You can ask for a new code in %(num)d second.",
                        "You can ask for a new code in %(num)d seconds.", max(1, seconds))
    minutes = (seconds + 59) // 60
    if minutes <= 120:
        return ngettext("You can ask for a new code in %(num)d minute.",
                        "You can ask for a new code in %(num)d minutes.", minutes)
    return ngettext("You can ask for a new code in %(num)d hour.",
                    "You can ask for a new code in %(num)d hours.", (minutes + 59) // 60)


def sentences(*parts: str) -> str:
    """Sentences one after another: a space after an English full stop, none after a Chinese
    one (“验证码发送不到一分钟。 58 秒后…” read with a stray space)."""
    out = ""
    for part in parts:
        out += ("" if not out or out.endswith(("。", "！", "？", "；")) else " ") + part
    return out


def refused_text(refused: verify.Refused) -> str:
    if refused.reason == "resend":
        return sentences(_("A code was sent less than a minute ago."), wait_text(refused.retry_after))
    if refused.reason == "locked":
        return sentences(_("Too many wrong codes."), wait_text(refused.retry_after))
    return sentences(_("Too many codes were sent to this number or from this browser today."),
                     wait_text(refused.retry_after))


def dead_wait(checked: verify.Checked, phone: str, client_key: str | None) -> int:
    """Seconds until a new code may go to ``phone`` after its code died (Retry-After)."""
    return max(wait(phone, client_key), verify.LOCKED.get_expiry() if checked.died else 1)


def checked_text(checked: verify.Checked, phone: str, client_key: str | None) -> str:
    if checked.reason == "wrong":
        return ngettext("This code is wrong. You have %(num)d more try.",
                        "This code is wrong. You have %(num)d more tries.", checked.tries_left)
    if checked.reason == "dead":
        return sentences(_("Too many wrong codes: this code no longer works."),
                         wait_text(dead_wait(checked, phone, client_key)))
    if checked.reason == "expired":
        return _("This code has expired. Ask for a new code.")
    return _("This code is not valid for this number. Ask for a new code.")
