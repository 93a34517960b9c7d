"""The coordinator edits and removes the roster on /equipe, the impact shown before the
confirmation (issue 22, item 5): templates, one-off sessions, absences, pairs."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import select

from app.practitioners.models import Absence, DutySession, Practitioner, SessionTemplate
from tests.gp.helpers import book, local, new_request
from tests.web.conftest import csrf_of, login_as

WED, THU = dt.date(2026, 12, 9), dt.date(2026, 12, 10)


async def _booked_wednesday(client, world, db) -> int:
    """Anne Petit's teleconsultation with Dr Bernard, Wednesday 9 December at 15:00."""
    _p, request_id = await new_request(client, world, db, family_name="Petit", given_name="Anne")
    appointment = await book(client, world, request_id, world.other_titular.id, local(WED, 15))
    return appointment["id"]


async def _rows(db, model, *where):
    stmt = select(model).where(*where).execution_options(populate_existing=True)
    rows = (await db.scalars(stmt)).all()
    out = [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in rows]
    db.expunge_all()  # the world's rows stay readable after the rollback
    await db.rollback()
    return out


async def _session_on(db, practitioner_id: int, day: dt.date) -> list[dict]:
    return await _rows(
        db,
        DutySession,
        DutySession.practitioner_id == practitioner_id,
        DutySession.date == day,
    )


async def test_a_refused_absence_says_which_appointments_with_links(client, db, world):
    appointment_id = await _booked_wednesday(client, world, db)
    token = await login_as(client, "coordination")
    refused = await client.post(
        "/equipe/absences",
        data={
            "csrf_token": token,
            "practitioner_id": str(world.other_titular.id),
            "start_date": "2026-12-09",
            "end_date": "2026-12-09",
            "reason": "Formation",
        },
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "1 rendez-vous est déjà pris sur cette période" in text
    assert f'href="/rendez-vous/{appointment_id}">PETIT Anne</a>' in text
    assert "mercredi 9 décembre à 15:00 avec Dr Karim Bernard" in text


async def test_editing_a_template_shows_the_impact_then_applies_it(client, db, world):
    appointment_id = await _booked_wednesday(client, world, db)
    [template] = await _rows(
        db,
        SessionTemplate,
        SessionTemplate.practitioner_id == world.other_titular.id,
        SessionTemplate.weekday == 2,
    )
    token = await login_as(client, "coordination")
    page = await client.get("/equipe")
    assert f'href="/equipe/modeles/{template["id"]}"' in page.text
    edit = await client.get(f"/equipe/modeles/{template['id']}")
    assert edit.status_code == 200 and 'value="14:00"' in edit.text
    form = {
        "csrf_token": token,
        "weekday": "2",
        "kind": "teleconsultation",
        "start_time": "15:00",
        "end_time": "19:00",
        "capacity": "",
    }
    preview = await client.post(f"/equipe/modeles/{template['id']}", data=form)
    assert preview.status_code == 200, preview.text
    text = html.unescape(preview.text)
    assert "Confirmer la modification" in text
    assert "Vacations annulées (1)" in text and "mercredi 16 décembre 14:00–20:00" in text
    assert "Vacations maintenues car des rendez-vous y sont pris (1)" in text
    assert f'href="/rendez-vous/{appointment_id}">PETIT Anne</a>' in text
    # Nothing changed yet.
    [next_week] = await _session_on(db, world.other_titular.id, WED + dt.timedelta(days=7))
    assert next_week["start_at"].astimezone(local(WED, 0).tzinfo).hour == 14

    done = await client.post(f"/equipe/modeles/{template['id']}", data={**form, "confirmed": "1"})
    assert done.status_code == 303 and done.headers["location"] == "/equipe?fait=modele-modifie"
    live = [
        s
        for s in await _session_on(db, world.other_titular.id, WED + dt.timedelta(days=7))
        if not s["cancelled"]
    ]
    assert [s["start_at"].astimezone(local(WED, 0).tzinfo).hour for s in live] == [15]
    [kept] = [s for s in await _session_on(db, world.other_titular.id, WED) if not s["cancelled"]]
    assert kept["start_at"].astimezone(local(WED, 0).tzinfo).hour == 14  # its appointment stays
    assert "Modèle hebdomadaire modifié." in (await client.get("/equipe?fait=modele-modifie")).text


async def test_removing_a_template_keeps_sessions_with_appointments(client, db, world):
    await _booked_wednesday(client, world, db)
    [template] = await _rows(
        db,
        SessionTemplate,
        SessionTemplate.practitioner_id == world.other_titular.id,
        SessionTemplate.weekday == 2,
    )
    token = await login_as(client, "coordination")
    url = f"/equipe/modeles/{template['id']}/supprimer"
    preview = await client.post(url, data={"csrf_token": token})
    assert "Confirmer la suppression" in preview.text and "PETIT Anne" in preview.text
    assert (await client.post(url, data={"csrf_token": token, "confirmed": "1"})).status_code == 303
    [row] = await _rows(db, SessionTemplate, SessionTemplate.id == template["id"])
    assert row["active"] is False
    assert [s["cancelled"] for s in await _session_on(db, world.other_titular.id, WED)] == [False]
    later = await _session_on(db, world.other_titular.id, WED + dt.timedelta(days=7))
    assert [s["cancelled"] for s in later] == [True]


async def test_a_session_with_appointments_cannot_lose_them_a_free_one_goes(client, db, world):
    appointment_id = await _booked_wednesday(client, world, db)
    [busy] = await _session_on(db, world.other_titular.id, WED)
    [free] = await _session_on(db, world.other_titular.id, THU)
    token = await login_as(client, "coordination")
    moved = await client.post(
        f"/equipe/vacations/{busy['id']}",
        data={
            "csrf_token": token,
            "date": "2026-12-09",
            "kind": "teleconsultation",
            "start_time": "16:00",
            "end_time": "20:00",
        },
    )
    assert moved.status_code == 409
    text = html.unescape(moved.text)
    assert "1 rendez-vous est déjà pris dans cette vacation en dehors des nouveaux horaires" in text
    assert f'href="/rendez-vous/{appointment_id}">PETIT Anne</a>' in text
    gone = await client.post(
        f"/equipe/vacations/{busy['id']}/supprimer", data={"csrf_token": token, "confirmed": "1"}
    )
    assert gone.status_code == 409 and "PETIT Anne" in gone.text
    assert (await _session_on(db, world.other_titular.id, WED))[0]["cancelled"] is False

    url = f"/equipe/vacations/{free['id']}/supprimer"
    preview = await client.post(url, data={"csrf_token": token})
    assert "Vacations annulées (1)" in html.unescape(preview.text)
    assert (await client.post(url, data={"csrf_token": token, "confirmed": "1"})).status_code == 303
    assert (await _session_on(db, world.other_titular.id, THU))[0]["cancelled"] is True


async def test_an_absence_is_edited_and_removed_its_sessions_reopen(client, db, world):
    token = await login_as(client, "coordination")
    await _booked_wednesday(client, world, db)
    base = {"csrf_token": token, "practitioner_id": str(world.other_titular.id)}
    added = await client.post(
        "/equipe/absences",
        data={**base, "start_date": "2026-12-10", "end_date": "2026-12-11", "reason": "Congrès"},
    )
    assert added.status_code == 303
    [absence] = await _rows(db, Absence, Absence.practitioner_id == world.other_titular.id)
    assert (await _session_on(db, world.other_titular.id, THU))[0]["cancelled"] is True
    page = await client.get("/equipe")
    assert f'href="/equipe/absences/{absence["id"]}"' in page.text

    # Stretched over Wednesday: refused, Anne Petit's appointment named.
    stretched = await client.post(
        f"/equipe/absences/{absence['id']}",
        data={"csrf_token": token, "start_date": "2026-12-09", "end_date": "2026-12-11"},
    )
    assert stretched.status_code == 409 and "PETIT Anne" in stretched.text

    # Shortened to Friday only: Thursday's session opens again.
    form = {"csrf_token": token, "start_date": "2026-12-11", "end_date": "2026-12-11"}
    preview = await client.post(f"/equipe/absences/{absence['id']}", data=form)
    assert "Vacations rouvertes (1)" in html.unescape(preview.text)
    done = await client.post(f"/equipe/absences/{absence['id']}", data={**form, "confirmed": "1"})
    assert done.status_code == 303
    assert (await _session_on(db, world.other_titular.id, THU))[0]["cancelled"] is False

    removed = await client.post(
        f"/equipe/absences/{absence['id']}/supprimer", data={"csrf_token": token, "confirmed": "1"}
    )
    assert removed.status_code == 303
    assert await _rows(db, Absence, Absence.id == absence["id"]) == []
    friday = await _session_on(db, world.other_titular.id, dt.date(2026, 12, 11))
    assert [s["cancelled"] for s in friday] == [False]


async def test_an_adjoints_authorisation_and_pair_are_edited_then_removed(client, db, world):
    token = await login_as(client, "coordination")
    adjoint_id = world.adjoint.id
    url = f"/equipe/adjoints/{adjoint_id}"
    page = await client.get("/equipe")
    assert f'href="{url}"' in page.text
    form = {
        "csrf_token": token,
        "titular_id": str(world.titular.id),
        "authorisation_start": "2026-11-27",
        "authorisation_end": "2026-12-08",
    }
    preview = await client.post(url, data=form)
    text = html.unescape(preview.text)
    assert preview.status_code == 200 and "Vacations annulées" in text
    assert "mercredi 9 décembre" in text
    assert (await client.post(url, data={**form, "confirmed": "1"})).status_code == 303
    [adjoint] = await _rows(db, Practitioner, Practitioner.id == adjoint_id)
    assert adjoint["authorisation_end"] == dt.date(2026, 12, 8)
    assert all(s["cancelled"] for s in await _session_on(db, adjoint_id, WED))

    removed = await client.post(
        f"{url}/retirer", data={"csrf_token": csrf_of(page.text), "confirmed": "1"}
    )
    assert removed.status_code == 303
    [adjoint] = await _rows(db, Practitioner, Practitioner.id == adjoint_id)
    assert adjoint["active"] is False
    assert all(s["cancelled"] for s in await _session_on(db, adjoint_id, dt.date(2026, 12, 8)))
