"""The landing page, the privacy notice and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for

from casework.cases.models import CaseType
from web.extensions import LANG_COOKIE, LOCALES
from web.public.blueprint import bp


@bp.get("/")
def index():
    return render_template("public/index.html", case_types=list(CaseType))


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.get("/lang/<code>")
def set_language(code: str):
    target = request.args.get("next") or url_for("public.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for("public.index")  # never an open redirect
    resp = make_response(redirect(target))
    if code in LOCALES:
        resp.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return resp
