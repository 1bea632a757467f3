"""Statistics tasks: keep the rollups current and grade associations by risk.

Wired by workers/app.py like the search task; how often beat sends them is in
workers/schedule.py. The rollup refresh reads ``Case.updated_at`` against its watermark in the
database (no message carries the work), so a broker or worker that was down makes figures
late, never wrong; pages show when the figures were computed.
"""
from __future__ import annotations

from typing import Callable


def register(app, context: Callable) -> None:
    @app.task(name="changtong.refresh_stats", shared=False)
    def refresh_stats() -> dict:
        from casework.stats.rollup import refresh

        db, services = context()
        return {"months": refresh(db, services.clock)}

    @app.task(name="changtong.grade_risk", shared=False)
    def grade_risk() -> dict:
        from casework.stats.risk import grade_all

        db, services = context()
        return {"graded": grade_all(db, services.settings, services.clock)}
