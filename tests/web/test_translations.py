"""Chinese first, English complete: every string in the code has its Chinese translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _extracted(tmp_path) -> set:
    """Every msgid in templates/ and the code. pybabel skips directories starting with "_" unless
    told otherwise, which left templates/_macros/ out (issue 16, defect 6): only dot directories
    (.venv, .git) are ignored here."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
                    "-k", "pgettext:1c,2", "--ignore-dirs", ".* __pycache__ node_modules",
                    "-o", str(pot), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    return {m.id for m in read_po(pot.open("rb")) if m.id}


def test_the_macros_are_extracted(tmp_path):
    assert "Mediation sessions" in _extracted(tmp_path)  # templates/_macros/cases.html


def test_every_message_has_a_chinese_translation(tmp_path):
    extracted = _extracted(tmp_path)
    catalog = read_po(CATALOG.open("rb"))
    # iterating a catalog yields its live entries only; the #~ ones are in catalog.obsolete
    singular = {m[0] if isinstance(m, tuple) else m: m for m in extracted}
    obsolete = sorted((singular[k] for k in catalog.obsolete if k in singular), key=str)
    assert not obsolete, f"strings in use whose Chinese is an obsolete (#~) entry: {obsolete}"
    fuzzy = sorted((m.id for m in catalog if m.id in extracted and m.fuzzy), key=str)
    assert not fuzzy, f"strings in use whose Chinese is fuzzy: {fuzzy}"
    # a plural's string is a tuple: every form must be there
    translated = {m.id for m in catalog if m.id and not m.fuzzy
                  and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(extracted - translated, key=str)
    assert not missing, f"strings without Chinese (run `make extract`, then translate): {missing}"


def test_a_request_keeps_its_translations_per_locale_through_force_locale_and_refresh(app):
    """The request's translations are kept for the request (web.extensions._Domain, issue 18):
    a while in another locale (force_locale, as the statistics' other-language copy and the
    filing's SMS in the complainant's language use it) and a new locale (refresh, after a
    language switch) each get their own, and the request's own come back after."""
    from flask_babel import force_locale, gettext, refresh

    with app.test_request_context("/", headers={"Cookie": "lang=zh_CN"}):
        assert gettext("Submitted") == "已提交"
        with force_locale("en"):
            assert gettext("Submitted") == "Submitted"
        assert gettext("Submitted") == "已提交"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert gettext("Submitted") == "Submitted"
        from flask import request

        request.cookies = {"lang": "zh_CN"}  # what a handler that changed the language would see
        refresh()
        assert gettext("Submitted") == "已提交"
