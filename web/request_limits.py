"""What a request may be before any work is done on it (issue 17, items 2 and 10): its size,
per route, checked before the body is read; the nesting depth of a JSON body, checked before
``json.loads`` recurses; the size of an id, in the path (the ``int`` converter) and in a query
string (``as_id``), so that the database never sees a number it cannot hold."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import abort, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# the largest id the tables hold: their ids are PostgreSQL integers (2^31 - 1; a larger number
# is "integer out of range" there, and past 2^63 - 1 an overflow in SQLite)
MAX_ID = 2**31 - 1
# every POST but the uploads: the longest legitimate form (a 10,000-character reply and a
# 5,000-character internal note in Chinese, URL-encoded: 9 bytes a character) is about 135 KB
SMALL_REQUEST_BYTES = 256 * 1024
# a JSON body nested deeper than this is refused (400) before it is parsed; the deepest the API
# takes is 3 (a move's files: an object holding a list of objects)
JSON_MAX_DEPTH = 32
_DIGITS = re.compile(r"[0-9]{1,10}")
_SPECIAL = re.compile(rb'["\\\[\]{}]')


class IdConverter(IntegerConverter):
    """``<int:…>`` with an upper bound: a number beyond what the database holds is a 404 (no
    such page), never an overflow inside the query."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def as_id(raw: Any) -> int | None:
    """A positive id from a query string or a form (ASCII digits, at most MAX_ID), else None."""
    raw = str(raw or "").strip()
    if not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


class JSONTooDeep(ValueError):
    pass


class NestedTooDeep(BadRequest):
    """A JSON body nested deeper than JSON_MAX_DEPTH, refused before any view parses it: the
    error handlers answer it with too_deep_message()."""


def too_deep(raw: bytes, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than ``limit``, without parsing (a hostile
    nesting cannot exhaust the parser's recursion). Linear: the bytes are searched in C for
    the few that matter (quotes, backslashes, brackets), and most bodies have fewer than
    ``limit`` brackets at all."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, skip = 0, False, -1
    for m in _SPECIAL.finditer(raw):
        at = m.start()
        if at == skip:  # the character after a backslash in a string
            continue
        ch = raw[at]
        if in_string:
            if ch == 0x5C:  # backslash
                skip = at + 1
            elif ch == 0x22:
                in_string = False
        elif ch == 0x22:
            in_string = True
        elif ch in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif ch in (0x5D, 0x7D):
            depth -= 1
    return False


def loads(raw: bytes | str) -> Any:
    """``json.loads`` for request bodies: a body nested deeper than JSON_MAX_DEPTH raises
    JSONTooDeep (a ValueError, so callers answer it as they answer malformed JSON: 400)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if too_deep(data):
        raise JSONTooDeep(f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except RecursionError as exc:  # not reached after the check; kept as the last net
        raise JSONTooDeep("JSON nested too deeply") from exc


def upload_limits(settings) -> dict[str, int]:
    """The routes that take files, and the largest body each may be: their files at their
    limits, and 1 MB for the form around them."""
    from web.admin.registry import IMPORT_MAX_BYTES

    files = settings.max_files * settings.max_file_bytes + 2**20
    as_json = settings.max_files * (settings.max_file_bytes // 3 + 1) * 4 + 2**20  # base64 in a JSON body
    return {
        # the filing form reads up to the whole request's ceiling: a file over its own limit is
        # refused with the form kept (422), not with a bare 413
        "public.file_submit": settings.max_request_bytes,
        "admin.association_import": IMPORT_MAX_BYTES + 2**20,
        # the moves that take files (Kind.files): evidence after filing, a reply's documents
        "public.public_move": files,
        "public.respond_move": files,  # the respondent's written statement (书面意见) with its files
        "desk.case_move": files,
        "api.case_action": as_json,
        # a case filed through the JSON API: an agent's power of attorney as base64 (issue 19)
        "api.create_case": (settings.max_file_bytes // 3 + 1) * 4 + 2**20,
        "desk_api.make_move": as_json,
    }


# the APIs take files as base64 in JSON; the browser forms take them as multipart
JSON_APIS = ("api.", "desk_api.")


def route_limit(endpoint: str | None, mimetype: str, limits: dict[str, int]) -> int:
    """An upload route's limit for the body its files come in (multipart from a form, JSON to
    an API: werkzeug reads a URL-encoded body whole), SMALL_REQUEST_BYTES for anything else.
    ``limits``: upload_limits of the app's settings, each at most its max_request_bytes."""
    endpoint = endpoint or ""
    limit = limits.get(endpoint)
    json_api = endpoint.startswith(JSON_APIS)
    if limit is None or mimetype != ("application/json" if json_api else "multipart/form-data"):
        return SMALL_REQUEST_BYTES
    return limit


def init_app(app, settings) -> None:
    """Before the blueprints are registered (their ``<int:…>`` rules take this converter) and
    before any other request hook (the CSRF check reads the form)."""
    app.url_map.converters["int"] = IdConverter
    # made once: the settings do not change while the app runs
    limits = {endpoint: min(limit, settings.max_request_bytes) for endpoint, limit in upload_limits(settings).items()}
    largest = max([SMALL_REQUEST_BYTES, *limits.values()])
    app.config.update(MAX_CONTENT_LENGTH=min(largest, settings.max_request_bytes),
                      MAX_FORM_MEMORY_SIZE=SMALL_REQUEST_BYTES)  # each text part of a multipart form

    @app.before_request
    def _limit_the_body():
        limit = route_limit(request.endpoint, request.mimetype, limits)
        request.max_content_length = limit  # also bounds a body sent without Content-Length
        g.request_limit = limit
        if request.content_length is not None and request.content_length > limit:
            abort(413)
        if request.is_json and request.method in ("POST", "PUT", "PATCH"):
            body = request.get_data()  # cached for the view
            # whichever view parses it (a later one too): never a RecursionError. A larger body
            # (files as base64 to an API) is checked by the view, after its code or token
            if len(body) <= SMALL_REQUEST_BYTES and too_deep(body):
                raise NestedTooDeep()


def too_deep_message() -> str:
    from flask_babel import gettext as _

    return _("The request body is nested too deeply (at most %(n)d levels).", n=JSON_MAX_DEPTH)


def read_json_object(not_json: str) -> tuple[dict | None, tuple[int, Any] | None]:
    """The JSON APIs' reading of a body: (the request's JSON object, None), or (None, (status,
    what to answer)): 415 and ``not_json`` when it was not sent as JSON (a cross-site form cannot
    send it), 400 and a message when it is not JSON or nested too deep, 422 and the errors
    (``__all__``) when it is JSON but not an object."""
    from flask_babel import gettext as _

    if not request.is_json:
        return None, (415, not_json)
    try:
        data = loads(request.get_data(cache=False) or b"")
    except JSONTooDeep:
        return None, (400, too_deep_message())
    except (ValueError, UnicodeDecodeError):
        return None, (400, _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        return None, (422, {"__all__": [_("The request must be a JSON object.")]})
    return data, None
