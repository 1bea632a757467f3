"""A party's move refused (the status page's and the respondent's page's forms), as Post/Redirect/Get.

A refused send (a field's error, the box not ticked, the party's own code in the text, a move the
case no longer takes) does not answer its POST with the page: back or a reload would ask to send
the form again. What was typed, with the errors (a file's error names the file), is kept encrypted
as a draft (casework.intake.drafts) under a random token for a few minutes; this browser's signed
session (signed, not secret) holds only the token, the page's scope, the move and the status to
answer with. The POST answers 303 See Other to the page's address; the page takes what waits for
its scope once (``take``) and shows the form filled in with its errors and the refusal's status, the
page focused on its error summary (whose links lead to the form), and a reload the plain page. The
address has no fragment (``#rate-form``): Chromium applies no autofocus to a page opened at a
fragment's target, and the summary would lose the focus. The move's own changes are dropped first (the 303
commits): only the draft and the files kept for the next try (web.kept_files) are written.

The keeping and the taking are web.once's, which the desk's case page uses too (the respondent's
answer code after the move that made it).
"""
from __future__ import annotations

from flask import redirect

from web.once import keep_once, take_once
from web.requestdb import discard_changes

REFUSED = "move_refused"  # the signed session's key: the refused send waiting for its page
MINUTES = 10  # how long the draft waits for the page (the 303 is followed at once)


def to_page(scope: str, move: str, values: dict, errors: dict, message: str, status: int, url: str, *,
            send=None):
    """The refused ``move`` kept for the page of ``scope`` at ``url``: 303 to it. ``send``: the move's web.kept_files.Send, which keeps the files that passed the checks."""
    discard_changes()  # nothing of the move is committed with the 303
    if send is not None:
        send.refused()
    typed = {k: v for k, v in values.items() if isinstance(v, str)}  # files go with ``send``
    keep_once(REFUSED, {"values": typed, "errors": errors, "message": message}, minutes=MINUTES,
              scope=scope, move=move, status=status)
    return redirect(url, code=303)


def take(scope: str) -> dict | None:
    """The refused send waiting for the page of ``scope`` (taken once), as the page's keywords
    (values, errors, failed_move, move_error, status), or None."""
    taken = take_once(REFUSED, scope=scope)
    if taken is None:
        return None
    held, draft = taken
    status = held.get("status")
    if not isinstance(status, int) or not 400 <= status < 500:
        return None
    values, errors, message = draft.get("values"), draft.get("errors"), draft.get("message")
    if not (isinstance(values, dict) and isinstance(errors, dict) and isinstance(message, str)):
        return None
    return {"values": values, "errors": errors, "failed_move": str(held.get("move", "")), "move_error": message,
            "status": status}
