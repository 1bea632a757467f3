"""Pages rendered once per process and answered again with this request's tokens put in.

A page that is the same for everyone but for a few per-request values (the CSRF token and the
filing form's signed token, both bound to the browser's session) is rendered normally the first
time; the answer is then cut where those values stand, and the next request with the same key
gets the same text around its own values. Nothing of one browser reaches another: only text
that was the same for everyone is kept, and a value is put in only where the rendered value
stood, escaped as the template escaped it (the tokens' URL-safe characters escape to
themselves; a page whose values did not appear exactly once as they were given is not kept).

The key says everything the page depends on besides those values: the view names it (the
filing form: the path, the script root, the locale) and gives a version (the reference data's:
casework.reference) that replaces the page when it changes. The cache belongs to one app (its
templates, translations and settings) and is not used when Jinja reloads templates (debug).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Hashable

from flask import current_app
from markupsafe import escape

MAX_PAGES = 64  # distinct keys kept per app (a handful are used: case types x locales)


@dataclass(frozen=True)
class TokenPage:
    """A rendered page as the text around its per-request values, in order."""
    parts: tuple[str, ...]
    names: tuple[str, ...]  # names[i] stands between parts[i] and parts[i + 1]

    @classmethod
    def cut(cls, html: str, values: dict[str, str]) -> "TokenPage | None":
        """``html`` cut at each of ``values`` (each found exactly once, escaped), or None."""
        found = []
        for name, value in values.items():
            text = str(escape(value))
            at = html.find(text) if text else -1
            if at < 0 or html.find(text, at + 1) >= 0:
                return None
            found.append((at, at + len(text), name))
        found.sort()
        parts, names, last = [], [], 0
        for start, end, name in found:
            if start < last:  # overlapping values
                return None
            parts.append(html[last:start])
            names.append(name)
            last = end
        parts.append(html[last:])
        return cls(tuple(parts), tuple(names))

    def fill(self, values: dict[str, str]) -> str:
        out = [self.parts[0]]
        for name, part in zip(self.names, self.parts[1:]):
            out.append(str(escape(values[name])))
            out.append(part)
        return "".join(out)


class PageCache:
    """key -> (version, TokenPage), for one app."""

    def __init__(self, size: int = MAX_PAGES):
        self._pages: dict[Hashable, tuple[Hashable, TokenPage]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> TokenPage | None:
        entry = self._pages.get(key)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, key: Hashable, version: Hashable, page: TokenPage) -> None:
        with self._lock:
            if key not in self._pages and len(self._pages) >= self._size:
                self._pages.clear()  # more keys than a site has pages: start again
            self._pages[key] = (version, page)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def pages() -> PageCache | None:
    """The current app's page cache; None while templates are reloaded when they change."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:
        return None
    cache = app.extensions.get("changtong.pages")
    if cache is None:
        cache = app.extensions.setdefault("changtong.pages", PageCache())
    return cache
