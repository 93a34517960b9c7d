"""INT_R03: regulator bookings and their changes reach the (fake) SAS, once, in order."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.models import AppointmentStatus
from app.core.timeutil import PARIS
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.worker import OutboxWorker, RetryPolicy
from app.sas import check_appointment
from app.sas.push import NOT_CONFIGURED, TOPIC
from tests.factories import make_user, token
from tests.sas.world import REGULATOR_IDNPS, book_as_regulator, context, local, regulator, sas_gp

SYSTEM = "https://premier-recours.test/fhir/sid/appointment"
FAST = RetryPolicy(base_seconds=1, cap_seconds=8, lease_seconds=60)


async def _messages(db) -> list[OutboxMessage]:
    rows = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    db.expunge_all()
    await db.rollback()
    return list(rows)


async def _cancel(app, appointment_id: int) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        secretary = await session.scalar(select(User).where(User.role == Role.secretary))
        await appointments_service.cancel(
            session=session,
            appointment_id=appointment_id,
            reason="Le patient va mieux",
            by_patient=True,
            actor=secretary,
            ctx=context(app),
        )


async def _arrange(db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    await make_user(db, "secretaire", Role.secretary)
    return today, gp, user


async def _drain_with_backoff(app, clock, worker: OutboxWorker, rounds: int = 20) -> None:
    """Run the worker, moving the clock past each back-off, until nothing is left."""
    for _ in range(rounds):
        await worker.run_once()
        pending = [m for m in await _all(app) if m.status != OutboxStatus.sent]
        if not pending:
            return
        clock.advance(dt.timedelta(seconds=FAST.cap_seconds + 1))
    raise AssertionError("outbox not drained")


async def _all(app) -> list[OutboxMessage]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_a_booking_reaches_the_sas_and_a_cancellation_follows_as_put(
    app, db, clock, fake_sas
):
    today, gp, user = await _arrange(db, clock)
    appointment_id = await book_as_regulator(app, user.id, gp.id, local(today, 15))
    worker = OutboxWorker(app, policy=FAST)
    assert await worker.drain() == 1
    [post] = fake_sas.requests
    assert (post.method, post.path) == ("POST", "/fhir/Appointment")
    assert post.header("Authorization") == "Bearer sas-test-token"
    assert post.header("If-None-Exist").startswith(f"identifier={SYSTEM}|")
    booked = post.body
    assert check_appointment(booked) == []
    assert booked["status"] == "booked"
    assert booked["participant"][0]["actor"]["identifier"]["value"] == f"8{gp.rpps}"
    operator = booked["extension"][0]["valueReference"]["identifier"]
    assert (operator["system"], operator["value"]) == (
        "urn:oid:1.2.250.1.71.4.2.1",
        REGULATOR_IDNPS,
    )
    assert booked["start"] == "2026-12-07T15:00:00+01:00"

    await _cancel(app, appointment_id)
    assert await worker.drain() == 1
    put = fake_sas.requests[1]
    identifier = booked["identifier"][0]
    assert put.method == "PUT"
    assert put.query["identifier"] == [f"{identifier['system']}|{identifier['value']}"]
    assert put.body["status"] == "cancelled"
    assert check_appointment(put.body) == []
    assert [v["status"] for v in fake_sas.appointments[put.query["identifier"][0]]] == [
        "booked",
        "cancelled",
    ]
    messages = await _messages(db)
    assert [(m.status, m.result["status"]) for m in messages] == [
        (OutboxStatus.sent, 201),
        (OutboxStatus.sent, 200),
    ]


async def test_three_500_then_201_one_appointment_in_order(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    appointment_id = await book_as_regulator(app, user.id, gp.id, local(today, 15))
    await _cancel(app, appointment_id)  # queued behind the booking before anything is sent
    fake_sas.fail_next(3, status=500)
    await _drain_with_backoff(app, clock, OutboxWorker(app, policy=FAST))
    assert [r.method for r in fake_sas.requests] == ["POST"] * 4 + ["PUT"]
    assert len(fake_sas.appointments) == 1
    [versions] = fake_sas.appointments.values()
    assert [v["status"] for v in versions] == ["booked", "cancelled"]
    first, second = await _messages(db)
    assert (first.attempts, second.attempts) == (4, 1)


async def test_a_worker_killed_mid_send_loses_nothing(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    await book_as_regulator(app, user.id, gp.id, local(today, 15))
    killed = OutboxWorker(app, policy=FAST, name="killed")
    assert len(await killed.claim(10)) == 1  # claimed, then the process dies: never sent
    other = OutboxWorker(app, policy=FAST, name="other")
    assert await other.run_once() == 0  # the lease still holds
    clock.advance(dt.timedelta(seconds=FAST.lease_seconds + 1))
    assert await other.run_once() == 1
    assert [r.method for r in fake_sas.requests] == ["POST"]
    [message] = await _messages(db)
    assert message.status == OutboxStatus.sent


async def test_a_hung_sas_times_out_and_is_retried(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    await book_as_regulator(app, user.id, gp.id, local(today, 15))
    fake_sas.hang_next()
    worker = OutboxWorker(app, policy=FAST)
    try:
        await worker.run_once()  # the client gives up after SAS_TIMEOUT (2 s here)
    finally:
        fake_sas.release()
    [message] = await _messages(db)
    assert message.status == OutboxStatus.pending
    assert "délai" in message.last_error
    clock.advance(dt.timedelta(seconds=FAST.cap_seconds + 1))
    assert await worker.run_once() == 1
    assert len(fake_sas.appointments) == 1


async def test_a_refusal_is_shown_to_the_coordinator_and_retried_by_hand(
    app, client, db, clock, fake_sas
):
    today, gp, user = await _arrange(db, clock)
    await book_as_regulator(app, user.id, gp.id, local(today, 15))
    fake_sas.fail_next(1, status=422)
    worker = OutboxWorker(app, policy=FAST)
    await worker.run_once()
    await make_user(db, "coordination", Role.coordinator)
    headers = await token(client, "coordination")
    problems = (await client.get("/api/outbox/problems", headers=headers)).json()
    [problem] = problems
    assert problem["status"] == "failed"
    assert "422" in problem["last_error"]
    response = await client.post(f"/api/outbox/{problem['id']}/retry", headers=headers)
    assert response.status_code == 200, response.text
    assert await worker.run_once() == 1
    assert len(fake_sas.appointments) == 1


async def test_without_sas_base_url_pushes_wait_visibly(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    await book_as_regulator(app, user.id, gp.id, local(today, 15))
    client, app.state.sas_client = app.state.sas_client, None  # as wired without SAS_BASE_URL
    try:
        await OutboxWorker(app, policy=FAST).run_once()
    finally:
        app.state.sas_client = client
    [message] = await _messages(db)
    assert (message.status, message.last_error) == (OutboxStatus.pending, NOT_CONFIGURED)
    assert fake_sas.requests == []


async def test_secretariat_bookings_are_not_pushed(app, db, clock, fake_sas):
    today, gp, _user = await _arrange(db, clock)
    from tests.factories import make_patient

    patient = await make_patient(db)
    async with app.state.sessionmaker() as session, session.begin():
        secretary = await session.scalar(select(User).where(User.role == Role.secretary))
        from app.requests import service as requests_service
        from app.requests.schemas import RequestIn

        care_request, _ = await requests_service.create(
            session=session,
            request_in=RequestIn(patient_id=patient.id, reason="Toux"),
            actor=secretary,
            now=clock(),
        )
        from app.appointments.schemas import BookingIn

        await appointments_service.book(
            session=session,
            booking_in=BookingIn(
                request_id=care_request.id,
                practitioner_id=gp.id,
                start_at=local(today, 15),
                kind="teleconsultation",
            ),
            actor=secretary,
            ctx=context(app),
        )
    assert [m for m in await _messages(db) if m.topic == TOPIC] == []


async def test_outcome_is_pushed_with_the_same_identifier(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    appointment_id = await book_as_regulator(app, user.id, gp.id, local(today, 15))
    clock.set(local(today, 15, 10))  # the outcome comes after the start
    async with app.state.sessionmaker() as session, session.begin():
        secretary = await session.scalar(select(User).where(User.role == Role.secretary))
        await appointments_service.set_outcome(
            session=session,
            appointment_id=appointment_id,
            status=AppointmentStatus.fulfilled,
            actor=secretary,
            ctx=context(app),
        )
    await OutboxWorker(app, policy=FAST).drain()
    assert [r.method for r in fake_sas.requests] == ["POST", "PUT"]
    [versions] = fake_sas.appointments.values()
    assert [v["status"] for v in versions] == ["booked", "fulfilled"]


async def test_several_workers_side_by_side_send_each_push_once(app, db, clock, fake_sas):
    today, gp, user = await _arrange(db, clock)
    for hour in (14, 15, 16, 17, 18, 19):
        await book_as_regulator(app, user.id, gp.id, local(today, hour))
    workers = [OutboxWorker(app, policy=FAST, name=f"w{i}") for i in range(3)]
    rounds = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(rounds) == 6
    assert [r.method for r in fake_sas.requests] == ["POST"] * 6
    assert len(fake_sas.appointments) == 6
    assert all(len(v) == 1 for v in fake_sas.appointments.values())
