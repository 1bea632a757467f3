"""Pinyin initials of association names (中国钢铁工业协会 → ``zggtgyxh``), for the type-ahead.

pypinyin's dictionaries take ~55 MiB in a process. The initials are computed when an
association is saved and stored in ``Association.pinyin_initials``; a lookup only compares
letters. So the web's workers never load pypinyin: once ``keep_out_of_process()`` is called
(``web.app.create_app`` does), the initials are computed by a short-lived child process
(``python -m casework.registry.pinyin``, JSON on stdin and stdout), in one call for a whole
import (``precomputed``) and one per saved association otherwise. The command line, the demo
loader and the tests compute them in-process.
"""
from __future__ import annotations

import contextvars
import json
import subprocess
import sys
import unicodedata
from contextlib import contextmanager
from typing import Iterable, Iterator

CHILD_TIMEOUT = 60.0
_out_of_process = False
_precomputed: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("pinyin_precomputed",
                                                                                     default=None)


def keep_out_of_process(on: bool = True) -> None:
    """Compute initials in a child process from now on (unless pypinyin is loaded here already)."""
    global _out_of_process
    _out_of_process = on


def _is_cjk(ch: str) -> bool:
    """Han characters (any block) and CJK punctuation/symbols, which carry no initial here."""
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x2FDF      # radicals supplement, Kangxi radicals
        or 0x3000 <= cp <= 0x303F   # CJK symbols and punctuation
        or 0x3040 <= cp <= 0x30FF   # kana (not pinyin-able; dropped)
        or 0x3100 <= cp <= 0x31BF   # bopomofo
        or 0x3400 <= cp <= 0x4DBF   # extension A
        or 0x4E00 <= cp <= 0x9FFF   # unified ideographs
        or 0xF900 <= cp <= 0xFAFF   # compatibility ideographs
        or 0x20000 <= cp <= 0x3FFFF  # extensions B and later
    )


def _compute(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for piece in lazy_pinyin(text, style=Style.FIRST_LETTER):
        for ch in piece.lower():
            if ch.isalnum() and not _is_cjk(ch):
                out.append(ch)
    return "".join(out)


def _in_child(texts: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "casework.registry.pinyin"], input=json.dumps(texts),
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True)
    return json.loads(done.stdout)


def initials_many(texts: Iterable[str]) -> list[str]:
    texts = [t or "" for t in texts]
    if _out_of_process and "pypinyin" not in sys.modules and any(texts):
        return _in_child(texts)
    return [_compute(t) for t in texts]


def pinyin_initials(text: str) -> str:
    """First letters of the pinyin of ``text``, lower case; other letters and digits kept.

    中国钢铁工业协会 → ``zggtgyxh``; ``中国ABC协会`` → ``zgabcxh``. Full-width forms are
    folded (NFKC) first; punctuation, spaces and characters without a reading are dropped.
    """
    if not text:
        return ""
    table = _precomputed.get()
    if table is not None and text in table:
        return table[text]
    return initials_many([text])[0]


@contextmanager
def precomputed(texts: Iterable[str]) -> Iterator[None]:
    """Within the block, ``pinyin_initials`` answers these texts from one computation (one
    child process for a whole import)."""
    unique = list(dict.fromkeys(t for t in texts if t))
    token = _precomputed.set(dict(zip(unique, initials_many(unique))))
    try:
        yield
    finally:
        _precomputed.reset(token)


def main() -> int:
    texts = json.load(sys.stdin)
    json.dump([_compute(t) for t in texts], sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
