"""The case API's answers (``GET /api/v1/cases/<n>``), kept per process and made again at every
change of the case (issue 18).

Loading a case with its timeline through the ORM and presenting it was about 60% of that
route's time; the rest is the request itself and the code's check, which every answer still
does. An app or a mini-program polling its case asks the same question again and again, and
the answer changes only when the case does, when the reference data (the names of its
category, association and unit) does, or with the date. So the JSON is kept, bytes as sent,
under a key that says all of that:

* the case, by its code's stored hash (random per case: a database made again with the same
  ids holds other cases under them), and two stamps of its row read with that hash: the
  mapper's ``version``, which goes up at every write of the row through the ORM (every move,
  casework.workflow.machine.perform, and every mediation step write it), and ``updated_at``,
  which a Core UPDATE sets too (the deadline sweep's, through the column's ``onupdate``);
* the reference data's version (casework.reference, ``recent``: a change in another process is
  seen within a second, one made in this process at once);
* the language and the script root (the answer's titles and download paths);

and it is used only on the China calendar day it was made and for ``KEEP_SECONDS`` at most: the
deadlines in an answer end with a day, and a change that writes no case row (a file erased by
the retention sweep years after closing, raw SQL) is in the answer a minute later at most. The
case is loaded after its row, in the same transaction, so an answer is never older than its key.

The code is checked before the cache is asked, as always (casework.cases.queries.lookup_row):
an answer is reached only by the case's number with its right code, and the key holds the
code's keyed hash as stored, never the code. What is kept is what was sent to that requester a
moment before; the memory it takes is bounded (``MAX_BYTES``, least recently used first out)
and belongs to one app. Nothing is kept on disk.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Hashable

from flask import current_app

from casework.deadlines.calendar import china_date

KEEP_SECONDS = 60
MAX_BYTES = 4 * 1024 * 1024  # about 3,000 answers of a short case


@dataclass(frozen=True)
class Answer:
    body: bytes
    made: datetime  # the app's clock
    day: date  # the China calendar day it was made on


class Answers:
    """key -> Answer, least recently used first out past ``budget`` bytes."""

    def __init__(self, budget: int = MAX_BYTES, keep_seconds: float = KEEP_SECONDS):
        self._kept: OrderedDict[Hashable, Answer] = OrderedDict()
        self._bytes = 0
        self._budget = budget
        self._keep = keep_seconds
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> bytes | None:
        with self._lock:
            answer = self._kept.get(key)
            if answer is None:
                return None
            age = (now - answer.made).total_seconds()
            if 0 <= age < self._keep and china_date(now) == answer.day:
                self._kept.move_to_end(key)
                return answer.body
            self._drop(key)
            return None

    def put(self, key: Hashable, body: bytes, now: datetime) -> None:
        if len(body) > self._budget // 8:  # a very long timeline is made each time
            return
        with self._lock:
            self._drop(key)
            self._kept[key] = Answer(body, now, china_date(now))
            self._bytes += len(body)
            while self._bytes > self._budget:
                self._drop(next(iter(self._kept)))

    def _drop(self, key: Hashable) -> None:
        gone = self._kept.pop(key, None)
        if gone is not None:
            self._bytes -= len(gone.body)

    def __len__(self) -> int:
        return len(self._kept)


def answers() -> Answers:
    """The current app's kept answers."""
    app = current_app._get_current_object()
    kept = app.extensions.get("changtong.answers")
    if kept is None:
        kept = app.extensions.setdefault("changtong.answers", Answers())
    return kept
