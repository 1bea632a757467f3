"""What domain operations need besides a database session, built once from Settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Callable

from casework.db import utcnow
from casework.intake.files import FileStore
from casework.privacy.crypto import Cipher
from casework.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    cipher: Cipher
    files: FileStore
    clock: Callable[[], datetime] = field(default=utcnow)

    @cached_property
    def identity_cipher(self) -> Cipher:
        """A report's (举报) identity: its own key ring, never the PII cipher."""
        return Cipher(self.settings.identity_keyring)

    def party_cipher(self, case_type) -> Cipher:
        """The cipher of the complainant's identity on a case of this type."""
        return self.identity_cipher if getattr(case_type, "value", case_type) == "report" else self.cipher

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> "Services":
        cipher = Cipher(settings.pii_keys)
        return cls(settings=settings, cipher=cipher, files=FileStore(settings.upload_dir, cipher), clock=clock)
