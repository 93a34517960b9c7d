"""The routing problem and its answer as plain data, shared by the engine and its helpers.

:mod:`scheduler.routing` solves a :class:`RoutingProblem`; :mod:`scheduler.recombine`
improves the :class:`RoutingSolution` from the rounds the searches met. Both read
these types from here, so neither imports the other for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntMatrix = NDArray[np.int64]


@dataclass(frozen=True)
class Customer:
    """A node to visit: arrival window, service time, demand, drop penalty, allowed vehicles."""

    earliest: int
    latest: int
    service: int
    demand: int = 1
    penalty: int | None = None
    allowed_vehicles: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Vehicle:
    """A vehicle leaving ``start`` from ``earliest`` and back at ``end`` by ``latest``.

    ``soft_latest`` (None: none) is when the vehicle *should* be back: each
    time unit it returns later costs ``overtime_cost`` (a GP's overtime after
    the session end; ``latest`` stays the hard limit).
    """

    start: int
    end: int
    earliest: int
    latest: int
    capacity: int
    cost_class: int = 0
    soft_latest: int | None = None
    overtime_cost: int = 0

    def overtime(self, back: int) -> int:
        """Cost of returning at ``back`` (0 without a soft return time)."""
        if self.soft_latest is None or self.overtime_cost <= 0:
            return 0
        return max(0, back - self.soft_latest) * self.overtime_cost


@dataclass(frozen=True)
class RoutingProblem:
    """Travel times over all points, one cost matrix per cost class, customers, vehicles."""

    travel: IntMatrix
    costs: tuple[IntMatrix, ...]
    num_depots: int
    customers: tuple[Customer, ...]
    vehicles: tuple[Vehicle, ...]
    # Optionally the same costs as one common matrix plus, per cost class, an offset per
    # point charged on every arc leaving it, ``(common, offsets)``: every route then costs
    # what it costs with ``costs``. The engine registers one matrix for the first plan
    # (scheduler.routing.add_travel_costs).
    row_costs: tuple[IntMatrix, tuple[IntMatrix, ...]] | None = None

    @property
    def num_points(self) -> int:
        """Depots plus customers."""
        return self.num_depots + len(self.customers)

    def drop_penalty(self, dropped: Iterable[int]) -> int:
        """What leaving the ``dropped`` customers unserved costs in the objective."""
        return sum(self.customers[k].penalty or 0 for k in dropped)


@dataclass(frozen=True)
class RoutingSolution:
    """Routes as customer indices per vehicle, dropped customers and search facts."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    objective: int
    wall_time_s: float
    solutions: int
    stopped_by: str
    found: bool = True
    notes: dict[str, float] = field(default_factory=dict)
    search: str = ""
    first_solution: str = ""
    # Every distinct (vehicle, round) the search met, when asked to collect them.
    routes_met: frozenset[tuple[int, tuple[int, ...]]] = frozenset()
