"""gunicorn's logger, for ``logger_class`` in gunicorn.conf.py."""
from __future__ import annotations

import logging

from gunicorn import glogging


class Logger(glogging.Logger):
    """gunicorn's own, except that it builds no access line that ``gunicorn.access`` would drop.

    With ``logconfig_dict`` set, gunicorn makes every request's access atoms (a dict of some 30
    entries, the date formatted, the headers walked) and only then hands the line to a logger
    whose level throws it away: 2-5% of a worker's time on the short routes (issue 18). The
    app writes its own line per request (web.ops); gunicorn's is on only with
    ``CHANGTONG_GUNICORN_ACCESS_LOG=1``."""

    def access(self, resp, req, environ, request_time):
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)
