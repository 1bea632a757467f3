"""Chinese word segmentation: jieba's words, from jieba-rs (``rjieba``) instead of jieba.

Python jieba keeps its dictionary as a Python dict of ~580,000 words and prefixes: ~70 MiB in
every process that segments, and the web's workers segment every search query. jieba-rs holds
the same dictionary (jieba's own ``dict.txt``) in ~33 MiB of Rust memory, loaded once in the
gunicorn master and shared by the workers it forks, and segments ~10× faster.

jieba-rs cuts runs of letters, digits and ``+#&._%-`` differently from jieba
(``2.jpg``, ``123-456``, ``x_y`` stay whole) and takes a few more characters as Chinese (CJK
extension A), so the text is split into blocks with jieba's own patterns first and such runs
are cut again as jieba's HMM step cuts them. The result is the same list of
``(word, start, end)`` as ``jieba.tokenize`` (default and search mode, HMM on), which
tests/casework/test_segment.py checks on the test corpus and 30,000 random mixed strings: an
index built with jieba answers queries segmented here, and the other way round.

``extract_tags`` is jieba.analyse's TF-IDF keyword extraction with jieba's ``idf.txt``, looked
up in a small SQLite file made from it on first use (the idf table as a Python dict would
cost another ~30 MiB per process).
"""
from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import rjieba

# jieba's own patterns (jieba/__init__.py: re_han_default, re_skip_default; finalseg: re_skip)
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
_SPACE = re.compile(r"(\r\n|\s)")
_HAN = re.compile(r"[\u4E00-\u9FD5]")
_ALNUM_RUN = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")

Token = tuple[str, int, int]


def tokenize(text: str) -> Iterator[Token]:
    """``(word, start, end)`` as ``jieba.tokenize(text)`` (default mode, HMM)."""
    has_word = rjieba.has_word
    at = 0
    for block in _BLOCK.split(text or ""):
        if not block:
            continue
        if _BLOCK.fullmatch(block):
            for word, start, end in rjieba.tokenize(block):
                if len(word) > 1 and not _HAN.search(word) and not _ALNUM_RUN.fullmatch(word) \
                        and not has_word(word):
                    at_piece = at + start  # a run jieba's HMM step would cut: letters/digits apart
                    for piece in _ALNUM_RUN.split(word):
                        if piece:
                            yield piece, at_piece, at_piece + len(piece)
                            at_piece += len(piece)
                else:
                    yield word, at + start, at + end
            at += len(block)
            continue
        for part in _SPACE.split(block):  # outside a block: whitespace whole, others one by one
            if not part:
                continue
            if _SPACE.fullmatch(part):
                yield part, at, at + len(part)
                at += len(part)
            else:
                for ch in part:
                    yield ch, at, at + 1
                    at += 1


def tokenize_search(text: str) -> Iterator[Token]:
    """``(word, start, end)`` as ``jieba.tokenize(text, mode="search")``: each word, preceded by
    its two- and three-character parts that are dictionary words (强制入会: 强制, 入会, …)."""
    has_word = rjieba.has_word
    for word, start, end in tokenize(text):
        n = len(word)
        if n > 2:
            for i in range(n - 1):
                if has_word(word[i:i + 2]):
                    yield word[i:i + 2], start + i, start + i + 2
        if n > 3:
            for i in range(n - 2):
                if has_word(word[i:i + 3]):
                    yield word[i:i + 3], start + i, start + i + 3
        yield word, start, end


def cut(text: str) -> list[str]:
    return [w for w, _, _ in tokenize(text)]


def cut_for_search(text: str) -> list[str]:
    return [w for w, _, _ in tokenize_search(text)]


# -- TF-IDF keywords (jieba.analyse.extract_tags) ------------------------------------------------

# jieba/analyse/tfidf.py's KeywordExtractor.STOP_WORDS
_KEYWORD_STOP_WORDS = frozenset((
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as", "on",
    "with", "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all", "not",
    "one", "has", "or", "that"))
_idf_lock = threading.Lock()
_idf: list = []  # [(connection, median)] once opened


def _idf_source() -> Path:
    """jieba's idf.txt, read as a data file (importing jieba.analyse would load it into a dict)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    return Path(spec.origin).parent / "analyse" / "idf.txt"


def _idf_table() -> tuple[sqlite3.Connection, float]:
    with _idf_lock:
        if _idf and _idf[0][2] == os.getpid():
            return _idf[0][0], _idf[0][1]
        source = _idf_source()
        st = source.stat()
        path = Path(tempfile.gettempdir()) / f"changtong-idf-{st.st_size}-{int(st.st_mtime)}.sqlite"
        if not path.exists():
            _build_idf(source, path)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        median = conn.execute("SELECT value FROM meta WHERE key = 'median'").fetchone()[0]
        _idf[:] = [(conn, median, os.getpid())]
        return conn, median


def _build_idf(source: Path, path: Path) -> None:
    """idf.txt -> a SQLite table (word -> idf) and the median, written under a temporary name
    and renamed: a concurrent reader sees the whole file or none."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("CREATE TABLE idf (word TEXT PRIMARY KEY, value REAL) WITHOUT ROWID")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value REAL)")
        rows = {}
        with open(source, encoding="utf-8") as fh:
            for line in fh:
                word, _, freq = line.strip().partition(" ")
                if word and freq:
                    rows[word] = float(freq)  # a later line wins, as in jieba's IDFLoader
        conn.executemany("INSERT INTO idf VALUES (?, ?)", rows.items())
        values = sorted(rows.values())
        conn.execute("INSERT INTO meta VALUES ('median', ?)", (values[len(values) // 2],))
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)


def extract_tags(text: str, top_k: int = 20) -> list[str]:
    """The ``top_k`` keywords of ``text`` by TF-IDF, as ``jieba.analyse.extract_tags``."""
    freq: dict[str, float] = {}
    for word in cut(text):
        if len(word.strip()) < 2 or word.lower() in _KEYWORD_STOP_WORDS:
            continue
        freq[word] = freq.get(word, 0.0) + 1.0
    if not freq:
        return []
    conn, median = _idf_table()
    idf: dict[str, float] = {}
    words = list(freq)
    for i in range(0, len(words), 500):
        chunk = words[i:i + 500]
        idf.update(conn.execute(
            f"SELECT word, value FROM idf WHERE word IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    total = sum(freq.values())
    for word in freq:
        freq[word] *= idf.get(word, median) / total
    return sorted(freq, key=freq.__getitem__, reverse=True)[:top_k]
