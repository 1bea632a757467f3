"""`changtong reindex` as an operator runs it: the new index is swapped in and the previous
one is gone from the disk (it held the cases' text in the clear), and the output says so."""
from click.testing import CliRunner

from web.cli import main
from tests.web.test_cli import env_for


def index_dirs(root):
    return sorted(p.name for p in root.glob("index-*"))


def test_reindex_leaves_only_the_new_index_and_says_it_removed_the_old(settings, db, tmp_path):
    root = tmp_path / "search"
    runner = CliRunner()
    first = runner.invoke(main, ["reindex", "--index-dir", str(root)], env=env_for(settings))
    assert first.exit_code == 0, first.output
    assert len(index_dirs(root)) == 1
    old = index_dirs(root)[0]

    again = runner.invoke(main, ["reindex", "--index-dir", str(root)], env=env_for(settings))
    assert again.exit_code == 0, again.output
    now = index_dirs(root)
    assert len(now) == 1 and now != [old]  # only the new index, the previous one removed
    assert (root / "index").resolve().name == now[0]
    assert f"Removed the previous index {root / old}." in again.output
    assert f"Indexed" in again.output and now[0] in again.output
