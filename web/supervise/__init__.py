"""Supervision (督办): the dashboard of figures, the overdue list with escalation levels, the
risk grades and spot-check list, and their exports. Supervisors only."""
from web.supervise.blueprint import bp  # noqa: F401

from web.supervise import views  # noqa: F401
