"""Translation markers for code that has no Flask.

Domain code marks user-facing strings with ``N_`` (extracted by Babel, translated by the
web layer at render time); log lines and event summaries stay untranslated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    return msgid


def bilingual(name: str, name_en: str | None, locale: str) -> str:
    """A name kept in both languages (categories, units, associations): the English one for an
    English page where there is one, else the Chinese."""
    return name_en if name_en and locale.startswith("en") else name


@dataclass(frozen=True)
class Message:
    """A message id plus its parameters, translated where it is shown."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, gettext) -> str:
        """Translate, translating parameters that are messages themselves (a state's title)."""
        text = gettext(self.msgid)
        if not self.params:
            return text
        params = {k: v.render(gettext) if isinstance(v, Message) else v for k, v in self.params.items()}
        return text % params
