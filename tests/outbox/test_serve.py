"""The real `premier-recours serve --demo`, alone: a booking's SMS shows in its output at once.

With `--workers 2` the two web processes share the outbox (the SMS leaves once) and
elect one leader per periodic job, which runs the real jobs on the demo territory.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.web.server import _free_port, fresh_database, query, run_async

ROOT = Path(__file__).resolve().parents[2]
SMS = "[SMS → +33639980001] RDV confirmé"
JOBS = [
    "messaging.reminders",
    "orientation.sweep",
    "rounds.optimise_before_session",
    "rounds.replan_after_bookings",
]


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    database_url: str
    lines: queue.Queue[tuple[float, str]]
    output: list[tuple[float, str]] = field(default_factory=list)

    def read(self, until: float) -> None:
        """Collect the output up to ``until`` (monotonic)."""
        while time.monotonic() < until:
            try:
                self.output.append(self.lines.get(timeout=0.05))
            except queue.Empty:
                continue

    def text(self) -> str:
        return "".join(line for _, line in self.output[-80:])


def _command() -> list[str]:
    script = Path(sys.executable).parent / "premier-recours"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def _reader(stream, lines: queue.Queue[tuple[float, str]]) -> None:
    for raw in iter(stream.readline, b""):
        lines.put((time.monotonic(), raw.decode(errors="replace")))


@contextmanager
def _serve(*options: str) -> Iterator[Served]:
    port = _free_port()
    with fresh_database() as url:
        env = {
            **os.environ,
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "1024",
            "SESSION_HORIZON_DAYS": "14",
            "SMS_BACKEND": "console",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("RUN_WORKER_IN_PROCESS", None)
        process = subprocess.Popen(
            [*_command(), "--database-url", url, "serve", "--demo", "--port", str(port), *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
        served = Served(process, f"http://127.0.0.1:{port}", url, lines)
        try:
            deadline = time.monotonic() + 180
            with httpx.Client(base_url=served.base_url, timeout=5) as http:
                while True:
                    assert process.poll() is None, served.text()
                    assert time.monotonic() < deadline, "serve did not start\n" + served.text()
                    try:
                        if http.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    served.read(time.monotonic() + 0.2)
            yield served
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            served.read(time.monotonic() + 0.5)
        # A clean stop (uvicorn re-raises the SIGTERM it handled once shut down).
        assert process.returncode in (0, -signal.SIGTERM), served.text()
        assert "Application shutdown complete." in served.text(), served.text()


def _book(base_url: str) -> float:
    """Patient, request, first teleconsultation proposal, booked: returns when it was booked."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        response = http.post("/api/auth/token", data={"username": "secretaire", "password": "demo"})
        assert response.status_code == 200, response.text
        http.headers["Authorization"] = "Bearer " + response.json()["access_token"]
        response = http.post(
            "/api/patients",
            json={
                "family_name": "Essai",
                "given_name": "Anne",
                "birth_date": "1980-05-17",
                "phone": "+33639980001",
                "sms_consent": True,
                "postal_code": "94230",
                "commune": "Cachan",
                "commune_insee": "94016",
            },
        )
        assert response.status_code == 201, response.text
        response = http.post(
            "/api/requests",
            json={
                "patient_id": response.json()["id"],
                "reason": "Fièvre",
                "urgency": "within_48h",
                "modality": "teleconsultation",
            },
        )
        assert response.status_code == 201, response.text
        request_id = response.json()["request"]["id"]
        response = http.get(f"/api/requests/{request_id}/proposals")
        assert response.status_code == 200, response.text
        option = response.json()["options"][0]
        response = http.post(f"/api/requests/{request_id}/proposals/book", json=option["booking"])
        assert response.status_code == 201, response.text
        return time.monotonic()


def _sms_delay(served: Served, booked_at: float) -> float:
    served.read(booked_at + 5)  # 5 s, to see a late or a second SMS
    printed = [at for at, line in served.output if line.startswith(SMS)]
    assert len(printed) == 1, served.text()
    return printed[0] - booked_at


def test_serve_demo_prints_the_booking_sms_within_two_seconds():
    with _serve() as served:
        delay = _sms_delay(served, _book(served.base_url))
        print(f"SMS printed {delay:.2f} s after the booking")
        assert delay <= 2.0, f"SMS printed {delay:.2f} s after the booking"
        # The web process built by the factory still keeps query strings out of its log.
        assert httpx.get(served.base_url + "/health?nom=Confidentiel").status_code == 200
        served.read(time.monotonic() + 0.5)
        access = [line for _, line in served.output if "GET /health" in line]
        assert access and not any("Confidentiel" in line for line in access), access


def _server_pids(served: Served) -> set[int]:
    return {
        int(pid)
        for _, line in served.output
        for pid in re.findall(r"Started server process \[(\d+)\]", line)
    }


def test_serve_with_two_processes_sends_once_and_elects_one_leader_per_job():
    with _serve("--workers", "2") as served:
        deadline = time.monotonic() + 120
        while len(pids := _server_pids(served)) < 2 and time.monotonic() < deadline:
            served.read(time.monotonic() + 0.2)
        assert len(pids) == 2, served.text()
        delay = _sms_delay(served, _book(served.base_url))
        assert delay <= 2.0, f"SMS printed {delay:.2f} s after the booking"
        # Each real job ran (the rounds optimisation solves in the leader's solver pool)
        # and is led by one of the two web processes.
        deadline = time.monotonic() + 120
        while True:
            rows = run_async(
                query(
                    served.database_url,
                    "SELECT name, holder, last_run_by FROM periodic_job_leases ORDER BY name",
                )
            )
            rows = [r for r in rows if r.name in JOBS]  # the daily retention may wait its turn
            if [r.name for r in rows] == JOBS and all(r.last_run_by for r in rows):
                break
            assert time.monotonic() < deadline, rows
            served.read(time.monotonic() + 0.5)
        failures = [line for _, line in served.output if "failed" in line]
        assert failures == [], failures  # a failing job is logged "periodic job … failed"
        for row in rows:
            assert int(row.holder.split(":")[1]) in pids, rows
            assert int(row.last_run_by.split(":")[1]) in pids, rows
