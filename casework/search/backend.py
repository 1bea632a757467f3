"""The search interface. A backend stores CaseDocs and answers SearchQuerys; permission
filtering is part of the query (allowed units, triage), so a hit the user may not see is
never returned nor counted."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from markupsafe import Markup


@dataclass(frozen=True)
class CaseDoc:
    """What the index knows of a case. Never the complainant's or respondent's identity,
    never internal notes: only what the case's own text and its public replies say."""

    case_id: int
    number: str
    type: str
    state: str
    category_code: str
    unit_id: int | None
    association_id: int | None
    association_name: str
    submitted_at: datetime
    title: str
    description: str
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    # None: every unit (a supervisor); otherwise only these units' cases
    unit_ids: frozenset[int] | None = frozenset()
    # also the cases waiting for routing (no unit yet): triage operators
    include_triage: bool = False
    state: str | None = None
    type: str | None = None
    category: str | None = None
    unit: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    page: int = 1
    per_page: int = 20
    # words of ``text`` that name an association, each with its full name: such a word also
    # finds the cases whose text holds that name as a phrase (中钢协: 中国钢铁工业协会)
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def sees_nothing(self) -> bool:
        return self.unit_ids is not None and not self.unit_ids and not self.include_triage


@dataclass(frozen=True)
class SearchHit:
    case_id: int
    number: str
    state: str
    type: str
    unit_id: int | None
    submitted_at: datetime | None
    score: float
    # HTML-escaped case text; the only markup is <mark> around matched terms
    title_html: Markup
    snippet_html: Markup


# matches are counted up to this many; beyond it a result says "more than COUNT_CAP" (counting
# every one of 200,000 matches of a common word costs more than finding the best 20)
COUNT_CAP = 1000


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    # True when there are more than ``total`` (= COUNT_CAP) matches
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchBackend(ABC):
    @abstractmethod
    def index_cases(self, docs: Iterable[CaseDoc]) -> int:
        """Add or replace (by case_id) these documents; returns how many were written."""

    @abstractmethod
    def delete(self, case_ids: Iterable[int]) -> None: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def clear(self) -> None: ...

    @abstractmethod
    def count(self) -> int: ...
