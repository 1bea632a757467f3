"""The landing page, the privacy notice and the language switch."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, g, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from casework.cases.models import CaseType
from web.extensions import LOCALES, remember_language
from web.public.blueprint import bp


# refused outright, before the nearest-page walk: control characters (a newline has no place
# in a Location header), backslashes (a browser reads /\evil.example as //evil.example) and
# the Unicode line separators
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029]")


@bp.get("/")
def index():
    return render_template("public/index.html", case_types=list(CaseType))


@bp.get("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it without a link (issue 16, 10): the file
    itself, not a redirect, kept for a day."""
    resp = current_app.send_static_file("favicon.ico")
    resp.cache_control.public = True
    resp.cache_control.max_age = 86400
    return resp


@bp.get("/privacy")
def privacy():
    """The notice 个人信息保护法 第十七条 asks for before personal data is processed: who processes
    it and how to reach them, why and how, what data, for how long, and how to use one's rights."""
    from web.requestdb import services

    settings = services().settings
    return render_template("public/privacy.html", operator=settings.operator_name,
                           contact=settings.operator_contact, retention_days=settings.retention_days)


@bp.get("/lang/<code>")
def set_language(code: str):
    target = request.args.get("next") or url_for("public.index")
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or _UNSAFE.search(target)):
        target = url_for("public.index")  # never an open redirect, never a broken Location header
    else:
        target = get_page(parts.path, parts.query)
    resp = make_response(redirect(target))
    if code in LOCALES:
        remember_language(resp, code)
    return resp


def get_page(path: str, query: str = "") -> str:
    """The page a language link goes back to: ``path`` when a GET answers it, else the nearest
    page above it that a GET does answer (``…/moves/<move>`` → the case or status page,
    ``/desk/units/3/assign`` → the queue): never a POST-only address, which would be a 405."""
    adapter = current_app.url_map.bind("localhost")
    while path.startswith("/"):
        try:
            adapter.match(path, method="GET")
            return path + ("?" + query if query else "")
        except RequestRedirect:
            return path + ("?" + query if query else "")
        except (MethodNotAllowed, NotFound):
            query = ""  # a query belongs to the page it was given with
            path = path.rstrip("/").rsplit("/", 1)[0]
            if not path:
                break
    return url_for("public.index")


@bp.app_template_global()
def language_next() -> str:
    """Where the language link of this page sends the browser back to: this page when it was
    a GET; after a POST, the GET page the view named (``g.language_next``: the receipt) or the
    page above the form's address."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return g.get("language_next") or get_page(request.path)
