"""Searching cases from the desk: words in Chinese or English, filters, ranked and
highlighted results. What a user may see is part of the search query itself
(casework.search), so a case they may not see is neither shown nor counted."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.accounts.permissions import can_supervise, can_triage, can_use_desk, can_view_case
from casework.cases.models import Case, CaseState, CaseType, Category
from casework.cases.numbers import CHINA, is_well_formed, normalize_number
from casework.registry.models import Unit
from casework.search import SearchBackend, SearchQuery, make_backend
from casework.search.aliases import aliases
from web.auth import current_actor
from web.desk.blueprint import bp
from web.i18n import current_locale
from web.requestdb import db_session, services
from web.request_limits import as_id

PER_PAGE = 20
MAX_QUERY = 200


def search_backend() -> SearchBackend:
    """The app's backend (tests put one in app.config), else the configured one."""
    from web.requestdb import database

    return current_app.config.get("CHANGTONG_SEARCH_BACKEND") or make_backend(services().settings, database())


def scope(actor: Actor) -> tuple[frozenset[int] | None, bool]:
    """(allowed unit ids or None for all, whether cases waiting for routing are included)."""
    if can_supervise(actor):
        return None, True
    return frozenset(actor.unit_ids(Role.handler, Role.unit_lead)), can_triage(actor)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=CHINA) if day else None


def _enum(enum, value: str) -> str | None:
    return value if value in {m.value for m in enum} else None


def _visible(actor: Actor, unit_ids, include_triage, unit_id, state) -> bool:
    if unit_ids is None:
        return True
    if unit_id is not None:
        return unit_id in unit_ids
    return include_triage and state is CaseState.received


def visible_case(actor: Actor, typed: str) -> Case | None:
    """The case whose number was typed (spaces, dashes, lower case and full-width forms
    forgiven), if this actor may see it; None for a number never issued and for another
    unit's case alike, so that the answer says nothing about numbers elsewhere."""
    number = normalize_number(typed)
    if not is_well_formed(number):
        return None
    case = db_session().scalar(select(Case).where(Case.number == number))
    return case if case is not None and can_view_case(actor, case) else None


@bp.get("/find")
def find_case():
    """The header's "find by number" box: an exact number opens the case; anything else, a
    page that says no case was found (the same for a case of another unit)."""
    actor = current_actor()
    if not can_use_desk(actor):
        abort(403)
    typed = request.args.get("number", "").strip()[:40]
    case = visible_case(actor, typed) if typed else None
    if case is not None:
        return redirect(url_for("desk.case_page", number=case.number), code=303)
    return render_template("desk/find.html", find_number=typed)  # like a search that found nothing


@bp.get("/search")
def search():
    actor = current_actor()
    if not can_use_desk(actor):
        abort(403)  # administrators get no case content
    args = request.args
    unit_ids, include_triage = scope(actor)
    text = args.get("q", "").strip()[:MAX_QUERY]
    direct = visible_case(actor, text) if text and args.get("page", "1") == "1" else None
    if direct is not None:  # a case number is a direct hit: straight to the case
        return redirect(url_for("desk.case_page", number=direct.number), code=303)
    unit = args.get("unit", "")
    day_from, day_to = _day(args.get("from", "")), _day(args.get("to", ""))
    page = min(as_id(args.get("page")) or 1, 100_000)
    values = {"q": text, "state": _enum(CaseState, args.get("state", "")) or "",
              "type": _enum(CaseType, args.get("type", "")) or "", "category": args.get("category", "")[:64],
              "unit": unit if as_id(unit) is not None else "", "from": day_from.isoformat() if day_from else "",
              "to": day_to.isoformat() if day_to else ""}
    query = SearchQuery(
        text=text, unit_ids=unit_ids, include_triage=include_triage,
        state=values["state"] or None, type=values["type"] or None, category=values["category"] or None,
        unit=int(values["unit"]) if values["unit"] else None,
        date_from=_start_of(day_from), date_to=_start_of(day_to + timedelta(days=1)) if day_to else None,
        page=page, per_page=PER_PAGE, aliases=aliases(db_session(), text) if text else ())
    searched = bool(text) or any(values[k] for k in ("state", "type", "category", "unit", "from", "to"))
    result = search_backend().search(query) if searched else None

    session = db_session()
    hits, cases = [], {}
    if result is not None and result.hits:
        # the index may lag a transfer by a few seconds: check each hit against the database
        rows = session.execute(select(Case.id, Case.unit_id, Case.state).where(
            Case.id.in_([h.case_id for h in result.hits])))
        cases = {r.id: r for r in rows}
        hits = [h for h in result.hits if h.case_id in cases
                and _visible(actor, unit_ids, include_triage, cases[h.case_id].unit_id, cases[h.case_id].state)]
    unit_query = select(Unit).order_by(Unit.id)
    if unit_ids is not None:
        unit_query = unit_query.where(Unit.id.in_(unit_ids or [-1]))
    units = list(session.scalars(unit_query))
    categories = list(session.scalars(select(Category).where(Category.active)
                                      .order_by(Category.group, Category.sort_order, Category.id)))

    def search_url(**changes):
        params = {k: v for k, v in {**values, "page": page, **changes}.items() if v not in (None, "", 1) or k == "q"}
        if params.get("page") == 1:
            params.pop("page")
        return url_for("desk.search", **params)

    return render_template(
        "desk/search.html", values=values, result=result, hits=hits, searched=searched,
        states=list(CaseState), types=list(CaseType), categories=categories, units=units,
        search_url=search_url, hit_state=lambda h: cases[h.case_id].state,
        hit_type=lambda h: CaseType(h.type), locale=current_locale())
