"""The beat schedule is one table (workers/schedule.py) built from Settings: one entry per
periodic task, each at the interval its setting gives, the frequent ones dropped when stale."""
from __future__ import annotations

from dataclasses import fields

import pytest

from casework.settings import Settings, new_key
from workers.schedule import SCHEDULE, STALE_AFTER, beat_schedule

# the tasks beat never sends: the dispatch fans a backlog out to them
ON_DEMAND = {"changtong.send_outbox_batch", "changtong.send_outbox_message"}
# what beat sent before the table (entry: task, seconds by default, expires)
BEFORE = {
    "dispatch-outbox": ("changtong.dispatch_outbox", 5.0, 10.0),
    "sweep-deadlines": ("changtong.sweep_deadlines", 300.0, None),
    "index-search": ("changtong.index_search", 10.0, 20.0),
    "refresh-stats": ("changtong.refresh_stats", 60.0, None),
    "grade-risk": ("changtong.grade_risk", 3600.0, None),
    "erase-expired": ("changtong.erase_expired", 86400.0, None),
    "sweep-staged": ("changtong.sweep_staged", 3600.0, None),  # issue 17, 4
}


def settings_from(tmp_path, **env) -> Settings:
    return Settings.from_env({"CHANGTONG_SECRET_KEY": "s", "CHANGTONG_PII_KEY": new_key(),
                              "CHANGTONG_QUERY_PEPPER": new_key(), "CHANGTONG_DATA_DIR": str(tmp_path), **env})


def entries(schedule: dict) -> dict:
    return {name: (e["task"], e["schedule"], e.get("options", {}).get("expires")) for name, e in schedule.items()}


@pytest.fixture
def celery(tmp_path):
    from workers.app import make_celery

    return make_celery(settings_from(tmp_path, CHANGTONG_DISPATCH_SECONDS="2", CHANGTONG_SWEEP_SECONDS="30",
                                     CHANGTONG_SEARCH_SECONDS="3", CHANGTONG_STATS_SECONDS="40",
                                     CHANGTONG_RISK_SECONDS="500", CHANGTONG_RETENTION_SECONDS="600",
                                     CHANGTONG_STAGED_SECONDS="700"))


def test_the_defaults_are_what_beat_sent_before(tmp_path):
    assert entries(beat_schedule(settings_from(tmp_path))) == BEFORE


def test_the_app_schedules_each_periodic_task_once_at_its_settings_interval(celery):
    assert entries(celery.conf.beat_schedule) == {
        "dispatch-outbox": ("changtong.dispatch_outbox", 2.0, 4.0),
        "sweep-deadlines": ("changtong.sweep_deadlines", 30.0, None),
        "index-search": ("changtong.index_search", 3.0, 6.0),
        "refresh-stats": ("changtong.refresh_stats", 40.0, None),
        "grade-risk": ("changtong.grade_risk", 500.0, None),
        "erase-expired": ("changtong.erase_expired", 600.0, None),
        "sweep-staged": ("changtong.sweep_staged", 700.0, None),
    }
    ours = {name for name in celery.tasks if name.startswith("changtong.")}
    scheduled = [row.task for row in SCHEDULE]
    assert len(scheduled) == len(set(scheduled)) and len(SCHEDULE) == len({row.name for row in SCHEDULE})
    assert set(scheduled) <= ours, "a scheduled task that no module defines"
    assert ours - set(scheduled) == ON_DEMAND, "a task neither in the schedule nor sent on demand"


def test_each_row_reads_a_seconds_setting():
    seconds = {f.name for f in fields(Settings) if f.name.endswith("_seconds")}
    for row in SCHEDULE:
        assert row.interval in seconds, f"{row.name}: {row.interval} is not a Settings field"
    assert STALE_AFTER == 2


def test_the_task_modules_leave_the_schedule_alone(tmp_path):
    from celery import Celery

    from workers import retention_tasks, search_tasks, stats_tasks

    app = Celery("schedule-test")
    for module in (search_tasks, stats_tasks, retention_tasks):
        module.register(app, lambda: None)
    assert not app.conf.beat_schedule


def test_the_worker_waits_for_the_broker_however_long_it_is_down(tmp_path):
    """Celery's default gives up after 100 retries (about 45 minutes) and the worker exits: a
    Redis outage longer than that left the notices unsent until someone restarted it. None is
    forever; kombu 5.7 reads 0 as never retry."""
    from workers.app import make_celery

    app = make_celery(settings_from(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    assert app.conf.broker_connection_max_retries is None
    assert app.conf.broker_connection_retry_on_startup is True
