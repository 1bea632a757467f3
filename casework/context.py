"""What domain operations need besides a database session, built once from Settings."""
from __future__ import annotations

from dataclasses import dataclass, field
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

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> "Services":
        cipher = Cipher(settings.pii_keys)
        return cls(settings=settings, cipher=cipher, files=FileStore(settings.upload_dir, cipher), clock=clock)
