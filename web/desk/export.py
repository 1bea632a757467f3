"""A unit's case list (台账) as a spreadsheet: the queue's tab and filters as the handler set them,
every matching case rather than one page, as an Excel workbook or a CSV file.

What a list may carry out of the platform: the case's number, type, category, association,
title, state, deadline, handler and dates. Never a complainant's or reporter's identity or
contact details, nor the case's text (the desk masks them, and a file leaves the audit trail's
reach): a handler who needs them works on the case page. Each export is an audit entry (the
unit, the filters, the number of rows). Read in chunks from the database, at most
``EXPORT_MAX`` rows; a cell a spreadsheet would read as a formula is written as text.
"""
from __future__ import annotations

import csv
import io

from flask import Response, abort, request
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import aliased

from casework.accounts.models import User
from casework.audit.operations import Change, record
from casework.cases.models import Case, Category
from casework.accounts.permissions import can_oversee_unit
from casework.cases.queue import overdue_now, queue_select
from casework.i18n import bilingual
from casework.registry.models import Association
from web.desk.blueprint import bp
from web.desk.filters import parse_queue_args
from web.desk.views import worked_unit
from web.i18n import current_locale, title
from web.presenters import local_date, local_time, state_name
from web.requestdb import db_session, services

EXPORT_MAX = 50_000
CHUNK = 1_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel and WPS would start a formula with


def _columns() -> list[str]:
    return [_("Case number"), _("Type"), _("Category"), _("Association"), _("Title"), _("State"),
            _("Deadline"), _("Overdue?"), _("Handler"), _("Submitted on"), _("Last changed on")]


def _rows(session, query, locale: str, now):
    handler = aliased(User)
    q = (query.with_only_columns(Case.number, Case.type, Case.state, Category.name, Category.name_en,
                                 Association.name, Association.name_en, Case.association_hint, Case.title,
                                 Case.due_at, Case.overdue, Case.paused_at, handler.display_name,
                                 Case.submitted_at, Case.updated_at)
         .outerjoin(Category, Category.id == Case.category_id)
         .outerjoin(Association, Association.id == Case.association_id)
         .outerjoin(handler, handler.id == Case.handler_id)
         .order_by(Case.due_at.asc().nulls_last(), Case.id)
         .limit(EXPORT_MAX)
         .execution_options(yield_per=CHUNK))
    yes, no = _("Yes"), _("No")
    for (number, case_type, state, cat, cat_en, assoc, assoc_en, hint, case_title, due, flag, paused,
         handler_name, submitted, updated) in session.execute(q):
        yield [number, title(case_type), bilingual(cat, cat_en, locale) if cat else "",
               bilingual(assoc, assoc_en, locale) if assoc else (hint or ""), case_title,
               state_name(case_type, state), local_time(due) if due else "",
               yes if overdue_now(flag, due, paused, state, now) else no,  # as the queue marks it
               handler_name or "", local_time(submitted), local_time(updated)]


def _as_text(value: str) -> str:
    """A cell that a spreadsheet would otherwise run as a formula, kept as the text it is."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _text_cell(ws, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # text as text: a title beginning with "=" is not a formula
    return cell


@bp.get("/units/<int:unit_id>/export")
def unit_export(unit_id: int):
    actor, unit = worked_unit(unit_id)
    session = db_session()
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    now = services().clock()
    qa = parse_queue_args(session, request.args, unit_id=unit.id, user_id=actor.user_id, now=now,
                          oversee=can_oversee_unit(actor, unit.id))  # the queue's own scope
    if qa.empty:
        abort(404)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        put = lambda row: writer.writerow([_as_text(v) for v in row])  # noqa: E731
    else:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title=unit.code[:31])
        put = lambda row: ws.append([_text_cell(ws, v) for v in row])  # noqa: E731
    put(_columns())
    count = 0
    for row in _rows(session, queue_select(qa.filter).order_by(None), current_locale(), now):
        put(row)
        count += 1
    if fmt == "csv":
        body, mimetype = out.getvalue().encode("utf-8-sig"), "text/csv"  # the BOM: Excel reads it as UTF-8
    else:
        buf = io.BytesIO()
        wb.save(buf)
        body, mimetype = buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filters = {k: v for k, v in qa.values.items() if v}
    record(session, actor, Change("case_list", "downloaded", unit.code, None,
                                  {"unit": unit.code, "tab": qa.filter.tab, "filters": filters, "rows": count,
                                   "format": fmt}))
    name = f"{unit.code}-{qa.filter.tab}-{local_date(now).replace('-', '')}.{fmt}"
    return Response(body, 200, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store, max-age=0",
        "X-Content-Type-Options": "nosniff"})
