"""The beat schedule: every periodic task, in one table, its interval read from Settings.

One row per periodic task: the beat entry's name, the Celery task it sends, the Settings field
holding its interval in seconds, and whether a run still queued goes stale. The task modules
only define tasks; `make_celery` installs `beat_schedule(settings)`.

Stale runs: a run still queued when the next one is due is dropped (it expires after two
intervals). Each of these runs does all that is due (the outbox's due messages, everything
since the search watermark), so a run that waited is worth nothing once a newer one exists;
kept, runs that take longer than their interval (indexing under load) pile up in the one
queue and notices wait behind them. The other tasks run rarely enough not to pile up.
"""
from __future__ import annotations

from dataclasses import dataclass

from casework.settings import Settings

STALE_AFTER = 2  # intervals after which a queued run of a `stale` task expires


@dataclass(frozen=True)
class Periodic:
    name: str  # the beat entry
    task: str  # the Celery task it sends
    interval: str  # the Settings field with the seconds between runs
    stale: bool = False  # a queued run expires after STALE_AFTER intervals


SCHEDULE: tuple[Periodic, ...] = (
    #        entry              task                         interval (Settings)   stale
    Periodic("dispatch-outbox", "changtong.dispatch_outbox", "dispatch_seconds", stale=True),
    Periodic("sweep-deadlines", "changtong.sweep_deadlines", "sweep_seconds"),
    Periodic("index-search", "changtong.index_search", "search_seconds", stale=True),
    Periodic("refresh-stats", "changtong.refresh_stats", "stats_seconds"),
    Periodic("grade-risk", "changtong.grade_risk", "risk_seconds"),
    Periodic("erase-expired", "changtong.erase_expired", "retention_seconds"),
    Periodic("sweep-staged", "changtong.sweep_staged", "staged_seconds"),
)


def beat_schedule(settings: Settings) -> dict[str, dict]:
    """Celery's ``beat_schedule`` for these settings."""
    schedule = {}
    for row in SCHEDULE:
        seconds = getattr(settings, row.interval)
        entry: dict = {"task": row.task, "schedule": seconds}
        if row.stale:
            entry["options"] = {"expires": STALE_AFTER * seconds}
        schedule[row.name] = entry
    return schedule
