"""Tables on a terminal, for the commands that list things."""
from __future__ import annotations

import unicodedata

import click


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    """Print the rows under the header in columns; None prints as nothing."""
    rows = [tuple("" if c is None else str(c) for c in row) for row in rows]
    widths = [max(_width(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        click.echo("  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)).rstrip())
