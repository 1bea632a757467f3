"""Administration of units: the list (with how many staff each has), adding a unit, editing
one (its code stays), taking it out of use."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select

from casework.accounts.models import Membership, User
from casework.registry import units as ops
from casework.registry.models import Association, Unit, UnitKind
from web.admin.blueprint import bp
from web.presenters import unit_title
from web.admin.common import carry_change, form_values
from web.auth import current_actor
from web.i18n import title, tr_errors
from web.requestdb import db_session

FLAGS = ("lead_approves_not_accept", "people_mediation_committee", "active")


def _unit(code: str) -> Unit:
    return db_session().scalar(select(Unit).where(Unit.code == code)) or abort(404)


@bp.get("/units")
def units():
    kind = request.args.get("kind", "")
    rows = ops.unit_list(db_session())
    by_id = {u.id: u for u, _n in rows}  # each unit's supervising unit, without a query per row
    if kind in UnitKind._value2member_map_:
        rows = [(u, n) for u, n in rows if u.kind.value == kind]
    return render_template("admin/units.html", rows=rows, kind=kind, kinds=_kinds(),
                           supervisor_of=lambda u: by_id.get(u.supervising_unit_id),
                           unsupervised=ops.escalates_to_nobody)


def _kinds():
    return [(k.value, title(k)) for k in UnitKind]


def _unit_page(values, errors=None, unit=None, status=200):
    session = db_session()
    members = []
    association = None
    if unit is not None:
        members = session.execute(select(User, Membership).join(Membership, Membership.user_id == User.id)
                                  .where(Membership.unit_id == unit.id).order_by(User.username)).all()
        if unit.association_id:
            association = session.get(Association, unit.association_id)
    others = session.scalars(select(Unit).order_by(Unit.code)).all()
    return render_template("admin/unit_form.html", unit=unit, values=values, errors=errors or {},
                           unsupervised=unit is not None and ops.escalates_to_nobody(unit),
                           kinds=_kinds(), members=members, association=association,
                           supervisors=[(u.code, f"{unit_title(u)} ({u.code})") for u in others
                                        if unit is None or u.id != unit.id]), status


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new():
    if request.method == "GET":
        return _unit_page({"active": "1", "region_code": "100000"})
    session = db_session()
    values = form_values(ops.FIELDS, flags=FLAGS)
    checked, errors = ops.check_unit(session, values)
    if errors:
        return _unit_page(values, tr_errors(errors), status=422)
    change = ops.create_unit(session, current_actor(), checked)
    carry_change(change)
    return redirect(url_for("admin.unit_edit", code=checked.code), code=303)


@bp.route("/units/<code>", methods=["GET", "POST"])
def unit_edit(code: str):
    unit = _unit(code)
    if request.method == "GET":
        return _unit_page(ops.form_values(unit), unit=unit)
    session = db_session()
    values = form_values(ops.FIELDS, flags=FLAGS)
    values["code"] = unit.code
    checked, errors = ops.check_unit(session, values, unit)
    if errors:
        return _unit_page(values, tr_errors(errors), unit, status=422)
    change = ops.update_unit(session, current_actor(), unit, checked)
    carry_change(change)
    return redirect(url_for("admin.unit_edit", code=unit.code), code=303)
