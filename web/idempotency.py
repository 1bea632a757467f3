"""Idempotency-Key for the APIs that file cases (the JSON API and Open311), and for the staff
API's moves (web.desk_api.views, casework.idempotency: the same key and request answer what the
move made; another request under the key is refused as here, 422).

A client retrying a filing sends the same key and gets the first receipt back (with the query
code within the receipt's minutes), never a second case. The key is bound to the request: a
replay must send the same body (casework.intake.operations.request_digest), another body under
the key is answered 422, so a key seen in a log or a proxy does not hand the case number and
query code to anyone. Keys must be long enough to be unguessable (32 to 64 characters: a UUID,
or 128 random bits in hex or base64url), and replays of one key are throttled in the shared
limiter storage (issue 17, item 6)."""
from __future__ import annotations

import hashlib
import re

from flask import after_this_request
from limits import parse

from casework.i18n import N_
from web.extensions import limiter

KEY = re.compile(r"^[A-Za-z0-9_.:-]{32,64}$")
PATTERN = KEY.pattern
KEY_HINT = N_("Use 32 to 64 letters, digits or -_.: characters: a random value of at least 128 bits, such as a UUID.")
REUSED = N_("This Idempotency-Key was used for a different request. Send the same request again to get its "
            "receipt, or use a new key for a new case.")
STAFF_REUSED = N_("This Idempotency-Key was used for a different request. Send the same request again to get "
                  "its answer, or use a new key for a new request.")
REPLAY_LIMIT = parse("10 per 10 minutes")
REPLAYED = {"Idempotent-Replayed": "true"}  # the header of an answer given again


def _limit_key(scoped_key: str) -> str:
    return "idem:" + hashlib.sha256(scoped_key.encode()).hexdigest()[:32]


def retry_after(scoped_key: str) -> int:
    """Seconds until a key whose replays are used up replays again (its Retry-After)."""
    import time

    reset = limiter.limiter.get_window_stats(REPLAY_LIMIT, _limit_key(scoped_key)).reset_time
    return max(1, int(reset - time.time()) + 1)


def replay_refused(scoped_key: str) -> bool:
    """Count one more use of an existing key (after the request's transaction, as every limit
    that lives in the database); True when its replays are used up for now."""
    key = _limit_key(scoped_key)

    @after_this_request
    def count(response):
        limiter.limiter.hit(REPLAY_LIMIT, key)
        return response

    return not limiter.limiter.test(REPLAY_LIMIT, key)
