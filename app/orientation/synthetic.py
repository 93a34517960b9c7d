"""Synthetic orientation instances on the Bièvre territory (benchmark, tests, demo)."""

from __future__ import annotations

import math
import random

from app.orientation.matching import AvailableGP, WaitingPatient
from app.territory.service import DEMO_TERRITORY_FILE, communes_of, read_file

OTHER_LANGUAGES = ("ar", "pt", "zh", "ro", "en", "es", "tr")


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    r = km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = r * math.cos(angle) / 111.0
    dlon = r * math.sin(angle) / (111.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def bievre_instance(
    n_patients: int = 5000,
    n_gps: int = 60,
    seed: int = 0,
    capacity_ratio: float = 0.75,
) -> tuple[list[WaitingPatient], list[AvailableGP]]:
    """Patients spread by population over the 5 communes, GPs covering their commune
    and its neighbours, total capacity ``capacity_ratio`` × patients (scarce on purpose)."""
    rng = random.Random(seed)
    communes = communes_of(read_file(DEMO_TERRITORY_FILE)).items  # in the file order
    weights = [c.population for c in communes]
    gps: list[AvailableGP] = []
    total_capacity = int(n_patients * capacity_ratio)
    raw = [rng.uniform(0.5, 1.5) for _ in range(n_gps)]
    scale = total_capacity / sum(raw)
    for k in range(n_gps):
        home = rng.choices(communes, weights=weights)[0]
        lat, lon = _jitter(rng, home.latitude, home.longitude, 1.2)
        neighbours = sorted(
            communes, key=lambda c: (c.latitude - lat) ** 2 + (c.longitude - lon) ** 2
        )
        covered = frozenset(c.insee for c in neighbours[: rng.choice((2, 3, 3, 4))])
        languages = {"fr"}
        if rng.random() < 0.35:
            languages.add(rng.choice(OTHER_LANGUAGES))
        gps.append(
            AvailableGP(
                id=f"g{k:03d}",
                latitude=lat,
                longitude=lon,
                capacity=max(1, round(raw[k] * scale)),
                languages=frozenset(languages),
                communes=covered,
                label=f"Dr {k}",
            )
        )
    patients: list[WaitingPatient] = []
    for i in range(n_patients):
        commune = rng.choices(communes, weights=weights)[0]
        lat, lon = _jitter(rng, commune.latitude, commune.longitude, 1.5)
        language = "fr" if rng.random() < 0.85 else rng.choice(OTHER_LANGUAGES)
        history = frozenset({rng.choice(gps).id}) if rng.random() < 0.1 else frozenset()
        refused = frozenset({rng.choice(gps).id}) if rng.random() < 0.05 else frozenset()
        patients.append(
            WaitingPatient(
                id=i + 1,
                latitude=lat,
                longitude=lon,
                vulnerable=rng.random() < 0.3,
                waiting_days=rng.randint(0, 120),
                language=language,
                commune_insee=commune.insee,
                history_gp_ids=history,
                refused_gp_ids=refused - history,
            )
        )
    return patients, gps
