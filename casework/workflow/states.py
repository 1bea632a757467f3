"""The named groups of case states: the one place that says which states are open, whose
clock runs, which are finished, and what each desk tab shows.

Queue, sweep, statistics, retention, search, the desk and the public pages all read these;
none of them lists states of its own. ``tests/casework/test_workflow_table.py`` checks that
the groups cover every state exactly where they should (every state is open or finished,
never both; the tabs cover every state a unit can hold).
"""
from __future__ import annotations

from casework.cases.models import CaseState as S

# a case that someone still has to act on (the unit, the complainant or the sweep)
OPEN = frozenset({S.received, S.pending_acceptance, S.accepted, S.need_info, S.replied,
                  S.under_review, S.under_re_review, S.mediating})
# nothing more happens to the case; retention counts its period from here
FINISHED = frozenset({S.not_accepted, S.closed, S.withdrawn, S.mediated, S.mediation_failed})

# the clock of a stage runs, and a unit (or the triage desk) holds it
CLOCK_RUNNING = frozenset({S.received, S.pending_acceptance, S.accepted, S.under_review,
                           S.under_re_review, S.mediating})
# the clock stands still while the complainant supplies material (待补正)
PAUSED = frozenset({S.need_info})
# a passed deadline ends these instead of making them overdue: mediation ends without
# agreement (mediation_timeout); a reply not rated in time is closed (close_unrated)
ENDS_AT_DEADLINE = frozenset({S.mediating, S.replied})
# past its deadline a case in one of these is overdue (超期) and goes under supervision (督办):
# the desk's flag, the queue's filter and the sweep all use this one set
CAN_BE_OVERDUE = CLOCK_RUNNING - ENDS_AT_DEADLINE

# the complainant may still withdraw (撤回): everything before the reply
BEFORE_REPLY = frozenset({S.received, S.pending_acceptance, S.accepted, S.need_info, S.mediating})
# a reply was given (the review states keep it: the reply stands until the review decides)
REPLIED = frozenset({S.replied, S.under_review, S.under_re_review})
# the unit took the case up (accepted, or mediation started), whatever came after
TAKEN_UP = frozenset({S.accepted, S.replied, S.under_review, S.under_re_review, S.mediating, S.mediated})
# a unit (or the triage desk) has the next step
IN_HAND = OPEN - {S.replied}
# a supervisor's notice (督办单) goes to the unit that holds the next step
SUPERVISABLE = IN_HAND - {S.received}
# the mediation desk's list: a mediation body still has something to do
MEDIATION_OPEN = frozenset({S.pending_acceptance, S.accepted, S.mediating})
# a duplicate is linked to the case where the matter is (or was) dealt with: not to one that
# was closed, withdrawn or not accepted
LINK_TARGETS = frozenset(S) - {S.closed, S.withdrawn, S.not_accepted}
# the desk's "similar cases" box leaves out cases closed or withdrawn
NOT_SIMILAR = frozenset({S.closed, S.withdrawn})

# the tabs of a unit's queue, in order; "done" is every finished state
TABS: dict[str, tuple[S, ...]] = {
    "pending": (S.pending_acceptance,),
    "handling": (S.accepted, S.under_review, S.under_re_review, S.mediating),
    "need_info": (S.need_info,),
    "replied": (S.replied,),
    "done": tuple(s for s in S if s in FINISHED),
}
# the triage desk's list: cases no unit holds yet (new cases; reviews with no upper level)
TRIAGE = (S.received, S.under_review, S.under_re_review)

# a review's round as a text names it, by the state the case is in while it runs (信访工作条例
# 第三十五条 复查, 第三十六条 复核): the desk's flash (web.i18n.for_round) and the mail to the units
# whose decision it decided (casework.workflow.notices). A text that cannot tell names both, as
# the workflow table's labels do ("复查（复核）"); in English, as such a text always said, "review"
REVIEW_ROUNDS: dict[str | None, dict[str, str]] = {
    S.under_review.value: {"zh_CN": "复查", "en": "review"},
    S.under_re_review.value: {"zh_CN": "复核", "en": "re-review"},
    None: {"zh_CN": "复查（复核）", "en": "review"},
}


def review_round(state, locale: str = "zh_CN") -> str:
    """The name of the review round that runs while a case is in ``state`` (a CaseState or its
    value; the one before a move that decides it), in ``locale``: 复查 / review, 复核 / re-review;
    for any other state (or None) the name of either."""
    names = REVIEW_ROUNDS.get(getattr(state, "value", state), REVIEW_ROUNDS[None])
    return names["en" if (locale or "").startswith("en") else "zh_CN"]
