"""Charts of the committee dashboard, drawn on the server as inline SVG (no JavaScript).

Each chart scales to its container (a `viewBox`, `width="100%"`), so it reads on a laptop and on
a 360 px phone; it carries a `<title>` and a `<desc>` (announced through `aria-labelledby`),
every mark has its own `<title>` (a tooltip and a label for screen readers), and numbers are
written next to the marks, not only drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 320


@dataclass(frozen=True)
class Point:
    label: str  # under the axis, short ("Q3", "07")
    title: str  # full, in the tooltip ("2026, quarter 3")
    value: float | None  # 0..1, None when there is nothing to measure
    text: str = ""  # the number written by the mark ("83%")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str


def _svg(*, chart_id: str, height: int, title: str, desc: str, body: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below went through escape()
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMidYMin meet" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{body}</svg>'
    )


def share_line(points: Sequence[Point], *, chart_id: str, title: str, desc: str) -> SafeString:
    """A line of shares (0..1) over periods, with the 0, 50 and 100 % grid lines."""
    height, left, right, top, bottom = 170, 34, 20, 16, 28
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = max(1, len(points) - 1)

    def x(i: int) -> float:
        return left + (plot_w * i / n if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, v)))

    parts = []
    for v in (0, 0.5, 1):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}"/><text class="axis" x="{left - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{int(v * 100)}%</text>'
        )
    segment: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(segment) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(p.value):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
    for i, p in enumerate(points):
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">'
            f"{escape(p.label)}</text>"
        )
        if p.value is None:
            continue
        parts.append(
            f'<circle class="dot" cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="4">'
            f"<title>{escape(p.title)}: {escape(p.text)}</title></circle>"
            f'<text class="value" x="{x(i):.1f}" y="{y(p.value) - 7:.1f}" '
            f'text-anchor="middle">{escape(p.text)}</text>'
        )
    return _svg(chart_id=chart_id, height=height, title=title, desc=desc, body="".join(parts))


def bars(
    items: Sequence[Bar], *, chart_id: str, title: str, desc: str, scale: float | None = None
) -> SafeString:
    """Horizontal bars, one row per item: the label above its bar, the number at its end.
    `scale` is the value of a full bar (1 for shares; the largest value when None)."""
    row_h, bar_h, label_h, gap = 34, 10, 14, 4
    height = max(row_h, row_h * len(items)) + gap
    top = max((it.value or 0 for it in items), default=0)
    full = scale if scale is not None else (top or 1)
    width = WIDTH - 56  # room for the number after the bar
    parts = []
    for i, it in enumerate(items):
        y0 = gap + i * row_h
        w = 0 if not it.value else max(1.5, width * min(1.0, it.value / full))
        parts.append(
            f"<g><title>{escape(it.label)}: {escape(it.text)}</title>"
            f'<text class="label" x="0" y="{y0 + label_h - 3}">{escape(it.label)}</text>'
            f'<rect class="track" x="0" y="{y0 + label_h}" width="{width}" height="{bar_h}"/>'
            f'<rect class="bar" x="0" y="{y0 + label_h}" width="{w:.1f}" height="{bar_h}"/>'
            f'<text class="value" x="{width + 6}" y="{y0 + label_h + bar_h - 1}">'
            f"{escape(it.text)}</text></g>"
        )
    if not items:
        parts.append(f'<text class="label" x="0" y="{label_h + gap}">—</text>')
    return _svg(chart_id=chart_id, height=height, title=title, desc=desc, body="".join(parts))
