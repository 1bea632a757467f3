"""Mediation operations outside the state machine's moves: the agreement document, the
respondent's lookup by its own code, and turning a failed mediation into a complaint.

Like every operation these flush and never commit; the caller (the request) commits.
"""
from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import User
from casework.cases.models import (
    ActorKind, Case, CaseState, CaseType, Category, CategoryGroup, Channel, Event, EventKind,
)
from casework.cases.numbers import normalize_number
from casework.context import Services
from casework.i18n import Message, N_
from casework.intake.operations import Receipt, submit_case
from casework.intake.validation import DESCRIPTION_MAX, TITLE_MAX, Organisation, Party, Submission
from casework.mediation.models import Mediation, Outcome
from casework.mediation.moves import RESPONDENT_PREFIX
from casework.privacy.codes import check_code
from casework.workflow.spec import InvalidMove, MoveNotAllowed

FOLLOWUP_TITLE = "调解不成转投诉："


# -- the 调解协议书 -------------------------------------------------------------------------

def _decrypted(services: Services, case: Case, field: str, purpose: str) -> str:
    return services.cipher.decrypt_text(getattr(case, field), purpose) or ""


def store_agreement(session: Session, services: Services, case: Case) -> str:
    """Make the 调解协议书 PDF of a case whose agreement was just recorded, store it
    encrypted in the file store and remember its key on the mediation. Calling it again
    returns the key of the document already made. (A change to the Mediation row is not a
    change to the Case, so no event is needed: the record_agreement event covers it.)"""
    from casework.mediation.document import agreement_pdf

    med = case.mediation
    if med is None or med.outcome is not Outcome.agreement or not med.terms:
        raise MoveNotAllowed(Message(N_("There is no agreement to put into a document.")))
    if med.agreement_key:
        return med.agreement_key
    from casework.mediation.moves import particulars

    mediator = session.get(User, case.handler_id) if case.handler_id else None
    pdf = agreement_pdf(
        case, med,
        # an organisation that applied is the party to the agreement, not the person filing for it
        applicant_name=case.organisation_name or _decrypted(services, case, "complainant_name_enc",
                                                            "case.complainant.name"),
        respondent_name=_decrypted(services, case, "respondent_name_enc", "case.respondent.name"),
        body_name=case.unit.name if case.unit is not None else "",
        mediator_name=mediator.display_name if mediator is not None else None,
        particulars=particulars(services, med),
        people_mediation=bool(case.unit is not None and case.unit.people_mediation_committee),
    )
    key = services.files.new_key()
    services.files.put(key, "orig", pdf)
    med.agreement_key = key
    session.flush()
    return key


def agreement_bytes(services: Services, mediation: Mediation) -> bytes:
    """The stored 调解协议书 PDF; LookupError when there is none."""
    if not mediation.agreement_key:
        raise LookupError("no agreement document")
    return services.files.get(mediation.agreement_key, "orig")


def agreement_filename(case: Case) -> str:
    return f"{case.number}-agreement.pdf"


# -- the respondent's way in ------------------------------------------------------------

def respondent_lookup(session: Session, pepper: bytes, number: str, code: str) -> Case | None:
    """The mediation case if number and respondent code match, else None. Mirrors
    casework.cases.queries.case_for_lookup: one query and one keyed hash whether or not
    the number exists, so that a wrong code and an unknown number cannot be told apart."""
    number = normalize_number(number)[:20]
    row = session.execute(
        select(Case, Mediation.respondent_code_hash)
        .outerjoin(Mediation, Mediation.case_id == Case.id)
        .where(Case.number == number)
    ).first()
    case, stored = (row[0], row[1]) if row is not None else (None, None)
    return case if check_code(pepper, RESPONDENT_PREFIX + number, code or "", stored, session=session,
                               column=Mediation.respondent_code_hash) else None


# -- a failed mediation goes on as a complaint --------------------------------------------

def can_turn_into_complaint(case: Case) -> bool:
    med = case.mediation if case.type is CaseType.mediation else None
    return (med is not None and case.state is CaseState.mediation_failed
            and case.association_id is not None and med.followup_case_id is None)


def grievance_categories(session: Session) -> list[Category]:
    return list(session.scalars(
        select(Category).where(Category.group == CategoryGroup.grievance, Category.active)
        .order_by(Category.sort_order, Category.id)))


def turn_into_complaint(session: Session, services: Services, case: Case, category_code: str, *,
                        channel: Channel = Channel.web) -> Receipt:
    """File a new complaint from a failed mediation, once: same association, the applicant
    as complainant, the mediation's description and claim. The new case is routed like any
    complaint; the original case gets a public event naming the new number. The receipt's
    query code is the only copy: show it once."""
    if not can_turn_into_complaint(case):
        if case.type is CaseType.mediation and case.mediation is not None and case.mediation.followup_case_id:
            raise MoveNotAllowed(Message(N_("This mediation has already been turned into a complaint.")))
        if case.type is CaseType.mediation and case.state is CaseState.mediation_failed:
            raise MoveNotAllowed(Message(N_("Without a known association this cannot be turned into a complaint; please file a new complaint instead.")))
        raise MoveNotAllowed(Message(N_("Only a mediation that did not reach an agreement can be turned into a complaint.")))
    category = session.scalar(select(Category).where(Category.code == (category_code or "").strip(),
                                                     Category.active))
    if category is None or category.group is not CategoryGroup.grievance:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {"category": [Message(N_("Choose a category."))]})
    med = case.mediation
    c = services.cipher
    sub = Submission(
        type=CaseType.complaint,
        category_id=category.id,
        title=(FOLLOWUP_TITLE + case.title)[:TITLE_MAX],
        description=f"{case.description}\n\n{med.claim}"[:DESCRIPTION_MAX],
        association_id=case.association_id,
        complainant=Party(
            name=c.decrypt_text(case.complainant_name_enc, "case.complainant.name"),
            phone=c.decrypt_text(case.complainant_phone_enc, "case.complainant.phone"),
            email=c.decrypt_text(case.complainant_email_enc, "case.complainant.email"),
            id_number=c.decrypt_text(case.complainant_id_number_enc, "case.complainant.id_number"),
        ),
        locale=case.locale,
        # the organisation that applied, and its agent, complain in the follow-up too (issue 19)
        complainant_kind=case.complainant_kind or "person",
        organisation=(Organisation(case.organisation_name, case.organisation_credit_code)
                      if case.organisation_name else None),
        agent=(Party(name=c.decrypt_text(case.agent_name_enc, "case.agent.name"),
                     phone=c.decrypt_text(case.agent_phone_enc, "case.agent.phone"))
               if case.agent_name_enc is not None else None),
    )
    receipt = submit_case(session, services, sub, channel=channel, phone_verified=case.phone_verified_via)
    now = services.clock()
    med.followup_case_id = receipt.case_id
    text = (f"Mediation did not succeed; it has been turned into complaint {receipt.case_number}."
            if case.locale.startswith("en") else f"调解不成，已转为投诉，新案件编号 {receipt.case_number}。")
    session.add(Event(
        case=case, created_at=now, actor_kind=ActorKind.public, kind=EventKind.linked,
        summary=f"turned into complaint {receipt.case_number}", public_text=text,
        data={"followup": receipt.case_number},
    ))
    # a change the case's version records: a second, concurrent attempt fails as stale
    case.updated_at = now
    session.flush()
    return receipt
