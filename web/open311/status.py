"""GET /requests: a case as an Open311 service request, for whoever holds its query code.

Changtong publishes no individual case: the list without ids is empty (counts are public at
/stats), and one request is read with its number and its query code (``X-Query-Code`` header
or ``query_code`` parameter). A wrong code and a number never issued get the same 404, and
failures count against the same per-number budget as the /track page (web.public.opened; the
JSON API keeps its own, docs/security.md): only failures count, so a right code always opens
the case. Past the budget a wrong code gets 429 with Retry-After.
"""
from __future__ import annotations

import time

from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _

from casework.i18n import bilingual
from casework.cases.models import ActorKind, Case
from casework.cases.queries import case_for_lookup, public_events
from casework.cases.queue import OPEN_STATES
from casework.db import as_utc
from casework.registry.models import UnitKind
from web.lookup_limit import failures_limited
from web.i18n import current_locale, title
from web.open311.blueprint import bp
from web.open311.catalog import FMT
from web.open311.render import error_response, iso, localized, pick_locale, request_format, respond
from web.presenters import next_step
from web.public.opened import lookup_key
from web.requestdb import db_session, services

# who writes the replies a complainant reads (not the complainant, not the other party)
REPLYING = frozenset({ActorKind.staff, ActorKind.system})


def _asked_number() -> str:
    return (request.view_args or {}).get("service_request_id") or request.args.get("service_request_id", "")


def _asked_code() -> str:
    return request.headers.get("X-Query-Code") or request.args.get("query_code", "")


def _lookup_key() -> str:
    return lookup_key(_asked_number())  # one budget per number for every way in


def _right_code() -> bool:
    number, code = _asked_number(), _asked_code()
    if not number or not code or "," in number:
        return False
    return case_for_lookup(db_session(), services().settings.query_pepper, number, code) is not None


def _lookups_refused(limit):
    """Past the budget: the Open311 error, with the seconds until a wrong code is heard again."""
    with force_locale(pick_locale()):  # the limit is checked before the view's own language is set
        resp = error_response(request_format(), 429, [_("Too many attempts. Please wait a few minutes and try again.")])
    resp.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    return resp


lookup_limited = failures_limited(scope="lookup", key=_lookup_key, right_code=_right_code, refused=_lookups_refused)


def status_notes(case: Case) -> str:
    """The state as the status page names it, then the latest reply the complainant was sent."""
    state = title(case.state)
    replies = [ev for ev in public_events(case) if ev.public_text and ev.actor_kind in REPLYING]
    return _("%(state)s: %(reply)s", state=state, reply=replies[-1].public_text) if replies else state


def agency(case: Case) -> str:
    unit = case.unit
    if unit is None:
        return title(UnitKind.triage)
    return bilingual(unit.name, unit.name_en, current_locale())


def is_closed(case: Case) -> bool:
    """Handling is over (closed, withdrawn, not accepted, mediated or mediation failed): the
    queue's open states are everything else."""
    return case.state not in OPEN_STATES


def expected(case: Case):
    """The current stage's deadline; none while the clock is paused or once the case is over."""
    if is_closed(case) or case.stage is None or case.paused_at is not None:
        return None
    return case.due_at


def service_request(case: Case) -> dict:
    events = public_events(case)
    updated = max([case.submitted_at] + [ev.created_at for ev in events], key=as_utc)
    return {
        "service_request_id": case.number,
        "status": "closed" if is_closed(case) else "open",
        "status_notes": status_notes(case),
        "service_name": case.category.display_name(current_locale()),
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": agency(case),
        "service_notice": next_step(case),
        "requested_datetime": iso(case.submitted_at),
        "updated_datetime": iso(updated),
        "expected_datetime": iso(expected(case)),
        # no geography: an association is not a place on a map
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _one(fmt: str, number: str):
    case = case_for_lookup(db_session(), services().settings.query_pepper, number, _asked_code())
    if case is None:
        return error_response(fmt, 404, ["service_request_id: " + _("No case matches this case number and query code.")])
    return respond(fmt, "service_requests", [service_request(case)])


@bp.get(f"/requests/<service_request_id>.{FMT}")
@lookup_limited
@localized
def get_request(service_request_id: str, fmt: str):
    return _one(fmt, service_request_id)


@bp.get(f"/requests.{FMT}")
@lookup_limited
@localized
def list_requests(fmt: str):
    ids = [i.strip() for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    if not ids:
        return respond(fmt, "service_requests", [])
    if len(ids) > 1:
        return error_response(fmt, 400, ["service_request_id: " + _(
            "Ask for one service request at a time: each has its own query code.")])
    return _one(fmt, ids[0])
