"""The agenda grid's geometry: where each session, appointment and free time sits.

Pure functions over rows already read (no database): a time axis cut in rows of
``STEP_MINUTES``, one column per GP (the team's day) or per day (one GP's week). A page
places items with CSS classes only (``r<row>`` start, ``s<rows>`` span, ``c<col>``/``w<n>``
lane on a 12-track grid): the pages' CSP forbids inline styles.

What is free is not decided here: the caller hands the free times the roster's rules
(``app.practitioners.eligibility``) found bookable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.timeutil import PARIS

STEP_MINUTES = 5  # one grid row
LANE_TRACKS = 12  # an overlapping cluster shares a column's 12 tracks (1, 2, 3, 4, 6… lanes)
DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 8, 18


@dataclass
class Placed:
    """One thing drawn in a column, with its CSS placement."""

    kind: str  # "band" (a session), "appt" (an appointment), "free" (a free time)
    start: dt.datetime
    end: dt.datetime
    data: dict[str, Any]
    row: int = 1
    span: int = 1
    lane: int = 0
    lanes: int = 1

    @property
    def css(self) -> str:
        width = LANE_TRACKS // max(1, min(self.lanes, LANE_TRACKS))
        return f"r{self.row} s{self.span} c{self.lane * width + 1} w{width}"


@dataclass
class Column:
    key: str
    title: str
    practitioner_id: int
    day: dt.date
    bands: list[Placed] = field(default_factory=list)
    items: list[Placed] = field(default_factory=list)  # appointments and free times


@dataclass
class Axis:
    first_hour: int
    last_hour: int

    @property
    def hours(self) -> list[tuple[int, str]]:
        """(row, "09:00") for each hour line."""
        return [
            (self.row_of_minutes((h - self.first_hour) * 60), f"{h:02d}:00")
            for h in range(self.first_hour, self.last_hour)
        ]

    @property
    def rows(self) -> int:
        return (self.last_hour - self.first_hour) * 60 // STEP_MINUTES

    @staticmethod
    def row_of_minutes(minutes: float) -> int:
        return int(minutes // STEP_MINUTES) + 1

    def minutes(self, moment: dt.datetime) -> float:
        local = moment.astimezone(PARIS)
        return (local.hour - self.first_hour) * 60 + local.minute + local.second / 60

    def place(self, item: Placed) -> Placed:
        start = max(0.0, self.minutes(item.start))
        # An item running past midnight (or the axis) is cut at the axis' end.
        end_local = item.end.astimezone(PARIS)
        same_day = end_local.date() == item.start.astimezone(PARIS).date()
        end = self.minutes(item.end) if same_day else (self.last_hour - self.first_hour) * 60
        end = min(end, (self.last_hour - self.first_hour) * 60)
        item.row = self.row_of_minutes(start)
        item.span = max(1, math.ceil((end - (item.row - 1) * STEP_MINUTES) / STEP_MINUTES))
        return item


def axis_for(periods: Iterable[tuple[dt.datetime, dt.datetime]]) -> Axis:
    """Whole hours covering every session (08:00–18:00 when there is none)."""
    firsts, lasts = [], []
    for start, end in periods:
        s, e = start.astimezone(PARIS), end.astimezone(PARIS)
        firsts.append(s.hour)
        lasts.append(24 if e.date() != s.date() else e.hour + (1 if (e.minute or e.second) else 0))
    if not firsts:
        return Axis(DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR)
    return Axis(min(firsts), max(max(lasts), min(firsts) + 1))


def assign_lanes(items: Sequence[Placed]) -> None:
    """Overlapping items side by side: clusters of overlaps share the column in lanes."""
    ordered = sorted(items, key=lambda i: (i.row, -i.span))
    cluster: list[Placed] = []
    lane_ends: list[int] = []
    cluster_end = 0

    def close() -> None:
        for member in cluster:
            member.lanes = len(lane_ends)

    for item in ordered:
        first, last = item.row, item.row + item.span
        if cluster and first >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for index, lane_end in enumerate(lane_ends):
            if lane_end <= first:
                item.lane, lane_ends[index] = index, last
                break
        else:
            item.lane = len(lane_ends)
            lane_ends.append(last)
        cluster.append(item)
        cluster_end = max(cluster_end, last) if len(cluster) > 1 else last
    if cluster:
        close()


def lay_out(columns: list[Column]) -> Axis:
    """One axis for every column, each item placed on it and given its lane."""
    axis = axis_for((b.start, b.end) for c in columns for b in c.bands)
    for column in columns:
        for band in column.bands:
            axis.place(band)
        for item in column.items:
            axis.place(item)
        column.items.sort(key=lambda i: (i.row, i.kind != "appt"))
        assign_lanes(column.items)
    return axis
