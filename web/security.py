"""Response headers every page carries, a log filter that keeps query strings out, and whether
a request says it came from this site's own pages."""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import request

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
    from flask import abort

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


def sent_from_this_site() -> bool:
    """The browser says the request came from one of this site's pages: ``Sec-Fetch-Site``
    same-origin (or none: typed, a bookmark), else an ``Origin`` of the site's own address; a
    request that says neither (an old browser, a test client) is taken as this site's."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    from web.requestdb import services

    own = urlsplit(services().settings.base_url)
    return origin.rstrip("/") in (f"{own.scheme}://{own.netloc}", request.host_url.rstrip("/"))
