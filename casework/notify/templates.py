"""Notice texts per template and language. A notice carries no case content: only that
there is news and where to look (the receipt carries the number and code the complainant
needs to look)."""
from __future__ import annotations

from string import Template

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    # template -> locale -> (subject, body)
    "case_receipt": {
        "zh_CN": ("您的案件已提交",
                  "【畅通】您的案件已提交。案件编号 $case_number，查询码 $query_code。"
                  "请妥善保存，凭编号和查询码查询办理进度。"),
        "en": ("Your case has been filed",
               "[Changtong] Your case has been filed. Case number $case_number, query code $query_code. "
               "Keep them to check the status."),
    },
    "case_update": {
        "zh_CN": ("您的案件有新进展", "【畅通】您的案件 $case_number 有新进展，请凭案件编号和查询码查询。"),
        "en": ("News on your case", "[Changtong] There is news on case $case_number. Check it with your case number and query code."),
    },
    "respondent_invite": {
        "zh_CN": ("调解邀请", "【畅通】有当事人就与您的纠纷申请调解，案件编号 $case_number，您的答复码 $respondent_code。"
                              "请凭编号和答复码在平台“答复调解邀请”页面表示是否同意调解。"),
        "en": ("Invitation to mediation", "[Changtong] A party has asked for mediation of a dispute with you: case "
               "$case_number, your answer code $respondent_code. Use them on the platform's 'Answer a mediation request' page."),
    },
    "mediation_ended": {
        "zh_CN": ("调解已结束", "【畅通】调解案件 $case_number 已结束，请凭编号查询结果。"),
        "en": ("Mediation has ended", "[Changtong] Mediation case $case_number has ended; check the result with your codes."),
    },
    "judicial_confirmation": {
        "zh_CN": ("司法确认提醒", "【畅通】调解案件 $case_number 已达成调解协议。双方可自协议生效之日起30日内共同向人民法院申请司法确认。"),
        "en": ("Judicial confirmation", "[Changtong] Mediation case $case_number reached an agreement. Both parties may jointly "
               "apply to a people's court for judicial confirmation within 30 days."),
    },
    "unit_new_case": {
        "zh_CN": ("新案件待受理", "【畅通】本单位有新案件 $case_number 待受理，请登录办理平台处理。"),
        "en": ("A new case awaits acceptance", "[Changtong] Case $case_number awaits acceptance by your unit."),
    },
    # digests to a unit's office mailbox, one per sweep and kind
    "unit_reminder": {
        "zh_CN": ("案件即将到期", "【畅通】本单位有 $count 件案件的办理时限将在2个工作日内届满：$case_numbers（另有 $more 件）。请登录办理平台及时办理。"),
        "en": ("Deadlines are near", "[Changtong] $count of your unit's cases are due within 2 working days: $case_numbers (and $more more)."),
    },
    "unit_overdue": {
        "zh_CN": ("案件已超期", "【畅通】本单位有 $count 件案件已超过办理时限：$case_numbers（另有 $more 件）。请尽快办理。"),
        "en": ("Cases are overdue", "[Changtong] $count of your unit's cases are past their deadline: $case_numbers (and $more more)."),
    },
    "supervision_1": {
        "zh_CN": ("督办通知", "【畅通】督办（第一级）：您督办的单位有 $count 件案件超期：$case_numbers（另有 $more 件）。"),
        "en": ("Supervision notice", "[Changtong] Supervision, level 1: $count overdue cases in units you supervise: $case_numbers (and $more more)."),
    },
    "supervision_notice": {
        "zh_CN": ("督办单", "【畅通】督办单：案件 $case_number 已被督办，请于 $respond_by 前办理并报告办理情况。请登录办理平台查看督办要求。"),
        "en": ("Supervision notice (督办单)", "[Changtong] Case $case_number is under supervision: act and report by $respond_by. Sign in to the desk for the instructions."),
    },
    "supervision_2": {
        "zh_CN": ("督办通知（第二级）", "【畅通】督办（第二级）：以下 $count 件案件超期已逾5个工作日：$case_numbers（另有 $more 件）。"),
        "en": ("Supervision notice, level 2", "[Changtong] Supervision, level 2: $count cases overdue by more than 5 working days: $case_numbers (and $more more)."),
    },
}


def render(template: str, locale: str, values: dict) -> tuple[str, str]:
    by_locale = TEMPLATES[template]
    subject, body = by_locale.get("en" if locale.startswith("en") else "zh_CN")
    return subject, Template(body).safe_substitute({k: str(v) for k, v in values.items()})
