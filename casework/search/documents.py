"""A Case as the search index sees it."""
from __future__ import annotations

from casework.cases.models import Case
from casework.search.backend import CaseDoc


def case_doc(case: Case) -> CaseDoc:
    """Only the case's own text and the replies the complainant sees (events' public text);
    no identity (those columns are ciphertext and never read here), no internal notes."""
    replies = tuple(e.public_text for e in case.events if e.public_text and e.is_public)
    return CaseDoc(
        case_id=case.id,
        number=case.number,
        type=case.type.value,
        state=case.state.value,
        category_code=case.category.code if case.category is not None else "",
        unit_id=case.unit_id,
        association_id=case.association_id,
        # the English name too: a desk that speaks English searches by it ("steel" found nothing)
        association_name=(" ".join(n for n in (case.association.name, case.association.name_en) if n)
                          if case.association is not None else (case.association_hint or "")),
        submitted_at=case.submitted_at,
        title=case.title,
        description=case.description,
        replies=replies,
    )
