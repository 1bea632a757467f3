"""Absolute URLs from the configured base URL (CHANGTONG_BASE_URL), never from the request's
Host header: a client chooses that header, and an Open311 document a proxy caches must not
carry an address a stranger sent (issue 17, item 11)."""
from __future__ import annotations

from flask import current_app, has_request_context, request, url_for


def external_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` under the site's configured address."""
    path = url_for(endpoint, **values)
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root):
        path = path[len(root):]  # the base URL names the path the site is served under
    return current_app.extensions["changtong.settings"].base_url + path


def init_app(app) -> None:
    app.jinja_env.globals["external_url"] = external_url
