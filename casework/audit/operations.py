"""Recording administrative changes.

An operation that changes what an administrator manages builds a ``Change`` (the row's
snapshot before and after) and calls ``record`` with the session it changed the row in, so
the audit entry commits or rolls back with the change itself. ``record`` writes nothing for
an update that changed nothing.

Who: a staff member (their account and username), the command line (``cli_actor()``: the
operating-system login that ran it), or the system.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.audit.models import AuditAction, AuditActorKind, AuditEntry, AuditKind
from casework.db import utcnow

CLI = "cli"
_CLI_PREFIX = CLI + ":"


@dataclass
class Change:
    """One applied change: what the row looked like before (None when created) and after
    (None when removed). ``row_id`` names the object: an id, a code, a date."""

    kind: str
    action: str
    row_id: int | str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    entry_id: int | None = None  # the audit entry that records it, once recorded

    @property
    def changed(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]

    @property
    def is_noop(self) -> bool:
        """An update (or deactivation …) that left every field as it was."""
        return self.before is not None and self.after is not None and not self.changed


def cli_actor(login: str | None = None) -> Actor:
    """The actor for a command run on the server: the system, named after the login."""
    if login is None:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (a container with a bare uid)
            login = "unknown"
    return Actor.system(_CLI_PREFIX + login[:60])


def _who(session: Session, actor: Actor) -> tuple[AuditActorKind, int | None, str]:
    if actor.is_staff and actor.user_id is not None:
        user = session.get(User, actor.user_id)
        return AuditActorKind.staff, actor.user_id, user.username if user else ""
    if actor.name == CLI or actor.name.startswith(_CLI_PREFIX):
        return AuditActorKind.cli, None, actor.name[len(_CLI_PREFIX):] or CLI
    return AuditActorKind.system, None, actor.name[:64]


def record(session: Session, actor: Actor, change: Change) -> AuditEntry | None:
    """Add the audit entry for ``change`` to ``session`` (flushed with it; never commits).

    Returns None, writing nothing, when an update changed nothing."""
    if change.is_noop:
        return None
    kind, user_id, name = _who(session, actor)
    entry = AuditEntry(
        at=utcnow(), actor_user_id=user_id, actor_kind=kind, actor_name=name,
        kind=AuditKind(change.kind), action=AuditAction(change.action),
        object_id="" if change.row_id is None else str(change.row_id)[:64],
        before=change.before, after=change.after,
    )
    session.add(entry)
    session.flush()
    change.entry_id = entry.id
    return entry


Snapshot = Callable[[Any], dict[str, Any]]


def record_created(session: Session, actor: Actor, kind: str, row: Any, row_id: int | str,
                   snapshot: Snapshot) -> Change:
    """Add the new ``row`` and record it as created."""
    session.add(row)
    session.flush()
    change = Change(kind, "created", row_id, None, snapshot(row))
    record(session, actor, change)
    return change


def record_edit(session: Session, actor: Actor, kind: str, row: Any, row_id: int | str, snapshot: Snapshot,
                edit: Callable[[Any], None], action: str = "updated") -> Change:
    """Make ``edit`` to ``row`` and record it with the row's snapshot before and after
    (nothing when it changed nothing). An update that only took the row out of use, or
    back, is recorded as deactivated or reactivated."""
    before = snapshot(row)
    edit(row)
    session.flush()
    change = Change(kind, action, row_id, before, snapshot(row))
    if action == "updated" and change.changed == ["active"]:
        change.action = "reactivated" if row.active else "deactivated"
    record(session, actor, change)
    return change


def set_active(session: Session, actor: Actor, kind: str, row: Any, row_id: int | str, active: bool,
               snapshot: Snapshot) -> Change:
    """Take ``row`` out of use or back into use (its ``active``), recorded as deactivated or
    reactivated (nothing when it already was)."""
    return record_edit(session, actor, kind, row, row_id, snapshot, lambda r: setattr(r, "active", active),
                       "reactivated" if active else "deactivated")
