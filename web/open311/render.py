"""Open311 answers: the format from the path (.json or .xml), the language from the request,
errors as Open311 error lists, and the blueprint's error handlers.

XML is written with ElementTree (output only: nothing here parses XML). Element names follow
GeoReport v2: a list is written as its plural element holding one singular element per item
(``<services><service>``, ``<service_requests><request>``, ``<errors><error>``)."""
from __future__ import annotations

import functools
import json
import logging
import re
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from casework.cases.numbers import CHINA
from casework.db import as_utc
from web.errors import discard_request_session
from web.extensions import LOCALES
from web.open311.blueprint import bp

log = logging.getLogger("changtong.web")

FORMATS = ("json", "xml")
XML_TYPE = "application/xml; charset=utf-8"
JSON_TYPE = "application/json"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
RETRY_AFTER = 5

# the singular element of each list, as GeoReport v2 and Service Discovery name them
ITEM = {
    "services": "service", "attributes": "attribute", "values": "value",
    "service_requests": "request", "errors": "error", "endpoints": "endpoint", "formats": "format",
}
# characters XML 1.0 cannot carry at all (ElementTree would write them and break the document)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fill(el: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(el, key), key, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _fill(ET.SubElement(el, ITEM[name]), ITEM[name], item)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = _NOT_XML.sub("", str(value))


def to_xml(root: str, value: Any) -> bytes:
    el = ET.Element(root)
    _fill(el, root, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode").encode("utf-8")


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """``value`` in JSON, or in XML under the element ``root``."""
    if fmt == "json":
        return Response(json.dumps(value, ensure_ascii=False), status=status, mimetype=JSON_TYPE)
    return Response(to_xml(root, value), status=status, content_type=XML_TYPE)


def cacheable(resp: Response, seconds: int = 300) -> Response:
    """Public data (the service list and definitions): a client or proxy may keep it a while;
    the language follows Accept-Language."""
    resp.cache_control.public = True
    resp.cache_control.max_age = seconds
    resp.vary.add("Accept-Language")
    return resp


def error_response(fmt: str, status: int, descriptions: list[str]) -> Response:
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)


def iso(dt) -> str | None:
    """ISO 8601 with the offset, in China's time zone (2026-11-27T16:10:00+08:00)."""
    return None if dt is None else as_utc(dt).astimezone(CHINA).isoformat(timespec="seconds")


# -- language: ?locale= (or a form field), else Accept-Language, else Simplified Chinese --------

def _asked_locale() -> str:
    raw = request.args.get("locale", "")
    if not raw and request.method == "POST" and request.mimetype in FORM_TYPES:
        try:
            raw = request.form.get("locale", "")
        except HTTPException:  # a body too large to read: the header decides
            raw = ""
    return raw.strip().lower().replace("-", "_")


def pick_locale() -> str:
    """No cookie is consulted: an Open311 client sends none."""
    if "open311_locale" not in g:
        raw = _asked_locale()
        if raw.startswith("en"):
            g.open311_locale = "en"
        elif raw.startswith("zh"):
            g.open311_locale = "zh_CN"
        else:
            g.open311_locale = request.accept_languages.best_match(LOCALES, "zh_CN")
    return g.open311_locale


def localized(view):
    """Run a view in the request's language (the site's cookie-based choice does not apply)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with force_locale(pick_locale()):
            return view(*args, **kwargs)

    return wrapper


def request_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "json" if request.path.endswith(".json") else "xml"  # XML is the spec's default


# -- errors inside the facade answer as Open311 errors, never as an HTML page ----------------

def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        404: _("Not found. The service list is at /open311/v2/services.xml (or .json)."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Nothing you sent was lost if you saw a case number; otherwise please try again."),
        503: _("The service is briefly unavailable. Please send the same request again, with the same Idempotency-Key, in a few seconds."),
    }


def http_error(err: HTTPException) -> Response:
    from web.request_limits import NestedTooDeep, too_deep_message

    if err.response is not None:  # made already, e.g. the lookup budget's 429 with its Retry-After
        return err.response
    code = err.code or 500
    with force_locale(pick_locale()):
        message = too_deep_message() if isinstance(err, NestedTooDeep) else _messages().get(code)
        resp = error_response(request_format(), code, [message or err.description or str(code)])
    if code == 405 and getattr(err, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(err.valid_methods)
    return resp


@bp.errorhandler(HTTPException)
def _http(err: HTTPException):
    return http_error(err)


@bp.errorhandler(Exception)
def _unexpected(err: Exception):
    """A lost database answers 503 with Retry-After (the client resends; the Idempotency-Key
    keeps it from filing twice); anything else 500. Logged without the request's data."""
    lost = isinstance(err, (OperationalError, DisconnectionError)) or (
        isinstance(err, DBAPIError) and bool(getattr(err, "connection_invalidated", False)))
    if lost:
        discard_request_session()
        log.warning("database unavailable on %s %s", request.method, request.path)
        code = 503
    else:
        log.exception("unhandled error on %s %s", request.method, request.path)
        code = 500
    with force_locale(pick_locale()):
        resp = error_response(request_format(), code, [_messages()[code]])
    if code == 503:
        resp.headers["Retry-After"] = str(RETRY_AFTER)
    return resp
