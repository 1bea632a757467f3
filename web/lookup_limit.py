"""Wrong query codes, counted per case number and refused past the budget: the limit of every view
that takes a case number and its code (the status page's and the respondent's forms, the case
API, Open311's status).

The rule (docs/security.md): only failures count and only failures are refused, so a right code
always answers. A request whose code is right never touches the counter; a wrong one is refused
(its view's ``refused`` answer, 429) once the number's budget is used up, and otherwise goes to the
view, whose 404 is counted after the request's own transaction has ended.

The counting is `limits`' fixed window through Flask-Limiter's storage (``limiter.limiter``, the
database or Redis, casework.ratelimit and web.extensions), under the same keys as
``limiter.shared_limit(..., deduct_when=404, exempt_when=right code)`` made them, which these views
used before. That decorator resolved, parsed and filtered the route's limits on every request
before it asked whether the code was right: 0.4 of the case API's 2.3 ms in one process (issue
18), for a request that is never counted. Here a right code costs the lookup the view makes anyway
(its case is kept in the session for the view) and nothing else.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from flask import after_this_request
from limits import RateLimitItem, parse

from web.extensions import limiter
from web.requestdb import services


@dataclass(frozen=True)
class Breach:
    """What a view's ``refused`` is given: when the number's window ends (seconds since the epoch)."""

    reset_at: float


@functools.lru_cache(maxsize=8)
def _item(text: str) -> RateLimitItem:
    return parse(text)  # "10 per 10 minutes", CHANGTONG_LOOKUP_LIMIT


def failures_limited(*, scope: str, key: Callable[[], str], right_code: Callable[[], bool],
                     refused: Callable[[Breach], object]):
    """Decorate a lookup view. ``key``: the number's counter (web.public.opened.lookup_key, one
    budget per number whichever way it is asked); ``scope``: the way in ("lookup" for the pages
    and Open311, "api-lookup" for the case API); ``right_code``: whether the request's number and
    code match (the view's own lookup, cached for it); ``refused``: the answer past the budget."""
    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            if not limiter.enabled or right_code():
                return view(*args, **kwargs)
            item, ids, strategy = _item(services().settings.lookup_limit), (key(), scope), limiter.limiter
            if not strategy.test(item, *ids):
                return refused(Breach(strategy.get_window_stats(item, *ids).reset_time))

            @after_this_request
            def count(response):  # also the 404 of an abort or an error handler
                if response.status_code == 404:
                    strategy.hit(item, *ids)
                return response

            return view(*args, **kwargs)

        return limited

    return decorate
