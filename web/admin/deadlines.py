"""Administration of deadlines: time limits, calendar overrides, confirmed years."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from casework.deadlines import operations as ops
from casework.deadlines.calendar import holiday_name, library_confirms, library_has_holidays
from casework.deadlines.limits import Deadlines, basis
from casework.deadlines.models import CalendarOverride, CalendarYear
from web.admin.blueprint import bp
from web.auth import current_actor
from web.i18n import current_locale, tr_errors
from web.requestdb import db_session


def _calendar_page(values=None, errors=None, status=200, check=None, check_errors=None):
    s = db_session()
    today = date.today()
    years = []
    confirmed = {y.year: y for y in s.scalars(select(CalendarYear))}
    for year in range(today.year - 1, today.year + 3):
        row = confirmed.get(year)
        years.append({"year": year, "library": library_confirms(year), "by_rule": library_has_holidays(year),
                      "confirmed": row.confirmed if row else library_confirms(year), "note": row.note if row else ""})
    return render_template(
        "admin/calendar.html", overrides=list(s.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc()))),
        years=years, unconfirmed=ops.unconfirmed_deadlines(s), values=values or {}, errors=errors or {},
        check=check, check_errors=check_errors or {}), status


def _reason(note) -> str:
    """A calendar day's reason (casework.deadlines.calendar.DayNote: untranslated) in the page's language."""
    reason = note.reason
    kind, _sep, detail = reason.partition(":")
    detail = detail.strip()
    if kind == "holiday":
        return _("public holiday: %(name)s", name=holiday_name(note.day, current_locale()) or detail)
    if kind == "override":
        return _("set by an administrator: %(note)s", note=detail)
    return {"weekend": _("weekend"), "make-up working day (调休)": _("make-up working day (调休)")}.get(reason, reason)


def computation_lines(check) -> list[str]:
    """The period computed on the calendar page, step by step, in the page's language (the
    command line prints ``Computation.lines()``, in English)."""
    from flask_babel import format_date

    def day(d) -> str:
        return f"{d.isoformat()} {format_date(d, 'EEE')}"

    out = [ngettext("Start %(date)s (not counted), %(num)d working day", "Start %(date)s (not counted), %(num)d working days",
                    check.amount, date=check.start.isoformat())
           if check.working_days else
           ngettext("Start %(date)s (not counted), %(num)d day", "Start %(date)s (not counted), %(num)d days",
                    check.amount, date=check.start.isoformat())]
    notes = [(True, d) for d in check.skipped] + [(False, d) for d in check.makeup_days]
    for skipped, d in sorted(notes, key=lambda p: p[1].day):
        out.append("  " + (_("skip %(day)s: %(reason)s", day=day(d.day), reason=_reason(d)) if skipped else
                           _("count %(day)s: %(reason)s", day=day(d.day), reason=_reason(d))))
    for d in check.rolled_forward:
        out.append("  " + _("the period ended on a rest day, %(day)s (%(reason)s): it moves to the next working day",
                            day=day(d.day), reason=_reason(d)))
    out.append(_("Ends %(day)s", day=day(check.end)))
    for y in sorted(check.unconfirmed_years):
        out.append("  " + _("Warning: the %(year)d schedule is not confirmed; check it against the State Council's notice.",
                            year=y))
    return out


@bp.get("/calendar")
def calendar():
    check, errors = None, {}
    if request.args.get("start") or request.args.get("days"):
        day = ops.parse_day(request.args.get("start", ""))
        n = int(request.args["days"]) if request.args.get("days", "").strip().isdigit() else 0
        if day is None:
            errors["start"] = [_("Enter a date as YYYY-MM-DD.")]
        if not 0 < n <= 366:
            errors["days"] = [_("A whole number from 1 to 366, please.")]
        if not errors:
            cal = Deadlines.load(db_session()).calendar
            check = computation_lines(cal.compute(day, n, working_days=request.args.get("kind") != "calendar"))
    return _calendar_page(check=check, check_errors=errors, status=422 if errors else 200)


@bp.post("/calendar/overrides")
def calendar_override_save():
    values = {k: request.form.get(k, "") for k in ("day", "working", "note")}
    day = ops.parse_day(values["day"])
    s = db_session()
    try:
        if day is None:
            raise ops.DeadlineAdminError(ops.override_problems(day, values["note"]))
        old = s.get(CalendarOverride, day)
        replaced = (old.working, old.note) if old is not None else None  # before the row is updated
        ops.set_override(s, day, values["working"] == "1", values["note"], actor=current_actor())
    except ops.DeadlineAdminError as err:
        return _calendar_page(values, tr_errors(err.errors), 422)
    if replaced is None:
        flash(_("Saved: %(day)s.", day=day.isoformat()))
    else:  # one override a day: a second one for the day replaces the first, and says so
        flash(_("%(day)s already had an override (%(was)s: %(note)s); it is replaced.", day=day.isoformat(),
                was=_("a working day") if replaced[0] else _("a rest day"), note=replaced[1]))
    return redirect(url_for("admin.calendar"), code=303)


@bp.post("/calendar/overrides/<day>/remove")
def calendar_override_remove(day: str):
    parsed = ops.parse_day(day)
    if parsed is not None:
        ops.remove_override(db_session(), parsed, actor=current_actor())
        flash(_("Override removed: %(day)s; the maintained calendar decides that day again.", day=parsed.isoformat()))
    return redirect(url_for("admin.calendar"), code=303)


@bp.post("/calendar/years/<int:year>")
def calendar_year(year: int):
    confirmed, note = request.form.get("confirmed") == "1", request.form.get("note", "")[:200]
    try:
        ops.set_year(db_session(), year, confirmed, note, actor=current_actor())
    except ops.DeadlineAdminError as err:
        return _calendar_page({"year": year, "year_note": note}, {f"year-{year}-note": tr_errors(err.errors)["note"]}, 422)
    flash(_("%(year)d marked as confirmed (%(note)s).", year=year, note=note.strip()) if confirmed else
          _("%(year)d marked as not confirmed: deadlines in it show a warning again.", year=year))
    return redirect(url_for("admin.calendar"), code=303)


@bp.get("/time-limits")
def time_limits():
    return render_template("admin/time_limits.html", limits=ops.limit_rows(db_session()), basis=basis, errors={},
                           failed=None)


@bp.post("/time-limits/<int:limit_id>")
def time_limit_save(limit_id: int):
    s = db_session()
    try:
        ops.update_limit(s, limit_id, request.form.get("amount", ""), request.form.get("working_days") == "1",
                         actor=current_actor())
    except ops.DeadlineAdminError as err:
        return render_template("admin/time_limits.html", limits=ops.limit_rows(s), basis=basis,
                               errors=tr_errors(err.errors), failed=limit_id), 422
    flash(_("Time limit saved; new stages use it from now on."))
    return redirect(url_for("admin.time_limits"), code=303)

