"""The supervisor's pages. Figures come from the rollups the workers keep (casework.stats);
the overdue list reads the cases (a partial index holds only overdue ones)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from casework.accounts.permissions import can_supervise
from casework.cases.models import Case, CaseType, Category
from casework.cases.queue import days_overdue
from casework.registry.models import Association, Unit, UnitKind
from casework.stats import queries
from casework.stats.models import AssociationRisk
from casework.stats.risk import FACTORS, spot_checks
from casework.stats.rollup import refreshed_at
from casework.workflow import supervision
from web.auth import current_actor
from web.i18n import current_locale
from web.presenters import unit_title  # the English name on an English page (issue 16)
from web.requestdb import db_session, services
from web.supervise.blueprint import bp
from web.supervise.tables import Column, Table, to_csv, to_xlsx
from web.request_limits import as_id

MONTHS = (3, 6, 12, 24)
# "overdue" written bare, as the partial index ix_case_overdue_level says it: SQLite renders
# Case.overdue as "overdue = 1" and then will not use the index (it read every open case).
# Only open cases are flagged: every stage change clears the flag.
OVERDUE = text('"case".overdue')
TOP = 15
OVERDUE_PAGE = 50
NOTICES_PAGE = 50
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _require_supervisor():
    actor = current_actor()
    if not can_supervise(actor):
        abort(403)
    return actor


def _filters() -> dict:
    args = request.args
    chosen = as_id(args.get("months")) in MONTHS  # the period list's choice wins over from/to
    months = as_id(args.get("months")) if chosen else 12
    now = services().clock()
    period = queries.Period.last_months(now, months)
    first, last = args.get("from", ""), args.get("to", "")
    if not chosen and _MONTH.match(first) and _MONTH.match(last) and first <= last:
        period = queries.Period(first, last)
        months = None  # the list shows these months as its own choice
    type_ = args.get("type", "")
    unit = as_id(args.get("unit"))
    return {"period": period, "months": months, "type": type_ if type_ in {t.value for t in CaseType} else None,
            "unit": unit}


def _query_args(f: dict) -> dict:
    out = {"from": f["period"].first, "to": f["period"].last}
    if f["type"]:
        out["type"] = f["type"]
    if f["unit"] is not None:
        out["unit"] = f["unit"]
    return out


def _names(session, model, ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    english = current_locale().startswith("en")
    cols = [model.id, model.name] + ([model.name_en] if hasattr(model, "name_en") else [])
    out = {}
    for row in session.execute(select(*cols).where(model.id.in_(ids))):
        out[row[0]] = (row[2] if english and len(row) > 2 and row[2] else row[1])
    return out


FIGURE_COLUMNS = (
    ("received", "int"), ("accepted", "int"), ("concluded", "int"), ("on_time_rate", "rate"),
    ("overdue_now", "int"), ("satisfaction_rate", "rate"), ("review_rate", "rate"),
)


# what the breakdown tables need to show FIGURE_COLUMNS (the rates' parts included)
BREAKDOWN_MEASURES = ("received", "accepted", "concluded", "on_time", "overdue_now", "satisfied", "rated",
                      "reviewed", "replied")


def _labels() -> dict[str, str]:
    return {
        "received": _("Received"), "accepted": _("Accepted"), "concluded": _("Concluded"),
        "on_time_rate": _("On time"), "overdue_now": _("Overdue now"), "satisfaction_rate": _("Satisfied"),
        "review_rate": _("Review asked"), "acceptance_rate": _("Acceptance rate"),
        "mediation_success_rate": _("Mediation success"), "supervised": _("Supervised"),
        "substantiated_rate": _("Substantiated"), "supported_rate": _("Requests supported"),
    }


def _value(fig: queries.Figures, name: str):
    return getattr(fig, name) if name.endswith("_rate") else fig[name]


def _figure_table(key: str, caption: str, first_label: str, items, *, chart=None, series=(1,),
                  links=None) -> Table:
    labels = _labels()
    t = Table(key, caption, [Column(first_label, "text")] + [Column(labels[n], k) for n, k in FIGURE_COLUMNS],
              chart=chart, series=series)
    for label, fig in items:
        t.rows.append([label] + [_value(fig, n) for n, _k in FIGURE_COLUMNS])
    t.links = links or []
    return t


def dashboard_tables(session, f: dict, only: str | None = None) -> list[Table]:
    """The dashboard's tables; ``only``: just that one (an export)."""
    period, type_, unit = f["period"], f["type"], f["unit"]
    tables = []

    def wanted(key: str) -> bool:
        return only is None or only == key

    if wanted("monthly"):
        tables.append(_figure_table("monthly", _("By month of filing"), _("Month"),
                                    queries.by_month(session, period, type=type_, unit=unit),
                                    chart="line", series=(1, 3, 4)))
    args = _query_args(f)
    if unit is None and wanted("units"):
        units = queries.breakdown(session, "unit", period, type=type_, limit=TOP, measures=BREAKDOWN_MEASURES)
        names = _names(session, Unit, [k for k, _f in units])
        tables.append(_figure_table(
            "units", _("By unit (the %(n)d with most cases)", n=TOP), _("Unit"),
            [(names.get(k, _("No unit yet")), fig) for k, fig in units], chart="hbar", series=(1, 5),
            links=[url_for("supervise.dashboard", **{**args, "unit": k}) if k else None for k, _f in units]))
    cats = queries.breakdown(session, "category", period, type=type_, unit=unit, limit=TOP,
                             measures=BREAKDOWN_MEASURES) if wanted("categories") else None
    if cats is not None:  # None: one unit and one type (the rollups keep a unit's types together)
        cat_names = _names(session, Category, [k for k, _f in cats])
        tables.append(_figure_table("categories", _("By category"), _("Category"),
                                    [(cat_names.get(k, "—"), fig) for k, fig in cats], chart="hbar", series=(1,)))
    assocs = queries.breakdown(session, "association", period, type=type_, unit=unit, limit=TOP,
                               measures=BREAKDOWN_MEASURES) if wanted("associations") else None
    if assocs is not None:
        assoc_names = _names(session, Association, [k for k, _f in assocs])
        tables.append(_figure_table(
            "associations", _("By association (the %(n)d with most cases)", n=TOP), _("Association"),
            [(assoc_names.get(k, _("Association not named")), fig) for k, fig in assocs], chart="hbar",
            series=(1,)))
    return tables


def _freshness(session) -> datetime | None:
    return refreshed_at(session)


@bp.get("", strict_slashes=False)
def dashboard():
    _require_supervisor()
    f = _filters()
    session = db_session()
    totals = queries.totals(session, f["period"], type=f["type"], unit=f["unit"])
    tables = dashboard_tables(session, f)
    # the live lines under the tiles follow the unit chosen, as the tiles do
    live = select(Case.supervision_level, func.count()).where(OVERDUE)
    if f["unit"] is not None:
        live = live.where(Case.unit_id == f["unit"])
    overdue_levels = dict(session.execute(live.group_by(Case.supervision_level)).all())
    units = list(session.scalars(select(Unit).order_by(Unit.kind, Unit.id)))
    return render_template(
        "supervise/dashboard.html", f=f, totals=totals, tables=tables, labels=_labels(),
        refreshed=_freshness(session), months_choices=MONTHS, types=list(CaseType), units=units,
        query_args=_query_args(f), overdue_levels=overdue_levels,
        notices_overdue=supervision.count_waiting(session, services().clock(), unit=f["unit"])[1],
        unit_name=next((unit_title(u) for u in units if u.id == f["unit"]), None))


@bp.get("/export/<table>.<fmt>")
def export(table: str, fmt: str):
    _require_supervisor()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    session = db_session()
    if table == "risk":
        tables = [risk_table(session, _authority())]
    else:
        tables = dashboard_tables(session, _filters(), only=table)
    found = next((t for t in tables if t.key == table), None)
    if found is None:
        abort(404)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    name = f"changtong-{found.key}-{stamp}.{fmt}"
    if fmt == "csv":
        body, mime = to_csv(found), "text/csv"  # werkzeug adds "; charset=utf-8" to a text/* type
    else:
        body, mime = to_xlsx(found, found.caption), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/overdue")
def overdue():
    _require_supervisor()
    session = db_session()
    args = request.args
    unit = as_id(args.get("unit"))
    level = as_id(args.get("level"))
    page = min(as_id(args.get("page")) or 1, 100_000)
    where = [OVERDUE]
    if unit is not None:
        where.append(Case.unit_id == unit)
    if level is not None:
        where.append(Case.supervision_level == level)
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    cases = list(session.scalars(
        select(Case).where(*where).order_by(Case.supervision_level.desc(), Case.due_at, Case.id)
        .limit(OVERDUE_PAGE).offset((page - 1) * OVERDUE_PAGE)))
    names = _names(session, Unit, {c.unit_id for c in cases})
    assoc = _names(session, Association, {c.association_id for c in cases})
    now = services().clock()
    units = list(session.scalars(select(Unit).order_by(Unit.kind, Unit.id)))
    return render_template(
        "supervise/overdue.html", cases=cases, total=total, page=page, per_page=OVERDUE_PAGE,
        pages=max(1, -(-total // OVERDUE_PAGE)), unit=unit, level=level, unit_names=names, assoc_names=assoc,
        units=units, days_over=lambda c: days_overdue(c, now),  # as the desk's 超期与督办 tab counts
        level_labels={1: _("1 · at the deadline"), 2: _("2 · escalated")},
        escalation_days=services().settings.escalation_working_days)


def _unit_name(session, unit_id: int | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return unit_title(unit) if unit is not None else None


@bp.get("/notices")
def notices():
    """The 督办单 issued, newest first: each with the unit's report (on time or late), or waiting
    for it, or past its date without one; or only those waiting (``show=waiting``), or only
    those past their date (``show=overdue``), the earliest date first."""
    _require_supervisor()
    session = db_session()
    now = services().clock()
    show = request.args.get("show", "")
    show = show if show in ("waiting", "overdue") else ""
    page = min(as_id(request.args.get("page")) or 1, 100_000)
    unit = as_id(request.args.get("unit")) if show else None  # the dashboard's link for one unit
    waiting, overdue = supervision.count_waiting(session, now, unit=unit)
    if show:
        total = overdue if show == "overdue" else waiting
        rows = supervision.waiting_notices(session, now, overdue_only=show == "overdue", limit=NOTICES_PAGE,
                                           offset=(page - 1) * NOTICES_PAGE, unit=unit)
    else:
        total = supervision.count_notices(session)
        rows = supervision.notices(session, now, limit=NOTICES_PAGE, offset=(page - 1) * NOTICES_PAGE)
    names = _names(session, Unit, {r.unit_id for r in rows} | {u for r in rows for u in r.by_unit_ids})
    return render_template(
        "supervise/notices.html", rows=rows, total=total, page=page, pages=max(1, -(-total // NOTICES_PAGE)),
        unit_names=names, show=show, waiting=waiting, overdue=overdue, unit=unit,
        unit_name=_unit_name(session, unit),
        status_labels={"awaiting": _("Report awaited"), "overdue": _("Not reported, past the date"),
                       "reported": _("Reported"), "reported_late": _("Reported after the date"),
                       "superseded": _("Replaced by a later notice, not reported")})


def _authority() -> int | None:
    return as_id(request.args.get("authority"))


def factor_labels() -> dict[str, str]:
    return {"volume": _("Volume"), "substantiated": _("Substantiated findings"),
            "overdue": _("Overdue handling"), "repeat": _("Repeated categories")}


def grade_labels() -> dict[str, str]:
    return {"high": _("High"), "medium": _("Medium"), "low": _("Low")}


def risk_table(session, authority: int | None) -> Table:
    labels, grades = factor_labels(), grade_labels()
    cols = [Column(_("Association"), "text"), Column(_("Credit code"), "text"), Column(_("Grade"), "text"),
            Column(_("Score"), "int"), Column(_("Cases (12 months)"), "int")]
    cols += [Column(labels[f], "int") for f in FACTORS]
    t = Table("risk", _("Suggested spot checks"), cols)
    for risk, assoc in spot_checks(session, authority, limit=200):
        t.rows.append([unit_title(assoc), assoc.credit_code, grades.get(risk.grade, risk.grade), risk.score, risk.cases]
                      + [risk.factors.get(f, {}).get("points", 0) for f in FACTORS])
    return t


@bp.get("/risk")
def risk():
    actor = _require_supervisor()
    session = db_session()
    authority = _authority()
    authorities = list(session.scalars(select(Unit).where(Unit.kind == UnitKind.registration_authority)
                                       .order_by(Unit.id)))
    if authority is None and "authority" not in request.args:
        # a supervisor at a registration authority starts with its own associations
        mine = {a.id for a in authorities} & actor.unit_ids()
        authority = min(mine) if mine else None
    rows = spot_checks(session, authority, limit=200)
    computed = session.scalar(select(func.max(AssociationRisk.computed_at)))
    graded = session.scalar(select(func.count()).select_from(AssociationRisk)) or 0
    return render_template(
        "supervise/risk.html", rows=rows, authority=authority, authorities=authorities, computed=computed,
        graded=graded, factors=FACTORS, factor_labels=factor_labels(), grade_labels=grade_labels(),
        weights=dict(services().settings.risk_weights))
