"""Travel-time providers: an offline haversine estimate and an OSRM ``table`` client.

Every provider returns a square matrix of travel **minutes** between the
given ``(lat, lon)`` points, in their order. The OSRM client falls back to the
offline estimate when the server is slow or broken, so a plan is always made.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import httpx
import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

Point = tuple[float, float]
EARTH_RADIUS_KM = 6371.0088


@runtime_checkable
class TravelTimeProvider(Protocol):
    """Anything that turns points into a travel-time matrix in minutes."""

    def matrix(self, points: Sequence[Point]) -> NDArray[np.float64]:
        """Travel minutes from each point (rows) to each point (columns)."""
        ...


def haversine_km(points: Sequence[Point]) -> NDArray[np.float64]:
    """Great-circle distances in km between every pair of ``(lat, lon)`` points."""
    arr = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lat, lon = arr[:, 0][:, None], arr[:, 1][:, None]
    dlat, dlon = lat.T - lat, lon.T - lon
    a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class HaversineTravelTime:
    """Offline default: crow-flies distance × a circuity factor at an urban speed.

    Parameters
    ----------
    circuity
        Road distance over straight-line distance (≈1.3–1.4 in dense suburbs).
    speed_kmh
        Average door-to-door speed, parking included.
    """

    def __init__(self, circuity: float = 1.35, speed_kmh: float = 22.0) -> None:
        if circuity < 1.0 or speed_kmh <= 0:
            raise ValueError("circuity must be ≥ 1 and speed positive")
        self.circuity = circuity
        self.speed_kmh = speed_kmh

    def matrix(self, points: Sequence[Point]) -> NDArray[np.float64]:
        """Travel minutes between every pair of points."""
        if len(points) == 0:
            return np.zeros((0, 0))
        return haversine_km(points) * self.circuity / self.speed_kmh * 60.0


class OsrmTravelTime:
    """Travel times from an OSRM server's ``/table/v1/driving/`` service.

    Results are cached by point list (least recently used first out); any
    time-out, HTTP error or malformed answer logs a warning and returns the
    ``fallback`` provider's matrix, so the scheduler keeps working offline.

    Parameters
    ----------
    base_url
        OSRM server root, e.g. ``http://osrm:5000`` (the app reads ``OSRM_URL``).
    timeout_s
        Per-request time-out.
    fallback
        Provider used when OSRM fails; haversine by default.
    cache_size
        Number of matrices kept.
    client
        An ``httpx.Client`` to reuse (tests, connection pooling).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 2.0,
        fallback: TravelTimeProvider | None = None,
        cache_size: int = 128,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.fallback = fallback or HaversineTravelTime()
        self.cache_size = cache_size
        self._client = client
        self._cache: OrderedDict[tuple[Point, ...], NDArray[np.float64]] = OrderedDict()
        self.fallbacks = 0

    def matrix(self, points: Sequence[Point]) -> NDArray[np.float64]:
        """Travel minutes between every pair of points, from OSRM or the fallback."""
        key = tuple((round(lat, 6), round(lon, 6)) for lat, lon in points)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key].copy()
        if len(key) < 2:
            return np.zeros((len(key), len(key)))
        try:
            result = self._fetch(key)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.fallbacks += 1
            logger.warning("OSRM table failed (%s); using offline travel times", exc)
            return self.fallback.matrix(points)
        self._cache[key] = result
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result.copy()

    def _fetch(self, key: tuple[Point, ...]) -> NDArray[np.float64]:
        # OSRM wants lon,lat order and answers durations in seconds.
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in key)
        url = f"{self.base_url}/table/v1/driving/{coords}"
        params = {"annotations": "duration"}
        if self._client is not None:
            response = self._client.get(url, params=params, timeout=self.timeout_s)
        else:
            response = httpx.get(url, params=params, timeout=self.timeout_s)
        response.raise_for_status()
        body = response.json()
        if body.get("code") != "Ok":
            raise ValueError(f"OSRM answered code {body.get('code')!r}")
        durations = body["durations"]
        n = len(key)
        if len(durations) != n or any(len(row) != n for row in durations):
            raise ValueError("OSRM durations matrix has the wrong shape")
        out = np.empty((n, n))
        fallback: NDArray[np.float64] | None = None
        for i, row in enumerate(durations):
            for j, seconds in enumerate(row):
                if seconds is None or not math.isfinite(seconds):
                    # An unroutable pair: estimate it rather than fail the plan.
                    if fallback is None:
                        fallback = self.fallback.matrix(list(key))
                    out[i, j] = fallback[i, j]
                else:
                    out[i, j] = float(seconds) / 60.0
        return out
