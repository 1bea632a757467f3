"""Case numbers: a type prefix, the date, five random digits and a Luhn check digit.

``TS20261127483927``: readable over the phone, sortable by day, and not enumerable (the
digits are random; knowing one number says nothing about the next). Uniqueness is the
database's job: the column is unique and the caller retries on a collision.
"""
from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from stdnum import luhn

from casework.cases.models import CaseType

CHINA = ZoneInfo("Asia/Shanghai")


def new_case_number(case_type: CaseType, now: datetime) -> str:
    body = now.astimezone(CHINA).strftime("%Y%m%d") + f"{secrets.randbelow(100_000):05d}"
    return case_type.number_prefix + body + luhn.calc_check_digit(body)


def is_well_formed(number: str) -> bool:
    number = (number or "").strip().upper()
    if len(number) != 16 or number[:2] not in {"TS", "JB", "TJ", "JY"}:
        return False
    return number[2:].isdigit() and luhn.is_valid(number[2:])


def normalize_number(number: str) -> str:
    """Upper-case ASCII letters and digits only: spaces, dashes and full-width forms as typed
    are forgiven, and nothing else (a NUL byte, say) ever reaches a query."""
    text = unicodedata.normalize("NFKC", number or "").upper()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())
