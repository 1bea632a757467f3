"""The lists a desk page offers: categories, a unit's handlers and members, the units a
case may go to, canned replies; and what each field of a move offers (``move_options`` and
``field_choices``), for the desk's move forms and the staff API's case alike."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.models import Membership, User
from casework.cases.models import Case, CannedReply, Category
from casework.db import as_utc
from casework.registry.models import Unit, UnitKind
from casework.routing.engine import check_unit_allowed
from casework.workflow import reveal
from casework.workflow.spec import HANDLERS, Field, Move
from web.i18n import for_filer, title
from web.presenters import local_time, unit_title


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


def _takes(moves: Iterable[Move], listed: str) -> bool:
    return any(f.choices == listed for m in moves for f in m.fields)


def move_options(session: Session, actor: Actor, case: Case, moves: Iterable[Move], now: datetime, *,
                 sessions: Iterable = (), recused_ids: frozenset | set = frozenset()) -> dict[str, list[tuple[int, str]]]:
    """The rows each ``ref`` field of these moves names by its ``choices``, as (id, label): the
    units a case may go to, the unit's handlers (a mediator withdrawn marked so), the case's
    mediation ``sessions`` not yet logged whose time has come and those still standing (to move or
    cancel: ``standing_sessions``), the mediators not withdrawn
    (``recused_ids``), the reveal requests this actor may decide. Only the lists the moves take
    are read."""
    moves = list(moves)
    out: dict[str, list[tuple[int, str]]] = {}
    if _takes(moves, "units"):
        out["units"] = [(u.id, unit_title(u)) for u in receiving_units(session, case)]
    if _takes(moves, "handlers"):
        withdrawn = _("withdrawn (回避)")
        out["handlers"] = [(u.id, f"{u.display_name}（{withdrawn}）" if u.id in recused_ids else u.display_name)
                           for u in unit_handlers(session, case.unit_id)]
    if _takes(moves, "sessions"):
        out["sessions"] = [(x.id, f"{local_time(x.scheduled_at)} · {x.place}") for x in sessions
                           if not x.held and x.stands and as_utc(x.scheduled_at) <= now]
    if _takes(moves, "standing_sessions"):
        out["standing_sessions"] = [(x.id, f"{local_time(x.scheduled_at)} · {x.place}") for x in sessions
                                    if not x.held and x.stands]
    if _takes(moves, "mediators"):
        out["mediators"] = [(u.id, u.display_name) for u in unit_members(session, case.unit_id)
                            if u.id not in recused_ids]
    if _takes(moves, "reveal_requests"):
        pending = reveal.pending_requests(session, case, actor)
        ids = {r.requested_by for r in pending}
        names = ({uid: name for uid, name in session.execute(select(User.id, User.display_name)
                                                              .where(User.id.in_(ids)))} if ids else {})
        out["reveal_requests"] = [(r.id, f"{local_time(r.requested_at)} · {names.get(r.requested_by, '?')}")
                                  for r in pending]
    return out


def field_choices(field: Field, options: dict[str, list], case: Case, now: datetime | None = None) -> list[tuple]:
    """The (value, label) pairs a move's field offers on this case: an enum's members its case
    type takes (a reason that names the person who filed names them as the type does: 申请人不是
    纠纷当事人), or the rows of the field's list that its own check accepts (a review is not
    offered to a unit that decided the case, a session to log is one whose time has come)."""
    if isinstance(field.choices, str):
        rows = options.get(field.choices, [])
        if field.check is not None and now is not None:
            rows = [(v, label) for v, label in rows if field.check(str(v), case, now) is None]
        return rows
    if not field.choices:
        return []
    return [(c.value, for_filer(title(c), case.type)) for c in field.choices if field.offers(c, case.type)]


# -- the unit list of a transfer or a route, for hundreds of units ------------------------------

# the groups of the list, in the order UnitKind declares them (行业管理部门, 登记管理机关, 业务主管单位,
# 党委社会工作部门, 纪检监察, 调解组织); triage never receives a case
UNIT_GROUPS = tuple(k for k in UnitKind if k is not UnitKind.triage)
UNIT_FILTER = "unit_filter"        # the text that narrows the list (a form field, or ?unit_filter= on the page)
UNIT_FILTER_GO = "unit_filter_go"  # the form's "Filter" button: the form comes back narrowed, nothing is done


def unit_search_text(unit: Unit) -> str:
    """What a typed filter is matched against: both names, the code and the region code."""
    return " ".join(filter(None, (unit.name, unit.name_en, unit.code, unit.region_code))).lower()


class UnitPicker:
    """Groups the units a move's field offers by kind and narrows them by the words typed (each
    word must occur in a unit's names, code or region code). It only narrows what the field
    offers (``field_choices``: the units that may receive the case, never a body of the
    association it is about); the chosen unit stays listed whatever is typed."""

    def __init__(self, units: Iterable[Unit], needle: str = ""):
        self.units = {u.id: u for u in units}
        self.needle = " ".join((needle or "").split())[:60]
        self.words = self.needle.lower().split()

    def matches(self, unit: Unit) -> bool:
        text = unit_search_text(unit)
        return all(w in text for w in self.words)

    def groups(self, rows, chosen: str = "") -> list[tuple[str, list[tuple]]]:
        """(group title, [(value, label, search text)]) for the rows (value, label) left by the filter."""
        by_kind: dict[UnitKind, list[tuple]] = {k: [] for k in UNIT_GROUPS}
        for value, label in rows:
            unit = self.units.get(int(value))
            if unit is None or unit.kind not in by_kind:
                continue
            if str(value) == chosen or self.matches(unit):
                by_kind[unit.kind].append((value, label, unit_search_text(unit)))
        return [(title(kind), items) for kind, items in by_kind.items() if items]
