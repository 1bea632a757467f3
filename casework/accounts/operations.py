"""Creating staff accounts, checking passwords and API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import ApiToken, Membership, Role, User
from casework.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from casework.db import utcnow
from casework.registry.models import Unit, UnitKind

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
TOKEN_PREFIX = "ct_"


class AccountError(ValueError):
    pass


def create_user(session: Session, username: str, display_name: str, password: str,
                *, unit: Unit | None = None, role: Role | None = None) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("username: 3-64 lower-case letters, digits, . _ -")
    if len(password) < MIN_LENGTH:
        raise AccountError(f"password: at least {MIN_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"username {username} is taken")
    user = User(username=username, display_name=display_name.strip() or username,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    if unit is not None and role is not None:
        grant_role(session, user, unit, role)
    return user


def grant_role(session: Session, user: User, unit: Unit, role: Role) -> Membership:
    if role is Role.triage_operator and unit.kind is not UnitKind.triage:
        raise AccountError("a triage operator belongs to the platform triage unit")
    existing = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.unit_id == unit.id, Membership.role == role))
    if existing is not None:
        return existing
    m = Membership(user=user, unit_id=unit.id, role=role)
    session.add(m)
    session.flush()
    session.refresh(user, ["memberships"])
    return m


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    ok = verify_password(user.password_hash if user and user.active else None, password or "")
    if not ok:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, label: str = "") -> str:
    """A new bearer token (printed once; only its hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), label=label))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user
