"""Structured logs: one JSON object per line, and a redaction filter as a safety net.

The web (under gunicorn, through gunicorn.conf.py's ``logconfig_dict``) and the Celery
workers (through their logging signals) write every record as a JSON line::

    {"ts": "2026-11-27T08:00:00.123Z", "level": "INFO", "logger": "changtong.request",
     "message": "GET /track/<number> 200", "pid": 12, "request_id": "…", "method": "GET",
     "endpoint": "/track/<number>", "status": 200, "duration_ms": 4.2}

Only the fields named in FIELDS leave a record's ``extra``; anything else a library attaches
(Celery puts a task's arguments in ``data``) is not written. Code never logs personal data;
``redact`` is the net under that rule: mainland mobile numbers, e-mail addresses, 18-digit
resident ID numbers and query codes are masked in every message, argument, traceback and
field. Nothing here configures logging on import: callers opt in (tests keep pytest's
``caplog``), and ``CHANGTONG_LOG_FORMAT=text`` keeps plain lines (still redacted).
"""
from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timezone

# request and task fields a record may carry (logger.info(..., extra={...}))
FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms",
          "task", "task_id", "outcome", "runtime_ms")

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_PATTERNS = (
    # 18-digit resident ID number: region, birth date, sequence, check digit (0-9 or X)
    ("[id]", re.compile(r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                        + _NOT_ALNUM_AFTER)),
    # mainland mobile number, with or without +86 / 86 and separators between the groups
    ("[phone]", re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")),
    ("[email]", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    # query code: 16 Crockford base32 characters in four groups (7K3M-Q9XD-2HWT-RB4N), or run
    # together (as normalised) with letters and digits mixed (plain words are left alone)
    ("[code]", re.compile(_NOT_ALNUM_BEFORE + r"[0-9A-Za-z]{4}(?:[-_][0-9A-Za-z]{4}){3}" + _NOT_ALNUM_AFTER)),
    ("[code]", re.compile(_NOT_ALNUM_BEFORE + r"(?=[0-9A-Za-z]{0,15}\d)(?=[0-9A-Za-z]{0,15}[A-Za-z])"
                          r"[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{16}" + _NOT_ALNUM_AFTER)),
)


# what every pattern above needs somewhere in a text: four digits in a row (an ID number, each
# group of a mobile number), an "@", four letters or digits before a dash or underscore (a grouped
# query code) or sixteen in a row (a code run together). A text without any of these (most request
# lines: "GET /api/v1/cases 201") has nothing to mask, and one search tells so (issue 18). A pattern
# added above must match only texts this finds: widen it with the pattern (and the test's pieces
# in tests/web/test_ops.py, which compares the two on generated texts)
_MAYBE = re.compile(r"\d{4}|@|[0-9A-Za-z]{4}[-_]|[0-9A-Za-z]{16}")


def redact(text: str) -> str:
    if _MAYBE.search(text) is None:
        return text
    for mask, pattern in _PATTERNS:
        text = pattern.sub(mask, text)
    return text


def _clean(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


def _as_is(value):
    return value


class RedactFilter(logging.Filter):
    """Renders the record's message once, masked; attach it to a handler (a filter on a
    logger does not see records that propagate from its children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what can be kept, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        record.changtong_masked = True  # the formatters need not mask this record again
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # the masked text stands for it
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name in FIELDS:
            if hasattr(record, name):
                setattr(record, name, _clean(getattr(record, name)))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; masks again whatever reaches it (a handler without the
    filter still writes nothing it should not)."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg} {record.args!r}"
        clean = _as_is if getattr(record, "changtong_masked", False) else _clean
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": clean(message),
            "pid": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = clean(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """CHANGTONG_LOG_FORMAT=text: a readable line, masked the same way."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if getattr(record, n, None) is not None)
        return redact(f"{line} {extra}" if extra else line)


# CHANGTONG_LOG_FORMAT and CHANGTONG_LOG_LEVEL are read from the environment when logging is set
# up, not from Settings: gunicorn.conf.py configures the master's logging before the app (and
# the secrets Settings needs) is loaded, and a Celery worker sets up its logging before any task.
# Read when called, never at import (tests/test_settings_env.py allows these two names only).
def formatter_class() -> type[logging.Formatter]:
    return TextFormatter if os.environ.get("CHANGTONG_LOG_FORMAT", "json").lower() == "text" else JsonFormatter


def level() -> str:
    return os.environ.get("CHANGTONG_LOG_LEVEL", "INFO").upper()


def dict_config(stream: str = "ext://sys.stderr") -> dict:
    """A logging.config.dictConfig for a process whose logs are all JSON lines (gunicorn's
    ``logconfig_dict`` takes it as it is)."""
    handler = {"class": "logging.StreamHandler", "formatter": "changtong", "filters": ["redact"],
               "stream": stream}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactFilter}},
        "formatters": {"changtong": {"()": formatter_class()}},
        "handlers": {"changtong": handler},
        "root": {"level": level(), "handlers": ["changtong"]},
        "loggers": {},
    }


def apply_to(logger: logging.Logger) -> None:
    """Make the handlers another framework set up on ``logger`` (Celery's) write our lines."""
    fmt = formatter_class()()
    for handler in logger.handlers:
        handler.setFormatter(fmt)
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
