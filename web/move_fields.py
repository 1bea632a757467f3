"""A move's fields as the web takes them: from a form (desk, status page, respondent page),
from a staff API body, and as the staff API's OpenAPI schema. All three read the fields of
the move's row in the workflow table (casework.workflow.table); nothing here lists a move.
"""
from __future__ import annotations

import base64
import binascii
import enum
from typing import Any

from flask_babel import gettext as _

from casework.cases.models import CaseType
from casework.intake.files import Upload
from casework.workflow.spec import Kind, Move, Party, Staff
from casework.workflow.table import MOVES
from web.request_limits import as_id


def _max_file_bytes() -> int:
    from web.requestdb import services

    return services().settings.max_file_bytes


def from_form(move: Move, form, files=None) -> dict[str, Any]:
    """The move's fields from a submitted form, as typed (kept to show again on an error);
    anything else in the form is ignored. A ``files`` field takes the form's uploads of that
    name (read up to one byte over the size limit: the machine refuses a larger file)."""
    out: dict[str, Any] = {}
    for f in move.fields:
        if f.kind is Kind.files:
            limit = _max_file_bytes() + 1
            out[f.name] = [Upload(s.filename, s.read(limit))
                           for s in (files.getlist(f.name) if files is not None else []) if s and s.filename]
        elif f.kind is Kind.ref:
            # an id the database cannot hold (or not ASCII digits) is no id: "0" names nothing
            raw = form.get(f.name, "")
            out[f.name] = raw if not raw or as_id(raw) is not None else "0"
        else:
            out[f.name] = form.get(f.name, "")
    return out


def text_max(move: Move, name: str) -> int:
    """The most characters the move's text field ``name`` takes (0 when it has none): how far
    a text is read before its length is checked (the own-code check reads no further)."""
    return max((f.hi for f in move.fields if f.name == name and f.kind in (Kind.text, Kind.line)), default=0)


def from_json(move: Move, data: dict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The move's fields from a JSON body (strings for the machine), or errors per field.
    Files are a list of ``{"name": ..., "content_base64": ...}``; a file whose base64 is longer
    than the size limit allows is refused before it is decoded."""
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in move.fields:
        value = data.get(f.name)
        if value is None:
            continue
        if f.kind is Kind.files:
            uploads, problems = _json_files(value)
            if problems:
                errors[f.name] = problems
            else:
                fields[f.name] = uploads
        elif f.kind is Kind.ref:
            # a positive id the database can hold (30 digits overflowed SQLite)
            ref = as_id(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
            if ref is not None:
                fields[f.name] = str(ref)
            else:
                errors[f.name] = [_("Give the id as a whole number.")]
        elif f.kind is Kind.flag and isinstance(value, bool):
            fields[f.name] = "1" if value else ""
        elif not isinstance(value, str):
            errors[f.name] = [_("Give this as text.")]
        else:
            fields[f.name] = value
    return fields, errors


def _json_files(value) -> tuple[list[Upload], list[str]]:
    if not isinstance(value, list):
        return [], [_("Give the files as a list of objects with name and content_base64.")]
    limit = _max_file_bytes()
    uploads, problems = [], []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("content_base64"), str):
            problems.append(_("Give the files as a list of objects with name and content_base64."))
            continue
        name = item.get("name") if isinstance(item.get("name"), str) else ""
        encoded = item["content_base64"]
        if len(encoded) > (limit // 3 + 1) * 4 + 4:  # larger than the limit once decoded
            problems.append(_("The file \u201c%(name)s\u201d is larger than %(max)s MB.",
                              name=name[:100], max=f"{limit / 1048576:.0f}"))
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            problems.append(_("The file \u201c%(name)s\u201d is not valid base64.", name=name[:100]))
            continue
        uploads.append(Upload(name, data))
    return uploads, problems


def staff_moves() -> list[Move]:
    """The moves staff make through the API (the complainant's, the respondent's and the
    workers' are not offered there)."""
    return [m for m in MOVES.values() if isinstance(m.who, Staff)]


def party_moves(party: Party) -> tuple[str, ...]:
    return tuple(name for name, m in MOVES.items() if m.who == party)


_JSON_TYPES = {Kind.ref: "integer", Kind.flag: "boolean"}


FILES_SCHEMA = {"type": "array", "items": {
    "type": "object", "required": ["content_base64"],
    "properties": {"name": {"type": "string", "maxLength": 200}, "content_base64": {"type": "string"}}}}


def _property(f) -> dict:
    if f.kind is Kind.files:
        return {**FILES_SCHEMA, "description": "JPEG, PNG, WebP or PDF, each as base64; cleaned like the filing form's uploads"}
    prop: dict[str, Any] = {"type": _JSON_TYPES.get(f.kind, "string")}
    if f.kind in (Kind.text, Kind.line):
        prop["maxLength"] = f.hi
    if isinstance(f.choices, type) and issubclass(f.choices, enum.Enum):
        prop["enum"] = [c.value for c in f.choices]
        if f.offered is not None:  # values some case types do not take
            only = {c.value: [t.value for t in CaseType if f.offers(c, t)] for c in f.choices}
            prop["description"] = "; ".join(f"{v}: {' or '.join(ts)} only" for v, ts in only.items()
                                            if len(ts) < len(CaseType))
    if f.kind is Kind.date:
        prop["format"] = "date"
    if f.kind is Kind.datetime:
        prop["description"] = "YYYY-MM-DD HH:MM, Beijing time"
    return prop


def _merge(a: dict, b: dict) -> dict:
    """One property for a field name that several moves take alike (texts of different
    lengths): every value either accepts."""
    out = {k: v for k, v in a.items() if b.get(k) == v}
    if "maxLength" in a and "maxLength" in b:
        out["maxLength"] = max(a["maxLength"], b["maxLength"])
    return out


def _shared(uses: list[tuple[Move, Any]]) -> dict:
    """The property of a field name that several moves take: one schema when they take it
    alike; else the listed values of every move that lists them (``reason`` of ``not_accept``
    and of ``transfer``, ``decision`` of ``decide_recusal`` and ``decide_reveal``) and, where
    another move takes a text under the same name (``reason`` of ``request_reveal``), that text
    beside them (``anyOf``), the description saying which move takes which."""
    props = [(m, _property(f)) for m, f in uses]
    if all(p == props[0][1] for _m, p in props):
        return props[0][1]
    listed = [(m, p) for m, p in props if "enum" in p]
    texts = [(m, p) for m, p in props if "enum" not in p]
    if not listed:
        out = texts[0][1]
        for _m, p in texts[1:]:
            out = _merge(out, p)
        return out
    choice: dict[str, Any] = {"type": "string",
                              "enum": list(dict.fromkeys(v for _m, p in listed for v in p["enum"]))}
    parts = [f"{m.name}: one of {', '.join(p['enum'])}" + (f" ({p['description']})" if p.get("description") else "")
             for m, p in listed]
    if not texts:
        return {**choice, "description": "; ".join(parts)}
    text = texts[0][1]
    for _m, p in texts[1:]:
        text = _merge(text, p)
    parts.append(f"{', '.join(m.name for m, _p in texts)}: a text")
    return {"anyOf": [choice, text], "description": "; ".join(parts)}


def openapi_moves(spec: dict) -> dict:
    """The OpenAPI document with the staff move endpoint's list of moves, its request schema
    and its per-move description made from the table."""
    moves = staff_moves()
    path = spec["paths"]["/api/v1/desk/cases/{case_number}/{move}"]["post"]
    for p in path["parameters"]:
        if p.get("name") == "move":  # a $ref (the Idempotency-Key header) has no name
            p["schema"]["enum"] = [m.name for m in moves]
    lines = []
    for m in moves:
        parts = [f.name + ("" if f.required is True else "?") for f in m.fields]
        lines.append(f"{m.name}: {', '.join(parts) or '(no fields)'}")
    path["description"] = (
        "Send the version of the case as last read; if someone changed the case meanwhile the answer is "
        "409 with the current case. Fields per move (? optional or conditional): " + "; ".join(lines)
        + ". Other fields are ignored. The case (GET) lists under moves the fields of each move the caller "
        "may make now, with the values each choice offers on this case (units, handlers, sessions, reasons). "
        "A custodian, who sees no case content, decides a reveal request through POST /api/v1/desk/reveals/{request_id}.")
    uses: dict[str, list] = {}
    for m in moves:
        for f in m.fields:
            uses.setdefault(f.name, []).append((m, f))
    props: dict[str, Any] = {"version": {"type": "integer"}}
    props.update({name: _shared(taken) for name, taken in uses.items()})
    spec["components"]["schemas"]["MoveRequest"] = {"type": "object", "required": ["version"], "properties": props}
    return spec
