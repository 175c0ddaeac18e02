"""Charts as inline SVG, drawn in Python (no JavaScript): actual against the trajectory, and direction-of-travel
arrows. The same SVG goes into the HTML pack and, as an image, into the PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from services.reporting.packs import IMPROVING, WORSENING, Series

WIDTH, HEIGHT = 520, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 34, 40
ACTUAL = "#1f5fbf"
TRAJECTORY = "#6b6b6b"
RAG_COLOURS = {"green": "#00703c", "amber": "#8a4a00", "red": "#b10e1e"}
FONT = "Helvetica, Arial, sans-serif"


def quantity(value: Decimal) -> str:
    value = value.normalize()
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.1f}"


def trajectory_chart(series: Series, period_end: date, chart_id: str, description: str | None = None) -> str:
    """Actual (solid, with a point per progress report) against the trajectory (dashed) from the baseline date to
    the deadline, with the end of the period marked. ``description``: the chart in words, its text alternative
    (with its title, what a screen reader says; the page puts its data table beside it)."""
    first = series.baseline_date
    last = max(series.deadline, period_end, *(d for d, _ in series.points)) if series.points else \
        max(series.deadline, period_end)
    span = max((last - first).days, 1)
    top = max([series.goal, *(v for _, v in series.points), Decimal(1)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + plot_w * max(min((day - first).days / span, 1.0), 0.0)

    def y(value: Decimal) -> float:
        return TOP + plot_h * (1 - float(value / top))

    title = f"{series.label}: actual against trajectory ({series.unit})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title{f" {escape(chart_id)}-desc" if description else ""}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        *([f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'] if description else []),
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff" stroke="#d0d0d0"/>',
        f'<text x="{LEFT}" y="20" font-size="13" font-weight="bold" fill="#222">{escape(series.label)}</text>',
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):  # horizontal grid with values
        value = top * Decimal(str(fraction))
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" '
                     'stroke="#ececec" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end" fill="#555">'
                     f"{quantity(value)}</text>")
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#999"/>')
    for day, anchor in ((first, "start"), (series.deadline, "end" if series.deadline >= last else "middle")):
        parts.append(f'<text x="{x(day):.1f}" y="{TOP + plot_h + 16}" font-size="10" text-anchor="{anchor}" '
                     f'fill="#555">{day.isoformat()}</text>')
    end_x = x(period_end)
    parts.append(f'<line class="period-end" x1="{end_x:.1f}" y1="{TOP}" x2="{end_x:.1f}" y2="{TOP + plot_h}" '
                 'stroke="#b0b0b0" stroke-dasharray="2 3"/>')
    # Through the profile's points when it has one (the straight line from baseline to goal when not).
    expected = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in series.figure().trajectory.points())
    parts.append(f'<polyline class="trajectory" points="{expected}" fill="none" stroke="{TRAJECTORY}" '
                 'stroke-width="2" stroke-dasharray="6 4"/>')
    points = [(first, Decimal(0)), *series.points]
    path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
    parts.append(f'<polyline class="actual" points="{path}" fill="none" stroke="{ACTUAL}" stroke-width="3"/>')
    for day, value in series.points:
        parts.append(f'<circle class="report" cx="{x(day):.1f}" cy="{y(value):.1f}" r="4" fill="{ACTUAL}">'
                     f"<title>{day.isoformat()}: {quantity(value)}</title></circle>")
    legend_y = HEIGHT - 8
    parts += [
        f'<line x1="{LEFT}" y1="{legend_y - 4}" x2="{LEFT + 24}" y2="{legend_y - 4}" stroke="{ACTUAL}" '
        'stroke-width="3"/>',
        f'<text x="{LEFT + 30}" y="{legend_y}" font-size="11" fill="#222">actual {quantity(series.actual)}</text>',
        f'<line x1="{LEFT + 150}" y1="{legend_y - 4}" x2="{LEFT + 174}" y2="{legend_y - 4}" stroke="{TRAJECTORY}" '
        'stroke-width="2" stroke-dasharray="6 4"/>',
        f'<text x="{LEFT + 180}" y="{legend_y}" font-size="11" fill="#222">trajectory {quantity(series.expected)}'
        f" of {quantity(series.goal)} by {series.deadline.isoformat()}</text>",
    ]
    parts.append(direction_arrow(series.direction, series.rag, x=WIDTH - RIGHT - 22, y=8))
    parts.append("</svg>")
    return "".join(parts)


def direction_arrow(direction: str | None, rag: str | None, *, x: float = 0, y: float = 0, size: int = 18,
                    standalone: bool = False) -> str:
    """An arrow: up (improving), down (worsening) or right (steady), coloured by RAG; nothing without data."""
    if direction is None:
        return ""
    colour = RAG_COLOURS.get(rag or "", "#555")
    s = size
    if direction == IMPROVING:
        shape = f"M {s / 2} 0 L {s} {s * 0.6} L {s * 0.68} {s * 0.6} L {s * 0.68} {s} L {s * 0.32} {s} " \
                f"L {s * 0.32} {s * 0.6} L 0 {s * 0.6} Z"
    elif direction == WORSENING:
        shape = f"M {s / 2} {s} L {s} {s * 0.4} L {s * 0.68} {s * 0.4} L {s * 0.68} 0 L {s * 0.32} 0 " \
                f"L {s * 0.32} {s * 0.4} L 0 {s * 0.4} Z"
    else:
        shape = f"M {s} {s / 2} L {s * 0.4} 0 L {s * 0.4} {s * 0.32} L 0 {s * 0.32} L 0 {s * 0.68} " \
                f"L {s * 0.4} {s * 0.68} L {s * 0.4} {s} Z"
    path = (f'<path class="direction {escape(direction)}" d="{shape}" fill="{colour}"><title>{escape(direction)}'
            "</title></path>")
    if standalone:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="arrow" width="{s}" height="{s}" '
                f'viewBox="0 0 {s} {s}" role="img" aria-label="{escape(direction)}">{path}</svg>')
    return f'<g transform="translate({x},{y})">{path}</g>'
