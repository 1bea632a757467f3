"""What an administrator changes about categories (事项分类): add one, edit its names and
sort order, take it out of use or back. Validation, snapshot and audit as in
casework.registry.operations.

A category's code and group are fixed once created: cases, routing rules and their CSVs
point to it. A category out of use is no longer offered when a case is filed; cases filed
under it keep it, and rules naming it stay (and match nothing new). The last category in use
of a group cannot be taken out of use: the filing form would have nothing to offer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record_created, record_edit, set_active
from casework.cases.models import Category, CategoryGroup
from casework.i18n import Message, N_
from casework.intake.validation import Errors, add_error, clean_text
from casework.registry.validation import new_code

CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
NAME_MAX, NAME_EN_MAX, SORT_MAX = 100, 200, 9999
FIELDS = ("code", "group", "name", "name_en", "sort_order", "association_is_party")


class CategoryError(ValueError):
    def __init__(self, message: Message):
        super().__init__(message.msgid)
        self.message = message


def category_snapshot(cat: Category) -> dict[str, Any]:
    return {"code": cat.code, "group": cat.group.value, "name": cat.name, "name_en": cat.name_en,
            "sort_order": cat.sort_order, "association_is_party": cat.association_is_party, "active": cat.active}


def form_values(cat: Category) -> dict[str, str]:
    return {"code": cat.code, "group": cat.group.value, "name": cat.name, "name_en": cat.name_en,
            "sort_order": str(cat.sort_order), "association_is_party": "1" if cat.association_is_party else ""}


@dataclass
class CategoryValues:
    code: str
    group: CategoryGroup
    name: str
    name_en: str
    sort_order: int
    association_is_party: bool

    def apply_to(self, cat: Category) -> None:
        """The fields a category's edit form changes (not its code or group)."""
        cat.name, cat.name_en, cat.sort_order = self.name, self.name_en, self.sort_order
        cat.association_is_party = self.association_is_party


def check_category(session: Session, raw: Mapping[str, str],
                   cat: Category | None = None) -> tuple[CategoryValues | None, Errors]:
    """Validate a category form (``cat`` None: a new one, whose code and group are checked)."""
    errors: Errors = {}
    err = partial(add_error, errors)

    if cat is None:
        code = new_code(session, Category.code, raw.get("code"), CODE, err,
                        N_("A code of 2 to 64 lower-case letters, digits and underscores, starting with a letter."),
                        N_("Another category has the code %(code)s."))
        group = CategoryGroup._value2member_map_.get(clean_text(raw.get("group")))
        if group is None:
            err("group", N_("Choose the case types this category is for."))
    else:
        code, group = cat.code, cat.group

    name = clean_text(raw.get("name"))
    if not 1 <= len(name) <= NAME_MAX:
        err("name", N_("A name of 1 to %(max)d characters is required."), max=NAME_MAX)
    name_en = clean_text(raw.get("name_en"))
    if not 1 <= len(name_en) <= NAME_EN_MAX:
        err("name_en", N_("A name of 1 to %(max)d characters is required."), max=NAME_EN_MAX)
    sort_raw = clean_text(raw.get("sort_order")) or "0"
    sort_order = 0
    if not re.fullmatch(r"[0-9]{1,4}", sort_raw):
        err("sort_order", N_("A whole number from 0 to %(max)d; lower numbers are listed first."), max=SORT_MAX)
    else:
        sort_order = int(sort_raw)
    party = clean_text(raw.get("association_is_party")).lower() in ("1", "on", "true", "yes")

    if errors:
        return None, errors
    assert group is not None
    return CategoryValues(code, group, name, name_en, sort_order, party), {}


def create_category(session: Session, actor: Actor, values: CategoryValues) -> Change:
    cat = Category(code=values.code, group=values.group, name=values.name, name_en=values.name_en,
                   sort_order=values.sort_order, association_is_party=values.association_is_party, active=True)
    return record_created(session, actor, "category", cat, cat.code, category_snapshot)


def update_category(session: Session, actor: Actor, cat: Category, values: CategoryValues) -> Change:
    return record_edit(session, actor, "category", cat, cat.code, category_snapshot, values.apply_to)


def set_category_active(session: Session, actor: Actor, cat: Category, active: bool) -> Change:
    """Take a category out of use (or back). Raises CategoryError for the last one in use
    of its group."""
    if not active and cat.active:
        others = session.scalar(select(func.count()).select_from(Category).where(
            Category.group == cat.group, Category.active, Category.id != cat.id)) or 0
        if others == 0:
            raise CategoryError(Message(N_("%(code)s is the last category in use for these case types; "
                                           "add another before taking it out of use."), {"code": cat.code}))
    return set_active(session, actor, "category", cat, cat.code, active, category_snapshot)


def by_code(session: Session, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == clean_text(code).lower()))


def categories_by_group(session: Session) -> list[tuple[CategoryGroup, list[Category]]]:
    cats = session.scalars(select(Category).order_by(Category.active.desc(), Category.sort_order,
                                                      Category.id)).all()
    return [(group, [c for c in cats if c.group is group]) for group in CategoryGroup]
