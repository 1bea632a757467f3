"""Administration of the association registry: the list with search, editing an
association, deregistering (and reinstating) it, and the CSV import with its report."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from casework.registry import operations as ops
from casework.registry.importer import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from casework.registry.models import AssociationLevel, AssociationStatus, Unit, UnitKind
from casework.registry.validation import (UNIT_FIELDS, check_association, credit_code_problem, field_messages,
                                         units_by_code)
from web.admin.blueprint import bp
from web.presenters import unit_title
from web.admin.common import carry_change, form_values, page_arg
from web.auth import current_actor
from web.i18n import title, tr, tr_errors
from web.requestdb import db_session

EDIT_FIELDS = ("name", "abbreviation", "name_en", "level", "region_code", "member_count", *UNIT_FIELDS)
IMPORT_MAX_BYTES = 20 * 1024 * 1024


def _association(credit_code: str):
    return ops.by_credit_code(db_session(), credit_code) or abort(404)


@bp.get("/associations")
def associations():
    q = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    result = ops.list_associations(db_session(), q, status, page_arg())
    return render_template("admin/associations.html", result=result, q=q, status=status,
                           statuses=[(s.value, title(s)) for s in AssociationStatus])


def _unit_options(assoc) -> dict[str, list[tuple[str, str]]]:
    """Per unit field, the units it may name: of the right kind and in use. A unit out of use
    that the association names still shows, chosen, so that the refusal beside it says why
    rather than the field going blank."""
    units = db_session().scalars(select(Unit).order_by(Unit.code)).all()
    chosen = set()
    if assoc is not None:  # None: a new association
        chosen = {getattr(assoc, f).id for f in UNIT_FIELDS if getattr(assoc, f) is not None}
        chosen |= {u.id for u in assoc.other_industry_departments}

    def options(kind: UnitKind, extra=lambda u: True):
        return [(u.code, f"{unit_title(u)} ({u.code})") for u in units
                if u.kind is kind and (u.active or u.id in chosen) and extra(u)]

    out = {field: options(kind) for field, kind in UNIT_FIELDS.items()}
    out["mediation_body"] = options(UnitKind.mediation_body,
                                    lambda u: u.association_id in (None, assoc.id if assoc is not None else None))
    out["other_industry_departments"] = options(UnitKind.industry_department)
    return out


def _edit_page(assoc, values, errors=None, status=200):
    return render_template("admin/association_form.html", assoc=assoc, values=values, errors=errors or {},
                           units=_unit_options(assoc),
                           levels=[(lv.value, title(lv)) for lv in AssociationLevel]), status


@bp.route("/associations/new", methods=["GET", "POST"])
def association_new():
    """One association registered by hand (a new registration between two imports of the
    registry): the edit form's fields and rules, with its credit code."""
    if request.method == "GET":
        return _edit_page(None, {"level": AssociationLevel.national.value, "region_code": "100000"})
    session = db_session()
    values = form_values(("credit_code", *EDIT_FIELDS), flags=("decoupled",))
    values["other_industry_departments"] = request.form.getlist("other_industry_departments")
    checked, problems = check_association({**values, "decoupled": bool(values["decoupled"])}, units_by_code(session))
    errors = tr_errors(field_messages(problems)) if problems else {}
    if ops.by_credit_code(session, checked.credit_code if checked else credit_code_problem(values["credit_code"])[0]):
        errors["credit_code"] = [_("An association with this credit code is registered already: edit it instead.")]
    if errors:
        return _edit_page(None, values, errors, 422)
    change = ops.create_association(session, current_actor(), checked)
    carry_change(change)
    return redirect(url_for("admin.associations", q=checked.credit_code), code=303)


@bp.route("/associations/<credit_code>/edit", methods=["GET", "POST"])
def association_edit(credit_code: str):
    assoc = _association(credit_code)
    if request.method == "GET":
        return _edit_page(assoc, ops.form_values(assoc))
    session = db_session()
    values = form_values(EDIT_FIELDS, flags=("decoupled",))
    values["other_industry_departments"] = request.form.getlist("other_industry_departments")
    # the rules of the CSV import too; the checkbox is a yes/no, unticked is no
    checked, problems = check_association({**values, "decoupled": bool(values["decoupled"])},
                                          units_by_code(session), assoc)
    if problems:
        return _edit_page(assoc, values, tr_errors(field_messages(problems)), 422)
    change = ops.update_association(session, current_actor(), assoc, checked)
    carry_change(change)
    return redirect(url_for("admin.associations", q=assoc.credit_code), code=303)


@bp.post("/associations/<credit_code>/deregister")
def association_deregister(credit_code: str):
    session = db_session()
    change = ops.deregister_association(session, current_actor(), _association(credit_code))
    carry_change(change)
    return redirect(url_for("admin.associations", q=credit_code), code=303)


@bp.post("/associations/<credit_code>/reinstate")
def association_reinstate(credit_code: str):
    session = db_session()
    change = ops.reinstate_association(session, current_actor(), _association(credit_code))
    carry_change(change)
    return redirect(url_for("admin.associations", q=credit_code), code=303)


def _import_page(report=None, error=None, status=200):
    problems = [(e.line, e.field, tr(e.message) if e.message is not None else e.reason)
                for e in (report.errors if report is not None else ())]  # in the page's language
    return render_template("admin/association_import.html", report=report, problems=problems, error=error,
                           required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS), status


@bp.route("/associations/import", methods=["GET", "POST"])
def association_import():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(error=_("Choose a CSV file to import."), status=422)
    data = upload.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        return _import_page(error=_("The file is larger than %(mb)d MB; split it.", mb=IMPORT_MAX_BYTES // 2**20),
                            status=422)
    session = db_session()
    result = ops.import_audited(session, current_actor(), data, filename=upload.filename)
    if not result.ok:
        return _import_page(report=result, status=422)  # a 422 keeps nothing of the import
    flash(_("Imported: %(created)d new, %(updated)d updated.", created=result.created, updated=result.updated))
    return redirect(url_for("admin.associations"), code=303)
