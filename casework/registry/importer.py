"""Bulk import of associations from CSV.

The file is UTF-8 (a BOM is allowed) with a header row naming the columns below, in any
order. Every row is validated first; if any row has an error nothing is written and the
caller gets every error with its line number (the header is line 1). Otherwise each row
updates the association with the same credit code or inserts a new one, and the session
is flushed (the caller commits).

Columns (all required in the header; ``name_en`` and ``member_count`` may be added):

=============================  ===========================================================
credit_code                    统一社会信用代码, 18 characters, check digit per GB 32100-2015
name                           2-200 characters
abbreviation                   optional, up to 100 characters
level                          national / provincial / municipal / county, or 全国 / 省 / 市 / 县
region_code                    6 digits (GB/T 2260); 100000 for a national association
status                         active / deregistered, or 正常 / 注销; blank = active
decoupled                      true / false / 是 / 否 / 1 / 0 (required)
registration_authority         Unit.code of a registration authority
main_industry_department       Unit.code of an industry department
other_industry_departments     Unit.codes of industry departments, separated by ``;``
supervisory_unit               Unit.code of a business supervisory unit (not if decoupled)
mediation_body                 Unit.code of a mediation body
party_work_department          Unit.code of a party social work department
is_sample                      true / false (blank = false): the credit code is made up
member_count                   optional: number of member companies, a whole number ≥ 0
=============================  ===========================================================

Empty optional cells clear the field on update. Each row is checked by
casework.registry.validation.check_association, the rules the admin form uses too; reasons
in ``RowError`` are its English wording, untranslated (an import is an administrator's tool;
the reasons name columns and codes). A credit code twice in one file is checked here.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import IO, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from casework.i18n import Message, N_
from casework.text import clean_text
from casework.registry.models import Association, Unit
from casework.registry.pinyin import precomputed
from casework.registry.validation import AssociationValues, check_association, units_by_code

REQUIRED_COLUMNS: tuple[str, ...] = (
    "credit_code", "name", "abbreviation", "level", "region_code", "status", "decoupled",
    "registration_authority", "main_industry_department", "other_industry_departments",
    "supervisory_unit", "mediation_body", "party_work_department", "is_sample",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("name_en", "member_count")
PROGRESS_EVERY = 100
_FLUSH_EVERY = 500
_IN_CHUNK = 500


@dataclass(frozen=True)
class RowError:
    line: int    # 1-based line in the file; the header is line 1
    field: str   # the column ("" for the row or file as a whole)
    reason: str  # English, untranslated: the command line's
    message: Message | None = None  # the same for a page, translated where shown

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


Source = Iterable[str] | Iterable[bytes] | IO[str] | IO[bytes] | str | bytes


def import_associations(
    session: Session,
    lines: Source,
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate every row of the CSV in ``lines``; write all of them or none.

    ``lines`` is a text or binary file, an iterable of lines (str or bytes), or the whole
    content as one str/bytes. ``progress`` is called with the number of data rows checked
    so far, every 100 rows and once at the end of the check.
    """
    result = ImportResult()
    parsed = read_source(lines, REQUIRED_COLUMNS, OPTIONAL_COLUMNS, result.errors)
    if parsed is None:
        return result

    units = units_by_code(session)
    existing = _existing(session, parsed)
    rows: list[AssociationValues] = []
    first_line: dict[str, int] = {}
    for n, (line, cells) in enumerate(parsed, 1):
        row = _check_row(line, cells, units, existing, first_line, result.errors)
        if row is not None:
            rows.append(row)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
    if progress is not None:
        progress(len(parsed))

    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result

    with precomputed(t for row in rows for t in (row.name, row.abbreviation)):
        _write_rows(session, rows, existing, result)
    session.flush()
    return result


def _write_rows(session: Session, rows: list[AssociationValues], existing: dict[str, Association],
                result: ImportResult) -> None:
    for i, row in enumerate(rows, 1):
        assoc = existing.get(row.credit_code)
        if assoc is None:
            assoc = Association(credit_code=row.credit_code)
            session.add(assoc)
            result.created += 1
        else:
            result.updated += 1
        row.apply_to(assoc)  # a column left out of the file keeps the association's value
        if i % _FLUSH_EVERY == 0:
            session.flush()


# --- reading -----------------------------------------------------------------------------

def read_source(lines: "Source", required: tuple[str, ...], optional: tuple[str, ...],
                errors: list[RowError]) -> "Table | None":
    """``read_table`` of whatever the caller handed in (``_text_lines``), lines that are not
    UTF-8 reported first."""
    decode_errors: list[RowError] = []
    parsed = read_table(_text_lines(lines, decode_errors), required, optional, errors)
    errors[:0] = decode_errors
    return parsed


def _text_lines(source: Source, errors: list[RowError]) -> Iterator[str]:
    """Lines as str, the BOM removed, whatever the caller handed in."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(bytes(source))  # iterates lines as bytes
    elif isinstance(source, str):
        source = io.StringIO(source, newline="")
    first = True
    for number, chunk in enumerate(source, 1):
        if isinstance(chunk, (bytes, bytearray)):
            chunk = bytes(chunk)
            if first and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            text = chunk.decode("utf-8") if _utf8(chunk, number, errors) else chunk.decode("utf-8", errors="replace")
        else:
            text = chunk
        if first:
            text = text.lstrip("\ufeff")
            first = False
        yield text


def _utf8(data: bytes, line: int, errors: list[RowError]) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        errors.append(NOT_UTF8(line))
        return False
    return True


def NOT_UTF8(line: int) -> RowError:  # noqa: N802  (reads as the error it makes)
    return RowError(line, "", "not valid UTF-8 (save the file as UTF-8)",
                    Message(N_("The file is not UTF-8 text: save it as “CSV UTF-8” and import it again.")))


Table = list[tuple[int, dict[str, str]]]


def read_table(lines: Iterable[str], required: tuple[str, ...], optional: tuple[str, ...],
               errors: list[RowError]) -> Table | None:
    """The data rows of a CSV whose first row names its columns (in any order), each with
    the line it starts on (the header is line 1) and its cells by column; blank lines are
    skipped but counted. None when the header is missing or names a column twice, one not
    in ``required`` or ``optional``, or lacks a required one. Every problem goes to ``errors``;
    a row with more cells than the header has is left out."""
    reader = csv.reader(lines)
    rows: Table = []
    columns: list[str] | None = None
    try:
        prev = 0
        for record in reader:
            start, prev = prev + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if columns is None:
                columns = _check_header(record, required, optional, errors)
                if columns is None:
                    return None
                continue
            if len(record) > len(columns) and any(cell.strip() for cell in record[len(columns):]):
                errors.append(RowError(start, "", f"{len(record)} cells, but the header has {len(columns)} columns",
                                       Message(N_("%(cells)d cells, but the header has %(columns)d columns."),
                                               {"cells": len(record), "columns": len(columns)})))
                continue
            rows.append((start, {col: (record[i] if i < len(record) else "") for i, col in enumerate(columns)}))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num or 1, "", f"malformed CSV: {exc}",
                               Message(N_("This line is not valid CSV (%(problem)s)."), {"problem": str(exc)})))
    if columns is None:
        if not errors:
            errors.append(RowError(1, "", "missing header row", Message(N_("The file has no header row."))))
        return None
    return rows


def _check_header(record: list[str], required: tuple[str, ...], optional: tuple[str, ...],
                  errors: list[RowError]) -> list[str] | None:
    if any(e.line == 1 and not e.field for e in errors):  # the header could not be read (not UTF-8):
        return None  # its columns' problems would only repeat that
    columns = [clean_text(c).lower() for c in record]
    ok = True
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            errors.append(RowError(1, col, "column appears twice in the header",
                                   Message(N_("This column appears twice in the header."))))
            ok = False
        seen.add(col)
        if col not in required and col not in optional:
            errors.append(RowError(1, col, f"unknown column {col!r}", Message(N_("There is no such column."))))
            ok = False
    for col in required:
        if col not in seen:
            errors.append(RowError(1, col, "missing column in the header",
                                   Message(N_("This column is missing from the header."))))
            ok = False
    return columns if ok else None


def _existing(session: Session, parsed: list[tuple[int, dict[str, str]]]) -> dict[str, Association]:
    codes = sorted({uscc.compact(clean_text(cells.get("credit_code"))) for _, cells in parsed} - {""})
    found: dict[str, Association] = {}
    for i in range(0, len(codes), _IN_CHUNK):
        chunk = codes[i:i + _IN_CHUNK]
        for assoc in session.scalars(select(Association).where(Association.credit_code.in_(chunk))):
            found[assoc.credit_code] = assoc
    return found


# --- checking --------------------------------------------------------------------------

def _check_row(
    line: int,
    cells: dict[str, str],
    units: dict[str, Unit],
    existing: dict[str, Association],
    first_line: dict[str, int],
    errors: list[RowError],
) -> AssociationValues | None:
    """The association's rules (casework.registry.validation), then a credit code that an
    earlier line of the file already has."""
    credit_code = uscc.compact(clean_text(cells.get("credit_code")))
    values, problems = check_association(cells, units, existing.get(credit_code))
    row_errors = [RowError(line, p.field, p.reason, p.message) for p in problems]
    if credit_code and not any(p.field == "credit_code" for p in problems):
        if credit_code in first_line:
            # first among the row's errors, where the credit code's own problems would be
            row_errors.insert(0, RowError(line, "credit_code",
                                          f"duplicate credit code (also on line {first_line[credit_code]})",
                                          Message(N_("The same credit code is on line %(line)d."),
                                                  {"line": first_line[credit_code]})))
        else:
            first_line[credit_code] = line
    errors.extend(row_errors)
    return None if row_errors else values
