"""Charts as inline SVG drawn on the server: the dashboard loads nothing from any network.

Two shapes are enough for the figures: horizontal bars (services, languages, outcomes) and
weekly columns (trends). A hidden figure (``None``, fewer than K people) is drawn as no bar
with "< K" in its place, so a chart never shows what the table hides.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from monitoring.privacy import K

BAR_HEIGHT = 22
WIDTH = 520
LABEL_WIDTH = 190
COLOR = "#2f6f9f"


def bars(title: str, items: Sequence[tuple[str, int | None]]) -> str:
    """A horizontal bar chart of (label, value) pairs."""
    values = [v for _, v in items if v is not None]
    top = max(values, default=0) or 1
    height = BAR_HEIGHT * max(len(items), 1) + 30
    parts = [
        f'<svg class="chart bars" role="img" aria-label="{escape(title)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    span = WIDTH - LABEL_WIDTH - 60
    for row, (label, value) in enumerate(items):
        y = 20 + row * BAR_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" '
            f'font-size="12">{escape(str(label))}</text>'
        )
        if value is None:
            parts.append(
                f'<text x="{LABEL_WIDTH}" y="{y + 14}" font-size="12" fill="#777">&lt; {K}</text>'
            )
            continue
        length = max(1, round(span * value / top))
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{length}" '
            f'height="{BAR_HEIGHT - 6}" fill="{COLOR}"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 14}" font-size="12">{value}</text>'
        )
    if not items:
        parts.append('<text x="10" y="24" font-size="12">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def columns(title: str, items: Sequence[tuple[str, int | None]]) -> str:
    """Vertical columns, one per week, labelled with the week's Monday (MM-DD)."""
    values = [v for _, v in items if v is not None]
    top = max(values, default=0) or 1
    width = max(WIDTH, 40 * len(items) + 40)
    height, base = 220, 180
    parts = [
        f'<svg class="chart columns" role="img" aria-label="{escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        x = 30 + index * 40
        parts.append(
            f'<text x="{x + 14}" y="{base + 16}" text-anchor="middle" '
            f'font-size="10">{escape(label[5:])}</text>'
        )
        if value is None:
            parts.append(
                f'<text x="{x + 14}" y="{base - 4}" text-anchor="middle" '
                f'font-size="10" fill="#777">&lt;{K}</text>'
            )
            continue
        bar = max(1, round(150 * value / top))
        parts.append(f'<rect x="{x}" y="{base - bar}" width="28" height="{bar}" fill="{COLOR}"/>')
        parts.append(
            f'<text x="{x + 14}" y="{base - bar - 4}" text-anchor="middle" '
            f'font-size="10">{value}</text>'
        )
    if not items:
        parts.append('<text x="10" y="24" font-size="12">no data</text>')
    parts.append("</svg>")
    return "".join(parts)
