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
    """Rebuild the search index from the database into a new directory, then swap it in.
    Search keeps answering from the old index until the swap."""
    from casework.search import make_backend
    from casework.search.sync import case_count, reindex_all
    from casework.search.whoosh_backend import WhooshBackend

    db = current_app.extensions["changtong.db"]
    services = current_app.extensions["changtong.services"]
    backend = WhooshBackend(index_dir) if index_dir else make_backend(services.settings, db)
    total = case_count(db)
    with click.progressbar(length=total, label="Indexing cases", show_pos=True) as bar:
        n = reindex_all(db, services, backend, progress=bar.update)
    click.echo(f"Indexed {n} cases into {backend.link.resolve() if hasattr(backend, 'link') else backend}.")
