"""Query codes: 80 random bits a person can copy by hand, stored only as a keyed hash.

The code is 16 characters of Crockford's base32 (no I, L, O, U), shown in four groups
of four. 80 bits from a CSPRNG make guessing hopeless, so HMAC-SHA256 under a server
pepper is enough to store it (a slow KDF would only slow intake down). Input is
forgiving: case, spaces and dashes are ignored, and O/I/L read as 0/1/1.

A stored hash says which pepper made it: ``$`` + the pepper's id (6 hex digits, ``pepper_id``)
+ ``$`` + the HMAC's first 56 hex digits (224 bits), 64 characters as before. A hash written
before the id was kept is the HMAC's 64 hex digits ("legacy": its pepper is unknown). The pepper
rotates (CHANGTONG_QUERY_PEPPER_OLD, ``Pepper``): a code is checked against every pepper, and one
that matched under a retired pepper, or a legacy hash, is rewritten under the current one at
that use (``check_code`` with ``session`` and ``column``). `changtong keys check` counts the
hashes per pepper id (casework.privacy.rotation).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 16 * 5 = 80 bits
log = logging.getLogger("changtong.keys")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# RFC 4648's base32 letters, each to the Crockford character of the same 5-bit value
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def new_query_code() -> str:
    """80 bits from the CSPRNG in one read, as 16 characters: every 5 bits one character, so
    each is uniform over the alphabet (one read of the OS's generator instead of one a character)."""
    text = base64.b32encode(secrets.token_bytes(LENGTH * 5 // 8)).decode("ascii").translate(_CROCKFORD)
    return "-".join(text[i:i + 4] for i in range(0, LENGTH, 4))


def normalize(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if not ch.isspace() and ch not in "-_")
    return cleaned.translate(_READ_AS)


class Pepper(bytes):
    """The current query pepper (these bytes: every HMAC made with it is under the current
    pepper) carrying the retired ones (CHANGTONG_QUERY_PEPPER_OLD) that codes are still checked
    against. Settings.query_pepper is one, so every caller that passes it on accepts a code
    hashed under a retired pepper without a change of its own."""

    retired: tuple[bytes, ...]

    def __new__(cls, current: bytes, retired: tuple[bytes, ...] = ()):
        self = super().__new__(cls, current)
        self.retired = tuple(bytes(p) for p in retired)
        return self

    def __reduce__(self):
        return Pepper, (bytes(self), self.retired)


def peppers(pepper: bytes) -> tuple[bytes, ...]:
    """The current pepper, then the retired ones ``pepper`` carries (none for plain bytes)."""
    return (bytes(pepper), *getattr(pepper, "retired", ()))


@lru_cache(maxsize=32)
def pepper_id(pepper: bytes) -> str:
    """6 hex digits naming a pepper in the hashes it made (a keyed fingerprint: it says nothing
    of the pepper)."""
    return hmac.new(bytes(pepper), b"changtong pepper id", hashlib.sha256).hexdigest()[:6]


def _stamped(pepper: bytes, mac: str) -> str:
    return f"${pepper_id(pepper)}${mac[:56]}"


def _mac(pepper: bytes, case_number: str, code: str) -> str:
    return hmac.new(bytes(pepper), f"{case_number}:{normalize(code)}".encode(), hashlib.sha256).hexdigest()


def hash_code(pepper: bytes, case_number: str, code: str) -> str:
    """The stored form of a code: under the current pepper, which it names."""
    return _stamped(pepper, _mac(pepper, case_number, code))


def stored_pepper_id(stored_hash: str) -> str | None:
    """The id of the pepper a stored hash is under; None for a legacy hash (unknown)."""
    return stored_hash[1:7] if stored_hash.startswith("$") else None


def stamp_legacy(pepper: bytes, stored_hash: str) -> str:
    """A legacy hash known to be under ``pepper`` (the only pepper configured: under any other it
    opened nothing anyway) in the form that names it. `changtong keys rotate` does this."""
    return _stamped(pepper, stored_hash)


def check_code(pepper: bytes, case_number: str, code: str, stored_hash: str | None, *,
               session=None, column=None) -> bool:
    """Constant-time check; does the same work whether or not the case exists (one HMAC per
    pepper, every pepper tried). With ``session`` and ``column`` (the mapped column the stored
    hash came from, e.g. ``Case.query_code_hash``), a right code whose hash is under a retired
    pepper or legacy is rewritten under the current pepper in that session (``renew``)."""
    stored = stored_hash or "0" * 64
    matched = []
    for i, p in enumerate(peppers(pepper)):
        mac = _mac(p, case_number, code)
        if hmac.compare_digest(_stamped(p, mac), stored) | hmac.compare_digest(mac, stored):
            matched.append(i)
    ok = bool(matched) and stored_hash is not None
    if ok and session is not None and column is not None and (matched[0] != 0 or stored_pepper_id(stored) is None):
        renew(session, column, stored, hash_code(pepper, case_number, code))
    return ok


def renew(session, column, old: str, new: str) -> None:
    """Rewrite the stored hash ``old`` of ``column`` as ``new`` in the caller's transaction: one
    UPDATE by the old value, in a savepoint, that moves nothing else (an ``updated_at`` keeps its
    time: the case did not change). Where the write cannot be had now (SQLite's write lock held
    by another connection past this read's snapshot) it is left for the code's next use."""
    import sqlalchemy as sa

    col = column.property.columns[0]
    table = col.table
    keep = {c.name: c for c in table.c if c.onupdate is not None}
    try:
        with session.begin_nested():
            session.execute(sa.update(table).where(col == old).values({col.name: new, **keep}))
    except sa.exc.OperationalError:
        log.info("a query code's hash is left under its old pepper until its next use (the write lock was taken)")


def looks_like_code(text: str) -> bool:
    n = normalize(text)
    return len(n) == LENGTH and all(ch in ALPHABET for ch in n)
