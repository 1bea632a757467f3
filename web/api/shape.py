"""What ``POST /api/v1/cases`` takes, field by field, with each value's JSON type.

casework.intake.validation reads a case from any channel and is lenient about types: the web
form sends a ticked box as "1" and every value as text. A JSON client is told instead: a field
the API does not know is refused by name (evidence sent as ``files`` was dropped without a
word), a value of the wrong JSON type is refused where the lenient reading would have taken it
("true" for a consent, 1 for a flag), and a mediation request's fields sent with another type of
case are refused rather than ignored. The OpenAPI document's ``NewCase`` describes the same tree
(tests/web/test_api_contract.py compares the two).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

TEXT, FLAG, AMOUNT = "text", "flag", "amount"

NEW_CASE: dict[str, Any] = {
    "type": TEXT, "category": TEXT, "association": TEXT, "association_hint": TEXT,
    "title": TEXT, "description": TEXT, "anonymous": FLAG,
    "complainant": {"kind": TEXT, "name": TEXT, "phone": TEXT, "email": TEXT, "id_number": TEXT,
                    "organisation": {"name": TEXT, "credit_code": TEXT}},
    "agent": {"name": TEXT, "phone": TEXT, "power_of_attorney": {"name": TEXT, "content_base64": TEXT}},
    "respondent": {"kind": TEXT, "name": TEXT, "phone": TEXT},
    "claim": TEXT, "amount": AMOUNT,
    "privacy_consent": FLAG,
    "verification": {"id": TEXT, "code": TEXT},
    "phone_verified_by_client": FLAG,
}
# a mediation request's own fields (casework.intake.validation reads them for it alone)
MEDIATION_ONLY = ("respondent", "claim", "amount")
# the names validation gives the errors of a nested part (an organisation's: organisation.name)
ERROR_PREFIX = {"complainant.organisation.": "organisation."}


def _unknown(name: str) -> str:
    if name == "files":
        return _("A case is filed without files: file it first, then send the files with the add_evidence "
                 "action (POST /api/v1/cases/{case_number}/add_evidence).")
    return _("There is no such field. A case takes the fields of NewCase in /api/v1/openapi.json.")


def shape_errors(data: dict) -> dict[str, list[str]]:
    """The errors of a case's JSON body by its shape alone, per (dotted) field, translated."""
    errors: dict[str, list[str]] = {}
    _walk(NEW_CASE, data, "", errors)
    if data.get("type") != "mediation":
        for name in MEDIATION_ONLY:
            if data.get(name) is not None and name not in errors:
                errors[name] = [_("Only a mediation request takes this field.")]
    complainant = data.get("complainant")
    if (isinstance(complainant, dict) and complainant.get("organisation") is not None
            and complainant.get("kind") != "organisation" and "complainant.organisation" not in errors):
        errors["complainant.organisation"] = [_(
            "An organisation is given with \"kind\": \"organisation\"; without it, leave the organisation out.")]
    return errors


def _walk(spec: dict, value: dict, prefix: str, errors: dict) -> None:
    prefix = ERROR_PREFIX.get(prefix, prefix)
    for key, item in value.items():
        name = prefix + str(key)
        kind = spec.get(key)
        if kind is None:
            errors[name] = [_unknown(name)]
        elif item is None:
            continue
        elif isinstance(kind, dict):
            if isinstance(item, dict):
                _walk(kind, item, name + ".", errors)
            else:
                errors[name] = [_("Give this as a JSON object with its fields.")]
        elif kind == TEXT and not isinstance(item, str):
            errors[name] = [_("Give this as text.")]
        elif kind == FLAG and not isinstance(item, bool):
            if key == "privacy_consent":  # a legal consent: JSON true, never "true", "on" or 1 (false: validation's word)
                errors[name] = [_("Send true (JSON true, not text or a number) once the privacy notice "
                                  "has been read and accepted.")]
            else:
                errors[name] = [_("Give this as true or false (JSON true or false, not text or a number).")]
        elif kind == AMOUNT and (isinstance(item, bool) or not isinstance(item, (str, int, float))):
            errors[name] = [_("Give the amount in yuan as a number, e.g. 20000 or 20000.50.")]
