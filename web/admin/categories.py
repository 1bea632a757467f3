"""Administration of categories (事项分类): per group of case types, add, edit names and
sort order, take out of use and back."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from casework.cases.models import CategoryGroup
from casework.registry import categories as ops
from web.admin.blueprint import bp
from web.admin.common import carry_change, form_values
from web.auth import current_actor
from web.i18n import title, tr, tr_errors
from web.requestdb import db_session

FLAGS = ("association_is_party",)


def _category(code: str):
    return ops.by_code(db_session(), code) or abort(404)


def _list_page(problem: str | None = None, status=200):
    return render_template("admin/categories.html", groups=ops.categories_by_group(db_session()),
                           problem=problem), status


@bp.get("/categories")
def categories():
    return _list_page()


def _form_page(values, errors=None, cat=None, status=200):
    return render_template("admin/category_form.html", values=values, errors=errors or {}, cat=cat,
                           groups=[(g.value, title(g)) for g in CategoryGroup]), status


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new():
    if request.method == "GET":
        return _form_page({"group": request.args.get("group", ""), "sort_order": "100"})
    session = db_session()
    values = form_values(ops.FIELDS, flags=FLAGS)
    checked, errors = ops.check_category(session, values)
    if errors:
        return _form_page(values, tr_errors(errors), status=422)
    change = ops.create_category(session, current_actor(), checked)
    carry_change(change)
    return redirect(url_for("admin.categories", _anchor=f"category-{checked.code}"), code=303)


@bp.route("/categories/<code>/edit", methods=["GET", "POST"])
def category_edit(code: str):
    cat = _category(code)
    if request.method == "GET":
        return _form_page(ops.form_values(cat), cat=cat)
    session = db_session()
    values = form_values(ops.FIELDS, flags=FLAGS)
    values.update(code=cat.code, group=cat.group.value)
    checked, errors = ops.check_category(session, values, cat)
    if errors:
        return _form_page(values, tr_errors(errors), cat, status=422)
    change = ops.update_category(session, current_actor(), cat, checked)
    carry_change(change)
    return redirect(url_for("admin.categories", _anchor=f"category-{cat.code}"), code=303)


@bp.post("/categories/<code>/active")
def category_active(code: str):
    session = db_session()
    cat = _category(code)
    try:
        change = ops.set_category_active(session, current_actor(), cat, request.form.get("active") == "1")
    except ops.CategoryError as err:
        return _list_page(tr(err.message), status=409)
    carry_change(change)
    return redirect(url_for("admin.categories", _anchor=f"category-{cat.code}"), code=303)
