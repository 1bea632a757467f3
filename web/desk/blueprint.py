"""The handler desk: its blueprint and the unit switcher every desk page shows. The modules of
web/desk/ take bp from here; web/desk/__init__.py imports them."""
from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.context_processor
def _desk_nav():
    """The unit switcher: the units this user works, and triage for a triage operator."""
    from flask import g

    from casework.accounts.actor import Actor
    from casework.accounts.models import Role
    from casework.accounts.permissions import can_use_desk

    from web.presenters import association_name, local_time

    helpers = {"local_time": local_time, "association_name": association_name}
    user = g.get("staff_user")
    if user is None:
        return {"desk_units": [], "desk_triage": False, **helpers}
    units = {m.unit_id: m.unit for m in user.memberships if m.role in (Role.handler, Role.unit_lead)}
    return {
        "desk_units": [units[k] for k in sorted(units)],
        "desk_triage": any(m.role is Role.triage_operator for m in user.memberships),
        "desk_supervisor": any(m.role is Role.supervisor for m in user.memberships),
        # case search and the number box: not for a custodian or an administrator alone (they were
        # offered both and each answered "not allowed")
        "desk_cases": can_use_desk(Actor.staff(user)),
        **helpers,
    }
