"""Supervision (督办): the dashboard of figures, the overdue list with escalation levels, the
risk grades and spot-check list, and their exports. Supervisors only."""
from flask import Blueprint

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


@bp.context_processor
def _helpers():
    from web.presenters import local_time

    return {"local_time": local_time, "desk_supervisor": True}


from web.supervise import views  # noqa: E402,F401
