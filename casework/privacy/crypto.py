"""Encryption of personal data and files at rest (AES-256-GCM from `cryptography`).

Ciphertext layout: version byte, key id byte (first byte of the key's SHA-256), 12-byte
nonce, ciphertext+tag. The keyring lists the current key first and retired keys after
it: new data is written under the current key, old data stays readable under the key
it names until it is re-encrypted (`changtong keys rotate`, casework.privacy.rotation: with
``key_index`` and ``reencrypt`` below).
The associated data binds a ciphertext to its purpose (e.g. "case.phone"), so a value
cannot be copied from one column into another and decrypt there.
"""
from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1


IDENTITY_LABEL = b"changtong identity key v1"


def derive_identity_key(pii_key: bytes) -> bytes:
    """The identity key of an install that has no CHANGTONG_IDENTITY_KEY: HKDF-SHA256 of the
    PII key under its own label (a different key, though not an independent secret)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=IDENTITY_LABEL).derive(pii_key)


class DecryptionError(Exception):
    pass


class Cipher:
    def __init__(self, keys: tuple[bytes, ...]):
        if not keys:
            raise ValueError("at least one key")
        self._keys = [(hashlib.sha256(k).digest()[0], AESGCM(k)) for k in keys]

    def encrypt(self, plaintext: bytes, purpose: str) -> bytes:
        kid, aead = self._keys[0]
        nonce = os.urandom(12)
        return bytes((VERSION, kid)) + nonce + aead.encrypt(nonce, plaintext, purpose.encode())

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        return self._open(blob, purpose)[1]

    def _open(self, blob: bytes, purpose: str) -> tuple[int, bytes]:
        """(the index in the ring of the key that opens ``blob``, the plaintext)."""
        if len(blob) < 2 + 12 + 16 or blob[0] != VERSION:
            raise DecryptionError("not a ciphertext of this version")
        for i, (kid, aead) in enumerate(self._keys):
            if kid != blob[1]:
                continue
            try:
                return i, aead.decrypt(blob[2:14], blob[14:], purpose.encode())
            except InvalidTag:
                continue  # another key may share the id byte
        raise DecryptionError("wrong key or purpose, or tampered")

    def key_index(self, blob: bytes, purpose: str) -> int | None:
        """Which key of the ring opens ``blob``: 0 the current one, 1… a retired one; None when
        none does (a key that is not configured, another purpose, or damage)."""
        try:
            return self._open(blob, purpose)[0]
        except DecryptionError:
            return None

    def reencrypt(self, blob: bytes, purpose: str) -> tuple[int | None, bytes | None]:
        """(``key_index``, the value under the current key where a retired key opened it, else
        None): a value already under the current key is left as it is."""
        try:
            i, plain = self._open(blob, purpose)
        except DecryptionError:
            return None, None
        return i, (self.encrypt(plain, purpose) if i else None)

    def current_by_header(self, head: bytes) -> bool:
        """Whether the first bytes of a ciphertext say it is under the current key, without
        reading or opening the rest: true when its key id byte is the current key's and no
        retired key shares it (one chance in 256 for each retired key); a file's check then need
        not read the file."""
        kid = self._keys[0][0]
        return (len(head) >= 2 and head[0] == VERSION and head[1] == kid
                and all(other != kid for other, _ in self._keys[1:]))

    def encrypt_text(self, text: str | None, purpose: str) -> bytes | None:
        if text is None or text == "":
            return None
        return self.encrypt(text.encode("utf-8"), purpose)

    def decrypt_text(self, blob: bytes | None, purpose: str) -> str | None:
        if blob is None:
            return None
        return self.decrypt(blob, purpose).decode("utf-8")
