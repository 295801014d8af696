"""Charts for report.html as inline SVG: no matplotlib, no script, no network.

Two kinds are enough: horizontal bars (where the lines went, issue counts, rejection
reasons) and paired bars (quality before and after per dimension, on the 1-5 scale). Labels
sit left of the bars and the legend above the plot, so nothing covers a bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

__all__ = ["bars", "paired_bars"]

_ROW: Final = 22
_LABEL: Final = 210
_PLOT: Final = 360
_COLORS: Final = ("#4c78a8", "#f58518")


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _open(title: str, height: int) -> list[str]:
    """The chart's opening tag, accessible name and visible title."""
    width = _LABEL + _PLOT + 80
    return [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        _text(0, 16, title, cls="title"),
    ]


def bars(title: str, rows: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """Horizontal bars, one per ``(label, value)``, the value written after each bar."""
    top = max((v for _, v in rows), default=0) or 1
    parts = _open(title, _ROW * len(rows) + 30)
    for i, (label, value) in enumerate(rows):
        y = 26 + i * _ROW
        width = _PLOT * value / top
        parts += [
            _text(_LABEL - 6, y + 14, label, anchor="end"),
            f'<rect x="{_LABEL}" y="{y + 3}" width="{width:.1f}" height="{_ROW - 6}" '
            f'fill="{_COLORS[0]}"><title>{escape(label)}: {value:g}{unit}</title></rect>',
            _text(_LABEL + width + 4, y + 14, f"{value:g}{unit}"),
        ]
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    names: tuple[str, str] = ("before", "after"),
    scale: float = 5.0,
) -> str:
    """Two bars per ``(label, first, second)`` on a 0..``scale`` axis, with the legend
    above the plot."""
    pair = 2 * (_ROW - 6) + 8
    parts = _open(title, pair * len(rows) + 50)
    for n, (name, color) in enumerate(zip(names, _COLORS, strict=True)):
        x = _LABEL + n * 110
        parts += [
            f'<rect x="{x}" y="26" width="12" height="12" fill="{color}"/>',
            _text(x + 16, 37, name),
        ]
    for i, (label, *values) in enumerate(rows):
        y = 46 + i * pair
        parts.append(_text(_LABEL - 6, y + pair / 2 + 2, label, anchor="end"))
        for n, value in enumerate(values):
            if value is None:
                continue
            width = _PLOT * max(0.0, float(value)) / scale
            by = y + n * (_ROW - 6)
            parts += [
                f'<rect x="{_LABEL}" y="{by}" width="{width:.1f}" height="{_ROW - 8}" '
                f'fill="{_COLORS[n]}"><title>{escape(label)} {names[n]}: {value:.2f}'
                "</title></rect>",
                _text(_LABEL + width + 4, by + _ROW - 10, f"{value:.2f}"),
            ]
    parts.append("</svg>")
    return "".join(parts)
