"""Tables that are shown, charted and exported alike: one definition, three outputs (HTML with
``data-value`` cells for static/js/charts.js, CSV, XLSX)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook


@dataclass
class Column:
    label: str
    kind: str = "int"  # "text" | "int" | "rate"


@dataclass
class Table:
    key: str
    caption: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    # chart: "line" | "bar" | "hbar" | None; which columns (0-based) are drawn, which are rates
    chart: str | None = None
    series: tuple[int, ...] = ()
    links: list[str | None] = field(default_factory=list)  # a link for the first cell of each row

    @property
    def percent(self) -> tuple[int, ...]:
        return tuple(i for i in self.series if self.columns[i].kind == "rate")

    def cells(self, row: list[Any]):
        """(display text, data-value) per cell."""
        for col, value in zip(self.columns, row):
            yield display(value, col.kind), ("" if value is None else value) if col.kind != "text" else None


def display(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "int":
        return f"{value:,}"
    return str(value)


def _export_value(value, kind: str):
    if value is None:
        return ""
    if kind == "rate":
        return round(value, 4)
    return value


def to_csv(table: Table) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([c.label for c in table.columns])
    for row in table.rows:
        w.writerow([_export_value(v, c.kind) for c, v in zip(table.columns, row)])
    return buf.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Chinese as UTF-8


def to_xlsx(table: Table, note: str = "") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.key[:31])
    if note:
        ws.append([note])
    ws.append([c.label for c in table.columns])
    for row in table.rows:
        ws.append([_export_value(v, c.kind) for c, v in zip(table.columns, row)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
