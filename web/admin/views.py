"""Administration: routing rules (with "try it"), regional joint mediation bodies, and the
units' canned replies; the blueprint's access check and template helpers.

Every view in this blueprint is for administrators only (``can_administer``, checked once
for the whole blueprint before any view runs). Each POST validates one form, calls one
operation from casework.routing.operations_admin, commits, and redirects; the change's
before/after snapshot is shown once on the next page (carried in the session).
"""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.i18n import bilingual
from casework.accounts.permissions import can_administer
from casework.audit.models import AuditAction, AuditKind
from casework.cases.models import CannedReply, CaseType, Category, CategoryGroup
from casework.registry.models import Unit, UnitKind
from casework.routing import operations_admin as ops
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule
from web.admin.blueprint import bp
from web.admin.common import carried_changes, carry_change, change_value, form_values
from web.auth import current_actor
from web.i18n import current_locale, title, tr_errors
from web.presenters import local_time
from web.requestdb import db_session

RULE_DEFAULTS = {"case_type": CaseType.complaint.value, "category": "", "association": "",
                 "target": "", "priority": str(ops.DEFAULT_PRIORITY), "active": "1", "note": ""}


@bp.before_request
def _administrators_only():
    if not can_administer(current_actor()):
        abort(403)


@bp.context_processor
def _labels():
    locale = current_locale()

    def unit_label(unit: Unit | None) -> str:
        return "" if unit is None else bilingual(unit.name, unit.name_en, locale)

    def assoc_label(assoc) -> str:
        return "" if assoc is None else bilingual(assoc.name, assoc.name_en, locale)

    def cat_label(cat: Category | None) -> str:
        return "" if cat is None else cat.display_name(current_locale())

    def unit_choices(units) -> list[tuple[str, str]]:
        return [(u.code, f"{unit_label(u)} ({u.code})") for u in units]

    def kind_label(kind: str) -> str:
        return title(AuditKind(kind)) if kind in AuditKind._value2member_map_ else kind

    def action_label(action: str) -> str:
        return title(AuditAction(action)) if action in AuditAction._value2member_map_ else action

    return {"unit_label": unit_label, "assoc_label": assoc_label, "cat_label": cat_label,
            "unit_choices": unit_choices, "change_value": change_value, "kind_label": kind_label,
            "action_label": action_label, "local_time": local_time,
            "can_sign_out": "staff.logout" in current_app.view_functions,
            "changes": carried_changes()}


def _form(fields) -> dict[str, str]:
    return form_values(fields, flags=("active",) if "active" in fields else ())


# --- index ------------------------------------------------------------------------------------

@bp.get("", strict_slashes=False)
def index():
    from casework.deadlines.operations import unconfirmed_deadlines

    from web.requestdb import services

    from casework.notify.dispatch import troubled

    from casework.registry.units import units_without_supervisor

    settings = services().settings
    return render_template("admin/index.html", unconfirmed=unconfirmed_deadlines(db_session()),
                           unsupervised=units_without_supervisor(db_session()),
                           retention_days=settings.retention_days, troubled=troubled(db_session()),
                           operator_named=bool(settings.operator_name and settings.operator_contact))


# --- routing rules ----------------------------------------------------------------------------

def _categories():
    """Category options grouped as the select shows them: (group title, [(code, label)])."""
    cats = db_session().scalars(select(Category).order_by(Category.sort_order, Category.id)).all()
    locale = current_locale()
    return [(title(group), [(c.code, f"{c.display_name(locale)} ({c.code})") for c in cats if c.group is group])
            for group in CategoryGroup]


@bp.get("/routing")
def routing():
    session = db_session()
    ordered = ops.rules_in_engine_order(session)
    groups = [(ct, [r for r in ordered if r.case_type is ct]) for ct in CaseType]
    trial, trial_errors = None, {}
    values = {"case_type": request.args.get("case_type", ""), "category": request.args.get("category", ""),
              "association": request.args.get("association", "")}
    if values["case_type"]:
        case, errors = ops.check_sample(ops.Lookups(session), values)
        trial_errors = tr_errors(errors)
        if case is not None:
            trial = ops.explain(session, case)  # a transient case: nothing is filed
    return render_template("admin/routing.html", groups=groups, n_rules=len(ordered), values=values,
                           errors=trial_errors, trial=trial, categories=_categories(),
                           case_types=_case_types(), outcome=_outcome, verdict=_verdict)


def _case_types():
    return [(ct.value, title(ct)) for ct in CaseType]


def _outcome(step: ops.Step) -> str:
    if step.outcome == "chosen":
        return _("Chosen")
    if step.outcome == "no_unit":
        return _("Skipped: the association has no such unit")
    if step.outcome == "decoupled":
        return _("Skipped: the association is decoupled (it has no business supervisory unit)")
    if step.outcome == "not_reached":
        return _("Not tried: an earlier rule already chose a unit")
    return {
        "unit inactive": _("Skipped: the unit is inactive"),
        "triage is not a handling unit": _("Skipped: platform triage does not handle cases"),
        "unit belongs to the association the case is about":
            _("Skipped: the unit belongs to the association the case is about (conflict of interest)"),
    }.get(step.reason, _("Skipped: %(reason)s", reason=step.reason))


def _verdict(decision) -> str:
    if decision.unit is not None:
        return _("Chosen by rule %(id)d.", id=decision.rule.id)
    if decision.reason == "association unknown":
        return _("The association is unknown, so the case goes to platform triage.")
    return _("No rule yields a unit, so the case goes to platform triage.")


def _rule_page(values, errors=None, rule=None, status=200):
    return render_template("admin/rule_form.html", values=values, errors=errors or {}, rule=rule,
                           categories=_categories(), case_types=_case_types(),
                           targets=[(t.value, title(t)) for t in RouteTarget]), status


def _save_rule(rule: RoutingRule | None):
    session = db_session()
    values = _form(ops.RULE_FIELDS)
    checked, errors = ops.check_rule(ops.Lookups(session), values, by_name=True)
    if checked is not None:
        errors = ops.duplicate_error(session, checked, exclude_id=rule.id if rule else None)
    if errors:
        return _rule_page(values, tr_errors(errors), rule, status=422)
    actor = current_actor()
    change = (ops.update_rule(session, actor, rule, checked) if rule
              else ops.create_rule(session, actor, checked))
    carry_change(change)
    return redirect(url_for("admin.routing", _anchor=f"rule-{change.row_id}"))


@bp.route("/routing/new", methods=["GET", "POST"])
def rule_new():
    if request.method == "POST":
        return _save_rule(None)
    values = dict(RULE_DEFAULTS)
    values.update({k: v for k, v in request.args.items() if k in RULE_DEFAULTS})
    return _rule_page(values)


@bp.route("/routing/<int:rule_id>/edit", methods=["GET", "POST"])
def rule_edit(rule_id: int):
    rule = db_session().get(RoutingRule, rule_id) or abort(404)
    if request.method == "POST":
        return _save_rule(rule)
    snap = ops.rule_snapshot(rule)
    values = {**snap, "category": "" if snap["category"] == ops.ANY else snap["category"],
              "association": "" if snap["association"] == ops.ANY else snap["association"],
              "priority": str(snap["priority"]), "active": "1" if snap["active"] else ""}
    return _rule_page(values, rule=rule)


@bp.post("/routing/<int:rule_id>/deactivate")
def rule_deactivate(rule_id: int):
    session = db_session()
    rule = session.get(RoutingRule, rule_id) or abort(404)
    change = ops.deactivate_rule(session, current_actor(), rule)
    carry_change(change)
    return redirect(url_for("admin.routing", _anchor=f"rule-{rule_id}"))


# --- regional joint mediation bodies ----------------------------------------------------------

def _joint_page(values=None, errors=None, status=200):
    session = db_session()
    bodies = session.scalars(select(JointMediationBody).options(selectinload(JointMediationBody.unit))
                             .order_by(JointMediationBody.region_prefix)).all()
    units = session.scalars(select(Unit).where(Unit.kind == UnitKind.mediation_body, Unit.active,
                                               Unit.association_id.is_(None)).order_by(Unit.code)).all()
    return render_template("admin/joint_mediation.html", bodies=bodies, units=units,
                           values=values or {}, errors=errors or {}), status


@bp.route("/joint-mediation", methods=["GET", "POST"])
def joint_mediation():
    if request.method == "GET":
        return _joint_page()
    session = db_session()
    values = _form(("region_prefix", "unit"))
    checked, errors = ops.check_joint_body(session, values)
    if errors:
        return _joint_page(values, tr_errors(errors), status=422)
    change = ops.add_joint_body(session, current_actor(), *checked)
    carry_change(change)
    return redirect(url_for("admin.joint_mediation"))


@bp.post("/joint-mediation/<int:body_id>/remove")
def joint_mediation_remove(body_id: int):
    session = db_session()
    body = session.get(JointMediationBody, body_id) or abort(404)
    change = ops.remove_joint_body(session, current_actor(), body)
    carry_change(change)
    return redirect(url_for("admin.joint_mediation"))


# --- canned replies -----------------------------------------------------------------------------

def _handling_units():
    return db_session().scalars(select(Unit).where(Unit.kind != UnitKind.triage).order_by(Unit.code)).all()


@bp.get("/canned-replies")
def canned_replies():
    session = db_session()
    units = _handling_units()
    shown = request.args.get("unit", "")
    query = select(CannedReply).order_by(CannedReply.unit_id, CannedReply.active.desc(), CannedReply.title)
    by_code = {u.code: u for u in units}
    if shown in by_code:
        query = query.where(CannedReply.unit_id == by_code[shown].id)
    replies = session.scalars(query).all()
    by_id = {u.id: u for u in units}
    groups: dict[int, list[CannedReply]] = {}
    for reply in replies:
        groups.setdefault(reply.unit_id, []).append(reply)
    return render_template("admin/canned_replies.html", units=units, shown=shown,
                           groups=[(by_id[uid], rows) for uid, rows in groups.items() if uid in by_id])


def _reply_page(values, errors=None, reply=None, status=200):
    return render_template("admin/canned_reply_form.html", values=values, errors=errors or {},
                           reply=reply, units=_handling_units()), status


def _save_reply(reply: CannedReply | None):
    session = db_session()
    values = _form(("unit", "title", "body", "legal_basis", "active"))
    checked, errors = ops.check_canned_reply(session, values)
    if errors:
        return _reply_page(values, tr_errors(errors), reply, status=422)
    change = ops.save_canned_reply(session, current_actor(), checked, reply)
    carry_change(change, hide=("body",))
    return redirect(url_for("admin.canned_replies", unit=checked.unit.code))


@bp.route("/canned-replies/new", methods=["GET", "POST"])
def canned_reply_new():
    if request.method == "POST":
        return _save_reply(None)
    return _reply_page({"unit": request.args.get("unit", ""), "title": "", "body": "", "legal_basis": "", "active": "1"})


@bp.route("/canned-replies/<int:reply_id>/edit", methods=["GET", "POST"])
def canned_reply_edit(reply_id: int):
    session = db_session()
    reply = session.get(CannedReply, reply_id) or abort(404)
    if request.method == "POST":
        return _save_reply(reply)
    unit = session.get(Unit, reply.unit_id)
    return _reply_page({"unit": unit.code, "title": reply.title, "body": reply.body,
                        "legal_basis": reply.legal_basis or "", "active": "1" if reply.active else ""}, reply=reply)


@bp.post("/canned-replies/<int:reply_id>/deactivate")
def canned_reply_deactivate(reply_id: int):
    session = db_session()
    reply = session.get(CannedReply, reply_id) or abort(404)
    change = ops.deactivate_canned_reply(session, current_actor(), reply)
    carry_change(change, hide=("body",))
    return redirect(url_for("admin.canned_replies", unit=change.after["unit"]))
