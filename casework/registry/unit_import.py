"""Bulk import of units (the bodies that handle cases) from CSV, for a platform with hundreds.

The file is UTF-8 (a BOM is allowed) with a header row naming the columns below, in any
order. Like the association import it is all or nothing: every row is checked with the rules
of the admin form (``casework.registry.units.check_unit``), and when any row has an error the
caller rolls back and gets every error with its line number (the header is line 1).

Columns (``code``, ``name``, ``kind`` and ``region_code`` are required in the header):

==========================  ===================================================================
code                        the unit's code: 2-64 lower-case letters, digits and hyphens;
                            a code already in use updates that unit
name                        2-200 characters
kind                        industry_department / registration_authority / supervisory_unit /
                            party_work_department / discipline_inspection / mediation_body / triage
region_code                 6 digits (GB/T 2260), 100000 for a national body
name_en                     its name in English
notice_email                an office mailbox for the unit's notices (never a person's)
supervising_unit            the code of the unit above it: supervision notices (督办) and
                            reviews (复查, 复核) go there. It may be a unit further down the
                            same file: the file is written in an order where every unit comes
                            after the unit above it
association                 for a mediation body: the credit code of its association
lead_approves_not_accept    true / false / 是 / 否 / 1 / 0: only the lead may decline a case
people_mediation_committee  true / false: a mediation body that is a 人民调解委员会
active                      true / false; blank = in use
==========================  ===================================================================

A column left out of the header keeps an existing unit's value (and a new unit's default);
a blank cell in a column that is there clears an optional field. Each unit created or
changed gets its own audit entry, as the admin form writes; a row that changes nothing
writes none.
"""
from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.i18n import Message, N_
from casework.registry.importer import ImportResult, RowError, Source, read_source
from casework.registry.models import Unit
from casework.registry.units import check_unit, create_unit, form_values, update_unit
from casework.text import clean_text

REQUIRED_COLUMNS = ("code", "name", "kind", "region_code")
OPTIONAL_COLUMNS = ("name_en", "notice_email", "supervising_unit", "association", "lead_approves_not_accept",
                    "people_mediation_committee", "active")
_FLAGS = ("lead_approves_not_accept", "people_mediation_committee", "active")
_TRUE = {"1", "true", "yes", "on", "是", "y"}
_FALSE = {"0", "false", "no", "off", "否", "n"}


@dataclass
class UnitImportResult(ImportResult):
    unchanged: int = 0  # a row that changes nothing: no audit entry


def import_units(session: Session, actor: Actor, lines: Source) -> UnitImportResult:
    """Check and write every row of the CSV in ``lines``; on any error the caller rolls back
    (rows before the error may be in the session). Flushes, never commits."""
    result = UnitImportResult()
    parsed = read_source(lines, REQUIRED_COLUMNS, OPTIONAL_COLUMNS, result.errors)
    if parsed is None:
        return result

    rows: dict[str, tuple[int, dict[str, str]]] = {}
    for line, cells in parsed:
        cells = {k: clean_text(v) for k, v in cells.items()}
        code = cells["code"].lower()
        cells["code"] = code
        if code in rows:
            _error(result, line, "code", f"the code {code} is already on line {rows[code][0]}",
                   Message(N_("The code %(code)s is already on line %(line)d."), {"code": code, "line": rows[code][0]}))
            continue
        for flag in _FLAGS:
            if flag in cells and not _flag_ok(cells[flag]):
                _error(result, line, flag, "true or false (是 / 否, 1 / 0)",
                       Message(N_("Write true or false (是 or 否, 1 or 0).")))
        rows[code] = (line, cells)
    if result.errors:
        return result

    for code in _ordered(rows, result):
        line, cells = rows[code]
        unit = session.scalar(select(Unit).where(Unit.code == code))
        raw = form_values(unit) if unit is not None else {"active": "1"}
        raw.update({k: ("1" if _flag_true(v) else "") if k in _FLAGS else v for k, v in cells.items()})
        if "active" in cells and cells["active"] == "":
            raw["active"] = "1"
        values, errors = check_unit(session, raw, unit)
        if errors:
            for name, messages in errors.items():
                for message in messages:
                    _error(result, line, name, message.render(lambda s: s), message)
            continue
        if unit is None:
            create_unit(session, actor, values)
            result.created += 1
        elif update_unit(session, actor, unit, values).is_noop:
            result.unchanged += 1
        else:
            result.updated += 1
    session.flush()
    result.errors.sort(key=lambda e: e.line)
    return result


def _ordered(rows: dict[str, tuple[int, dict[str, str]]], result: UnitImportResult) -> list[str]:
    """The file's codes with every unit after the unit above it, when that is in the file too;
    the file's order otherwise. A loop within the file is an error on each of its lines."""
    graph = {code: ({cells.get("supervising_unit", "").lower()} & rows.keys()) - {code}
             for code, (_, cells) in rows.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        loop = list(dict.fromkeys(exc.args[1]))
        for code in loop:
            _error(result, rows[code][0], "supervising_unit", f"the units {' → '.join(loop)} supervise each other in a loop",
                   Message(N_("The units %(loop)s supervise each other in a loop: the levels above a unit cannot "
                              "lead back to it."), {"loop": " → ".join(loop)}))
        return []


def _flag_ok(value: str) -> bool:
    return value.lower() in _TRUE | _FALSE or value == ""


def _flag_true(value: str) -> bool:
    return value.lower() in _TRUE


def _error(result: UnitImportResult, line: int, column: str, reason: str, message: Message) -> None:
    result.errors.append(RowError(line, column, reason, message))
