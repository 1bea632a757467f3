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
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
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
