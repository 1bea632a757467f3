"""The kinds of written notice, and which one a move makes for a case.

Nothing here knows the workflow table: the table names a kind, or one of the choosers below
(a function of the case and the move's event), on its rows.
"""
from __future__ import annotations

from casework.cases.models import CaseState, CaseType
from casework.enums import TitledEnum
from casework.i18n import N_


class Document(TitledEnum):
    acceptance = "acceptance", N_("Notice of acceptance")                 # 受理告知书
    non_acceptance = "non_acceptance", N_("Notice of non-acceptance")     # 不予受理告知书
    transfer = "transfer", N_("Notice of transfer")                       # 转送告知书
    handling_opinion = "handling_opinion", N_("Handling opinion")         # 信访处理意见书
    review_opinion = "review_opinion", N_("Review opinion")               # 复查意见书
    re_review_opinion = "re_review_opinion", N_("Re-review opinion")     # 复核意见书


def reply_document(case, event) -> Document | None:
    """A complaint's reply is the 信访处理意见书 (信访工作条例 第三十二条); a report's answer is
    its own (the decision to open a case or not), a suggestion's has none."""
    return Document.handling_opinion if case.type is CaseType.complaint else None


def review_document(case, event) -> Document | None:
    """A decision on a 复查 is the 复查意见书, on a 复核 the final 复核意见书 (第三十五、三十六条)."""
    if event.from_state is CaseState.under_re_review:
        return Document.re_review_opinion
    if event.from_state is CaseState.under_review:
        return Document.review_opinion
    return None
