"""What a read costs (issue 18, "Reads"), and the per-process shortcuts behind the cheaper reads
(gettext bound once per render) giving the pages they gave before, in zh_CN and en."""
from __future__ import annotations

import contextlib
import re

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _tokens_out(html: str) -> str:
    """The page with its per-session values (CSRF token, form token) blanked."""
    return TOKEN.sub('name="form_token" value="…"', CSRF.sub('name="csrf_token" value="…"', html))


@contextlib.contextmanager
def flask_babel_gettext(app):
    """Templates rendered with flask_babel's own gettext callables (no per-render binding)."""
    from web.i18n import template_gettext

    processors = app.template_context_processors[None]
    at = processors.index(template_gettext)
    processors.remove(template_gettext)
    try:
        yield
    finally:
        processors.insert(at, template_gettext)


PAGES = ["/", "/privacy", "/track", "/stats", "/file/complaint", "/file/report", "/file/mediation",
         "/file/suggestion"]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_bound_gettext_gives_the_pages_flask_babel_gave(app, client, lang):
    client.set_cookie("lang", lang)
    for path in PAGES:
        bound = client.get(path)
        with flask_babel_gettext(app):
            plain = client.get(path)
        assert bound.status_code == plain.status_code == 200, path
        assert _tokens_out(bound.get_data(as_text=True)) == _tokens_out(plain.get_data(as_text=True)), path
    page = client.get("/file/complaint").get_data(as_text=True)
    assert ("File a complaint" in page) == (lang == "en") and ("我要投诉" in page) == (lang == "zh_CN")

