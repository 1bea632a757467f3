"""Creating staff accounts, checking passwords and API tokens; the administrators' audited
changes to accounts and roles."""
from __future__ import annotations

import hashlib
import re
import secrets
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.models import ApiToken, Membership, PendingGrant, Role, User
from casework.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from casework.audit.operations import Change, record, set_active
from casework.db import utcnow
from casework.i18n import Message, N_
from casework.intake.validation import Errors, add_error, clean_text
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


# --- administration: audited changes to accounts and roles ------------------------------------
#
# The web admin checks a form with ``check_new_user`` / ``check_membership`` (messages per
# field) before calling these; the command line relies on the AccountError that
# create_user / grant_role raise. Each records its change in the audit trail (casework.audit):
# usernames, display names, units and roles; never a password or its hash.

DISPLAY_NAME_MAX = 100
PASSWORD_MAX = 200


def user_snapshot(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "active": user.active,
            "roles": ", ".join(sorted(f"{m.role.value}@{m.unit.code}" for m in user.memberships)) or None}


def membership_snapshot(m: Membership) -> dict:
    return {"user": m.user.username, "unit": m.unit.code, "role": m.role.value}


def generate_password() -> str:
    """An initial password to hand over once: 16 characters, ~96 random bits."""
    return secrets.token_urlsafe(12)


def check_new_user(session: Session, raw) -> Errors:
    """The new-account form: username, display name, password (blank: generated), unit and role."""
    errors: Errors = {}
    err = partial(add_error, errors)

    username = clean_text(raw.get("username")).lower()
    if not USERNAME.match(username):
        err("username", N_("3 to 64 lower-case letters, digits, dots, hyphens or underscores, e.g. wang.li."))
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        err("username", N_("The username %(name)s is taken."), name=username)
    if len(clean_text(raw.get("display_name"))) > DISPLAY_NAME_MAX:
        err("display_name", N_("At most %(max)d characters."), max=DISPLAY_NAME_MAX)
    errors.update(check_password(raw.get("password") or "", required=False))
    errors.update(check_membership(session, raw))
    return errors


def check_password(password: str, *, required: bool = True) -> Errors:
    if not password and not required:
        return {}
    if not MIN_LENGTH <= len(password) <= PASSWORD_MAX:
        return {"password": [Message(N_("A password of %(min)d to %(max)d characters."),
                                     {"min": MIN_LENGTH, "max": PASSWORD_MAX})]}
    return {}


def check_membership(session: Session, raw) -> Errors:
    errors: Errors = {}
    code = clean_text(raw.get("unit"))
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else None
    if unit is None or not unit.active:
        errors["unit"] = [Message(N_("Choose a unit in use."))]
    role = Role._value2member_map_.get(clean_text(raw.get("role")))
    if role is None:
        errors["role"] = [Message(N_("Choose a role."))]
    elif unit is not None and role is Role.triage_operator and unit.kind is not UnitKind.triage:
        errors["role"] = [Message(N_("A triage operator belongs to the platform triage unit."))]
    return errors


# roles an administrator's grant does not make effective alone: a second administrator confirms
# (the custodian approves requests to see a reporter's identity; one administrator holding both
# ends of that could reveal a reporter alone)
NEEDS_SECOND_ADMINISTRATOR = frozenset({Role.custodian})


def create_staff_user(session: Session, actor: Actor, username: str, display_name: str, password: str,
                      unit: Unit, roles: list[Role], *, temporary: bool = False) -> tuple[User, Change]:
    """A new account with its roles in one unit (raises AccountError); a role that needs a
    second administrator waits for one (``request_grant``). ``temporary``: the password was
    chosen for its holder (by an administrator on the web), who replaces it at first sign-in."""
    user = create_user(session, username, display_name, password)
    user.password_change_required = temporary
    for role in roles:
        if role in NEEDS_SECOND_ADMINISTRATOR and actor.user_id is not None:
            _pending(session, actor, user, unit, role)
        else:
            grant_role(session, user, unit, role)
    change = Change("user", "created", user.username, None, user_snapshot(user))
    record(session, actor, change)
    return user, change


def _no_self_grant(actor: Actor, user: User) -> None:
    if actor.user_id is not None and actor.user_id == user.id:
        raise AccountError("you cannot give yourself a role; ask another administrator")


def pending_snapshot(p: PendingGrant) -> dict:
    return {"user": p.user.username, "unit": p.unit.code, "role": p.role.value,
            "requested_by": p.requested_by.username if p.requested_by else None}


def _pending(session: Session, actor: Actor, user: User, unit: Unit, role: Role) -> PendingGrant:
    existing = session.scalar(select(PendingGrant).where(
        PendingGrant.user_id == user.id, PendingGrant.unit_id == unit.id, PendingGrant.role == role))
    if existing is not None:
        return existing
    p = PendingGrant(user=user, unit=unit, role=role, requested_by_user_id=actor.user_id)
    session.add(p)
    session.flush()
    return p


def request_grant(session: Session, actor: Actor, user: User, unit: Unit, role: Role) -> Change | None:
    """Ask for a role that a second administrator must confirm; None when the user has it or
    it is already asked for."""
    _no_self_grant(actor, user)
    if session.scalar(select(Membership.id).where(
            Membership.user_id == user.id, Membership.unit_id == unit.id, Membership.role == role)) is not None:
        return None
    p = _pending(session, actor, user, unit, role)
    change = Change("membership", "requested", f"pending-{p.id}", None, pending_snapshot(p))
    record(session, actor, change)
    return change


def confirm_grant(session: Session, actor: Actor, p: PendingGrant) -> Change:
    """A second administrator confirms: neither the one who asked nor the account itself."""
    if actor.user_id in (p.requested_by_user_id, p.user_id):
        raise AccountError("a second administrator must confirm this role")
    user, unit, role, asked = p.user, p.unit, p.role, pending_snapshot(p)["requested_by"]
    session.delete(p)
    session.flush()
    m = grant_role(session, user, unit, role)
    change = Change("membership", "approved", m.id, None, {**membership_snapshot(m), "requested_by": asked})
    record(session, actor, change)
    return change


def cancel_grant(session: Session, actor: Actor, p: PendingGrant) -> Change:
    change = Change("membership", "denied", f"pending-{p.id}", pending_snapshot(p), None)
    session.delete(p)
    session.flush()
    record(session, actor, change)
    return change


def set_user_active(session: Session, actor: Actor, user: User, active: bool) -> Change:
    """Disable an account (its sessions and API tokens stop working at once) or enable it
    again. Nobody disables their own account."""
    if not active and actor.user_id == user.id:
        raise AccountError("you cannot disable your own account")
    return set_active(session, actor, "user", user, user.username, active, user_snapshot)


def set_password(session: Session, actor: Actor, user: User, password: str, *, temporary: bool = False) -> Change:
    """A new password set by an administrator; the user's sessions end (their password
    version changes). The audit entry says that it was set, nothing more. ``temporary``: its
    holder replaces it at the next sign-in."""
    if len(password) < MIN_LENGTH:
        raise AccountError(f"password: at least {MIN_LENGTH} characters")
    user.password_hash = hash_password(password)
    user.password_change_required = temporary
    session.flush()
    change = Change("user", "password_set", user.username, None, None)
    record(session, actor, change)
    return change


def change_own_password(session: Session, user: User, current: str, new: str, again: str) -> Errors:
    """A staff member replaces their own password: the current one proves it is them, the new
    one is typed twice and differs from it. Their other sessions end (casework.accounts.sessions);
    the audit entry (password set, by themselves) says nothing more. Errors by field, nothing
    changed."""
    errors: Errors = {}
    if not verify_password(user.password_hash, current):
        add_error(errors, "current_password", N_("This is not your current password."))
    errors.update({("new_password" if k == "password" else k): v for k, v in check_password(new).items()})
    if not errors.get("new_password"):
        if again != new:
            add_error(errors, "new_password_again", N_("The two new passwords differ. Type the same one twice."))
        elif "current_password" not in errors and new == current:
            add_error(errors, "new_password", N_("Choose a password other than the current one."))
    if errors:
        return errors
    user.password_hash = hash_password(new)
    user.password_change_required = False
    session.flush()
    record(session, Actor.staff(user), Change("user", "password_set", user.username, None, None))
    return {}


def grant_membership(session: Session, actor: Actor, user: User, unit: Unit, role: Role) -> Change | None:
    """Give a role in a unit; None when the user had it already (nothing recorded). Nobody
    gives themselves a role (an administrator who made themselves a handler could ask to see a
    reporter's identity); a custodian's role waits for a second administrator (request_grant)."""
    if role in NEEDS_SECOND_ADMINISTRATOR and actor.user_id is not None:
        return request_grant(session, actor, user, unit, role)
    _no_self_grant(actor, user)
    exists = session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.unit_id == unit.id, Membership.role == role))
    if exists is not None:
        return None
    m = grant_role(session, user, unit, role)
    change = Change("membership", "granted", m.id, None, membership_snapshot(m))
    record(session, actor, change)
    return change


def revoke_membership(session: Session, actor: Actor, m: Membership) -> Change:
    """Take a role away. Nobody takes away their own administrator role (there would be
    no one left to give it back, perhaps)."""
    if m.user_id == actor.user_id and m.role is Role.administrator:
        raise AccountError("you cannot remove your own administrator role")
    change = Change("membership", "revoked", m.id, membership_snapshot(m), None)
    user = m.user
    session.delete(m)
    session.flush()
    session.refresh(user, ["memberships"])
    record(session, actor, change)
    return change


def _token_snapshot(token: ApiToken) -> dict:
    return {"user": token.user.username, "label": token.label, "revoked": token.revoked_at is not None}


def issue_api_token(session: Session, actor: Actor, user: User, label: str = "") -> str:
    """``issue_token``, audited (the owner and label; never the token)."""
    token = issue_token(session, user, label)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    record(session, actor, Change("api_token", "created", row.id, None, _token_snapshot(row)))
    return token


def revoke_api_token(session: Session, actor: Actor, token: ApiToken) -> Change:
    before = _token_snapshot(token)
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
    change = Change("api_token", "revoked", token.id, before, _token_snapshot(token))
    record(session, actor, change)
    return change
