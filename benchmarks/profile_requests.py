"""CPU per request of the load benchmark's endpoints, in-process, against PostgreSQL.

Builds the app as ``serve --demo`` does (migrations, demo seed) on a fresh schema, then
runs ``--flows`` flows of benchmarks/load.py (create patient → intake → proposals →
book, agenda read, SAS slot search, /health) one at a time through
``httpx.ASGITransport`` and prints the mean wall time per endpoint (no concurrency: wall
≈ CPU of the app plus PostgreSQL round trips). ``--profile`` writes a pyinstrument
HTML/text profile of the whole loop.

Usage::

    .venv/bin/python benchmarks/profile_requests.py [--flows 60] [--profile out.txt]
        [--database-url postgresql://postgres@127.0.0.1:5432/loadperf]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402


async def main_async(args: argparse.Namespace) -> None:
    await load.reset(args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url,
        SAS_API_TOKEN=load.SAS_TOKEN,
        SECRET_KEY="bench-load-secret-key-not-for-production",
        DEMO="true",
        RUN_WORKER_IN_PROCESS="false",
    )
    from app.cli import _seed_and_extend
    from app.core import migrate
    from app.core.config import Settings
    from app.main import create_app

    settings = Settings()
    migrate.upgrade(settings.database_url)
    await _seed_and_extend(settings, seed_demo=True)
    app = create_app(settings)
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []
    event.listen(
        Engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(" ".join(statement.split())),
    )
    per_label: dict[str, list[int]] = {}
    original_call = load.Recorder.call

    async def counted(self, label, coro):  # statements per request, by endpoint
        before = len(statements)
        response = await original_call(self, label, coro)
        per_label.setdefault(label, []).append(len(statements) - before)
        if args.show_sql and label == args.show_sql and len(per_label[label]) == 8:
            print("\n".join(s for s in statements[before:]))
        return response

    load.Recorder.call = counted  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = (
                await client.post(
                    "/api/auth/token", data={"username": "secretaire", "password": "demo"}
                )
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            people = (await client.get("/api/practitioners", headers=auth)).json()
            gps = [p["id"] for p in people]
            rpps = [p["rpps"] for p in people]
            client.headers.update(auth)
            client.cookies.clear()  # bearer only, as benchmarks/load.py's clients
            rng = random.Random(7)

            async def one(i: int, rec: load.Recorder) -> None:
                await load.flow(client, rec, 500000 + i, rng)
                await load.agenda(client, rec, gps, rng)
                await load.sas_search(client, rec, rpps)
                await rec.call("GET /health", client.get("/health"))

            for i in range(5):  # warm-up
                await one(i, load.Recorder())
            rec = load.Recorder()
            profiler = None
            if args.profile.endswith(".pstats"):
                import cProfile

                cprof = cProfile.Profile()
                cprof.enable()
            elif args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005, async_mode="disabled")
                profiler.start()
            began = time.perf_counter()
            for i in range(args.flows):
                await one(100 + i, rec)
            total = time.perf_counter() - began
            if args.profile.endswith(".pstats"):
                cprof.disable()
                cprof.dump_stats(args.profile)
            if profiler is not None:
                profiler.stop()
                Path(args.profile).write_text(profiler.output_text(unicode=False, color=False))
    print(f"{args.flows} flows in {total:.2f} s ({total / args.flows * 1000:.0f} ms per flow)")
    print("| endpoint | n | mean ms | p50 ms | codes |")
    print("|---|---|---|---|---|")
    for label in sorted(rec.times):
        t = rec.times[label]
        codes = ", ".join(f"{n} × {c}" for c, n in sorted(rec.codes[label].items()))
        print(
            f"| {label} | {len(t)} | {sum(t) / len(t):.1f} | {load.percentile(t, 0.5):.1f} | "
            f"{codes} |"
        )
    for note, n in sorted(rec.notes.items()):
        print(f"- {note}: {n}")
    for label, counts in sorted(per_label.items()):
        tail = counts[-args.flows :]
        print(f"- SQL statements per request, {label}: {sum(tail) / max(1, len(tail)):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/loadperf")
    parser.add_argument("--flows", type=int, default=60)
    parser.add_argument("--profile", default="", help="out.txt (pyinstrument) or out.pstats")
    parser.add_argument("--show-sql", default="", help="print one request's SQL, by label")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
