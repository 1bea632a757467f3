"""Translation markers for code that has no Flask.

Domain code marks user-facing strings with ``N_`` (extracted by Babel, translated by the
web layer at render time); log lines and event summaries stay untranslated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Message:
    """A message id plus its parameters, translated where it is shown."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, gettext) -> str:
        text = gettext(self.msgid)
        return text % self.params if self.params else text
