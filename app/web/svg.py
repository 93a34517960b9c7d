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


MARKER_RADIUS = 10
# Markers closer than this (px) would cover each other: they are spread on a ring.
OVERLAP_PX = 2 * MARKER_RADIUS + 2


def spread(
    xy: list[tuple[float, float]], *, fixed: int = 1, width: int = 300, height: int = 220
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Markers that coincide (same address, or the commune centre) set apart, deterministically.

    The first ``fixed`` points (the practice) stay; the others are grouped in order with any
    earlier marker closer than ``OVERLAP_PX`` and the group is laid on a ring around its
    first position, stop order clockwise from the top. Returns the positions to draw and
    the centres of the groups spread (where the patients really are), for a small dot.
    """
    out = list(xy)
    groups: list[tuple[tuple[float, float], list[int]]] = []
    anchors = [(xy[i], True) for i in range(fixed)]
    for index in range(fixed, len(xy)):
        x, y = xy[index]
        for centre, members in groups:
            if math.dist(centre, (x, y)) < OVERLAP_PX:
                members.append(index)
                break
        else:
            groups.append(((x, y), [index]))
    centres: list[tuple[float, float]] = []
    margin = MARKER_RADIUS + 2
    for centre, members in groups:
        near_fixed = any(math.dist(centre, a) < OVERLAP_PX for a, _ in anchors)
        if len(members) == 1 and not near_fixed:
            continue
        n = len(members) + (1 if near_fixed and len(members) == 1 else 0)
        radius = max(OVERLAP_PX * 0.6, (OVERLAP_PX / 2) / math.sin(math.pi / n) if n > 1 else 0)
        if near_fixed:
            radius = max(radius, OVERLAP_PX + 2)
        # Keep the ring inside the picture.
        cx = min(max(centre[0], margin + radius), width - margin - radius)
        cy = min(max(centre[1], margin + radius), height - margin - radius)
        slots = max(n, len(members))
        for k, index in enumerate(members):
            angle = -math.pi / 2 + 2 * math.pi * k / slots
            out[index] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
        centres.append(centre)
    return out, centres


def round_map(
    depot: Point, stops: list[Point], *, title: str, width: int = 300, height: int = 220
) -> Markup:
    """The practice, then each stop in order, and back: a numbered polyline."""
    located = [p for p in stops if p.lat is not None and p.lon is not None]
    points = [depot, *located]
    xy, centres = spread(_project(points, width, height, pad=22), width=width, height=height)
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
    for cx, cy in centres:  # where the set-apart markers really are
        parts.append(
            f'<path class="true-place" d="M{cx - 4:.1f} {cy:.1f}h8M{cx:.1f} {cy - 4:.1f}v8" '
            'stroke="#12324f" stroke-width="2"/>'
        )
    for index, ((x, y), point) in enumerate(zip(xy, points, strict=True)):
        fill = "#12324f" if index == 0 else "#a4161a"
        shape = (
            f'<rect x="{x - 9:.1f}" y="{y - 9:.1f}" width="18" height="18" fill="{fill}"/>'
            if index == 0
            else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{MARKER_RADIUS}" fill="{fill}" '
            'stroke="#fff" stroke-width="1.5"/>'
        )
        parts.append(
            f"<g><title>{escape(point.title)}</title>{shape}"
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="11" '
            f'font-weight="700" fill="#fff">{escape(point.label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
