"""Statistics tasks: keep the rollups current and grade associations by risk.

Wired by workers/app.py like the search task. The rollup refresh reads ``Case.updated_at``
against its watermark in the database (no message carries the work), so a broker or worker
that was down makes figures late, never wrong; pages show when the figures were computed.
"""
from __future__ import annotations

import os
from typing import Callable

STATS_SECONDS = float(os.environ.get("CHANGTONG_STATS_SECONDS", "60"))
RISK_SECONDS = float(os.environ.get("CHANGTONG_RISK_SECONDS", "3600"))


def register(app, context: Callable) -> None:
    @app.task(name="changtong.refresh_stats")
    def refresh_stats() -> dict:
        from casework.stats.rollup import refresh

        db, services = context()
        return {"months": refresh(db, services.clock)}

    @app.task(name="changtong.grade_risk")
    def grade_risk() -> dict:
        from casework.stats.risk import grade_all

        db, services = context()
        return {"graded": grade_all(db, services.settings, services.clock)}

    app.conf.beat_schedule.setdefault(
        "refresh-stats", {"task": "changtong.refresh_stats", "schedule": STATS_SECONDS})
    app.conf.beat_schedule.setdefault(
        "grade-risk", {"task": "changtong.grade_risk", "schedule": RISK_SECONDS})
