"""The demo territory (CPTS de la Bièvre, Val-de-Marne) and seeded mornings on it.

The communes are real (INSEE code, population, centre); the 11 GPs are
fictitious. Beyond them, :func:`team` adds synthetic titular/adjoint pairs
(practices drawn over the communes by population, deterministic for a seed)
so the benchmarks can grow the team with the visits. The app reads its
territory from the database; this module serves the benchmarks and tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from scheduler.model import (
    Instance,
    Practitioner,
    Session,
    SessionKind,
    Status,
    Urgency,
    Visit,
    Window,
)


@dataclass(frozen=True)
class Commune:
    """A commune of the CPTS: INSEE code, 2019 population, centre coordinates."""

    insee: str
    name: str
    population: int
    lat: float
    lon: float


COMMUNES: tuple[Commune, ...] = (
    Commune("94016", "Cachan", 31069, 48.7914, 2.3336),
    Commune("94038", "L'Haÿ-les-Roses", 31204, 48.7800, 2.3374),
    Commune("94034", "Fresnes", 27802, 48.7558, 2.3222),
    Commune("94021", "Chevilly-Larue", 19491, 48.7664, 2.3533),
    Commune("94065", "Rungis", 5611, 48.7470, 2.3497),
)

#: (id, name, commune INSEE, practice offset north/east in degrees, languages)
_TITULARS = (
    ("T1", "Dr Martin", "94016", (0.002, -0.003), ("fr", "en")),
    ("T2", "Dr Bernard", "94038", (-0.001, 0.002), ("fr", "ar")),
    ("T3", "Dr Dubois", "94034", (0.003, 0.001), ("fr", "pt")),
    ("T4", "Dr Thomas", "94021", (-0.002, -0.002), ("fr", "es")),
    ("T5", "Dr Robert", "94065", (0.001, 0.002), ("fr",)),
    ("T6", "Dr Richard", "94016", (-0.004, 0.004), ("fr", "en", "ar")),
)
#: (id, name, titular id, languages)
_ADJOINTS = (
    ("A1", "Dr Petit", "T1", ("fr", "en")),
    ("A2", "Dr Durand", "T2", ("fr", "ar")),
    ("A3", "Dr Leroy", "T3", ("fr",)),
    ("A4", "Dr Moreau", "T4", ("fr", "en")),
    ("A5", "Dr Simon", "T6", ("fr", "pt")),
)
HOME_VISITS = (10 * 60, 13 * 60)
TELECONSULTATIONS = (14 * 60, 20 * 60)


def commune(insee: str) -> Commune:
    """The commune with this INSEE code."""
    return next(c for c in COMMUNES if c.insee == insee)


#: The demo team's size; :func:`team` synthesises GPs beyond it.
DEMO_GPS = len(_TITULARS) + len(_ADJOINTS)
#: Languages a synthetic GP may speak besides French, with their odds.
_SYNTHETIC_LANGUAGES = (("en", 0.35), ("ar", 0.15), ("pt", 0.08), ("es", 0.08))


def team(
    day: date = date(2025, 3, 4), gps: int = DEMO_GPS, seed: int = 0
) -> tuple[Practitioner, ...]:
    """The 11 fictitious GPs, then synthetic pairs up to ``gps`` GPs.

    The demo's 6 titulars and 5 adjoints (each authorised 3 months around
    ``day``) come first, unchanged; beyond them come synthetic pairs
    (:func:`synthetic_pairs`), a titular and then their adjoint.
    """
    out = list(_demo_team(day))
    if gps > len(out):
        out.extend(synthetic_pairs(day, gps - len(out), seed))
    return tuple(out)


def _adjoint(
    pid: str, name: str, titular: Practitioner, day: date, langs: frozenset[str]
) -> Practitioner:
    return Practitioner(
        pid,
        name,
        titular.lat,
        titular.lon,
        status=Status.ADJOINT,
        titular_id=titular.id,
        authorised_from=date.fromordinal(day.toordinal() - 30),
        authorised_until=date.fromordinal(day.toordinal() + 60),
        languages=langs,
        max_visits=6,
    )


def synthetic_pairs(day: date, count: int, seed: int = 0) -> tuple[Practitioner, ...]:
    """``count`` synthetic GPs: titular (T7, T8…) then adjoint (A7…) sharing the practice.

    Practices are drawn over the communes by population and scattered around
    their centre like the homes; languages: French plus a few others. The
    draw has its own generator (``seed`` and nothing else), so it does not
    shift the visits a seeded morning draws, and the first pairs are the same
    whatever ``count``.
    """
    rng = random.Random(f"bievre-gps-{seed}")
    out: list[Practitioner] = []
    n = len(_TITULARS) + 1
    while len(out) < count:
        c = rng.choices(COMMUNES, weights=[c.population for c in COMMUNES])[0]
        lat, lon = c.lat + rng.gauss(0, 0.004), c.lon + rng.gauss(0, 0.006)
        titular_langs, adjoint_langs = _languages(rng), _languages(rng)
        titular = Practitioner(
            f"T{n}", f"Dr Titulaire {n}", lat, lon, languages=titular_langs, max_visits=7
        )
        out.append(titular)
        if len(out) < count:
            out.append(_adjoint(f"A{n}", f"Dr Adjoint {n}", titular, day, adjoint_langs))
        n += 1
    return tuple(out)


def _languages(rng: random.Random) -> frozenset[str]:
    return frozenset(["fr", *(lg for lg, odds in _SYNTHETIC_LANGUAGES if rng.random() < odds)])


def _demo_team(day: date) -> tuple[Practitioner, ...]:
    """The 11 fictitious GPs: 6 titular, 5 adjoint each authorised 3 months around ``day``."""
    out = []
    for pid, name, insee, (dlat, dlon), langs in _TITULARS:
        c = commune(insee)
        out.append(
            Practitioner(
                pid, name, c.lat + dlat, c.lon + dlon, languages=frozenset(langs), max_visits=7
            )
        )
    titulars = {p.id: p for p in out}
    for pid, name, titular, langs in _ADJOINTS:
        out.append(_adjoint(pid, name, titulars[titular], day, frozenset(langs)))
    return tuple(out)


def full_sessions(practitioners: tuple[Practitioner, ...]) -> tuple[Session, ...]:
    """Everyone on both modalities for the platform's opening hours."""
    out = []
    for p in practitioners:
        out.append(Session(p.id, SessionKind.HOME_VISIT, *HOME_VISITS))
        out.append(Session(p.id, SessionKind.TELECONSULTATION, *TELECONSULTATIONS))
    return tuple(out)


def random_point(rng: random.Random) -> tuple[float, float]:
    """A home in a commune drawn by population, scattered around its centre."""
    c = rng.choices(COMMUNES, weights=[c.population for c in COMMUNES])[0]
    return c.lat + rng.gauss(0, 0.005), c.lon + rng.gauss(0, 0.007)


def random_visit(rng: random.Random, vid: str, gp_ids: list[str]) -> Visit:
    """One visit with the mix we see: urgencies, some windows, promises, languages."""
    lat, lon = random_point(rng)
    urgency = rng.choices(list(Urgency), weights=[3, 4, 3])[0]
    window = promised = deadline = None
    r = rng.random()
    if r < 0.15:
        window = Window(10 * 60, 11 * 60 + 30)
    elif r < 0.30:
        window = Window(11 * 60 + 30, 13 * 60)
    if rng.random() < 0.2:
        start = rng.randrange(10 * 60, 12 * 60 + 1, 15)
        promised = Window(start, start + 60)
    if urgency == Urgency.SAME_DAY and rng.random() < 0.25:
        deadline = 12 * 60
    language = rng.choices([None, "en", "ar", "pt", "es"], weights=[88, 4, 4, 2, 2])[0]
    preferred = rng.choice(gp_ids) if rng.random() < 0.15 else None
    return Visit(
        vid,
        lat,
        lon,
        urgency=urgency,
        service_minutes=rng.choice([15, 20, 20, 25]),
        window=window,
        deadline=deadline,
        promised=promised,
        language=language,
        preferred_practitioner_id=preferred,
    )


def morning(
    visits: int = 40, gps: int = 11, seed: int = 0, day: date = date(2025, 3, 4)
) -> Instance:
    """A seeded Bièvre morning: ``gps`` GPs and ``visits`` visits.

    Up to the demo's 11, ``gps`` GPs of its team (titulars first; adjoints
    only kept with their titular, so a small team stays legal); beyond, the
    whole demo team plus synthetic pairs (:func:`synthetic_pairs`).
    """
    rng = random.Random(seed)
    if gps > DEMO_GPS:
        chosen = list(team(day, gps, seed))
    else:
        everyone = _demo_team(day)
        chosen = [p for p in everyone if p.status == Status.TITULAR][:gps]
        for p in everyone:
            if len(chosen) < gps and p.status == Status.ADJOINT:
                if any(t.id == p.titular_id for t in chosen):
                    chosen.append(p)
    gp_ids = [p.id for p in chosen]
    todo = tuple(random_visit(rng, f"V{i + 1:03d}", gp_ids) for i in range(visits))
    practitioners = tuple(chosen)
    return Instance(day, practitioners, full_sessions(practitioners), todo)
