"""The audit trail: one row per administrative change, written in the same transaction as
the change (``casework.audit.operations.record``).

A row says who (the staff account, or the command line, or the system), when, what kind of
object, which action, the object's id, and the object before and after as JSON snapshots.
Snapshots name ids, codes, names of bodies and staff accounts, settings and texts an
administrator wrote for everyone (categories, notices, canned replies): never a citizen's
personal data, never a password or its hash.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_


class AuditActorKind(TitledEnum):
    staff = "staff", N_("Staff member")
    cli = "cli", N_("Command line")
    system = "system", N_("System")


class AuditKind(TitledEnum):
    """What kind of object changed."""

    routing_rule = "routing_rule", N_("Routing rule")
    joint_mediation_body = "joint_mediation_body", N_("Joint mediation body")
    canned_reply = "canned_reply", N_("Canned reply")
    time_limit = "time_limit", N_("Time limit")
    calendar_override = "calendar_override", N_("Calendar override")
    calendar_year = "calendar_year", N_("Calendar year")
    association = "association", N_("Industry association")
    unit = "unit", N_("Unit")
    user = "user", N_("User")
    membership = "membership", N_("Role in a unit")
    api_token = "api_token", N_("API token")
    category = "category", N_("Category")
    notice_template = "notice_template", N_("Notice template")
    identity_reveal = "identity_reveal", N_("Identity reveal requests and decisions")
    case_file = "case_file", N_("Original file")
    retention = "retention", N_("Retention")
    backup = "backup", N_("Backup")
    contact_details = "contact_details", N_("Contact details seen by staff")
    case_list = "case_list", N_("Case list exported")
    keys = "keys", N_("Encryption keys")  # `changtong keys rotate` (migration 0045)


class AuditAction(TitledEnum):
    created = "created", N_("Created")
    updated = "updated", N_("Updated")
    deactivated = "deactivated", N_("Deactivated")
    reactivated = "reactivated", N_("Reactivated")
    removed = "removed", N_("Removed")
    imported = "imported", N_("Imported")
    deregistered = "deregistered", N_("Deregistered")
    reinstated = "reinstated", N_("Reinstated")
    granted = "granted", N_("Granted")
    revoked = "revoked", N_("Revoked")
    password_set = "password_set", N_("Password set")
    reset = "reset", N_("Reset to default")
    requested = "requested", N_("Requested")
    approved = "approved", N_("Approved")
    denied = "denied", N_("Denied")
    viewed = "viewed", N_("Viewed")
    downloaded = "downloaded", N_("Downloaded")
    erased = "erased", N_("Erased")


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the account is kept (never deleted in the application); the name below survives anyway
    actor_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_kind: Mapped[AuditActorKind] = mapped_column(enum_column(AuditActorKind))
    # the staff account's username at the time, or who ran the command line
    actor_name: Mapped[str] = mapped_column(sa.String(64), default="")
    kind: Mapped[AuditKind] = mapped_column(enum_column(AuditKind))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction))
    object_id: Mapped[str] = mapped_column(sa.String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    __table_args__ = (
        sa.Index("ix_audit_entry_at", "at"),
        sa.Index("ix_audit_entry_kind_at", "kind", "at"),
    )

    @property
    def changed(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.kind.value}.{self.action.value} {self.object_id}>"
