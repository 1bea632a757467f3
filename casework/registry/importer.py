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

Empty optional cells clear the field on update. Reasons in ``RowError`` are English and
untranslated (an import is an administrator's tool; the reasons name columns and codes).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from casework.intake.validation import clean_text
from casework.registry.models import (
    Association, AssociationLevel, AssociationStatus, Unit, UnitKind,
)
from casework.registry.lookup import index_terms

REQUIRED_COLUMNS: tuple[str, ...] = (
    "credit_code", "name", "abbreviation", "level", "region_code", "status", "decoupled",
    "registration_authority", "main_industry_department", "other_industry_departments",
    "supervisory_unit", "mediation_body", "party_work_department", "is_sample",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("name_en", "member_count")
MEMBER_COUNT_MAX = 10_000_000

NAME_MIN, NAME_MAX = 2, 200
ABBREVIATION_MAX = 100
NAME_EN_MAX = 300
NATIONAL_REGION = "100000"
# GB/T 2260 province-level codes (first two digits)
PROVINCE_CODES = frozenset(
    [str(n) for n in range(11, 16)] + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)] + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)] + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)
PROGRESS_EVERY = 100
_FLUSH_EVERY = 500
_IN_CHUNK = 500

_LEVELS = {
    "national": AssociationLevel.national, "全国": AssociationLevel.national,
    "全国性": AssociationLevel.national, "国家": AssociationLevel.national,
    "provincial": AssociationLevel.provincial, "省": AssociationLevel.provincial,
    "省级": AssociationLevel.provincial,
    "municipal": AssociationLevel.municipal, "市": AssociationLevel.municipal,
    "市级": AssociationLevel.municipal,
    "county": AssociationLevel.county, "县": AssociationLevel.county,
    "县级": AssociationLevel.county,
}
_STATUSES = {
    "active": AssociationStatus.active, "正常": AssociationStatus.active,
    "deregistered": AssociationStatus.deregistered, "注销": AssociationStatus.deregistered,
    "已注销": AssociationStatus.deregistered,
}
_TRUE = {"true", "是", "1", "yes", "y"}
_FALSE = {"false", "否", "0", "no", "n"}

# column → the kind of unit it must name
_UNIT_COLUMNS: dict[str, UnitKind] = {
    "registration_authority": UnitKind.registration_authority,
    "main_industry_department": UnitKind.industry_department,
    "supervisory_unit": UnitKind.supervisory_unit,
    "mediation_body": UnitKind.mediation_body,
    "party_work_department": UnitKind.party_work_department,
}
_REGION = re.compile(r"^[0-9]{6}$")
_LIST_SEP = re.compile(r"[;；]")


@dataclass(frozen=True)
class RowError:
    line: int    # 1-based line in the file; the header is line 1
    field: str   # the column ("" for the row or file as a whole)
    reason: str  # English, untranslated

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


@dataclass
class _Row:
    line: int
    credit_code: str
    name: str
    abbreviation: str | None
    name_en: str | None
    level: AssociationLevel
    region_code: str
    status: AssociationStatus
    decoupled: bool
    registration_authority: Unit
    main_industry_department: Unit
    other_industry_departments: list[Unit]
    supervisory_unit: Unit | None
    mediation_body: Unit | None
    party_work_department: Unit | None
    is_sample: bool
    member_count: int | None = None


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
    decode_errors: list[RowError] = []
    reader = csv.reader(_text_lines(lines, decode_errors))

    units = {u.code: u for u in session.scalars(select(Unit))}
    parsed: list[tuple[int, dict[str, str]]] = []
    columns: list[str] | None = None
    try:
        prev = 0
        for record in reader:
            start, prev = prev + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if columns is None:
                columns = _check_header(record, result.errors)
                if columns is None:
                    break
                continue
            if len(record) > len(columns):
                extra = record[len(columns):]
                if any(cell.strip() for cell in extra):
                    result.errors.append(RowError(
                        start, "", f"{len(record)} cells, but the header has {len(columns)} columns"
                    ))
                    continue
            parsed.append((start, {col: (record[i] if i < len(record) else "") for i, col in enumerate(columns)}))
    except csv.Error as exc:
        result.errors.append(RowError(reader.line_num or 1, "", f"malformed CSV: {exc}"))
    result.errors[:0] = decode_errors

    if columns is None:
        if not result.errors:
            result.errors.append(RowError(1, "", "missing header row"))
        return result

    existing = _existing(session, parsed)
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for n, (line, cells) in enumerate(parsed, 1):
        row = _validate(line, cells, units, existing, first_line, result.errors)
        if row is not None:
            rows.append(row)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
    if progress is not None:
        progress(len(parsed))

    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result

    for i, row in enumerate(rows, 1):
        assoc = existing.get(row.credit_code)
        if assoc is None:
            assoc = Association(credit_code=row.credit_code)
            session.add(assoc)
            result.created += 1
        else:
            result.updated += 1
        _apply(assoc, row, columns)
        if i % _FLUSH_EVERY == 0:
            session.flush()
    session.flush()
    return result


# --- reading -----------------------------------------------------------------------------

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
        errors.append(RowError(line, "", "not valid UTF-8 (save the file as UTF-8)"))
        return False
    return True


def _check_header(record: list[str], errors: list[RowError]) -> list[str] | None:
    columns = [clean_text(c).lower() for c in record]
    ok = True
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            errors.append(RowError(1, col, "column appears twice in the header"))
            ok = False
        seen.add(col)
        if col not in REQUIRED_COLUMNS and col not in OPTIONAL_COLUMNS:
            errors.append(RowError(1, col, f"unknown column {col!r}"))
            ok = False
    for col in REQUIRED_COLUMNS:
        if col not in seen:
            errors.append(RowError(1, col, "missing column in the header"))
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


# --- validation --------------------------------------------------------------------------

def _validate(
    line: int,
    cells: dict[str, str],
    units: dict[str, Unit],
    existing: dict[str, Association],
    first_line: dict[str, int],
    errors: list[RowError],
) -> _Row | None:
    n_errors = len(errors)

    def err(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    def cell(column: str) -> str:
        return clean_text(cells.get(column))

    # credit code
    credit_code = uscc.compact(cell("credit_code"))
    if not credit_code:
        err("credit_code", "required")
    else:
        try:
            uscc.validate(credit_code)
        except InvalidLength:
            err("credit_code", "invalid unified social credit code (must be 18 characters)")
        except InvalidFormat:
            err("credit_code", "invalid unified social credit code (format)")
        except InvalidChecksum:
            err("credit_code", "invalid unified social credit code (check digit)")
        except ValidationError:  # pragma: no cover - stdnum raises only the above
            err("credit_code", "invalid unified social credit code")
        else:
            if credit_code in first_line:
                err("credit_code", f"duplicate credit code (also on line {first_line[credit_code]})")
            else:
                first_line[credit_code] = line

    # name, abbreviation, name_en
    name = cell("name")
    if not name:
        err("name", "required")
    elif not NAME_MIN <= len(name) <= NAME_MAX:
        err("name", f"must be {NAME_MIN}-{NAME_MAX} characters (is {len(name)})")
    abbreviation = cell("abbreviation") or None
    if abbreviation and len(abbreviation) > ABBREVIATION_MAX:
        err("abbreviation", f"must be at most {ABBREVIATION_MAX} characters (is {len(abbreviation)})")
    name_en = cell("name_en") or None
    if name_en and len(name_en) > NAME_EN_MAX:
        err("name_en", f"must be at most {NAME_EN_MAX} characters (is {len(name_en)})")

    # level, region, status, flags
    raw_level = cell("level")
    level = _LEVELS.get(raw_level.lower())
    if not raw_level:
        err("level", "required (national, provincial, municipal or county)")
    elif level is None:
        err("level", f"unknown level {raw_level!r} (national/provincial/municipal/county or 全国/省/市/县)")

    region_code = cell("region_code")
    if not region_code:
        err("region_code", "required (6-digit GB/T 2260 code)")
    elif not _REGION.match(region_code):
        err("region_code", "must be exactly 6 digits (GB/T 2260)")
    elif region_code == NATIONAL_REGION:
        if level is not None and level is not AssociationLevel.national:
            err("region_code", "100000 (national) only fits a national association")
    elif region_code[:2] not in PROVINCE_CODES:
        err("region_code", f"unknown province code {region_code[:2]!r} (GB/T 2260)")
    elif level is AssociationLevel.provincial and not region_code.endswith("0000"):
        err("region_code", "a provincial association needs a province code (ending in 0000)")

    raw_status = cell("status")
    status = _STATUSES.get(raw_status.lower()) if raw_status else AssociationStatus.active
    if status is None:
        err("status", f"unknown status {raw_status!r} (active/deregistered or 正常/注销)")

    decoupled = _bool(cell("decoupled"))
    if not cell("decoupled"):
        err("decoupled", "required (true/false, 是/否 or 1/0)")
    elif decoupled is None:
        err("decoupled", f"not a yes/no value: {cell('decoupled')!r} (true/false, 是/否 or 1/0)")

    is_sample = _bool(cell("is_sample")) if cell("is_sample") else False
    if is_sample is None:
        err("is_sample", f"not a yes/no value: {cell('is_sample')!r} (true/false, 是/否 or 1/0)")

    member_count = None
    if cell("member_count"):
        raw_count = cell("member_count").replace(",", "")
        if not re.fullmatch(r"[0-9]{1,9}", raw_count) or int(raw_count) > MEMBER_COUNT_MAX:
            err("member_count", f"must be a whole number from 0 to {MEMBER_COUNT_MAX}: {cell('member_count')!r}")
        else:
            member_count = int(raw_count)

    # related units
    found: dict[str, Unit | None] = {}
    for column, kind in _UNIT_COLUMNS.items():
        found[column] = _unit(cell(column), column, kind, units, err)
    for column in ("registration_authority", "main_industry_department"):
        if not cell(column):
            err(column, "required (a unit code)")

    others: list[Unit] = []
    raw_others = cell("other_industry_departments")
    for code in _LIST_SEP.split(raw_others) if raw_others else []:
        code = code.strip()
        if not code:
            continue
        unit = _unit(code, "other_industry_departments", UnitKind.industry_department, units, err)
        main = found["main_industry_department"]
        if unit is not None and unit is not main and unit not in others:
            others.append(unit)

    if decoupled and cell("supervisory_unit"):
        err("supervisory_unit", "a decoupled association must not have a business supervisory unit")

    body = found["mediation_body"]
    if body is not None and body.association_id is not None:
        own = existing.get(credit_code)
        if own is None or body.association_id != own.id:
            err("mediation_body", f"mediation body {body.code!r} belongs to another association")

    if len(errors) > n_errors:
        return None
    assert level is not None and status is not None and decoupled is not None and is_sample is not None
    return _Row(
        line=line,
        credit_code=credit_code,
        name=name,
        abbreviation=abbreviation,
        name_en=name_en,
        level=level,
        region_code=region_code,
        status=status,
        decoupled=decoupled,
        registration_authority=found["registration_authority"],  # type: ignore[arg-type]
        main_industry_department=found["main_industry_department"],  # type: ignore[arg-type]
        other_industry_departments=others,
        supervisory_unit=found["supervisory_unit"],
        mediation_body=body,
        party_work_department=found["party_work_department"],
        is_sample=is_sample,
        member_count=member_count,
    )


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def _unit(
    code: str,
    column: str,
    kind: UnitKind,
    units: dict[str, Unit],
    err: Callable[[str, str], Any],
) -> Unit | None:
    if not code:
        return None
    unit = units.get(code)
    if unit is None:
        err(column, f"unknown unit code {code!r}")
        return None
    if unit.kind is not kind:
        err(column, f"unit {code!r} is a {unit.kind.value}, not a {kind.value}")
        return None
    if not unit.active:
        err(column, f"unit {code!r} is inactive")
        return None
    return unit


# --- writing -----------------------------------------------------------------------------

def _apply(assoc: Association, row: _Row, columns: list[str]) -> None:
    assoc.name = row.name
    assoc.abbreviation = row.abbreviation
    if "name_en" in columns:
        assoc.name_en = row.name_en
    if "member_count" in columns:
        assoc.member_count = row.member_count
    assoc.level = row.level
    assoc.region_code = row.region_code
    assoc.status = row.status
    assoc.decoupled = row.decoupled
    assoc.registration_authority = row.registration_authority
    assoc.main_industry_department = row.main_industry_department
    assoc.other_industry_departments = list(row.other_industry_departments)
    assoc.supervisory_unit = row.supervisory_unit
    assoc.mediation_body = row.mediation_body
    assoc.party_work_department = row.party_work_department
    assoc.is_sample = row.is_sample
    index_terms(assoc)
