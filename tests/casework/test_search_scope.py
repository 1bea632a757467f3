"""A search within one unit reads that unit's matches, not the platform's (issue 18): the
Whoosh backend's matchers are watched while a handler searches, and every document they stop
at is counted. With the unit's cases a hundredth of the word's matches, no document of another
unit may be touched; before, every match of the word in the whole index was walked and
dropped by a filter of allowed documents."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.mcore import ListMatcher

from casework.search.backend import CaseDoc, SearchQuery
from casework.search.whoosh_backend import WhooshBackend

UNIT, OTHERS = 1, (2, 3, 4)
T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)


def _doc(case_id: int, unit: int, state: str, title: str) -> CaseDoc:
    return CaseDoc(case_id=case_id, number=f"TS2026010{case_id:09d}"[:16], type="complaint", state=state,
                   category_code="fees", unit_id=unit, association_id=1, association_name="中国测试协会",
                   submitted_at=T0 + timedelta(minutes=case_id), title=title,
                   description="协会强制入会并收取会费，请依法处理。")


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """1,800 cases of three other units and 6 of ours, all saying 会费, interleaved as cases
    arrive; one segment, so that the matchers' document numbers are the index's."""
    backend = WhooshBackend(tmp_path_factory.mktemp("scope") / "search")
    docs, ours = [], []
    for i in range(1, 1807):
        if i % 300 == 0:
            unit = UNIT
            ours.append(i)
        else:
            unit = OTHERS[i % 3]
        docs.append(_doc(i, unit, "closed" if i % 2 else "accepted", "收取会费问题"))
    backend.index_cases(docs)
    assert len(backend._searcher().reader().leaf_readers()) == 1
    backend.ours = ours
    return backend


@pytest.fixture
def touched(monkeypatch):
    """Every document number a posting matcher stops at, by the term it reads."""
    return _watch(monkeypatch, ("next", "skip_to", "reset"))


@pytest.fixture
def moved_to(monkeypatch):
    """Every document number a posting matcher moves to (its first posting, where it starts,
    left out: building a matcher reads its list's first block, whatever the list)."""
    return _watch(monkeypatch, ("next", "skip_to"))


def _watch(monkeypatch, names):
    seen: set[int] = set()

    def watch(cls, name):
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            if self.is_active():
                seen.add(self.id())
            return out

        monkeypatch.setattr(cls, name, wrapper)

    for cls in (W3LeafMatcher, ListMatcher):
        for name in names:
            watch(cls, name)
    return seen


def _units_of(backend, docnums):
    searcher = backend._searcher()
    return [searcher.stored_fields(n).get("unit") for n in docnums]


def test_a_units_search_touches_no_other_units_cases(backend, touched):
    result = backend.search(SearchQuery(text="会费", unit_ids=frozenset({UNIT})))
    assert sorted(h.case_id for h in result.hits) == backend.ours
    assert result.total == len(backend.ours) and not result.more
    others = [u for u in _units_of(backend, touched) if u != f"u{UNIT}"]
    assert others == [], f"the search stopped at {len(others)} cases of other units"


def test_a_units_search_with_a_state_touches_no_other_units_cases(backend, touched):
    result = backend.search(SearchQuery(text="会费", unit_ids=frozenset({UNIT}), state="accepted"))
    assert sorted(h.case_id for h in result.hits) == [i for i in backend.ours if i % 2 == 0]
    others = [u for u in _units_of(backend, touched) if u != f"u{UNIT}"]
    assert others == []


def test_a_not_alone_stays_within_the_unit(backend):
    """"NOT 会费" has no word to confine it: the units are still part of the query."""
    result = backend.search(SearchQuery(text="NOT 评比", unit_ids=frozenset({UNIT})))
    assert sorted(h.case_id for h in result.hits) == backend.ours


def test_a_supervisor_still_sees_every_match_counted_to_the_cap(backend):
    result = backend.search(SearchQuery(text="会费", unit_ids=None))
    assert result.more and result.total == 1000
    two = backend.search(SearchQuery(text="会费", unit_ids=frozenset({UNIT, OTHERS[0]})))
    assert two.total == len(backend.ours) + sum(1 for i in range(1, 1807) if i % 300 and i % 3 == 0)


def test_more_matches_than_the_cap_rank_the_latest_and_say_more(tmp_path):
    """Past COUNT_CAP matches the count says "more than 1,000" and the page is ranked among the
    matches indexed last: the case filed last with the word in its title three times comes
    first, and a search without words lists the newest submitted first."""
    backend = WhooshBackend(tmp_path / "search")
    docs = [_doc(i, OTHERS[i % 3], "closed", "收取会费问题") for i in range(1, 2501)]
    docs.append(_doc(2501, OTHERS[0], "closed", "会费 会费 会费"))
    backend.index_cases(docs[:1200])
    backend.index_cases(docs[1200:])
    ranked = backend.search(SearchQuery(text="会费", unit_ids=None))
    assert ranked.more and ranked.total == 1000
    assert ranked.hits[0].case_id == 2501
    newest = backend.search(SearchQuery(text="", unit_ids=frozenset(OTHERS), per_page=5))
    assert newest.more
    assert [h.case_id for h in newest.hits] == [2501, 2500, 2499, 2498, 2497]
    deep = backend.search(SearchQuery(text="会费", unit_ids=None, page=60, per_page=20))
    assert len(deep.hits) == 20 and len({h.case_id for h in deep.hits}) == 20


@pytest.mark.parametrize("phrase", ['"收取会费"', '"会费，请依法"'])
def test_a_units_phrase_search_touches_no_other_units_cases(backend, moved_to, phrase):
    """A quoted phrase is found through its words in the unit's own postings; their positions
    are read in the text's postings (every unit's) by skipping to those cases only, and so is
    the stored text (会费，请依法 is not its words end to end): no posting of another unit's
    case is stepped on, although all 1,800 say the phrase."""
    result = backend.search(SearchQuery(text=phrase, unit_ids=frozenset({UNIT})))
    assert sorted(h.case_id for h in result.hits) == backend.ours and result.total == len(backend.ours)
    others = [u for u in _units_of(backend, moved_to) if u != f"u{UNIT}"]
    assert others == [], f"the search stopped at {len(others)} cases of other units"
    assert backend.search(SearchQuery(text='"会费收取"', unit_ids=frozenset({UNIT}))).total == 0
