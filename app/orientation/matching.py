"""Assign waiting patients to GPs accepting new patients: a min-cost flow, no database.

Frozen dataclasses in (:class:`WaitingPatient`, :class:`AvailableGP`,
:class:`MatchParameters`), :func:`match` out (:class:`MatchResult`), plus
:func:`greedy` (the "closest GP with room" baseline the benchmark compares with).

The network is source → patient (1) → GP (candidate arcs only) → sink (capacity).
Each patient also has a direct arc to the sink, "not matched", whose cost is a
penalty. Penalties are tiered so that the optimum is lexicographic: first the
number of vulnerable patients matched, then the number of patients matched,
then the waiting time of those matched, then travel (with language and GP
history as adjustments). The tier sizes follow from the instance: a change
between two solutions decomposes into alternating paths that each add and
remove at most one patient and use at most ``2 × #GPs`` arcs, so each tier
only has to outweigh ``2 × #GPs × max arc cost`` plus the tiers below.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from scheduler.travel import HaversineTravelTime, TravelTimeProvider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitingPatient:
    """A patient on the orientation list, waiting for a médecin traitant."""

    id: int
    latitude: float | None
    longitude: float | None
    vulnerable: bool = False
    waiting_days: int = 0
    language: str = "fr"
    commune_insee: str | None = None
    # GPs this patient already saw on the platform (continuity preference).
    history_gp_ids: frozenset[str] = frozenset()
    # GPs this patient already refused: never proposed again.
    refused_gp_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AvailableGP:
    """A titular GP (platform or territory) with room for new patients this month."""

    id: str
    latitude: float
    longitude: float
    capacity: int
    languages: frozenset[str] = frozenset({"fr"})
    # INSEE codes covered; empty means every commune of the territory.
    communes: frozenset[str] = frozenset()
    label: str = ""


@dataclass(frozen=True)
class MatchParameters:
    """Weights in tenths of a travel minute (an arc costs at most ``max_arc_cost``)."""

    max_travel_minutes: float = 40.0
    language_penalty: int = 50  # = 5 minutes of travel
    history_bonus: int = 30  # = 3 minutes of travel
    max_waiting_days: int = 180  # waiting beyond this counts the same


@dataclass(frozen=True)
class Match:
    patient_id: int
    gp_id: str
    travel_minutes: float
    language_match: bool
    history: bool

    def explain(self) -> str:
        parts = [f"trajet estimé {self.travel_minutes:.0f} min"]
        parts.append("parle la langue du patient" if self.language_match else "langue différente")
        if self.history:
            parts.append("médecin déjà vu par le patient sur la plateforme")
        return " ; ".join(parts)


@dataclass(frozen=True)
class Unmatched:
    patient_id: int
    reason: str
    code: str


@dataclass(frozen=True)
class MatchResult:
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    capacity_total: int
    solve_seconds: float
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def capacity_used(self) -> float:
        return len(self.matches) / self.capacity_total if self.capacity_total else 0.0

    def by_gp(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.matches:
            counts[m.gp_id] = counts.get(m.gp_id, 0) + 1
        return counts


ARC_SCALE = 10  # tenths of a minute


def travel_minutes(
    patients: Sequence[WaitingPatient],
    gps: Sequence[AvailableGP],
    provider: TravelTimeProvider | None = None,
    chunk: int = 400,
) -> np.ndarray:
    """Travel minutes patient (rows) → practice (columns); NaN when a patient has no place."""
    provider = provider or HaversineTravelTime()
    out = np.full((len(patients), len(gps)), np.nan)
    located = [
        i for i, p in enumerate(patients) if p.latitude is not None and p.longitude is not None
    ]
    gp_points = [(g.latitude, g.longitude) for g in gps]
    for start in range(0, len(located), chunk):
        rows = located[start : start + chunk]
        points = [(patients[i].latitude, patients[i].longitude) for i in rows] + gp_points
        m = provider.matrix(points)  # type: ignore[arg-type]
        out[rows, :] = m[: len(rows), len(rows) :]
    return out


@dataclass
class _Candidates:
    gp_index: list[list[int]]
    cost: list[list[int]]
    reasons: dict[int, Unmatched]


def _candidates(
    patients: Sequence[WaitingPatient],
    gps: Sequence[AvailableGP],
    minutes: np.ndarray,
    params: MatchParameters,
) -> _Candidates:
    """The arcs worth considering, and why a patient has none."""
    gp_index: list[list[int]] = []
    cost: list[list[int]] = []
    reasons: dict[int, Unmatched] = {}
    offset = params.history_bonus
    for i, p in enumerate(patients):
        arcs: list[int] = []
        costs: list[int] = []
        if p.latitude is None or p.longitude is None:
            reasons[i] = Unmatched(
                p.id,
                "Adresse non localisée : impossible d'estimer le trajet vers un cabinet.",
                "no_location",
            )
            gp_index.append(arcs)
            cost.append(costs)
            continue
        covering = refused = far = 0
        for j, g in enumerate(gps):
            if g.capacity <= 0:
                continue
            if g.communes and p.commune_insee not in g.communes:
                continue
            covering += 1
            if g.id in p.refused_gp_ids:
                refused += 1
                continue
            if minutes[i, j] > params.max_travel_minutes:
                far += 1
                continue
            c = int(round(minutes[i, j] * ARC_SCALE)) + offset
            if p.language not in g.languages:
                c += params.language_penalty
            if g.id in p.history_gp_ids:
                c -= params.history_bonus
            arcs.append(j)
            costs.append(c)
        if not arcs:
            if covering == 0:
                reason = Unmatched(
                    p.id,
                    "Aucun médecin acceptant de nouveaux patients ne couvre sa commune.",
                    "no_gp_for_commune",
                )
            elif refused == covering:
                reason = Unmatched(
                    p.id,
                    "Le patient a déjà refusé tous les médecins qui couvrent sa commune.",
                    "all_refused",
                )
            else:
                reason = Unmatched(
                    p.id,
                    f"Aucun cabinet disponible à moins de {params.max_travel_minutes:.0f} min "
                    "de trajet.",
                    "too_far",
                )
            reasons[i] = reason
        gp_index.append(arcs)
        cost.append(costs)
    return _Candidates(gp_index, cost, reasons)


def match(
    patients: Sequence[WaitingPatient],
    gps: Sequence[AvailableGP],
    params: MatchParameters | None = None,
    travel: TravelTimeProvider | None = None,
) -> MatchResult:
    """Propose a GP to as many waiting patients as capacities allow, vulnerable first.

    Deterministic: inputs are sorted by id, so their order does not matter.
    """
    params = params or MatchParameters()
    started = time.perf_counter()
    patients = sorted(patients, key=lambda p: p.id)
    gps = sorted(gps, key=lambda g: g.id)
    minutes = travel_minutes(patients, gps, travel)
    cand = _candidates(patients, gps, minutes, params)

    n, m = len(patients), len(gps)
    max_arc = int(params.max_travel_minutes * ARC_SCALE) + params.language_penalty
    max_arc += 2 * params.history_bonus
    path = 2 * max(m, 1) * max_arc + 1  # the most a single alternating path can change travel
    wait_weight = path + 1
    base = params.max_waiting_days * wait_weight + path + 1
    vulnerable_weight = base + params.max_waiting_days * wait_weight + path + 1

    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = n + m, n + m + 1
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    for i, p in enumerate(patients):
        tails.append(source)
        heads.append(i)
        caps.append(1)
        costs.append(0)
        wait = min(max(p.waiting_days, 0), params.max_waiting_days)
        penalty = base + wait * wait_weight + (vulnerable_weight if p.vulnerable else 0)
        tails.append(i)
        heads.append(sink)
        caps.append(1)
        costs.append(penalty)
        for j, c in zip(cand.gp_index[i], cand.cost[i], strict=True):
            tails.append(i)
            heads.append(n + j)
            caps.append(1)
            costs.append(c)
    for j, g in enumerate(gps):
        tails.append(n + j)
        heads.append(sink)
        caps.append(max(g.capacity, 0))
        costs.append(0)
    if tails:
        flow.add_arcs_with_capacity_and_unit_cost(
            np.asarray(tails), np.asarray(heads), np.asarray(caps), np.asarray(costs)
        )
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    if n:
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")

    assigned: dict[int, int] = {}
    if n:
        arc_tails = np.asarray(tails)
        arc_heads = np.asarray(heads)
        flows = np.asarray([flow.flow(a) for a in range(len(tails))])
        used = (flows > 0) & (arc_tails < n) & (arc_heads >= n) & (arc_heads < n + m)
        for a in np.nonzero(used)[0]:
            assigned[int(arc_tails[a])] = int(arc_heads[a]) - n

    matches: list[Match] = []
    unmatched: list[Unmatched] = []
    for i, p in enumerate(patients):
        if i in assigned:
            g = gps[assigned[i]]
            matches.append(
                Match(
                    patient_id=p.id,
                    gp_id=g.id,
                    travel_minutes=float(minutes[i, assigned[i]]),
                    language_match=p.language in g.languages,
                    history=g.id in p.history_gp_ids,
                )
            )
        elif i in cand.reasons:
            unmatched.append(cand.reasons[i])
        else:
            unmatched.append(
                Unmatched(
                    p.id,
                    f"Capacité épuisée : les {len(cand.gp_index[i])} médecins possibles sont "
                    "complets ce mois-ci (priorité aux patients vulnérables, puis à l'attente "
                    "la plus longue).",
                    "capacity_exhausted",
                )
            )
    elapsed = time.perf_counter() - started
    result = MatchResult(
        matches=tuple(matches),
        unmatched=tuple(unmatched),
        capacity_total=sum(max(g.capacity, 0) for g in gps),
        solve_seconds=elapsed,
        stats=summarise(matches, patients),
    )
    logger.info("orientation matching: %d/%d patients matched in %.2fs", len(matches), n, elapsed)
    return result


def summarise(matches: Sequence[Match], patients: Sequence[WaitingPatient]) -> dict[str, float]:
    """Patients matched, vulnerable matched, mean travel: the figures compared with greedy."""
    vulnerable = {p.id for p in patients if p.vulnerable}
    return {
        "matched": float(len(matches)),
        "vulnerable_matched": float(sum(1 for m in matches if m.patient_id in vulnerable)),
        "mean_travel_minutes": (
            float(np.mean([m.travel_minutes for m in matches])) if matches else 0.0
        ),
        "language_matched": float(sum(1 for m in matches if m.language_match)),
    }


def greedy(
    patients: Sequence[WaitingPatient],
    gps: Sequence[AvailableGP],
    params: MatchParameters | None = None,
    travel: TravelTimeProvider | None = None,
) -> MatchResult:
    """Baseline: in priority order (vulnerable, then longest wait), the closest GP with room."""
    params = params or MatchParameters()
    started = time.perf_counter()
    patients = sorted(patients, key=lambda p: p.id)
    gps = sorted(gps, key=lambda g: g.id)
    minutes = travel_minutes(patients, gps, travel)
    cand = _candidates(patients, gps, minutes, params)
    room = [g.capacity for g in gps]
    order = sorted(
        range(len(patients)),
        key=lambda i: (not patients[i].vulnerable, -patients[i].waiting_days, patients[i].id),
    )
    matches: list[Match] = []
    unmatched: list[Unmatched] = []
    for i in order:
        p = patients[i]
        options = sorted((minutes[i, j], j) for j in cand.gp_index[i] if room[j] > 0)
        if not options:
            unmatched.append(cand.reasons.get(i) or Unmatched(p.id, "Complet.", "capacity"))
            continue
        j = options[0][1]
        room[j] -= 1
        g = gps[j]
        matches.append(
            Match(
                p.id,
                g.id,
                float(minutes[i, j]),
                p.language in g.languages,
                g.id in p.history_gp_ids,
            )
        )
    return MatchResult(
        matches=tuple(sorted(matches, key=lambda m: m.patient_id)),
        unmatched=tuple(sorted(unmatched, key=lambda u: u.patient_id)),
        capacity_total=sum(max(g.capacity, 0) for g in gps),
        solve_seconds=time.perf_counter() - started,
        stats=summarise(matches, patients),
    )
