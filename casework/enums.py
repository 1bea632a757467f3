"""Helpers for str enums with translatable titles."""
from __future__ import annotations

import enum

import sqlalchemy as sa


class TitledEnum(str, enum.Enum):
    """A str enum whose members carry an untranslated title (a msgid)."""

    def __new__(cls, value: str, title: str = ""):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.title = title or value
        return obj

    def __str__(self) -> str:
        return self.value


def enum_column(enum_cls, **kw) -> sa.Enum:
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=kw.pop("name", enum_cls.__name__.lower()),
        **kw,
    )
