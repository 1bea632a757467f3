"""The fixed lists a handler chooses from (信访工作条例, 市场监督管理投诉举报处理办法)."""
from __future__ import annotations

from casework.cases.models import CaseType
from casework.enums import TitledEnum
from casework.i18n import N_


class NotAcceptReason(TitledEnum):
    outside_remit = "outside_remit", N_("Outside this unit's remit, and no competent unit can be named")
    no_clear_request = "no_clear_request", N_("No clear request, facts or grounds")
    already_handled = "already_handled", N_("Already handled, with no new facts or grounds")
    # 信访工作条例 第三十六条第三款: 信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的 … 不再受理
    re_reviewed = "re_reviewed", N_("Re-reviewed already (复核): the same facts and grounds again")
    other_procedure = "other_procedure", N_("Is or should be decided by a court, arbitration or administrative review")
    not_a_party = "not_a_party", N_("The complainant is not a party to the dispute")
    unverifiable = "unverifiable", N_("The report gives no lead that can be checked")
    # 市场监督管理投诉举报处理办法 (2026) 第十六条 (五) 提供虚假材料, (六) 冒用他人名义或者拒不配合核验真实身份信息
    false_identity = "false_identity", N_("Filed in another's name or with false material, or identity not verified")
    other = "other", N_("Other (explained in the notice)")


# 市场监督管理投诉举报处理办法 第三条: a 投诉 is the filer's own dispute, a 举报 anyone's lead on a
# suspected violation. So "not a party to the dispute" cannot refuse a report, and "no lead that can
# be checked" fits a report alone (a mediation request is a party's own dispute, as a complaint is).
_ONLY_FOR = {
    NotAcceptReason.not_a_party: frozenset({CaseType.complaint, CaseType.mediation}),
    NotAcceptReason.unverifiable: frozenset({CaseType.report}),
    # the 办法's 第十六条 lists grounds not to accept a 投诉 (and a mediation request is a party's own
    # dispute): a report's lead is checked whoever sent it, and may be anonymous
    NotAcceptReason.false_identity: frozenset({CaseType.complaint, CaseType.mediation}),
    # only a complaint goes through 复查 and 复核 (第三十五、三十六条)
    NotAcceptReason.re_reviewed: frozenset({CaseType.complaint}),
}


def not_accept_reason_fits(reason: NotAcceptReason, case_type: CaseType) -> bool:
    """Whether ``reason`` may refuse a case of ``case_type`` (the desk offers only those)."""
    return case_type in _ONLY_FOR.get(reason, (case_type,))


class TransferReason(TitledEnum):
    other_unit_competent = "other_unit_competent", N_("Another unit is competent for this matter")
    other_region = "other_region", N_("The matter belongs to another region")
    wrong_category = "wrong_category", N_("The category or association was wrong")
    conflict_of_interest = "conflict_of_interest", N_("Conflict of interest in this unit")
    other = "other", N_("Other (explained)")
