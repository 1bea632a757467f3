"""Seeing a report's (举报) identity: a request with a reason, a custodian's decision, and
views for a limited time, each an internal event and an audit entry.

``request_reveal`` and ``decide_reveal`` are moves of the workflow table (they change no
state; their forms are on the case page's identity box and the custodian's list). A view is not a move (it changes nothing in the case): ``view_identity`` checks for
an approved, unexpired request of this very handler, then writes an ``identity_revealed``
event and an audit entry before it decrypts. Nothing else decrypts a report's identity for a
person (notices decrypt the contact to send news, never to show it).

Who: a handler or unit lead of the unit holding the report asks; a custodian (身份保管人) of
that same unit decides, and never on their own request. The approval is for the requester
only, for ``REVEAL_HOURS``. Originals of uploads (the evidence) are behind the same approval
for reports; for other cases the unit lead may download one, with a reason (``open_original``).

Who is told: a request and a decision each e-mail the mailbox of the unit holding the report
(casework.workflow.notices, the case number only), and the desk's bar counts the requests
waiting for a custodian (``waiting_for``) and, for the handler who asked, the decisions still
news with the time an approval has left (``own_requests``, ``is_news``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, object_session

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.audit.operations import Change, record
from casework.cases.models import ActorKind, Attachment, Case, CaseType, Event, EventKind
from casework.context import Services
from casework.db import as_utc
from casework.enums import TitledEnum
from casework.i18n import Message, N_
from casework.privacy.masking import PARTY_FIELDS
from casework.privacy.models import RevealRequest, RevealStatus
from casework.workflow import notices
from casework.workflow.spec import HANDLERS, Ctx, Forbidden, MoveNotAllowed, invalid

REQUEST = "request_reveal"
DECIDE = "decide_reveal"
NAMES = frozenset({REQUEST, DECIDE})
REVEAL_HOURS = 24
REASON_MIN = 10


class Decision(TitledEnum):
    """A custodian's answer to a request (the ``decision`` of ``decide_reveal``)."""

    approve = "approve", N_("Approve")
    deny = "deny", N_("Deny")


def has_identity(case: Case) -> bool:
    return not case.anonymous and any(getattr(case, f"complainant_{k}_enc") is not None
                                      for k, _p, _m in PARTY_FIELDS["complainant"])


def identity_held(case: Case, now) -> Message | None:
    return None if has_identity(case) else Message(N_("This report holds no identity to reveal."))


def nothing_to_ask_yet(actor: Actor, case: Case, now) -> Message | None:
    """The guard on the one who asks: not while their own request waits for the custodian, nor
    while their approval runs (the desk and the staff API offered the move, which then failed)."""
    session = object_session(case)
    if session is None or actor.user_id is None:
        return None
    pending = session.scalar(select(RevealRequest.id).where(
        RevealRequest.case_id == case.id, RevealRequest.requested_by == actor.user_id,
        RevealRequest.status == RevealStatus.pending).limit(1))
    if pending is not None:
        return Message(N_("You already have a request waiting for the custodian on this case."))
    if active_reveal(session, actor, case, now) is not None:
        return Message(N_("Your approval to see the identity is still running; ask again once it has ended."))
    return None


def pending_requests(session: Session, case: Case, actor: Actor) -> list[RevealRequest]:
    """The requests on this report that wait for a decision and that this actor may decide
    (never their own), oldest first: the list ``decide_reveal``'s ``request_id`` is chosen from."""
    return list(session.scalars(select(RevealRequest).where(
        RevealRequest.case_id == case.id, RevealRequest.status == RevealStatus.pending,
        RevealRequest.requested_by != actor.user_id).order_by(RevealRequest.requested_at, RevealRequest.id)))


def request_to_decide(actor: Actor, case: Case, now) -> Message | Forbidden | None:
    """The guard on the custodian: a request on this report waits that is not their own (with
    none, the move was offered and then refused). Only their own waiting: 403, as the step says."""
    session = object_session(case)
    if session is None or actor.user_id is None:
        return None
    if pending_requests(session, case, actor):
        return None
    own = session.scalar(select(RevealRequest.id).where(
        RevealRequest.case_id == case.id, RevealRequest.status == RevealStatus.pending).limit(1))
    if own is not None:
        return Forbidden(Message(N_("You may not decide your own request.")))
    return Message(N_("There is no such request waiting for a decision."))


def request(ctx: Ctx) -> dict:
    """The row's guard (``nothing_to_ask_yet``) said this handler has nothing waiting or running."""
    reason = ctx.values["reason"]
    ctx.session.add(RevealRequest(case=ctx.case, requested_by=ctx.actor.user_id, requested_at=ctx.now,
                                  reason=reason, status=RevealStatus.pending))
    ctx.event.internal_text = reason
    record(ctx.session, ctx.actor, Change("identity_reveal", "requested", ctx.case.number, None,
                                          {"case": ctx.case.number, "reason": reason}))
    notices.reveal_requested(ctx)
    return {}


def decide(ctx: Ctx) -> dict:
    raw = str(ctx.values.get("request_id") or "")
    req = ctx.session.get(RevealRequest, int(raw)) if raw.isdigit() else None
    if req is None or req.case_id != ctx.case.id or req.status is not RevealStatus.pending:
        raise MoveNotAllowed(Message(N_("There is no such request waiting for a decision.")))
    if req.requested_by == ctx.actor.user_id:
        raise Forbidden(Message(N_("You may not decide your own request.")))
    note = ctx.values["note"]  # the decision is one of Decision: the machine checked the field
    req.status = RevealStatus.approved if ctx.values["decision"] is Decision.approve else RevealStatus.denied
    req.decided_by, req.decided_at, req.note = ctx.actor.user_id, ctx.now, note
    if req.status is RevealStatus.approved:
        req.expires_at = ctx.now + timedelta(hours=REVEAL_HOURS)
    ctx.event.internal_text = note
    data = {"request_id": req.id, "requested_by": req.requested_by, "decision": req.status.value,
            "expires_at": req.expires_at.isoformat() if req.expires_at else None}
    record(ctx.session, ctx.actor, Change("identity_reveal", req.status.value, ctx.case.number,
                                          {"case": ctx.case.number, "request_id": req.id, "status": "pending"},
                                          {"case": ctx.case.number, **data, "note": note}))
    notices.reveal_decided(ctx, req)
    return data


def active_reveal(session: Session, actor: Actor, case: Case, now) -> RevealRequest | None:
    """This handler's approved, unexpired request on this report, while they still work its unit."""
    if not actor.is_staff or actor.user_id is None or case.type is not CaseType.report:
        return None
    if case.unit_id is None or not (actor.roles_in(case.unit_id) & HANDLERS):
        return None
    return session.scalar(select(RevealRequest).where(
        RevealRequest.case_id == case.id, RevealRequest.requested_by == actor.user_id,
        RevealRequest.status == RevealStatus.approved, RevealRequest.expires_at > now,
    ).order_by(RevealRequest.expires_at.desc()).limit(1))


# -- what the desk tells the custodian and the one who asked (no notice to a person carries more
# than the case number: the request's reason and the custodian's note stay on the desk)

RECENT_DAYS = 7  # the asker's list keeps a decided request this long


def waiting_for(session: Session, actor: Actor) -> int:
    """The requests this custodian may decide now: waiting, on reports of the units they keep
    the identities of, not their own (the count beside the desk's "Identity requests")."""
    units = actor.unit_ids(Role.custodian) if actor.is_staff and actor.user_id is not None else set()
    if not units:
        return 0
    return session.scalar(select(func.count()).select_from(RevealRequest).join(Case, Case.id == RevealRequest.case_id)
                          .where(RevealRequest.status == RevealStatus.pending, Case.unit_id.in_(units),
                                 RevealRequest.requested_by != actor.user_id)) or 0


def own_requests(session: Session, actor: Actor, now: datetime) -> list[RevealRequest]:
    """This handler's requests that are still news: waiting, approved and running, or decided in
    the last ``RECENT_DAYS`` days; newest first."""
    if not actor.is_staff or actor.user_id is None or not actor.unit_ids(*HANDLERS):
        return []
    since = now - timedelta(days=RECENT_DAYS)
    return list(session.scalars(select(RevealRequest).where(
        RevealRequest.requested_by == actor.user_id,
        or_(RevealRequest.status == RevealStatus.pending, RevealRequest.decided_at > since,
            RevealRequest.expires_at > now),
    ).order_by(RevealRequest.requested_at.desc(), RevealRequest.id.desc())))


def is_open(req: RevealRequest, now: datetime) -> bool:
    """An approval whose window has not run out."""
    return req.status is RevealStatus.approved and req.expires_at is not None and as_utc(req.expires_at) > as_utc(now)


def is_news(req: RevealRequest, now: datetime) -> bool:
    """A decision the asker is to act on or hear of: an approval still running, or a denial
    made within the length of an approval (the count beside "My identity requests")."""
    if is_open(req, now):
        return True
    return (req.status is RevealStatus.denied and req.decided_at is not None
            and as_utc(req.decided_at) > as_utc(now) - timedelta(hours=REVEAL_HOURS))


def _internal_event(case: Case, services: Services, actor: Actor, kind: EventKind, summary: str,
                    data: dict) -> Event:
    return Event(case=case, created_at=services.clock(), actor_kind=ActorKind.staff, actor_id=actor.user_id,
                 kind=kind, summary=summary[:300], data=data)


def view_identity(session: Session, services: Services, actor: Actor, case: Case) -> dict[str, str]:
    """The report's identity in clear, for one view by the approved handler (event + audit first)."""
    req = active_reveal(session, actor, case, services.clock())
    if req is None:
        raise Forbidden(Message(N_("You have no approved request to see this identity, or it has expired.")))
    session.add(_internal_event(case, services, actor, EventKind.identity_revealed,
                                f"identity viewed by staff:{actor.user_id}", {"request_id": req.id}))
    record(session, actor, Change("identity_reveal", "viewed", case.number, None,
                                  {"case": case.number, "request_id": req.id}))
    session.flush()
    cipher = services.identity_cipher
    out = {}
    for key, purpose, _mask in PARTY_FIELDS["complainant"]:
        value = cipher.decrypt_text(getattr(case, f"complainant_{key}_enc"), purpose)
        if value:
            out[key] = value
    return out


def may_open_original(session: Session, actor: Actor, case: Case, now) -> bool:
    """A report: the handler with an approved, unexpired reveal. Other cases: the unit lead
    of the unit holding the case (with a reason, see open_original)."""
    if case.type is CaseType.report:
        return active_reveal(session, actor, case, now) is not None
    return actor.is_staff and case.unit_id is not None and actor.has(Role.unit_lead, case.unit_id)


def open_original(session: Session, services: Services, actor: Actor, case: Case, attachment: Attachment,
                  reason: str | None = None) -> bytes:
    """The original upload (the evidence) in clear, after an event and an audit entry."""
    if attachment.case_id != case.id or attachment.erased_at is not None:
        raise MoveNotAllowed(Message(N_("There is no such file.")))
    if not may_open_original(session, actor, case, services.clock()):
        raise Forbidden(Message(N_("You may not download the original of this file.")))
    reason = " ".join((reason or "").split())
    if case.type is not CaseType.report and len(reason) < REASON_MIN:
        raise invalid("reason", N_("Between %(lo)d and %(hi)d characters, please."), lo=REASON_MIN, hi=1000)
    data = {"attachment_id": attachment.id}
    session.add(_internal_event(case, services, actor, EventKind.original_opened,
                                f"original of attachment {attachment.id} by staff:{actor.user_id}", data))
    record(session, actor, Change("case_file", "downloaded", case.number, None,
                                  {"case": case.number, **data, "reason": reason or None}))
    session.flush()
    return services.files.get(attachment.storage_key, "orig")
