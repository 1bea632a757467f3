"""Administration of staff accounts: the list, a new account with its first role (the
initial password set by the administrator, or generated and shown once), disabling and
enabling, roles per unit, a new password."""
from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from casework.accounts import operations as ops
from casework.accounts.models import Membership, PendingGrant, Role, User
from casework.i18n import Message, N_
from casework.registry.models import Unit
from web.admin.blueprint import bp
from web.admin.common import carry_change, form_values
from web.auth import current_actor
from web.i18n import title, tr, tr_errors
from web.requestdb import db_session

NEW_FIELDS = ("username", "display_name", "password", "unit", "role")


def _user(user_id: int) -> User:
    return db_session().get(User, user_id) or abort(404)


def _roles():
    return [(r.value, title(r)) for r in Role]


def _units():
    return db_session().scalars(select(Unit).where(Unit.active).order_by(Unit.code)).all()


@bp.get("/users")
def users():
    session = db_session()
    query = select(User).order_by(User.active.desc(), User.username)
    unit_code = request.args.get("unit", "")
    unit = session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if unit is not None:
        query = query.where(User.id.in_(select(Membership.user_id).where(Membership.unit_id == unit.id)))
    return render_template("admin/users.html", users=session.scalars(query).all(), units=_units(), shown=unit_code)


def _new_page(values, errors=None, status=200):
    return render_template("admin/user_new.html", values=values, errors=errors or {}, units=_units(),
                           roles=_roles()), status


def _shown_once(user: User, password: str, heading: str):
    """The one page that shows a generated password: never cached, never carried in the session."""
    resp = make_response(render_template("admin/user_password_shown.html", user=user, password=password,
                                         heading=heading))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    if request.method == "GET":
        return _new_page({"unit": request.args.get("unit", ""), "role": Role.handler.value})
    session = db_session()
    values = form_values(NEW_FIELDS)
    errors = ops.check_new_user(session, values)
    if errors:
        values["password"] = ""  # never sent back
        return _new_page(values, tr_errors(errors), 422)
    password = values["password"] or ops.generate_password()
    unit = session.scalar(select(Unit).where(Unit.code == values["unit"].strip()))
    user, change = ops.create_staff_user(session, current_actor(), values["username"], values["display_name"],
                                         password, unit, [Role(values["role"].strip())], temporary=True)
    carry_change(change)
    if not values["password"]:
        return _shown_once(user, password, _("Account created"))
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


SELF_GRANT = N_("You cannot give yourself a role; ask another administrator.")
SECOND_ADMIN = N_("A second administrator must confirm this role: not the one who asked for it, nor the account itself.")


def _user_page(user: User, values=None, errors=None, status=200, problem: str | None = None):
    pending = db_session().scalars(select(PendingGrant).where(PendingGrant.user_id == user.id)
                                   .order_by(PendingGrant.id)).all()
    return render_template("admin/user.html", user=user, values=values or {"role": Role.handler.value},
                           errors=errors or {}, units=_units(), roles=_roles(), problem=problem,
                           is_self=user.id == current_actor().user_id, pending=pending,
                           me=current_actor().user_id), status


@bp.get("/users/<int:user_id>")
def user_page(user_id: int):
    return _user_page(_user(user_id))


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    session = db_session()
    user = _user(user_id)
    try:
        change = ops.set_user_active(session, current_actor(), user, request.form.get("active") == "1")
    except ops.AccountError:
        return _user_page(user, status=409, problem=tr(Message(N_("You cannot disable your own account."))))
    carry_change(change)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/memberships")
def user_membership_add(user_id: int):
    session = db_session()
    user = _user(user_id)
    values = form_values(("unit", "role"))
    errors = ops.check_membership(session, values)
    if errors:
        return _user_page(user, values, tr_errors(errors), 422)
    unit = session.scalar(select(Unit).where(Unit.code == values["unit"].strip()))
    try:
        change = ops.grant_membership(session, current_actor(), user, unit, Role(values["role"].strip()))
    except ops.AccountError:
        return _user_page(user, values, status=409, problem=tr(Message(SELF_GRANT)))
    carry_change(change)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


def _pending_grant(user: User, grant_id: int) -> PendingGrant:
    p = db_session().get(PendingGrant, grant_id)
    if p is None or p.user_id != user.id:
        abort(404)
    return p


@bp.post("/users/<int:user_id>/pending/<int:grant_id>/confirm")
def user_grant_confirm(user_id: int, grant_id: int):
    """The second administrator's confirmation of a custodian's role (issue 17, item 5)."""
    user = _user(user_id)
    try:
        change = ops.confirm_grant(db_session(), current_actor(), _pending_grant(user, grant_id))
    except ops.AccountError:
        return _user_page(user, status=409, problem=tr(Message(SECOND_ADMIN)))
    carry_change(change)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/pending/<int:grant_id>/cancel")
def user_grant_cancel(user_id: int, grant_id: int):
    user = _user(user_id)
    carry_change(ops.cancel_grant(db_session(), current_actor(), _pending_grant(user, grant_id)))
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/memberships/<int:membership_id>/remove")
def user_membership_remove(user_id: int, membership_id: int):
    session = db_session()
    user = _user(user_id)
    m = session.get(Membership, membership_id)
    if m is None or m.user_id != user.id:
        abort(404)
    try:
        change = ops.revoke_membership(session, current_actor(), m)
    except ops.AccountError:
        return _user_page(user, status=409,
                          problem=tr(Message(N_("You cannot remove your own administrator role; "
                                                "ask another administrator."))))
    carry_change(change)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    session = db_session()
    user = _user(user_id)
    typed = request.form.get("password", "")
    errors = ops.check_password(typed, required=False)
    if errors:
        return _user_page(user, errors=tr_errors(errors), status=422)
    password = typed or ops.generate_password()
    ops.set_password(session, current_actor(), user, password, temporary=user.id != current_actor().user_id)
    if not typed:
        return _shown_once(user, password, _("New password set"))
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)
