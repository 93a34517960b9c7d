"""Travel times: offline haversine, and OSRM against a real fake server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from factories import CACHAN, RUNGIS

from scheduler import HaversineTravelTime, OsrmTravelTime, TravelTimeProvider


class FakeOsrm(ThreadingHTTPServer):
    """Answers ``/table/v1/driving/`` like OSRM; ``mode`` switches its behaviour."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.hits: list[str] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeOsrm

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.hits.append(self.path)
        mode = self.server.mode
        if mode == "hang":
            # Hold the answer until the test is over: the client must time out.
            self.server.release.wait(timeout=10)
        if mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        coords = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        n = len(coords)
        durations = [[0 if i == j else 60 * (i + j + 1) for j in range(n)] for i in range(n)]
        body = {"code": "Ok", "durations": durations}
        if mode == "garbled":
            body = {"code": "InvalidQuery"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    server = FakeOsrm()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_haversine_cachan_to_rungis_is_a_short_urban_drive():
    provider = HaversineTravelTime(circuity=1.35, speed_kmh=22)
    m = provider.matrix([CACHAN, RUNGIS])
    assert isinstance(provider, TravelTimeProvider)
    assert m[0, 0] == 0 and m[0, 1] == pytest.approx(m[1, 0])
    assert 12 < m[0, 1] < 20  # ≈5 km as the crow flies


def test_osrm_matrix_is_read_in_minutes_with_lon_lat_order(osrm):
    provider = OsrmTravelTime(osrm.url, timeout_s=2)
    m = provider.matrix([CACHAN, RUNGIS])
    assert np.allclose(m, [[0, 2], [2, 0]])
    assert f"{CACHAN[1]:.6f},{CACHAN[0]:.6f}" in osrm.hits[0]
    assert "annotations=duration" in osrm.hits[0]


def test_osrm_results_are_cached(osrm):
    provider = OsrmTravelTime(osrm.url, timeout_s=2)
    first = provider.matrix([CACHAN, RUNGIS])
    second = provider.matrix([CACHAN, RUNGIS])
    assert np.array_equal(first, second)
    assert len(osrm.hits) == 1


@pytest.mark.parametrize("mode", ["hang", "error", "garbled"])
def test_osrm_failure_falls_back_to_offline_times(osrm, mode, caplog):
    osrm.mode = mode
    offline = HaversineTravelTime()
    provider = OsrmTravelTime(osrm.url, timeout_s=0.2, fallback=offline)
    with caplog.at_level(logging.WARNING, logger="scheduler.travel"):
        m = provider.matrix([CACHAN, RUNGIS])
    assert np.allclose(m, offline.matrix([CACHAN, RUNGIS]))
    assert provider.fallbacks == 1
    assert "OSRM table failed" in caplog.text


def test_unreachable_server_falls_back_too():
    provider = OsrmTravelTime("http://127.0.0.1:9", timeout_s=0.2)
    assert provider.matrix([CACHAN, RUNGIS])[0, 1] > 0
    assert provider.fallbacks == 1
