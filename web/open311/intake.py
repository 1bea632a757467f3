"""POST /requests: an Open311 service request filed as a case.

The standard fields and the ``attribute[code]=value`` pairs are turned into the submission the
JSON API takes, then validated and filed by the same domain code (casework.intake): nothing is
validated twice or differently here. Form encoding is what the spec sends; a JSON object (flat
like the form, or with an ``attribute`` object) is accepted as well.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import request
from flask_babel import gettext as _

from casework.cases.models import Case, Channel
from casework.intake import operations as ops
from casework.intake.validation import clean_text, validate_submission
from web import idempotency, request_limits
from web.i18n import current_locale, tr_errors
from web.open311.blueprint import bp
from web.open311.catalog import FMT, active_category, case_types
from web.open311.render import FORM_TYPES, error_response, localized, respond
from web.presenters import next_step
from web.requestdb import db_session, services

KEY_PREFIX = "open311:"
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_]{1,64})\](?:\[\])?$")
_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(?=\s)")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
TITLE_FROM_DESCRIPTION = 30

# where each submission field came from, to name it in an error as the client sent it
FIELD_NAMES = {
    "type": "attribute[case_type]",
    "category": "service_code",
    "association": "attribute[association_credit_code]",
    "association_hint": "attribute[association_hint]",
    "title": "attribute[title]",
    "description": "description",
    "anonymous": "attribute[anonymous]",
    "complainant.name": "first_name",
    "complainant.phone": "phone",
    "complainant.email": "email",
    "respondent.name": "attribute[respondent_name]",
    "respondent.kind": "attribute[respondent_kind]",
    "respondent.phone": "attribute[respondent_phone]",
    "claim": "attribute[claim]",
    "amount": "attribute[amount]",
    "privacy_consent": "attribute[privacy_consent]",
    "complainant.kind": "attribute[organisation_name]",
    "organisation.name": "attribute[organisation_name]",
    "organisation.credit_code": "attribute[organisation_credit_code]",
}


class BadBody(ValueError):
    pass


def _scalar(value: Any) -> str:
    if isinstance(value, (list, tuple)):  # a multivaluelist; every attribute here takes one value
        value = value[-1] if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, dict) else str(value)


def read_body() -> tuple[dict[str, str], dict[str, str]]:
    """The standard fields and the attributes, as strings."""
    if request.is_json:
        try:
            data = request_limits.loads(request.get_data(cache=False) or b"")
        except request_limits.JSONTooDeep as exc:
            raise BadBody(request_limits.too_deep_message()) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadBody(_("The request body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise BadBody(_("The request must be a JSON object."))
        pairs = [(k, v) for k, v in data.items() if k != "attribute"]
        nested = data.get("attribute")
        if isinstance(nested, dict):
            pairs += [(f"attribute[{k}]", v) for k, v in nested.items()]
    elif request.mimetype in FORM_TYPES:
        pairs = [(k, request.form.getlist(k)) for k in request.form]
    else:
        pairs = []
    core: dict[str, str] = {}
    attrs: dict[str, str] = {}
    for key, value in pairs:
        m = _ATTRIBUTE.match(str(key))
        if m:
            attrs[m.group(1)] = _scalar(value)
        else:
            core[str(key)] = _scalar(value)
    return core, attrs


def title_from(description: str) -> str:
    """The first sentence of the description (or its beginning), at most 30 characters."""
    text = clean_text(description)
    first = _SENTENCE_END.split(text, 1)[0].strip()
    if len(first) < 4:
        first = text
    return first if len(first) <= TITLE_FROM_DESCRIPTION else first[:TITLE_FROM_DESCRIPTION - 1] + "…"


def full_name(first: str, last: str) -> str:
    """Chinese names are written family name first, without a space."""
    first, last = clean_text(first), clean_text(last)
    if _CJK.search(first + last):
        return last + first
    return " ".join(p for p in (first, last) if p)


def submission_data(core: Mapping[str, str], attrs: Mapping[str, str]) -> tuple[dict, bool]:
    """The JSON API's submission from an Open311 request; and whether the title was derived."""
    code = clean_text(core.get("service_code"))
    category = active_category(code) if code else None
    case_type = attrs.get("case_type") or (case_types(category.group)[0].value if category else "complaint")
    description = core.get("description", "")
    derived = not clean_text(attrs.get("title"))
    title = title_from(description) if derived else attrs["title"]
    # associations have no geography: a place the client sends is kept as text, coordinates are not
    place = clean_text(core.get("address_string"))
    if place and clean_text(description):
        description = description.rstrip() + "\n\n" + _("Place given: %(place)s", place=place)
    data = {
        "type": case_type,
        "category": code,
        "association": attrs.get("association_credit_code", ""),
        "association_hint": attrs.get("association_hint", ""),
        "title": title,
        "description": description,
        "anonymous": attrs.get("anonymous", ""),
        "complainant": {
            "name": full_name(core.get("first_name", ""), core.get("last_name", "")),
            "phone": core.get("phone", ""),
            "email": core.get("email", ""),
        },
        "respondent": {
            "name": attrs.get("respondent_name", ""),
            "kind": attrs.get("respondent_kind", ""),
            "phone": attrs.get("respondent_phone", ""),
        },
        "claim": attrs.get("claim", ""),
        "amount": attrs.get("amount", ""),
        "privacy_consent": attrs.get("privacy_consent", ""),
    }
    organisation = {"name": attrs.get("organisation_name", ""), "credit_code": attrs.get("organisation_credit_code", "")}
    if any(clean_text(v) for v in organisation.values()):  # an organisation complains (issue 19)
        data["complainant"].update(kind="organisation", organisation=organisation)
    return data, derived


def error_lines(errors: dict[str, list[str]], *, title_derived: bool) -> list[str]:
    lines = []
    for name, messages in errors.items():
        if name == "title" and title_derived:
            continue  # it comes from the description, whose own error says what to fix
        label = FIELD_NAMES.get(name)
        lines += [f"{label}: {m}" if label else m for m in messages]
    return lines


def idempotency_key(raw: str) -> str:
    """The client's key in this facade's own namespace."""
    return ops.scoped_key(KEY_PREFIX.rstrip(":"), raw)


@bp.post(f"/requests.{FMT}")
@localized
def create_request(fmt: str):
    try:
        core, attrs = read_body()
    except BadBody as err:
        return error_response(fmt, 400, [str(err)])
    raw_key = request.headers.get("Idempotency-Key")
    if raw_key is not None and not idempotency.KEY.match(raw_key):
        return error_response(fmt, 400, ["Idempotency-Key: " + _(idempotency.KEY_HINT)])
    session = db_session()
    svc = services()
    key = idempotency_key(raw_key) if raw_key else None
    digest = ops.request_digest({"core": core, "attrs": attrs})
    try:
        receipt = ops.find_receipt(session, svc, key, digest) if key else None
        if receipt is not None and idempotency.replay_refused(key):
            resp = error_response(fmt, 429, [_("Too many attempts. Please wait a few minutes and try again.")])
            resp.headers["Retry-After"] = str(idempotency.retry_after(key))  # as the JSON API's (RFC 6585 §4)
            return resp
        if receipt is None:
            data, derived = submission_data(core, attrs)
            sub, errors = validate_submission(session, data, locale=current_locale())
            if errors:
                return error_response(fmt, 400, error_lines(tr_errors(errors), title_derived=derived))
            receipt = ops.submit_case(session, svc, sub, channel=Channel.api, idempotency_key=key,
                                      idempotency_digest=digest)
    except ops.KeyReused:
        idempotency.replay_refused(key)
        return error_response(fmt, 422, ["Idempotency-Key: " + _(idempotency.REUSED)])
    case = session.get(Case, receipt.case_id)
    notice = next_step(case) + " " + (
        _("Keep the query code: with the case number it opens the case on the website and in this API. It is shown only once.")
        if receipt.query_code else
        _("This request was filed before; its query code was shown then and is not shown again."))
    resp = respond(fmt, "service_requests", [{
        "service_request_id": receipt.case_number,
        "service_notice": notice,
        "account_id": None,
        "query_code": receipt.query_code,  # extension: shown once, needed to read the request
    }])
    resp.headers["Location"] = f"{request.script_root}/open311/v2/requests/{receipt.case_number}.{fmt}"
    if receipt.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp
