"""The supervision pages: their blueprint. The modules of web/supervise/ take it from here to add
their routes, and web/supervise/__init__.py imports them: the package and its modules do not
import each other."""
from flask import Blueprint

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


@bp.context_processor
def _helpers():
    from web.presenters import local_time

    return {"local_time": local_time, "desk_supervisor": True}
