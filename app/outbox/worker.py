"""The outbox worker: claim due messages, send them, record the outcome.

Claims are short transactions with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several workers share the queue without sending anything twice; a message whose
worker died stays claimed only until its lease runs out, then is taken again.
Messages with the same ordering key leave one at a time, oldest first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from app.core import metrics
from app.outbox.errors import PermanentError, TransientError
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.registry import handler_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    message_id: int
    status: OutboxStatus
    error: str | None
    result: dict | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    cap_seconds: float = 900.0
    # With a 15-minute cap, 100 attempts keep trying for about a day.
    max_attempts: int = 100
    lease_seconds: float = 120.0

    def delay(self, attempts: int, retry_after: float | None = None) -> dt.timedelta:
        seconds = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempts - 1)))
        if retry_after is not None:
            seconds = max(seconds, min(retry_after, self.cap_seconds))
        return dt.timedelta(seconds=seconds)


class OutboxWorker:
    #: Messages of one claimed batch sent at the same time (see `run_once`).
    DEFAULT_CONCURRENCY = 8

    def __init__(
        self,
        app: FastAPI,
        *,
        policy: RetryPolicy | None = None,
        name: str | None = None,
        concurrency: int | None = None,
    ):
        self.app = app
        self.policy = policy or RetryPolicy()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.concurrency = max(1, concurrency or self.DEFAULT_CONCURRENCY)

    def _now(self) -> dt.datetime:
        return self.app.state.clock()

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Lease due messages to this worker; they come back detached, ready to send."""
        now = self._now()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            and_(
                earlier.ordering_key == OutboxMessage.ordering_key,
                earlier.id < OutboxMessage.id,
                earlier.status != OutboxStatus.sent,
            )
        )
        due = or_(
            and_(
                OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now
            ),
            and_(OutboxMessage.status == OutboxStatus.sending, OutboxMessage.locked_until <= now),
        )
        stmt = (
            select(OutboxMessage)
            .where(due, or_(OutboxMessage.ordering_key.is_(None), ~blocked))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        async with self.app.state.sessionmaker() as session, session.begin():
            messages = (await session.scalars(stmt)).all()
            for message in messages:
                message.status = OutboxStatus.sending
                message.locked_until = now + dt.timedelta(seconds=self.policy.lease_seconds)
                message.locked_by = self.name
                message.attempts += 1
            await session.flush()
            for message in messages:
                session.expunge(message)
            return list(messages)

    async def _send(self, message: OutboxMessage) -> Outcome:
        """Hand one message to its topic's sender; the outcome is recorded with the batch."""
        handler = handler_for(self.app, message.topic)
        if handler is None:
            return Outcome(
                message.id, OutboxStatus.pending, f"aucun expéditeur pour « {message.topic} »"
            )
        try:
            result = await handler(message, self.app)
        except TransientError as exc:
            return Outcome(
                message.id, OutboxStatus.pending, exc.reason, retry_after=exc.retry_after
            )
        except PermanentError as exc:
            return Outcome(message.id, OutboxStatus.failed, exc.reason)
        except Exception as exc:  # a bug in a handler must not lose the message
            log.exception("outbox handler crashed for message %s", message.id)
            return Outcome(
                message.id, OutboxStatus.pending, f"erreur interne : {type(exc).__name__}"
            )
        return Outcome(message.id, OutboxStatus.sent, None, result=result or {})

    async def _record(self, outcomes: list[Outcome]) -> None:
        """One transaction for a batch's outcomes: SQLite serialises every write transaction."""
        if not outcomes:
            return
        now = self._now()
        by_id = {o.message_id: o for o in outcomes}
        async with self.app.state.sessionmaker() as session, session.begin():
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(by_id))
                    .with_for_update(of=OutboxMessage)
                )
            ).all()
            for message in rows:
                if message.locked_by != self.name:
                    continue  # our lease expired and someone else took it over
                outcome = by_id[message.id]
                message.locked_until = None
                message.locked_by = None
                message.last_error = outcome.error
                if outcome.status == OutboxStatus.sent:
                    message.status = OutboxStatus.sent
                    message.sent_at = now
                    message.result = outcome.result or {}
                    metrics.observe_outbox_outcome(message.topic, "sent")
                elif (
                    outcome.status == OutboxStatus.failed
                    or message.attempts >= self.policy.max_attempts
                ):
                    message.status = OutboxStatus.failed
                    metrics.observe_outbox_outcome(message.topic, "failed")
                else:
                    metrics.observe_outbox_outcome(message.topic, "retry")
                    message.status = OutboxStatus.pending
                    message.next_attempt_at = now + self.policy.delay(
                        message.attempts, outcome.retry_after
                    )

    async def run_once(self, limit: int = 50) -> int:
        """Send what is due now; returns how many messages were attempted.

        A claimed batch holds at most one message per ordering key (later ones wait
        behind it), so its messages are independent: they are sent up to
        `concurrency` at a time, overlapping the network waits, and their outcomes
        recorded together. A worker killed before that record leaves the batch leased:
        it is taken again when the lease runs out, and the senders' idempotency keys
        keep a message already accepted from leaving twice.
        """
        messages = await self.claim(limit)
        gate = asyncio.Semaphore(self.concurrency)

        async def send(message: OutboxMessage) -> Outcome:
            async with gate:
                return await self._send(message)

        outcomes = list(await asyncio.gather(*(send(m) for m in messages)))
        await self._record(outcomes)
        return len(messages)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run until nothing is due (tests, benchmarks); returns the attempts made."""
        total = 0
        for _ in range(max_rounds):
            done = await self.run_once()
            if not done:
                break
            total += done
        return total

    async def run_forever(
        self, *, poll_seconds: float = 1.0, stop: asyncio.Event | None = None
    ) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("outbox worker round failed")
                done = 0
            if not done:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
                except TimeoutError:
                    pass
