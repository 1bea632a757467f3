"""Staff accounts: users, their roles per unit, and API tokens."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_
from casework.registry.models import Unit


class Role(TitledEnum):
    handler = "handler", N_("Case handler")
    unit_lead = "unit_lead", N_("Unit lead")
    triage_operator = "triage_operator", N_("Triage operator")
    supervisor = "supervisor", N_("Supervisor")
    administrator = "administrator", N_("Administrator")
    # decides requests to see a report's (举报) identity; sees no case content itself
    custodian = "custodian", N_("Identity custodian")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the password was set by an administrator (a new account, a reset): its holder chooses one
    # of their own at the next sign-in before anything else (web.auth)
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(Base):
    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "unit_id", "role", name="uq_membership_user_unit_role"),)


class PendingGrant(Base):
    """A role that takes effect only once a second administrator confirms it: the identity
    custodian's, who approves requests to see a reporter's identity (so no one administrator
    alone can both ask for a reveal and approve it)."""

    __tablename__ = "pending_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    requested_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_user_id], lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "unit_id", "role", name="uq_pending_grant_user_unit_role"),)


class ApiToken(Base):
    """A bearer token for the staff API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class StaffSession(Base):
    """A signed-in staff browser. The cookie carries a random 256-bit id; only its SHA-256 is
    stored, so a copy of the database opens no session (see casework.accounts.sessions)."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
