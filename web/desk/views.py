"""The desk's queues: where a handler lands, a unit's queue, the triage queue, bulk assign."""
from __future__ import annotations

from datetime import timedelta
from math import ceil

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.permissions import (
    can_administer, can_decide_reveals, can_oversee_unit, can_supervise, can_triage, can_use_desk, can_work_unit,
)
from casework.cases.models import ActorKind, Case, CaseState, CaseType, Event, EventKind
from casework.cases.queue import SUPERVISION_TAB, TABS, days_overdue, is_overdue, queue_page, supervision_count, tab_counts
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import start_of_day
from casework.mediation.models import MediationSession, SessionStatus
from casework.registry.models import Unit, UnitKind
from casework.workflow import states
from casework.workflow.bulk import BULK_MAX, perform_many
from web.auth import current_actor
from web.desk.blueprint import bp
from web.desk.choices import categories, unit_handlers
from web.desk.filters import SORTS, SUPERVISION_SORTS, QueueArgs, parse_queue_args
from web.i18n import current_locale, tr
from web.requestdb import db_session, services
from web.staff.views import safe_next
from web.request_limits import as_id

TAB_TITLES = {
    "pending": lambda: _("Awaiting acceptance"),
    "handling": lambda: _("Being handled"),
    "need_info": lambda: _("Awaiting missing material"),  # the state's own title, as the case page says it
    "replied": lambda: _("Replied"),
    "done": lambda: _("Finished"),
    SUPERVISION_TAB: lambda: _("Overdue and supervised"),
}
SORT_TITLES = {
    "notice": lambda: _("Supervision report date, then deadline"),
    "due": lambda: _("Deadline, soonest first"),
    "-due": lambda: _("Deadline, latest first"),
    "new": lambda: _("Newest first"),
}


def workable_unit_ids(actor: Actor) -> list[int]:
    return sorted(u for u in actor.unit_ids() if can_work_unit(actor, u))


@bp.get("")
def home():
    actor = current_actor()
    wanted = request.args.get("unit", "")
    if wanted == "triage" and can_triage(actor):
        return redirect(url_for("desk.triage_queue"))
    if as_id(wanted) is not None and can_work_unit(actor, as_id(wanted)):
        return redirect(url_for("desk.unit_queue", unit_id=as_id(wanted)))
    units = workable_unit_ids(actor)
    if units:
        return redirect(url_for("desk.unit_queue", unit_id=units[0]))
    if can_triage(actor):
        return redirect(url_for("desk.triage_queue"))
    if can_supervise(actor):  # a supervisor without a queue starts at the supervision pages
        return redirect(url_for("supervise.dashboard"))
    if can_decide_reveals(actor):  # a custodian starts at the requests waiting for a decision
        return redirect(url_for("desk.reveal_list"))
    if can_administer(actor):  # an administrator has no business on the desk: the administration
        return redirect(url_for("admin.index"))
    return render_template("desk/no_queue.html"), (200 if can_use_desk(actor) else 403)


def worked_unit(unit_id: int) -> tuple[Actor, Unit]:
    """The signed-in staff member and a unit whose queue they work (403 otherwise, 404 for none)."""
    actor = current_actor()
    if not can_work_unit(actor, unit_id):
        abort(403)
    unit = db_session().get(Unit, unit_id)
    if unit is None:
        abort(404)
    return actor, unit


@bp.get("/units/<int:unit_id>")
def unit_queue(unit_id: int):
    return _render_queue(*worked_unit(unit_id))


@bp.get("/triage")
def triage_queue():
    actor = current_actor()
    if not can_triage(actor):
        abort(403)
    return _render_queue(actor, None)


FILER_MARKS = (EventKind.urged, EventKind.evidence_added, EventKind.info_supplied)


def complainant_marks(session, case_ids: list[int]) -> dict[int, set[str]]:
    """The queue's marks: "urged" (催办) and "evidence" (new material: evidence, the material
    asked for, 补正, or a mediation respondent's written statement) where the complainant did so after the last thing staff did on the case; both
    go once staff act on it."""
    if not case_ids:
        return {}
    # a mediation's respondent put its side in writing (the move respondent_statement, a note)
    statement = (Event.actor_kind == ActorKind.respondent) & Event.summary.like("respondent_statement %")
    rows = session.execute(
        select(Event.case_id, Event.kind, Event.actor_kind, func.max(Event.id))
        .where(Event.case_id.in_(case_ids),
               (Event.actor_kind == ActorKind.staff) | Event.kind.in_(FILER_MARKS) | statement)
        .group_by(Event.case_id, Event.kind, Event.actor_kind))
    last_staff: dict[int, int] = {}
    latest: dict[tuple[int, str], int] = {}
    for case_id, kind, actor_kind, last in rows:
        if actor_kind is ActorKind.staff:
            last_staff[case_id] = max(last_staff.get(case_id, 0), last)
        if actor_kind is not ActorKind.staff and (kind in FILER_MARKS or kind is EventKind.note):
            key = (case_id, "urged" if kind is EventKind.urged else "evidence")
            latest[key] = max(latest.get(key, 0), last)
    marks: dict[int, set[str]] = {}
    for (case_id, mark), last in latest.items():
        if last > last_staff.get(case_id, 0):
            marks.setdefault(case_id, set()).add(mark)
    return marks


MEDIATION_LESS_TABS = frozenset({"need_info", "replied"})


def _render_queue(actor: Actor, unit: Unit | None):
    session = db_session()
    now = services().clock()
    unit_id = unit.id if unit is not None else None
    oversee = unit is not None and can_oversee_unit(actor, unit.id)
    qa: QueueArgs = parse_queue_args(session, request.args, unit_id=unit_id, user_id=actor.user_id, now=now,
                                     oversee=oversee)
    rows, total = ([], 0) if qa.empty else queue_page(session, qa.filter)
    pages = max(1, ceil(total / qa.filter.per_page))
    endpoint, view_args = (("desk.unit_queue", {"unit_id": unit_id}) if unit is not None
                           else ("desk.triage_queue", {}))

    def queue_url(**changes) -> str:
        return url_for(endpoint, **view_args, **qa.link_args(**changes))

    counts = tab_counts(session, unit_id)
    if unit is not None:  # the lead's count is the unit's; a handler's, their own cases'
        counts[SUPERVISION_TAB] = supervision_count(session, unit_id, now, None if oversee else actor.user_id)
    if unit is not None and not request.args and not counts.get(qa.filter.tab) and any(counts.get(t) for t in TABS):
        # the queue opened bare and 待受理 is empty: the first tab that holds cases (a review to
        # decide waits under 办理中, and the unit landed on "No cases here.")
        return redirect(queue_url(tab=next(t for t in TABS if counts.get(t))))
    if qa.filter.page > pages:  # past the last page (an old link, a typed number): the last page
        return redirect(queue_url(page=pages))
    handler_ids = {c.handler_id for c in rows if c.handler_id}
    names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(handler_ids)))} \
        if handler_ids else {}

    # a mediation body's queue holds mediation requests: no 待补正 or 已答复 tab (a mediation is not
    # asked for material nor replied to) unless a case stands there, and only mediation's types
    mediation_only = unit is not None and unit.kind is UnitKind.mediation_body
    shown_tabs = [t for t in TABS if not mediation_only or t not in MEDIATION_LESS_TABS or counts.get(t)]
    shown_tabs += [SUPERVISION_TAB] if unit is not None else []
    return render_template(
        "desk/queue.html",
        unit=unit, qa=qa, rows=rows, total=total, page=qa.filter.page, pages=pages,
        counts=counts, tabs=[(t, TAB_TITLES[t]()) for t in shown_tabs],
        sorts=[(s, SORT_TITLES[s]()) for s in (SUPERVISION_SORTS if qa.filter.supervision else SORTS)],
        supervision=qa.filter.supervision, oversee=oversee,
        lateness=lateness(rows, now) if qa.filter.supervision else {},
        types=[CaseType.mediation] if mediation_only else list(CaseType),
        categories=[c for c in categories(session) if not mediation_only
                    or c.group is CaseType.mediation.category_group], handler_names=names,
        handlers=unit_handlers(session, unit_id), overdue={c.id for c in rows if is_overdue(c, now)},
        marks=complainant_marks(session, [c.id for c in rows]),
        queue_url=queue_url, current_unit_id=unit_id if unit is not None else "triage", locale=current_locale(),
    )


def lateness(rows: list[Case], now) -> dict[int, dict]:
    """How late each case is, in calendar days on China's calendar: past its deadline
    (``overdue_days``, casework.cases.queue.days_overdue, as the supervisor's overdue list counts
    it), and the 督办单's report date (``report_by``) with the days past it (``report_late``) or
    left before it (``report_left``)."""
    today = china_date(now)
    out = {}
    for c in rows:
        report = c.notice_report_due
        out[c.id] = {"overdue_days": days_overdue(c, now), "report_by": report,
                     "report_late": (today - report).days if report is not None and report < today else 0,
                     "report_left": (report - today).days if report is not None and report >= today else None}
    return out


@bp.post("/units/<int:unit_id>/assign")
def bulk_assign(unit_id: int):
    """Assign the ticked cases to one handler, each in a savepoint of its own: a case someone
    else changed meanwhile (its version moved on) is reported, not overwritten, and the
    others are kept."""
    actor = current_actor()
    if not can_work_unit(actor, unit_id):
        abort(403)
    session = db_session()
    queue = url_for("desk.unit_queue", unit_id=unit_id)
    raw = request.form.get("back") or ""
    # back to the same filtered page of this queue, and nowhere else
    back = safe_next(raw, queue) if raw == queue or raw.startswith(queue + "?") else queue
    ids = list(dict.fromkeys(filter(None, map(as_id, request.form.getlist("case")))))[:BULK_MAX]
    handler_id = request.form.get("handler_id", "")
    if not ids:
        flash(_("Tick at least one case to assign."), "error")
        return redirect(back, code=303)
    versions = {case_id: request.form.get(f"version-{case_id}", "") for case_id in ids}
    result = perform_many(session, services(), actor, unit_id, versions, "assign", handler_id=handler_id)
    done, stale, elsewhere = result.done, result.stale, result.elsewhere
    refused = {" ".join(tr(m) for m in messages): numbers for messages, numbers in result.reasons()}
    if done:
        flash(_("Assigned: %(numbers)s.", numbers="、".join(done)), "success")
    if stale:
        flash(_("Someone else changed these cases meanwhile; they were not assigned: %(numbers)s. Check them and try again.",
                numbers="、".join(stale)), "warning")
    for message, numbers in refused.items():
        flash(_("Not assigned: %(numbers)s. %(reason)s", numbers="、".join(numbers), reason=message), "error")
    if elsewhere:
        flash(ngettext("%(num)d of the ticked cases is no longer in this unit's queue and was left alone.",
                       "%(num)d of the ticked cases are no longer in this unit's queue and were left alone.", elsewhere),
              "warning")
    return redirect(back, code=303)


# -- the mediator's list (phone-friendly) -------------------------------------------------

UPCOMING_DAYS = 30


def mediation_unit_ids(actor: Actor) -> list[int]:
    """The mediation bodies this actor works as a mediator (handler) or coordinator (lead)."""
    ids = workable_unit_ids(actor)
    if not ids:
        return []
    return sorted(db_session().scalars(select(Unit.id).where(Unit.id.in_(ids), Unit.kind == UnitKind.mediation_body)))


@bp.context_processor
def _mediation_nav():
    """Whether to show the link to the mediator's list (``desk_mediation``) in the desk nav."""
    from flask import g

    if g.get("staff_user") is None:
        return {"desk_mediation": False}
    return {"desk_mediation": bool(mediation_unit_ids(Actor.staff(g.staff_user)))}


@bp.get("/mediation")
def mediation_list():
    actor = current_actor()
    units = mediation_unit_ids(actor)
    if not units:
        abort(403)
    session = db_session()
    now = services().clock()
    cases = list(session.scalars(
        select(Case).where(Case.handler_id == actor.user_id, Case.type == CaseType.mediation,
                           Case.unit_id.in_(units), Case.state.in_(states.MEDIATION_OPEN))
        .order_by(Case.due_at.is_(None), Case.due_at, Case.id)))
    # from the start of today: a session earlier today not yet recorded as held stays on the list
    today = start_of_day(china_date(now))
    upcoming = session.execute(
        select(MediationSession, Case.number, Case.title).join(Case, Case.id == MediationSession.case_id)
        .where(Case.handler_id == actor.user_id, Case.unit_id.in_(units), Case.state == CaseState.mediating,
               MediationSession.held.is_(False), MediationSession.scheduled_at >= today,
               MediationSession.scheduled_at <= now + timedelta(days=UPCOMING_DAYS))
        .order_by(MediationSession.scheduled_at)).all()
    return render_template(
        "desk/mediation.html", cases=cases, upcoming=upcoming, days=UPCOMING_DAYS,
        overdue={c.id for c in cases if is_overdue(c, now)},
        current_unit_id=units[0] if len(units) == 1 else None,
        next_sessions=_next_sessions(session, [c.id for c in cases], now),
    )


def _next_sessions(session, case_ids: list[int], now) -> dict[int, MediationSession]:
    """Each case's next session not yet held."""
    if not case_ids:
        return {}
    out: dict[int, MediationSession] = {}
    for s in session.scalars(select(MediationSession).where(
            MediationSession.case_id.in_(case_ids), MediationSession.held.is_(False),
            MediationSession.status == SessionStatus.scheduled, MediationSession.scheduled_at >= now,
    ).order_by(MediationSession.scheduled_at)):
        out.setdefault(s.case_id, s)
    return out
