"""Mediation by an association's mediation body (or a regional joint body): the request's
particulars, the respondent's consent, sessions, recusals and the outcome."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.cases.models import Case
from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_


class RespondentKind(TitledEnum):
    member_company = "member_company", N_("A member company")
    association = "association", N_("The association itself")
    consumer = "consumer", N_("A consumer")
    other = "other", N_("Another party")

    @property
    def is_organisation(self) -> bool:
        """Whether the name the applicant gave is an organisation's: a member company, the association.
        It is not personal data (个人信息保护法 第四条: information on a natural person), the mediator needs
        it, and the agreement prints it: staff see it in full. A consumer is a person; "another party"
        may be a person or a body (the forms ask for "a person or a company"), so its name stays masked."""
        return self in (RespondentKind.member_company, RespondentKind.association)


class Outcome(TitledEnum):
    agreement = "agreement", N_("Agreement reached")
    no_agreement = "no_agreement", N_("No agreement")
    refused = "refused", N_("Consent refused")
    timed_out = "timed_out", N_("Time limit passed without agreement")
    ended_by_party = "ended_by_party", N_("Ended by a party")


class RecusalDecision(TitledEnum):
    granted = "granted", N_("Granted: the mediator steps aside")
    refused = "refused", N_("Refused: the mediator stays")


class SessionStatus(TitledEnum):
    """Whether a scheduled session still stands: moved (to the session that replaced it) or
    called off, each with the mediator's reason, which both parties are told."""

    scheduled = "scheduled", N_("Scheduled")
    moved = "moved", N_("Moved")
    cancelled = "cancelled", N_("Cancelled")


class Performance(TitledEnum):
    """What the follow-up (回访) on an agreement found (人民调解法 第三十一条)."""

    performed = "performed", N_("Performed in full")
    partly = "partly", N_("Partly performed")
    not_performed = "not_performed", N_("Not performed")


class Mediation(Base):
    __tablename__ = "mediation"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    respondent_kind: Mapped[RespondentKind] = mapped_column(enum_column(RespondentKind))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    claim: Mapped[str] = mapped_column(sa.Text)
    # the respondent's own code (consent link), stored like a query code: keyed hash only
    respondent_code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    respondent_consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    facts: Mapped[str | None] = mapped_column(sa.Text)
    terms: Mapped[str | None] = mapped_column(sa.Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the respondent's answer is due by then; silence counts as refusal (人民调解法 第十七条)
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a party asked for a mediator's recusal (回避): mediation is suspended until decided
    recusal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recusal_requested_by: Mapped[str | None] = mapped_column(sa.String(20))
    recusal_request: Mapped[str | None] = mapped_column(sa.Text)
    recusal_paused_clock: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # the 调解协议书 (人民调解法 第二十九条): the parties' particulars (ID or credit code,
    # address, representative or agent; ciphertext, a JSON object), the dispute, each
    # party's responsibility, and how and by when it is performed
    particulars_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    issues: Mapped[str | None] = mapped_column(sa.Text)
    liability: Mapped[str | None] = mapped_column(sa.Text)
    performance_method: Mapped[str | None] = mapped_column(sa.Text)
    performance_due: Mapped[date | None] = mapped_column(sa.Date)
    # the day the agreement took effect, from which the 30 days for 司法确认 run: a written one's
    # when the parties signed (sealed, fingerprinted) and the mediator signed and the body sealed
    # it (人民调解法 第二十九条); an oral one's when it was reached (第三十条)
    signed_on: Mapped[date | None] = mapped_column(sa.Date)
    # the parties saw no need for a 调解协议书 and agreed orally; the mediator recorded its content
    # (人民调解法 第二十八条: before a 人民调解委员会 only)
    oral_agreement: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # the follow-up on performance (回访): due after the performance deadline, and what it found
    followup_due: Mapped[date | None] = mapped_column(sa.Date)
    followup_reminded: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    performance: Mapped[Performance | None] = mapped_column(enum_column(Performance))
    # the 调解协议书 PDF (encrypted, in the file store)
    agreement_key: Mapped[str | None] = mapped_column(sa.String(100))
    # the complaint this failed mediation was turned into
    followup_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(foreign_keys=[case_id], backref=sa.orm.backref("mediation", uselist=False))
    sessions: Mapped[list["MediationSession"]] = relationship(
        order_by="MediationSession.scheduled_at", primaryjoin="Mediation.case_id == foreign(MediationSession.case_id)",
        viewonly=True)

    @property
    def statements(self) -> list:
        """The respondent's written statements (书面意见), oldest first: the events of the move
        ``respondent_statement``, each its text (the event's internal text: staff and the respondent
        read it, the applicant does not) and its files."""
        return [ev for ev in self.case.events if (ev.data or {}).get("move") == "respondent_statement"]

    __table_args__ = (
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint("outcome <> 'agreement' OR terms IS NOT NULL", name="agreement_has_terms"),
    )


def never_held(med: "Mediation", session: "MediationSession") -> bool:
    """A session still standing, not logged as held by the time the mediation ended, did not
    take place (one moved or cancelled says so itself)."""
    return session.stands and not session.held and med.outcome is not None


class MediationSession(Base):
    __tablename__ = "mediation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(sa.String(200))
    online: Mapped[bool] = mapped_column(default=False)
    held: Mapped[bool] = mapped_column(default=False)
    # the parties were sent an invitation (its time was still to come when it was scheduled); one
    # recorded after the fact was not, and neither is told of its move or cancellation as such
    invited: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    attendees: Mapped[str | None] = mapped_column(sa.String(500))
    summary: Mapped[str | None] = mapped_column(sa.Text)  # the parties see it
    internal_notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # moved (to ``moved_to_id``, the session that replaced it) or cancelled, when and why (the
    # reason is the parties' to read: they were told it with the new time or the cancellation)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.scheduled,
                                                  server_default=SessionStatus.scheduled.value)
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediation_session.id", ondelete="SET NULL"))
    moved_to: Mapped["MediationSession | None"] = relationship(remote_side=[id], foreign_keys=[moved_to_id])

    __table_args__ = (
        # a session held took place as scheduled; one moved or cancelled says when and why
        sa.CheckConstraint("NOT held OR status = 'scheduled'", name="held_as_scheduled"),
        sa.CheckConstraint("status = 'scheduled' OR (status_changed_at IS NOT NULL AND status_reason IS NOT NULL)",
                           name="change_has_reason"),
    )

    @property
    def stands(self) -> bool:
        """Not moved nor cancelled: the parties expect it at its time and place."""
        return self.status is SessionStatus.scheduled


class MediatorRecusal(Base):
    """A mediator who may not mediate this case (回避): a party's member, a relative …"""

    __tablename__ = "mediator_recusal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("case_id", "user_id", name="uq_recusal_case_user"),)
