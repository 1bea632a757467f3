"""The workflow, as one table: every move a case can make, top to bottom.

Each row says from which states (``sources``) to which (``to``), the timeline event it
writes, who may make it (``who``) and on which case types, the fields it takes (checked by
the machine before the step runs), any further condition (``when``), what it does to the
stage clock, the notices it sends and the work that follows it. The step function (in
handling, mediation.moves, duplicates, supervision, reveal) does what the row cannot say in
a word.

Everything else is derived from this table: ``machine.may`` and ``available_moves`` (what the
desk, the status page, the respondent's page and the staff API offer), the desk's move forms,
the staff API's fields and its OpenAPI schema, and the tests' move × role matrix. Adding a
move is one row here plus its step; ``tests/casework/test_workflow_table.py`` fails until the
move has fields, a permission and a place in the role matrix.

Legal anchors: 信访工作条例 (2022) for acceptance, transfer, reply, review and re-review;
市场监督管理投诉举报处理办法 (2026, 市场监管总局令第121号) for complaints, reports and material requests;
人民调解法 for mediation. Time limits are rows of their own (casework.deadlines).
"""
from __future__ import annotations

from dataclasses import replace

from casework.accounts.models import Role
from casework.cases.models import CaseState as S, CaseType, EventKind as E, Finding, LEGAL_BASIS_MAX, LEGAL_BASIS_MIN, Opinion, Rating, Stage
from casework.documents.kinds import Document, reply_document, review_document
from casework.i18n import N_
from casework.mediation import moves as med
from casework.mediation.operations import store_agreement
from casework.mediation.models import Performance, RecusalDecision
from casework.workflow import contact, duplicates, handling as h, reveal, supervision
from casework.workflow.reasons import NotAcceptReason, TransferReason, not_accept_reason_fits
from casework.workflow.spec import (
    ALL_TYPES, BY_STEP, COMPLAINANT, HANDLERS, KEEP, RESPONDENT, STOP, SYSTEM, Field, Kind, Move, Notice,
    Staff, reached, start,
)
from casework.workflow.states import BEFORE_REPLY, CAN_BE_OVERDUE, OPEN, SUPERVISABLE

MEDIATION = frozenset({CaseType.mediation})
NOT_MEDIATION = ALL_TYPES - MEDIATION
REPORTS = frozenset({CaseType.report})
UNIT = Staff(HANDLERS)
LEAD = Staff(frozenset({Role.unit_lead}))


# -- the fields, by what they are for -------------------------------------------------------

EXTENSION_DAYS = Field("days", Kind.line, N_("Extend by (days)"), hi=3,
                       hint=N_("Empty: the most the law allows (30 days; a report's decision whether to open a case: "
                               "15 working days). A lead may give fewer."))

def notice(label=N_("Notice to the complainant (optional)"), *, required=False, lo=1, hi=5000, hint=None, rows=3,
           start=None):
    """A text the complainant (or the parties) will read on the status page."""
    return Field("public_text", Kind.text, label, required=required, lo=lo, hi=hi, hint=hint, rows=rows, start=start)


def internal(label=N_("Internal note"), *, required=False, lo=1, hi=5000, hint=None, rows=3):
    """A text only staff read."""
    return Field("internal_text", Kind.text, label, required=required, lo=lo, hi=hi, hint=hint, rows=rows)


def to_unit(label=N_("To unit"), check=h.unit_problem):
    return Field("unit_id", Kind.ref, label, required=True, choices="units", check=check)


REPLY_TEXT = notice(N_("Reply to the complainant"), required=True, lo=10, hi=10000, rows=8)
# files, checked by content and re-encoded without metadata like the filing form's uploads
def files(label=N_("Files (optional)")):
    return Field("files", Kind.files, label, hint=N_("Photos (JPEG, PNG, WebP) or PDF files."))


EVIDENCE_TEXT = Field("public_text", Kind.text, N_("Your statement"), lo=2, rows=4,
                      required=lambda case, values: not values.get("files"),
                      missing=N_("Write a statement or attach a file."))
# 补正: the material asked for is often a document or a photo; an answer, the files, or both
SUPPLY_TEXT = Field("public_text", Kind.text, N_("Your answer"), lo=2, rows=4,
                    required=lambda case, values: not values.get("files"),
                    missing=N_("Write an answer or attach the files asked for."))
FINDING = Field("finding", Kind.choice, N_("Finding"), choices=Finding, only=h.reply_has_finding,
                required=lambda case, values: case.type is CaseType.report,
                missing=N_("Say what the handling of the report found."),
                wrong=N_("Choose one of the listed findings."))
# a complaint's reply is its 信访处理意见书, which states the request, the facts and reasons, the
# opinion and the laws it rests on (信访工作条例 第三十二条): the opinion is one of the article's three
OPINION = Field("opinion", Kind.choice, N_("Opinion on the request"), choices=Opinion, only=h.reply_is_opinion,
                required=True, missing=N_("Say whether the request is supported, explained or not supported."),
                wrong=N_("Choose one of the listed opinions."))
BASIS = Field("legal_basis", Kind.line, N_("Laws and rules the opinion rests on"), only=h.reply_is_opinion,
              required=True, lo=LEGAL_BASIS_MIN, hi=LEGAL_BASIS_MAX,
              hint=N_("The laws, regulations or rules, with their articles. They are printed in the opinion under "
                     "\"Legal basis\"."),
              missing=N_("Name the laws or rules the opinion rests on."))

# a session to move or cancel: one still standing, not held; and the reason the parties read
SESSION_TO_CHANGE = Field("session_id", Kind.ref, N_("Session"), required=True, choices="standing_sessions",
                          check=med.changeable_problem)
# the respondent's side in writing (书面意见): its account of the dispute and what it proposes
RESPONDENT_STATEMENT = Field("statement", Kind.text, N_("Your account of the dispute and what you propose"), required=True,
                             lo=2, hi=5000, rows=8, missing=N_("Write your account of the dispute and what you propose."))

CHANGE_REASON = notice(N_("Reason (both parties are told it)"), required=True, lo=2, hi=500, rows=2)


MOVES: dict[str, Move] = {m.name: m for m in [
    # -- routing and acceptance (信访工作条例 第二十一、二十二条) ---------------------------------
    Move("route", N_("Route to a unit"), reached(S.received), reached(S.pending_acceptance), E.routed,
         who=Staff(frozenset(), unrouted=frozenset({Role.triage_operator})), step=h.route,
         fields=(to_unit(), internal(hint=N_("Staff only (optional)."))),
         # the acceptance clock runs from submission: routing late gives the unit no more time
         clock=start(Stage.acceptance, from_submission=True), notices=(Notice.complainant,), primary=True),
    # a report: the decision to open a case (立案), within 15 working days (办法 第三十五条 hands a report to
    # 市场监督管理行政处罚程序规定, whose 第十八条 sets them)
    Move("accept", N_("Accept"), reached(S.pending_acceptance), reached(S.accepted), E.accepted,
         who=UNIT, types=ALL_TYPES - {CaseType.suggestion, CaseType.mediation}, step=h.accept,
         fields=(notice(),), clock=BY_STEP, notices=(Notice.complainant,), primary=True,
         document=Document.acceptance),
    # a report accepted before `accept` told the reporter itself waits in report_notice: tell them
    # (暂行办法 第三十一条, repealed 2026-04-15: within 5 working days of the decision); no case enters
    # that stage any more
    Move("notify_reporter", N_("Tell the reporter the decision"), reached(S.accepted), frozenset(), E.note,
         who=UNIT, types=REPORTS, step=h.notify_reporter, when=h.reporter_to_tell,
         fields=(notice(N_("The decision, as the reporter is told it"), required=True, lo=5),),
         clock=BY_STEP, notices=(Notice.complainant,), primary=True),
    Move("not_accept", N_("Do not accept"), reached(S.pending_acceptance), reached(S.not_accepted), E.not_accepted,
         who=Staff(HANDLERS, lead_when=lambda unit: unit.lead_approves_not_accept),
         types=ALL_TYPES - {CaseType.suggestion}, step=h.not_accept,
         fields=(Field("reason", Kind.choice, N_("Reason"), required=True, choices=NotAcceptReason,
                       offered=not_accept_reason_fits),
                 notice(N_("Notice to the complainant"), required=True, lo=5,
                        hint=N_("Tell the complainant why, and where they can turn instead."), rows=4)),
         clock=STOP, notices=(Notice.complainant,), document=Document.non_acceptance),
    Move("transfer", N_("Transfer"), reached(S.pending_acceptance, S.accepted), reached(S.pending_acceptance),
         E.transferred, who=UNIT, step=h.transfer,
         fields=(to_unit(check=h.transfer_unit_problem),
                 Field("reason", Kind.choice, N_("Reason"), required=True, choices=TransferReason),
                 notice(),
                 internal(required=lambda case, values: values.get("reason") == TransferReason.other.value,
                          hint=N_("Staff only. Required when the reason is “Other”."))),
         # the clock keeps running: a transfer gives the next unit no new time
         clock=KEEP, notices=(Notice.complainant, Notice.supervision_follows), document=Document.transfer),
    Move("send_back", N_("Send back to the transferring unit"), reached(S.pending_acceptance),
         reached(S.pending_acceptance), E.sent_back, who=UNIT, step=h.send_back, when=h.came_by_transfer,
         fields=(internal(N_("Why this unit is not competent"), required=True, lo=5, rows=4),),
         notices=(Notice.supervision_follows,)),
    # -- material (办法 第十、十六条): the clock stands still until the complainant answers ------------
    Move("request_info", N_("Ask for missing material"), reached(S.pending_acceptance, S.accepted),
         reached(S.need_info), E.info_requested, who=UNIT, types=NOT_MEDIATION, step=h.request_info,
         fields=(notice(N_("What the complainant should supply"), required=True, lo=5, rows=4),),
         notices=(Notice.complainant,)),
    Move("supply_info", N_("Send the material asked for"), reached(S.need_info),
         reached(S.pending_acceptance, S.accepted), E.info_supplied, who=COMPLAINANT, step=h.supply_info,
         fields=(SUPPLY_TEXT, files(N_("The files asked for (optional)")))),
    # the material time limit lapsed: not accepted (办法 第十六条第五项), the written notice
    # (the step's text) says why and how to file again
    Move("close_material_lapsed", N_("Not accepted: the material was not supplied in time"), reached(S.need_info),
         reached(S.not_accepted), E.not_accepted, who=SYSTEM, types=NOT_MEDIATION, step=h.close_material_lapsed,
         when=h.material_lapsed_before_acceptance, clock=STOP, notices=(Notice.complainant,),
         document=Document.non_acceptance),
    # asked for after acceptance: the case was accepted and is not "not accepted" afterwards; the
    # handling goes on with what is at hand, its clock running again
    Move("material_lapsed_handling_goes_on", N_("Handling goes on: the material was not supplied in time"),
         reached(S.need_info), reached(S.accepted), E.resumed, who=SYSTEM, types=NOT_MEDIATION,
         step=h.go_on_without_material, when=h.material_lapsed_after_acceptance, clock=BY_STEP,
         notices=(Notice.complainant,)),
    # -- handling and reply (信访工作条例 第三十二、三十四条) ---------------------------------------
    Move("assign", N_("Assign"), reached(S.pending_acceptance, S.accepted, S.need_info, S.mediating), frozenset(),
         E.assigned, who=UNIT, step=h.assign,
         fields=(Field("handler_id", Kind.ref, N_("Handler"), required=True, choices="handlers"),)),
    Move("note", N_("Internal note"), frozenset(S), frozenset(), E.note, who=UNIT, step=h.note,
         fields=(internal(N_("Note (staff only)"), required=True),)),
    # once: the handling time (第三十四条), or a report's decision whether to open a case
    Move("extend", N_("Extend the handling time (unit lead)"), reached(S.pending_acceptance, S.accepted, S.mediating), frozenset(),
         E.extended, who=LEAD, step=h.extend, when=h.extendable,
         fields=(replace(EXTENSION_DAYS, start=h.asked_extension_days),
                 notice(N_("Reason for the extension (told to the complainant)"), required=True, lo=5,
                        start=h.asked_extension_reason)),
         notices=(Notice.complainant,)),  # 第三十四条: 并告知信访人延期理由
    # 第三十四条: 经本机关、单位负责人批准: a handler asks its lead, who decides with ``extend``
    Move("ask_extension", N_("Ask the unit lead to extend the handling time"),
         reached(S.pending_acceptance, S.accepted, S.mediating), frozenset(), E.note,
         who=Staff(frozenset({Role.handler})), step=h.ask_extension, when=h.extension_askable,
         fields=(EXTENSION_DAYS,
                 internal(N_("Why the case needs longer (the lead reads it; it is offered as the reason told to "
                             "the complainant if the lead extends)"), required=True, lo=10, rows=3)),
         notices=(Notice.unit_extension_asked,)),
    Move("suspend", N_("Pause the clock for a test or appraisal"), reached(S.accepted), frozenset(), E.suspended,
         who=UNIT, types=NOT_MEDIATION, step=h.suspend, when=h.clock_running,
         fields=(notice(N_("What is being tested or appraised (told to the complainant)"), required=True, lo=5),)),
    # 复核 may hold a hearing, whose time is not counted in its 30 days (信访工作条例 第三十六条第二款)
    Move("hold_hearing", N_("Pause the clock for a hearing (听证)"), reached(S.under_re_review), frozenset(),
         E.suspended, who=UNIT, types=frozenset({CaseType.complaint}), step=h.hearing, when=h.clock_running,
         fields=(notice(N_("The hearing: when, where and who takes part (told to the complainant)"), required=True,
                        lo=5),),
         notices=(Notice.complainant,)),
    Move("resume", N_("Restart the clock"), reached(S.accepted, S.under_re_review), frozenset(), E.resumed,
         who=UNIT, types=NOT_MEDIATION, step=h.resume, when=h.clock_paused, fields=(notice(),)),
    # a complaint then waits for review (30 days) and rating (15); a report's reply closes it
    Move("reply", N_("Reply"), reached(S.accepted), reached(S.replied, S.closed), E.replied,
         who=UNIT, types=NOT_MEDIATION, step=h.reply,
         fields=(REPLY_TEXT, FINDING, OPINION, BASIS, files(N_("Documents for the complainant (optional)"))),
         clock=BY_STEP, notices=(Notice.complainant,), primary=True, document=reply_document),
    # a supported request is carried out (信访工作条例 第三十二条第二款: 应当督促有关机关、单位执行): what was
    # done, told to the complainant, as often as there is something to report; no state change
    Move("record_execution", N_("Report on carrying out the supported request"), reached(S.replied, S.closed),
         frozenset(), E.note, who=UNIT, types=frozenset({CaseType.complaint}), step=h.execution, when=h.supported,
         fields=(notice(N_("What was done to carry out the request (told to the complainant)"), required=True, lo=5,
                        rows=4),
                 files(N_("Documents for the complainant (optional)"))),
         notices=(Notice.complainant,)),
    Move("acknowledge_reply", N_("Answer the suggestion"), reached(S.pending_acceptance), reached(S.replied),
         E.replied, who=UNIT, types=frozenset({CaseType.suggestion}), step=h.reply,
         fields=(REPLY_TEXT, files(N_("Documents for the complainant (optional)"))),
         clock=BY_STEP, notices=(Notice.complainant,), primary=True),
    Move("link_duplicate", N_("Mark as a duplicate"), reached(S.received, S.pending_acceptance, S.accepted),
         reached(S.closed), E.linked, who=Staff(HANDLERS, unrouted=frozenset({Role.triage_operator})),
         step=duplicates.link,
         fields=(Field("duplicate_of", Kind.line, N_("Number of the case where the matter is handled"),
                       required=True, hi=40),
                 notice(hi=1000, hint=N_("If left empty, the complainant is told which case handles the matter."))),
         clock=STOP, notices=(Notice.complainant,)),
    # a report with new facts by the same reporter on the same association is merged into the
    # earlier report, whose time limit runs again from its receipt (办法 第三十五条); the same facts
    # again are a duplicate (link_duplicate: 不再另行处理)
    Move("merge_report", N_("Merge into the earlier report (new facts)"), reached(S.pending_acceptance, S.accepted),
         reached(S.closed), E.linked, who=Staff(HANDLERS), types=frozenset({CaseType.report}), step=duplicates.merge,
         fields=(Field("merge_into", Kind.line, N_("Number of the earlier report by the same reporter"),
                       required=True, hi=40,
                       hint=N_("The same reporter (matched by the verified phone number, without showing it) on the "
                               "same association. Its time limit runs again from this report's receipt.")),
                 notice(hi=1000, hint=N_("If left empty, the reporter is told which report handles the new facts."))),
         clock=STOP, notices=(Notice.complainant,)),
    # -- the complainant after filing: more evidence, and 催办 once the deadline has passed ------
    # (a reporter, anonymous or not, too); the handler's queue marks both until staff act
    Move("add_evidence", N_("Add evidence or a statement"), OPEN, frozenset(), E.evidence_added,
         who=COMPLAINANT, step=h.add_evidence, when=h.evidence_open, fields=(EVIDENCE_TEXT, files())),
    Move("urge", N_("Urge the unit (催办)"), CAN_BE_OVERDUE, frozenset(), E.urged, who=COMPLAINANT,
         step=h.urge, when=h.urgeable,
         fields=(notice(N_("Message to the unit (optional)"), hi=500, rows=2),),
         notices=(Notice.unit_urged,)),
    # -- the complainant's answer to the reply: rating, review, re-review (第三十五、三十六条) ------
    Move("withdraw", N_("Withdraw"), BEFORE_REPLY, reached(S.withdrawn), E.withdrawn, who=COMPLAINANT,
         types=ALL_TYPES - REPORTS, step=h.withdraw, fields=(notice(N_("Reason (optional)"), hi=1000, rows=2),),
         clock=STOP),
    # a reporter's withdrawal is recorded; the unit decides whether the handling goes on
    Move("withdraw_report", N_("Withdraw"), BEFORE_REPLY, frozenset(), E.withdrawn, who=COMPLAINANT,
         types=REPORTS, step=h.note, when=h.not_withdrawn_yet,
         fields=(notice(N_("Reason (optional)"), hi=1000, rows=2),)),
    # rated: closed, unless dissatisfied while a review can still be asked for (the step decides)
    # no rating and no review of a report (办法 第三十五、三十六条; 信访工作条例 第三十一条)
    Move("rate", N_("Rate the reply"), reached(S.replied), reached(S.closed, S.replied), E.rated, who=COMPLAINANT,
         types=frozenset({CaseType.complaint, CaseType.suggestion}), step=h.rate, when=h.rating_open, fields=(Field("rating", Kind.choice, N_("How satisfied are you with the reply?"), required=True, choices=Rating,
                                    missing=N_("Choose how satisfied you are."), wrong=N_("Choose how satisfied you are.")),
                              notice(N_("Comment (optional)"), hi=1000)), clock=BY_STEP),
    # the first request opens the review (复查), the second the re-review (复核), each decided one
    # level above the unit that decided last (第三十五、三十六条)
    Move("request_review", N_("Ask for a review"), reached(S.replied), reached(S.under_review, S.under_re_review),
         E.review_requested, who=COMPLAINANT, types=frozenset({CaseType.complaint}), step=h.request_review,
         when=h.review_open, fields=(notice(N_("Why you are not satisfied"), required=True, lo=5, rows=4),),
         clock=BY_STEP),
    # a review decision goes back to the complainant; a re-review decision is final
    # with no upper level configured, the platform's triage names the deciding body
    Move("route_review", N_("Name the body that decides the review"), reached(S.under_review, S.under_re_review),
         frozenset(), E.routed, who=Staff(frozenset(), unrouted=frozenset({Role.triage_operator})),
         types=frozenset({CaseType.complaint}), step=h.route_review, when=h.review_to_route,
         fields=(to_unit(check=h.review_unit_problem), internal(hint=N_("Staff only (optional)."))),
         notices=(Notice.complainant,), primary=True),
    # a decision is again an opinion on the request, one of 第三十二条's three with the laws it rests
    # on (the articles on 复查 and 复核, 第三十五、三十六条, do not list its parts: docs/legal.md, "Unsure").
    # It is the deciding body's own (第三十五条: 提出复查意见; 第三十六条: 提出复核意见): its form starts
    # empty, never from the decision under review, which the desk shows above it for reference
    # (a reviewer who typed only the text issued the lower body's articles as their own)
    Move("decide_review", N_("Decide the review"), reached(S.under_review, S.under_re_review),
         reached(S.replied, S.closed), E.review_decided, who=UNIT, step=h.decide_review, when=h.not_own_decision,
         fields=(notice(N_("Review decision (told to the complainant)"), required=True, lo=10, hi=10000, rows=8),
                 FINDING, OPINION, BASIS),
         clock=BY_STEP, notices=(Notice.complainant, Notice.deciding_units), document=review_document),
    Move("close_unrated", N_("Close: rating window lapsed"), reached(S.replied), reached(S.closed), E.closed,
         who=SYSTEM, step=h.close_unrated, when=h.rating_lapsed, clock=STOP),
    # -- supervision (督办) and a report's identity: no change of state -------------------------
    Move("issue_supervision", N_("Issue a supervision notice (督办单)"), SUPERVISABLE, frozenset(), E.supervised,
         who=Staff(frozenset(), anywhere=frozenset({Role.supervisor})), step=supervision.issue,
         # the rule said before it is broken (supervision.MAX_DAYS: 90)
         fields=(Field("respond_by", Kind.date, N_("Act and report by"), required=True,
                       hint=N_("A date after today, at most 90 days ahead."), check=supervision.respond_by_problem),
                 internal(N_("Instructions to the unit (staff only)"), required=True, lo=5, hi=2000, rows=4)),
         notices=(Notice.unit_supervision,)),
    # the unit's written report on it, by its date (信访工作条例 第四十条: 书面反馈)
    Move("report_supervision", N_("Report on the supervision notice"), frozenset(S), frozenset(), E.note,
         who=UNIT, step=supervision.report, when=supervision.awaiting_report,
         fields=(internal(N_("What was done, for the supervisor (staff only)"), required=True, lo=5, hi=5000,
                          rows=5),),
         notices=(Notice.supervisor_report,)),
    Move("request_reveal", N_("Request to see the reporter's identity"), frozenset(S), frozenset(),
         E.reveal_requested, who=UNIT, types=REPORTS, step=reveal.request, when=reveal.identity_held,
         when_actor=reveal.nothing_to_ask_yet,  # not while one's own request waits, or one's approval runs
         fields=(Field("reason", Kind.text, N_("Why you need to see it (at least 10 characters; the custodian and the audit trail see it)"),
                       required=True, lo=reveal.REASON_MIN, hi=1000),),
         own_page=True),
    Move("decide_reveal", N_("Decide a request to see the reporter's identity"), frozenset(S), frozenset(),
         E.reveal_decided, who=Staff(frozenset({Role.custodian})), types=REPORTS, step=reveal.decide,
         when_actor=reveal.request_to_decide,  # a request waits that is not one's own
         fields=(Field("request_id", Kind.ref, N_("Request"), required=True, choices="reveal_requests"),
                 Field("decision", Kind.choice, N_("Decision"), required=True, choices=reveal.Decision,
                       wrong=N_("Choose approve or deny.")),
                 Field("note", Kind.text, N_("Note"), required=True, lo=2, hi=1000)),
         own_page=True),
    # the contact details of a complaint, mediation or suggestion in clear, to phone the parties:
    # a reason, an internal event and an audit entry (casework.workflow.contact)
    Move("reveal_contact", N_("Show contact details"), frozenset(S), frozenset(), E.contact_viewed,
         who=UNIT, types=ALL_TYPES - REPORTS, step=contact.reveal, when=contact.contact_held,
         fields=(Field("reason", Kind.text, N_("Why you need them (at least 5 characters, e.g. to phone the person who filed to check a fact; the audit trail keeps it)"),
                       required=True, lo=contact.REASON_MIN, hi=500, rows=2),),
         own_page=True),
    # -- mediation (人民调解法 第十七、二十三、二十九、三十一、三十三条; 办法 第十九至二十一条) ------
    Move("accept_mediation", N_("Accept the mediation request"), reached(S.pending_acceptance), reached(S.accepted),
         E.accepted, who=UNIT, types=MEDIATION, step=med.accept_mediation, fields=(notice(N_("Notice to the applicant (optional)")),),
         # the 60 days run from acceptance (办法 第二十三条); the respondent has its own
         # time to answer (mediation_answer), after which silence is refusal (mediation_no_answer)
         clock=start(Stage.mediation), notices=(Notice.complainant, Notice.respondent_invite), primary=True,
         hint=N_("The respondent gets its own answer code (shown once on the next page, and sent to its phone if one was given). Mediation starts when it agrees.")),
    Move("record_consent", N_("Record the respondent's consent"), reached(S.accepted), reached(S.mediating),
         E.mediation_started, who=UNIT, types=MEDIATION, step=med.consent,
         fields=(notice(N_("How the respondent answered (the parties see it; optional)"), hi=1000),),
         clock=KEEP),
    Move("respondent_consent", N_("Agree to mediation"), reached(S.accepted), reached(S.mediating),
         E.mediation_started, who=RESPONDENT, types=MEDIATION, step=med.consent,
         fields=(notice(N_("Comment (optional)"), hi=1000),), clock=KEEP),
    Move("record_refusal", N_("Record that the respondent refused"), reached(S.accepted), reached(S.mediation_failed),
         E.mediation_ended, who=UNIT, types=MEDIATION, step=med.refuse,
         fields=(notice(N_("How the respondent answered (the parties see it; optional)"), hi=1000),),
         clock=STOP, notices=(Notice.mediation_ended,)),
    Move("respondent_refuse", N_("Refuse mediation"), reached(S.accepted), reached(S.mediation_failed),
         E.mediation_ended, who=RESPONDENT, types=MEDIATION, step=med.refuse,
         fields=(notice(N_("Reason (optional)"), hi=1000, rows=2),),
         clock=STOP, notices=(Notice.mediation_ended,)),
    # silence by the respondent's deadline counts as refusal (人民调解法 第十七条); the applicant is
    # told the other routes
    Move("mediation_no_answer", N_("End: the respondent did not answer in time"), reached(S.accepted),
         reached(S.mediation_failed), E.mediation_ended, who=SYSTEM, types=MEDIATION, step=med.no_answer,
         when=med.no_answer_due, clock=STOP, notices=(Notice.mediation_ended,)),
    # either party may end mediation at any time (人民调解法 第二十三条 (二))
    Move("end_mediation", N_("End the mediation"), reached(S.accepted, S.mediating), reached(S.mediation_failed),
         E.mediation_ended, who=COMPLAINANT, types=MEDIATION, step=med.party_end,
         fields=(notice(N_("Reason (optional)"), hi=1000, rows=2),), clock=STOP, notices=(Notice.mediation_ended,)),
    Move("respondent_end_mediation", N_("End the mediation"), reached(S.mediating), reached(S.mediation_failed),
         E.mediation_ended, who=RESPONDENT, types=MEDIATION, step=med.party_end,
         fields=(notice(N_("Reason (optional)"), hi=1000, rows=2),), clock=STOP, notices=(Notice.mediation_ended,)),
    # a party may ask for a mediator's recusal (回避): mediation is suspended, its clock paused, until
    # the coordinator decides (办法 第二十一条; 人民调解法 第二十三条 (一))
    Move("request_recusal", N_("Ask for a mediator's recusal"), reached(S.mediating), frozenset(), E.note,
         who=COMPLAINANT, types=MEDIATION, step=med.request_recusal, when=med.no_recusal_pending,
         fields=(notice(N_("Which mediator, and why"), required=True, lo=5, hi=1000, rows=3),)),
    Move("respondent_request_recusal", N_("Ask for a mediator's recusal"), reached(S.mediating), frozenset(), E.note,
         who=RESPONDENT, types=MEDIATION, step=med.request_recusal, when=med.no_recusal_pending,
         fields=(notice(N_("Which mediator, and why"), required=True, lo=5, hi=1000, rows=3),)),
    # the respondent puts its side in writing, as often as it has more to say (each kept, dated);
    # staff read it, the applicant does not: the mediator hears each party and decides what to put
    # to the other in a session (人民调解法 第二十二条; 第二十三条 (四): 自主表达意愿)
    Move("respondent_statement", N_("Put your side in writing"), reached(S.mediating), frozenset(), E.note,
         who=RESPONDENT, types=MEDIATION, step=med.respondent_statement,
         fields=(RESPONDENT_STATEMENT, files()), notices=(Notice.unit_respondent_statement,)),
    Move("decide_recusal", N_("Decide the request for recusal"), reached(S.mediating), frozenset(), E.note,
         who=UNIT, types=MEDIATION, step=med.decide_recusal, when=med.recusal_pending,
         fields=(Field("decision", Kind.choice, N_("Decision"), required=True, choices=RecusalDecision,
                       wrong=N_("Choose one of the listed decisions.")),
                 Field("user_id", Kind.ref, N_("Mediator who steps aside (when granted)"), choices="mediators",
                       check=med.mediator_problem),
                 notice(N_("Decision as the parties are told it"), required=True, lo=5, hi=1000),
                 internal(N_("Reason (staff only)"), hi=300, rows=2)),
         notices=(Notice.complainant,), primary=True),
    # time for appraisal or testing (鉴定、检测) is not counted in the 60 days (办法 第二十二条)
    Move("suspend_mediation", N_("Pause the clock for testing or appraisal"), reached(S.accepted, S.mediating),
         frozenset(), E.suspended, who=UNIT, types=MEDIATION, step=med.suspend, when=h.clock_running,
         fields=(notice(N_("What is being tested or appraised (the parties see it)"), required=True, lo=5),)),
    Move("resume_mediation", N_("Restart the clock"), reached(S.accepted, S.mediating), frozenset(), E.resumed,
         who=UNIT, types=MEDIATION, step=med.resume, when=med.appraisal_paused, fields=(notice(),)),
    Move("schedule_session", N_("Schedule a session"), reached(S.mediating), frozenset(), E.session_logged,
         who=UNIT, types=MEDIATION, step=med.schedule, when=med.no_recusal_pending,
         fields=(Field("scheduled_at", Kind.datetime, N_("Date and time (Beijing time)"), required=True,
                       # the browser's own picker shows its own format: the typed form is for one without
                       hint=N_("Typed without a date picker: YYYY-MM-DD HH:MM."), check=med.scheduled_at_problem),
                 Field("place", Kind.line, N_("Place, or the meeting link"), required=True, lo=2, hi=200),
                 Field("online", Kind.flag, N_("Online session"))),
         # both parties: when and where (人民调解法 sets no notice period), for a session still to come;
         # one entered at or after its time (recorded after the fact) is announced to nobody
         notices=(Notice.mediation_session,)),
    Move("log_session", N_("Log a session"), reached(S.mediating), frozenset(), E.session_logged,
         who=UNIT, types=MEDIATION, step=med.log_session, when=med.session_to_log,
         fields=(Field("session_id", Kind.ref, N_("Session"), required=True, choices="sessions",
                       check=med.session_problem),
                 Field("attendees", Kind.line, N_("Attendees"), required=True, lo=2, hi=500),
                 Field("summary", Kind.text, N_("Summary (the parties see it)"), required=True, lo=5, rows=4),
                 internal(N_("Internal notes (staff only)")))),
    # a session moved to a new time or place, or called off, each with the reason both parties are
    # told as they were told of the session (人民调解法 sets no notice of a session's time and place,
    # nor of a change to it: the platform's rule, as for scheduling); a session that no longer
    # stands is not one to log
    Move("move_session", N_("Move a session"), reached(S.mediating), frozenset(), E.session_logged,
         who=UNIT, types=MEDIATION, step=med.move_session, when=med.session_to_change,
         fields=(SESSION_TO_CHANGE,
                 Field("scheduled_at", Kind.datetime, N_("New date and time (Beijing time)"), required=True,
                       hint=N_("Typed without a date picker: YYYY-MM-DD HH:MM."), check=med.new_time_problem),
                 Field("place", Kind.line, N_("New place, or the meeting link (empty: the same place)"), lo=2, hi=200),
                 Field("online", Kind.flag, N_("Online session (with a new place)")),
                 CHANGE_REASON),
         notices=(Notice.mediation_session,)),
    Move("cancel_session", N_("Cancel a session"), reached(S.mediating), frozenset(), E.session_logged,
         who=UNIT, types=MEDIATION, step=med.cancel_session, when=med.session_to_change,
         fields=(SESSION_TO_CHANGE, CHANGE_REASON),
         notices=(Notice.mediation_session,)),
    Move("recuse", N_("Mark a mediator as conflicted (回避)"), reached(S.pending_acceptance, S.accepted, S.mediating),
         frozenset(), E.note, who=UNIT, types=MEDIATION, step=med.recuse,
         fields=(Field("user_id", Kind.ref, N_("Mediator"), required=True, choices="mediators",
                       check=med.mediator_problem),
                 internal(N_("Reason (staff only)"), required=True, lo=2, hi=300, rows=2,
                          hint=N_("For example: related to a party, or a member of the respondent company.")))),
    # the 调解协议书's content (人民调解法 第二十九条); it takes effect when signed (record_signing);
    # only after a session was held (a product rule: the law names no such step), not during a recusal request
    Move("record_agreement", N_("Record the written agreement (调解协议书)"), reached(S.mediating), reached(S.mediated),
         E.mediation_ended, who=UNIT, types=MEDIATION, step=med.agreement, when=med.agreement_ready,
         # the parties' numbers and the deadline are checked with the other fields (all errors at once)
         fields=(Field("applicant_id", Kind.line, N_("Applicant: ID number or unified social credit code"), required=True, lo=6, hi=30,
                       check=med.party_id_problem),
                 Field("applicant_address", Kind.line, N_("Applicant: address"), required=True, lo=4, hi=200),
                 Field("applicant_agent", Kind.line, N_("Applicant: legal representative or agent (if any)"), hi=100),
                 Field("respondent_id", Kind.line, N_("Respondent: ID number or unified social credit code"), required=True, lo=6, hi=30,
                       check=med.party_id_problem),
                 Field("respondent_address", Kind.line, N_("Respondent: address"), required=True, lo=4, hi=200),
                 Field("respondent_agent", Kind.line, N_("Respondent: legal representative or agent (if any)"), hi=100),
                 Field("facts", Kind.text, N_("Main facts of the dispute"), required=True, lo=10, rows=5),
                 Field("issues", Kind.text, N_("The matters in dispute"), required=True, lo=4, rows=3),
                 Field("liability", Kind.text, N_("Each party's responsibility"), required=True, lo=4, rows=3),
                 Field("terms", Kind.text, N_("Agreed terms, one per line"), required=True, lo=10, rows=6,
                       hint=N_("Each line becomes a numbered term of the mediation agreement.")),
                 Field("performance_method", Kind.text, N_("How the agreement is performed"), required=True, lo=4, hi=1000, rows=2),
                 Field("performance_due", Kind.date, N_("Performance deadline"), required=True,
                       check=med.performance_due_problem)),
         clock=STOP, notices=(Notice.mediation_ended,),
         # the 调解协议书 is made in the same transaction: no agreement without its document
         followup=store_agreement,
         followup_error=N_("The mediation agreement document could not be produced, so the agreement was not recorded. Please try again or tell the platform's administrator.")),
    # before a 人民调解委员会 the parties may agree orally; the mediator records the content, and it
    # takes effect when reached (人民调解法 第二十八、三十条): no document, no signing
    Move("record_oral_agreement", N_("Record an oral agreement"), reached(S.mediating), reached(S.mediated),
         E.mediation_ended, who=UNIT, types=MEDIATION, step=med.oral_agreement, when=med.oral_agreement_ready,
         fields=(Field("terms", Kind.text, N_("What the parties agreed, one term per line"), required=True, lo=10, rows=6),
                 Field("performance_method", Kind.text, N_("How the agreement is performed"), required=True, lo=4, hi=1000, rows=2),
                 Field("performance_due", Kind.date, N_("Performance deadline (if one was agreed)"), hint=N_("YYYY-MM-DD"),
                       check=med.performance_due_problem),
                 Field("confirmed", Kind.flag, N_("The parties agreed orally and saw no need for a written agreement"),
                       required=True, missing=N_("Confirm that the parties agreed orally and saw no need for a written agreement."))),
         clock=BY_STEP, notices=(Notice.mediation_ended, Notice.judicial_confirmation)),
    Move("record_no_agreement", N_("Record that no agreement was reached"), reached(S.mediating),
         reached(S.mediation_failed), E.mediation_ended, who=UNIT, types=MEDIATION, step=med.no_agreement,
         when=med.no_recusal_pending,
         fields=(notice(N_("Advice to the parties on arbitration or litigation"), required=True, lo=10, rows=5),),
         clock=STOP, notices=(Notice.mediation_ended,)),
    Move("mediation_timeout", N_("End: mediation time limit passed"), reached(S.mediating),
         reached(S.mediation_failed), E.mediation_ended, who=SYSTEM, types=MEDIATION, step=med.timeout,
         when=med.timed_out, clock=STOP, notices=(Notice.mediation_ended,)),
    # the agreement takes effect when the parties have signed, sealed or fingerprinted it and the
    # mediator signed and the body sealed it (人民调解法 第二十九条); 司法确认 within 30 days of
    # that day (第三十三条); the follow-up on performance is scheduled after its deadline
    Move("record_signing", N_("Record the signing of the agreement"), reached(S.mediated), frozenset(),
         E.note, who=UNIT, types=MEDIATION, step=med.signing, when=med.not_signed,
         fields=(Field("signed_on", Kind.date, N_("Date the agreement was signed and sealed"), required=True,
                       hint=N_("YYYY-MM-DD"), check=med.signed_on_problem),
                 Field("confirmed", Kind.flag, N_("The parties signed, sealed or fingerprinted it, the mediator signed it and the body sealed it"),
                       required=True, missing=N_("Confirm that the parties and the mediator signed and the body sealed the agreement."))),
         clock=BY_STEP, notices=(Notice.judicial_confirmation,), primary=True),
    # the follow-up on performance (回访; 人民调解法 第三十一条); the sweep reminds when it is due
    Move("record_followup", N_("Record the follow-up on performance"), reached(S.mediated), frozenset(),
         E.note, who=UNIT, types=MEDIATION, step=med.followup, when=med.signed,
         fields=(Field("performance", Kind.choice, N_("Was the agreement performed?"), required=True, choices=Performance,
                       wrong=N_("Choose one of the listed answers.")),
                 notice(N_("Note to the parties (optional)"), hi=1000),
                 internal(N_("Internal notes (staff only)")))),
]}


# the events that bring files: those of the moves with a files field (evidence after filing, the
# material asked for, a reply's documents); the timelines list their files
FILE_EVENTS = frozenset(m.event for m in MOVES.values() if any(f.kind is Kind.files for f in m.fields))
