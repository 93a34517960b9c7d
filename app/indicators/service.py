"""The CPTS indicators (fiche action 1 and steering), computed over a period.

Definitions (each one is what the report and the CSV say):

- A period is whole local days ``[from, to]`` (Europe/Paris).
- Appointment indicators (consultations, no-shows, cancellations by the patient,
  surcharges, SAS bookings) count appointments whose *start* falls in the period.
  A consultation is an appointment whose outcome is *fulfilled*.
- Request indicators count requests *received* in the period. A request needing
  care is one not redirected to the 15. It is *answered within its deadline* when
  its first appointment not cancelled starts no later than its deadline (48 h after
  reception when it has none), and *within 48 h* when that start is at most 48 h
  after reception. The delay call → care is reception → start of the first
  *fulfilled* appointment (planned arrival for a home visit when known).
- Orientation: cases entered, proposed, accepted, declared during the period
  (by the time of the transition), and cases still open at the end of the period.
- Professionals: active titulars and adjoints, and those with at least one
  consultation in the period.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.billing import TariffTable
from app.appointments.models import Appointment, AppointmentStatus, Origin
from app.core.errors import InvalidInput
from app.core.timeutil import PARIS, at
from app.orientation.models import CaseStatus, OrientationCase, OrientationEvent
from app.patients.models import Patient
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.requests.models import CareRequest, Channel, RequestStatus
from app.territory import service as territory

SAS_TOPIC = "sas_appointment"
MAX_DAYS = 366
OTHER_COMMUNE = "hors_territoire"
HELD = (AppointmentStatus.booked, AppointmentStatus.fulfilled, AppointmentStatus.noshow)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def start_at(self) -> dt.datetime:
        return at(self.start, dt.time(0))

    @property
    def end_at(self) -> dt.datetime:
        return at(self.end + dt.timedelta(days=1), dt.time(0))

    def weeks(self) -> list[dt.date]:
        monday = self.start - dt.timedelta(days=self.start.weekday())
        out = []
        while monday <= self.end:
            out.append(monday)
            monday += dt.timedelta(days=7)
        return out


def period(start: dt.date | None, end: dt.date | None, today: dt.date) -> Period:
    """The period asked for; by default the current month up to today."""
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput("La date de début doit précéder la date de fin.", field="from")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"Période limitée à {MAX_DAYS} jours.", field="to")
    return Period(start, end)


def _week_of(value: dt.datetime) -> dt.date:
    day = value.astimezone(PARIS).date()
    return day - dt.timedelta(days=day.weekday())


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _per_1000(count: int, population: int) -> float | None:
    return round(count * 1000 / population, 2) if population else None


async def _push_status(session: AsyncSession, appointment_ids: list[int]) -> dict[int, str]:
    """The INT_R03 push state of each SAS booking, read from the outbox if it is there."""
    if not appointment_ids:
        return {}
    try:
        from app.outbox.models import OutboxMessage
    except ImportError:  # pragma: no cover - the outbox always ships with the app
        return {}
    wanted = {f"appointment:{i}": i for i in appointment_ids}
    rows = (
        await session.execute(
            select(OutboxMessage.ordering_key, OutboxMessage.payload, OutboxMessage.status).where(
                OutboxMessage.topic == SAS_TOPIC
            )
        )
    ).all()
    states: dict[int, list[str]] = {}
    for ordering_key, payload, status in rows:
        appointment_id = wanted.get(ordering_key or "")
        if appointment_id is None and isinstance(payload, dict):
            raw = payload.get("appointment_id")
            appointment_id = raw if raw in appointment_ids else None
        if appointment_id is not None:
            states.setdefault(appointment_id, []).append(str(status))
    result: dict[int, str] = {}
    for appointment_id in appointment_ids:
        seen = states.get(appointment_id, [])
        if not seen:
            result[appointment_id] = "not_queued"
        elif "failed" in seen:
            result[appointment_id] = "failed"
        elif any(s in ("pending", "sending") for s in seen):
            result[appointment_id] = "pending"
        else:
            result[appointment_id] = "sent"
    return result


async def compute(*, session: AsyncSession, span: Period, tariffs: TariffTable) -> dict[str, Any]:
    """Every indicator over the period, as raw counts (mask them before showing them)."""
    start_at, end_at = span.start_at, span.end_at
    territory_communes = await territory.communes(session)
    communes = {c.insee: c for c in territory_communes}

    def commune_of(insee: str | None) -> str:
        return insee if insee in communes else OTHER_COMMUNE

    # --- professionals
    practitioners = (
        await session.execute(
            select(Practitioner.id, Practitioner.status).where(Practitioner.active.is_(True))
        )
    ).all()
    status_of = dict(practitioners)

    # --- appointments starting in the period
    appointments = (
        await session.execute(
            select(Appointment, Patient.commune_insee)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Appointment.start_at >= start_at, Appointment.start_at < end_at)
        )
    ).all()
    fulfilled = [a for a, _ in appointments if a.status == AppointmentStatus.fulfilled]
    by_kind = Counter(str(a.kind) for a in fulfilled)
    noshow = sum(1 for a, _ in appointments if a.status == AppointmentStatus.noshow)
    cancelled_by_patient = sum(
        1
        for a, _ in appointments
        if a.status == AppointmentStatus.cancelled and a.cancelled_by_patient
    )
    mcg = sum(1 for a in fulfilled if "MCG" in (a.surcharges or []))
    snp = sum(1 for a in fulfilled if "SNP" in (a.surcharges or []))
    sas_bookings = [a for a, _ in appointments if a.origin == Origin.sas]
    push = Counter((await _push_status(session, [a.id for a in sas_bookings])).values())
    active_ids = {a.practitioner_id for a in fulfilled}

    # --- requests received in the period, with their appointments
    requests = (
        await session.execute(
            select(CareRequest, Patient.commune_insee)
            .join(Patient, Patient.id == CareRequest.patient_id)
            .where(CareRequest.received_at >= start_at, CareRequest.received_at < end_at)
        )
    ).all()
    request_ids = [r.id for r, _ in requests]
    first_held: dict[int, dt.datetime] = {}
    first_care: dict[int, dt.datetime] = {}
    if request_ids:
        rows = (
            await session.execute(
                select(
                    Appointment.request_id,
                    Appointment.status,
                    Appointment.start_at,
                    Appointment.planned_arrival,
                ).where(Appointment.request_id.in_(request_ids))
            )
        ).all()
        for request_id, status, start, planned in rows:
            if status in HELD and (request_id not in first_held or start < first_held[request_id]):
                first_held[request_id] = start
            if status == AppointmentStatus.fulfilled:
                care = planned or start
                if request_id not in first_care or care < first_care[request_id]:
                    first_care[request_id] = care
    channels = Counter(str(r.channel) for r, _ in requests)
    redirected = [r for r, _ in requests if r.status == RequestStatus.redirected_15]
    needing_care = [r for r, _ in requests if r.status != RequestStatus.redirected_15]
    within_deadline = within_48h = 0
    for r in needing_care:
        start = first_held.get(r.id)
        if start is None:
            continue
        deadline = r.deadline or r.received_at + dt.timedelta(hours=48)
        within_deadline += start <= deadline
        within_48h += start - r.received_at <= dt.timedelta(hours=48)
    delays = [
        (first_care[r.id] - r.received_at).total_seconds() / 60
        for r in needing_care
        if r.id in first_care
    ]

    # --- orientation
    entered = (
        await session.execute(
            select(OrientationCase.id, Patient.commune_insee)
            .join(Patient, Patient.id == OrientationCase.patient_id)
            .where(OrientationCase.entered_at >= start_at, OrientationCase.entered_at < end_at)
        )
    ).all()
    transitions = (
        await session.execute(
            select(OrientationEvent.case_id, OrientationEvent.to_status, Patient.commune_insee)
            .join(OrientationCase, OrientationCase.id == OrientationEvent.case_id)
            .join(Patient, Patient.id == OrientationCase.patient_id)
            .where(OrientationEvent.at >= start_at, OrientationEvent.at < end_at)
        )
    ).all()
    reached: dict[str, set[int]] = {}
    declared_by_commune: Counter[str] = Counter()
    for case_id, to_status, insee in transitions:
        if to_status == str(CaseStatus.declared) and case_id not in reached.get(to_status, set()):
            declared_by_commune[commune_of(insee)] += 1
        reached.setdefault(to_status, set()).add(case_id)
    open_cases = len(
        (
            await session.scalars(
                select(OrientationCase.id).where(
                    OrientationCase.entered_at < end_at,
                    OrientationCase.status.notin_((CaseStatus.declared, CaseStatus.closed))
                    | (OrientationCase.status_changed_at >= end_at),
                )
            )
        ).all()
    )

    # --- per commune and per week
    per_commune: dict[str, Counter[str]] = {k: Counter() for k in [*communes, OTHER_COMMUNE]}
    per_week: dict[dt.date, Counter[str]] = {w: Counter() for w in span.weeks()}
    for r, insee in requests:
        per_commune[commune_of(insee)]["requests"] += 1
        week = per_week[_week_of(r.received_at)]
        week["requests"] += 1
        if r.status == RequestStatus.redirected_15:
            per_commune[commune_of(insee)]["redirected_15"] += 1
            week["redirected_15"] += 1
    for a, insee in appointments:
        week = per_week[_week_of(a.start_at)]
        if a.status == AppointmentStatus.fulfilled:
            per_commune[commune_of(insee)]["consultations"] += 1
            week["consultations"] += 1
        elif a.status == AppointmentStatus.noshow:
            week["noshow"] += 1
        if a.origin == Origin.sas:
            week["sas_bookings"] += 1
    for _case_id, insee in entered:
        per_commune[commune_of(insee)]["oriented"] += 1
    for insee, n in declared_by_commune.items():
        per_commune[insee]["declared"] += n

    commune_rows = []
    for key, counts in per_commune.items():
        commune = communes.get(key)
        population = commune.population if commune else 0
        commune_rows.append(
            {
                "insee": key if commune else None,
                "name": commune.name if commune else "Hors territoire ou inconnue",
                "population": population or None,
                "requests": counts["requests"],
                "redirected_15": counts["redirected_15"],
                "consultations": counts["consultations"],
                "oriented": counts["oriented"],
                "declared": counts["declared"],
                "requests_per_1000": _per_1000(counts["requests"], population),
                "consultations_per_1000": _per_1000(counts["consultations"], population),
            }
        )
    week_rows = [
        {
            "week": f"{w.isocalendar().year}-S{w.isocalendar().week:02d}",
            "monday": w.isoformat(),
            "requests": c["requests"],
            "consultations": c["consultations"],
            "noshow": c["noshow"],
            "redirected_15": c["redirected_15"],
            "sas_bookings": c["sas_bookings"],
        }
        for w, c in per_week.items()
    ]

    mcg_amount = tariffs.amount("MCG") * mcg
    snp_amount = tariffs.amount("SNP") * snp
    return {
        "period": {"from": span.start.isoformat(), "to": span.end.isoformat()},
        "population": territory_communes.population,
        "professionals": {
            "titular": sum(1 for s in status_of.values() if s == PractitionerStatus.titular),
            "adjoint": sum(1 for s in status_of.values() if s == PractitionerStatus.adjoint),
            "titular_with_consultations": sum(
                1 for i in active_ids if status_of.get(i) == PractitionerStatus.titular
            ),
            "adjoint_with_consultations": sum(
                1 for i in active_ids if status_of.get(i) == PractitionerStatus.adjoint
            ),
        },
        "consultations": {
            "home_visit": by_kind[str(SessionKind.home_visit)],
            "teleconsultation": by_kind[str(SessionKind.teleconsultation)],
            "practice": by_kind[str(SessionKind.practice)],
            "total": len(fulfilled),
        },
        "orientation": {
            "entered": len(entered),
            "proposed": len(reached.get(str(CaseStatus.proposed), set())),
            "accepted": len(reached.get(str(CaseStatus.accepted), set())),
            "declared": len(reached.get(str(CaseStatus.declared), set())),
            "open_at_end": open_cases,
        },
        "requests": {
            "received": len(requests),
            "by_channel": {str(c): channels[str(c)] for c in Channel},
            "redirected_15": len(redirected),
            "needing_care": len(needing_care),
            "answered_within_deadline": within_deadline,
            "share_within_deadline": _share(within_deadline, len(needing_care)),
            "answered_within_48h": within_48h,
            "share_within_48h": _share(within_48h, len(needing_care)),
            "with_care": len(delays),
            "median_delay_minutes": round(statistics.median(delays), 1) if delays else None,
        },
        "appointments": {
            "noshow": noshow,
            "noshow_rate": _share(noshow, noshow + len(fulfilled)),
            "cancelled_by_patient": cancelled_by_patient,
        },
        "billing": {
            "mcg_count": mcg,
            "mcg_amount": str(mcg_amount.quantize(Decimal("0.01"))),
            "snp_count": snp,
            "snp_amount": str(snp_amount.quantize(Decimal("0.01"))),
        },
        "sas": {
            "bookings": len(sas_bookings),
            "push": {k: push[k] for k in ("sent", "pending", "failed", "not_queued")},
        },
        "by_commune": commune_rows,
        "by_week": week_rows,
    }
