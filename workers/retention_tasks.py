"""Retention task: erase the personal data of cases closed longer than the period
(casework.retention); beat sends it once a day (workers/schedule.py). Wired by workers/app.py
like the statistics tasks; safe to run twice (an erased case is not looked at again)."""
from __future__ import annotations

from typing import Callable


def register(app, context: Callable) -> None:
    @app.task(name="changtong.erase_expired", shared=False)
    def erase_expired() -> dict:
        from casework.retention.operations import erase_expired as run

        db, services = context()
        return run(db, services).as_dict()
