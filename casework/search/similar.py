"""Similar cases for the desk, and the public "similar matters already being handled".

``similar_cases`` asks the search backend (any SearchBackend: Whoosh or PostgreSQL) for the
case's title and key terms, ORed, within the viewer's units and the last RECENT_DAYS, then
keeps only the hits that the database confirms: same association (or, for a case whose
association is unknown, the same hint), still open, not the case itself, and still visible to
the viewer (the index may lag a transfer).

``open_matters`` is a SQL GROUP BY for the public filing form: only counts per category of an
association's open complaints, mediation requests and suggestions, as of the end of yesterday
(Beijing time), and none below the public threshold (Settings.public_min_count, as the public
statistics): the association, looking at its own page, must not learn that a case, least of all
a report (举报), was just filed (issue 17, item 7). Reports are never counted.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from casework.i18n import bilingual
from casework.cases.models import Case, CaseState as S, CaseType, Category
from casework.cases.numbers import CHINA
from casework.db import utcnow
from casework.search.backend import SearchBackend, SearchHit, SearchQuery
from casework.search.text import opening
from casework.workflow.states import IN_HAND, NOT_SIMILAR

RECENT_DAYS = 180
MIN_PUBLIC_COUNT = 5  # Settings.public_min_count's default; the web passes the setting
KEY_TERMS = 8
CANDIDATES = 50
# a hit scoring below this share of the best hit shares only a word or two by chance
RELATIVE_SCORE = 0.3
# words nearly every complaint contains: they would make every case "similar"
GENERIC_WORDS = frozenset({
    "协会", "商会", "学会", "行业", "问题", "处理", "答复", "要求", "依法", "反映", "投诉", "举报", "情况", "我们",
    "公司", "我公司", "企业", "请求", "希望", "相关", "进行", "没有", "association", "complaint", "please",
})
EXCLUDED = NOT_SIMILAR
OPEN_PUBLIC = IN_HAND  # "being handled" for the public: filed, not finished, not waiting on a rating


def unit_keys(unit_ids: frozenset[int] | set[int] | None, include_triage: bool) -> frozenset[str] | None:
    """The viewer's permission keys (web.desk.search.scope's answer) as index unit keys:
    ``u<id>`` per unit, ``triage`` for cases waiting for routing; None sees every unit."""
    if unit_ids is None:
        return None
    return frozenset({f"u{u}" for u in unit_ids} | ({"triage"} if include_triage else set()))


def _scope(keys: frozenset[str] | None) -> tuple[frozenset[int] | None, bool]:
    if keys is None:
        return None, True
    ids = frozenset(int(k[1:]) for k in keys if k.startswith("u") and k[1:].isdigit())
    return ids, "triage" in keys


def _visible(unit_ids, include_triage, unit_id, state) -> bool:
    if unit_ids is None:
        return True
    if unit_id is not None:
        return unit_id in unit_ids
    return include_triage and state is S.received


def key_terms(case: Case, n: int = KEY_TERMS) -> list[str]:
    """The title's words and the key terms of title + description (jieba TF-IDF), as plain
    lowercase words (no query syntax can come through), without the generic words and the
    association's own name (every case of the association has those)."""
    from casework.search.segment import cut_for_search, extract_tags

    skip = set(GENERIC_WORDS)
    name = case.association.name if case.association is not None else (case.association_hint or "")
    skip.update(w.lower() for w in cut_for_search(name))
    words: list[str] = []
    for w in cut_for_search(case.title or "") + extract_tags(f"{case.title}\n{case.description}", top_k=n):
        w = w.strip().lower()
        if len(w) >= 2 and w.isalnum() and w not in words and w not in skip:
            words.append(w)
    return words[:3 * n]


def _same_association(case: Case, association_id, hint) -> bool:
    if case.association_id is not None:
        return association_id == case.association_id
    mine = "".join((case.association_hint or "").split())
    return bool(mine) and association_id is None and "".join((hint or "").split()) == mine


def similar_cases(backend: SearchBackend, case: Case, *, allowed_unit_keys: frozenset[str] | None,
                  limit: int = 5, now: datetime | None = None, session: Session | None = None) -> list[SearchHit]:
    """Up to ``limit`` hits, best first, that the viewer (``allowed_unit_keys``, see
    ``unit_keys``) may see. A hit's snippet is the beginning of that case's description (the
    best-matching fragment could be a reply, or a line from the middle), with the words it was
    found by marked where they stand in it, escaped as every hit's text is."""
    session = session or object_session(case)
    unit_ids, include_triage = _scope(allowed_unit_keys)
    terms = key_terms(case)
    if not terms or session is None or (unit_ids is not None and not unit_ids and not include_triage):
        return []
    now = now or utcnow()
    result = backend.search(SearchQuery(
        text=" OR ".join(terms), unit_ids=unit_ids, include_triage=include_triage,
        date_from=now - timedelta(days=RECENT_DAYS), per_page=CANDIDATES))
    ids = [h.case_id for h in result.hits if h.case_id != case.id]
    if not ids:
        return []
    # the database decides (the index may lag a move or a transfer by a few seconds)
    rows = {r.id: r for r in session.execute(
        select(Case.id, Case.association_id, Case.association_hint, Case.state, Case.unit_id, Case.description)
        .where(Case.id.in_(ids)))}
    best = max((h.score for h in result.hits if h.case_id != case.id), default=0.0)
    hits = []
    for h in result.hits:
        if h.score < RELATIVE_SCORE * best:
            break  # ranked: the rest score lower still
        r = rows.get(h.case_id)
        if r is None or r.state in EXCLUDED or not _visible(unit_ids, include_triage, r.unit_id, r.state):
            continue
        if not _same_association(case, r.association_id, r.association_hint):
            continue
        # its state and unit as the database has them now (the index's may be a move behind)
        hits.append(replace(h, state=r.state.value, unit_id=r.unit_id,
                            snippet_html=Markup(opening(r.description, set(terms)))))
        if len(hits) >= limit:
            break
    return hits


@dataclass(frozen=True)
class OpenMatter:
    category_code: str
    name: str
    name_en: str
    count: int

    def display_name(self, locale: str) -> str:
        return bilingual(self.name, self.name_en, locale)


def open_matters(session: Session, association_id: int | None, *, now: datetime | None = None,
                 minimum: int = MIN_PUBLIC_COUNT) -> list[OpenMatter]:
    """Per category, how many of this association's cases (not reports) filed in the last
    RECENT_DAYS and before today (Beijing time) are being handled; categories with fewer than
    ``minimum`` are left out. Counts only, and none that moves when a case is filed today."""
    if association_id is None:
        return []
    now = now or utcnow()
    since = now - timedelta(days=RECENT_DAYS)
    today = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    n = func.count(Case.id)
    rows = session.execute(
        select(Category.code, Category.name, Category.name_en, n)
        .join(Case, Case.category_id == Category.id)
        .where(Case.association_id == association_id, Case.state.in_(list(OPEN_PUBLIC)),
               Case.type != CaseType.report, Case.submitted_at >= since, Case.submitted_at < today)
        .group_by(Category.id, Category.code, Category.name, Category.name_en, Category.sort_order)
        .having(n >= minimum)
        .order_by(n.desc(), Category.sort_order, Category.code))
    return [OpenMatter(code, name, name_en, count) for code, name, name_en, count in rows]
