"""A round drawn as SVG from coordinates alone (no map tiles: the machines have no internet)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    label: str  # short text in the marker ("1", "2", … or "C" for the practice)
    title: str  # tooltip and accessible description


def _project(points: list[Point], width: int, height: int, pad: int) -> list[tuple[float, float]]:
    # Equirectangular with the longitude shrunk by cos(latitude): right at a commune's scale.
    mid_lat = sum(p.lat for p in points) / len(points)
    k = math.cos(math.radians(mid_lat))
    xs = [p.lon * k for p in points]
    ys = [p.lat for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-3)
    scale = min(width - 2 * pad, height - 2 * pad) / span
    cx = (max(xs) + min(xs)) / 2
    cy = (max(ys) + min(ys)) / 2
    return [
        (width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale)
        for x, y in zip(xs, ys, strict=True)
    ]


def round_map(
    depot: Point, stops: list[Point], *, title: str, width: int = 300, height: int = 220
) -> Markup:
    """The practice, then each stop in order, and back: a numbered polyline."""
    located = [p for p in stops if p.lat is not None and p.lon is not None]
    points = [depot, *located]
    xy = _project(points, width, height, pad=22)
    path = [*xy, xy[0]] if located else xy
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
    parts = [
        f'<svg class="round-map" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef3f7" rx="6"/>',
        f'<polyline points="{line}" fill="none" stroke="#0b5cad" stroke-width="2.5" '
        'stroke-dasharray="6 3" stroke-linejoin="round"/>',
    ]
    for index, ((x, y), point) in enumerate(zip(xy, points, strict=True)):
        fill = "#12324f" if index == 0 else "#a4161a"
        shape = (
            f'<rect x="{x - 9:.1f}" y="{y - 9:.1f}" width="18" height="18" fill="{fill}"/>'
            if index == 0
            else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{fill}"/>'
        )
        parts.append(
            f"<g><title>{escape(point.title)}</title>{shape}"
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="11" '
            f'font-weight="700" fill="#fff">{escape(point.label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
