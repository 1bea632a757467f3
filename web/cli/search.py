"""`changtong reindex`: rebuild the whole search index without stopping search.

Registered in web/cli/__init__.py with ``main.add_command(reindex_command)``.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("reindex")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The search directory (default: <data dir>/search).")
@with_appcontext
def reindex_command(index_dir: Path | None) -> None:
    """Rebuild the search index from the database into a new directory, then swap it in and
    remove the previous one. Search keeps answering from the old index until the swap."""
    from casework.search import make_backend
    from casework.search.sync import case_count, reindex_all
    from casework.search.whoosh_backend import WhooshBackend

    db = current_app.extensions["changtong.db"]
    services = current_app.extensions["changtong.services"]
    backend = WhooshBackend(index_dir) if index_dir else make_backend(services.settings, db)
    root = getattr(backend, "root", None)  # Whoosh: the directories; PostgreSQL: rows in place
    before = set(root.glob("index-*")) if root is not None and root.is_dir() else set()
    total = case_count(db)
    with click.progressbar(length=total, label="Indexing cases", show_pos=True) as bar:
        n = reindex_all(db, services, backend, progress=bar.update)
    if root is None:
        click.echo(f"Indexed {n} cases into {backend} (rewritten in place).")
        return
    live = backend.link.resolve()
    click.echo(f"Indexed {n} cases into {live}.")
    for gone in sorted(p for p in before if p != live and not p.exists()):
        click.echo(f"Removed the previous index {gone}.")
