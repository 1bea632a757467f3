"""The case page and the moves made from it.

A case the actor may not see answers 404, exactly like a number that was never issued:
a handler of one unit cannot probe another unit's case numbers. A move goes through the
state machine (``perform``); a refused move comes back on the same page with the status
the machine gave (403, 409, 422), its errors beside the fields and what was typed kept.
A move's form sent after the session ended comes back here after the sign-in, with what was
typed put back into it (web.staff.kept_text; the form is registered below).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.permissions import can_see_identity, can_view_case, can_work_unit, reads_only_as_decider
from casework.cases.models import ActorKind, Case, CaseState, CaseType, EventKind, Finding, Opinion
from casework.cases.numbers import normalize_number
from casework.cases.queue import is_overdue
from casework.db import as_utc
from casework.mediation.models import MediationSession, MediatorRecusal, never_held
from casework.notify.queue import complainant_reachable
from casework.privacy import masking
from casework.privacy.models import RevealStatus
from casework.registry.models import Unit
from casework.search.similar import similar_cases, unit_keys
from casework.workflow import contact as contact_move, reveal, supervision
from casework.workflow.duplicates import MERGE, NAME as LINK_DUPLICATE, merge_candidates
from casework.workflow.handling import decision_under_review, extension_asked, runs_extended
from casework.workflow.machine import MOVES, WorkflowError, available_moves, perform
from casework.workflow.reasons import NotAcceptReason, TransferReason
from casework.workflow.spec import Notice
from casework.workflow.states import NOT_SIMILAR
from casework.workflow.table import FILE_EVENTS
from web import kept_files, move_fields
from web.auth import current_actor, current_user
from web.desk.blueprint import bp
from web.desk.choices import (
    UNIT_FILTER, UNIT_FILTER_GO, UnitPicker, canned_replies, field_choices, move_options, receiving_units,
)
from web.i18n import filer, for_filer, for_round, title, tr, tr_errors
from web.presenters import association_name, event_title, local_time, money, unit_title
from web.once import keep_once, take_once
from web.public.respond import agreement_response
from web.requestdb import db_session, discard_changes, services
from web.staff import kept_text

# the respondent's answer code made by accept_mediation waits for the case page the move's 303 leads
# to: encrypted under a random token for these minutes (the 303 is followed at once), the signed
# session holding the token, the case and the user; that page shows it once (web.once)
ANSWER_CODE = "answer_code"
ANSWER_CODE_MINUTES = 5


def _load(number: str, actor: Actor) -> Case:
    case = db_session().scalar(
        select(Case).where(Case.number == normalize_number(number)[:20])
        .options(selectinload(Case.events), selectinload(Case.attachments))
    )
    if case is None or not can_view_case(actor, case):
        abort(404)  # the same answer for "no such case" and "not yours"
    return case


def _masked(case: Case, party: str) -> dict[str, str]:
    return masking.masked_party(services().cipher, case, party, unreadable=_("(cannot be read)"))


def _acting(case: Case) -> dict | None:
    """Who acts for whom (issue 19): "张* 代理 某某（北京）科技有限公司", the persons' names
    masked as elsewhere, an organisation's name and credit code in full (not personal data)."""
    if case.organisation_name is None and case.agent_name_enc is None:
        return None
    person = _masked(case, "complainant").get("name") or ""
    agent = _masked(case, "agent") if case.agent_name_enc is not None else {}
    principal = case.organisation_name or person
    if agent:
        line = _("%(agent)s acting for %(principal)s", agent=agent.get("name", ""), principal=principal)
    else:
        line = _("%(person)s on behalf of %(organisation)s", person=person, organisation=principal)
    return {"line": line, "agent": agent, "organisation": case.organisation_name,
            "credit_code": case.organisation_credit_code}


def _timeline(session, case: Case) -> list[dict]:
    user_ids, unit_ids = set(), set()
    for ev in case.events:
        if ev.actor_id:
            user_ids.add(ev.actor_id)
        data = ev.data or {}
        if isinstance(data.get("to_handler_id"), int):
            user_ids.add(data["to_handler_id"])
        for key in ("to_unit_id", "unit_id"):
            if isinstance(data.get(key), int):
                unit_ids.add(data[key])
    users = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    units = {u.id: unit_title(u) for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))} \
        if unit_ids else {}
    entries = []
    for ev in case.events:
        data = ev.data or {}
        if ev.actor_kind is ActorKind.staff:
            who = users.get(ev.actor_id) or title(ActorKind.staff)
        elif ev.actor_kind is ActorKind.public:
            who = filer(case.type, capital=True)  # 投诉人, 举报人, 申请人 or 建议人 (issue 16, 10)
        else:
            who = title(ev.actor_kind)
        details = []
        to_unit = data.get("to_unit_id", data.get("unit_id"))
        if ev.kind in (EventKind.routed, EventKind.transferred, EventKind.sent_back) and to_unit in units:
            details.append(_("To: %(unit)s", unit=units[to_unit]))
        elif ev.kind is EventKind.assigned and data.get("to_handler_id") in users:
            details.append(_("Handler: %(name)s", name=users[data["to_handler_id"]]))
        if ev.kind is EventKind.linked and isinstance(data.get("duplicate_of"), str):
            details.append(_("Duplicate of: %(number)s", number=data["duplicate_of"]))
        elif ev.kind is EventKind.note and isinstance(data.get("duplicate"), str):
            details.append(_("Duplicate filed: %(number)s", number=data["duplicate"]))
        if ev.kind is EventKind.reveal_decided and data.get("decision") in RevealStatus._value2member_map_:
            details.append(_("Decision: %(decision)s", decision=title(RevealStatus(data["decision"]))))  # which way
        if ev.kind is EventKind.supervised and isinstance(data.get("respond_by"), str):  # the 督办单's date
            details.append(_("Act and report by: %(date)s", date=data["respond_by"]))
        elif supervision.is_report(ev) and data.get("late"):
            details.append(_("After the date asked for (%(date)s)", date=data.get("respond_by", "")))
        reason = data.get("reason")
        enum = NotAcceptReason if ev.kind is EventKind.not_accepted else TransferReason
        if reason in enum._value2member_map_:
            details.append(_("Reason: %(reason)s", reason=for_filer(title(enum(reason)), case.type)))
        entries.append({
            "at": local_time(ev.created_at), "who": who, "title": event_title(ev), "public": ev.is_public,
            "details": details, "public_text": ev.public_text, "internal_text": ev.internal_text,
            # the complainant's own words (material, evidence, a rating's comment) are from them, not to them
            "from_filer": ev.actor_kind in (ActorKind.public, ActorKind.respondent),
            "files": list(ev.files) if ev.kind in FILE_EVENTS else [],
        })
    return entries


def _mediation(session, case: Case) -> dict:
    """The mediation parts of the case page: particulars, sessions, recusals, outcome."""
    med = case.mediation if case.type is CaseType.mediation else None
    if med is None:
        return {"mediation": None, "recused_ids": set()}
    sessions = list(session.scalars(select(MediationSession).where(MediationSession.case_id == case.id)
                                    .order_by(MediationSession.scheduled_at, MediationSession.id)))
    recusals = list(session.scalars(select(MediatorRecusal).where(MediatorRecusal.case_id == case.id)
                                    .order_by(MediatorRecusal.id)))
    recused_ids = {r.user_id for r in recusals}
    names_by_id = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(recused_ids)))} \
        if recused_ids else {}
    followup = session.get(Case, med.followup_case_id) if med.followup_case_id else None
    now = services().clock()
    return {
        "mediation": med,
        "amount": money(med.amount),
        "sessions": [{"id": x.id, "at": local_time(x.scheduled_at), "place": x.place, "online": x.online,
                      "held": x.held, "not_held": never_held(med, x), "invited": x.invited,
                      # its time came and went with nothing recorded (it read "not yet" all the same)
                      "overdue_record": not x.held and not never_held(med, x) and as_utc(x.scheduled_at) <= now,
                      "attendees": x.attendees, "summary": x.summary,
                      "internal_notes": x.internal_notes} for x in sessions],
        "rows": sessions,  # what log_session offers (web.desk.choices.move_options)
        "recusals": [{"name": names_by_id.get(r.user_id, "?"), "reason": r.reason, "at": local_time(r.created_at)}
                     for r in recusals],
        "recused_ids": recused_ids,
        "followup_number": followup.number if followup is not None else None,
    }


def _similar(actor: Actor, case: Case) -> list:
    """The similar-cases box: what the viewer may see (the search page's scope)."""
    if case.state in NOT_SIMILAR:
        return []
    from web.desk.search import scope, search_backend

    try:
        return similar_cases(search_backend(), case, allowed_unit_keys=unit_keys(*scope(actor)),
                             now=services().clock(), session=db_session())
    except Exception:  # an index being rebuilt or unreachable must not take the case page down
        current_app.logger.exception("similar cases failed for %s", case.number)
        return []


def _earlier_reports(session, actor: Actor, case: Case) -> list[Case]:
    """The reporter's earlier open reports on the same association that this viewer may see and
    the report may be merged into (办法 第三十五条 合并处理). Who the reporter is stays hidden:
    only the match is shown."""
    return [c for c in merge_candidates(session, case) if can_view_case(actor, c)]


def duplicate_notice(case: Case, number: str) -> str:
    """The default text to the duplicate's complainant, in the case's language."""
    with force_locale(case.locale or "zh_CN"):
        return _("The matter you raised is being handled in case %(number)s.", number=number)


def merged_notice(case: Case, number: str) -> str:
    """The default text to the reporter of a report merged into their earlier one."""
    with force_locale(case.locale or "zh_CN"):
        return _("The new facts you reported are handled together with your earlier report %(number)s; its "
                 "time limit runs again from the day this report was received.", number=number)


def desk_scope(number: str) -> str:
    """The desk's own scope for a case's kept files (web.kept_files), apart from the status page's."""
    return f"desk-{number}"


def move_form(name: str) -> kept_text.Restorable | None:
    """What a move's form may take back after a sign-in: its fields but the files (web.staff.kept_text)."""
    move = MOVES.get(name)
    if move is None:
        return None
    return kept_text.Restorable(move.name, tuple((f.name, _(f.label)) for f in move.fields if f.kind.value != "files"),
                                takes_files=kept_files.has_files(move))


@kept_text.restorable("desk.case_move")
def _sent_move(args: dict) -> kept_text.Restorable | None:
    name = args.get("move", "")
    return None if name not in MOVES or MOVES[name].own_page else move_form(name)


def render_case(actor: Actor, case: Case, *, status: int = 200, error: str | None = None,
                failed_move: str | None = None, values: dict | None = None, errors: dict | None = None,
                respondent_code: str | None = None, code_sent: bool = False,
                contact: dict | None = None, restored: kept_text.Kept | None = None, unit_filter: str | None = None):
    """The case page; ``contact``: the parties' contact details in clear, for the one answer
    to the reveal_contact move (web.desk.reveals.contact_details, never cached); ``restored``: what
    was typed into a form sent after the session ended, put back into that form (``failed_move``);
    ``unit_filter``: the words that narrow the unit list of that form (its Filter button, no script)."""
    session = db_session()
    now = services().clock()
    all_moves = available_moves(actor, case, now)
    names = {m.name for m in all_moves}
    moves = [m for m in all_moves if not m.own_page]  # reveals: the identity box and the custodian's list
    handler = session.get(User, case.handler_id) if case.handler_id else None
    med = _mediation(session, case)
    # the lists the move forms offer: each ``ref`` field names one (its ``choices``), each
    # ``choice`` field lists its enum (web.desk.choices, as the staff API's case does)
    options = move_options(session, actor, case, all_moves, now, sessions=med.get("rows", ()),
                           recused_ids=med["recused_ids"])
    # the units a transfer or a route may go to, grouped by kind and narrowed by what was typed
    # (sent with the form's Filter button, or ?unit_filter= on a link that opens the form)
    needle = unit_filter if unit_filter is not None else request.args.get(UNIT_FILTER, "")
    unit_picker = UnitPicker(receiving_units(session, case) if "units" in options else (), needle)
    show_identity = can_see_identity(actor, case)
    reveal_box = _reveal_box(session, actor, case, names, now)
    can_reveal_contact = contact_move.NAME in names and contact is None
    restored_lost = None
    if restored is not None:
        shown = ({m.name for m in moves} | ({reveal.REQUEST} if reveal_box["can_request"] else set())
                 | ({contact_move.NAME} if can_reveal_contact else set()))
        if restored.form not in shown:  # that move is no longer offered: the text is shown to copy
            form = move_form(restored.form)
            labels = dict(form.fields) if form is not None else {}
            restored_lost = [(labels.get(k, k), v) for k, v in restored.values.items() if v.strip()]
            restored, failed_move, values = None, None, {}
    return render_template(
        "desk/case.html",
        case=case, now=now, overdue=is_overdue(case, now), extended=runs_extended(case), handler=handler,
        extension_waits=extension_asked(case) is not None,
        case_types=CaseType._value2member_map_,
        decided_only=reads_only_as_decider(actor, case),
        assoc_name=association_name(case),
        identity=_masked(case, "complainant") if show_identity else None,
        acting=_acting(case) if show_identity else None,
        respondent=_masked(case, "respondent") if show_identity else None,
        timeline=_timeline(session, case),
        moves=moves, move_names=names, field_options=lambda fd: field_choices(fd, options, case, now),
        # the moves that tell the filer, where no notice reaches them (said in the move's form, with
        # what this viewer can do instead)
        untold=untold_moves(case, moves, reveal_box, contact_control=can_reveal_contact,
                            contact_shown=contact is not None),
        # what a form starts with (the lead's extension: what the handler asked for), unless it was
        # sent; a review decision's starts empty, the decision under review shown beside it (reviewed)
        starts={m.name: {fd.name: v for fd in m.fields if (v := fd.starting_value(case)) is not None}
                for m in moves},
        reviewed=_reviewed(session, case) if "decide_review" in names else None,
        can_claim=("assign" in names and case.handler_id != actor.user_id
                   and any(uid == actor.user_id for uid, _label in options.get("handlers", []))),
        canned=canned_replies(session, case.unit_id) if names & {"reply", "acknowledge_reply"} else [],
        error=error, failed_move=failed_move, values=values or {}, errors=errors or {},
        kept=kept_files.kept(desk_scope(case.number), [m for m in moves if kept_files.has_files(m)]),
        me=actor.user_id, current_unit_id=case.unit_id,
        med=med, respondent_code=respondent_code, code_sent=code_sent,
        similar=_similar(actor, case), can_link=LINK_DUPLICATE in names,
        earlier_reports=(earlier := _earlier_reports(session, actor, case) if MERGE in names else []),
        same_reporter=frozenset(c.number for c in earlier),
        similar_state=lambda v: title(CaseState(v)),
        reveal=reveal_box,
        contact=contact, can_reveal_contact=can_reveal_contact,
        restored=restored, restored_lost=restored_lost, unit_picker=unit_picker,
        unit_filtered=unit_filter is not None,
        restored_typed=[k for k, v in restored.values.items() if v.strip()] if restored else [],
    ), status


def _reviewed(session, case: Case) -> dict | None:
    """The decision a review or re-review decides on, shown read only above the decision's form
    and labelled as the earlier decision: the form itself starts empty (信访工作条例 第三十五、
    三十六条: the deciding body makes its own opinion)."""
    ev = decision_under_review(case)
    if ev is None:
        return None
    data = ev.data or {}
    unit = session.get(Unit, data["unit_id"]) if isinstance(data.get("unit_id"), int) else None
    finding = Finding._value2member_map_.get(data.get("finding"))
    opinion = Opinion._value2member_map_.get(data.get("opinion"))
    return {
        "what": _("Reply (handling opinion)") if ev.kind is EventKind.replied else _("Review decision (复查意见)"),
        "unit": unit_title(unit) if unit is not None else None, "at": local_time(ev.created_at),
        "finding": title(finding) if finding is not None else None,
        "opinion": title(opinion) if opinion is not None else None,
        "legal_basis": data.get("legal_basis"), "text": ev.public_text,
    }


HANDING_ON = frozenset({"route", "transfer"})  # the moves that give the case to another unit


def untold_moves(case: Case, moves, reveal_box: dict, *, contact_control: bool, contact_shown: bool) -> dict[str, str]:
    """The moves shown that tell the filer, on a case whose filer no notice reaches, each with what
    its form says this viewer can do instead, on this page: ``contact`` (the 查看联系方式 box),
    ``contact_shown`` (its answer, on the page now); on a report, whose reporter's contact details
    are never named without an audited reveal, ``request_reveal`` or ``show_identity`` (the
    identity box); with neither, ``next_unit`` (a route or a transfer: the unit that receives the
    case can) or ``query_code`` (the filer learns of it on the status page)."""
    if complainant_reachable(case):
        return {}
    if case.type is CaseType.report:
        own = "show_identity" if reveal_box["active"] else "request_reveal" if reveal_box["can_request"] else None
        held = reveal_box["has_identity"]
    else:
        own = "contact_shown" if contact_shown else "contact" if contact_control else None
        held = contact_move.has_contact(case)
    return {m.name: own or ("next_unit" if held and m.name in HANDING_ON else "query_code")
            for m in moves if Notice.complainant in m.notices}


def _reveal_box(session, actor: Actor, case: Case, names: set[str], now) -> dict:
    """The identity box of a report and the original-file buttons."""
    from casework.privacy.models import RevealRequest

    mine = None
    if case.type is CaseType.report and actor.user_id is not None:
        mine = session.scalar(select(RevealRequest).where(
            RevealRequest.case_id == case.id, RevealRequest.requested_by == actor.user_id)
            .order_by(RevealRequest.id.desc()).limit(1))
    active = reveal.active_reveal(session, actor, case, now)
    return {
        "report": case.type is CaseType.report,
        "has_identity": reveal.has_identity(case),
        # the row's guards: an identity to see, nothing of one's own waiting or running
        "can_request": reveal.REQUEST in names,
        "mine": mine, "active": active,
        "expires": local_time(active.expires_at) if active else None,
        "originals": reveal.may_open_original(session, actor, case, now),
        "needs_reason": case.type is not CaseType.report,
    }


@bp.get("/cases/<number>")
def case_page(number: str):
    actor = current_actor()
    case = _load(number, actor)
    user_id = current_user().id
    code = _answer_code(case.number, user_id)
    kept = kept_text.take(user_id)  # what a form sent after the session ended held
    if kept is not None:
        return render_case(actor, case, failed_move=kept.form, values=kept.values, restored=kept, **code)
    return render_case(actor, case, **code)


def _answer_code(number: str, user_id: int) -> dict:
    """The respondent's answer code the move's 303 led here with (and whether it went by text
    message too), taken: this page shows it once, a reload without it."""
    taken = take_once(ANSWER_CODE, number=number, user=user_id)
    code = taken[1].get("code") if taken is not None else None
    if not isinstance(code, str) or not code:
        return {}
    return {"respondent_code": code, "code_sent": taken[1].get("sent") is True}


@bp.post("/cases/<number>/moves/<move>")
def case_move(number: str, move: str):
    actor = current_actor()
    case = _load(number, actor)
    if move not in MOVES or MOVES[move].own_page:
        abort(404)  # reveals have their own routes (web.desk.reveals)
    session = db_session()
    fields = move_fields.from_form(MOVES[move], request.form, request.files)
    send = kept_files.Send(desk_scope(case.number), MOVES[move], fields)  # files kept from a refused send
    if move == LINK_DUPLICATE and not fields.get("public_text", "").strip() and fields["duplicate_of"].strip():
        fields["public_text"] = duplicate_notice(case, normalize_number(fields["duplicate_of"])[:20])
    if move == MERGE and not fields.get("public_text", "").strip() and fields["merge_into"].strip():
        fields["public_text"] = merged_notice(case, normalize_number(fields["merge_into"])[:20])
    if UNIT_FILTER_GO in request.form:  # the unit list narrowed (no script): nothing done, all typed kept
        send.refused()
        return render_case(actor, case, failed_move=move, values=fields,
                           unit_filter=request.form.get(UNIT_FILTER, "")[:100])
    unit_before, state_before = case.unit_id, case.state
    try:
        event = perform(session, services(), actor, case, move, version=request.form.get("version", ""), **fields)
    except WorkflowError as err:
        discard_changes()
        send.refused()
        case = _load(number, actor)  # after a 409: the case as it is now
        errors = tr_errors(err.errors)
        # an error about a field this form does not show goes into the message at the top
        stray = [m for name, msgs in errors.items() if name not in fields for m in msgs]
        return render_case(actor, case, status=err.status, error=" ".join([tr(err.message), *stray]),
                           failed_move=move, values=fields, errors=errors)
    send.done()
    action = for_round(_(MOVES[move].title), state_before)  # 作出复查决定 or 作出复核决定, as its form said
    code = getattr(event, "respondent_code", None)
    if can_view_case(actor, case):
        if code:  # shown once, on the page the 303 leads to; never in its address nor in the cookie
            keep_once(ANSWER_CODE, {"code": code, "sent": bool((event.data or {}).get("respondent_invited_by_sms"))},
                      minutes=ANSWER_CODE_MINUTES, number=case.number, user=actor.user_id)
        flash(_("Done: %(action)s.", action=action), "success")
        if (event.data or {}).get("invited") is False:  # a session entered at or after its time
            flash(_("The session's time has passed: no invitation was sent to the parties. Record how it went "
                    "(%(log)s).", log=_(MOVES["log_session"].title)), "warning")
        return redirect(url_for("desk.case_page", number=case.number), code=303)
    # transferred or routed away: the case has left this desk, for which unit is said
    if case.unit_id != unit_before and case.unit is not None:
        flash(_("Case %(number)s: %(action)s done, to %(unit)s; it is no longer in your queue.", number=case.number,
                action=action, unit=unit_title(case.unit)), "success")
    else:
        flash(_("Case %(number)s: %(action)s done; it is no longer in your queue.", number=case.number, action=action),
              "success")
    if unit_before is not None and can_work_unit(actor, unit_before):
        return redirect(url_for("desk.unit_queue", unit_id=unit_before), code=303)
    return redirect(url_for("desk.home"), code=303)


@bp.post("/cases/<number>/moves/<move>/preview")
def case_move_preview(number: str, move: str):
    """The written notice the move would issue with what is typed in its form, marked as a
    preview (casework.documents.preview): nothing is done, nothing is sent. The form's button
    opens it in a new tab, so the form stays as it was typed, with or without a script."""
    from flask import Response

    from casework.documents.preview import NoDocument, preview

    actor = current_actor()
    case = _load(number, actor)
    if move not in MOVES or MOVES[move].own_page or MOVES[move].document is None:
        abort(404)
    fields = move_fields.from_form(MOVES[move], request.form, request.files)
    try:
        pdf, kind = preview(db_session(), services(), actor, case, move, version=request.form.get("version", ""),
                            **fields)
    except WorkflowError as err:
        discard_changes()
        case = _load(number, actor)
        errors = tr_errors(err.errors)
        stray = [m for name, msgs in errors.items() if name not in fields for m in msgs]
        return render_case(actor, case, status=err.status, error=" ".join([tr(err.message), *stray]),
                           failed_move=move, values=fields, errors=errors)
    except NoDocument:
        discard_changes()
        flash(_("This action, with what was typed, issues no written notice."), "warning")
        return render_case(actor, _load(number, actor), status=422, failed_move=move, values=fields)
    name = f"{case.number}-{kind.replace('_', '-')}-preview.pdf"
    return Response(pdf, 200, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store, max-age=0",
        "X-Content-Type-Options": "nosniff"})


@bp.get("/cases/<number>/agreement.pdf")
def case_agreement(number: str):
    actor = current_actor()
    case = _load(number, actor)
    if case.type is not CaseType.mediation:
        abort(404)
    return agreement_response(case)

