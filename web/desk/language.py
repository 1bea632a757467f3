"""The language of the parts of a staff page that are not in the page's language (WCAG 3.1.2).

A desk page in English shows a case filed in Chinese (its title, description and the filer's own
words) and staff names typed in Chinese; a page in Chinese shows a filing in English. A screen
reader reads each part in its own voice only when the part says its language. A case's text is in
the language it was filed in (``case.locale``); a name's is guessed from its letters (Chinese
characters, or Latin letters and no Chinese character). Both give `` lang="…"`` only where the
part's language is not the page's (the page's is on <html>), and nothing otherwise.
"""
from __future__ import annotations

import re

from flask import g
from markupsafe import Markup

from web.desk.blueprint import bp
from web.i18n import current_locale

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
_LATIN = re.compile(r"[A-Za-z]")
_TAG = re.compile(r"<[^>]*>")


def page_lang() -> str:
    """The language of the page being made, as <html lang> says it; asked once per request (a
    queue page asks for each of its rows' parts: the locale's lookup was most of the cost)."""
    lang = g.get("page_lang")
    if lang is None:
        lang = g.page_lang = "en" if current_locale().startswith("en") else "zh-CN"
    return lang


def case_lang(case) -> str:
    """The language a case was filed in (what its title, description and the filer's words are in)."""
    return "en" if (getattr(case, "locale", None) or "zh_CN").startswith("en") else "zh-CN"


def guess_lang(text) -> str | None:
    """Chinese for a text with any Chinese character, English for one with Latin letters and none;
    None for one without letters (a number, a dash)."""
    plain = _TAG.sub("", str(text or ""))
    if _HAN.search(plain):
        return "zh-CN"
    if _LATIN.search(plain):
        return "en"
    return None


def _attr(lang: str | None) -> Markup:
    if lang is None or lang == page_lang():
        return Markup("")
    return Markup(' lang="%s"') % lang


@bp.app_template_global()
def case_lang_attr(case) -> Markup:
    """`` lang="…"`` for a case's own text (its title, description, the filer's words) when the
    case was filed in another language than the page's."""
    return _attr(case_lang(case))


@bp.app_template_global()
def text_lang_attr(text) -> Markup:
    """`` lang="…"`` for a name or a text of unknown origin (a staff member's name, a search hit's
    title) that looks written in another language than the page's."""
    return _attr(guess_lang(text))
