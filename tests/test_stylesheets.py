"""The site's own stylesheets parse as written: a stray brace makes a browser drop the rule after
it without a word (a "}" left over in desk.css dropped the red badge of 已超期 / Overdue)."""
from pathlib import Path

import pytest
import tinycss2

SHEETS = sorted((Path(__file__).resolve().parent.parent / "static" / "css").glob("*.css"))


def _problems(rules, where="") -> list[str]:
    out = []
    for rule in rules:
        if rule.type == "error":
            out.append(f"{where}{rule.message}")
        elif rule.type == "qualified-rule":
            prelude = tinycss2.serialize(rule.prelude)
            if "{" in prelude or "}" in prelude:
                out.append(f"{where}a stray brace before {prelude.strip()[-60:]!r}")
        elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in ("media", "supports"):
            out += _problems(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True),
                             f"@{rule.lower_at_keyword} {tinycss2.serialize(rule.prelude).strip()}: ")
    return out


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_each_stylesheet_parses_with_no_stray_brace(sheet):
    rules = tinycss2.parse_stylesheet(sheet.read_text(encoding="utf-8"), skip_whitespace=True, skip_comments=True)
    assert _problems(rules) == []


def test_the_check_finds_a_stray_brace():
    rules = tinycss2.parse_stylesheet("a { color: red }\n}\n.b { color: blue }", skip_whitespace=True)
    assert _problems(rules) and "stray brace" in _problems(rules)[0]
