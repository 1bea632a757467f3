"""What a page says once, after a Post/Redirect/Get: a POST keeps it for the page its 303 leads to,
and that page takes it (a reload shows the page without it).

``said_once``: what is not secret, held in this browser's signed session (signed, not secret).
``keep_once`` / ``take_once``: a secret as well (what a refused form's sender typed, web.public.refused;
the respondent's answer code on the desk's case page, web.desk.case), kept encrypted as a draft
(casework.intake.drafts) under a random token for a few minutes; the signed session holds only the
token and what is not secret.
"""
from __future__ import annotations

import secrets

from flask import session as browser

from casework.intake.drafts import keep_draft, read_draft
from web.requestdb import db_session, services


def said_once(key: str, **match) -> dict | None:
    """What this browser's signed session holds under ``key`` for ``match`` (each item equal),
    taken: said once, a reload shows the page without it. None when nothing waits for it."""
    held = browser.get(key)
    if not isinstance(held, dict) or any(held.get(k) != v for k, v in match.items()):
        return None
    browser.pop(key, None)
    return held


def keep_once(key: str, secret: dict, *, minutes: int, **held) -> None:
    """``secret`` (JSON) kept encrypted as a draft (casework.intake.drafts) under a random token for
    ``minutes``, for the next page of this browser: its signed session (signed, not secret) holds
    under ``key`` the token and ``held``, nothing of ``secret``. Committed with the request's answer."""
    token = secrets.token_urlsafe(24)
    keep_draft(db_session(), services(), token, secret, minutes=minutes)
    browser[key] = {**held, "token": token}


def take_once(key: str, **match) -> tuple[dict, dict] | None:
    """What ``keep_once`` kept under ``key`` for ``match`` (each item of ``held`` equal), taken: said
    once, a reload shows the page without it. (``held``, the secret), or None when nothing waits, its
    minutes are over or it does not open."""
    held = said_once(key, **match)
    if held is None:
        return None
    secret = read_draft(db_session(), services(), str(held.get("token", "")))
    return None if secret is None else (held, secret)
