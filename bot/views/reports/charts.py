"""Charts drawn on the server as SVG (no script): grouped bars and lines, with titles for screen
readers; a page always shows the table of the same numbers beside each chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from bot.views.reports.tables import Cell, Table

# GOV.UK Design System colours, each at least 3:1 against white (WCAG 1.4.11).
COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#b58840", "#505a5f")
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 96  # room for the axis labels and the legend
Series = tuple[str, Sequence[float | None]]


def _ticks(top: float, percent: bool) -> list[float]:
    if percent:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * n for n in range(0, math.ceil(top / step) + 1)]


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:g}"


def _frame(title: str, chart_id: str, ticks: list[float], percent: bool, y_title: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    top = ticks[-1] or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'class="report-chart" font-family="Arial, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">The table beside this chart gives the same numbers.</desc>',
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#0b0c0c">'
            f"{_label(tick, percent)}</text>"
        )
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})"'
        f' text-anchor="middle" fill="#0b0c0c">{escape(y_title)}</text>'
    )
    return parts


def _legend(series: Sequence[Series], parts: list[str]) -> None:
    x = LEFT
    y = HEIGHT - 18
    for n, (name, _) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}" fill="#0b0c0c">{escape(name)}</text>'
        )
        x += 28 + 7 * len(name)


def _category_labels(categories: Sequence[str], slot: float, parts: list[str]) -> None:
    base = HEIGHT - BOTTOM + 14
    for n, name in enumerate(categories):
        x = LEFT + slot * (n + 0.5)
        short = name if len(name) <= 18 else name[:17] + "…"
        parts.append(
            f'<text x="{x:.1f}" y="{base}" text-anchor="end" fill="#0b0c0c" '
            f'transform="rotate(-35 {x:.1f} {base})">{escape(short)}</text>'
        )


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str = "chart",
    y_title: str = "Number",
    percent: bool = False,
) -> str:
    """Grouped bars: one group per category, one bar per series."""
    values = [v for _, vs in series for v in vs if v is not None]
    ticks = _ticks(max(values, default=0.0), percent)
    parts = _frame(title, chart_id, ticks, percent, y_title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    for s, (name, vs) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        for n, value in enumerate(vs):
            if not value:
                continue
            h = plot_h * value / (ticks[-1] or 1.0)
            x = LEFT + slot * n + slot * 0.1 + bar * s
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(categories[n])}, '
                f"{escape(name)}: {_label(value, percent)}</title></rect>"
            )
    _category_labels(categories, slot, parts)
    _legend(series, parts)
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str = "chart",
    y_title: str = "Number",
    percent: bool = False,
) -> str:
    """One line per series across the categories (months), with a marker at each value."""
    values = [v for _, vs in series for v in vs if v is not None]
    ticks = _ticks(max(values, default=0.0), percent)
    parts = _frame(title, chart_id, ticks, percent, y_title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    for s, (name, vs) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        points = [
            (LEFT + slot * (n + 0.5), TOP + plot_h - plot_h * v / (ticks[-1] or 1.0), v, n)
            for n, v in enumerate(vs)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, v, n in points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>'
                f"{escape(categories[n])}, {escape(name)}: {_label(v, percent)}</title></circle>"
            )
    _category_labels(categories, slot, parts)
    _legend(series, parts)
    parts.append("</svg>")
    return "".join(parts)


def _number(cell: Cell) -> float | None:
    return float(cell) if isinstance(cell, int | float) else None


def table_chart(table: Table, chart_id: str) -> str:
    """The SVG of a table's chart ("" when it has none or no rows)."""
    chart = table.chart
    if chart is None or not table.rows:
        return ""
    categories = [str(row[0]) for row in table.rows]
    series = [(table.headers[c], [_number(row[c]) for row in table.rows]) for c in chart.series]
    draw = bar_chart if chart.kind == "bar" else line_chart
    return draw(chart.title, categories, series, chart_id=chart_id, y_title=chart.y_title,
                percent=chart.percent)
