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
- Waiting list (issue 23): requests that became *non pourvues* in the period (by the
  time of that status), by week, commune of the patient, modality and channel; requests
  on the list at the end of the period and the median wait of those that left it in the
  period; slots freed in the period, the share refilled and the median delay from
  release to refill (any booking of it: OUI by SMS, the call list, a page).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.billing import TariffTable
from app.appointments.models import Appointment, AppointmentStatus, Origin
from app.core.errors import InvalidInput
from app.core.timeutil import PARIS, at
from app.orientation.models import CaseStatus, OrientationCase, OrientationEvent
from app.outbox.models import OutboxMessage
from app.patients.models import Patient
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.requests.models import CareRequest, Channel, Destination, RequestStatus
from app.territory import service as territory
from app.waitlist.models import EntryStatus, FreedSlot, SlotOffer, SlotStatus, WaitlistEntry

SAS_TOPIC = "sas_appointment"
MAX_DAYS = 366
OTHER_COMMUNE = "hors_territoire"
HELD = (AppointmentStatus.booked, AppointmentStatus.fulfilled, AppointmentStatus.noshow)


@dataclass(frozen=True)
class Professionals:
    titular: int
    adjoint: int
    titular_with_consultations: int
    adjoint_with_consultations: int


@dataclass(frozen=True)
class Consultations:
    home_visit: int
    teleconsultation: int
    practice: int
    total: int


@dataclass(frozen=True)
class Orientation:
    entered: int
    proposed: int
    accepted: int
    declared: int
    open_at_end: int


@dataclass(frozen=True)
class Requests:
    received: int
    by_channel: dict[str, int]
    redirected_15: int
    needing_care: int
    answered_within_deadline: int
    share_within_deadline: float | None
    answered_within_48h: int
    share_within_48h: float | None
    with_care: int
    median_delay_minutes: float | None
    # Where requests ended (15, 3114, 116 117, pharmacist, nurse, ED, platform) and how many
    # were *non pourvues* (issue 19 item 9).
    by_destination: dict[str, int] = field(default_factory=dict)
    unfilled: int = 0


@dataclass(frozen=True)
class Appointments:
    noshow: int
    noshow_rate: float | None
    cancelled_by_patient: int


@dataclass(frozen=True)
class Billing:
    mcg_count: int
    mcg_amount: str
    snp_count: int
    snp_amount: str


@dataclass(frozen=True)
class Sas:
    bookings: int
    push: dict[str, int]


@dataclass(frozen=True)
class CommuneRow:
    insee: str | None
    name: str
    population: int | None
    requests: int
    redirected_15: int
    consultations: int
    oriented: int
    declared: int
    requests_per_1000: float | None
    consultations_per_1000: float | None


@dataclass(frozen=True)
class WeekRow:
    week: str
    monday: str
    requests: int
    consultations: int
    noshow: int
    redirected_15: int
    sas_bookings: int


@dataclass(frozen=True)
class Unfilled:
    total: int
    by_week: dict[str, int]
    by_commune: dict[str, int]
    by_modality: dict[str, int]
    by_channel: dict[str, int]


@dataclass(frozen=True)
class Waitlist:
    unfilled: Unfilled
    waiting_at_end: int
    left: int
    median_wait_minutes: float | None
    freed: int
    refilled: int
    share_refilled: float | None
    median_refill_minutes: float | None
    sms_offers: int


@dataclass(frozen=True)
class Report:
    """Every indicator over a period, as raw counts (mask them before showing them)."""

    period: dict[str, str]  # {"from": ..., "to": ...}: ISO dates, both included
    population: int
    professionals: Professionals
    consultations: Consultations
    orientation: Orientation
    requests: Requests
    appointments: Appointments
    billing: Billing
    sas: Sas
    by_commune: list[CommuneRow]
    by_week: list[WeekRow]
    waitlist: Waitlist | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON, CSV and pages read it (export.mask_report)."""
        return asdict(self)


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


AppointmentRows = Sequence[tuple[Appointment, str | None]]
RequestRows = Sequence[tuple[CareRequest, str | None]]


async def compute(*, session: AsyncSession, span: Period, tariffs: TariffTable) -> Report:
    """Every indicator over the period, as raw counts (mask them before showing them)."""
    territory_communes = await territory.communes(session)
    communes = {c.insee: c for c in territory_communes}

    def commune_of(insee: str | None) -> str:
        return insee if insee in communes else OTHER_COMMUNE

    appointments = await _appointments(session, span)
    fulfilled = [a for a, _ in appointments if a.status == AppointmentStatus.fulfilled]
    requests = await _requests(session, span)
    orientation, entered, declared_by_commune = await _orientation(session, span, commune_of)
    per_commune: dict[str, Counter[str]] = {k: Counter() for k in [*communes, OTHER_COMMUNE]}
    for _case_id, insee in entered:
        per_commune[commune_of(insee)]["oriented"] += 1
    for insee, n in declared_by_commune.items():
        per_commune[insee]["declared"] += n
    return Report(
        period={"from": span.start.isoformat(), "to": span.end.isoformat()},
        population=territory_communes.population,
        professionals=await _professionals(session, fulfilled),
        consultations=_consultations(fulfilled),
        orientation=orientation,
        requests=await _request_section(session, requests),
        appointments=_appointment_section(appointments, fulfilled),
        billing=_billing(fulfilled, tariffs),
        sas=await _sas(session, appointments),
        by_commune=_by_commune(per_commune, communes, requests, appointments, commune_of),
        by_week=_by_week(span, requests, appointments),
        waitlist=await _waitlist(session, span, commune_of, [*communes, OTHER_COMMUNE]),
    )


async def _professionals(session: AsyncSession, fulfilled: list[Appointment]) -> Professionals:
    """Active titulars and adjoints, and those with a consultation in the period."""
    status_of: dict[int, PractitionerStatus] = {
        practitioner_id: status
        for practitioner_id, status in (
            await session.execute(
                select(Practitioner.id, Practitioner.status).where(Practitioner.active.is_(True))
            )
        ).all()
    }
    consulting = {a.practitioner_id for a in fulfilled}

    def count(status: PractitionerStatus, among: set[int] | None = None) -> int:
        ids = status_of if among is None else among
        return sum(1 for i in ids if status_of.get(i) == status)

    return Professionals(
        titular=count(PractitionerStatus.titular),
        adjoint=count(PractitionerStatus.adjoint),
        titular_with_consultations=count(PractitionerStatus.titular, consulting),
        adjoint_with_consultations=count(PractitionerStatus.adjoint, consulting),
    )


async def _appointments(session: AsyncSession, span: Period) -> AppointmentRows:
    """Appointments starting in the period, with their patient's commune."""
    rows = await session.execute(
        select(Appointment, Patient.commune_insee)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.start_at >= span.start_at, Appointment.start_at < span.end_at)
    )
    return [(a, insee) for a, insee in rows.all()]


def _consultations(fulfilled: list[Appointment]) -> Consultations:
    by_kind = Counter(str(a.kind) for a in fulfilled)
    return Consultations(
        home_visit=by_kind[str(SessionKind.home_visit)],
        teleconsultation=by_kind[str(SessionKind.teleconsultation)],
        practice=by_kind[str(SessionKind.practice)],
        total=len(fulfilled),
    )


def _appointment_section(
    appointments: AppointmentRows, fulfilled: list[Appointment]
) -> Appointments:
    noshow = sum(1 for a, _ in appointments if a.status == AppointmentStatus.noshow)
    return Appointments(
        noshow=noshow,
        noshow_rate=_share(noshow, noshow + len(fulfilled)),
        cancelled_by_patient=sum(
            1
            for a, _ in appointments
            if a.status == AppointmentStatus.cancelled and a.cancelled_by_patient
        ),
    )


def _billing(fulfilled: list[Appointment], tariffs: TariffTable) -> Billing:
    mcg = sum(1 for a in fulfilled if "MCG" in (a.surcharges or []))
    snp = sum(1 for a in fulfilled if "SNP" in (a.surcharges or []))
    cent = Decimal("0.01")
    return Billing(
        mcg_count=mcg,
        mcg_amount=str((tariffs.amount("MCG") * mcg).quantize(cent)),
        snp_count=snp,
        snp_amount=str((tariffs.amount("SNP") * snp).quantize(cent)),
    )


async def _sas(session: AsyncSession, appointments: AppointmentRows) -> Sas:
    bookings = [a for a, _ in appointments if a.origin == Origin.sas]
    push = Counter((await _push_status(session, [a.id for a in bookings])).values())
    return Sas(
        bookings=len(bookings),
        push={k: push[k] for k in ("sent", "pending", "failed", "not_queued")},
    )


async def _requests(session: AsyncSession, span: Period) -> RequestRows:
    """Requests received in the period, with their patient's commune."""
    rows = await session.execute(
        select(CareRequest, Patient.commune_insee)
        .join(Patient, Patient.id == CareRequest.patient_id)
        .where(CareRequest.received_at >= span.start_at, CareRequest.received_at < span.end_at)
    )
    return [(r, insee) for r, insee in rows.all()]


async def _first_appointments(
    session: AsyncSession, request_ids: list[int]
) -> tuple[dict[int, dt.datetime], dict[int, dt.datetime]]:
    """Per request: start of its first appointment held, and of its first care given."""
    first_held: dict[int, dt.datetime] = {}
    first_care: dict[int, dt.datetime] = {}
    if not request_ids:
        return first_held, first_care
    rows = await session.execute(
        select(
            Appointment.request_id,
            Appointment.status,
            Appointment.start_at,
            Appointment.planned_arrival,
        ).where(Appointment.request_id.in_(request_ids))
    )
    for request_id, status, start, planned in rows.all():
        if status in HELD and (request_id not in first_held or start < first_held[request_id]):
            first_held[request_id] = start
        if status == AppointmentStatus.fulfilled:
            care = planned or start
            if request_id not in first_care or care < first_care[request_id]:
                first_care[request_id] = care
    return first_held, first_care


async def _request_section(session: AsyncSession, requests: RequestRows) -> Requests:
    """Deadlines kept and the delay call → care, over the requests needing care."""
    first_held, first_care = await _first_appointments(session, [r.id for r, _ in requests])
    channels = Counter(str(r.channel) for r, _ in requests)
    redirected = [r for r, _ in requests if r.status == RequestStatus.redirected_15]
    elsewhere = (RequestStatus.redirected_15, RequestStatus.oriented)
    needing_care = [r for r, _ in requests if r.status not in elsewhere]
    destinations = Counter(
        str(r.destination or Destination.platform)
        if r.status != RequestStatus.redirected_15
        else str(Destination.samu_15)
        for r, _ in requests
    )
    within_deadline = within_48h = 0
    for r in needing_care:
        held = first_held.get(r.id)
        if held is None:
            continue
        deadline = r.deadline or r.received_at + dt.timedelta(hours=48)
        within_deadline += held <= deadline
        within_48h += held - r.received_at <= dt.timedelta(hours=48)
    delays = [
        (first_care[r.id] - r.received_at).total_seconds() / 60
        for r in needing_care
        if r.id in first_care
    ]
    return Requests(
        received=len(requests),
        by_channel={str(c): channels[str(c)] for c in Channel},
        redirected_15=len(redirected),
        needing_care=len(needing_care),
        answered_within_deadline=within_deadline,
        share_within_deadline=_share(within_deadline, len(needing_care)),
        answered_within_48h=within_48h,
        share_within_48h=_share(within_48h, len(needing_care)),
        with_care=len(delays),
        median_delay_minutes=round(statistics.median(delays), 1) if delays else None,
        by_destination={str(d): destinations[str(d)] for d in Destination},
        unfilled=sum(r.status == RequestStatus.unfilled for r, _ in requests),
    )


async def _orientation(
    session: AsyncSession, span: Period, commune_of: Callable[[str | None], str]
) -> tuple[Orientation, list[tuple[int, str | None]], Counter[str]]:
    """Cases entered and transitions in the period; also their communes for the table."""
    start_at, end_at = span.start_at, span.end_at
    entered = [
        (case_id, insee)
        for case_id, insee in (
            await session.execute(
                select(OrientationCase.id, Patient.commune_insee)
                .join(Patient, Patient.id == OrientationCase.patient_id)
                .where(OrientationCase.entered_at >= start_at, OrientationCase.entered_at < end_at)
            )
        ).all()
    ]
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
    section = Orientation(
        entered=len(entered),
        proposed=len(reached.get(str(CaseStatus.proposed), set())),
        accepted=len(reached.get(str(CaseStatus.accepted), set())),
        declared=len(reached.get(str(CaseStatus.declared), set())),
        open_at_end=open_cases,
    )
    return section, entered, declared_by_commune


def _by_commune(
    per_commune: dict[str, Counter[str]],
    communes: dict[str, Any],
    requests: RequestRows,
    appointments: AppointmentRows,
    commune_of: Callable[[str | None], str],
) -> list[CommuneRow]:
    """One row per commune of the territory, then one for the others (or unknown)."""
    for r, insee in requests:
        per_commune[commune_of(insee)]["requests"] += 1
        if r.status == RequestStatus.redirected_15:
            per_commune[commune_of(insee)]["redirected_15"] += 1
    for a, insee in appointments:
        if a.status == AppointmentStatus.fulfilled:
            per_commune[commune_of(insee)]["consultations"] += 1
    rows = []
    for key, counts in per_commune.items():
        commune = communes.get(key)
        population = commune.population if commune else 0
        rows.append(
            CommuneRow(
                insee=key if commune else None,
                name=commune.name if commune else "Hors territoire ou inconnue",
                population=population or None,
                requests=counts["requests"],
                redirected_15=counts["redirected_15"],
                consultations=counts["consultations"],
                oriented=counts["oriented"],
                declared=counts["declared"],
                requests_per_1000=_per_1000(counts["requests"], population),
                consultations_per_1000=_per_1000(counts["consultations"], population),
            )
        )
    return rows


def _by_week(span: Period, requests: RequestRows, appointments: AppointmentRows) -> list[WeekRow]:
    per_week: dict[dt.date, Counter[str]] = {w: Counter() for w in span.weeks()}
    for r, _ in requests:
        week = per_week[_week_of(r.received_at)]
        week["requests"] += 1
        if r.status == RequestStatus.redirected_15:
            week["redirected_15"] += 1
    for a, _ in appointments:
        week = per_week[_week_of(a.start_at)]
        if a.status == AppointmentStatus.fulfilled:
            week["consultations"] += 1
        elif a.status == AppointmentStatus.noshow:
            week["noshow"] += 1
        if a.origin == Origin.sas:
            week["sas_bookings"] += 1
    return [
        WeekRow(
            week=f"{w.isocalendar().year}-S{w.isocalendar().week:02d}",
            monday=w.isoformat(),
            requests=c["requests"],
            consultations=c["consultations"],
            noshow=c["noshow"],
            redirected_15=c["redirected_15"],
            sas_bookings=c["sas_bookings"],
        )
        for w, c in per_week.items()
    ]


def _median_minutes(deltas: list[dt.timedelta]) -> float | None:
    if not deltas:
        return None
    return round(statistics.median(d.total_seconds() / 60 for d in deltas), 1)


async def _waitlist(
    session: AsyncSession,
    span: Period,
    commune_of: Callable[[str | None], str],
    commune_keys: list[str],
) -> Waitlist:
    start, end = span.start_at, span.end_at
    unfilled_rows = (
        await session.execute(
            select(CareRequest, Patient.commune_insee)
            .join(Patient, Patient.id == CareRequest.patient_id)
            .where(
                CareRequest.status == RequestStatus.unfilled,
                CareRequest.status_changed_at >= start,
                CareRequest.status_changed_at < end,
            )
        )
    ).all()
    weeks = {w: 0 for w in span.weeks()}
    communes = {k: 0 for k in commune_keys}
    modalities = {str(k): 0 for k in SessionKind}
    channels = {str(c): 0 for c in Channel}
    for r, insee in unfilled_rows:
        weeks[_week_of(r.status_changed_at)] += 1
        communes[commune_of(insee)] += 1
        if r.modality is not None:
            modalities[str(r.modality)] += 1
        channels[str(r.channel)] += 1
    entries = (
        await session.scalars(select(WaitlistEntry).where(WaitlistEntry.added_at < end))
    ).all()
    waiting_at_end = sum(1 for e in entries if e.left_at is None or e.left_at >= end)
    left = [
        e.left_at - e.added_at
        for e in entries
        if e.left_at is not None and start <= e.left_at < end and e.status != EntryStatus.waiting
    ]
    slots = (
        await session.scalars(
            select(FreedSlot).where(FreedSlot.freed_at >= start, FreedSlot.freed_at < end)
        )
    ).all()
    refilled = [s for s in slots if s.status == SlotStatus.refilled and s.refilled_at]
    sms_offers = len(
        (
            await session.scalars(
                select(SlotOffer.id).where(
                    SlotOffer.offered_at >= start,
                    SlotOffer.offered_at < end,
                    SlotOffer.channel == "sms",
                )
            )
        ).all()
    )
    return Waitlist(
        unfilled=Unfilled(
            total=len(unfilled_rows),
            by_week={
                f"{w.isocalendar().year}-S{w.isocalendar().week:02d}": n for w, n in weeks.items()
            },
            by_commune=communes,
            by_modality=modalities,
            by_channel=channels,
        ),
        waiting_at_end=waiting_at_end,
        left=len(left),
        median_wait_minutes=_median_minutes(left),
        freed=len(slots),
        refilled=len(refilled),
        share_refilled=_share(len(refilled), len(slots)),
        median_refill_minutes=_median_minutes(
            [s.refilled_at - s.freed_at for s in refilled if s.refilled_at]
        ),
        sms_offers=sms_offers,
    )
