"""Several real processes on one database: periodic jobs once per tick, messages once.

Each process is ``tests/outbox/worker_process.py``: our real worker loop, or the web
process's in-process worker under uvicorn, with a test job and a test topic that
write to a shared log file. Processes are killed with SIGKILL (no clean hand-back).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, select

from app.outbox import service as outbox_service
from app.outbox.models import OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class Tick(NamedTuple):
    at: float
    pid: int


@contextmanager
def _processes(
    database_url: str, folder: Path, roles: list[str], **env: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    log = folder / "runs.log"
    log.touch()
    procs: list[subprocess.Popen[bytes]] = []
    base = {**os.environ, "DATABASE_URL": database_url, "PR_LOG": str(log), **env}
    try:
        for index, role in enumerate(roles):
            with open(folder / f"process-{index}.err", "wb") as err:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tests.outbox.worker_process"],
                        cwd=ROOT,
                        env={**base, "PR_ROLE": role},
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                    )
                )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _lines(folder: Path, kind: str, fields: int = 2) -> list[list[str]]:
    text = (folder / "runs.log").read_text()
    return [
        line.split()[1 : 1 + fields] for line in text.splitlines() if line.startswith(kind + " ")
    ]


def _ticks(folder: Path) -> list[Tick]:
    ticks = _lines(folder, "tick", fields=3)
    assert all(pid == claimer for _, pid, claimer in ticks)  # who claims a tick runs it
    return sorted(Tick(float(at), int(pid)) for at, pid, _ in ticks)


def _errors(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("*.err")))


async def _until(
    found: Callable[[], T | None], folder: Path, procs: list[Any], timeout: float, what: str
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        dead = [p.pid for p in procs if p.poll() is not None and p.returncode != -signal.SIGKILL]
        assert not dead, f"process {dead} exited early:\n{_errors(folder)}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{_errors(folder)}"
        await asyncio.sleep(0.02)


INTERVAL = 3.0
# Scheduling slack on a loaded machine (the once-per-tick guarantee is checked without it).
SLACK = 1.5


async def test_two_workers_and_two_web_processes_run_each_tick_once(app, database_url, tmp_path):
    """Four processes compete for one job: one run per tick, and a dead leader is replaced."""
    roles = ["worker", "worker", "serve", "serve"]
    with _processes(database_url, tmp_path, roles, PR_JOB_INTERVAL=str(INTERVAL)) as procs:
        await _until(
            lambda: len(_lines(tmp_path, "ready")) == 4, tmp_path, procs, 90, "processes ready"
        )
        before = await _until(
            lambda: (t := _ticks(tmp_path)) and len(t) >= 4 and t,
            tmp_path,
            procs,
            8 * INTERVAL,
            "four ticks",
        )
        leader = before[-1].pid
        [victim] = [p for p in procs if p.pid == leader]
        victim.kill()  # SIGKILL: its lease is not handed back, it must run out
        killed_at = time.time()
        after = await _until(
            lambda: len(t := [x for x in _ticks(tmp_path) if x.at > killed_at]) >= 2 and t,
            tmp_path,
            procs,
            6 * INTERVAL,
            "two ticks after the leader died",
        )
    ticks = _ticks(tmp_path)
    print(
        f"ticks {len(ticks)}, successor's first run {after[0].at - killed_at:.2f} s after the kill"
    )
    # Exactly once per tick: no two runs' claims closer than one interval...
    gaps = [b.at - a.at for a, b in zip(ticks, ticks[1:], strict=False)]
    assert min(gaps) >= INTERVAL - 1e-3, gaps
    # ...and no tick skipped while a leader lives.
    live = [g for a, g in zip(ticks, gaps, strict=False) if a.at < killed_at - INTERVAL]
    assert max(live) <= INTERVAL + SLACK, gaps
    # Nobody but the dead leader's successors ran after it died; one took over within an
    # interval (its lease lasts half an interval, renewed three times per lease).
    assert leader not in {t.pid for t in after}
    assert after[0].at - killed_at <= INTERVAL + SLACK, (after[0].at - killed_at, gaps)
    assert {t.pid for t in ticks} <= {p.pid for p in procs}


async def test_two_workers_send_a_thousand_messages_once_with_one_killed(
    app, database_url, tmp_path, db
):
    """1,000 messages, two worker processes, one SIGKILLed midway: each message sent once.

    The killed worker may have handed a message to the provider without recording it:
    that message goes again, with the same idempotency key, once its lease runs out —
    the only repeat allowed, which the provider's idempotency drops.
    """
    # Long enough that no live worker, even stalled on a loaded machine, loses its lease.
    lease = 10.0
    with _processes(
        database_url, tmp_path, ["worker", "worker"], PR_LEASE_SECONDS=str(lease)
    ) as procs:
        await _until(
            lambda: len(_lines(tmp_path, "ready")) == 2, tmp_path, procs, 90, "workers ready"
        )
        now = dt.datetime.now(dt.UTC)  # the workers run on the real clock
        async with app.state.sessionmaker() as session, session.begin():
            for i in range(1000):
                await outbox_service.enqueue(
                    session=session, topic="test", key=f"m{i}", payload={}, now=now
                )

        def both_busy() -> bool:
            sends = _lines(tmp_path, "send")
            return len(sends) >= 200 and len({pid for _, pid in sends}) == 2

        await _until(both_busy, tmp_path, procs, 60, "both workers sending")
        victim, survivor = procs
        victim.kill()

        async def all_sent() -> bool:
            count = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.sent)
            )
            await db.rollback()
            return count == 1000

        deadline = time.monotonic() + 120
        while not await all_sent():
            assert survivor.poll() is None, _errors(tmp_path)
            assert time.monotonic() < deadline, _errors(tmp_path)
            await asyncio.sleep(0.2)
    sends = _lines(tmp_path, "send")
    counts = Counter(key for key, _ in sends)
    assert set(counts) == {f"m{i}" for i in range(1000)}
    repeated = {key for key, n in counts.items() if n > 1}
    assert all(counts[key] == 2 for key in repeated)
    # Repeats only for the killed worker's last batch (at most one claim of 50).
    assert repeated <= {key for key, pid in sends if int(pid) == victim.pid}
    print(f"killed worker: {len(repeated)} messages sent again after its lease")
    assert len(repeated) <= 50, _errors(tmp_path)
    assert {int(pid) for _, pid in sends} == {victim.pid, survivor.pid}
    late = [key for key, pid in sends if int(pid) == survivor.pid and key in repeated]
    assert len(late) == len(repeated)  # each repeat is the survivor's, after the lease
