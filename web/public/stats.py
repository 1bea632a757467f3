"""Public statistics (信息公开): the overview, one association, one unit, and the open data.

No sign-in. Every figure goes through casework.stats.disclosure (small groups suppressed) and
is read from the rollups, never from the cases: nothing personal can reach these pages.
"""
from __future__ import annotations

import json

from flask import Response, abort, render_template, request
from flask_babel import force_locale, gettext
from sqlalchemy import and_, func, select

from casework.cases.models import Category
from casework.registry.models import Association, Unit, UnitKind
from casework.registry.lookup import match_associations
from casework.stats import queries
from casework.stats.disclosure import WITHHELD_NOTICE, display_order
from casework.stats.models import ALL_TYPES, StatRollup as R
from casework.stats.open_data import DATASETS, FIELDS, SCHEMA_VERSION, rows, to_csv, to_json
from casework.stats.published import published
from casework.stats.rollup import refreshed_at
from web.i18n import current_locale
from web.presenters import local_time
from web.public.blueprint import bp
from web.public.charts import breakdown_chart, trend_chart
from web.requestdb import database, db_session, services

bp.add_app_template_global(trend_chart)
bp.add_app_template_global(breakdown_chart)

PER_PAGE = 20
TOP_UNITS = 10
QUERY_MAX = 50


@bp.app_template_global()
def withheld_notice(threshold: int) -> str:
    """Why a figure reads "withheld", in the page's language."""
    return gettext(WITHHELD_NOTICE, n=threshold)


def withheld_notice_both(threshold: int) -> dict[str, str]:
    """The same sentence in both languages, for the open data's JSON."""
    out = {}
    for key, locale in (("zh", "zh_CN"), ("en", "en")):
        with force_locale(locale):
            out[key] = withheld_notice(threshold)
    return out


def _basis():
    """Session, period, threshold and when the figures were computed, for every page here."""
    svc = services()
    session = db_session()
    return session, queries.Period.last_months(svc.clock()), svc.settings.public_min_count, refreshed_at(session)


def _published(session, period, threshold, as_of):
    """The period's figures as published, and when they were computed; (None, None) before the
    statistics were first computed."""
    if as_of is None:
        return None, None
    pub = published(database(), session, period, threshold)
    return pub, pub.as_of(session)


def _common(period, threshold, as_of) -> dict:
    return {"period": period, "threshold": threshold, "as_of": local_time(as_of) if as_of else None}


def _name(obj) -> str:
    if obj is None:
        return ""
    if current_locale().startswith("en") and getattr(obj, "name_en", None):
        return obj.name_en
    return obj.name


def _named(session, model, grouped):
    """Breakdown rows as (key, object or None for key 0, group), in display order."""
    ids = [k for k, _ in grouped if k]
    found = {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    ordered = display_order(grouped, lambda k: _name(found.get(k)))
    return [(k, found.get(k), g) for k, g in ordered]


def _associations_with_cases(session, period, q: str, page: int):
    """Associations with cases filed in the period, filtered by name, a page of them by name;
    with each one's received count. (A reading of the rollups that could join
    casework.stats.queries.)"""
    received = func.sum(R.received).label("received")
    stmt = (select(Association.id, Association.name, Association.name_en, received)
            .join(R, and_(R.dim == "association", R.key == Association.id, R.type == ALL_TYPES))
            .where(R.month >= period.first, R.month <= period.last)
            .group_by(Association.id, Association.name, Association.name_en)
            .having(func.sum(R.received) > 0))
    where = match_associations(q)
    if where is not None:
        stmt = stmt.where(where)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    found = session.execute(stmt.order_by(Association.name, Association.id)
                            .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return found, total


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        return 1


@bp.get("/stats")
def stats():
    session, period, threshold, as_of = _basis()
    q = (request.args.get("q") or "").strip()[:QUERY_MAX]
    page = _page_number()
    listed, total = _associations_with_cases(session, period, q, page)
    pub, as_of = _published(session, period, threshold, as_of)  # every figure of the period, withheld together
    if pub is None:
        return render_template("public/stats.html", **_common(period, threshold, None), q=q, page=page,
                               pages=1, listed=[], listed_total=0)
    listed = [(a, pub.group("association", a.id)) for a in listed]
    return render_template(
        "public/stats.html", **_common(period, threshold, as_of),
        totals=pub.totals(), months=pub.months(),
        # the largest units shown, from all of them (what is withheld is judged on all)
        units=_named(session, Unit, pub.breakdown("unit"))[:TOP_UNITS],
        categories=_named(session, Category, pub.breakdown("category")),
        q=q, page=page, pages=max(1, -(-total // PER_PAGE)), listed=listed, listed_total=total)


def _one(model, scope: str, ident: int):
    """The page of one association or unit (404 when there is none): the row, the period's
    figures as published, and the totals and months counted for it alone."""
    session, period, threshold, as_of = _basis()
    row = session.get(model, ident)
    if row is None:
        abort(404)
    pub, as_of = _published(session, period, threshold, as_of)
    if pub is None:
        return session, None, row, None, dict(_common(period, threshold, None), name=_name(row))
    totals = pub.group(scope, ident)
    page = dict(_common(period, threshold, as_of), name=_name(row), totals=totals, months=pub.months(scope, ident))
    return session, pub, row, totals, page


def _mediation_ended(totals) -> bool:
    return totals is not None and bool(totals.counts["mediation_ended"].value)


@bp.get("/stats/associations/<int:association_id>")
def stats_association(association_id: int):
    *_, association, totals, page = _one(Association, "association", association_id)
    return render_template(
        "public/stats_association.html", **page, association=association,
        mediation=association.mediation_body_id is not None or _mediation_ended(totals))


@bp.get("/stats/units/<int:unit_id>")
def stats_unit(unit_id: int):
    session, pub, unit, totals, page = _one(Unit, "unit", unit_id)
    return render_template(
        "public/stats_unit.html", **page, unit=unit,
        categories=_named(session, Category, pub.breakdown("category", unit=unit_id)) if pub else [],
        mediation=unit.kind is UnitKind.mediation_body or _mediation_ended(totals))


@bp.get("/open-data")
def open_data():
    _, period, threshold, as_of = _basis()
    return render_template("public/open_data.html", **_common(period, threshold, as_of),
                           datasets=list(DATASETS.values()), fields=list(FIELDS.values()),
                           schema_version=SCHEMA_VERSION)


@bp.get("/open-data/<name>")
def open_data_file(name: str):
    stem, _, fmt = name.rpartition(".")
    if stem not in DATASETS or fmt not in ("csv", "json"):
        abort(404)
    session, period, threshold, as_of = _basis()
    dataset = DATASETS[stem]
    pub, as_of = _published(session, period, threshold, as_of)
    data = rows(session, stem, pub, as_of)
    if fmt == "csv":
        resp = Response(to_csv(dataset, data), mimetype="text/csv")
        resp.headers["Content-Disposition"] = (
            f'attachment; filename="changtong-{stem}-{period.first}-{period.last}.csv"')
    else:
        doc = to_json(dataset, data, period=period, threshold=threshold, refreshed_at=as_of,
                      generated_at=services().clock(), notice=withheld_notice_both(threshold))
        resp = Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"  # open data: anyone's page may read it
    resp.cache_control.public = True
    resp.cache_control.max_age = 300
    return resp
