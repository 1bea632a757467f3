"""The public JSON API: what a mini-program or a hotline system needs to file and track."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from flask import Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from casework.cases.models import CaseType, Category, Channel
from casework.cases.numbers import normalize_number
from casework.cases.queries import case_for_lookup
from casework.intake import operations as ops
from casework.intake.validation import validate_submission
from casework.registry.lookup import search_associations
from web.api.blueprint import bp
from web.extensions import limiter
from web.i18n import current_locale, tr_errors
from web.presenters import public_case
from web.requestdb import db_session, services

OPENAPI = Path(__file__).with_name("openapi.json")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


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
    rows = db_session().scalars(select(Category).where(Category.active).order_by(Category.sort_order, Category.id))
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
    en = current_locale().startswith("en")
    return jsonify({"items": [
        {
            "credit_code": a.credit_code,
            "name": a.name_en if en and a.name_en else a.name,
            "name_zh": a.name,
            "abbreviation": a.abbreviation,
            "level": a.level.value,
            "region_code": a.region_code,
            "status": a.status.value,
        }
        for a in search_associations(db_session(), q, limit=limit)
    ]})


def _unprocessable(errors: dict[str, list[str]]):
    return jsonify({"errors": errors}), 422


@bp.post("/cases")
def create_case():
    if not request.is_json:
        return jsonify({"error": {"status": 415, "message": _("Send the case as JSON (Content-Type: application/json).")}}), 415
    try:
        data = json.loads(request.get_data(cache=False) or b"")
    except (ValueError, UnicodeDecodeError):
        return jsonify({"error": {"status": 400, "message": _("The request body is not valid JSON.")}}), 400
    if not isinstance(data, dict):
        return _unprocessable({"__all__": [_("The request must be a JSON object.")]})
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        return _unprocessable({"Idempotency-Key": [_("Use 8 to 64 letters, digits or -_.: characters.")]})
    session = db_session()
    svc = services()
    idem = ops.scoped_key("api", key) if key else None
    if idem:
        replay = ops.find_receipt(session, svc, idem)
        if replay is not None:
            return _created(replay)
    sub, errors = validate_submission(session, data, locale=current_locale())
    if errors:
        return _unprocessable(tr_errors(errors))
    receipt = ops.submit_case(session, svc, sub, channel=Channel.api, idempotency_key=idem)
    return _created(receipt)


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
    code = request.headers.get("X-Query-Code", "")
    case = case_for_lookup(db_session(), services().settings.query_pepper, number, code)
    if case is None:
        return jsonify({"error": {"status": 404, "message": _("No case matches this case number and query code.")}}), 404
    return jsonify(public_case(case))
