"""Retention tasks: erase the personal data of cases closed longer than the period
(casework.retention), which beat sends once a day, and delete staged uploads that never became
part of a case (casework.intake.operations.sweep_staged), hourly (workers/schedule.py). Wired by workers/app.py
like the statistics tasks; safe to run twice (an erased case is not looked at again)."""
from __future__ import annotations

from typing import Callable


def register(app, context: Callable) -> None:
    @app.task(name="changtong.erase_expired", shared=False)
    def erase_expired() -> dict:
        from casework.retention.operations import erase_expired as run

        db, services = context()
        return run(db, services).as_dict()

    @app.task(name="changtong.sweep_staged", shared=False)
    def sweep_staged() -> dict:
        """Staged uploads older than a day that never became part of a case: rows and files."""
        from casework.intake.operations import sweep_staged as run

        db, services = context()
        return {"deleted": run(db, services)}
