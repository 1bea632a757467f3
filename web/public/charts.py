"""The public statistics' charts, drawn on the server as inline SVG (issue 16, defect 11).

They replace Chart.js (210 KB) on /stats and the pages of one unit or association: a phone
receives a few kilobytes, no script runs, and the chart is there without JavaScript. Each SVG
is role="img" with a <title> and a <desc>; the figures themselves are in the table beside it,
which stays the accessible and exact version.

The drawings need no viewBox: x positions and widths are percentages of the chart's width and
text is in CSS pixels, so a label stays 14 px on any screen and nothing is scaled down. A value
that is not published (a suppressed small count, a rate without a base) is a gap, never zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

TEXT_PX = 14
LINE_PX = 20
FEW = 6  # labels up to this many are each written under their columns
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: list  # numbers, None where not published
    colour: str
    share: bool = False  # a 0–1 share drawn as a line on its own 0–100 % scale
    css: str = ""  # the legend swatch's class, of the same colour


def _pct(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") + "%"


def _nice_max(v: float) -> int:
    """The axis top: the smallest 1, 2 or 5 × 10^k at or above v (at least 1)."""
    if v <= 1:
        return 1
    k = 10 ** math.floor(math.log10(v))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= v)


def _open(title: str, desc: str, height: int, css: str) -> tuple[str, list[str]]:
    ident = f"chart-{next(_ids)}"
    head = (f'<svg class="{css}" width="100%" height="{height}" role="img" '
            f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" font-size="{TEXT_PX}">'
            f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>')
    return head, []


def _fmt(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def legend(series: list[Series]) -> Markup:
    # colours by class (static/css/site.css): the Content Security Policy allows no style attribute
    items = "".join(f'<li><span class="swatch {escape(s.css)}{" line" if s.share else ""}"></span>'
                    f'{escape(s.name)}</li>' for s in series)
    return Markup(f'<ul class="chart-legend" aria-hidden="true">{items}</ul>')


def columns(title: str, desc: str, labels: list[str], series: list[Series], *, height: int = 220,
            every: int = 4, gap: str = "") -> Markup:
    """Grouped columns per label (months), counts on the left scale; a share series is a line
    on a 0–100 % scale whose top is marked on the right. Up to ``FEW`` labels are each written
    under their own columns; more, every ``every``-th, counting back from the last, so that they
    fit on a 320 px screen. A count not published is written ``gap`` (e.g. "withheld") at the foot of
    its column, so that a month of few cases does not read as a month of none."""
    n = len(labels)
    every = 1 if n <= FEW else every
    head, parts = _open(title, desc, height, "chart-svg chart-columns")
    if not n:
        return Markup(head + "</svg>")
    counts = [s for s in series if not s.share]
    shares = [s for s in series if s.share]
    top_value = _nice_max(max([v for s in counts for v in s.values if v is not None] or [0]))
    top, bottom = LINE_PX + 4, height - LINE_PX - 8
    span = bottom - top

    def y(v: float, scale: float) -> float:
        return bottom - span * v / scale

    parts.append(f'<text x="0" y="{TEXT_PX}" fill="#5a6675">{_fmt(top_value)}</text>')
    if shares:
        parts.append(f'<text x="100%" y="{TEXT_PX}" text-anchor="end" fill="#5a6675">100%</text>')
    parts.append(f'<line x1="0" x2="100%" y1="{top}" y2="{top}" stroke="#d5dbe3"/>')
    parts.append(f'<line x1="0" x2="100%" y1="{bottom}" y2="{bottom}" stroke="#5a6675"/>')
    group = 100 / n
    bar = group * 0.8 / max(len(counts), 1)
    for i in range(n):
        parts.append(f'<g data-label="{escape(labels[i])}">')
        for j, s in enumerate(counts):
            v = s.values[i]
            x = group * i + group * 0.1 + bar * j
            if v is None:  # not published: a gap, marked at the foot when ``gap`` is given
                if gap and n <= FEW:  # its words, where a column is wide enough for them
                    parts.append(f'<text data-series="{j}" class="gap" x="{_pct(x + bar / 2)}" y="{bottom - 4}" '
                                 f'text-anchor="middle" fill="{s.colour}">{escape(gap)}</text>')
                elif gap:  # narrow columns: a dashed outline the chart's height, named by its title (the
                    # table has the words); a pale stub at the foot read as a month of no cases
                    parts.append(f'<rect data-series="{j}" class="gap" x="{_pct(x)}" y="{top}" '
                                 f'width="{_pct(bar)}" height="{span}" fill="none" stroke="{s.colour}" '
                                 f'stroke-opacity="0.5" stroke-dasharray="3 3"><title>{escape(gap)}</title></rect>')
                continue
            parts.append(f'<rect data-series="{j}" data-value="{v}" x="{_pct(x)}" y="{y(v, top_value):.1f}" '
                         f'width="{_pct(bar)}" height="{span * v / top_value:.1f}" fill="{s.colour}"/>')
        parts.append("</g>")
    for s in shares:
        points = [(group * (i + 0.5), None if v is None else y(v, 1)) for i, v in enumerate(s.values)]
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            if y1 is not None and y2 is not None:
                parts.append(f'<line x1="{_pct(x1)}" y1="{y1:.1f}" x2="{_pct(x2)}" y2="{y2:.1f}" '
                             f'stroke="{s.colour}" stroke-width="2"/>')
        for x, yy in points:
            if yy is not None:
                parts.append(f'<circle cx="{_pct(x)}" cy="{yy:.1f}" r="3.5" fill="{s.colour}"/>')
    for i in range(n - 1, -1, -every):
        anchor, x = ("end", 100.0) if i == n - 1 and every > 1 else ("middle", group * (i + 0.5))
        parts.append(f'<text x="{_pct(x)}" y="{height - 6}" text-anchor="{anchor}" fill="#1d2733">'
                     f'{escape(labels[i])}</text>')
    return Markup(head + "".join(parts) + "</svg>")


EMS = 17  # a label's line: 17 × 14 px = 238 px, inside the chart on a 320 px screen
MOST_LINES = 3
# never at the start of a line / never at its end (Chinese line breaking, and the ASCII ones)
_CLOSING = set("，。、；：？！）》」』】〕〉”’,.;:?!)]}%")
_OPENING = set("（《「『【〔〈“‘([{")


def _em(ch: str) -> float:
    """A character's width in ems, estimated: a CJK character one, anything else about half.
    The server cannot know the reader's font (system-ui), so nothing measures it more exactly."""
    return 1 if ord(ch) > 0x2E80 else 0.55


def _width(text: str) -> float:
    return sum(_em(ch) for ch in text)


def _pieces(label: str) -> list[str]:
    """Where a line may break: after a space, and between two CJK characters; closing punctuation
    stays with what it closes and opening punctuation with what it opens."""
    pieces, piece = [], ""
    for ch in label:
        if ch == " ":
            pieces.append(piece + ch)
            piece = ""
            continue
        if piece and ch not in _CLOSING and piece[-1] not in _OPENING and (_em(ch) == 1 or _em(piece[-1]) == 1):
            pieces.append(piece)  # a CJK character on either side: a place to break
            piece = ""
        piece += ch
    return pieces + [piece] if piece else pieces


def _wrap(label: str, ems: float = EMS, most: int = MOST_LINES) -> list[str]:
    """A label in lines of about ``ems`` × 14 px, at most ``most`` of them, the last ending in "…"
    where the label goes on (the chart's <title> and the table beside it have it whole). A word
    longer than a line is broken where the line ends."""
    lines, line = [], ""
    for piece in _pieces(" ".join(label.split())):
        if _width((line + piece).rstrip()) <= ems:
            line += piece
            continue
        if line:
            lines.append(line.rstrip())
        while _width(piece.rstrip()) > ems:
            cut = 1
            while _width(piece[:cut + 1]) <= ems:
                cut += 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        line = piece
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > most:
        last = lines[most - 1]
        while last and _width(last) + 1 > ems:  # the ellipsis counted as a whole em
            last = last[:-1]
        lines = lines[:most - 1] + [last.rstrip() + "…"]
    return lines


def rows(title: str, desc: str, labels: list[str], values: list, texts: list[str], colour: str) -> Markup:
    """One bar per label, the label above its bar in up to three lines and the figure as written
    in the table (``texts``) after it; a value that is None has no bar, only its text. Each row is
    named in full by a <title> (a tooltip over its bar)."""
    wrapped = [_wrap(label) for label in labels]
    height = sum(LINE_PX * len(lines) + 24 for lines in wrapped) + 4
    head, parts = _open(title, desc, height, "chart-svg chart-rows")
    top_value = max([v for v in values if v is not None] or [0]) or 1
    base = 0
    for label, lines, v, text in zip(labels, wrapped, values, texts):
        first = base + TEXT_PX + 2
        if len(lines) == 1:
            name = escape(lines[0])
        else:
            name = "".join(f'<tspan x="0" y="{first + LINE_PX * j}">{escape(line)}</tspan>'
                           for j, line in enumerate(lines))
        parts.append(f'<g data-label="{escape(label)}"><title>{escape(label)}</title>'
                     f'<text x="0" y="{first}" fill="#1d2733">{name}</text>')
        bar = base + LINE_PX * len(lines)
        width = 80 * v / top_value if v else 0
        if v is not None:  # not published: no bar, only the words of the table
            parts.append(f'<rect data-value="{v}" x="0" y="{bar + 4}" width="{_pct(width)}" '
                         f'height="16" fill="{colour}"/>')
        parts.append(f'<text x="{_pct(width)}" dx="{6 if width else 0}" y="{bar + 17}" '
                     f'fill="#1d2733">{escape(text)}</text></g>')
        base = bar + 24
    return Markup(head + "".join(parts) + "</svg>")


# -- the statistics pages' two charts, from the groups their tables show -------------------

RECEIVED, FINISHED, ON_TIME = "#1f5fa8", "#a34f00", "#1b6e3a"


def _count(c):
    return None if c.suppressed else c.value


def _nothing_to_draw() -> Markup:
    """In place of a chart that would have no bar, column or point (every figure 0 or withheld:
    a page below the threshold drew axes, a scale of 1 and dashed outlines around nothing)."""
    from flask_babel import gettext as _

    none = _("No chart: every figure here is 0 or withheld (see the table).")
    return Markup(f'<p class="hint chart-none">{escape(none)}</p>')


def trend_chart(caption: str, months) -> Markup:
    """Cases received and finished per month (columns) and the on-time rate (a line)."""
    from flask_babel import gettext as _

    labels = [str(m) for m, _g in months]
    series = [Series(_("Received"), [_count(g.counts["received"]) for _m, g in months], RECEIVED, css="received"),
              Series(_("Finished"), [_count(g.counts["concluded"]) for _m, g in months], FINISHED, css="finished"),
              Series(_("On time"), [g.rates["on_time_rate"].value for _m, g in months], ON_TIME, share=True,
                     css="on-time")]
    desc = _("Cases received and finished in each month from %(first)s to %(last)s, and the on-time rate "
             "on a scale of 0 to 100%%. The figures are in the table below.",
             first=labels[0] if labels else "", last=labels[-1] if labels else "")
    if not any(v for s in series if not s.share for v in s.values) and not any(
            v is not None for s in series if s.share for v in s.values):
        return _nothing_to_draw()  # a sentence, not empty axes
    return Markup(columns(caption, desc, labels, series, gap=_("withheld")) + legend(series))


def breakdown_chart(caption: str, names: list[str], groups) -> Markup:
    """Cases received per row (a unit, a category); none where no row has a bar."""
    from flask_babel import gettext as _

    values = [_count(g.counts["received"]) for g in groups]
    if not any(values):
        return _nothing_to_draw()
    texts = [_("withheld") if v is None else f"{v:,}" for v in values]
    desc = _("Cases received by each; a count too small to publish has no bar. The figures are in the table below.")
    return rows(caption, desc, names, values, texts, RECEIVED)
