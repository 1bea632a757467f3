"""Translating domain messages and enum titles at the edge."""
from __future__ import annotations

from flask_babel import get_locale, gettext

from casework.i18n import Message


def tr(message: Message) -> str:
    return message.render(gettext)


def tr_errors(errors: dict[str, list[Message]]) -> dict[str, list[str]]:
    return {field: [tr(m) for m in msgs] for field, msgs in errors.items()}


def current_locale() -> str:
    return str(get_locale() or "zh_CN")


def title(enum_member) -> str:
    return gettext(enum_member.title)
