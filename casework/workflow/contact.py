"""Staff seeing the contact details of a complaint, a mediation request or a suggestion, to
phone or write to the complainant (the applicant) and, in a mediation, the other party.

The desk shows personal data masked. Seeing it in clear is the workflow move
``reveal_contact`` (casework.workflow.table): the table says who may (a handler or the lead
of the unit holding the case: its mediators, for a mediation body) and on which case types
(not reports: a report's identity stays behind the custodian's approval, casework.workflow.
reveal). The move takes a reason, changes no state and writes an internal event (the reason
as its internal note, never on the complainant's status page) and an audit entry: who, when,
which case, the reason and which fields were shown, never the values. The step decrypts;
the values ride on the event object for the one answer that shows them (``event.contact``)
and are not stored anywhere.
"""
from __future__ import annotations

from casework.audit.operations import Change, record
from casework.cases.models import Case, CaseType
from casework.i18n import Message, N_
from casework.privacy.crypto import DecryptionError
from casework.workflow.spec import Ctx

NAME = "reveal_contact"
REASON_MIN = 5
# what contacting a party needs: no ID number (the agreement's particulars hold it, the
# mediation agreement's PDF shows it to whom it concerns)
COMPLAINANT = (("name", "case.complainant.name"), ("phone", "case.complainant.phone"),
               ("email", "case.complainant.email"))
RESPONDENT = (("name", "case.respondent.name"), ("phone", "case.respondent.phone"))


def has_contact(case: Case) -> bool:
    return any(getattr(case, f"complainant_{k}_enc") is not None for k, _p in COMPLAINANT) or (
        case.type is CaseType.mediation
        and any(getattr(case, f"respondent_{k}_enc") is not None for k, _p in RESPONDENT))


def contact_held(case: Case, now) -> Message | None:
    return None if has_contact(case) else Message(N_("This case holds no contact details (none given, or erased)."))


def _clear(cipher, case: Case, party: str, fields) -> dict[str, str]:
    out = {}
    for key, purpose in fields:
        try:
            value = cipher.decrypt_text(getattr(case, f"{party}_{key}_enc"), purpose)
        except DecryptionError:
            continue
        if value:
            out[key] = value
    return out


def contact_details(services, case: Case) -> dict[str, dict[str, str]]:
    """The parties' contact details in clear: the complainant (applicant) and, for a
    mediation, the respondent; the addresses the mediation agreement recorded, if any."""
    cipher = services.cipher
    out = {"complainant": _clear(cipher, case, "complainant", COMPLAINANT)}
    if case.type is CaseType.mediation:
        out["respondent"] = _clear(cipher, case, "respondent", RESPONDENT)
        med = case.mediation
        if med is not None and med.particulars_enc:
            from casework.mediation.moves import particulars

            try:
                p = particulars(services, med)
            except DecryptionError:
                p = {}
            for party, who in (("complainant", "applicant"), ("respondent", "respondent")):
                if p.get(f"{who}_address"):
                    out[party]["address"] = p[f"{who}_address"]
    return out


def reveal(ctx: Ctx) -> dict:
    if ctx.case.type is CaseType.report:  # the table says so too; a report has its own reveal
        raise AssertionError("a report's identity is not contact details")
    reason = ctx.values["reason"]
    shown = contact_details(ctx.services, ctx.case)
    fields = [f"{party}.{key}" for party, values in shown.items() for key in values]
    ctx.event.internal_text = reason
    ctx.event.contact = shown  # not a column: for this answer only
    record(ctx.session, ctx.actor, Change("contact_details", "viewed", ctx.case.number, None,
                                          {"case": ctx.case.number, "reason": reason, "fields": fields}))
    return {"fields": fields}
