"""The effects of an appointment event run in the order declared in app/appointments/effects.py."""

from __future__ import annotations

import datetime as dt

from app.appointments.effects import AFTER, Effect, Effects
from app.appointments.events import AppointmentEvent, EventKind
from app.core.timeutil import PARIS, at
from tests.factories import make_patient


def test_every_event_kind_declares_its_effects_and_the_order_is_one():
    assert set(AFTER) == set(EventKind)
    assert set().union(*AFTER.values()) == set(Effect)
    # One order for all: an effect that runs before another does so after every event.
    rank = {e: i for i, e in enumerate(Effect)}
    for kind, effects in AFTER.items():
        assert list(effects) == sorted(effects, key=rank.__getitem__), kind
    assert AFTER[EventKind.booked] == (
        Effect.SAS_PUSH,
        Effect.SAS_HOME_VISIT_WINDOWS,
        Effect.SMS,
        Effect.WAITLIST,
    )
    assert AFTER[EventKind.cancelled][0] == Effect.REPLAN_ROUNDS
    assert Effect.ORIENTATION in AFTER[EventKind.outcome]


async def test_the_app_registers_every_effect_and_runs_them_in_the_declared_order(
    app, client, world, db
):
    registry: Effects = app.state.appointment_listeners
    assert registry.missing() == set()
    ran: list[tuple[str, str]] = []
    for effect, handler in list(registry.handlers.items()):

        async def spy(session, event, effect=effect, handler=handler):
            ran.append((str(event.kind), str(effect)))
            await handler(session, event)

        registry.handlers[effect] = spy
    patient = await make_patient(db)
    created = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.secretary
    )
    booked = await client.post(
        "/api/appointments",
        json={
            "request_id": created.json()["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
        },
        headers=world.secretary,
    )
    assert booked.status_code == 201, booked.text
    cancelled = await client.post(
        f"/api/appointments/{booked.json()['id']}/cancel",
        json={"reason": "test"},
        headers=world.secretary,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert ran == [("booked", str(e)) for e in AFTER[EventKind.booked]] + [
        ("cancelled", str(e)) for e in AFTER[EventKind.cancelled]
    ]


async def test_a_registry_runs_only_the_effects_of_the_event_then_ad_hoc_listeners():
    registry = Effects()
    ran: list[str] = []
    for effect in reversed(list(Effect)):  # registration order does not matter

        async def handler(session, event, effect=effect):
            ran.append(str(effect))

        registry.register(effect, handler)

    async def extra(session, event):
        ran.append("extra")

    registry.append(extra)
    event = AppointmentEvent(EventKind.outcome, None, None, dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
    for listener in registry:
        await listener(None, event)  # type: ignore[arg-type]
    assert ran == [str(e) for e in AFTER[EventKind.outcome]] + ["extra"]
    try:
        registry.register(Effect.SMS, extra)
    except ValueError:
        pass
    else:
        raise AssertionError("an effect cannot be registered twice")
