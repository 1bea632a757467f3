"""The staff JSON API: a unit's queue, a case, and the moves on it, for a bearer token; and
the identity custodian's reveal requests.

The same rules as the desk: a queue needs ``can_work_unit``; a case the caller may not
see answers 404 exactly like a number never issued; every move goes through the state
machine, whose refusals come back with its status (403, 409, 422) and messages in the
caller's language (Accept-Language). A custodian sees no case content: like the desk's
``/desk/reveals``, ``/reveals`` lists the requests waiting in their units and decides one by
its id (the move ``decide_reveal``).

Both POSTs honour an ``Idempotency-Key`` header as the filing API does (casework.idempotency):
the same key with the same request answers the move made (the case, or the request, as it is
now; header ``Idempotent-Replayed: true``), never a second move nor a 409 for the version the
first one used up; the same key with another request is answered 422. What was shown once (a
respondent's answer code, a revealed contact) is not shown again.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.accounts.actor import Actor
from casework.accounts.models import Role, User
from casework import idempotency as keys
from casework.accounts.permissions import (
    can_decide_reveals, can_oversee_unit, can_triage, can_view_case, can_work_unit,
)
from casework.cases.models import Case, CaseType, Category
from casework.cases.numbers import normalize_number
from casework.cases.queue import SUPERVISION_TAB, TABS, QueueFilter, queue_page, supervision_count, tab_counts
from casework.privacy.models import RevealRequest, RevealStatus
from casework.registry.models import Association, Unit
from casework.workflow import reveal
from casework.workflow.machine import MOVES, StaleCase, WorkflowError, perform
from web import idempotency, move_fields, request_limits
from web.auth import current_actor, current_user
from web.desk_api.blueprint import bp
from web.desk_api.serialize import case_detail, case_summary, handler_names, iso, unit_ref
from web.i18n import current_locale, title, tr, tr_errors
from web.requestdb import db_session, discard_changes, services
from web.request_limits import as_id

SORTS = ("due", "-due", "new")
# the supervision tab's own order, its default: the 督办单's report date, then the deadline (as the desk's)
SUPERVISION_SORTS = ("notice", *SORTS)
QUEUE_TABS = (*TABS, SUPERVISION_TAB)
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}
PER_PAGE, MAX_PER_PAGE = 25, 100
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


def _error(status: int, message: str, **extra):
    return jsonify({"error": {"status": status, "message": message}, **extra}), status


def _invalid(errors: dict[str, list[str]]):
    return _error(422, _("Please check the marked fields."), errors=errors)


# -- who am I ---------------------------------------------------------------------------

@bp.get("/me")
def me():
    user = current_user()
    actor = current_actor()
    units = {u.id: u for u in db_session().scalars(select(Unit).where(Unit.id.in_(actor.unit_ids())))}
    return jsonify({
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "units": [
            {**unit_ref(units[uid]), "roles": [
                {"role": r.value, "title": title(r)}
                for r in Role if r in actor.roles_in(uid)
            ]}
            for uid in sorted(units)
        ],
    })


# -- the queue --------------------------------------------------------------------------

def _flag(args, name: str, errors: dict) -> bool:
    raw = (args.get(name) or "").strip().lower()
    if raw in TRUE:
        return True
    if raw not in FALSE:
        errors[name] = [_("Use true or false.")]
    return False


def _int(args, name: str, errors: dict, *, default: int | None, lo: int, hi: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not lo <= int(raw) <= hi:
        errors[name] = [_("A whole number from %(lo)d to %(hi)d, please.", lo=lo, hi=hi)]
        return default
    return int(raw)


def _queue_unit(actor: Actor, raw: str, errors: dict) -> tuple[bool, int | None]:
    """(allowed, unit id); unit id None is the triage queue."""
    raw = raw.strip()
    if not raw:
        workable = sorted(u for u in actor.unit_ids(Role.handler, Role.unit_lead) if can_work_unit(actor, u))
        if workable:
            return True, workable[0]
        return can_triage(actor), None
    if raw == "triage":
        return can_triage(actor), None
    if as_id(raw) is None:
        errors["unit"] = [_("Give a unit id (see /api/v1/desk/me) or \u201ctriage\u201d.")]
        return True, None
    return can_work_unit(actor, int(raw)), int(raw)


@bp.get("/cases")
def queue():
    actor = current_actor()
    session = db_session()
    now = services().clock()
    args = request.args
    errors: dict[str, list[str]] = {}
    allowed, unit_id = _queue_unit(actor, args.get("unit", ""), errors)
    if not allowed:
        return _error(403, _("You may not work this unit's queue."))
    f = QueueFilter(unit_id=unit_id, now=now)
    tab = args.get("tab", "").strip()
    if tab and tab not in QUEUE_TABS:
        errors["tab"] = [_("Choose one of: %(choices)s.", choices=", ".join(QUEUE_TABS))]
    f.tab = tab or "pending"
    # the supervision tab: a unit's lead reads the whole unit's, a handler only their own cases
    oversee = unit_id is not None and can_oversee_unit(actor, unit_id)
    raw_type = args.get("type", "").strip()
    if raw_type:
        try:
            f.case_type = CaseType(raw_type)
        except ValueError:
            errors["type"] = [_("Choose one of: %(choices)s.", choices=", ".join(t.value for t in CaseType))]
    code = args.get("category", "").strip()
    if code:
        f.category_id = session.scalar(select(Category.id).where(Category.code == code[:64]))
        if f.category_id is None:
            errors["category"] = [_("No category has this code.")]
    credit = args.get("association", "").strip().upper()
    if credit:
        f.association_id = session.scalar(select(Association.id).where(Association.credit_code == credit[:18]))
        if f.association_id is None:
            errors["association"] = [_("No association has this credit code.")]
    f.overdue = _flag(args, "overdue", errors)
    if _flag(args, "mine", errors) or (f.supervision and not oversee):
        f.handler_id = actor.user_id
    f.due_within_days = _int(args, "due_within", errors, default=None, lo=0, hi=366)
    sorts = SUPERVISION_SORTS if f.supervision else SORTS
    f.sort = args.get("sort", "").strip() or sorts[0]
    if f.sort not in sorts:
        errors["sort"] = [_("Choose one of: %(choices)s.", choices=", ".join(sorts))]
    f.page = _int(args, "page", errors, default=1, lo=1, hi=100_000)
    f.per_page = _int(args, "per_page", errors, default=PER_PAGE, lo=1, hi=MAX_PER_PAGE)
    if errors:
        return _invalid(errors)
    rows, total = queue_page(session, f)
    names = handler_names(session, rows)
    return jsonify({
        "unit": unit_ref(session.get(Unit, unit_id)) if unit_id is not None else None,
        "tab": f.tab if unit_id is not None else "triage",
        "items": [case_summary(c, names, now) for c in rows],
        "page": f.page,
        "per_page": f.per_page,
        "total": total,
        "counts": _counts(session, unit_id, actor, oversee, now),
    })


def _counts(session, unit_id: int | None, actor: Actor, oversee: bool, now) -> dict[str, int]:
    """Each tab's count, as on the desk: the supervision tab's of what this actor reads there."""
    counts = tab_counts(session, unit_id)
    if unit_id is not None:
        counts[SUPERVISION_TAB] = supervision_count(session, unit_id, now, None if oversee else actor.user_id)
    return counts


# -- one case ---------------------------------------------------------------------------

def _json_object():
    """(the request's JSON object, None), or (None, the error answer)."""
    data, refused = request_limits.read_json_object(_("Send the move as JSON (Content-Type: application/json)."))
    if refused is None:
        return data, None
    status, what = refused
    return None, (_invalid(what) if status == 422 else _error(status, what))


def _load(number: str) -> Case | None:
    return db_session().scalar(
        select(Case).where(Case.number == normalize_number(number)[:20])
        .options(selectinload(Case.events), selectinload(Case.attachments))
    )


def _not_found():
    return _error(404, _("No case with this number is open to you."))


def _detail(actor: Actor, case: Case) -> dict:
    return case_detail(db_session(), services().cipher, actor, case, services().clock())


@bp.get("/cases/<case_number>")
def case_view(case_number: str):
    actor = current_actor()
    found = _load(case_number)
    if found is None or not can_view_case(actor, found):
        return _not_found()  # the same answer for "no such case" and "not yours"
    return jsonify(_detail(actor, found))


class _Keyed:
    """The Idempotency-Key of a staff POST, bound to what it asks (``what``: the case and the
    move, or the reveal request) and its body."""

    def __init__(self, actor: Actor, what: str, data: dict):
        self.user_id = actor.user_id
        self.key = request.headers.get("Idempotency-Key")
        self.digest = keys.request_digest("POST", what, data) if self.key else None

    def done(self):
        """(the move made under the key, None); (None, the 422 answer) for another request under
        it; (None, None) without a key or before the move was made."""
        if not self.key:
            return None, None
        try:
            return keys.remembered(db_session(), self.user_id, self.key, self.digest, services().clock()), None
        except keys.KeyReused:
            return None, _invalid({"Idempotency-Key": [_(idempotency.STAFF_REUSED)]})

    def remember(self, case_id: int) -> None:
        if self.key:
            keys.remember(db_session(), self.user_id, self.key, self.digest, case_id, services().clock())


def _key_refused():
    """The 422 answer to a malformed Idempotency-Key, or None."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not idempotency.KEY.match(key):
        return _invalid({"Idempotency-Key": [_(idempotency.KEY_HINT)]})
    return None


@bp.post("/cases/<case_number>/<move>")
def make_move(case_number: str, move: str):
    actor = current_actor()
    session = db_session()
    refused = _key_refused()
    if refused is not None:
        return refused
    found = _load(case_number)
    if found is None:
        return _not_found()
    data = keyed = None
    if request.headers.get("Idempotency-Key"):
        # before the case's visibility: a move that sent the case to another unit answers again
        data, refused = _json_object()
        if refused is not None:
            return refused if can_view_case(actor, found) else _not_found()
        keyed = _Keyed(actor, f"cases/{found.number}/{move}", data)
        done, refused = keyed.done()
        if done is not None and done.case_id == found.id:  # the move was made: its answer again, the case now
            return jsonify(_detail(actor, found)), 200, idempotency.REPLAYED
        if refused is not None and can_view_case(actor, found):
            return refused
    if not can_view_case(actor, found):
        return _not_found()
    if move not in MOVES:
        return _error(404, _("There is no such action."))
    if data is None:
        data, refused = _json_object()
        if refused is not None:
            return refused
        keyed = _Keyed(actor, f"cases/{found.number}/{move}", data)
    fields, errors = move_fields.from_json(MOVES[move], data)
    version = data.get("version")
    if version is None:
        errors["version"] = [_("This field is required.")]
    elif isinstance(version, bool) or not isinstance(version, int):
        errors["version"] = [_("Give the version as a whole number (from the case you read).")]
    if errors:
        return _invalid(errors)
    try:
        event = perform(session, services(), actor, found, move, version=version, **fields)
        keyed.remember(found.id)
    except WorkflowError as err:
        discard_changes()
        done, _refused = keyed.done()
        if done is not None:  # the same request under the key, sent twice at once: the other made the move
            return jsonify(_detail(actor, _load(case_number))), 200, idempotency.REPLAYED
        extra = {}
        if isinstance(err, StaleCase):
            current = _load(case_number)
            extra["case"] = _detail(actor, current)
        if err.errors:
            extra["errors"] = tr_errors(err.errors)
        return _error(err.status, tr(err.message), **extra)
    # the case as it is now, even when the move sent it away from the caller's unit (their
    # own move; identity is then hidden, as can_see_identity no longer holds)
    body = _detail(actor, _load(case_number))
    code = getattr(event, "respondent_code", None)
    if code:
        body["respondent_code"] = code  # shown this once; only its hash is kept
    contact = getattr(event, "contact", None)
    if contact is not None:  # reveal_contact: in this answer only, recorded with its reason, never cached
        body["contact"] = contact
        return jsonify(body), 200, {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}
    return jsonify(body)


# -- the identity custodian: requests to see a reporter's identity --------------------------

def _reveal(req: RevealRequest, names: dict[int, str], me: int | None) -> dict:
    """A request as the custodian's list shows it: the case's number and category, who asked,
    when and why; nothing of the report's content or identity."""
    case = req.case
    return {
        "id": req.id,
        "case_number": case.number,
        "category": case.category.code,
        "category_title": case.category.display_name(current_locale()),
        "unit": unit_ref(case.unit),
        "requested_by": {"id": req.requested_by, "name": names.get(req.requested_by, "")},
        "requested_at": iso(req.requested_at),
        "reason": req.reason,
        "own": req.requested_by == me,  # one's own request: another custodian decides it
        "status": req.status.value,
        "status_title": title(req.status),
        "decided_at": iso(req.decided_at),
        "expires_at": iso(req.expires_at),
        "note": req.note if req.decided_by == me else None,
    }


def _names(requests: list[RevealRequest]) -> dict[int, str]:
    ids = {r.requested_by for r in requests}
    return ({u.id: u.display_name for u in db_session().scalars(select(User).where(User.id.in_(ids)))}
            if ids else {})


@bp.get("/reveals")
def reveal_list():
    """The requests waiting in the caller's units (as custodian), oldest first, and the
    caller's own last 20 decisions: ``/desk/reveals`` as JSON."""
    actor = current_actor()
    if not can_decide_reveals(actor):
        return _error(403, _("Only an identity custodian decides these requests."))
    session = db_session()
    pending = list(session.scalars(
        select(RevealRequest).join(Case, Case.id == RevealRequest.case_id)
        .where(RevealRequest.status == RevealStatus.pending, Case.unit_id.in_(actor.unit_ids(Role.custodian)))
        .order_by(RevealRequest.requested_at, RevealRequest.id)))
    decided = list(session.scalars(
        select(RevealRequest).where(RevealRequest.decided_by == actor.user_id)
        .order_by(RevealRequest.decided_at.desc(), RevealRequest.id.desc()).limit(20)))
    names = _names(pending + decided)
    return jsonify({"pending": [_reveal(r, names, actor.user_id) for r in pending],
                    "decided": [_reveal(r, names, actor.user_id) for r in decided]}), 200, NO_STORE


@bp.post("/reveals/<int:request_id>")
def reveal_decide(request_id: int):
    """Decide a request: ``{"decision": "approve" | "deny", "note": "..."}``; the move
    ``decide_reveal`` on the report, through the state machine (an event and an audit entry).
    A request outside the caller's units answers 404, as one that does not exist."""
    actor = current_actor()
    if not can_decide_reveals(actor):
        return _error(403, _("Only an identity custodian decides these requests."))
    refused = _key_refused()
    if refused is not None:
        return refused
    session = db_session()
    req = session.get(RevealRequest, request_id)
    if req is None or req.case.unit_id not in actor.unit_ids(Role.custodian):
        return _error(404, _("No request with this id is open to you."))
    data, refused = _json_object()
    if refused is not None:
        return refused
    keyed = _Keyed(actor, f"reveals/{request_id}", data)
    done, refused = keyed.done()
    if done is not None:  # decided under this key: the request as it is now
        return jsonify(_reveal(req, _names([req]), actor.user_id)), 200, {**NO_STORE, **idempotency.REPLAYED}
    if refused is not None:
        return refused
    fields, errors = move_fields.from_json(MOVES[reveal.DECIDE], {**data, "request_id": request_id})
    if errors:
        return _invalid(errors)
    try:
        perform(session, services(), actor, req.case, reveal.DECIDE, **fields)
        keyed.remember(req.case_id)
    except WorkflowError as err:
        discard_changes()
        extra = {"errors": tr_errors(err.errors)} if err.errors else {}
        return _error(err.status, tr(err.message), **extra)
    return jsonify(_reveal(req, _names([req]), actor.user_id)), 200, NO_STORE
