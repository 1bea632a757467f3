"""The lists a desk page offers: categories, a unit's handlers and members, the units a
case may go to, canned replies."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import Membership, User
from casework.cases.models import Case, CannedReply, Category
from casework.registry.models import Unit, UnitKind
from casework.routing.engine import check_unit_allowed
from casework.workflow.spec import HANDLERS


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.active)
                                .order_by(Category.group, Category.sort_order, Category.id)))


def unit_handlers(session: Session, unit_id: int | None) -> list[User]:
    """Active users who may hold a case of this unit (handlers and the unit lead)."""
    if unit_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit_id, Membership.role.in_(HANDLERS), User.active)
        .distinct().order_by(User.display_name, User.id)
    ))


def unit_members(session: Session, unit_id: int | None) -> list[User]:
    """Everyone with a role in this unit (a mediation body's mediators), for recusal."""
    if unit_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit_id, User.active)
        .distinct().order_by(User.display_name, User.id)
    ))


def receiving_units(session: Session, case: Case) -> list[Unit]:
    """Units the case may be routed or transferred to: active, not triage, not the one that
    holds it, and not a body of the association the case is about."""
    units = session.scalars(select(Unit).where(Unit.active, Unit.kind != UnitKind.triage)
                            .order_by(Unit.region_code, Unit.kind, Unit.id))
    return [u for u in units if u.id != case.unit_id and check_unit_allowed(u, case) is None]


def canned_replies(session: Session, unit_id: int | None) -> list[CannedReply]:
    if unit_id is None:
        return []
    return list(session.scalars(select(CannedReply).where(CannedReply.unit_id == unit_id, CannedReply.active)
                                .order_by(CannedReply.title, CannedReply.id)))
