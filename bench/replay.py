"""The case API's answer replayed, for ``bench/side.py --replay``: what gunicorn and a worker of
Changtong's size cost around an answer of this shape, with none of the work that makes it.

The process imports the real app (``web.wsgi``: the same modules, dictionaries, calendar and
collector's frozen generation as a Changtong worker), but gunicorn serves a one-route Flask app
that answers ``GET /api/v1/cases/<n>`` with the status, headers and body the real route gave for
the run's case, read from ``REPLAY_FILE`` (JSON: ``{"status": 200, "headers": [[k, v], ...],
"body": "<hex>"}``, written by side.py after the case is filed). Its share of the bare route
tells whether the answer's size and headers, or the process's size, cost anything beside the
route's own work. Never part of the product.
"""
from __future__ import annotations

import json
import os
from functools import cache

from flask import Flask, Response

from web.wsgi import app as _changtong  # noqa: F401  (the worker's size and what it loads)

app = Flask(__name__)


@cache
def _answer() -> tuple[int, list, bytes]:
    with open(os.environ["REPLAY_FILE"], encoding="utf-8") as fh:
        kept = json.load(fh)
    return kept["status"], [tuple(h) for h in kept["headers"]], bytes.fromhex(kept["body"])


@app.get("/api/v1/cases/<number>")
def case(number: str):
    status, headers, body = _answer()
    return Response(body, status=status, headers=headers)


@app.get("/healthz")
def healthz():
    return "ok"
