"""Open-loop load on the real server: 2 API processes and 1 worker on PostgreSQL.

Starts ``premier-recours serve --demo --workers 2 --no-worker`` and ``premier-recours
worker`` on a fresh PostgreSQL database (its schema is dropped first), then for each
rate sends flows at fixed intervals whatever the answers (open loop): "create patient →
intake → proposals (k=3) → book the first option", 70 % teleconsultations and 30 % home
visits, plus, at the same rate, an agenda read and a SAS slot search (``GET /fhir/Slot``)
and a bare ``GET /health`` (the floor, same run). Prints p50/p95/p99 per endpoint and the
status codes, then checks the database: no request booked twice, no two active
teleconsultations of one GP overlapping, every planned home-visit arrival inside its
promised window once the worker's re-plans have landed.

Usage::

    .venv/bin/python benchmarks/load.py [--rates 2,10] [--duration 60]
        [--database-url postgresql://postgres@127.0.0.1:5432/load21]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app.core.db import make_engine  # noqa: E402

SAS_TOKEN = "bench-load-sas-token"
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
# Commune centres of the demo territory (Bièvre): patients are spread around them.
PLACES = [
    ("94016", "94230", "Cachan", 48.7914, 2.3336),
    ("94034", "94260", "Fresnes", 48.7558, 2.3222),
    ("94065", "94150", "Rungis", 48.7470, 2.3497),
    ("94021", "94550", "Chevilly-Larue", 48.7664, 2.3533),
    ("94038", "94240", "L'Haÿ-les-Roses", 48.7800, 2.3374),
]
HOME_VISIT_SHARE = 0.3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def reset(url: str) -> None:
    """An empty schema in the benchmark's own database, created when missing."""
    head, _, name = url.rpartition("/")
    admin = make_engine(f"{head}/postgres")
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        found = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not found:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def start(url: str, port: int, log: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SAS_API_TOKEN": SAS_TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": "bench-load-secret-key-not-for-production",
        "PYTHONUNBUFFERED": "1",
    }
    cli = [sys.executable, "-m", "app.cli"]
    out = log.open("w")
    api = subprocess.Popen(
        [*cli, "serve", "--demo", "--workers", "2", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    return [api, env, out]  # type: ignore[list-item]


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


async def wait_ready(client: httpx.AsyncClient, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("le serveur s'est arrêté au démarrage (voir le journal)")
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("le serveur n'a pas démarré en 120 s")


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[str, Counter[int]] = defaultdict(Counter)
        self.notes: Counter[str] = Counter()

    async def call(self, label: str, coro) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await coro
        except httpx.HTTPError as exc:
            self.codes[label][0] += 1
            self.notes[f"{label}: {type(exc).__name__}"] += 1
            return None
        self.times[label].append((time.perf_counter() - started) * 1000)
        self.codes[label][response.status_code] += 1
        if response.status_code == 409:
            # Which rule refused: the domain error's ``code`` and message.
            try:
                body = response.json()
                why = f"{body.get('code')}"
                if body.get("reason"):
                    why += f" ({body['reason']})"
                why += f": {body.get('message')}"
            except ValueError:
                why = response.text[:120]
            self.notes[f"{label} 409 {why}"] += 1
        return response


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def flow(client: httpx.AsyncClient, rec: Recorder, n: int, rng: random.Random) -> None:
    insee, postal, commune, lat, lon = rng.choice(PLACES)
    home = rng.random() < HOME_VISIT_SHARE
    patient = await rec.call(
        "POST /api/patients",
        client.post(
            "/api/patients",
            json={
                "family_name": f"Charge{n}",
                "given_name": rng.choice(["Alex", "Camille", "Dominique", "Sacha"]),
                "birth_date": f"{rng.randint(1940, 2010)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "commune": commune,
                "commune_insee": insee,
                "postal_code": postal,
                "latitude": lat + rng.uniform(-0.006, 0.006),
                "longitude": lon + rng.uniform(-0.008, 0.008),
                "confirm_duplicate": True,
            },
        ),
    )
    if patient is None or patient.status_code != 201:
        return
    modality = "home_visit" if home else "teleconsultation"
    request = await rec.call(
        "POST /api/requests",
        client.post(
            "/api/requests",
            json={
                "patient_id": patient.json()["id"],
                "reason": "Fièvre et toux depuis deux jours",
                "urgency": rng.choice(["within_24h", "within_48h"]),
                "modality": modality,
                "cannot_travel": home,
            },
        ),
    )
    if request is None or request.status_code != 201:
        return
    rid = request.json()["request"]["id"]
    shown = await rec.call(
        f"GET proposals ({modality})",
        client.get(f"/api/requests/{rid}/proposals", params={"k": 3}),
    )
    if shown is None or shown.status_code != 200:
        return
    options = shown.json()["options"]
    if not options:
        rec.notes[f"no option ({modality})"] += 1
        return
    await rec.call(
        f"POST book ({modality})",
        client.post(f"/api/requests/{rid}/proposals/book", json=options[0]["booking"]),
    )


async def agenda(client: httpx.AsyncClient, rec: Recorder, gps: list[int], rng) -> None:
    await rec.call("GET agenda", client.get(f"/api/practitioners/{rng.choice(gps)}/agenda"))


async def sas_search(client: httpx.AsyncClient, rec: Recorder, rpps: list[str]) -> None:
    start_at = dt.datetime.now(dt.UTC).astimezone().replace(microsecond=0)
    params = [
        ("start", f"ge{start_at.isoformat()}"),
        ("start", f"le{(start_at + dt.timedelta(hours=48)).isoformat()}"),
        ("schedule.actor:Practitioner.identifier", ",".join(f"{IDNPS}|8{r}" for r in rpps)),
        ("status", "free"),
    ]
    await rec.call(
        "GET /fhir/Slot (SAS)",
        client.get(
            "/fhir/Slot",
            params=params,
            headers={"Authorization": f"Bearer {SAS_TOKEN}", "Accept": "application/fhir+json"},
        ),
    )


async def run_rate(
    base: str, token: str, rate: float, duration: float, gps: list[int], rpps: list[str], seed
) -> Recorder:
    rec = Recorder()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    async with (
        httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=limits,
        ) as client,
        httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as bare,
    ):
        tasks = []
        began = time.perf_counter()
        count = int(rate * duration)
        for i in range(count):
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            n = int(seed) * 100000 + i
            tasks.append(asyncio.create_task(flow(client, rec, n, rng)))
            tasks.append(asyncio.create_task(agenda(client, rec, gps, rng)))
            tasks.append(asyncio.create_task(sas_search(bare, rec, rpps)))
            tasks.append(asyncio.create_task(rec.call("GET /health", bare.get("/health"))))
        lag = time.perf_counter() - began - (count - 1) / rate
        rec.notes["generator lag at the last flow (s)"] = round(lag, 2)  # type: ignore[assignment]
        await asyncio.gather(*tasks)
    return rec


def report(rate: float, duration: float, rec: Recorder) -> None:
    print(f"\n## {rate:g} flows/s for {duration:g} s\n")
    print("| endpoint | n | p50 ms | p95 ms | p99 ms | status codes |")
    print("|---|---|---|---|---|---|")
    for label in sorted(rec.codes):
        times = rec.times[label]
        codes = ", ".join(f"{n} × {c}" for c, n in sorted(rec.codes[label].items()))
        print(
            f"| {label} | {len(times)} | {percentile(times, 0.5):.0f} | "
            f"{percentile(times, 0.95):.0f} | {percentile(times, 0.99):.0f} | {codes} |"
        )
    for note, n in sorted(rec.notes.items()):
        print(f"- {note}: {n}")
    errors = sum(n for codes in rec.codes.values() for c, n in codes.items() if c >= 500 or c == 0)
    print(f"- server errors (5xx or no answer): {errors}")


async def checks(url: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as conn:
        twice = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT request_id FROM appointments "
                "WHERE status IN ('booked', 'done') GROUP BY request_id HAVING count(*) > 1) t"
            )
        )
        overlaps = await conn.scalar(
            text(
                "SELECT count(*) FROM appointments a JOIN appointments b ON a.id < b.id "
                "AND a.practitioner_id = b.practitioner_id AND a.kind = 'teleconsultation' "
                "AND b.kind = 'teleconsultation' AND a.status = 'booked' AND b.status = 'booked' "
                "AND a.start_at < b.end_at AND b.start_at < a.end_at"
            )
        )
        pending = await conn.scalar(text("SELECT count(*) FROM round_replan_requests"))
        visits = (
            await conn.execute(
                text(
                    "SELECT start_at, end_at, planned_arrival FROM appointments "
                    "WHERE kind = 'home_visit' AND status = 'booked'"
                )
            )
        ).all()
        runs = await conn.scalar(text("SELECT count(*) FROM round_runs WHERE trigger = 'booking'"))
    await engine.dispose()
    broken = [v for v in visits if v[2] is not None and not v[0] <= v[2] <= v[1]]
    unplanned = [v for v in visits if v[2] is None]
    print("\n## Database checks\n")
    print(f"- requests booked twice: {twice}")
    print(f"- overlapping teleconsultations of one GP: {overlaps}")
    print(f"- home visits booked: {len(visits)}; re-plan runs after bookings: {runs}")
    print(f"- days still waiting for the worker's re-plan: {pending}")
    print(
        f"- planned arrivals outside the promised window: {len(broken)}; unplanned: "
        f"{len(unplanned)}"
    )


async def main_async(args: argparse.Namespace) -> int:
    url = args.database_url
    await reset(url)
    port = free_port()
    logs = ROOT / "benchmarks" / ".load-logs"
    logs.mkdir(exist_ok=True)
    api, env, _out = start(url, port, logs / "serve.log")
    worker = None
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await wait_ready(client, api)
            worker = start_worker(env, logs / "worker.log")
            token = (
                await client.post(
                    "/api/auth/token", data={"username": "secretaire", "password": "demo"}
                )
            ).json()["access_token"]
            people = await client.get(
                "/api/practitioners", headers={"Authorization": f"Bearer {token}"}
            )
            gps = [p["id"] for p in people.json()] if people.status_code == 200 else [1]
            rpps = [p["rpps"] for p in people.json()] if people.status_code == 200 else []
            # Warm-up: every endpoint once (first-use compilation, connection pools).
            await run_rate(base, token, 2, 2, gps, rpps, seed=99)
            idle = await run_rate(base, token, 1, args.idle, gps, rpps, seed=98)
            report(1, args.idle, idle)
            for rate in args.rates:
                rec = await run_rate(base, token, rate, args.duration, gps, rpps, seed=int(rate))
                report(rate, args.duration, rec)
                await asyncio.sleep(args.settle)
        await asyncio.sleep(args.settle)
        await checks(url)
    finally:
        for process in (worker, api):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/load21")
    parser.add_argument(
        "--rates", type=lambda s: [float(x) for x in s.split(",")], default=[2.0, 10.0]
    )
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds at 1 flow/s first")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between rates")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres"):
        raise SystemExit("ce banc demande PostgreSQL (plusieurs processus)")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
