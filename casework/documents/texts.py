"""The default texts of the written notices, per kind and language, and what each must keep.

A text is a title and a body; the body is plain text with placeholders ($case_number and the
like, filled when the document is made), one paragraph a line; a line such as 一、您的请求 is a
heading. An administrator may replace a kind's text in one language (table
``document_template``); the replacement may use only the placeholders the kind knows, and
must keep the ones the law requires (REQUIRED): a 信访处理意见书 without the review body or
the deadline to ask for 复查 is refused. The fixed parts a placeholder stands for (the legal
basis, the remedies, the review body and deadline) are made in code from the case, so a
template cannot get them wrong.

Legal anchors: 信访工作条例 (2022) 第二十三条 (written notice of acceptance, of a transfer, of a
matter outside the body's remit), 第三十一条 (matters for a court, arbitration or
administrative review), 第三十二条 (the handling opinion), 第三十五条 (复查 within 30 days of
receipt, by the body one level above), 第三十六条 (复核 likewise; final: the same facts and
reasons are not accepted again).
"""
from __future__ import annotations

from string import Template

from casework.documents.kinds import Document

LOCALES = ("zh_CN", "en")
TITLE_MAX, BODY_MAX = 100, 5000
REVIEW_WINDOW_DAYS = 30  # 信访工作条例 第三十五条 (复查), 第三十六条 (复核): 30 days from receipt

COMMON = ("case_number", "complainant", "submitted_date", "title", "unit", "date", "legal_basis")

TEMPLATES: dict[Document, dict[str, tuple[str, str]]] = {
    Document.acceptance: {
        "zh_CN": ("受理告知书",
                  "$complainant：\n"
                  "您于$submitted_date提出的“$title”（案件编号 $case_number）已收悉。经审查，该事项属于本单位职权范围，本单位决定予以受理。\n"
                  "本单位将依照有关规定调查处理，并于$due_date前作出处理意见、书面答复您。您可凭案件编号和查询码在平台查询办理进度。\n"
                  "$note\n"
                  "法律依据：$legal_basis"),
        "en": ("Notice of acceptance",
               "Dear $complainant,\n"
               "Your case “$title” (number $case_number), filed on $submitted_date, has been received. It is within "
               "this unit's remit and the unit has accepted it.\n"
               "The unit will look into it and reply to you in writing by $due_date. You can follow it with your case "
               "number and query code on the platform.\n"
               "$note\n"
               "Legal basis: $legal_basis"),
    },
    Document.non_acceptance: {
        "zh_CN": ("不予受理告知书",
                  "$complainant：\n"
                  "您于$submitted_date提出的“$title”（案件编号 $case_number）已收悉。经审查，本单位决定不予受理。\n"
                  "一、不予受理的理由\n$reason\n$explanation\n"
                  "二、您可以采取的途径\n$remedies\n"
                  "三、法律依据\n$legal_basis"),
        "en": ("Notice of non-acceptance",
               "Dear $complainant,\n"
               "Your case “$title” (number $case_number), filed on $submitted_date, has been received. After "
               "examining it, this unit has decided not to accept it.\n"
               "1. Why it is not accepted\n$reason\n$explanation\n"
               "2. What you can do\n$remedies\n"
               "3. Legal basis\n$legal_basis"),
    },
    Document.transfer: {
        "zh_CN": ("转送告知书",
                  "$complainant：\n"
                  "您于$submitted_date提出的“$title”（案件编号 $case_number）已收悉。经审查，该事项应由$to_unit处理，"
                  "本单位已于$date将其转送$to_unit办理。\n"
                  "转送理由：$reason\n"
                  "$note\n"
                  "案件编号和查询码不变，您可继续凭其查询办理进度。\n"
                  "法律依据：$legal_basis"),
        "en": ("Notice of transfer",
               "Dear $complainant,\n"
               "Your case “$title” (number $case_number), filed on $submitted_date, has been received. The matter is "
               "for $to_unit to handle; this unit transferred it to $to_unit on $date.\n"
               "Reason: $reason\n"
               "$note\n"
               "Your case number and query code stay the same; keep using them to follow the case.\n"
               "Legal basis: $legal_basis"),
    },
    Document.handling_opinion: {
        "zh_CN": ("信访处理意见书",
                  "$complainant：\n"
                  "您于$submitted_date提出的“$title”（案件编号 $case_number），本单位已依法办理，现将处理意见书面答复如下。\n"
                  "一、您的请求\n$request\n"
                  "二、经调查核实的情况\n$finding\n"
                  "三、处理意见\n$opinion\n"
                  "四、法律依据\n$legal_basis\n"
                  "五、复查的途径和期限\n"
                  "您对本处理意见不服的，可以$review_deadline，向$review_body请求复查。"),
        "en": ("Handling opinion",
               "Dear $complainant,\n"
               "This unit has handled your case “$title” (number $case_number), filed on $submitted_date. Its opinion "
               "follows.\n"
               "1. Your request\n$request\n"
               "2. The facts found\n$finding\n"
               "3. Opinion\n$opinion\n"
               "4. Legal basis\n$legal_basis\n"
               "5. How to ask for a review (复查)\n"
               "If you do not accept this opinion, you may ask $review_body for a review $review_deadline."),
    },
    Document.review_opinion: {
        "zh_CN": ("复查意见书",
                  "$complainant：\n"
                  "您对“$title”（案件编号 $case_number）的处理意见不服，请求复查。本单位经复查，提出复查意见如下。\n"
                  "一、复查意见\n$opinion\n"
                  "二、法律依据\n$legal_basis\n"
                  "三、复核的途径和期限\n"
                  "您对本复查意见不服的，可以$review_deadline，向$review_body请求复核。"),
        "en": ("Review opinion",
               "Dear $complainant,\n"
               "You asked for a review (复查) of the opinion on “$title” (number $case_number). Having reviewed it, "
               "this unit gives the following opinion.\n"
               "1. Review opinion\n$opinion\n"
               "2. Legal basis\n$legal_basis\n"
               "3. How to ask for a re-review (复核)\n"
               "If you do not accept this opinion, you may ask $review_body for a re-review $review_deadline."),
    },
    Document.re_review_opinion: {
        "zh_CN": ("复核意见书",
                  "$complainant：\n"
                  "您对“$title”（案件编号 $case_number）的复查意见不服，请求复核。本单位经复核，提出复核意见如下。\n"
                  "一、复核意见\n$opinion\n"
                  "二、法律依据\n$legal_basis\n"
                  "三、说明\n$finality"),
        "en": ("Re-review opinion",
               "Dear $complainant,\n"
               "You asked for a re-review (复核) of the review opinion on “$title” (number $case_number). Having "
               "re-reviewed it, this unit gives the following opinion.\n"
               "1. Re-review opinion\n$opinion\n"
               "2. Legal basis\n$legal_basis\n"
               "3. Note\n$finality"),
    },
}

# the parts a kind cannot do without (信访工作条例 第二十三、三十二、三十五、三十六条)
REQUIRED: dict[Document, frozenset[str]] = {
    Document.acceptance: frozenset({"case_number"}),
    Document.non_acceptance: frozenset({"case_number", "reason", "remedies", "legal_basis"}),
    Document.transfer: frozenset({"case_number", "to_unit"}),
    Document.handling_opinion: frozenset({"case_number", "request", "finding", "opinion", "legal_basis",
                                          "review_deadline", "review_body"}),
    Document.review_opinion: frozenset({"case_number", "opinion", "legal_basis", "review_deadline", "review_body"}),
    Document.re_review_opinion: frozenset({"case_number", "opinion", "legal_basis", "finality"}),
}


def placeholders(kind: Document) -> list[str]:
    """The placeholders a kind knows: the common ones and those its default texts use."""
    names: dict[str, None] = dict.fromkeys(COMMON)
    for title, body in TEMPLATES[kind].values():
        for text in (title, body):
            names.update(dict.fromkeys(Template(text).get_identifiers()))
    return list(names)


# -- the fixed parts, per language ---------------------------------------------------------

LEGAL_BASIS: dict[Document, dict[str, str]] = {
    # made per case type: decision_basis
    Document.acceptance: {"zh_CN": "《信访工作条例》第二十三条",
                          "en": "Regulations on Letters and Visits (2022), article 23"},
    # made per case type and reason: decision_basis
    Document.non_acceptance: {"zh_CN": "《信访工作条例》第二十三条",
                              "en": "Regulations on Letters and Visits (2022), article 23"},
    Document.transfer: {"zh_CN": "《信访工作条例》第二十二条、第二十三条",
                        "en": "Regulations on Letters and Visits (2022), articles 22 and 23"},
    Document.handling_opinion: {"zh_CN": "《信访工作条例》第三十二条、第三十五条",
                                "en": "Regulations on Letters and Visits (2022), articles 32 and 35"},
    Document.review_opinion: {"zh_CN": "《信访工作条例》第三十五条、第三十六条",
                              "en": "Regulations on Letters and Visits (2022), articles 35 and 36"},
    Document.re_review_opinion: {"zh_CN": "《信访工作条例》第三十六条",
                                 "en": "Regulations on Letters and Visits (2022), article 36"},
}

WORDS = {
    "zh_CN": {
        "complainant": "信访人", "anonymous": "匿名举报人",
        "filer": {"report": "举报人", "mediation": "申请人", "suggestion": "建议人"},  # 信访人 otherwise
        "review_deadline": f"自收到本意见书之日起{REVIEW_WINDOW_DAYS}日内",
        "no_review_body": "上一级机关、单位（本平台将指定并另行告知）",
        "no_finding": "经调查核实的情况见处理意见。",
        "no_due_date": "法定期限内",
        "finality": "本复核意见为最终意见。依照《信访工作条例》第三十六条，您对复核意见不服，仍以同一事实和理由提出信访事项的，"
                    "各级党委和政府信访部门和其他机关、单位不再受理。",
        "issued_by": "（盖章）", "number": "案件编号：", "date_format": "{y}年{m}月{d}日",
    },
    "en": {
        "complainant": "complainant", "anonymous": "anonymous reporter",
        "filer": {"report": "reporter", "mediation": "applicant", "suggestion": "suggester"},
        "review_deadline": f"within {REVIEW_WINDOW_DAYS} days of receiving this document",
        "no_review_body": "the body one level above (the platform will assign it and tell you)",
        "no_finding": "The facts found are set out in the opinion.",
        "no_due_date": "the statutory time limit",
        "finality": "This re-review opinion is final. Under article 36 of the Regulations on Letters and Visits, a "
                    "matter raised again on the same facts and reasons is not accepted by any body.",
        "issued_by": " (seal)", "number": "Case number: ", "date_format": "{y}-{m:02d}-{d:02d}",
    },
}

FINDINGS = {
    "zh_CN": {"substantiated": "经调查核实，您反映的问题属实。",
              "partly_substantiated": "经调查核实，您反映的问题部分属实。",
              "not_substantiated": "经调查核实，您反映的问题不属实。"},
    "en": {"substantiated": "The matter you raised was found to be substantiated.",
           "partly_substantiated": "The matter you raised was found to be partly substantiated.",
           "not_substantiated": "The matter you raised was found not to be substantiated."},
}

# the handling opinion on the request (casework.cases.models.Opinion), in the words of
# 信访工作条例 第三十二条第一款 (一) to (三); the handler's own text follows it
OPINIONS = {
    "zh_CN": {"supported": "经审查，您的请求事实清楚，符合法律、法规、规章或者其他有关规定，予以支持。",
              "explained": "经审查，您的请求事由合理，但缺乏法律依据，现作出解释说明如下。",
              "not_supported": "经审查，您的请求缺乏事实根据或者不符合法律、法规、规章或者其他有关规定，不予支持。"},
    "en": {"supported": "Your request rests on clear facts and accords with the laws, regulations and rules: it is "
                        "supported.",
           "explained": "Your request is reasonable but has no legal basis; the unit explains as follows.",
           "not_supported": "Your request lacks a factual basis or does not accord with the laws, regulations and "
                            "rules: it is not supported."},
}
# the laws the handler named for the opinion, then the articles the document itself is made under
OPINION_BASIS = {
    "zh_CN": "{basis}\n本意见书依照{procedure}作出。",
    "en": "{basis}\nThis opinion is given under the {procedure}.",
}

# not_accept reasons (casework.workflow.reasons.NotAcceptReason): (why, what the complainant can do)
NOT_ACCEPT = {
    "zh_CN": {
        "outside_remit": ("该事项不属于本单位职权范围。",
                          "您可以向有权处理的机关、单位提出；不清楚向哪个机关、单位提出的，可以向当地信访部门咨询。"),
        "no_clear_request": ("未提出明确的请求、事实和理由。",
                             "您可以补充明确的请求以及所依据的事实和理由后重新提出。"),
        "already_handled": ("该事项已经处理，未提出新的事实和理由。",
                            "您对原处理意见不服的，可以依照《信访工作条例》第三十五条、第三十六条的规定在期限内请求复查、复核；"
                            "有新的事实和理由的，可以重新提出。"),
        "re_reviewed": ("该事项已经复核，您仍以同一事实和理由提出投诉请求。",
                        "依照《信访工作条例》第三十六条第三款，各级机关、单位不再受理，也不再复查、复核；"
                        "有新的事实和理由的，可以重新提出，或者依法通过诉讼等途径解决。"),
        "other_procedure": ("该事项已经或者应当通过诉讼、仲裁、行政复议等法定途径解决。",
                            "请依照法定程序向人民法院、仲裁机构或者行政复议机关提出（《信访工作条例》第三十一条）。"),
        "not_a_party": ("您不是该争议的当事人。",
                        "可以由与争议有直接利害关系的当事人提出，或者通过其他合法途径反映。"),
        "unverifiable": ("举报未提供可以核查的线索。",
                         "您可以补充具体、可以核查的线索（涉及的单位、时间、地点和事实）后重新举报。"),
        "false_identity": ("冒用他人名义、提供虚假材料，或者拒不配合核验真实身份信息。",
                           "您可以以本人真实身份、附真实材料重新提出；委托他人代为投诉的，请附授权委托书。"),
        "other": ("见以下说明。", "您可以通过其他合法途径反映，或者补充材料后重新提出。"),
        # the sweep's close_material_lapsed (市场监督管理投诉举报处理办法 第十六条第五项 for a 投诉)
        "material_not_supplied": ("逾期未补正所需材料。",
                                  "您可以随时重新提交，并在新的提交中附上所需材料。"),
    },
    "en": {
        "outside_remit": ("The matter is outside this unit's remit.",
                          "You may raise it with the competent body; a local letters-and-visits office can tell you which."),
        "no_clear_request": ("No clear request, facts or grounds were given.",
                             "You may file again with a clear request and the facts and grounds for it."),
        "already_handled": ("The matter has already been handled and no new facts or grounds were given.",
                            "If you do not accept the earlier opinion you may ask for a review or re-review in time "
                            "(articles 35 and 36); with new facts or grounds you may file again."),
        "re_reviewed": ("The matter has been re-reviewed (复核) and you raised it again on the same facts and grounds.",
                        "Under article 36(3) of the Regulations on Letters and Visits it is not accepted again, nor reviewed "
                        "again; with new facts or grounds you may file again, or use the courts as the law provides."),
        "other_procedure": ("The matter is or must be decided by a court, arbitration or administrative review.",
                            "Please raise it there, as the law provides (article 31)."),
        "not_a_party": ("You are not a party to the dispute.",
                        "A party with a direct interest may raise it, or you may use other lawful channels."),
        "unverifiable": ("The report gives no lead that can be checked.",
                         "You may report again with specific leads (the body, the time, the place and the facts)."),
        "false_identity": ("The complaint was made in another's name or with false material, or the complainant "
                           "would not have their identity checked.",
                           "You may file again in your own name with true material; an agent attaches the "
                           "power of attorney."),
        "other": ("See the explanation below.", "You may use other lawful channels, or file again with more material."),
        "material_not_supplied": ("The material asked for was not supplied in time.",
                                  "You may file again at any time, with the material asked for."),
    },
}

# The 受理告知书's and the 不予受理告知书's legal basis name what the decision rests on and, for a
# refusal, the ground the reason is:
# 信访工作条例 第二十三条 (the written notice) for every case; for a 投诉 and a mediation request
# (a party's own dispute) 市场监督管理投诉举报处理办法 (2026) 第十五条 (decide within 7 working days
# and tell the reason) and, where the reason is one of its grounds not to accept a 投诉, the item
# of 第十六条; 条例 第三十一条 where the matter belongs to a court, arbitration or review, and
# 第三十六条第三款 where it was re-reviewed (复核) already and comes again on the same facts and grounds.
# A reason without an article of its own (outside the remit, no clear request and the like) is
# not given one here: the platform does not guess at an item the law does not name for it.
_REGULATIONS = {"zh_CN": "《信访工作条例》", "en": "Regulations on Letters and Visits (2022)"}
_MEASURES = {"zh_CN": "《市场监督管理投诉举报处理办法》",
             "en": "Measures on Handling Complaints and Reports concerning Market Regulation (2026)"}
_GROUND_IN_MEASURES = {  # reason -> the items of 办法 第十六条 (only for a 投诉 or a mediation request)
    "false_identity": (("第十六条第五项", "16(5)"), ("第六项", "16(6)")),
    "material_not_supplied": (("第十六条第五项", "16(5)"),),
}
_OWN_DISPUTE = ("complaint", "mediation")


def _cite(law: dict[str, str], articles: list[tuple[str, str]], locale: str) -> str:
    if locale == "zh_CN":
        return law[locale] + "、".join(zh for zh, _ in articles)
    ens = [en for _, en in articles]
    listed = ens[0] if len(ens) == 1 else ", ".join(ens[:-1]) + " and " + ens[-1]
    return f"{law[locale]}, article{'s' if len(ens) > 1 else ''} {listed}"


def decision_basis(case_type: str, reason: str | None, locale: str, *, accepted: bool) -> str:
    """The 法律依据 of the 受理告知书 (accepted) or of the 不予受理告知书 for a case of this type
    refused for this reason."""
    regulations = [("第二十三条", "23")]
    if not accepted and reason == "other_procedure":
        regulations.append(("第三十一条", "31"))
    if not accepted and reason == "re_reviewed":
        regulations.append(("第三十六条第三款", "36(3)"))
    parts = [_cite(_REGULATIONS, regulations, locale)]
    if case_type in _OWN_DISPUTE:
        measures = [("第十五条", "15")]
        if not accepted:
            measures.extend(_GROUND_IN_MEASURES.get(reason or "", ()))
        parts.append(_cite(_MEASURES, measures, locale))
    return ("；" if locale == "zh_CN" else "; ").join(parts)


TRANSFER_REASONS = {
    "zh_CN": {"other_unit_competent": "该事项属于其他机关、单位的职责范围。",
              "other_region": "该事项属于其他地区管辖。",
              "wrong_category": "原登记的类别或者所涉协会有误。",
              "conflict_of_interest": "本单位与该事项存在利害关系，依规回避。",
              "other": "见以下说明。"},
    "en": {"other_unit_competent": "Another body is competent for this matter.",
           "other_region": "The matter belongs to another region.",
           "wrong_category": "The category or association was recorded wrongly.",
           "conflict_of_interest": "This unit has an interest in the matter and stands aside.",
           "other": "See the explanation below."},
}
