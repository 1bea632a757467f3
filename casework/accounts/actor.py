"""Who is acting: a staff member with roles per unit, the complainant of one case, or
the system (workers). Domain code receives an Actor; it never reads a web session."""
from __future__ import annotations

from dataclasses import dataclass, field

from casework.accounts.models import Role, User
from casework.cases.models import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: ActorKind  # staff, public (the complainant), respondent, system
    user_id: int | None = None
    name: str = ""
    roles: frozenset[tuple[int, Role]] = field(default_factory=frozenset)
    case_id: int | None = None  # the one case a public actor proved it may act on

    @classmethod
    def staff(cls, user: User) -> "Actor":
        return cls(ActorKind.staff, user.id, user.display_name,
                   frozenset((m.unit_id, m.role) for m in user.memberships))

    @classmethod
    def complainant(cls, case_id: int) -> "Actor":
        return cls(ActorKind.public, case_id=case_id, name="complainant")

    @classmethod
    def respondent(cls, case_id: int) -> "Actor":
        """The other party of a mediation request, who proved it holds the respondent code."""
        return cls(ActorKind.respondent, case_id=case_id, name="respondent")

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(ActorKind.system, name=name)

    def has(self, role: Role, unit_id: int | None = None) -> bool:
        return any(r is role and (unit_id is None or u == unit_id) for u, r in self.roles)

    def roles_in(self, unit_id: int | None) -> set[Role]:
        return {r for u, r in self.roles if u == unit_id}

    def unit_ids(self, *roles: Role) -> set[int]:
        return {u for u, r in self.roles if not roles or r in roles}

    @property
    def is_staff(self) -> bool:
        return self.kind is ActorKind.staff
