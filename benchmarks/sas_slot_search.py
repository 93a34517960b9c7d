"""INT_R04 latency, served by the real server: 25 GPs over 7 days (and 72 hours).

Starts uvicorn in a subprocess on a free 127.0.0.1 port against a temporary SQLite
database (or ``--database-url``), then times ``GET /fhir/Slot`` against a bare
``GET /health`` in the same run (median and p95 over ``--requests`` each, interleaved).

Scenarios:

* ``demo``: the demo territory (11 GPs) plus 14 more fictitious GPs with the same weeks,
  so that the search names 25 GPs who all have SAS sessions.
* ``large`` (``--large``): 500 GPs, 8 weeks of sessions, and bookings filling part of every
  teleconsultation session (``--bookings-per-session``); the target is under 1 s for a
  72-hour search of 25 GPs (the national test kit's limit), and p95 under 100 ms.

Usage::

    .venv/bin/python benchmarks/sas_slot_search.py [--requests 200] [--large]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from app.appointments.models import Appointment, AppointmentStatus, Origin  # noqa: E402
from app.core import migrate  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.timeutil import PARIS  # noqa: E402
from app.demo import seed as demo_seed  # noqa: E402
from app.patients.models import MedecinTraitantStatus, Patient, Sex  # noqa: E402
from app.practitioners import service as practitioners_service  # noqa: E402
from app.practitioners.models import (  # noqa: E402
    DutySession,
    Practitioner,
    PractitionerStatus,
    SessionKind,
)
from app.requests.models import CareRequest, Channel, RequestStatus  # noqa: E402

TOKEN = "bench-sas-token"
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
HOURS = {SessionKind.home_visit: (10, 13), SessionKind.teleconsultation: (14, 20)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rpps(n: int) -> str:
    from stdnum import luhn

    body = f"98{n:08d}"
    return body + luhn.calc_check_digit(body)


async def _reset(url: str) -> None:
    if not url.startswith("postgres"):
        return
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _add_gps(session, start_number: int, count: int, today: dt.date, days: int) -> None:
    """Bulk GPs with Mon–Sat home visits and SAS-open teleconsultations, for ``days`` days."""
    rows = [
        dict(
            family_name=f"Bench{n}",
            given_name="Camille",
            rpps=rpps(n),
            status=PractitionerStatus.titular,
            address=f"{n} rue du Banc d'Essai",
            postal_code="94230",
            commune="Cachan",
            commune_insee="94016",
            latitude=48.79 + random.uniform(-0.02, 0.02),
            longitude=2.33 + random.uniform(-0.02, 0.02),
            languages=["fr"],
            teleconsultation_slot_minutes=15,
        )
        for n in range(start_number, start_number + count)
    ]
    await session.execute(insert(Practitioner), rows)
    ids = (
        await session.scalars(
            select(Practitioner.id).where(Practitioner.rpps.in_([r["rpps"] for r in rows]))
        )
    ).all()
    sessions = []
    for day in (today + dt.timedelta(days=i) for i in range(days)):
        if day.weekday() == 6:
            continue
        for pid in ids:
            for kind, (h0, h1) in HOURS.items():
                sessions.append(
                    dict(
                        practitioner_id=pid,
                        date=day,
                        kind=kind,
                        start_at=dt.datetime.combine(day, dt.time(h0), tzinfo=PARIS),
                        end_at=dt.datetime.combine(day, dt.time(h1), tzinfo=PARIS),
                        capacity=24 if kind == SessionKind.teleconsultation else 6,
                        open_to_sas=kind == SessionKind.teleconsultation,
                        cancelled=False,
                    )
                )
    for chunk in range(0, len(sessions), 5000):
        await session.execute(insert(DutySession), sessions[chunk : chunk + 5000])


async def _add_bookings(session, per_session: int, now: dt.datetime) -> int:
    """Fill ``per_session`` slots of every teleconsultation session (one request each)."""
    born = dt.date(1970, 1, 1)
    patients = [
        dict(
            family_name=f"Patient{i}",
            given_name="Dominique",
            search_name=f"patient{i}|dominique",
            birth_date=born + dt.timedelta(days=i % 15000),
            sex=Sex.unknown,
            medecin_traitant_status=MedecinTraitantStatus.unknown,
        )
        for i in range(2000)
    ]
    await session.execute(insert(Patient), patients)
    patient_ids = (await session.scalars(select(Patient.id))).all()
    duties = (
        await session.execute(
            select(DutySession.id, DutySession.practitioner_id, DutySession.start_at).where(
                DutySession.kind == SessionKind.teleconsultation
            )
        )
    ).all()
    total = 0
    batch_requests, batch_slots = [], []

    async def flush() -> None:
        nonlocal total
        if not batch_requests:
            return
        first = (await session.scalar(select(func.max(CareRequest.id)))) or 0
        await session.execute(insert(CareRequest), batch_requests)
        appointments = []
        for offset, (duty_id, pid, start, patient_id) in enumerate(batch_slots, start=1):
            appointments.append(
                dict(
                    request_id=first + offset,
                    patient_id=patient_id,
                    practitioner_id=pid,
                    session_id=duty_id,
                    kind=SessionKind.teleconsultation,
                    start_at=start,
                    end_at=start + dt.timedelta(minutes=15),
                    status=AppointmentStatus.booked,
                    origin=Origin.secretariat,
                    surcharges=[],
                    billing_detail={},
                    status_changed_at=now,
                )
            )
        await session.execute(insert(Appointment), appointments)
        total += len(appointments)
        batch_requests.clear()
        batch_slots.clear()

    for duty_id, pid, start in duties:
        for k in random.sample(range(24), per_session):
            patient_id = random.choice(patient_ids)
            batch_requests.append(
                dict(
                    patient_id=patient_id,
                    channel=Channel.phone,
                    received_at=now,
                    reason="banc d'essai",
                    red_flags=[],
                    status=RequestStatus.scheduled,
                    status_changed_at=now,
                )
            )
            batch_slots.append((duty_id, pid, start + dt.timedelta(minutes=15 * k), patient_id))
        if len(batch_requests) >= 5000:
            await flush()
    await flush()
    return total


async def prepare(url: str, *, large: bool, per_session: int) -> list[str]:
    """Build the territory; returns the 25 RPPS the search names."""
    await _reset(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    now = dt.datetime.now(PARIS)
    today = now.date()
    try:
        async with maker() as session, session.begin():
            if large:
                await _add_gps(session, 1, 500, today, 56)
                booked = await _add_bookings(session, per_session, now)
                print(f"  territoire : 500 médecins, 8 semaines, {booked} rendez-vous")
            else:
                await demo_seed.seed(session=session, today=today, horizon_days=8)
                await _add_gps(session, 1, 14, today, 8)
                await practitioners_service.materialise(
                    session=session, start=today, end=today + dt.timedelta(days=8)
                )
            numbers = (
                await session.scalars(select(Practitioner.rpps).order_by(Practitioner.id))
            ).all()
    finally:
        await engine.dispose()
    random.seed(7)
    return random.sample(list(numbers), 25) if large else list(numbers)[:25]


def serve(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SAS_API_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": "bench-secret-key-not-for-production",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_ready(client: httpx.Client, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("le serveur s'est arrêté au démarrage")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("le serveur n'a pas démarré en 60 s")


def search_params(numbers: list[str], hours: int) -> list[tuple[str, str]]:
    start = dt.datetime.now(PARIS).replace(microsecond=0)
    end = start + dt.timedelta(hours=hours)
    return [
        ("_include", "Slot:schedule"),
        ("_include:iterate", "Schedule:actor"),
        ("_include", "Slot:service-type-reference"),
        ("_include:iterate", "HealthcareService:organization"),
        ("start", f"ge{start.isoformat()}"),
        ("start", f"le{end.isoformat()}"),
        ("schedule.actor:Practitioner.identifier", ",".join(f"{IDNPS}|8{n}" for n in numbers)),
        ("status", "free"),
    ]


def measure(client: httpx.Client, numbers: list[str], hours: int, count: int) -> dict:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/fhir+json"}
    params = search_params(numbers, hours)
    first = client.get("/fhir/Slot", params=params, headers=headers)
    assert first.status_code == 200, first.text
    total = first.json()["total"]
    for _ in range(10):  # warm-up
        client.get("/health")
        client.get("/fhir/Slot", params=params, headers=headers)
    health, search = [], []
    for _ in range(count):
        t0 = time.perf_counter()
        client.get("/health")
        t1 = time.perf_counter()
        response = client.get("/fhir/Slot", params=params, headers=headers)
        t2 = time.perf_counter()
        assert response.status_code == 200
        health.append((t1 - t0) * 1000)
        search.append((t2 - t1) * 1000)

    def summary(values: list[float]) -> tuple[float, float, float]:
        values = sorted(values)
        p95 = values[max(0, int(round(0.95 * len(values))) - 1)]
        return statistics.median(values), p95, values[-1]

    return {"total": total, "health": summary(health), "search": summary(search)}


def report(label: str, result: dict) -> None:
    (hm, hp, hx), (sm, sp, sx) = result["health"], result["search"]
    print(f"  {label} — {result['total']} créneaux libres renvoyés")
    print(f"    GET /health     médiane {hm:7.1f} ms   p95 {hp:7.1f} ms   max {hx:7.1f} ms")
    print(f"    GET /fhir/Slot  médiane {sm:7.1f} ms   p95 {sp:7.1f} ms   max {sx:7.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL (vidé !) ; défaut : SQLite temporaire")
    parser.add_argument("--large", action="store_true", help="500 médecins, 8 semaines")
    parser.add_argument("--bookings-per-session", type=int, default=8)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="sas-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    scenario = "500 médecins / 8 semaines" if args.large else "territoire de démonstration"
    print(f"Recherche INT_R04 sur 25 médecins — {scenario} — {url.split(':')[0]}")
    t0 = time.perf_counter()
    numbers = asyncio.run(prepare(url, large=args.large, per_session=args.bookings_per_session))
    print(f"  données prêtes en {time.perf_counter() - t0:.1f} s")
    port = free_port()
    process = serve(url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait_ready(client, process)
            report("7 jours", measure(client, numbers, 7 * 24, args.requests))
            report("72 heures", measure(client, numbers, 72, args.requests))
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
