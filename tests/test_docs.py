"""The README and docs/ link only to files inside the repository (a newcomer has only the
repository), and every such link resolves."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_docs_link_only_inside_the_repository():
    bad = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address (a standard, a specification) is not a file of ours
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                bad.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not bad, bad


def _named(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", text))


def _table_rows(text: str, heading: str) -> str:
    part = text[text.index(heading) + len(heading):]
    part = part[:part.find("\n### ")] if "\n### " in part else part
    return "\n".join(line for line in part.splitlines() if line.startswith("|"))


def test_the_workflow_tables_in_the_readme_match_the_workflow_table():
    """Every move of casework/workflow/table.py, and every state, is named in the README or
    docs/; the README's workflow and mediation tables name no move or state the site lacks."""
    from casework.cases.models import CaseState, Stage
    from casework.workflow.machine import MOVES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = readme + "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    states = {s.value for s in CaseState}
    assert sorted(set(MOVES) - _named(docs)) == [], "moves the README and docs/ never name"
    assert sorted(states - _named(docs)) == [], "states the README and docs/ never name"
    stages = {s.value for s in Stage}  # a time limit's name (report_notice), named beside its move
    for heading in ("### The workflow", "### Mediation"):
        rows = _table_rows(readme, heading)
        unknown = {t for t in _named(rows) if t not in MOVES and t not in states and t not in stages}
        assert not unknown, f"{heading}: {sorted(unknown)} are neither moves nor states"


def test_nothing_in_the_readme_or_docs_links_outside_the_repository():
    """A newcomer has only the repository: a link to another site is a dead end offline."""
    outside = [f"{doc.relative_to(ROOT)}: {target}"
               for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
               for target in LINK.findall(doc.read_text(encoding="utf-8")) if re.match(r"[a-z]+:", target)]
    assert not outside, outside
