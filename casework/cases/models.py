"""Cases, their categories, their append-only timeline and their attachments."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_, bilingual
from casework.registry.models import Association, Unit


class CaseType(TitledEnum):
    complaint = "complaint", N_("Complaint")
    report = "report", N_("Report")
    mediation = "mediation", N_("Mediation request")
    suggestion = "suggestion", N_("Suggestion")

    @property
    def number_prefix(self) -> str:
        return {"complaint": "TS", "report": "JB", "mediation": "TJ", "suggestion": "JY"}[self.value]

    @property
    def category_group(self) -> "CategoryGroup":
        return {
            "complaint": CategoryGroup.grievance,
            "report": CategoryGroup.grievance,
            "mediation": CategoryGroup.mediation,
            "suggestion": CategoryGroup.suggestion,
        }[self.value]


class CategoryGroup(TitledEnum):
    grievance = "grievance", N_("Complaints and reports")
    mediation = "mediation", N_("Mediation")
    suggestion = "suggestion", N_("Suggestions")


class CaseState(TitledEnum):
    received = "received", N_("Awaiting routing")
    pending_acceptance = "pending_acceptance", N_("Awaiting acceptance")
    accepted = "accepted", N_("Being handled")
    not_accepted = "not_accepted", N_("Not accepted")
    need_info = "need_info", N_("Awaiting missing material")
    replied = "replied", N_("Replied")
    under_review = "under_review", N_("Under review")
    under_re_review = "under_re_review", N_("Under re-review")
    mediating = "mediating", N_("In mediation")
    mediated = "mediated", N_("Mediation succeeded")
    mediation_failed = "mediation_failed", N_("Mediation failed")
    closed = "closed", N_("Closed")
    withdrawn = "withdrawn", N_("Withdrawn")


class Stage(TitledEnum):
    triage = "triage", N_("Routing by the platform")
    acceptance = "acceptance", N_("Decision on acceptance")
    report_notice = "report_notice", N_("Telling a named reporter whether the report is taken up")
    transfer_objection = "transfer_objection", N_("Objection to a transfer")
    handling = "handling", N_("Handling, from acceptance to written reply")
    extension = "extension", N_("Extension of handling")
    rating = "rating", N_("Rating the reply")
    review_request = "review_request", N_("Asking for a review")
    review = "review", N_("Review decision")
    re_review = "re_review", N_("Re-review decision")
    mediation = "mediation", N_("Mediation, from acceptance to outcome")
    mediation_end_notice = "mediation_end_notice", N_("Notice that mediation ended")
    judicial_confirmation = "judicial_confirmation", N_("Reminder to seek judicial confirmation")
    # the complainant's time to supply missing material (补正); it runs while the stage clock is
    # paused, and the case is closed as not accepted when it lapses (办法 第十六条第五项)
    material = "material", N_("Supplying missing material")
    mediation_answer = "mediation_answer", N_("The respondent's answer to a mediation request")
    performance_followup = "performance_followup", N_("Follow-up on performing a mediation agreement")


class Rating(TitledEnum):
    satisfied = "satisfied", N_("Satisfied")
    basically_satisfied = "basically_satisfied", N_("Basically satisfied")
    dissatisfied = "dissatisfied", N_("Dissatisfied")


class Finding(TitledEnum):
    """What handling a complaint or report found (查实情况), recorded with the reply."""

    substantiated = "substantiated", N_("Substantiated")
    partly_substantiated = "partly_substantiated", N_("Partly substantiated")
    not_substantiated = "not_substantiated", N_("Not substantiated")


# the laws a complaint's opinion rests on (信访工作条例 第三十二条), as the reply takes them and a canned
# reply keeps them: between these lengths
LEGAL_BASIS_MIN, LEGAL_BASIS_MAX = 4, 500


class Opinion(TitledEnum):
    """The handling opinion on a complaint's request (信访工作条例 第三十二条第一款): supported where the
    request's facts are clear and it accords with the law (予以支持); explained where it is
    reasonable but has no legal basis (作出解释说明); not supported where it lacks a factual basis or
    does not accord with the law (不予支持)."""

    supported = "supported", N_("Request supported")
    explained = "explained", N_("Reasonable, but without a legal basis: explained")
    not_supported = "not_supported", N_("Request not supported")


class Channel(TitledEnum):
    web = "web", N_("Website")
    api = "api", N_("API")


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    group: Mapped[CategoryGroup] = mapped_column(enum_column(CategoryGroup))
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # the association itself is a party (e.g. 会员与协会纠纷): its own bodies may not handle it
    association_is_party: Mapped[bool] = mapped_column(default=False)

    def display_name(self, locale: str) -> str:
        return bilingual(self.name, self.name_en, locale)


# a case awaiting acceptance whose unit's mailbox was not told of it yet: the partial index
# ix_case_unannounced and the sweep's query say it in the same words (SQLite uses a partial
# index only for a query that repeats its terms); "IS NOT" is SQLite's IS DISTINCT FROM
# a case the queue's 超期与督办 tab may list without reading its deadline: flagged overdue by the sweep, or
# under a 督办单 awaiting the unit's report (a few of a unit's cases). Written as each dialect renders
# ``or_(Case.overdue, Case.notice_report_due.is_not(None))`` (SQLite's boolean is ``overdue = 1``), for
# the planner to see that the query's condition implies the index's (casework.cases.queue.attention)
ATTENTION_SQL = {
    "sqlite": "overdue = 1 OR notice_report_due IS NOT NULL",
    "postgresql": "overdue OR notice_report_due IS NOT NULL",
}
UNANNOUNCED_SQL = {
    "sqlite": "state = 'pending_acceptance' AND announced_unit_id IS NOT unit_id",
    "postgresql": "state = 'pending_acceptance' AND announced_unit_id IS DISTINCT FROM unit_id",
}


class Case(Base):
    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    type: Mapped[CaseType] = mapped_column(enum_column(CaseType))
    # no index of its own: ix_case_state_due and ix_case_unit_state_due_id lead with it (0030)
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    association_id: Mapped[int | None] = mapped_column(sa.ForeignKey("association.id"), index=True)
    # what the complainant typed when they did not find the association in the registry
    association_hint: Mapped[str | None] = mapped_column(sa.String(200))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"))
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text)
    # indexed as the first column of ix_case_unit_state_due_id (its own index went in 0030)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # while the case waits for the complainant's material: the state to go back to
    resume_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="case_resume_state"))
    # the last transfer, so that the receiving unit can send it back within its window
    transferred_from_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the clock of the current stage (acceptance, handling, rating, …): when it started, when
    # it ends (for queues and sweeps), and whether it is paused (待补正, appraisal)
    stage: Mapped[Stage | None] = mapped_column(enum_column(Stage, name="case_stage"))
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # while waiting for material (need_info): when the complainant's time to supply it ends
    # (the material time limit); meaningful only in need_info
    info_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extended: Mapped[bool] = mapped_column(default=False)
    # flags, not states: past the deadline, and how far supervision (督办) has escalated
    overdue: Mapped[bool] = mapped_column(default=False)
    supervision_level: Mapped[int] = mapped_column(default=0)
    # a supervisor's 督办单 waits for the unit's report by this date (China's); none once it reported
    notice_report_due: Mapped[date | None] = mapped_column(sa.Date)
    # the deadline a reminder went out for (a new deadline gets its own reminder)
    reminded_for_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the unit whose mailbox the sweep told of this case awaiting its acceptance (a case routed,
    # transferred or sent back to another unit is new to that one: told again)
    announced_unit_id: Mapped[int | None] = mapped_column()
    reviews_requested: Mapped[int] = mapped_column(default=0)
    # the complainant's latest rating of a reply (statistics keep it after erasure)
    rating: Mapped[Rating | None] = mapped_column(enum_column(Rating))
    # what the reply found (reports must say; statistics and risk grades count it)
    finding: Mapped[Finding | None] = mapped_column(enum_column(Finding))
    # a complaint's handling opinion, stated with the reply (信访工作条例 第三十二条)
    opinion: Mapped[Opinion | None] = mapped_column(enum_column(Opinion))
    anonymous: Mapped[bool] = mapped_column(default=False)
    # personal data: ciphertext only (casework.privacy.crypto)
    complainant_name_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    complainant_phone_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    complainant_email_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    complainant_id_number_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # a keyed hash of the normalised phone number (casework.notify.queue.recipient_hash), so that
    # 我的诉求 finds a number's cases while the number itself stays encrypted; and whether the
    # number was proved (sms: a code sent to it; api_client: a registered client vouched;
    # unverified: nothing is ever sent to it) and when (issue 19)
    complainant_phone_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    phone_verified_via: Mapped[str | None] = mapped_column(sa.String(16))
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    respondent_name_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    respondent_phone_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # "organisation": the complainant is a company or other organisation (its name and credit
    # code, not personal data), complainant_* are the person filing for it (issue 19)
    complainant_kind: Mapped[str] = mapped_column(sa.String(12), default="person", server_default="person")
    organisation_name: Mapped[str | None] = mapped_column(sa.String(100))
    organisation_credit_code: Mapped[str | None] = mapped_column(sa.String(18))
    # the 委托代理人 who files for the complainant (personal data: ciphertext only)
    agent_name_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    agent_phone_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # HMAC-SHA256 of the query code under the server pepper (never the code itself)
    query_code_hash: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # SHA-256 of the request that first used the key (casework.intake.operations.request_digest):
    # the key replays only that request, another body under it is refused
    idempotency_digest: Mapped[str | None] = mapped_column(sa.String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # every change moves it: search indexing and statistics pick up changes by it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(default=1)

    association: Mapped[Association | None] = relationship()
    category: Mapped[Category] = relationship()
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    transferred_from_unit: Mapped[Unit | None] = relationship(foreign_keys=[transferred_from_unit_id])
    events: Mapped[list["Event"]] = relationship(
        back_populates="case", order_by="Event.id", cascade="save-update, merge"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="case", order_by="Attachment.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # an anonymous case keeps no identity; only a report may be anonymous
        sa.CheckConstraint(
            "NOT anonymous OR (complainant_name_enc IS NULL AND complainant_phone_enc IS NULL"
            " AND complainant_email_enc IS NULL AND complainant_id_number_enc IS NULL)",
            name="anonymous_has_no_identity",
        ),
        sa.CheckConstraint("NOT anonymous OR type = 'report'", name="only_reports_anonymous"),
        sa.CheckConstraint("(state = 'need_info') = (resume_state IS NOT NULL)", name="need_info_resumes"),
        # a review waits for triage with no unit when the unit that decided has no upper level
        sa.CheckConstraint("state IN ('received', 'withdrawn', 'under_review', 'under_re_review') OR unit_id IS NOT NULL",
                           name="routed_has_unit"),
        # a queue page: the unit's cases in a state by deadline, ids straight from the index
        sa.Index("ix_case_unit_state_due_id", "unit_id", "state", "due_at", "id"),
        sa.Index("ix_case_state_due", "state", "due_at"),
        sa.CheckConstraint("reviews_requested BETWEEN 0 AND 2", name="reviews_at_most_two"),
        # the sweep's work list: deadlines not yet marked overdue (a small part of all cases)
        sa.Index("ix_case_due_open", "due_at", postgresql_where=sa.text("NOT overdue AND due_at IS NOT NULL"),
                 sqlite_where=sa.text("NOT overdue AND due_at IS NOT NULL")),
        sa.Index("ix_case_overdue_level", "supervision_level", "due_at", postgresql_where=sa.text("overdue"),
                 sqlite_where=sa.text("overdue")),
        # the supervisor's list of notices waiting for a report (a few cases of all)
        sa.Index("ix_case_notice_report_due", "notice_report_due", "id",
                 postgresql_where=sa.text("notice_report_due IS NOT NULL"),
                 sqlite_where=sa.text("notice_report_due IS NOT NULL")),
        # the sweep's list of cases awaiting acceptance whose unit was not told yet (a few of all)
        sa.Index("ix_case_unannounced", "id", postgresql_where=sa.text(UNANNOUNCED_SQL["postgresql"]),
                 sqlite_where=sa.text(UNANNOUNCED_SQL["sqlite"])),
        # the 超期与督办 tab's flagged cases of one unit
        sa.Index("ix_case_unit_attention", "unit_id", "state", postgresql_where=sa.text(ATTENTION_SQL["postgresql"]),
                 sqlite_where=sa.text(ATTENTION_SQL["sqlite"])),
    )

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.state.value}>"


class EventKind(TitledEnum):
    submitted = "submitted", N_("Submitted")
    routed = "routed", N_("Routed")
    accepted = "accepted", N_("Accepted")
    not_accepted = "not_accepted", N_("Not accepted")
    transferred = "transferred", N_("Transferred")
    sent_back = "sent_back", N_("Sent back")
    info_requested = "info_requested", N_("Material requested")
    info_supplied = "info_supplied", N_("Material supplied")
    replied = "replied", N_("Replied")
    withdrawn = "withdrawn", N_("Withdrawn")
    assigned = "assigned", N_("Assigned")
    extended = "extended", N_("Deadline extended")
    suspended = "suspended", N_("Suspended for appraisal")
    resumed = "resumed", N_("Resumed")
    rated = "rated", N_("Reply rated")
    review_requested = "review_requested", N_("Review requested")
    review_decided = "review_decided", N_("Review decided")
    closed = "closed", N_("Closed")
    reminder = "reminder", N_("Reminder sent")
    overdue = "overdue", N_("Overdue")
    supervised = "supervised", N_("Supervision notice (督办)")
    mediation_started = "mediation_started", N_("Mediation started")
    mediation_ended = "mediation_ended", N_("Mediation ended")
    session_logged = "session_logged", N_("Mediation session")
    identity_revealed = "identity_revealed", N_("Identity revealed")
    linked = "linked", N_("Linked as duplicate")
    rerouted = "rerouted", N_("Re-routed")
    state_changed = "state_changed", N_("State changed")
    note = "note", N_("Note")
    attachment_added = "attachment_added", N_("Attachment added")
    # a report's identity: asked for, decided (internal only; the view is identity_revealed)
    reveal_requested = "reveal_requested", N_("Identity reveal requested")
    reveal_decided = "reveal_decided", N_("Identity reveal decided")
    original_opened = "original_opened", N_("Original file downloaded")
    erased = "erased", N_("Personal data erased")
    # staff saw a complaint's or mediation's contact details, with a reason (internal only)
    contact_viewed = "contact_viewed", N_("Contact details viewed")
    # the complainant's own moves after filing: more evidence or a statement; urging (催办) a case
    # whose handling deadline has passed
    evidence_added = "evidence_added", N_("Evidence added")
    urged = "urged", N_("Urged (催办)")


class ActorKind(TitledEnum):
    public = "public", N_("Complainant")
    respondent = "respondent", N_("Respondent")
    staff = "staff", N_("Staff")
    system = "system", N_("System")


# the partial index's WHERE, which the query for the list of notices repeats word for word
SUPERVISION_NOTICE_SQL = "kind = 'supervised' AND actor_kind = 'staff'"


class Event(Base):
    """One entry in a case's timeline. Rows are only ever inserted (see guard below)."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind))
    actor_id: Mapped[int | None] = mapped_column()
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    from_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="event_from_state"))
    to_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="event_to_state"))
    # untranslated summary for staff and logs; never personal data
    summary: Mapped[str] = mapped_column(sa.String(300))
    # text the complainant sees (written by a person, shown as is)
    public_text: Mapped[str | None] = mapped_column(sa.Text)
    internal_text: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    files: Mapped[list["Attachment"]] = relationship(back_populates="event", order_by="Attachment.id")

    # the 督办单 supervisors issued (a few among millions of events), newest first for /supervise/notices
    __table_args__ = (
        sa.Index("ix_event_supervision_notice", "id", postgresql_where=sa.text(SUPERVISION_NOTICE_SQL),
                 sqlite_where=sa.text(SUPERVISION_NOTICE_SQL)),
    )

    PUBLIC_KINDS = frozenset({"submitted", "routed", "accepted", "not_accepted", "transferred",
                              "sent_back", "info_requested", "info_supplied", "replied", "withdrawn",
                              "extended", "suspended", "resumed", "rated", "review_requested",
                              "review_decided", "closed", "mediation_started", "mediation_ended",
                              "linked", "state_changed", "evidence_added", "urged"})

    @property
    def is_public(self) -> bool:
        """The complainant sees this entry (its public text, never the internal one)."""
        if self.kind is EventKind.routed and self.to_state is None:
            return False  # sent to triage: internal
        return self.kind.value in self.PUBLIC_KINDS or bool(self.public_text)


class Attachment(Base):
    """An uploaded file. Both the original and the staff copy are stored encrypted on disk.

    Before the case exists (a form that came back with errors) the file is staged under
    the form's token, so the complainant does not have to upload it again.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id"))
    # a file staff attached to a reply (the complainant sees it), or the complainant's own
    from_staff: Mapped[bool] = mapped_column(default=False)
    staging_token: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # what the file is for: "power_of_attorney" (an agent's 授权委托书), None for evidence
    role: Mapped[str | None] = mapped_column(sa.String(20))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # retention erased the files on disk (the row stays for counts; filename blanked)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case | None] = relationship(back_populates="attachments")
    # the event the file came with (evidence added after filing, a reply's documents)
    event: Mapped["Event | None"] = relationship(back_populates="files")

    __table_args__ = (
        sa.CheckConstraint(
            "(case_id IS NULL) <> (staging_token IS NULL)", name="case_or_staged"
        ),
        sa.CheckConstraint("size >= 0", name="size_nonnegative"),
    )


class IntakeReceipt(Base):
    """For a short while after a submission, the number and (encrypted) query code, so a
    replayed submit (double click, retry after a dropped connection) shows the same
    receipt instead of filing a second case. Deleted when it expires."""

    __tablename__ = "intake_receipt"

    idempotency_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    query_code_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CannedReply(Base):
    """A unit's reusable reply text, offered on the case page."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.Text)
    # the laws such a reply rests on: filled in with the text as a complaint's opinion's legal
    # basis (信访工作条例 第三十二条); the handler still chooses the opinion
    legal_basis: Mapped[str | None] = mapped_column(sa.String(LEGAL_BASIS_MAX))
    active: Mapped[bool] = mapped_column(default=True)
