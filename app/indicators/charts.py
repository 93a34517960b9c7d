"""Bar charts drawn on the server as inline SVG: no script, no CDN, printable."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from app.ui import formats

PALETTE = ("#1f5f99", "#e07b39", "#4a9c5d", "#b23a48", "#7a5c99")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _label(value: Any) -> str:
    """French number (`1 234`, `12,5`); a masked count ("<5") as it is."""
    return formats.number(value, 1 if isinstance(value, float) else 0)


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """Vertical grouped bars; masked values ("<5") are drawn flat with their label."""
    left, right, top, bottom = 40, 10, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([_number(v) for _, values in series for v in values] + [1.0])
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(2.0, (group_w - 8) / max(len(series), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#333"/>',
    ]
    for g, category in enumerate(categories):
        x0 = left + g * group_w + 4
        for s, (_name, values) in enumerate(series):
            value = values[g]
            h = _number(value) / peak * plot_h
            x = x0 + s * bar_w
            y = top + plot_h - h
            colour = PALETTE[s % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(_label(value))}</title></rect>'
            )
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" class="chart-value" '
                f'text-anchor="middle">{escape(_label(value))}</text>'
            )
        parts.append(
            f'<text x="{x0 + group_w / 2 - 4:.1f}" y="{top + plot_h + 16}" class="chart-axis" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    for s, (name, _values) in enumerate(series):
        x = left + s * 150
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" class="chart-legend">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(
    title: str, items: Sequence[tuple[str, Any]], *, width: int = 640, unit: str = ""
) -> Markup:
    """One horizontal bar per item (communes, channels)."""
    row_h, left, top = 26, 190, 30
    height = top + row_h * len(items) + 10
    peak = max([_number(v) for _, v in items] + [1.0])
    plot_w = width - left - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for i, (name, value) in enumerate(items):
        y = top + i * row_h
        w = _number(value) / peak * plot_w
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" class="chart-axis" text-anchor="end">'
            f"{escape(name)}</text>"
            f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 16}" class="chart-value">'
            f"{escape(_label(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def dashboard_charts(masked: dict[str, Any]) -> dict[str, Markup]:
    """The charts of the dashboard and the printable report, from the masked report."""
    weeks = masked["by_week"]
    communes = [c for c in masked["by_commune"] if c["insee"]]
    channels = masked["requests"]["by_channel"]
    channel_names = {"phone": "Téléphone", "sas": "SAS", "web": "En ligne"}
    return {
        "weekly": grouped_bars(
            "Demandes et consultations par semaine",
            [w["week"] for w in weeks],
            [
                ("Demandes reçues", [w["requests"] for w in weeks]),
                ("Consultations", [w["consultations"] for w in weeks]),
                ("Non honorés", [w["noshow"] for w in weeks]),
            ],
        ),
        "communes": horizontal_bars(
            "Demandes pour 1 000 habitants, par commune",
            [(c["name"], c["requests_per_1000"]) for c in communes],
        ),
        "channels": horizontal_bars(
            "Demandes par canal",
            [(channel_names.get(k, k), v) for k, v in channels.items()],
        ),
    }
