"""The registry kept per process for the lookup (casework.registry.lookup.lookup, issue 18): the
same associations in the same order as the database's search, a new or renamed association found
at once in the process that saved it and within a second in the others, and a registry too large
to keep searched in the database."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select, text
from stdnum.cn import uscc

import casework.models as m
from casework import reference
from casework.registry import lookup as registry_lookup
from casework.registry.lookup import index_terms, lookup, search_associations


def _code(n: int) -> str:
    body = f"51100000500077{n:03d}"
    return body + uscc.calc_check_digit(body)


def _add(s, n: int, name: str, *, name_en=None, abbreviation=None, status=m.AssociationStatus.active):
    mca = s.scalar(select(m.Unit).where(m.Unit.code == "mca"))
    miit = s.scalar(select(m.Unit).where(m.Unit.code == "miit"))
    a = m.Association(credit_code=_code(n), name=name, name_en=name_en, abbreviation=abbreviation,
                      level=m.AssociationLevel.national, region_code="100000", registration_authority=mca,
                      main_industry_department=miit, status=status, is_sample=True)
    index_terms(a)
    s.add(a)
    return a


@pytest.fixture
def registry(session):
    """The demo registry and associations with the shapes a lookup must tell apart."""
    for n, (name, name_en, abbr, status) in enumerate([
            ("全国测试协会分会", None, None, m.AssociationStatus.active),
            ("测试协会", "Testing Association", "测协", m.AssociationStatus.active),
            ("测试协会联合会", None, None, m.AssociationStatus.deregistered),
            ("测试协会总会", "TESTING Federation", "TF", m.AssociationStatus.active),
            ("测试ABC协会", "China ABC Testing Association", "ABC协", m.AssociationStatus.active),
            ("百分百%协会", None, "100%", m.AssociationStatus.active),
            ("下划线_协会", "Under_score", "U_S", m.AssociationStatus.active),
            ("中国测试仪器行业协会", "China Instrument Testing", "中测仪", m.AssociationStatus.active),
            ("中国钢铁工业协会分会", None, "钢协分", m.AssociationStatus.deregistered)]):
        _add(session, n, name, name_en=name_en, abbreviation=abbr, status=status)
    session.flush()
    return session


QUERIES = ["测试协会", "测试", "协会", "中国", "中国 测试", "中国 钢铁", "abc", "ABC", "Abc 协会", "china",
           "CHINA abc", "testing", "tf", "TF", "zg", "ZG", "zggt", "zg gt", "cs", "csxh", "5110",
           "51100000500009247d", "51100000500009247D", "%", "百%", "_", "under_", "u_s", "\\", "100%",
           "中国复合", "zgfh", "复合材料", "x", "1", "中", "会",
           # nothing matches as typed: the characters in order (a word left out, a short form)
           "测协会", "中国协会", "全测会", "中国 测协", "测试会联", "百协", "钢协会", "中国钢铁协会", "下协", "测AB协"]


def _ids(found) -> list[int]:
    return [a.id for a in found]


def test_the_kept_registry_finds_and_orders_what_the_database_search_does(registry):
    names = [n for (n,) in registry.execute(select(m.Association.name))]
    rng = random.Random(18)
    pieces = [name[i:i + k] for name in names for k in (1, 2, 3) for i in (rng.randrange(max(1, len(name) - k)),)]
    for q in QUERIES + pieces:
        for limit in (3, 50):
            assert _ids(lookup(registry, q, limit)) == _ids(search_associations(registry, q, limit)), (q, limit)
    assert lookup(registry, "   ") == []
    kept = lookup(registry, "协会", 50)
    assert len(kept) > 10 and all(isinstance(a, registry_lookup.Listed) for a in kept)  # the kept registry's


def test_many_look_alike_associations_rank_as_in_the_database(registry):
    """Two hundred names from a few characters and letters (many ties, every rank, deregistered
    ones among them): every query's first 20 and 100 are the database's."""
    rng = random.Random(2026)
    hanzi, latin = "中国钢铁工协会商测试", "abcABC"
    for n in range(200):
        name = "".join(rng.choice(hanzi) for _ in range(rng.randint(2, 7)))
        name_en = "".join(rng.choice(latin) for _ in range(rng.randint(1, 5))) if n % 3 == 0 else None
        abbr = name[:2] if n % 4 == 0 else None
        status = m.AssociationStatus.deregistered if n % 9 == 0 else m.AssociationStatus.active
        _add(registry, 100 + n, f"{name}{n}", name_en=name_en, abbreviation=abbr, status=status)
    registry.flush()
    queries = [*hanzi, *latin, "中国", "协会", "钢铁 协", "ab", "AB c", "zg", "gt", "1", "10", "5110000050007",
               *(f"{rng.choice(hanzi)}{rng.choice(hanzi)}" for _ in range(20)),
               *("".join(rng.choice(hanzi) for _ in range(rng.randint(3, 5))) for _ in range(30))]
    for q in queries:
        for limit in (20, 100):
            assert _ids(lookup(registry, q, limit)) == _ids(search_associations(registry, q, limit)), (q, limit)


def test_what_the_lookup_shows_is_the_associations_own(registry):
    [kept] = lookup(registry, "测试ABC协会")
    [row] = search_associations(registry, "测试ABC协会")
    for field in ("id", "credit_code", "name", "name_en", "abbreviation", "level", "region_code", "status"):
        assert getattr(kept, field) == getattr(row, field), field


def test_letters_beyond_ascii_match_in_any_case_as_postgresql_ilike_does(registry):
    _add(registry, 50, "Ärzte协会", name_en="Ärzte Association")
    registry.flush()
    assert [a.name for a in lookup(registry, "ärzte")] == ["Ärzte协会"]
    assert [a.name for a in lookup(registry, "ÄRZTE 协会")] == ["Ärzte协会"]


def test_an_association_saved_in_this_process_is_found_at_once(registry):
    assert lookup(registry, "新成立的测试协会") == []
    lookup(registry, "协会")  # the registry is kept
    _add(registry, 60, "新成立的测试协会")
    registry.flush()  # a flush of a watched table: the pages ask the version again
    assert [a.name for a in lookup(registry, "新成立的测试协会")] == ["新成立的测试协会"]
    renamed = registry.scalar(select(m.Association).where(m.Association.name == "新成立的测试协会"))
    renamed.name = "改名后的测试协会"
    index_terms(renamed)
    registry.flush()
    assert lookup(registry, "新成立") == [] and [a.name for a in lookup(registry, "改名后")] == ["改名后的测试协会"]


@pytest.mark.commits  # the insert is another process's: committed on a connection of its own
def test_an_association_added_by_another_process_is_found_within_the_recheck(db, monkeypatch):
    """An import or another worker's save, not flushed here: its trigger's new version is seen
    once PAGE_RECHECK_SECONDS have passed."""
    import time

    monkeypatch.setattr(reference, "PAGE_RECHECK_SECONDS", 0.5)
    with db.session_scope(write=False) as s:
        assert lookup(s, "他处新增的协会") == []
    with db.engine.begin() as conn:
        unit = conn.scalar(text("SELECT id FROM unit WHERE code = 'mca'"))
        conn.execute(m.Association.__table__.insert().values(
            credit_code=_code(70), name="他处新增的协会", level=m.AssociationLevel.national, region_code="100000",
            status=m.AssociationStatus.active, registration_authority_id=unit, main_industry_department_id=unit,
            pinyin_initials="tcxzdxh", is_sample=True))
    time.sleep(0.6)
    with db.session_scope(write=False) as s:
        assert [a.name for a in lookup(s, "他处新增")] == ["他处新增的协会"]
        assert [a.name for a in lookup(s, "tcxz")] == ["他处新增的协会"]


def test_a_registry_too_large_to_keep_is_searched_in_the_database(registry, monkeypatch):
    monkeypatch.setattr(registry_lookup, "KEPT_MAX", 3)
    _add(registry, 80, "超出保留上限的协会")  # a new version: the registry is counted again
    registry.flush()
    found = lookup(registry, "超出保留上限")
    assert [a.name for a in found] == ["超出保留上限的协会"] and isinstance(found[0], m.Association)


@pytest.mark.parametrize("typed", ["四川食品工业协会", "四川食品", "食品协会", "川食协"])
def test_a_name_typed_loosely_still_finds_the_association(registry, typed):
    """A stranger left out 省 or wrote a short form and was told no association matched, then
    filed as 不确定 (to triage, never linked to the association): when nothing matches as typed,
    the characters in order do, in the kept registry as in the database."""
    assert "四川省食品工业协会" in [a.name for a in lookup(registry, typed)]
    assert _ids(lookup(registry, typed, 20)) == _ids(search_associations(registry, typed, 20))


def test_a_loose_look_never_overrides_a_match_as_typed(registry):
    assert [a.name for a in lookup(registry, "测试协会", 3)][0] == "测试协会"  # exact first, as before
    assert lookup(registry, "协测") != lookup(registry, "测协")  # order counts
    assert [a.name for a in lookup(registry, "测x协")] == []  # a letter not in any name: nothing
