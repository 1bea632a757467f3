"""Words of a search that name an association: its short name (中钢协), its English
abbreviation (caam, casework.registry.lookup.english_abbreviations) or its name, typed as
one word, naming one association alone. The search reads such a word as itself OR the phrase
of the association's full name (SearchQuery.aliases), which the text of each of its cases holds
(the association's name is indexed with the case): a handler who types 中钢协 finds 中国钢铁工业协会's
cases as the desk queue's association filter does.

Only an exact name, short name or English abbreviation, any case (not a part of one, not pinyin
initials: those are for the type-ahead, and an English word would too often be some
association's pinyin initials; an English abbreviation is a name the association goes by); an
active association's, from the registry each process keeps (casework.registry.lookup), so a
search costs no query of the registry."""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

_WORDS = re.compile(r'"[^"]*"?|(\S+)')  # words outside "phrases", as both backends split them
OPERATORS = frozenset(("OR", "NOT", "AND"))
MAX_WORDS = 10


def aliases(session: Session, text: str) -> tuple[tuple[str, str], ...]:
    """((word, the association's full name), …) for the words of ``text`` that name one
    association other than by its full name."""
    from casework.registry.lookup import english_abbreviations, lookup

    found: dict[str, str] = {}
    words = [m.group(1) for m in _WORDS.finditer(text or "") if m.group(1) and m.group(1) not in OPERATORS]
    for word in list(dict.fromkeys(words))[:MAX_WORDS]:
        w = word.lower()
        named = [a for a in lookup(session, word, limit=5)
                 if w in (a.name.lower(), (a.abbreviation or "").lower(), *english_abbreviations(a.name_en))]
        if len(named) == 1 and named[0].name.lower() != w:
            found[word] = named[0].name
    return tuple(found.items())
