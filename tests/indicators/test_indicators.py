"""Indicators on a seeded fortnight whose every figure was counted by hand.

Period: Monday 30 November → Sunday 13 December 2026 (weeks 49 and 50).

- A: 6 phone requests (6 Cachan patients) received Tue 1 Dec 09:00, deadline 20:00,
  fulfilled teleconsultations from 15:00, one every 15 min, with the titular, MCG →
  delays 360, 375 … 435 min.
- B: 5 SAS requests (a Fresnes patient) received Tue 8 Dec 10:00, deadline +24 h,
  fulfilled home visit by the adjoint Thu 10 Dec 10:00 (arrival 10:30), SNP → after the
  deadline, exactly 48 h after the call; delay 2,910 min. SAS pushes: 3 sent, 1 failed,
  1 never queued.
- C: 2 phone requests (Rungis) Wed 2 Dec, redirected to the 15.
- D: 3 phone requests (outside the territory) Thu 3 Dec 09:00, deadline +48 h,
  teleconsultations Fri 4 Dec 14:00, 14:15, 14:30 with the other titular: no-show (within both).
- E: 1 phone request (Cachan) Fri 4 Dec 09:00, appointment 16:00 cancelled by the patient.
- Median delay call → care: 11 values, 360 … 435 then 5 × 2,910 → the 6th, 435 min.
- Orientation: the 6 A patients enter Tue 1 Dec 16:00 with consent; a batch proposes the
  titular to all 6 on Wed 2 Dec; 5 accept and 1 refuses; the 5 declare on Thu 3 Dec.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import select, update

from app.accounts.models import User
from app.appointments.billing import TariffTable
from app.appointments.models import AppointmentStatus, Origin
from app.core.timeutil import PARIS
from app.indicators import export
from app.indicators import service as indicators_service
from app.orientation import batch as batch_service
from app.orientation import service as orientation_service
from app.orientation.models import OrientationCase
from app.outbox import service as outbox_service
from app.outbox.models import OutboxMessage, OutboxStatus
from app.practitioners.models import Practitioner, SessionKind
from app.requests.models import Channel, RequestStatus
from tests.factories import make_patient
from tests.indicators.seed import appointment, care_request, duty

FROM, TO = dt.date(2026, 11, 30), dt.date(2026, 12, 13)


def paris(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


async def seed(db, world) -> None:
    titular = await db.get(Practitioner, world.titular.id)
    titular.accepts_new_patients, titular.new_patient_capacity = True, 10
    other = await db.get(Practitioner, world.other_titular.id)
    adjoint = await db.get(Practitioner, world.adjoint.id)
    session = await duty(db, titular, paris(1, 14))

    group_a = []
    for i in range(6):
        patient = await make_patient(db, family_name=f"Cachan{i}", phone=f"+3363998010{i}")
        group_a.append(patient)
        request = await care_request(db, patient.id, paris(1, 9), deadline=paris(1, 20))
        start = paris(1, 15) + dt.timedelta(minutes=15 * i)
        await appointment(db, request, titular, session, start, surcharges=["MCG"])

    fresnes = await make_patient(
        db,
        family_name="Fresnois",
        commune="Fresnes",
        commune_insee="94034",
        postal_code="94260",
        medecin_traitant_status="declared",
        phone="+33639980200",
    )
    sas_appointments = []
    for _ in range(5):
        request = await care_request(
            db, fresnes.id, paris(8, 10), channel=Channel.sas, deadline=paris(9, 10)
        )
        sas_appointments.append(
            await appointment(
                db,
                request,
                adjoint,
                session,
                paris(10, 10),
                kind=SessionKind.home_visit,
                origin=Origin.sas,
                planned_arrival=paris(10, 10, 30),
                surcharges=["SNP"],
            )
        )
    for i, (status, attempts) in enumerate(
        [
            (OutboxStatus.sent, 1),
            (OutboxStatus.sent, 1),
            (OutboxStatus.sent, 2),
            (OutboxStatus.failed, 5),
        ]
    ):
        message = await outbox_service.enqueue(
            session=db,
            topic="sas_appointment",
            key=f"sas:{i}",
            payload={"appointment_id": sas_appointments[i].id},
            ordering_key=f"appointment:{sas_appointments[i].id}",
        )
        message.status, message.attempts = status, attempts

    rungis = await make_patient(
        db,
        family_name="Rungissois",
        commune="Rungis",
        commune_insee="94065",
        postal_code="94150",
        medecin_traitant_status="declared",
        phone="+33639980300",
    )
    for _ in range(2):
        await care_request(db, rungis.id, paris(2, 11), status=RequestStatus.redirected_15)

    outside = await make_patient(
        db,
        family_name="Parisien",
        commune="Paris",
        commune_insee="75056",
        postal_code="75001",
        medecin_traitant_status="declared",
        phone="+33639980400",
    )
    for i in range(3):
        request = await care_request(db, outside.id, paris(3, 9), deadline=paris(5, 9))
        await appointment(
            db, request, other, session, paris(4, 14, 15 * i), status=AppointmentStatus.noshow
        )

    cancelling = await make_patient(db, family_name="Annule", phone="+33639980500")
    request = await care_request(
        db, cancelling.id, paris(4, 9), deadline=paris(4, 20), status=RequestStatus.cancelled
    )
    await appointment(
        db,
        request,
        titular,
        session,
        paris(4, 16),
        status=AppointmentStatus.cancelled,
        cancelled_by_patient=True,
    )
    await db.commit()

    coordinator = await db.scalar(select(User).where(User.username == "coordination"))
    secretary = await db.scalar(select(User).where(User.username == "secretaire"))
    cases = [
        await orientation_service.enter_patient(
            session=db, patient_id=p.id, actor=secretary, now=paris(1, 16), consent=True
        )
        for p in group_a
    ]
    await batch_service.propose_batch(session=db, actor=coordinator, now=paris(2, 9))
    for case in cases[:5]:
        await orientation_service.record_answer(
            session=db,
            case_id=case.id,
            accepted=True,
            note=None,
            actor=secretary,
            now=paris(2, 10),
        )
        await orientation_service.declare(
            session=db, case_id=case.id, actor=secretary, now=paris(3, 10)
        )
    await orientation_service.record_answer(
        session=db,
        case_id=cases[5].id,
        accepted=False,
        note=None,
        actor=secretary,
        now=paris(2, 10),
    )
    await db.commit()


async def test_indicators_match_the_hand_count(db, world):
    await seed(db, world)
    report = await indicators_service.compute(
        session=db, span=indicators_service.Period(FROM, TO), tariffs=TariffTable()
    )
    r = report.as_dict()
    assert r["professionals"] == {
        "titular": 2,
        "adjoint": 1,
        "titular_with_consultations": 1,
        "adjoint_with_consultations": 1,
    }
    assert r["consultations"] == {
        "home_visit": 5,
        "teleconsultation": 6,
        "practice": 0,
        "total": 11,
    }
    assert r["orientation"] == {
        "entered": 6,
        "proposed": 6,
        "accepted": 5,
        "declared": 5,
        "open_at_end": 1,
    }
    assert r["requests"] == {
        "received": 17,
        "by_channel": {"phone": 12, "sas": 5, "web": 0},
        "redirected_15": 2,
        "needing_care": 15,
        "answered_within_deadline": 9,
        "share_within_deadline": 0.6,
        "answered_within_48h": 14,
        "share_within_48h": 0.9333,
        "with_care": 11,
        "median_delay_minutes": 435.0,
        # Issue 19 item 9: where each request ended; the 2 C requests went to the 15.
        "by_destination": {
            "platform": 15,
            "samu_15": 2,
            "suicide_3114": 0,
            "pdsa_116117": 0,
            "pharmacist": 0,
            "nurse": 0,
            "emergency_department": 0,
        },
        "unfilled": 0,
    }
    assert r["appointments"] == {"noshow": 3, "noshow_rate": 0.2143, "cancelled_by_patient": 1}
    assert r["billing"] == {
        "mcg_count": 6,
        "mcg_amount": "30.00",
        "snp_count": 5,
        "snp_amount": "75.00",
    }
    assert r["sas"] == {
        "bookings": 5,
        "push": {"sent": 3, "pending": 0, "failed": 1, "not_queued": 1},
    }
    communes = {c["insee"]: c for c in r["by_commune"]}
    assert communes["94016"] == {
        "insee": "94016",
        "name": "Cachan",
        "population": 31069,
        "requests": 7,
        "redirected_15": 0,
        "consultations": 6,
        "oriented": 6,
        "declared": 5,
        "requests_per_1000": 0.23,
        "consultations_per_1000": 0.19,
    }
    assert (communes["94034"]["requests"], communes["94034"]["consultations"]) == (5, 5)
    assert communes["94034"]["requests_per_1000"] == 0.18
    assert (communes["94065"]["requests"], communes["94065"]["redirected_15"]) == (2, 2)
    assert communes[None]["requests"] == 3 and communes[None]["population"] is None
    assert communes["94038"]["requests"] == 0 and communes["94038"]["requests_per_1000"] == 0
    assert r["by_week"] == [
        {
            "week": "2026-S49",
            "monday": "2026-11-30",
            "requests": 12,
            "consultations": 6,
            "noshow": 3,
            "redirected_15": 2,
            "sas_bookings": 0,
        },
        {
            "week": "2026-S50",
            "monday": "2026-12-07",
            "requests": 5,
            "consultations": 5,
            "noshow": 0,
            "redirected_15": 0,
            "sas_bookings": 5,
        },
    ]
    # A period that excludes week 50 only sees week 49.
    first_week = await indicators_service.compute(
        session=db,
        span=indicators_service.Period(FROM, dt.date(2026, 12, 6)),
        tariffs=TariffTable(),
    )
    assert first_week.requests.received == 12
    assert first_week.sas.bookings == 0


async def test_the_api_masks_small_counts(client, db, world):
    await seed(db, world)
    response = await client.get(
        "/api/indicators",
        params={"from": "2026-11-30", "to": "2026-12-13"},
        headers=world.coordinator,
    )
    assert response.status_code == 200, response.text
    r = response.json()
    assert r["requests"]["received"] == 17
    assert r["requests"]["by_channel"] == {"phone": 12, "sas": 5, "web": 0}
    assert r["requests"]["redirected_15"] == "<5"
    assert r["requests"]["share_within_deadline"] == 0.6
    assert r["appointments"] == {
        "noshow": "<5",
        "noshow_rate": "n.d.",
        "cancelled_by_patient": "<5",
    }
    assert r["billing"]["mcg_amount"] == "30.00"
    assert r["sas"]["push"] == {"sent": "<5", "pending": 0, "failed": "<5", "not_queued": "<5"}
    communes = {c["insee"]: c for c in r["by_commune"]}
    assert communes["94065"]["requests"] == "<5"
    assert communes["94065"]["requests_per_1000"] == "n.d."
    assert communes["94016"]["requests"] == 7
    assert r["professionals"]["adjoint"] == 1  # professionals are public, never masked
    # Nothing that names a patient leaves the service.
    for name in ("Cachan0", "Fresnois", "Parisien", "+3363998"):
        assert name not in response.text

    for headers in (world.secretary, world.gp, world.regulator):
        assert (await client.get("/api/indicators", headers=headers)).status_code == 403
    bad = await client.get(
        "/api/indicators",
        params={"from": "2026-12-13", "to": "2026-11-30"},
        headers=world.coordinator,
    )
    assert bad.status_code == 422


async def test_csv_columns_and_rows_are_stable(client, db, world):
    await seed(db, world)
    response = await client.get(
        "/api/indicators.csv",
        params={"from": "2026-11-30", "to": "2026-12-13"},
        headers=world.coordinator,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [
        "periode_debut",
        "periode_fin",
        "section",
        "indicateur",
        "dimension",
        "valeur",
        "unite",
    ]
    body = table[1:]
    # 36 summary rows, 6 communes × 8, 2 weeks × 5; the waiting list's summary rows and
    # its *non pourvues* by 3 modalities, 3 channels, 2 weeks and 6 communes.
    waitlist_rows = len(export.WAITLIST_ROWS) + 3 + 3 + 2 + 6
    assert len(body) == len(export.SUMMARY_ROWS) + 6 * 8 + 2 * 5 + waitlist_rows
    assert len(export.SUMMARY_ROWS) == 42
    lookup = {(row[2], row[3], row[4]): row[5] for row in body}
    assert lookup[("demandes", "Demandes de soins non programmés reçues", "")] == "17"
    assert lookup[("demandes", "Part prise en charge sous 48 h", "")] == "0.9333"
    assert lookup[("demandes", "Délai médian appel → soin", "")] == "435"
    assert lookup[("rendez-vous", "Rendez-vous non honorés", "")] == "<5"
    assert lookup[("facturation", "Montant des majorations MCG", "")] == "30.00"
    assert lookup[("commune", "Demandes reçues", "Rungis (94065)")] == "<5"
    assert lookup[("commune", "Population", "Cachan (94016)")] == "31069"
    assert lookup[("semaine", "Demandes reçues", "2026-S49 (lundi 2026-11-30)")] == "12"
    assert all(row[0] == "2026-11-30" and row[1] == "2026-12-13" for row in body)
    # The same columns and rows on an empty period: stable whatever the data.
    empty = await client.get(
        "/api/indicators.csv",
        params={"from": "2026-01-05", "to": "2026-01-18"},
        headers=world.coordinator,
    )
    empty_table = list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))
    assert empty_table[0] == table[0]
    assert [row[2:5] for row in empty_table[1:]] == [
        [
            row[2],
            row[3],
            row[4]
            .replace("2026-S49 (lundi 2026-11-30)", "2026-S02 (lundi 2026-01-05)")
            .replace("2026-S50 (lundi 2026-12-07)", "2026-S03 (lundi 2026-01-12)"),
        ]
        for row in body
    ]


async def test_dashboard_and_report_pages_render_svg_without_cdn(client, db, world):
    await seed(db, world)
    params = {"from": "2026-11-30", "to": "2026-12-13"}
    page = await client.get("/indicateurs", params=params, headers=world.coordinator)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<svg" in html and "Demandes et consultations par semaine" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    # Charts are inline SVG: no chart script, nothing fetched from elsewhere.
    assert html.count("<svg") == 3
    assert 'src="http' not in html and "cdn" not in html.lower()
    assert "Cachan0" not in html
    report = await client.get("/indicateurs/rapport", params=params, headers=world.coordinator)
    assert report.status_code == 200
    assert "&lt;5" in report.text
    # Print styles live in a stylesheet (the CSP refuses inline styles).
    assert 'href="/static/indicators.css"' in report.text
    assert "@media print" in (await client.get("/static/indicators.css")).text
    assert "rapport d'activité" in report.text
    forbidden = await client.get("/indicateurs", headers=world.secretary)
    assert forbidden.status_code == 403


async def test_masking_rules():
    assert export.mask(0) == 0
    assert [export.mask(n) for n in (1, 4, 5)] == ["<5", "<5", 5]
    assert export.mask(True) is True


async def test_open_cases_at_end_ignore_later_closings(db, world):
    await seed(db, world)
    await db.execute(update(OrientationCase).values(entered_at=paris(1, 16)))
    await db.commit()
    r = await indicators_service.compute(
        session=db,
        span=indicators_service.Period(FROM, dt.date(2026, 12, 1)),
        tariffs=TariffTable(),
    )
    # On 1 Dec all 6 had entered and none was declared yet.
    assert r.orientation.open_at_end == 6
    assert r.orientation.entered == 6
    assert r.orientation.declared == 0
    assert OutboxMessage  # outbox table present


async def test_the_coordinator_reads_exact_counts_under_french_titles_exports_stay_masked(
    client, db, world
):
    await seed(db, world)
    params = {"from": "2026-11-30", "to": "2026-12-13"}
    html = (await client.get("/indicateurs", params=params, headers=world.coordinator)).text
    # French section titles, no interface code and no raw section key.
    for title in (
        "Professionnels de santé participants",
        "Demandes de soins non programmés",
        "Service d&#39;accès aux soins (SAS)",
    ):
        assert f">{title}</h3>" in html, title
    assert "INT_R03" not in html and ">professionnels<" not in html
    assert ">demandes<" not in html.replace("<td>demandes</td>", "")
    # 2 requests redirected to the 15, 3 SAS pushes sent: exact on the screen.
    assert "<strong>2</strong>réorientées vers le 15" in html
    assert "Effectifs exacts" in html
    assert '<td class="num">&lt;5</td>' not in html and ">&lt;5<" not in html
    # French numbers: the 48 h share with a comma, the population with a narrow space.
    assert re.search(r"<td class=\"num\">\d+,\d %</td>", html)
    population = await client.get("/api/indicators", params=params, headers=world.coordinator)
    assert population.json()["requests"]["redirected_15"] == "<5"  # the API stays masked
    csv_text = (
        await client.get("/api/indicators.csv", params=params, headers=world.coordinator)
    ).text
    assert "<5" in csv_text
    report = await client.get("/indicateurs/rapport", params=params, headers=world.coordinator)
    assert ">&lt;5<" in report.text and "INT_R03" not in report.text
    assert ">Demandes de soins non programmés</h3>" in report.text
