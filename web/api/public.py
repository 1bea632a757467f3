"""The public JSON API: what a mini-program or a hotline system needs to file and track."""
from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _, ngettext

from casework.i18n import bilingual
from casework import reference
from casework.cases.models import CaseType, Channel
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_for_lookup, lookup_row
from casework.intake import operations as ops
from casework.intake.validation import validate_submission
from casework.registry.lookup import lookup as registry_lookup
from web import idempotency, request_limits
from web.api.answers import answers
from web.api.blueprint import bp
from web.api.shape import shape_errors
from web.lookup_limit import failures_limited
from web.i18n import current_locale, title, tr_errors
from web.presenters import public_case, utc_time
from web.requestdb import database, db_session, services

OPENAPI = Path(__file__).with_name("openapi.json")


@functools.cache
def openapi_document() -> bytes:
    """The OpenAPI file, with the staff moves' part made from the workflow table."""
    from web.move_fields import openapi_moves

    spec = openapi_actions(openapi_moves(json.loads(OPENAPI.read_bytes())))
    return json.dumps(spec, ensure_ascii=False, indent=1).encode()


@bp.get("/openapi.json")
def openapi():
    return Response(openapi_document(), mimetype="application/json")


@bp.get("/categories")
def categories():
    locale = current_locale()
    rows = reference.categories(db_session()).offered()  # the cached reference data (casework.reference)
    return jsonify({"items": [
        {
            "code": c.code,
            "group": c.group.value,
            "name": c.display_name(locale),
            "name_zh": c.name,
            "name_en": c.name_en,
            "case_types": [t.value for t in CaseType if t.category_group == c.group],
        }
        for c in rows
    ]})


LIMIT_MAX = 50  # the type-ahead's longest list


@bp.get("/associations")
def associations():
    q = request.args.get("q", "")[:100]
    raw = (request.args.get("limit") or "").strip()
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else None
    if raw and (limit is None or not 1 <= limit <= LIMIT_MAX):  # as the staff API answers its parameters
        return _unprocessable({"limit": [_("A whole number from %(lo)d to %(hi)d, please.", lo=1, hi=LIMIT_MAX)]})
    limit = limit or 20
    locale = current_locale()
    return jsonify({"items": [
        {
            "credit_code": a.credit_code,
            "name": bilingual(a.name, a.name_en, locale),
            "name_zh": a.name,
            "abbreviation": a.abbreviation,
            "level": a.level.value,
            "region_code": a.region_code,
            "status": a.status.value,
        }
        for a in registry_lookup(db_session(), q, limit=limit)
    ]})


def _unprocessable(errors: dict[str, list[str]]):
    return jsonify({"errors": errors}), 422


def _read_json(not_json: str):
    """The request's JSON object, and None; or None and the answer: 415 not sent as JSON (the
    message ``not_json``), 400 not JSON or nested too deep, 422 JSON but not an object."""
    data, refused = request_limits.read_json_object(not_json)  # JSON only: no cross-site form sends it
    if refused is None:
        return data, None
    status, what = refused
    return None, (_unprocessable(what) if status == 422 else _error(status, what))


def _too_many(message: str, seconds: int, **extra):
    """A 429 with the seconds to wait in Retry-After."""
    resp = jsonify({"error": {"status": 429, "message": message}, **extra})
    resp.status_code = 429
    resp.headers["Retry-After"] = str(max(1, int(seconds)))
    return resp


@bp.post("/cases")
def create_case():
    data, refused = _read_json(_("Send the case as JSON (Content-Type: application/json)."))
    if refused is not None:
        return refused
    key = request.headers.get("Idempotency-Key")
    if key is not None and not idempotency.KEY.match(key):
        return _unprocessable({"Idempotency-Key": [_(idempotency.KEY_HINT)]})
    session = db_session()
    svc = services()
    idem = ops.scoped_key("api", key) if key else None
    digest = ops.request_digest(data) if idem else None  # what a key is bound to: only with a key
    if idem:
        try:
            replay = ops.find_receipt(session, svc, idem, digest)
        except ops.KeyReused:
            idempotency.replay_refused(idem)
            return _unprocessable({"Idempotency-Key": [_(idempotency.REUSED)]})
        if replay is not None:
            if idempotency.replay_refused(idem):
                return _too_many(_("Too many attempts. Please wait a few minutes and try again."),
                                 idempotency.retry_after(idem))
            return _created(replay)
    sub, errors = validate_submission(session, data, locale=current_locale())
    errors = tr_errors(errors)
    shape = shape_errors(data)  # unknown fields and JSON types: said in place of what validation made of them
    errors.update(shape)
    power_of_attorney = None if any(k.startswith("agent") for k in shape) else _power_of_attorney(data, errors)
    if errors:
        return _unprocessable(errors)
    verified, refused = _phone_proof(session, data, sub)
    if refused is not None:
        return refused
    try:
        receipt = ops.submit_case(session, svc, sub, channel=Channel.api, idempotency_key=idem,
                                  idempotency_digest=digest, power_of_attorney=power_of_attorney,
                                  phone_verified=verified)
    except ops.KeyReused:  # another request under the key won the race
        return _unprocessable({"Idempotency-Key": [_(idempotency.REUSED)]})
    return _created(receipt)


def _power_of_attorney(data: dict, errors: dict):
    """The agent's 授权委托书 (``agent.power_of_attorney``: ``{"name", "content_base64"}``),
    decoded and cleaned as every upload is, or None; its problems go to ``errors``."""
    from casework.intake.files import UploadRejected, inspect_upload
    from web.i18n import tr
    from web.move_fields import _json_files

    agent = data.get("agent")
    value = agent.get("power_of_attorney") if isinstance(agent, dict) else None
    if not value or "agent.power_of_attorney" in errors:
        return None
    uploads, problems = _json_files([value])
    if problems:
        errors.setdefault("agent.power_of_attorney", []).extend(problems)
        return None
    limit = services().settings.max_file_bytes
    try:
        return inspect_upload(uploads[0].filename or "power_of_attorney", uploads[0].data, max_bytes=limit)
    except UploadRejected as rej:
        errors.setdefault("agent.power_of_attorney", []).append(tr(rej.message))
        return None


def _client_user():
    """The staff user of a registered API client's token (Authorization: Bearer …), or None."""
    from casework.accounts.operations import user_for_token

    header = request.headers.get("Authorization", "")
    return user_for_token(db_session(), header[7:].strip()) if header.startswith("Bearer ") else None


def _phone_proof(session, data: dict, sub):
    """How the complainant's number is proved (issue 19): a verification's id and code
    (``sms``), a registered client vouching (``api_client``), or not at all (the case is filed,
    nothing is ever sent to the number); and an error answer, or None."""
    from web import phone_verify
    from web.requestdb import keep_on_error

    if not sub.complainant.phone or sub.anonymous:
        return None, None
    proof = data.get("verification")
    if proof is not None:
        if not isinstance(proof, dict) or not isinstance(proof.get("id"), str) or not isinstance(proof.get("code"), str):
            return None, _unprocessable({"verification": [_("Give the verification as {\"id\": …, \"code\": …}.")]})
        phone = sub.complainant.phone
        checked = phone_verify.check(session, proof["id"], phone, proof["code"])
        if not checked.ok:
            keep_on_error()  # the wrong code is counted
            text = (_("No code was sent to this number under this verification id, or it was used already: "
                      "ask for a new code with POST /api/v1/verifications.")
                    if checked.reason == "unknown" else phone_verify.checked_text(checked, phone, None))
            body = {"errors": {"verification": [text]}, "tries_left": checked.tries_left}
            if checked.reason == "dead":
                resp = jsonify(body)
                resp.status_code = 429
                resp.headers["Retry-After"] = str(phone_verify.dead_wait(checked, phone, None))
                return None, resp
            return None, (jsonify(body), 422)
        from casework.verify.service import use

        use(checked.verification, services())
        return "sms", None
    if data.get("phone_verified_by_client") is True:
        if _client_user() is None:
            return None, _unprocessable({"phone_verified_by_client": [_(
                "Only a registered API client (with its token) may vouch for a phone number.")]})
        return "api_client", None
    return None, None


@bp.post("/verifications")
def create_verification():
    """Send a 6-digit code by SMS to a mainland mobile number; the answer is the verification's
    id, to send with the code when filing (``verification``)."""
    from casework.intake.validation import normalize_mobile
    from casework.verify.service import CODE_MINUTES, Refused
    from web import phone_verify

    data, refused = _read_json(_("Send the request as JSON (Content-Type: application/json)."))
    if refused is not None:
        return refused
    raw = data.get("phone")
    if raw is None:
        return _unprocessable({"phone": [_("This field is required.")]})
    if not isinstance(raw, str):
        return _unprocessable({"phone": [_("Give this as text.")]})
    phone = normalize_mobile(raw)
    if phone is None:
        return _unprocessable({"phone": [_("Please give a mainland China mobile number (11 digits, e.g. 13800138000).")]})
    header = request.headers.get("Authorization", "")
    client = _client_user()
    client_key = f"api-client:{header[7:].strip()}" if client is not None else None
    try:
        verification = phone_verify.send(db_session(), phone=phone, purpose="api", locale=current_locale(),
                                         client_key=client_key)
    except Refused as no:
        return _too_many(phone_verify.refused_text(no), no.retry_after)
    return jsonify({"id": verification.id, "expires_in": CODE_MINUTES * 60, "resend_after": 60}), 201


def _created(receipt):
    body = {"case_number": receipt.case_number, "query_code": receipt.query_code, "state": receipt.state.value}
    resp = jsonify(body)
    resp.status_code = 201
    if receipt.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    resp.headers["Location"] = f"/api/v1/cases/{receipt.case_number}"
    return resp


def _header_number_key() -> str:
    return "lookup:" + normalize_number(request.view_args.get("number", ""))[:20]


def _right_code() -> bool:
    """A correct code is never refused (only failures count, see web.public.opened). Nothing of
    the case is loaded here: the view loads what it shows, or finds its answer kept."""
    return _row_by_code(request.view_args.get("number", "")) is not None


def _lookups_refused(limit):
    """Past the limit: JSON, with how long a wrong code stays refused (Retry-After)."""
    seconds = max(1, int(limit.reset_at - time.time()))
    minutes = max(1, math.ceil((limit.reset_at - time.time() - 1) / 60))  # reset_at is a whole second past the window
    return _too_many(ngettext(
        "Too many wrong codes were tried for this case number. For the next %(num)d minute a wrong "
        "code is refused; check the code you were given and try again.",
        "Too many wrong codes were tried for this case number. For the next %(num)d minutes a wrong "
        "code is refused; check the code you were given and try again.", minutes), seconds)


# every route that takes a case number and its X-Query-Code (reading the case, its documents,
# acting on it) counts wrong codes against one budget per number (docs/security.md: 10 per 10
# minutes); the web's track and respond forms have their own (web.public.opened). Only failures
# count and only failures are refused: a right code always answers.
lookup_limited = failures_limited(scope="api-lookup", key=_header_number_key, right_code=_right_code,
                                  refused=_lookups_refused)


@bp.get("/cases/<number>")
@lookup_limited
def get_case(number: str):
    row = _row_by_code(number)
    if row is None:
        return _no_case()
    kept, now = answers(), services().clock()
    version = reference.recent(database().engine, db_session).version
    key = _answer_key(row, version)
    body = kept.get(key, now)
    if body is None:  # the case is loaded after its row, in the same transaction: as new as the key or newer
        body = jsonify(_public(_case_by_code(number))).get_data()
        kept.put(key, body, now)
    return current_app.response_class(body, mimetype=current_app.json.mimetype)


def _answer_key(row, reference_version) -> tuple:
    """What a kept answer depends on besides the day (web.api.answers): the case's row's stamps,
    the reference data's version, the language and the script root. The case is named by its
    code's stored hash, not its id: made with a random code, it is another case's in a database
    made again with the same ids (a test's, a demo's)."""
    return (row.query_code_hash, row.version, row.updated_at, reference_version, current_locale(),
            request.script_root)


@bp.get("/cases/<number>/documents/<int:document_id>")
@lookup_limited
def case_document(number: str, document_id: int):
    """A written notice of the case (受理告知书 … 复核意见书) as the status page serves it: the
    PDF, never cached; 404 for a wrong code or number alike, and for a document not of this case."""
    from casework.documents.operations import case_document as find, document_bytes, document_filename
    from casework.privacy.crypto import DecryptionError

    case = _case_by_code(number)
    if case is None:
        return _no_case()
    doc = find(db_session(), case, document_id)
    try:
        data = document_bytes(services(), doc) if doc is not None else None
    except (LookupError, OSError, DecryptionError):
        data = None
    if data is None:
        return _error(404, _("This case has no document with this id."))
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{document_filename(case, doc)}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/cases/<number>/files/<int:attachment_id>")
@lookup_limited
def case_file(number: str, attachment_id: int):
    """A document staff attached to a reply (the copy without metadata), as the status page
    serves it (web.public.documents.track_file); the complainant's own files and another case's
    are a 404."""
    from urllib.parse import quote

    from casework.privacy.crypto import DecryptionError

    case = _case_by_code(number)
    if case is None:
        return _no_case()
    att = next((a for a in case.attachments if a.id == attachment_id), None)
    data = None
    if att is not None and att.from_staff and att.erased_at is None:
        try:
            data = services().files.get(att.storage_key, "staff")
        except (LookupError, OSError, DecryptionError):
            data = None
    if data is None:
        return _error(404, _("This case has no file with this id."))
    resp = Response(data, mimetype=att.content_type or "application/octet-stream")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(att.filename)}"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# -- what the status page lets the complainant do, for mini-programs and hotline systems ---------

# an action's name in the API -> the workflow table's moves it stands for, the first whose case
# types include the case's (a report's withdrawal is recorded, not a state change)
ACTIONS: dict[str, tuple[str, ...]] = {
    "answer": ("supply_info",),
    "add_evidence": ("add_evidence",),
    "rate": ("rate",),
    "review": ("request_review",),
    "urge": ("urge",),
    "withdraw": ("withdraw", "withdraw_report"),
    # a mediation's applicant: end the mediation, ask for a mediator's recusal, and after a failed
    # mediation turn it into a complaint (no move of the table: a new case, as the status page files it)
    "end_mediation": ("end_mediation",),
    "request_recusal": ("request_recusal",),
    "turn_into_complaint": (),
}
TURN = "turn_into_complaint"
# not undone: the body says "confirm": true (the status page asks for a ticked box, web.public.track)
CONFIRM = {
    "withdraw": lambda: _("Send \"confirm\": true to withdraw this case."),
    "end_mediation": lambda: _("Send \"confirm\": true to end the mediation: it cannot be undone."),
}


@functools.cache
def _document_events() -> frozenset:
    """The event of every move that makes a written notice (the table's ``document``): a case
    with none of them has no document, and its answer asks the database for none (the read's
    statement budget, tests/web/test_read_cost.py)."""
    from casework.workflow.machine import MOVES

    return frozenset(m.event for m in MOVES.values() if m.document is not None)


def _case_by_code(number: str):
    code = request.headers.get("X-Query-Code", "")
    return case_for_lookup(db_session(), services().settings.query_pepper, number, code)


def _row_by_code(number: str):
    code = request.headers.get("X-Query-Code", "")
    return lookup_row(db_session(), services().settings.query_pepper, number, code)


def _no_case():
    return jsonify({"error": {"status": 404, "message": _("No case matches this case number and query code.")}}), 404


def action_move(action: str, case) -> str | None:
    """The move an action stands for on this case (by its type), or None."""
    from casework.workflow.machine import MOVES

    return next((m for m in ACTIONS.get(action, ()) if case.type in MOVES[m].types), None)


def open_actions(case) -> list[str]:
    """The actions the complainant can take on this case now (the state machine decides)."""
    from casework.accounts.actor import Actor
    from casework.mediation.operations import can_turn_into_complaint
    from casework.workflow.machine import available_moves

    now = {m.name for m in available_moves(Actor.complainant(case.id), case, services().clock())}
    return [a for a in ACTIONS if action_move(a, case) in now or (a == TURN and can_turn_into_complaint(case))]


def documents(case) -> list[dict]:
    """The case's written notices, oldest first, each with the path it is downloaded from."""
    from casework.documents.operations import case_documents

    makers = _document_events()
    if not any(ev.kind in makers for ev in case.events):
        return []
    return [{"id": d.id, "kind": d.kind.value, "title": title(d.kind), "created_at": utc_time(d.created_at),
             "download": url_for("api.case_document", number=case.number, document_id=d.id)}
            for d in case_documents(db_session(), case)]


def _public(case) -> dict:
    shown = public_case(case, utc=True)
    for entry in shown["timeline"]:  # a reply's documents (an id) are downloaded with the same code
        for f in entry["files"]:
            f["download"] = (url_for("api.case_file", number=case.number, attachment_id=f["id"])
                             if f["id"] is not None else None)
    return {**shown, "actions": open_actions(case), "documents": documents(case)}


def _error(status: int, message: str, **extra):
    return jsonify({"error": {"status": status, "message": message}, **extra}), status


def _choice_errors(move, data: dict) -> dict[str, list[str]]:
    """A choice sent that the move does not take (a rating of "ecstatic"): the values it takes."""
    import enum

    from casework.workflow.spec import Kind

    errors = {}
    for f in move.fields:
        value = data.get(f.name)
        if f.kind is Kind.choice and isinstance(value, str) and value.strip() \
                and isinstance(f.choices, type) and issubclass(f.choices, enum.Enum):
            taken = [c.value for c in f.choices]
            if value.strip() not in taken:
                errors[f.name] = [_("Choose one of: %(choices)s.", choices=", ".join(taken))]
    return errors


@bp.post("/cases/<number>/<action>")
@lookup_limited
def case_action(number: str, action: str):
    """One of the complainant's actions through the state machine: 404 for a wrong code or
    number alike (and an unknown action), 409 when the action is not open in the case's state
    (or the version sent is stale), 422 with the errors per field."""
    from casework.accounts.actor import Actor
    from casework.intake.validation import OWN_QUERY_CODE, mentions_code
    from casework.privacy.codes import check_code
    from casework.workflow.machine import MOVES, InvalidMove, StaleCase, WorkflowError, may, perform
    from web import move_fields
    from web.i18n import tr
    from web.public.track import done
    from web.requestdb import discard_changes

    case = _case_by_code(number)
    if case is None:
        return _no_case()
    if action not in ACTIONS:
        return _error(404, _("There is no such action."))
    data, refused = _read_json(_("Send the action as JSON (Content-Type: application/json)."))
    if refused is not None:
        return refused
    if action == TURN:
        return _turn_into_complaint(case, data)
    name = action_move(action, case)
    now = services().clock()
    move = MOVES.get(name) if name else None
    if move is None or case.state not in move.sources or not may(Actor.complainant(case.id), case, move, now):
        why = move.when(case, now) if move is not None and move.when is not None and case.state in move.sources else None
        return _error(409, tr(why) if why is not None else _("This cannot be done on this case now."),
                      actions=open_actions(case))
    fields, errors = move_fields.from_json(move, data)
    errors.update(_choice_errors(move, data))
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        errors["version"] = [_("Give the version as a whole number (from the case you read).")]
    if action in CONFIRM and data.get("confirm") is not True:
        errors["confirm"] = [CONFIRM[action]()]
    pepper = services().settings.query_pepper
    if isinstance(fields.get("public_text"), str) and mentions_code(
            fields["public_text"], lambda c: check_code(pepper, case.number, c, case.query_code_hash)):
        errors.setdefault("public_text", []).append(_(OWN_QUERY_CODE))
    if errors:
        return _unprocessable(errors)
    try:
        perform(db_session(), services(), Actor.complainant(case.id), case, name, version=version, **fields)
    except WorkflowError as err:
        discard_changes()
        if isinstance(err, InvalidMove):
            return _unprocessable(tr_errors(err.errors) or {"__all__": [tr(err.message)]})
        status = 409 if isinstance(err, StaleCase) or err.status == 422 else err.status
        current = _case_by_code(number)
        return _error(status, tr(err.message), case=_public(current) if current is not None else None)
    message = _ended_text(case) if name == "end_mediation" else done(name, case)
    return jsonify({**_public(case), "message": message})


def _ended_text(case) -> str:
    """After the applicant ended a mediation, what they may do next, as the API offers it."""
    from casework.mediation.operations import can_turn_into_complaint

    if can_turn_into_complaint(case):
        return _("You ended the mediation. You may apply for arbitration, go to court, or turn this request into "
                 "a complaint with the turn_into_complaint action.")
    return _("You ended the mediation. You may apply for arbitration, go to court, or file a complaint "
             "(POST /api/v1/cases).")


def _turn_into_complaint(case, data: dict):
    """A failed mediation goes on as a complaint, once (as the status page's form files it): the
    new case's receipt, 201, its query code shown this once."""
    from casework.mediation.operations import turn_into_complaint
    from casework.workflow.spec import InvalidMove, WorkflowError
    from web.i18n import tr
    from web.requestdb import discard_changes

    category = data.get("category")
    if category is not None and not isinstance(category, str):
        return _unprocessable({"category": [_("Give this as text.")]})
    try:
        receipt = turn_into_complaint(db_session(), services(), case, category or "", channel=Channel.api)
    except WorkflowError as err:
        discard_changes()
        if isinstance(err, InvalidMove):
            return _unprocessable(tr_errors(err.errors) or {"__all__": [tr(err.message)]})
        current = _case_by_code(case.number)
        return _error(409, tr(err.message), actions=open_actions(current) if current is not None else [])
    return _created(receipt)


# -- the OpenAPI document's part made from the workflow table: the actions' fields -------------

def openapi_actions(spec: dict) -> dict:
    """The complainant's actions in the OpenAPI document as the table defines them: each
    action's fields with their limits in the operation's description, and ``public_text``'s
    widest limits in ActionRequest (the server applies each action's own)."""
    from casework.workflow.machine import MOVES
    from casework.workflow.spec import Kind

    lines, lows, highs = [], [], []
    for action, names in ACTIONS.items():
        variants = []
        for name in names:
            parts = []
            for f in MOVES[name].fields:
                optional = "" if f.required is True else "?"
                if f.kind in (Kind.text, Kind.line):
                    parts.append(f"{f.name}{optional} ({f.lo}\u2013{f.hi} characters)")
                    lows.append(f.lo)
                    highs.append(f.hi)
                elif f.kind is Kind.choice and isinstance(f.choices, type):
                    parts.append(f"{f.name}{optional} ({' | '.join(c.value for c in f.choices)})")
                else:
                    parts.append(f"{f.name}{optional}")
            if action in CONFIRM:
                parts.append("confirm: true")
            variants.append(", ".join(parts) or "(no fields)")
        if action == TURN:
            variants.append("category (a category code of a complaint, from /api/v1/categories); answered 201 "
                            "with the new complaint's receipt")
        lines.append(f"{action}: " + " / ".join(dict.fromkeys(variants)))
    post = spec["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    for p in post["parameters"]:
        if p["name"] == "action":
            p["schema"]["enum"] = list(ACTIONS)
    post["description"] = (
        "The actions open now are listed under `actions` of GET /api/v1/cases/{case_number}. Fields per action "
        "(? optional; public_text and files: one of them at least for answer and add_evidence; files as base64 "
        "JPEG, PNG, WebP or PDF, cleaned like the filing form's uploads): " + "; ".join(lines)
        + ". version is optional: when sent and someone changed the case meanwhile, 409 with the current case. "
        "Other fields are ignored.")
    text = spec["components"]["schemas"]["ActionRequest"]["properties"]["public_text"]
    text["minLength"], text["maxLength"] = min(lows), max(highs)
    return spec
