"""The archive: one gzip-compressed tar, read and written front to back in one pass.

Members, in this order:

``manifest.json``
    format and version, when it was made, the Alembic revision and database dialect it was
    made from, and per table: its member, its columns (name and kind), its row count, the
    sha256 and size of its member; and the count, total size and sha256 of the upload index.
``tables/NNN-<table>.jsonl``
    one JSON array per row, values in the column order of the manifest (bytes base64,
    timestamps ISO 8601 in UTC, decimals as strings, enums by value); parents before children.
``uploads.jsonl``
    the upload index: per file its member, sha256 and size, in the order the files follow.
``uploads/<key[:2]>/<key>.<orig|staff>``
    the upload files exactly as stored: already encrypted with CHANGTONG_PII_KEY, which the
    archive does not hold.

Reading checks every member against the manifest and the index as it goes, so a damaged or
truncated archive is found by the time the last member has been read.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import tarfile
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from casework.backup.errors import BackupError

FORMAT = "changtong-backup"
VERSION = 1
MANIFEST = "manifest.json"
UPLOADS_INDEX = "uploads.jsonl"
TABLE_MEMBER = re.compile(r"^tables/\d{3}-[a-z_][a-z0-9_]*\.jsonl$")
UPLOAD_MEMBER = re.compile(r"^uploads/([0-9A-Za-z]{2})/([0-9A-Za-z]+)\.(orig|staff)$")
VARIANTS = ("orig", "staff")
CHUNK = 1 << 20
# the settings a restore needs and the archive never holds
KEYS = ("CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER")


def upload_member(key: str, variant: str) -> str:
    return f"uploads/{key[:2]}/{key}.{variant}"


def upload_path(root: Path, key: str, variant: str) -> Path:
    """Where casework.intake.files.FileStore keeps a file (the restore test reads it back
    through FileStore, which would fail if the two disagreed)."""
    if not key.isalnum() or variant not in VARIANTS:
        raise BackupError(f"bad storage key {key!r}")
    return Path(root) / key[:2] / f"{key}.{variant}"


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


_DAMAGE = (tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile, UnicodeDecodeError, json.JSONDecodeError)


@contextmanager
def _damaged():
    try:
        yield
    except _DAMAGE as exc:
        raise BackupError(f"the archive is damaged or incomplete ({type(exc).__name__}: {exc})") from None


def check_manifest(manifest) -> dict:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this file is not a Changtong backup (its manifest.json is not one)")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise BackupError(f"the archive has format version {manifest.get('version')!r}; "
                          f"this version of Changtong reads version {VERSION} or older")
    for key in ("alembic_revision", "created_at", "dialect", "tables", "uploads"):
        if key not in manifest:
            raise BackupError(f"the manifest lacks {key!r}")
    fields = {"name": str, "member": str, "columns": list, "rows": int, "sha256": str, "bytes": int}
    tables = manifest["tables"]
    if not isinstance(tables, list) or not all(
            isinstance(t, dict) and all(isinstance(t.get(k), kind) for k, kind in fields.items()) for t in tables):
        raise BackupError("the manifest's list of tables is damaged")
    for t in tables:
        if not TABLE_MEMBER.match(t["member"]):
            raise BackupError(f"the manifest names a bad table member {t['member']!r}")
        if not all(isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in t["columns"]):
            raise BackupError(f"the manifest's columns of {t['name']} are damaged")
    uploads = manifest["uploads"]
    if not (isinstance(uploads, dict) and isinstance(uploads.get("files"), int)
            and isinstance(uploads.get("sha256"), str) and isinstance(uploads.get("bytes"), int)):
        raise BackupError("the manifest's upload summary is damaged")
    return manifest


class ArchiveReader:
    """One pass over an archive. ``items()`` yields ("table", info, rows) and then
    ("file", entry, chunks); the consumer reads rows/chunks as they come, and every member
    is checked (size, sha256, row count) when it ends. ``items()`` finishes only if the whole
    archive matched its manifest."""

    def __init__(self, fileobj: BinaryIO):
        with _damaged():
            # gzip (not tarfile's own "r|gz", which never checks the trailer) verifies the CRC-32
            # and length of the whole stream once it is read to its end (see items())
            self._gz = gzip.GzipFile(fileobj=fileobj, mode="rb")
            self._tar = tarfile.open(fileobj=self._gz, mode="r|")
            self._members = iter(self._tar)
            first = self._next("manifest.json")
            if first.name != MANIFEST:
                raise BackupError("this file is not a Changtong backup (it does not start with manifest.json)")
            self.manifest = check_manifest(json.loads(self._open(first).read()))

    def _next(self, expected: str) -> tarfile.TarInfo:
        member = next(self._members, None)
        if member is None:
            raise BackupError(f"the archive is damaged or incomplete: it ends before {expected}")
        if not member.isreg():
            raise BackupError(f"the archive holds something other than a file: {member.name!r}")
        return member

    def _open(self, member: tarfile.TarInfo) -> BinaryIO:
        fh = self._tar.extractfile(member)
        assert fh is not None  # a regular file always has content
        return fh

    def items(self) -> Iterator[tuple]:
        with _damaged():
            for info in self.manifest["tables"]:
                member = self._next(info["member"])
                if member.name != info["member"]:
                    raise BackupError(f"the archive is damaged: {member.name!r} where {info['member']!r} belongs")
                rows = self._rows(member, info)
                yield "table", info, rows
                for _ in rows:  # whatever the consumer left unread is still checked
                    pass
            yield from self._files()
            extra = next(self._members, None)
            if extra is not None:
                raise BackupError(f"the archive holds an unexpected member {extra.name!r}")
            while self._gz.read(CHUNK):  # the tar's padding, then the gzip trailer's checks
                pass

    def _rows(self, member: tarfile.TarInfo, info: dict) -> Iterator[list]:
        digest, size, count, width = hashlib.sha256(), 0, 0, len(info["columns"])
        with _damaged():
            for line in self._open(member):
                digest.update(line)
                size += len(line)
                row = json.loads(line)
                if not isinstance(row, list) or len(row) != width:
                    raise BackupError(f"the archive is damaged: a row of {info['name']} does not fit its columns")
                count += 1
                yield row
        if size != info["bytes"] or digest.hexdigest() != info["sha256"]:
            raise BackupError(f"the archive is damaged: {member.name} does not match its checksum")
        if count != info["rows"]:
            raise BackupError(f"the archive is damaged: {info['name']} has {count} rows, "
                              f"the manifest says {info['rows']}")

    def _files(self) -> Iterator[tuple]:
        meta = self.manifest["uploads"]
        member = self._next(UPLOADS_INDEX)
        if member.name != UPLOADS_INDEX:
            raise BackupError(f"the archive is damaged: {member.name!r} where {UPLOADS_INDEX} belongs")
        with tempfile.TemporaryFile() as index:  # the index may be long: spooled, read in step
            digest = hashlib.sha256()
            src = self._open(member)
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                index.write(chunk)
            if digest.hexdigest() != meta["sha256"]:
                raise BackupError(f"the archive is damaged: {UPLOADS_INDEX} does not match its checksum")
            index.seek(0)
            count = 0
            for line in index:
                entry = json.loads(line)
                member = self._next(entry["member"])
                if member.name != entry["member"] or not UPLOAD_MEMBER.match(member.name):
                    raise BackupError(f"the archive is damaged: {member.name!r} where {entry['member']!r} belongs")
                chunks = self._chunks(member, entry)
                yield "file", entry, chunks
                for _ in chunks:
                    pass
                count += 1
            if count != meta["files"]:
                raise BackupError(f"the archive is damaged: {count} upload files, the manifest says {meta['files']}")

    def _chunks(self, member: tarfile.TarInfo, entry: dict) -> Iterator[bytes]:
        digest, size = hashlib.sha256(), 0
        with _damaged():
            src = self._open(member)
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"the archive is damaged: {member.name} does not match its checksum")


def parse_upload_member(name: str) -> tuple[str, str]:
    m = UPLOAD_MEMBER.match(name)
    if m is None or m.group(2)[:2] != m.group(1):
        raise BackupError(f"the archive is damaged: bad upload member {name!r}")
    return m.group(2), m.group(3)


def verify_backup(path: Path) -> dict:
    """Read a whole archive as a restore would, without restoring: every checksum, every row
    count, every value decodable. Returns the manifest; BackupError on the first fault."""
    import sqlalchemy as sa

    from casework.backup.schema import decoder

    with open(path, "rb") as fh:
        reader = ArchiveReader(fh)
        for kind, info, payload in reader.items():
            if kind == "table":
                decoders = [decoder(k, sa.DateTime(timezone=True)) for _, k in info["columns"]]
                for row in payload:
                    try:
                        for d, v in zip(decoders, row):
                            d(v)
                    except (ValueError, TypeError) as exc:
                        raise BackupError(f"the archive is damaged: a value in {info['name']} cannot be read "
                                          f"({type(exc).__name__})") from None
            else:
                parse_upload_member(info["member"])
                for _ in payload:
                    pass
        return reader.manifest
