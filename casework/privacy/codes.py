"""Query codes: 80 random bits a person can copy by hand, stored only as a keyed hash.

The code is 16 characters of Crockford's base32 (no I, L, O, U), shown in four groups
of four. 80 bits from a CSPRNG make guessing hopeless, so HMAC-SHA256 under a server
pepper is enough to store it (a slow KDF would only slow intake down). Input is
forgiving: case, spaces and dashes are ignored, and O/I/L read as 0/1/1.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 16 * 5 = 80 bits
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


def hash_code(pepper: bytes, case_number: str, code: str) -> str:
    msg = f"{case_number}:{normalize(code)}".encode()
    return hmac.new(pepper, msg, hashlib.sha256).hexdigest()


def check_code(pepper: bytes, case_number: str, code: str, stored_hash: str | None) -> bool:
    """Constant-time check; does the same work whether or not the case exists."""
    candidate = hash_code(pepper, case_number, code)
    return hmac.compare_digest(candidate, stored_hash or "0" * 64) and stored_hash is not None


def looks_like_code(text: str) -> bool:
    n = normalize(text)
    return len(n) == LENGTH and all(ch in ALPHABET for ch in n)
