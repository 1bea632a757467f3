"""Case numbers: a type prefix, the date, five random digits and a Luhn check digit.

``TS20261127483927``: readable over the phone, sortable by day, and not enumerable (the
digits are random; knowing one number says nothing about the next). Uniqueness is the
database's job: the column is unique and the caller retries on a collision.

Five digits are 100,000 numbers a type a day. Draws collide more often as a day fills (at
50,000 complaints in a day every other draw is taken), so the caller draws wider numbers,
six and then seven random digits (17 and 18 characters), after ``WIDEN_AFTER`` taken draws
of a width: on a surge day a filing takes a few more tries instead of failing.
"""
from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from stdnum import luhn

from casework.cases.models import CaseType

CHINA = ZoneInfo("Asia/Shanghai")


DIGITS = 5  # random digits of a number on an ordinary day
MAX_DIGITS = 7
WIDEN_AFTER = 3  # taken draws of one width before the next is wider


# draws of a number before a filing gives up: WIDEN_AFTER of each width, five to seven digits
DRAWS = WIDEN_AFTER * (MAX_DIGITS - DIGITS + 1)


def digits_for(attempt: int) -> int:
    """The random digits of the ``attempt``-th draw (from 0) of one filing."""
    return min(DIGITS + attempt // WIDEN_AFTER, MAX_DIGITS)


def new_case_number(case_type: CaseType, now: datetime, digits: int = DIGITS) -> str:
    body = now.astimezone(CHINA).strftime("%Y%m%d") + f"{secrets.randbelow(10 ** digits):0{digits}d}"
    return case_type.number_prefix + body + luhn.calc_check_digit(body)


def is_well_formed(number: str) -> bool:
    number = (number or "").strip().upper()
    if not 11 + DIGITS <= len(number) <= 11 + MAX_DIGITS or number[:2] not in {"TS", "JB", "TJ", "JY"}:
        return False
    return number[2:].isdigit() and luhn.is_valid(number[2:])


def normalize_number(number: str) -> str:
    """Upper-case ASCII letters and digits only: spaces, dashes and full-width forms as typed
    are forgiven, and nothing else (a NUL byte, say) ever reaches a query."""
    text = unicodedata.normalize("NFKC", number or "").upper()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())
