"""Retention task: once a day, erase the personal data of cases closed longer than the
period (casework.retention). Wired by workers/app.py like the statistics tasks; safe to run
twice (an erased case is not looked at again)."""
from __future__ import annotations

import os
from typing import Callable

RETENTION_SECONDS = float(os.environ.get("CHANGTONG_RETENTION_SECONDS", str(24 * 3600)))


def register(app, context: Callable) -> None:
    @app.task(name="changtong.erase_expired")
    def erase_expired() -> dict:
        from casework.retention.operations import erase_expired as run

        db, services = context()
        return run(db, services).as_dict()

    app.conf.beat_schedule.setdefault(
        "erase-expired", {"task": "changtong.erase_expired", "schedule": RETENTION_SECONDS})
