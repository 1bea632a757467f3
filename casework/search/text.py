"""What both search backends agree on: what a word is (jieba's ChineseAnalyzer: jieba search
mode, lower case, English stop words, Porter stemming; the words come from
casework.search.segment, jieba's segmentation done by jieba-rs) and how a hit is shown (the case's own
text, HTML-escaped, with ``<mark>`` around the searched words as the only markup)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape
from whoosh.analysis import Token, Tokenizer

from rjieba import has_word

from casework.search.segment import tokenize, tokenize_search

SNIPPET_CHARS = 160

_analyzer_cache = []

# jieba/analyse/analyzer.py: what ChineseAnalyzer drops and keeps
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in", "is", "it",
    "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we", "when", "will", "with",
    "yet", "you", "your", "的", "了", "和"))
_ACCEPTED = re.compile(r"[\u4E00-\u9FD5]+")


class ChineseTokenizer(Tokenizer):
    """jieba.analyse's ChineseTokenizer over casework.search.segment: the same tokens (``pos``
    is the character offset, as there), so an index written by either reads with the other.
    ``search=False``: jieba's default mode (no overlapping parts), for reading a phrase."""

    def __init__(self, search: bool = True):
        self.search = search

    def __call__(self, text, **kwargs):
        token = Token()
        for word, start, end in (tokenize_search if self.search else tokenize)(text):
            if not _ACCEPTED.match(word) and len(word) <= 1:
                continue
            token.original = token.text = word
            token.pos = start
            token.startchar = start
            token.endchar = end
            yield token


def analyzer(search: bool = True):
    """jieba.analyse.ChineseAnalyzer(): jieba's search-mode words, lower case, without
    STOP_WORDS, Porter-stemmed (``search=False``: the same from jieba's default mode)."""
    if not _analyzer_cache:
        from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter
        from whoosh.lang.porter import stem

        for mode in (True, False):
            _analyzer_cache.append(ChineseTokenizer(mode) | LowercaseFilter()
                                   | StopFilter(stoplist=STOP_WORDS, minsize=1)
                                   | StemFilter(stemfn=stem, ignore=None, cachesize=50000))
    return _analyzer_cache[0 if search else 1]


def lexemes(text: str) -> list[str]:
    """The words of ``text`` as the index knows them (search mode: 强制入会 gives 强制, 入会
    and 强制入会)."""
    return [t.text for t in analyzer()(text or "") if t.text.strip()]


@dataclass(frozen=True)
class PhrasePlan:
    """How both backends find a quoted phrase: through some of its words, then in the text.

    ``text``: the phrase from its first word to its last, lower case: a case matches when one of
    its texts (title, association name, description, replies), lower case, contains it.
    ``words``: the words (as the index has them) every such case is taken to have, each with
    its character offset in ``text``, which is also its offset from the phrase's start in the
    case's text (the Whoosh index's positions are character offsets). ``exact``: those words
    spell ``text`` whole, one after the other: where they stand so, the text says the phrase,
    without reading it.

    The words are the phrase's dictionary words of two characters or more as jieba's default
    mode reads the phrase alone (and its words of letters or digits). jieba reads a text as a
    whole, so a phrase inside a longer text may be cut otherwise at its ends: 技术评审费 alone
    is 技术 评审 费, in 技术评审费用 it is 技术 评审 费用, and 费 is not a word of that text. A
    single character is therefore never required (nor a word jieba's HMM step made up, which
    is not a dictionary word); the text decides. A dictionary word of the phrase that the
    longer text cuts otherwise (程序不公 in 程序不公开: 不 公开) is not found, as it is not
    unquoted. A phrase of single characters only requires them all."""

    text: str
    words: tuple[tuple[str, int], ...]
    exact: bool


def phrase_plan(text: str) -> PhrasePlan | None:
    """The plan of a quoted phrase; None when it has no word."""
    tokens = [(t.text, t.startchar, t.endchar, t.original)
              for t in analyzer(search=False)(text or "", chars=True, keeporiginal=True) if t.text.strip()]
    if not tokens:
        return None
    start = tokens[0][1]
    needle = text[start:tokens[-1][2]].lower()
    words = [(w, s - start) for w, s, e, original in tokens
             if len(original) >= 2 and (has_word(original) or not _ACCEPTED.match(original))]
    if not words:
        words = [(w, s - start) for w, s, e, _ in tokens]
    chained = all(b[1] == a[2] for a, b in zip(tokens, tokens[1:]))
    han = all(_ACCEPTED.fullmatch(original) for _, _, _, original in tokens)
    exact = chained and han and len(words) == len(tokens)
    return PhrasePlan(needle, tuple(dict.fromkeys(words)), exact)


def says_phrase(plan: PhrasePlan, *texts: str) -> bool:
    """Whether one of ``texts`` contains the phrase (any case)."""
    return any(plan.text in (t or "").lower() for t in texts)


def spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character ranges of ``text`` where one of ``terms`` occurs (any case), overlaps merged.

    A plain scan, not the analyzer: segmenting every shown text again cost ~1.5 ms a hit, and
    what a reader expects marked is where the searched word is written."""
    pattern = _pattern(frozenset(t for t in terms if t))
    if pattern is None:
        return []
    merged: list[list[int]] = []
    for m in pattern.finditer(text or ""):
        start, end = m.span()
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


@lru_cache(maxsize=256)
def _pattern(terms: frozenset[str]):
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def mark(text: str, terms: set[str], start: int = 0, end: int | None = None) -> str:
    end = len(text) if end is None else end
    out, at = [], start
    for s, e in spans(text, terms):
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(str(escape(text[at:s])))
        out.append("<mark>%s</mark>" % escape(text[s:e]))
        at = e
    out.append(str(escape(text[at:end])))
    return "".join(out)


def snippet(text: str, terms: set[str]) -> str:
    """A window of about SNIPPET_CHARS around the first matched word, or "" without one."""
    found = spans(text, terms) if terms else []
    if not found:
        return ""
    first = found[0][0]
    start = max(0, first - 40)
    end = min(len(text), start + SNIPPET_CHARS)
    return ("…" if start else "") + mark(text, terms, start, end) + ("…" if end < len(text) else "")


def opening(text: str, terms: set[str], chars: int = SNIPPET_CHARS) -> str:
    """The beginning of ``text`` (about ``chars``, "…" where it goes on) as HTML, with the
    matched words that stand in it marked."""
    text = text or ""
    end = min(len(text), chars)
    return mark(text, terms, 0, end) + ("…" if end < len(text) else "")


def hit_html(terms: set[str], title: str, description: str, replies: str, association_name: str) -> tuple[str, str]:
    """(title, snippet) as HTML: the title with its matched words marked, and a window of the
    first of description, replies and association name with a matched word (else the start of
    the description)."""
    shown = mark(title, terms) if terms else str(escape(title))
    snip = ""
    for text in (description, replies, association_name):
        snip = snippet(text or "", terms)
        if snip:
            break
    if not snip:
        snip = str(escape((description or "")[:SNIPPET_CHARS]))
    return shown, snip
