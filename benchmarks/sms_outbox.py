"""SMS outbox throughput: 1,000 queued SMS drained by one worker through the fake Twilio.

Usage: ``python benchmarks/sms_outbox.py --runs 3 [--messages 1000] [--database-url URL]``.
Everything is real but Twilio: the database built by the migrations (a temporary
SQLite file by default, or ``--database-url`` / ``BENCH_DATABASE_URL``, e.g.
PostgreSQL), the durable outbox and its worker, the messaging handler and our
Twilio client (the official SDK) over HTTP to the fake Twilio on 127.0.0.1. Each
run queues the messages (SMS rows + outbox messages, one transaction), then times
``OutboxWorker.drain()``; it checks that every message was accepted exactly once
(by idempotency key) and that every SMS row got its Twilio sid. Prints each run,
the median messages per second, and a JSON line. Target: all exactly once,
>= 100 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from app.core import migrate  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.messaging import outbound  # noqa: E402
from app.messaging.models import SmsKind, SmsMessage  # noqa: E402
from app.outbox.models import OutboxMessage  # noqa: E402
from app.outbox.worker import OutboxWorker  # noqa: E402
from telephony import TelephonySettings  # noqa: E402

# The fake Twilio runs in its own process, as the real API is remote: in ours it would
# compete with the worker for the interpreter lock and the figure would measure the fake.
_CHILD = """
import json, sys
from tests.telephony.fake_twilio import FakeTwilio
fake = FakeTwilio().start()
print(json.dumps(fake.settings_overrides()), flush=True)
for line in sys.stdin:
    if line.strip() == "reset":
        fake.reset()
        print("{}", flush=True)
    elif line.strip() == "counts":
        counts = fake.counts_by_idempotency_token()
        exactly = sum(1 for n in counts.values() if n == 1)
        print(json.dumps({"accepted": len(fake.messages), "exactly_once": exactly}), flush=True)
"""


class FakeTwilioProcess:
    """FakeTwilio (tests/telephony) served from a child process, asked over a pipe."""

    def __enter__(self) -> FakeTwilioProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.overrides = json.loads(self._readline())
        return self

    def _readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def ask(self, command: str) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self._readline())

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def _clear(app) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(delete(SmsMessage))
        await session.execute(delete(OutboxMessage).where(OutboxMessage.topic == outbound.TOPIC))


async def _queue(app, count: int, run: int) -> None:
    now = app.state.clock()
    async with app.state.sessionmaker() as session, session.begin():
        for i in range(count):
            await outbound.queue(
                session=session,
                kind=SmsKind.reminder,
                key=f"bench:{run}:{i}",
                to=f"+336{i:08d}",
                body=f"Rappel: RDV n°{i} demain à 14h.\nCPTS de la Bièvre",
                now=now,
            )


async def _one_run(
    app, fake: FakeTwilioProcess, count: int, run: int, concurrency: int | None
) -> dict[str, float]:
    await _clear(app)
    fake.ask("reset")
    await _queue(app, count, run)
    worker = OutboxWorker(app, name=f"bench-{run}", concurrency=concurrency)
    started = time.perf_counter()
    attempts = await worker.drain()
    elapsed = time.perf_counter() - started
    counts = fake.ask("counts")
    async with app.state.sessionmaker() as session:
        with_sid = await session.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.sid.is_not(None))
        )
    return {
        "seconds": elapsed,
        "per_second": count / elapsed,
        "attempts": attempts,
        "accepted": counts["accepted"],
        "exactly_once": counts["exactly_once"],
        "recorded_with_sid": with_sid or 0,
    }


async def main(
    count: int, runs: int, database_url: str, concurrency: int | None = None
) -> dict[str, float]:
    migrate.upgrade(database_url)
    settings = Settings(database_url=database_url, secret_key="benchmark-secret-key-0123456789")
    with FakeTwilioProcess() as fake:
        app = create_app(settings)
        app.state.telephony_settings = TelephonySettings(
            _env_file=None,  # type: ignore[call-arg]
            **{**fake.overrides, "public_base_url": "https://cpts-bievre.example.fr"},
        )
        rows = []
        async with app.router.lifespan_context(app):
            for run in range(runs):
                row = await _one_run(app, fake, count, run, concurrency)
                rows.append(row)
                print(
                    f"run {run}: {count} SMS in {row['seconds']:.2f} s = "
                    f"{row['per_second']:.0f} msg/s; accepted {row['accepted']:.0f}, "
                    f"exactly once {row['exactly_once']:.0f}, "
                    f"sid recorded {row['recorded_with_sid']:.0f}"
                )
            await _clear(app)
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument(
        "--concurrency", type=int, default=None, help="sends in flight (worker default: 8)"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'sms_bench.db'}"
    median = asyncio.run(main(args.messages, args.runs, url, args.concurrency))
    ok = median["exactly_once"] == args.messages and median["per_second"] >= 100
    print(
        f"median: {median['per_second']:.0f} msg/s, {median['exactly_once']:.0f}/{args.messages} "
        f"delivered exactly once ({'OK' if ok else 'BELOW TARGET'})"
    )
    print(json.dumps({"benchmark": "sms_outbox", "database": url.split(":")[0], **median}))
