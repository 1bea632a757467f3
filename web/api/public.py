"""The public JSON API: what a mini-program or a hotline system needs to file and track."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import Response, jsonify, request
from flask_babel import gettext as _

from casework.i18n import bilingual
from casework import reference
from casework.cases.models import CaseType, Channel
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_for_lookup
from casework.intake import operations as ops
from casework.intake.validation import validate_submission
from casework.registry.lookup import lookup as registry_lookup
from web import idempotency, request_limits
from web.api.blueprint import bp
from web.extensions import limiter
from web.i18n import current_locale, tr_errors
from web.presenters import public_case
from web.requestdb import db_session, services

OPENAPI = Path(__file__).with_name("openapi.json")


@functools.cache
def openapi_document() -> bytes:
    """The OpenAPI file, with the staff moves' part made from the workflow table."""
    from web.move_fields import openapi_moves

    return json.dumps(openapi_moves(json.loads(OPENAPI.read_bytes())), ensure_ascii=False, indent=1).encode()


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


@bp.get("/associations")
def associations():
    q = request.args.get("q", "")[:100]
    try:
        limit = max(1, min(int(request.args.get("limit", 20)), 50))
    except ValueError:
        limit = 20
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


@bp.post("/cases")
def create_case():
    if not request.is_json:
        return jsonify({"error": {"status": 415, "message": _("Send the case as JSON (Content-Type: application/json).")}}), 415
    try:
        data = request_limits.loads(request.get_data(cache=False) or b"")
    except request_limits.JSONTooDeep:
        return jsonify({"error": {"status": 400, "message": request_limits.too_deep_message()}}), 400
    except (ValueError, UnicodeDecodeError):
        return jsonify({"error": {"status": 400, "message": _("The request body is not valid JSON.")}}), 400
    if not isinstance(data, dict):
        return _unprocessable({"__all__": [_("The request must be a JSON object.")]})
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
                return jsonify({"error": {"status": 429, "message": _(
                    "Too many attempts. Please wait a few minutes and try again.")}}), 429
            return _created(replay)
    sub, errors = validate_submission(session, data, locale=current_locale())
    errors = tr_errors(errors)
    power_of_attorney = _power_of_attorney(data, errors)
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
        checked = phone_verify.check(session, proof["id"], sub.complainant.phone, proof["code"])
        if not checked.ok:
            keep_on_error()  # the wrong code is counted
            status = 429 if checked.reason == "dead" else 422
            return None, (jsonify({"errors": {"verification": [phone_verify.checked_text(checked, sub.complainant.phone, None)]},
                                   "tries_left": checked.tries_left}), status)
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

    if not request.is_json:  # JSON only: a cross-site form cannot send it (no CSRF token here)
        return jsonify({"error": {"status": 415, "message": _("Send the case as JSON (Content-Type: application/json).")}}), 415
    data = request.get_json(silent=True)
    phone = normalize_mobile(data.get("phone", "")) if isinstance(data, dict) and isinstance(data.get("phone"), str) else None
    if phone is None:
        return _unprocessable({"phone": [_("Please give a mainland China mobile number (11 digits, e.g. 13800138000).")]})
    header = request.headers.get("Authorization", "")
    client = _client_user()
    client_key = f"api-client:{header[7:].strip()}" if client is not None else None
    try:
        verification = phone_verify.send(db_session(), phone=phone, purpose="api", locale=current_locale(),
                                         client_key=client_key)
    except Refused as refused:
        return (jsonify({"error": {"status": 429, "message": phone_verify.refused_text(refused)}}), 429,
                {"Retry-After": str(refused.retry_after)})
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
    """A correct code is never refused (only failures count, see web.public.opened)."""
    number, code = request.view_args.get("number", ""), request.headers.get("X-Query-Code", "")
    return case_for_lookup(db_session(), services().settings.query_pepper, number, code) is not None


@bp.get("/cases/<number>")
@limiter.limit(lambda: services().settings.lookup_limit, key_func=_header_number_key,
               deduct_when=lambda r: r.status_code == 404, exempt_when=_right_code)
def get_case(number: str):
    case = _case_by_code(number)
    if case is None:
        return _no_case()
    return jsonify(_public(case))


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
    # a mediation's applicant: end the mediation, ask for a mediator's recusal
    "end_mediation": ("end_mediation",),
    "request_recusal": ("request_recusal",),
}
CONFIRM = frozenset({"withdraw"})  # not undone: the body says "confirm": true


def _case_by_code(number: str):
    code = request.headers.get("X-Query-Code", "")
    return case_for_lookup(db_session(), services().settings.query_pepper, number, code)


def _no_case():
    return jsonify({"error": {"status": 404, "message": _("No case matches this case number and query code.")}}), 404


def action_move(action: str, case) -> str | None:
    """The move an action stands for on this case (by its type), or None."""
    from casework.workflow.machine import MOVES

    return next((m for m in ACTIONS.get(action, ()) if case.type in MOVES[m].types), None)


def open_actions(case) -> list[str]:
    """The actions the complainant can take on this case now (the state machine decides)."""
    from casework.accounts.actor import Actor
    from casework.workflow.machine import available_moves

    now = {m.name for m in available_moves(Actor.complainant(case.id), case, services().clock())}
    return [a for a in ACTIONS if action_move(a, case) in now]


def _public(case) -> dict:
    return {**public_case(case), "actions": open_actions(case)}


def _error(status: int, message: str, **extra):
    return jsonify({"error": {"status": status, "message": message}, **extra}), status


@bp.post("/cases/<number>/<action>")
@limiter.limit(lambda: services().settings.lookup_limit, key_func=_header_number_key,
               deduct_when=lambda r: r.status_code == 404, exempt_when=_right_code)
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
    if not request.is_json:
        return _error(415, _("Send the action as JSON (Content-Type: application/json)."))
    try:
        data = request_limits.loads(request.get_data(cache=False) or b"")
    except request_limits.JSONTooDeep:
        return _error(400, request_limits.too_deep_message())
    except (ValueError, UnicodeDecodeError):
        return _error(400, _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        return _unprocessable({"__all__": [_("The request must be a JSON object.")]})
    name = action_move(action, case)
    now = services().clock()
    move = MOVES.get(name) if name else None
    if move is None or case.state not in move.sources or not may(Actor.complainant(case.id), case, move, now):
        why = move.when(case, now) if move is not None and move.when is not None and case.state in move.sources else None
        return _error(409, tr(why) if why is not None else _("This cannot be done on this case now."),
                      actions=open_actions(case))
    fields, errors = move_fields.from_json(move, data)
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        errors["version"] = [_("Give the version as a whole number (from the case you read).")]
    if action in CONFIRM and data.get("confirm") is not True:
        errors["confirm"] = [_("Send \"confirm\": true to withdraw this case.")]
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
    return jsonify({**_public(case), "message": done(name, case)})
