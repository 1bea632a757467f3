"""Chinese first, English complete: every string in the code has its Chinese translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
                    "-k", "pgettext:1c,2", "-o", str(pot), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    extracted = {m.id for m in read_po(pot.open("rb")) if m.id}
    catalog = read_po((ROOT / "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb"))
    # a plural's string is a tuple: every form must be there
    translated = {m.id for m in catalog if m.id and not m.fuzzy
                  and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(extracted - translated, key=str)
    assert not missing, f"strings without Chinese (run `make extract`, then translate): {missing}"
