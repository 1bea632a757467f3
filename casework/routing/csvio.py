"""Routing rules to and from CSV (the administrator's bulk tool, ``changtong routing``).

Columns, in this order on export (any order on import, all required)::

    case_type,category,association,target,priority,active,note

``category`` is a category code or ``*`` (any category of the type); ``association`` is a
credit code or ``*`` (every association; a code makes the rule that association's
override). ``target`` is a ``RouteTarget`` value; ``priority`` 0-9999 (lower is tried
first; blank = 100); ``active`` true/false (blank = true).

Import checks every row first, with the same rules as the admin form. If any row is bad,
nothing is written and every error comes back with its line number (the header is line
1). Otherwise, by default each row updates the rule with the same (case type, category,
association, target) or adds one; rules missing from the file are left alone. With
``replace=True`` the file becomes the whole rule set: every rule is deleted and the file's
rules are added, in one transaction (an empty file is refused). Rows are flushed; the
caller commits (or rolls back).
"""
from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from typing import IO, Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from casework.accounts.actor import Actor
from casework.text import clean_text
from casework.registry.importer import NOT_UTF8, ImportResult, RowError, read_table
from casework.routing.models import RoutingRule
from casework.routing.operations_admin import (
    ANY, RULE_FIELDS, Lookups, RuleValues, check_rule, create_rule, rule_key, rule_snapshot,
    rules_in_engine_order, update_rule,
)

log = logging.getLogger("changtong.admin")
COLUMNS = RULE_FIELDS


@dataclass
class RuleImportResult(ImportResult):
    unchanged: int = 0
    deleted: int = 0


# --- export ------------------------------------------------------------------------------------

def export_rules(session: Session, out: IO[str]) -> int:
    """Write every rule (per case type, in the engine's order); returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rules = rules_in_engine_order(session)
    for rule in rules:
        snap = rule_snapshot(rule)
        snap["active"] = "true" if snap["active"] else "false"
        writer.writerow([snap[c] for c in COLUMNS])
    return len(rules)


def export_text(session: Session) -> str:
    buf = io.StringIO()
    export_rules(session, buf)
    return buf.getvalue()


# --- import ------------------------------------------------------------------------------------

def read_rows(data: str | bytes, errors: list[RowError]) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their first line number; header and encoding problems go to errors."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            errors.append(NOT_UTF8(line))
            return []
    return read_table(io.StringIO(data.lstrip("\ufeff"), newline=""), COLUMNS, (), errors) or []


def check_rows(session: Session, rows: list[tuple[int, dict[str, str]]], errors: list[RowError],
               progress: Callable[[int], None] | None = None) -> list[RuleValues]:
    lookups = Lookups(session)
    lookups.preload({uscc.compact(clean_text(c.get("association")).upper()) for _, c in rows} - {"", ANY})
    checked: list[RuleValues] = []
    first_line: dict[tuple, int] = {}
    for line, cells in rows:
        cells = dict(cells)
        if not clean_text(cells.get("active")):
            cells["active"] = "true"
        if not clean_text(cells.get("priority")):
            cells["priority"] = "100"
        values, row_errors = check_rule(lookups, cells)
        for name, messages in row_errors.items():
            errors.extend(RowError(line, name, m.render(lambda s: s)) for m in messages)
        if values is not None:
            key = rule_key(values)
            if key in first_line:
                errors.append(RowError(line, "", f"the same case_type, category, association and target "
                                                 f"as line {first_line[key]}"))
            else:
                first_line[key] = line
                checked.append(values)
        if progress is not None:
            progress(1)
    return checked


def import_rules(session: Session, actor: Actor, data: str | bytes, *, replace: bool = False,
                 progress: Callable[[int], None] | None = None) -> RuleImportResult:
    """Validate every row; write all of them or none (see the module doc).

    ``progress`` is called with the number of rows just checked (advance by that many)."""
    result = RuleImportResult()
    rows = read_rows(data, result.errors)
    values = check_rows(session, rows, result.errors, progress) if rows else []
    if not result.errors and replace and not values:
        result.errors.append(RowError(1, "", "the file has no rules; replacing would delete every rule"))
    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result

    if replace:
        result.deleted = session.execute(delete(RoutingRule)).rowcount or 0
        session.expire_all()
        existing: dict[tuple, RoutingRule] = {}
    else:
        existing = {}
        for rule in session.scalars(select(RoutingRule).order_by(RoutingRule.id.desc())):
            existing[rule_key(rule)] = rule  # the lowest id wins where old data has twins
    for v in values:
        rule = existing.get(rule_key(v))
        if rule is None:
            create_rule(session, actor, v, log_change=False)
            result.created += 1
        elif update_rule(session, actor, rule, v, log_change=False).changed:
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    log.info("routing_rule.imported %s", json.dumps(
        {"actor_id": actor.user_id, "actor_kind": actor.kind, "mode": "replace" if replace else "upsert",
         "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
         "deleted": result.deleted}, sort_keys=True))
    return result

