"""HH slots: only where the rounds can absorb a visit, in sessions open to the SAS, cached."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.timeutil import PARIS
from app.practitioners.models import DutySession, SessionKind
from app.rounds import service as rounds_service
from app.sas import check_slot_bundle
from tests.factories import add_week, make_practitioner
from tests.sas.fake_sas import slot_search_params
from tests.sas.world import local


class FakeRounds:
    """Stands for the solver: one absorbable window per home-visit session asked about."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], dt.date]] = []

    async def __call__(self, *, session, practitioner_ids, start, end, now, **_kwargs):
        self.calls.append((sorted(practitioner_ids), start.astimezone(PARIS).date()))
        duties = (
            await session.scalars(
                select(DutySession).where(
                    DutySession.practitioner_id.in_(practitioner_ids),
                    DutySession.kind == SessionKind.home_visit,
                    DutySession.start_at >= start,
                    DutySession.start_at < end,
                )
            )
        ).all()
        return [
            SimpleNamespace(
                practitioner_id=d.practitioner_id,
                session_id=d.id,
                start_at=d.start_at + dt.timedelta(hours=1),
                end_at=d.start_at + dt.timedelta(hours=2),
            )
            for d in duties
        ]


@pytest.fixture
def fake_rounds(monkeypatch) -> FakeRounds:
    fake = FakeRounds()
    monkeypatch.setattr(rounds_service, "absorbable_home_visit_windows", fake)
    return fake


async def test_hh_slots_only_in_sessions_open_to_the_sas_and_cached(
    app, client, db, clock, fhir, fake_rounds
):
    today = clock().astimezone(PARIS).date()
    open_gp = await make_practitioner(db, family_name="Ouvert")
    closed_gp = await make_practitioner(db, family_name="Ferme")
    for gp in (open_gp, closed_gp):
        await add_week(db, gp, today, kinds=(SessionKind.home_visit,), horizon_days=2)
    for duty in (
        await db.scalars(select(DutySession).where(DutySession.practitioner_id == open_gp.id))
    ).all():
        duty.open_to_sas = True
    await db.commit()
    params = slot_search_params(
        [f"8{open_gp.rpps}", f"8{closed_gp.rpps}"],
        local(today, 8).isoformat(),
        local(today, 23).isoformat(),
    )
    bundle = (await client.get("/fhir/Slot", params=params, headers=fhir)).json()
    slots = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot"]
    assert [(s["serviceType"][0]["coding"][0]["code"], s["start"]) for s in slots] == [
        ("HH", "2026-12-07T11:00:00.000+01:00")
    ]
    assert slots[0]["comment"].endswith(f"/sas/praticiens/{open_gp.id}")
    assert check_slot_bundle(bundle) == []
    assert fake_rounds.calls == [([open_gp.id], today)]
    # The next search is served from the cache: no solver run.
    assert (await client.get("/fhir/Slot", params=params, headers=fhir)).json()["total"] == 1
    assert len(fake_rounds.calls) == 1
    # A home-visit event of that day drops the day from the cache.
    app.state.sas_home_visit_windows.drop_day(today)
    assert (await client.get("/fhir/Slot", params=params, headers=fhir)).json()["total"] == 1
    assert len(fake_rounds.calls) == 2


async def test_home_visits_closed_to_the_sas_by_setting_give_only_timed_slots(
    app, client, db, clock, fhir, fake_rounds
):
    app.state.sas_settings = app.state.sas_settings.model_copy(update={"sas_home_visits": False})
    today = clock().astimezone(PARIS).date()
    gp = await make_practitioner(db)
    await add_week(db, gp, today, horizon_days=2)
    for duty in (await db.scalars(select(DutySession))).all():
        duty.open_to_sas = True
    await db.commit()
    params = slot_search_params(
        [f"8{gp.rpps}"], local(today, 8).isoformat(), local(today, 23).isoformat()
    )
    bundle = (await client.get("/fhir/Slot", params=params, headers=fhir)).json()
    codes = {
        e["resource"]["serviceType"][0]["coding"][0]["code"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Slot"
    }
    assert codes == {"VR"}
    assert fake_rounds.calls == []


async def test_real_rounds_offer_hh_windows_when_available(app, client, db, clock, fhir):
    """With the rounds domain's own solver: an empty round absorbs a visit."""
    today = clock().astimezone(PARIS).date()
    gp = await make_practitioner(db)
    await add_week(db, gp, today, kinds=(SessionKind.home_visit,), horizon_days=2)
    for duty in (await db.scalars(select(DutySession))).all():
        duty.open_to_sas = True
    await db.commit()
    params = slot_search_params(
        [f"8{gp.rpps}"], local(today, 8).isoformat(), local(today, 23).isoformat()
    )
    bundle = (await client.get("/fhir/Slot", params=params, headers=fhir)).json()
    slots = [
        e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Slot"
    ]
    assert slots
    assert {s["serviceType"][0]["coding"][0]["code"] for s in slots} == {"HH"}
    assert all("10:00" <= s["start"][11:16] < "13:00" for s in slots)
    assert check_slot_bundle(bundle) == []
