"""A report's identity and the originals of uploads, behind an audited reveal.

A handler asks on the case page (with a reason); the custodian (身份保管人) of the unit holding
the report decides on ``/desk/reveals``; the approved handler then presses "Show identity",
a POST whose answer shows the identity once and is never cached. Originals of uploads (the
evidence) are POST downloads behind the same approval (reports) or, for other cases, the unit
lead's reason. The staff copy (re-encoded, without metadata) is a plain GET for anyone who may
see the case. Every step is an event and an audit entry (casework.workflow.reveal).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.accounts.actor import Actor
from casework.accounts.permissions import can_decide_reveals, can_request_reveal
from casework.db import as_utc
from casework.cases.models import Attachment, Case
from casework.privacy.models import RevealRequest, RevealStatus
from casework.workflow import contact, reveal
from casework.workflow.machine import WorkflowError, perform
from casework.workflow.spec import HANDLERS
from web.auth import current_actor
from web.desk.blueprint import bp
from web.desk.case import _load, move_form, render_case
from web.i18n import title, tr, tr_errors
from web.presenters import local_time
from web.requestdb import db_session, discard_changes, services
from web.staff import kept_text

NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


# sent after the session ended: the reason comes back into its form on the case page (web.staff.kept_text)
kept_text.restorable("desk.reveal_request")(lambda args: move_form(reveal.REQUEST))
kept_text.restorable("desk.contact_details")(lambda args: move_form(contact.NAME))


@bp.post("/cases/<number>/reveal-request")
def reveal_request(number: str):
    actor = current_actor()
    case = _load(number, actor)
    if not can_request_reveal(actor, case):
        abort(403)
    session = db_session()
    fields = {"reason": request.form.get("reason", "")}
    try:
        perform(session, services(), actor, case, reveal.REQUEST, reason=fields["reason"])
    except WorkflowError as err:
        discard_changes()
        return render_case(actor, _load(number, actor), status=err.status, error=tr(err.message),
                           failed_move=reveal.REQUEST, values=fields, errors=tr_errors(err.errors))
    flash(_("Your request was sent to the identity custodian."), "success")
    return redirect(url_for("desk.case_page", number=case.number), code=303)


@bp.post("/cases/<number>/identity")
def reveal_identity(number: str):
    actor = current_actor()
    case = _load(number, actor)
    session = db_session()
    try:
        identity = reveal.view_identity(session, services(), actor, case)
    except WorkflowError as err:
        abort(err.status)
    body = render_template("desk/identity.html", case=case, identity=identity)
    return Response(body, 200, headers=NO_STORE, mimetype="text/html")


@bp.post("/cases/<number>/contact")
def contact_details(number: str):
    """A complaint's, mediation's or suggestion's contact details in clear, with a reason: the
    move reveal_contact (who may: the workflow table), an internal event and an audit entry;
    the case page shows them in this answer only, never cached."""
    actor = current_actor()
    case = _load(number, actor)  # 404 for a case the actor may not see
    session = db_session()
    fields = {"reason": request.form.get("reason", "")}
    try:
        event = perform(session, services(), actor, case, contact.NAME, reason=fields["reason"])
    except WorkflowError as err:
        discard_changes()
        if err.status == 403:
            abort(403)
        body, status = render_case(actor, _load(number, actor), status=err.status, error=tr(err.message),
                                   failed_move=contact.NAME, values=fields, errors=tr_errors(err.errors))
        return Response(body, status, headers=NO_STORE, mimetype="text/html")
    body, status = render_case(actor, _load(number, actor), contact=event.contact)
    return Response(body, status, headers=NO_STORE, mimetype="text/html")


def _attachment(case: Case, attachment_id: int) -> Attachment:
    att = next((a for a in case.attachments if a.id == attachment_id), None)
    if att is None or att.erased_at is not None:
        abort(404)
    return att


def _file_response(data: bytes, att: Attachment, name: str) -> Response:
    from urllib.parse import quote

    headers = {**NO_STORE, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
               "X-Content-Type-Options": "nosniff"}
    return Response(data, 200, headers=headers, mimetype=att.content_type or "application/octet-stream")


@bp.get("/cases/<number>/files/<int:attachment_id>")
def case_file(number: str, attachment_id: int):
    """The staff copy: re-encoded, without metadata."""
    actor = current_actor()
    case = _load(number, actor)
    att = _attachment(case, attachment_id)
    return _file_response(services().files.get(att.storage_key, "staff"), att, att.filename)


@bp.post("/cases/<number>/files/<int:attachment_id>/original")
def case_file_original(number: str, attachment_id: int):
    actor = current_actor()
    case = _load(number, actor)
    att = _attachment(case, attachment_id)
    session = db_session()
    try:
        data = reveal.open_original(session, services(), actor, case, att, request.form.get("reason", ""))
    except WorkflowError as err:
        discard_changes()
        if err.status == 422:
            return render_case(actor, _load(number, actor), status=422, error=tr(err.message),
                               failed_move="original", values={"reason": request.form.get("reason", "")},
                               errors=tr_errors(err.errors))
        abort(err.status)
    return _file_response(data, att, "original-" + att.filename)


@bp.get("/reveals")
def reveal_list():
    actor = current_actor()
    if not can_decide_reveals(actor):
        abort(403)
    session = db_session()
    units = actor.unit_ids(Role.custodian)
    pending = list(session.scalars(
        select(RevealRequest).join(Case, Case.id == RevealRequest.case_id)
        .where(RevealRequest.status == RevealStatus.pending, Case.unit_id.in_(units))
        .order_by(RevealRequest.requested_at, RevealRequest.id)))
    decided = list(session.scalars(
        select(RevealRequest).where(RevealRequest.decided_by == actor.user_id)
        .order_by(RevealRequest.decided_at.desc()).limit(20)))
    ids = {r.requested_by for r in pending + decided}
    names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return render_template("desk/reveals.html", pending=pending, decided=decided, names=names,
                           local_time=local_time, title=title, me=actor.user_id), 200, NO_STORE


@bp.post("/reveals/<int:request_id>")
def reveal_decide(request_id: int):
    actor = current_actor()
    if not can_decide_reveals(actor):
        abort(403)
    session = db_session()
    req = session.get(RevealRequest, request_id)
    if req is None:
        abort(404)
    case = req.case
    try:
        perform(session, services(), actor, case, reveal.DECIDE, request_id=str(request_id),
                decision=request.form.get("decision", ""), note=request.form.get("note", ""))
    except WorkflowError as err:
        discard_changes()  # the answer is a redirect, which commits: nothing of the refusal is kept
        if err.status == 403:
            abort(403)
        flash(tr(err.message) + " " + " ".join(m for msgs in tr_errors(err.errors).values() for m in msgs), "error")
        return redirect(url_for("desk.reveal_list"), code=303)
    flash(_("Decision recorded for case %(number)s.", number=case.number), "success")
    return redirect(url_for("desk.reveal_list"), code=303)



# -- who is told: a count in the desk's bar for the custodian with requests waiting, and for the
# handler whose request was decided (with the time an approval has left), and the handler's list

def time_left(expires: datetime, now: datetime) -> str:
    """What an approval has left, in hours and minutes ("23 h 05 min left")."""
    minutes = max(0, int((as_utc(expires) - as_utc(now)).total_seconds() // 60))
    return _("%(hours)d h %(minutes)02d min left", hours=minutes // 60, minutes=minutes % 60)


@dataclass(frozen=True)
class RevealNav:
    """What the desk's bar says of reveals to the signed-in staff member."""

    waiting: int            # requests this custodian may decide now
    asked: bool             # this handler has requests on their list (the link to it is shown)
    news: int               # of them: approvals running, denials of the last 24 hours
    left: str | None        # the time the first approval to run out has left


@bp.app_template_global("reveal_nav")
def reveal_nav() -> RevealNav | None:
    """Asked by the desk's bar (templates/desk/base.html), once per page, on every page that has
    it: the desk's, the supervision pages, the staff pages. Nothing is read for a staff member who
    is neither a custodian nor a handler."""
    if "reveal_nav" in g:
        return g.reveal_nav
    user = g.get("staff_user")
    nav = None
    if user is not None:
        actor = Actor.staff(user)
        if actor.unit_ids(Role.custodian, *HANDLERS):
            session, now = db_session(), services().clock()
            mine = reveal.own_requests(session, actor, now)
            running = sorted((r for r in mine if reveal.is_open(r, now)), key=lambda r: as_utc(r.expires_at))
            nav = RevealNav(waiting=reveal.waiting_for(session, actor), asked=bool(mine),
                            news=sum(1 for r in mine if reveal.is_news(r, now)),
                            left=time_left(running[0].expires_at, now) if running else None)
    g.reveal_nav = nav
    return nav


@bp.get("/reveals/mine")
def my_reveals():
    """The handler's own requests: waiting, approved (until when, the time left), denied (with the
    custodian's note, as the case page shows it), over the last days."""
    actor = current_actor()
    if not actor.is_staff or not actor.unit_ids(*HANDLERS):
        abort(403)
    session, now = db_session(), services().clock()
    rows = reveal.own_requests(session, actor, now)
    return render_template("desk/my_reveals.html", rows=rows, now=now, is_open=reveal.is_open,
                           time_left=time_left, local_time=local_time, title=title, days=reveal.RECENT_DAYS,
                           linked={r.case_id for r in rows if can_request_reveal(actor, r.case)}), 200, NO_STORE
