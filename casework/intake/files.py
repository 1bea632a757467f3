"""Uploaded evidence: checked by content, size-limited, stripped of metadata, encrypted.

The type is decided by the bytes (``filetype``), never by the name. Images are decoded
and re-encoded by Pillow, which drops EXIF (location, device) and anything hidden after
the image data; PDFs are parsed by pypdf and rewritten without their document info and
XMP metadata. The original is kept too (it is the evidence), encrypted like the copy.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter

from casework.i18n import Message, N_
from casework.intake.validation import clean_text
from casework.privacy.crypto import Cipher

ALLOWED = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


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


def display_name(name: str | None, ext: str) -> str:
    base = clean_text(os.path.basename((name or "").replace("\\", "/")))[:100] or f"file.{ext}"
    return base


def inspect_upload(filename: str | None, data: bytes, *, max_bytes: int) -> CleanFile:
    if not data:
        raise UploadRejected(Message(N_("The file \u201c%(name)s\u201d is empty."), {"name": filename or ""}))
    if len(data) > max_bytes:
        raise UploadRejected(Message(
            N_("The file \u201c%(name)s\u201d is %(size)s MB; each file may be at most %(max)s MB."),
            {"name": filename or "", "size": f"{len(data) / 1048576:.1f}", "max": f"{max_bytes / 1048576:.0f}"},
        ))
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in ALLOWED:
        raise UploadRejected(Message(
            N_("The file \u201c%(name)s\u201d is not a JPEG, PNG or WebP image or a PDF (checked by its content, not its name)."),
            {"name": filename or ""},
        ))
    try:
        copy = _reencode_image(data, mime) if mime.startswith("image/") else _clean_pdf(data)
    except Exception:  # any decoder error means a damaged or hostile file
        raise UploadRejected(Message(
            N_("The file \u201c%(name)s\u201d could not be read; it may be damaged."), {"name": filename or ""}
        ))
    return CleanFile(
        filename=display_name(filename, ALLOWED[mime]),
        content_type=mime,
        original=data,
        staff_copy=copy,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _reencode_image(data: bytes, mime: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise ValueError("too many pixels")
        img.load()
    img = ImageOps.exif_transpose(img)  # keep what the camera meant, then drop EXIF
    out = io.BytesIO()
    if mime == "image/png":
        img.save(out, format="PNG", optimize=False)
    else:
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        fmt = "WEBP" if mime == "image/webp" else "JPEG"
        img.save(out, format=fmt, quality=90)
    return out.getvalue()


def _clean_pdf(data: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise ValueError("encrypted pdf")
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.metadata = None  # no /Info dictionary
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
