"""A public form whose CSRF token failed (it expired, or the browser lost its cookie) comes back
filled in, not as an error page: the filing form, a move's form on the status page or the
respondent's page (web.public.opened.expired_form). Only for a form sent from this site: another
site's page could otherwise post a text of its choosing into this one's forms, shown to the person
as their own (a plain 400 answers it). web.errors calls ``csrf_failed`` for every CSRF failure."""
from __future__ import annotations

from flask import request

from web.public.intake import csrf_failed_file
from web.public.respond import csrf_failed_respond
from web.public.track import csrf_failed_move
from web.security import sent_from_this_site


def csrf_failed():
    """The page to answer a public form's failed CSRF check with, or None (a plain 400)."""
    if request.method != "POST" or not sent_from_this_site():
        return None
    args = request.view_args or {}
    if request.endpoint == "public.public_move":
        return csrf_failed_move(args.get("number", ""), args.get("move", ""))
    if request.endpoint == "public.track_complaint":
        return csrf_failed_move(args.get("number", ""), "turn_into_complaint")
    if request.endpoint == "public.respond_move":
        return csrf_failed_respond(args.get("number", ""), args.get("move", ""))
    if request.endpoint == "public.file_submit":
        return csrf_failed_file()
    return None
