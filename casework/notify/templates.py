"""Notice texts per template and language. A notice carries no case content: only that
there is news and where to look (the receipt carries the number and code the complainant
needs to look).

The texts below are the defaults. An administrator may override a template's subject and
body for one language (table ``notice_template``); ``render`` uses the override where there
is one. An override may use only the placeholders its template's defaults use ($case_number
and the like, filled from the notice's payload), so it cannot bring in anything more about
a case; and it must keep the ones the recipient cannot do without (the receipt's query
code, the respondent's answer code, the site's address in every text to a party).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.db import Base, UTCDateTime, utcnow
from casework.i18n import Message, N_
from casework.text import clean_text
from casework.workflow.states import review_round

LOCALES = ("zh_CN", "en")
SUBJECT_MAX, BODY_MAX = 200, 1000
log = logging.getLogger("changtong.notify")

# the site's public address (CHANGTONG_BASE_URL), filled in when a notice is sent rather than
# kept in its payload: a text may say where to go, and a move of the site changes it at once.
# A provider's SMS template is text the provider approved, filled with the payload's variables
# only: it writes the address out (casework.notify.providers, docs/operations.md)
SITE = "site"
# the round of a review a notice is about (review_decided_unit), filled where it is queued in the
# notice's language: 复查 or 复核, review or re-review (casework.workflow.states.review_round)
ROUND = "review_round"

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    # template -> locale -> (subject, body)
    "case_receipt": {
        "zh_CN": ("您的案件已提交",
                  "【畅通】您的案件已提交。案件编号 $case_number，查询码 $query_code。"
                  "请妥善保存，凭编号和查询码在 $site/track 查询办理进度。"),
        "en": ("Your case has been filed",
               "[Changtong] Your case has been filed. Case number $case_number, query code $query_code. "
               "Keep them to check the status at $site/track."),
    },
    # the code that proves a phone number (casework.verify): the code only, nothing of a case
    "verify_code": {
        "zh_CN": ("验证码", "【畅通】验证码 $code，5 分钟内有效。请勿告诉他人。"),
        "en": ("Verification code", "[Changtong] Your code is $code, valid for 5 minutes. Do not tell anyone."),
    },
    "case_update": {
        "zh_CN": ("您的案件有新进展", "【畅通】您的案件 $case_number 有新进展，请凭案件编号和查询码在 $site/track 查询。"),
        "en": ("News on your case", "[Changtong] There is news on case $case_number. Check it at $site/track with your case number and query code."),
    },
    # the move made a written notice (casework.documents): where to download it, not what it says
    "case_document": {
        "zh_CN": ("您的案件有新的书面告知", "【畅通】您的案件 $case_number 有新进展，并有一份书面告知文书可供下载。请凭案件编号和查询码在 $site/track 查看和下载。"),
        "en": ("A written notice on your case", "[Changtong] There is news on case $case_number and a written notice to download. Open it at $site/track with your case number and query code."),
    },
    # the respondent has never seen the site, nor has a caller whose hotline filed the case: every
    # text to a party gives the address where to look ($site, see render)
    # the mediation body ($body) and the day to answer by ($answer_by): silence after it is refusal
    "respondent_invite": {
        "zh_CN": ("调解邀请", "【畅通】有当事人就与您的纠纷向$body申请调解，案件编号 $case_number，您的答复码 $respondent_code。"
                              "请访问 $site/respond ，在“答复调解邀请”页面凭编号和答复码于 $answer_by 前（含当日）表示是否同意调解；"
                              "逾期未答复的，视为不同意调解。"),
        "en": ("Invitation to mediation", "[Changtong] A party has asked $body to mediate a dispute with you: case "
               "$case_number, your answer code $respondent_code. Use them at $site/respond ('Answer a mediation "
               "request') by $answer_by; no answer by then counts as refusing mediation."),
    },
    "mediation_ended": {
        "zh_CN": ("调解已结束", "【畅通】调解案件 $case_number 已结束。申请人请凭案件编号和查询码在“查询案件”页面（$site/track）查看结果，"
                                "被申请人请凭案件编号和答复码在“答复调解邀请”页面（$site/respond）查看。"),
        "en": ("Mediation has ended", "[Changtong] Mediation case $case_number has ended. The applicant sees the result with the "
               "case number and query code on the 'Check a case' page ($site/track), the respondent with the answer code on the "
               "'Answer a mediation request' page ($site/respond)."),
    },
    # a session was scheduled (schedule_session) for a time still to come, or one never announced
    # was moved to one: both parties, with its time and place (the place is what the mediator
    # typed: a room or, for an online session, the meeting link)
    "mediation_session": {
        "zh_CN": ("调解会议安排", "【畅通】调解案件 $case_number 的调解会议定于 $session_time（北京时间）举行，地点：$place。"
                                  "申请人可凭案件编号和查询码在“查询案件”页面（$site/track）查看，"
                                  "被申请人可凭案件编号和答复码在“答复调解邀请”页面（$site/respond）查看。"),
        "en": ("Mediation session scheduled", "[Changtong] A session of mediation case $case_number is set for "
               "$session_time (Beijing time), place: $place. The applicant sees it with the case number and query "
               "code on the 'Check a case' page ($site/track), the respondent with the answer code on the "
               "'Answer a mediation request' page ($site/respond)."),
    },
    # a session moved (move_session): both parties, the time it was set for, and the new time and place
    "mediation_session_moved": {
        "zh_CN": ("调解会议改期", "【畅通】调解案件 $case_number 原定 $old_time（北京时间）的调解会议改于 $session_time（北京时间）举行，"
                                  "地点：$place。改期原因请申请人凭案件编号和查询码在“查询案件”页面（$site/track）查看，"
                                  "被申请人凭案件编号和答复码在“答复调解邀请”页面（$site/respond）查看。"),
        "en": ("Mediation session moved", "[Changtong] The session of mediation case $case_number set for $old_time "
               "(Beijing time) is moved to $session_time (Beijing time), place: $place. The applicant sees why with the "
               "case number and query code on the 'Check a case' page ($site/track), the respondent with the answer "
               "code on the 'Answer a mediation request' page ($site/respond)."),
    },
    # a session called off (cancel_session): both parties, which session; the reason is on the pages
    "mediation_session_cancelled": {
        "zh_CN": ("调解会议取消", "【畅通】调解案件 $case_number 原定 $session_time（北京时间）的调解会议已取消，请勿前往。"
                                  "取消原因请申请人凭案件编号和查询码在“查询案件”页面（$site/track）查看，"
                                  "被申请人凭案件编号和答复码在“答复调解邀请”页面（$site/respond）查看。"),
        "en": ("Mediation session cancelled", "[Changtong] The session of mediation case $case_number set for "
               "$session_time (Beijing time) is cancelled: do not go. The applicant sees why with the case number and "
               "query code on the 'Check a case' page ($site/track), the respondent with the answer code on the "
               "'Answer a mediation request' page ($site/respond)."),
    },
    "judicial_confirmation": {
        "zh_CN": ("司法确认提醒", "【畅通】调解案件 $case_number 已达成调解协议。双方可自协议生效之日起30日内共同向人民法院申请司法确认。"),
        "en": ("Judicial confirmation", "[Changtong] Mediation case $case_number reached an agreement. Both parties may jointly "
               "apply to a people's court for judicial confirmation within 30 days."),
    },
    # digests to a unit's office mailbox, one per sweep and kind
    "unit_new_case": {
        "zh_CN": ("新案件待受理", "【畅通】本单位有 $count 件新案件待受理：$case_numbers$more_clause。请登录办理平台，在受理时限内决定是否受理。"),
        "en": ("New cases await acceptance", "[Changtong] Cases awaiting your unit's decision on acceptance ($count): $case_numbers$more_clause."),
    },
    "unit_reminder": {
        "zh_CN": ("案件即将到期", "【畅通】本单位有 $count 件案件的办理时限将在2个工作日内届满：$case_numbers$more_clause。请登录办理平台及时办理。"),
        "en": ("Deadlines are near", "[Changtong] Your unit's cases due within 2 working days ($count): $case_numbers$more_clause."),
    },
    "unit_overdue": {
        "zh_CN": ("案件已超期", "【畅通】本单位有 $count 件案件已超过办理时限：$case_numbers$more_clause。请尽快办理。"),
        "en": ("Cases are overdue", "[Changtong] Your unit's cases past their deadline ($count): $case_numbers$more_clause."),
    },
    "supervision_1": {
        "zh_CN": ("督办通知", "【畅通】督办（第一级）：您督办的单位有 $count 件案件超期：$case_numbers$more_clause。"),
        "en": ("Supervision notice", "[Changtong] Supervision, level 1: overdue cases in units you supervise ($count): $case_numbers$more_clause."),
    },
    "supervision_notice": {
        "zh_CN": ("督办单", "【畅通】督办单：案件 $case_number 已被督办，请于 $respond_by 前办理并报告办理情况。请登录办理平台查看督办要求。"),
        "en": ("Supervision notice (督办单)", "[Changtong] Case $case_number is under supervision: act and report by $respond_by. Sign in to the desk for the instructions."),
    },
    # the unit reported on a 督办单: to the mailbox of the supervisor's unit
    "supervision_report": {
        "zh_CN": ("督办反馈", "【畅通】案件 $case_number 的督办单（要求 $respond_by 前报告）已收到承办单位的办理情况报告。请登录办理平台查看。"),
        "en": ("Report on a supervision notice", "[Changtong] The unit has reported on the supervision notice for case $case_number (report due by $respond_by). Sign in to the desk to read it."),
    },
    # a case under a 督办单 was transferred (or sent back): to the mailbox of the supervisor's unit;
    # the unit that has it now gets the 督办单 itself ("supervision_notice")
    "supervision_moved": {
        "zh_CN": ("督办案件已转送", "【畅通】您督办的案件 $case_number 已转至其他承办单位，督办单（要求 $respond_by 前报告）"
                              "随案转至该单位，已通知其办理并报告。请登录办理平台查看。"),
        "en": ("A supervised case changed units", "[Changtong] Case $case_number, under your supervision notice (report "
               "due by $respond_by), went to another unit; the notice went with it and that unit has been told. Sign in "
               "to the desk to see it."),
    },
    # a review decided: to the mailboxes of the units whose decision it reviewed, naming its round
    # ($review_round: ROUND)
    "review_decided_unit": {
        "zh_CN": ("$review_round意见已作出", "【畅通】本单位答复或复查过的案件 $case_number，上一级已作出$review_round意见。"
                                         "请登录办理平台查看；意见支持投诉请求的，请予执行。"),
        "en": ("A $review_round of your unit's decision", "[Changtong] The level above has decided the $review_round "
               "of case $case_number, which your unit decided before. Sign in to the desk to read it; if it supports "
               "the request, carry it out."),
    },
    # the complainant urged (催办) a case past its deadline: to the unit's mailbox
    "case_urged": {
        "zh_CN": ("群众催办", "【畅通】案件 $case_number 已超过办理时限，投诉人（举报人）已催办。请登录办理平台尽快办理。"),
        "en": ("A complainant urged a case", "[Changtong] Case $case_number is past its deadline and the complainant has urged it. Sign in to the desk and act on it."),
    },
    # a handler asks the unit's lead to extend the handling time (信访工作条例 第三十四条): the case
    # number only; the reason is read on the desk
    "extension_asked": {
        "zh_CN": ("延长办理期限申请待批准", "【畅通】案件 $case_number 的经办人申请延长办理期限，等待单位负责人批准。"
                                     "请负责人登录办理平台，在该案件页面“延长办理期限（单位负责人）”中处理。"),
        "en": ("A request to extend the handling time", "[Changtong] The handler of case $case_number asks to "
               "extend its handling time. The unit lead decides it on the case's page on the desk, under "
               "'Extend the handling time (unit lead)'."),
    },
    # a mediation's respondent put its side in writing (书面意见): to the mediation body's mailbox, the
    # case number only; the statement is read on the desk
    "respondent_statement": {
        "zh_CN": ("被申请人提交书面意见", "【畅通】调解案件 $case_number 的被申请人提交了书面意见。请登录办理平台，在该案件页面的“调解”部分查看。"),
        "en": ("The respondent put its side in writing", "[Changtong] The respondent in mediation case $case_number "
               "has sent a written statement. Sign in to the desk and read it in the case page's mediation section."),
    },
    # a handler asked to see a report's identity: to the unit's mailbox, for its identity custodian
    # (身份保管人); the case number only, never the reason nor who asked
    "reveal_requested": {
        "zh_CN": ("身份查看申请待审批", "【畅通】案件 $case_number 有一项查看举报人身份的申请，等待本单位身份保管人审批。"
                                    "请身份保管人登录办理平台，在“身份查看申请”页面处理。"),
        "en": ("A request to see a reporter's identity", "[Changtong] A request to see the reporter's identity on "
               "case $case_number waits for your unit's identity custodian. The custodian decides it on the desk, "
               "under 'Identity requests'."),
    },
    # the custodian decided it: to the same mailbox, for the handler who asked; not the decision
    "reveal_decided": {
        "zh_CN": ("身份查看申请已审批", "【畅通】案件 $case_number 的查看举报人身份申请，身份保管人已作出决定。"
                                    "请申请人登录办理平台，在“我的身份查看申请”页面查看；获批准的，自决定时起 24 小时内有效。"),
        "en": ("A request to see a reporter's identity was decided", "[Changtong] The identity custodian has decided "
               "the request to see the reporter's identity on case $case_number. The handler who asked sees the answer "
               "on the desk, under 'My identity requests'; an approval lasts 24 hours from the decision."),
    },
    "supervision_2": {
        "zh_CN": ("督办通知（第二级）", "【畅通】督办（第二级）：以下 $count 件案件超期已逾5个工作日：$case_numbers$more_clause。"),
        "en": ("Supervision notice, level 2", "[Changtong] Supervision, level 2: cases overdue by more than 5 working days ($count): $case_numbers$more_clause."),
    },
}


# when each notice goes out and to whom, as the administrator's list says it (a code alone said nothing)
SENT_WHEN: dict[str, str] = {
    "case_receipt": N_("To the filer, when a case is filed: its number and query code."),
    "verify_code": N_("To a phone number being verified, when the filing form or the API asks for a code."),
    "case_update": N_("To the filer, when the case moves on (accepted, replied, transferred …)."),
    "case_document": N_("To the filer, when a move makes a written notice (PDF) on the status page."),
    "respondent_invite": N_("To a mediation's respondent, when the mediation body accepts the request: the answer code, the body and the day to answer by."),
    "mediation_ended": N_("To both parties of a mediation, when it ends."),
    "mediation_session": N_("To both parties of a mediation, when a session is scheduled for a time still to come: "
                            "date, time and place (one recorded after its time is not announced)."),
    "mediation_session_moved": N_("To both parties of a mediation, when a session is moved: the time it was set for, the new date, time and place."),
    "mediation_session_cancelled": N_("To both parties of a mediation, when a session is cancelled: which one (its date and time)."),
    "judicial_confirmation": N_("To both parties, when an agreement is signed: the 30 days to seek judicial confirmation."),
    "unit_new_case": N_("To a unit's mailbox, every sweep (5 minutes): the new cases awaiting its acceptance."),
    "unit_reminder": N_("To a unit's mailbox, every sweep: the cases due within 2 working days."),
    "unit_overdue": N_("To a unit's mailbox, every sweep: the cases past their deadline."),
    "supervision_1": N_("To the supervising units' mailboxes: overdue cases in the units they supervise (level 1)."),
    "supervision_2": N_("To the supervising units' mailboxes: cases overdue by more than 5 working days (level 2)."),
    "supervision_notice": N_("To a unit's mailbox, when a supervisor issues a 督办单 on one of its cases (or the case comes to it under one)."),
    "supervision_report": N_("To the supervisor's unit mailbox, when the unit reports on a 督办单."),
    "supervision_moved": N_("To the supervisor's unit mailbox, when a case under its 督办单 goes to another unit."),
    "review_decided_unit": N_("To the mailboxes of the units whose decision a review decided."),
    "case_urged": N_("To a unit's mailbox, when the filer urges (催办) a case past its deadline."),
    "extension_asked": N_("To a unit's mailbox, when a handler asks the unit lead to extend a case's handling time (the case number only)."),
    "respondent_statement": N_("To a mediation body's mailbox, when the respondent puts its side in writing on its page (the case number only)."),
    "reveal_requested": N_("To the mailbox of the unit holding a report, when a handler asks to see the reporter's identity: for its identity custodian (the case number only)."),
    "reveal_decided": N_("To the mailbox of the unit holding a report, when its identity custodian decides a request to see the reporter's identity: for the handler who asked (the case number only)."),
}

# placeholders a template cannot do without: the recipient needs them to look anything up. A
# text to a party keeps the site's address: the respondent has never seen the site, nor has a
# caller whose hotline filed the case, and a code without the address to use it at is useless
# (every template whose default text gives $site goes to a party; the unit digests give none)
REQUIRED: dict[str, frozenset[str]] = {
    "case_receipt": frozenset({"case_number", "query_code", SITE}),
    "verify_code": frozenset({"code"}),
    "case_update": frozenset({SITE}),
    "case_document": frozenset({SITE}),
    "respondent_invite": frozenset({"case_number", "respondent_code", SITE}),
    "mediation_ended": frozenset({SITE}),
    "mediation_session": frozenset({"case_number", "session_time", "place", SITE}),
    "mediation_session_moved": frozenset({"case_number", "old_time", "session_time", "place", SITE}),
    "mediation_session_cancelled": frozenset({"case_number", "session_time", SITE}),
}

Overrides = Mapping[tuple[str, str], tuple[str, str]]


class NoticeTemplate(Base):
    """An administrator's text for one template in one language, used instead of the default."""

    __tablename__ = "notice_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("template", "locale", name="uq_notice_template_template_locale"),)


def _locale(locale: str) -> str:
    return "en" if (locale or "").startswith("en") else "zh_CN"


# a digest lists a few case numbers; "$more_clause" says how many more there are, and nothing
# when there are none ("（另有 0 件）" was in every short digest). "$more" is the bare number.
MORE_CLAUSE = {"zh_CN": "（另有 {n} 件）", "en": " (and {n} more)"}


def render(template: str, locale: str, values: dict, overrides: Overrides | None = None, *,
           site: str = "") -> tuple[str, str]:
    """Subject and body of a notice; an administrator's override of the template in that
    language (``overrides``, from ``load_overrides``) wins over the default. ``site``: the
    address that ``$site`` stands for."""
    locale = _locale(locale)
    subject, body = (overrides or {}).get((template, locale)) or TEMPLATES[template][locale]
    filled = {SITE: site, **{k: str(v) for k, v in values.items() if k != SITE}}
    # a message queued before its text had $review_round carries no round: it names either, as its
    # text did then ("上一级已作出复查（复核）意见", "decided the review of case")
    filled.setdefault(ROUND, review_round(None, locale))
    if "more" in values:
        more = int(values["more"] or 0)
        filled["more_clause"] = MORE_CLAUSE[locale].format(n=more) if more > 0 else ""
    return Template(subject).safe_substitute(filled), Template(body).safe_substitute(filled)


def keeps_required(template: str, body: str) -> bool:
    """Whether a text keeps every placeholder its template requires (``REQUIRED``)."""
    tpl = Template(body)
    return tpl.is_valid() and REQUIRED.get(template, frozenset()) <= set(tpl.get_identifiers())


def load_overrides(session: Session) -> dict[tuple[str, str], tuple[str, str]]:
    """The administrators' texts in use. One saved before its template required a placeholder it
    lacks (the site's address, required since the respondent's invitation went out without it)
    is set aside: the default text is sent, and the list of texts shows it, until an
    administrator saves the text again with the placeholder or resets it."""
    overrides = {}
    for row in session.scalars(select(NoticeTemplate)):
        if row.template not in TEMPLATES:
            continue
        if not keeps_required(row.template, row.body):
            log.warning("notice text %s:%s lacks a placeholder it must keep (%s): the default text is used",
                        row.template, row.locale, ", ".join(sorted(REQUIRED[row.template])))
            continue
        overrides[(row.template, row.locale)] = (row.subject, row.body)
    return overrides


def placeholders(template: str) -> list[str]:
    """The placeholders a template knows: those its default texts use, in any language."""
    names: dict[str, None] = {}
    for subject, body in TEMPLATES[template].values():
        for text in (subject, body):
            names.update(dict.fromkeys(Template(text).get_identifiers()))
    if "more_clause" in names:
        names["more"] = None  # the bare number, as the texts before $more_clause had it
    return list(names)


# --- administration ------------------------------------------------------------------------------

@dataclass
class TemplateRow:
    """One template in one language as the administrator's list shows it."""

    template: str
    locale: str
    subject: str
    body: str
    default_subject: str
    default_body: str
    overridden: bool
    placeholders: list[str]
    required: list[str]


def template_rows(session: Session) -> list[TemplateRow]:
    overrides = load_overrides(session)
    rows = []
    for name, by_locale in TEMPLATES.items():
        for locale in LOCALES:
            default_subject, default_body = by_locale[locale]
            subject, body = overrides.get((name, locale), (default_subject, default_body))
            rows.append(TemplateRow(name, locale, subject, body, default_subject, default_body,
                                    (name, locale) in overrides, placeholders(name),
                                    sorted(REQUIRED.get(name, ()))))
    return rows


def template_row(session: Session, template: str, locale: str) -> TemplateRow | None:
    return next((r for r in template_rows(session) if (r.template, r.locale) == (template, locale)), None)


def check_placeholders(texts: tuple[tuple[str, str, int], ...], known, required, *, unknown: str,
                       missing: str) -> dict[str, list[Message]]:
    """An administrator's texts (field name, text, most characters) against the placeholders a
    template knows and the ones it must keep (``$name``, string.Template); errors per field.
    ``unknown`` and ``missing`` are the msgids that say so, in the words of the template's kind."""
    errors: dict[str, list[Message]] = {}
    for name, text, most in texts:
        problems: list[Message] = []
        if not 1 <= len(text) <= most:
            problems.append(Message(N_("Required, at most %(max)d characters."), {"max": most}))
        tpl = Template(text)
        if not tpl.is_valid():
            problems.append(Message(N_("A $ must start a placeholder such as $case_number; write $$ for a "
                                       "dollar sign.")))
        else:
            wrong = [p for p in dict.fromkeys(tpl.get_identifiers()) if p not in known]
            if wrong:
                problems.append(Message(unknown, {"unknown": ", ".join("$" + p for p in wrong),
                                                  "known": ", ".join("$" + p for p in known)}))
        if problems:
            errors[name] = problems
    name, body = texts[-1][0], texts[-1][1]
    if Template(body).is_valid():  # said with an unknown placeholder, not a save later
        lacking = sorted(set(required) - set(Template(body).get_identifiers()))
        if lacking:
            errors.setdefault(name, []).append(Message(missing, {"missing": ", ".join("$" + p for p in lacking)}))
    return errors


def check_text(template: str, subject: str, body: str) -> tuple[tuple[str, str] | None, dict[str, list[Message]]]:
    """Validate an override: lengths, well-formed placeholders, none the template does not
    know, the required ones kept."""
    subject, body = clean_text(subject), clean_text(body, multiline=True)
    errors = check_placeholders(
        (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)), placeholders(template),
        REQUIRED.get(template, frozenset()),
        unknown=N_("Unknown placeholders: %(unknown)s. This notice knows only: %(known)s."),
        missing=N_("The text must keep %(missing)s: the recipient needs it."))
    return (None, errors) if errors else ((subject, body), {})


def _snapshot(subject: str, body: str, overridden: bool) -> dict:
    return {"subject": subject, "body": body, "overridden": overridden}


def save_override(session: Session, actor: Actor, template: str, locale: str, subject: str, body: str) -> Change:
    """Set the override (checked by ``check_text`` first)."""
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.template == template,
                                                      NoticeTemplate.locale == locale))
    default = TEMPLATES[template][locale]
    before = _snapshot(row.subject, row.body, True) if row else _snapshot(*default, False)
    if row is None:
        row = NoticeTemplate(template=template, locale=locale)
        session.add(row)
    row.subject, row.body = subject, body
    session.flush()
    change = Change("notice_template", "updated", f"{template}:{locale}", before, _snapshot(subject, body, True))
    record(session, actor, change)
    return change


def reset_override(session: Session, actor: Actor, template: str, locale: str) -> Change | None:
    """Back to the default text; None when there was no override."""
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.template == template,
                                                      NoticeTemplate.locale == locale))
    if row is None:
        return None
    change = Change("notice_template", "reset", f"{template}:{locale}", _snapshot(row.subject, row.body, True),
                    _snapshot(*TEMPLATES[template][locale], False))
    session.delete(row)
    session.flush()
    record(session, actor, change)
    return change
