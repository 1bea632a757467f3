"""What a staff member typed into a form sent after their session ended, kept through the sign-in
(WCAG 2.2.1 and 2.2.5).

A move's form sent after the idle limit finds no session: the browser is sent to sign in, and
comes back to the page the form was on (the case page), never by GET to the form's POST address.
What the form held comes back with it: the text fields of a form that can take them back
(registered by its page with ``restorable``), not files and never a password, are kept in a
cookie of their own, encrypted and authenticated with the site's key (AES-GCM, the purpose
``KEPT_PURPOSE``), sent only to that page's address (``path``), for at most the staff session's
absolute lifetime. The page takes them at its next view (``take``), deletes the cookie, and puts
them back into that form with a note saying so.

They come back only to the person who typed them: the signed cookie session holds a tag of the
last staff member signed in on this browser (``TYPIST``: a keyed hash of the user id, which says
nothing to anyone without the site's key and authenticates no one), the kept text carries it,
and another staff member signing in on the same browser finds nothing (the kept text is deleted).

A text too long for a cookie (a long reply in Chinese) is not kept: the sign-in page then shows
it in full, to copy before signing in (``unsent``), and says why.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass, field

from flask import after_this_request, current_app, request, session

from casework.privacy.crypto import DecryptionError
from web.requestdb import services

COOKIE = "ct_kept"
KEPT_PURPOSE = "staff.kept_text"
TYPIST = "typist"  # the signed session's key: a tag of the last staff member signed in here
MAX_COOKIE = 3800  # bytes of the cookie's value: with its name and attributes under 4,096
NEVER = ("csrf_token", "keep_file", "version", "go")  # sent with a form, typed by no one


@dataclass(frozen=True)
class Restorable:
    """A form whose text may be kept: its name on its page (``form``), the fields it takes back
    with their labels (translated, for the sign-in page that shows a text too long to keep), and
    whether the form takes files (they are not kept)."""

    form: str
    fields: tuple[tuple[str, str], ...]  # (name, label)
    takes_files: bool = False


@dataclass
class Kept:
    """What came back: the form's name, its text values, the version of the case it was typed on,
    and whether files were chosen (they were not kept)."""

    form: str
    values: dict[str, str] = field(default_factory=dict)
    version: str = ""
    files_dropped: bool = False


_FORMS: dict[str, object] = {}  # endpoint -> function(view_args) -> Restorable | None


def restorable(endpoint: str):
    """Decorator: ``function(view_args) -> Restorable | None`` says which form a POST to
    ``endpoint`` came from and what it may take back; the page at the nearest GET address takes
    the text back (``take``)."""

    def register(function):
        _FORMS[endpoint] = function
        return function

    return register


def typist_tag(user_id: int) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"typist:%d" % user_id, hashlib.sha256).hexdigest()[:32]


def remember_typist(user_id: int) -> None:
    """At sign-in (after the session was cleared): whose text a refused form will be."""
    session[TYPIST] = typist_tag(user_id)


def _lifetime() -> int:
    return int(current_app.config.get("STAFF_SESSION_ABSOLUTE_SECONDS", 12 * 3600))


def _typed(form: Restorable) -> dict[str, str]:
    values = {}
    for name, _label in form.fields:
        if name in NEVER or "password" in name.lower() or name not in request.form:
            continue
        values[name] = request.form.get(name, "")
    return values


def keep_refused(page_path: str) -> tuple[str, list[tuple[str, str]]]:
    """For a POST refused because its session ended: keep what its form held for the page at
    ``page_path``. Answers ("kept", []) when a cookie to set was staged on the answer, ("nothing",
    []) when the form is not one that takes text back or nothing was typed, and ("too_long",
    [(label, text), …]) when the text did not fit a cookie (the sign-in page shows it to copy)."""
    from web.security import sent_from_this_site

    describe = _FORMS.get(request.endpoint or "")
    form = describe(request.view_args or {}) if describe else None
    if form is None or not sent_from_this_site():  # never a text another site's page posted
        return "nothing", []
    values = _typed(form)
    if not any(v.strip() for v in values.values()):
        return "nothing", []
    files = form.takes_files and any(f.filename for f in request.files.values())
    blob = {"v": 1, "at": int(time.time()), "who": session.get(TYPIST), "page": page_path, "form": form.form,
            "values": values, "version": request.form.get("version", "")[:20], "files": bool(files)}
    raw = zlib.compress(json.dumps(blob, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 9)
    value = base64.urlsafe_b64encode(services().cipher.encrypt(raw, KEPT_PURPOSE)).decode("ascii")
    if len(value) > MAX_COOKIE:
        labels = dict(form.fields)
        return "too_long", [(labels[name], text) for name, text in values.items() if text.strip()]
    path = request.script_root + page_path
    secure = current_app.config["SESSION_COOKIE_SECURE"]

    @after_this_request
    def _set(response):
        response.set_cookie(COOKIE, value, max_age=_lifetime(), path=path, httponly=True, secure=secure,
                            samesite="Lax")
        return response

    return "kept", []


def take(user_id: int) -> Kept | None:
    """On a page view by a signed-in staff member: the text kept for this page, if it was typed by
    them, not too long ago (the cookie is deleted in any case: it is read once)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    path = request.script_root + request.path

    @after_this_request
    def _forget(response):
        response.delete_cookie(COOKIE, path=path, httponly=True, secure=secure, samesite="Lax")
        return response

    try:
        raw = services().cipher.decrypt(base64.urlsafe_b64decode(value.encode("ascii")), KEPT_PURPOSE)
        blob = json.loads(zlib.decompress(raw).decode("utf-8"))
    except (DecryptionError, ValueError, zlib.error, UnicodeError):
        return None
    if (not isinstance(blob, dict) or blob.get("v") != 1 or blob.get("page") != request.path
            or not blob.get("who") or not hmac.compare_digest(str(blob["who"]), typist_tag(user_id))
            or not isinstance(blob.get("at"), int) or time.time() - blob["at"] > _lifetime()
            or not isinstance(blob.get("values"), dict)):
        return None
    values = {str(k): str(v) for k, v in blob["values"].items()}
    return Kept(form=str(blob.get("form", "")), values=values, version=str(blob.get("version", "")),
                files_dropped=bool(blob.get("files")))
