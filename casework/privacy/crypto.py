"""Encryption of personal data and files at rest (AES-256-GCM from `cryptography`).

Ciphertext layout: version byte, key id byte (first byte of the key's SHA-256), 12-byte
nonce, ciphertext+tag. The keyring lists the current key first and retired keys after
it: new data is written under the current key, old data stays readable under the key
it names until it is re-encrypted.
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
        if len(blob) < 2 + 12 + 16 or blob[0] != VERSION:
            raise DecryptionError("not a ciphertext of this version")
        for kid, aead in self._keys:
            if kid != blob[1]:
                continue
            try:
                return aead.decrypt(blob[2:14], blob[14:], purpose.encode())
            except InvalidTag:
                continue  # another key may share the id byte
        raise DecryptionError("wrong key or purpose, or tampered")

    def encrypt_text(self, text: str | None, purpose: str) -> bytes | None:
        if text is None or text == "":
            return None
        return self.encrypt(text.encode("utf-8"), purpose)

    def decrypt_text(self, blob: bytes | None, purpose: str) -> str | None:
        if blob is None:
            return None
        return self.decrypt(blob, purpose).decode("utf-8")
