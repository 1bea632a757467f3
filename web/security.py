"""Response headers every page carries, and a log filter that keeps query strings out."""
from __future__ import annotations

import logging
import re

from casework.logs import redact  # personal data in a logged path is masked too

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# what every answer carries unless its view set the header itself
_EVERY_ANSWER = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CSP),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
))


def init_app(app) -> None:
    from flask import abort, request

    @app.before_request
    def _no_nul_bytes():
        """A NUL byte in a query or form value is never typed by a person, and PostgreSQL
        refuses it in a text parameter (a 500 wherever it reached a query): refuse it here, once."""
        for values in (request.args, request.form if request.mimetype in _FORMS else {}):
            if any("\x00" in v for v in values.values()):
                abort(400)

    @app.after_request
    def _headers(resp):
        h = resp.headers
        have = set(h.keys(lower=True))  # one pass over the answer's headers, not one a header
        h.extend([(name, value) for lower, name, value in _EVERY_ANSWER if lower not in have])
        # every answer but the static assets and what a view marks public may hold case or
        # personal data (pages, API answers, files, errors, redirects): nothing keeps a copy
        if request.endpoint != "static" and not resp.cache_control.public:
            resp.headers["Cache-Control"] = "no-store"
        return resp


_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# the request line as werkzeug passes it ("GET /path?q=… HTTP/1.1", an argument of the record,
# without the quotes of the format) or quoted in a finished line
_QUERY = re.compile(r"(\"?[A-Z]+ [^ ?\"]*)\?[^ \"]*")


class RedactFilter(logging.Filter):
    """Access logs keep the path, not the query string (type-ahead text is not logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(_QUERY.sub(r"\1?…", a)) if isinstance(a, str) else a for a in record.args)
        return True
