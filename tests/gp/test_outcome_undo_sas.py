"""Issue 19 item 10 with the SAS (INT_R03): an outcome undone the same day is pushed.

The SAS was told « fulfilled »; the author undoes it (the patient was not seen after all)
and records « noshow ». The fake SAS must receive booked → fulfilled → booked → noshow,
in that order, each a valid FrAppointmentSAS.
"""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role, User
from app.appointments.models import AppointmentStatus
from app.gp import outcomes as outcomes_service
from app.gp.schemas import OutcomeIn
from app.outbox.models import OutboxMessage
from app.outbox.worker import OutboxWorker, RetryPolicy
from app.sas import check_appointment
from app.sas.push import TOPIC
from tests.factories import make_user

# The SAS tests' fixtures: the fake SAS server on 127.0.0.1 and an app wired to it.
from tests.sas.conftest import app, cpts, fake_sas, sas_settings  # noqa: F401
from tests.sas.world import book_as_regulator, context, local, regulator, sas_gp

FAST = RetryPolicy(base_seconds=1, cap_seconds=8, lease_seconds=60)


async def _as_coordinator(app, work) -> None:  # noqa: F811 (the imported fixture)
    async with app.state.sessionmaker() as session, session.begin():
        actor = await session.scalar(select(User).where(User.username == "coordination"))
        await work(session, actor)


async def test_an_undone_outcome_reaches_the_sas_in_order(app, db, clock, fake_sas):  # noqa: F811
    today = clock().date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    await make_user(db, "coordination", Role.coordinator)
    appointment_id = await book_as_regulator(app, user.id, gp.id, local(today, 15))
    worker = OutboxWorker(app, policy=FAST)
    assert await worker.drain() == 1

    async def record(status: AppointmentStatus):
        async def work(session, actor):
            await outcomes_service.record_outcome(
                session=session,
                appointment_id=appointment_id,
                outcome_in=OutcomeIn(status=status),
                actor=actor,
                ctx=context(app),
            )

        await _as_coordinator(app, work)

    async def undo(session, actor):
        appointment = await outcomes_service.undo_outcome(
            session=session, appointment_id=appointment_id, actor=actor, ctx=context(app)
        )
        assert appointment.status == AppointmentStatus.booked

    clock.set(local(today, 15, 5))
    await record(AppointmentStatus.fulfilled)
    await _as_coordinator(app, undo)
    clock.set(local(today, 15, 20))
    await record(AppointmentStatus.noshow)
    assert await worker.drain() == 3

    [versions] = fake_sas.appointments.values()
    assert [v["status"] for v in versions] == ["booked", "fulfilled", "booked", "noshow"]
    assert [r.method for r in fake_sas.requests] == ["POST", "PUT", "PUT", "PUT"]
    assert all(check_appointment(v) == [] for v in versions)
    events = [
        m.payload["event"]
        for m in (
            await db.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == TOPIC).order_by(OutboxMessage.id)
            )
        ).all()
    ]
    assert events == ["booked", "outcome", "outcome_undone", "outcome"]
