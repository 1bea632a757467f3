"""Uploaded evidence: checked by content, size-limited, stripped of metadata, encrypted.

The type is decided by the bytes (``filetype``), never by the name. The copy staff download is
made by casework.intake.cleaning in a child process with a wall-time and a memory limit: images
are rebuilt from their pixels alone (no EXIF, GPS, XMP, COM comment, PNG text or ICC profile),
PDFs are rebuilt with pikepdf without metadata, annotations, JavaScript or embedded files and with
every embedded image re-encoded. The original is kept too (it is the evidence), encrypted like
the copy.

Decoding is bounded per request (``UploadBudget``): an image over ``FILE_PIXELS`` is refused from
its header before anything is decoded, the files of one request may decode at most
``REQUEST_PIXELS`` between them (a PDF's images counted from their dictionaries before decoding),
and all their cleaning together may take at most ``REQUEST_SECONDS`` of wall time.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import filetype
from PIL import Image

from casework.i18n import Message, N_
from casework.intake import cleaning
from casework.text import clean_text
from casework.privacy.crypto import Cipher

ALLOWED = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
FILE_PIXELS = 25_000_000  # one image: a 24-megapixel camera fits; a decompression bomb does not
REQUEST_PIXELS = 60_000_000  # all files of one request (five 12-megapixel phone photos)
REQUEST_SECONDS = 20.0  # wall time for cleaning all files of one request (gunicorn's timeout is 60)
MAX_PIXELS = FILE_PIXELS  # the name older code and tests use
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class UploadBudget:
    """What the files of one request may still cost: decoded pixels and wall time."""
    pixels: int = REQUEST_PIXELS
    deadline: float = field(default_factory=lambda: time.monotonic() + REQUEST_SECONDS)

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


class UploadRejected(Exception):
    def __init__(self, message: Message):
        super().__init__(message.msgid)
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A file as sent (a form's upload, an API body's base64), before ``inspect_upload``."""
    filename: str | None
    data: bytes


@dataclass(frozen=True)
class CleanFile:
    filename: str
    content_type: str
    original: bytes
    staff_copy: bytes
    sha256: str


# the extension of each type a file may have (the checks above take no other)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


def report_file_name(n: int, content_type: str) -> str:
    """A reporter's file is kept by its place, 附件1.jpg, not by the name it came with: a name can
    name its sender (王小明_付款记录.jpg), and a report's identity is shown only through an
    audited reveal (docs/security.md). The metadata inside is removed as for every file."""
    return f"附件{n}.{EXTENSIONS.get(content_type, 'bin')}"


def display_name(name: str | None, ext: str) -> str:
    base = clean_text(os.path.basename((name or "").replace("\\", "/")))[:100] or f"file.{ext}"
    return base


def _too_many_pixels(filename: str | None) -> UploadRejected:
    return UploadRejected(Message(
        N_("The picture \u201c%(name)s\u201d has too many pixels to be checked here (at most %(file)d megapixels "
           "for one picture and %(request)d megapixels for all files sent at once). Please send a smaller "
           "picture or a screenshot, or send the other files with the next step."),
        {"name": filename or "", "file": FILE_PIXELS // 1_000_000, "request": REQUEST_PIXELS // 1_000_000},
    ))


def _too_slow(filename: str | None) -> UploadRejected:
    return UploadRejected(Message(
        N_("The file \u201c%(name)s\u201d took too long to check and was not kept. Please send a smaller "
           "file, or fewer files at once."),
        {"name": filename or ""},
    ))


def _unreadable(filename: str | None) -> UploadRejected:
    return UploadRejected(Message(
        N_("The file \u201c%(name)s\u201d could not be read; it may be damaged."), {"name": filename or ""}
    ))


def inspect_upload(filename: str | None, data: bytes, *, max_bytes: int,
                   budget: UploadBudget | None = None) -> CleanFile:
    budget = budget if budget is not None else UploadBudget()
    if not data:
        raise UploadRejected(Message(N_("The file \u201c%(name)s\u201d is empty."), {"name": filename or ""}))
    if len(data) > max_bytes:  # the form reads a file only to one byte past the limit: its size is not known
        raise UploadRejected(Message(
            N_("The file \u201c%(name)s\u201d is larger than %(max)s MB, the most each file may be."),
            {"name": filename or "", "max": f"{max_bytes / 1048576:.0f}"},
        ))
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in ALLOWED:
        raise UploadRejected(Message(
            N_("The file \u201c%(name)s\u201d is not a JPEG, PNG or WebP image or a PDF (checked by its content, not its name)."),
            {"name": filename or ""},
        ))
    allowed = budget.pixels
    if mime.startswith("image/"):
        try:  # the header only: nothing is decoded in this process
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                pixels = cleaning.image_pixels(data)
        except Image.DecompressionBombError:
            raise _too_many_pixels(filename)
        except Exception:
            raise _unreadable(filename)
        if pixels > FILE_PIXELS or pixels > budget.pixels:
            raise _too_many_pixels(filename)
        allowed = min(FILE_PIXELS, budget.pixels)
    copy, pixels = clean_in_child(filename, data, mime, allowed, budget.seconds_left())
    budget.pixels -= pixels
    return CleanFile(
        filename=display_name(filename, ALLOWED[mime]),
        content_type=mime,
        original=data,
        staff_copy=copy,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def clean_in_child(filename: str | None, data: bytes, mime: str, max_pixels: int, seconds: float) -> tuple[bytes, int]:
    """The staff copy, made by ``python -m casework.intake.cleaning`` in a child process that is
    killed after ``seconds``; it gets the file on its standard input and no key in its environment."""
    if seconds <= 0:
        raise _too_slow(filename)
    env = {"PATH": os.defpath, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}  # no key, nothing inherited
    try:
        done = subprocess.run(
            [sys.executable, "-s", "-m", "casework.intake.cleaning", mime, str(max(0, max_pixels))],
            input=data, capture_output=True, timeout=seconds, env=env, cwd=str(ROOT), check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run killed it
        raise _too_slow(filename)
    if done.returncode == cleaning.EXIT_PIXELS:
        raise _too_many_pixels(filename)
    if done.returncode != 0 or len(done.stdout) < 9:
        raise _unreadable(filename)
    return done.stdout[8:], int.from_bytes(done.stdout[:8], "big")


class FileStore:
    """Encrypted files under the data directory, outside any web root."""

    def __init__(self, root: Path, cipher: Cipher):
        self.root = Path(root)
        self.cipher = cipher

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(16)

    def _path(self, key: str, variant: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad storage key")
        return self.root / key[:2] / f"{key}.{variant}"

    def put(self, key: str, variant: str, data: bytes) -> None:
        path = self._path(key, variant)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.cipher.encrypt(data, f"file:{key}.{variant}"))
        os.replace(tmp, path)

    def get(self, key: str, variant: str) -> bytes:
        return self.cipher.decrypt(self._path(key, variant).read_bytes(), f"file:{key}.{variant}")

    def delete(self, key: str) -> None:
        for variant in ("orig", "staff"):
            self._path(key, variant).unlink(missing_ok=True)
