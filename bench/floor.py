"""The case API's floor, for ``bench/side.py --floor``: ``GET /api/v1/cases/<n>`` as the real
route runs it (the request hooks, the rate limit and its exemption of a right code, the code's
row, the keyed hash, the transaction, the JSON answer), except that the case is neither loaded
nor presented: the answer is its id alone.

What this route serves per second is the most any loading and presenting of the case could
leave: a share of the bare route that this floor does not reach cannot be reached by making the
case's loading or its presenter cheaper. Served by gunicorn as ``bench.floor:app``; never part of
the product.

Since the twenty-first session the real route keeps its answer per process (web/api/answers.py)
and, asked again, neither loads nor presents the case either: the two rows are then the same
work, and the floor says what the code's check and the request cost.
"""
from __future__ import annotations

from types import SimpleNamespace

from casework.cases import queries
from web.api import public
from web.wsgi import app  # noqa: F401  (what gunicorn serves)


def _not_loaded(session, case_id: int, **_):
    return SimpleNamespace(id=case_id)


queries._load_shown = _not_loaded  # the view's lookup finds the code's row, then stops
public._public = lambda case: {"id": case.id}  # and answers without the presenter
