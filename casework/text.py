"""Cleaning text that comes from outside (forms, JSON, CSV): the one function every validator
uses, in a module of its own so that validators of different parts (intake, the registry) can
share it without importing each other."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 controls (tab and newlines aside), DEL, zero-width and bidi-override characters
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """NFC, no control or bidi-override characters, trimmed; newlines kept where asked."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    text = CONTROL.sub("", text)
    return text.strip()
