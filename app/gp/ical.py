"""A GP's private iCalendar feed (RFC 5545): sessions and appointments, Europe/Paris.

The feed shows no full identity: initials, commune and modality only. Each event keeps
one UID for its whole life; its SEQUENCE grows with every change (listener below), and a
cancelled appointment, or one handed to another GP, stays in the feed as CANCELLED.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import events
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus
from app.audit import service as audit_service
from app.core.errors import NotFound
from app.core.timeutil import PARIS
from app.gp.models import CalendarDeparture, CalendarRevision, IcalFeed
from app.patients.models import Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import DutySession, Practitioner, SessionKind

PAST_DAYS = 30
FUTURE_DAYS = 180
PRODID = "-//Premier Recours//Agenda du médecin//FR"
MODALITY = {
    SessionKind.home_visit: "Visite à domicile",
    SessionKind.teleconsultation: "Téléconsultation",
    SessionKind.practice: "Consultation au cabinet",
}
SESSION_LABEL = {
    SessionKind.home_visit: "Vacation — visites à domicile",
    SessionKind.teleconsultation: "Vacation — téléconsultations",
    SessionKind.practice: "Vacation — consultations au cabinet",
}
OUTCOME_LABEL = {AppointmentStatus.fulfilled: " (vu)", AppointmentStatus.noshow: " (absent)"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- feed tokens --------------------------------------------------------------------------


async def create_feed(
    *, session: AsyncSession, practitioner: Practitioner, actor: User, label: str = ""
) -> tuple[IcalFeed, str]:
    """A new private URL; the token is shown once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    feed = IcalFeed(
        practitioner_id=practitioner.id,
        token_hash=_hash(token),
        token_hint=token[:6],
        label=label,
        created_by_id=actor.id,
    )
    session.add(feed)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="ical_create",
        entity_type="ical_feed",
        entity_id=feed.id,
    )
    return feed, token


async def list_feeds(*, session: AsyncSession, practitioner: Practitioner) -> Sequence[IcalFeed]:
    return (
        await session.scalars(
            select(IcalFeed)
            .where(IcalFeed.practitioner_id == practitioner.id)
            .order_by(IcalFeed.id)
        )
    ).all()


async def revoke_feed(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    feed_id: int,
    actor: User,
    now: dt.datetime,
) -> IcalFeed:
    """The URL stops working at once (404); calendar apps keep what they had."""
    feed = await session.get(IcalFeed, feed_id)
    if feed is None or feed.practitioner_id != practitioner.id:
        raise NotFound(f"Lien d'agenda n°{feed_id} introuvable.")
    if feed.revoked_at is None:
        feed.revoked_at = now
        await session.flush()
        await audit_service.record(
            session=session,
            actor=actor,
            action="ical_revoke",
            entity_type="ical_feed",
            entity_id=feed.id,
        )
    return feed


async def feed_for_token(*, session: AsyncSession, token: str) -> IcalFeed:
    feed = await session.scalar(select(IcalFeed).where(IcalFeed.token_hash == _hash(token)))
    if feed is None or feed.revoked_at is not None:
        raise NotFound("Agenda introuvable : ce lien n'existe pas ou a été révoqué.")
    return feed


# --- change tracking (SEQUENCE) -----------------------------------------------------------


async def on_appointment_event(session: AsyncSession, event: events.AppointmentEvent) -> None:
    """Appointment listener: bump the event's SEQUENCE; remember a GP it left."""
    appointment = event.appointment
    if event.kind == events.EventKind.booked:
        return
    revision = await session.get(CalendarRevision, appointment.id)
    if revision is None:
        revision = CalendarRevision(appointment_id=appointment.id, sequence=0, changed_at=event.now)
        session.add(revision)
    revision.sequence += 1
    revision.changed_at = event.now
    previous = event.previous_practitioner_id
    if (
        event.kind == events.EventKind.rescheduled
        and previous
        and previous != appointment.practitioner_id
    ):
        departure = await session.scalar(
            select(CalendarDeparture).where(
                CalendarDeparture.appointment_id == appointment.id,
                CalendarDeparture.practitioner_id == previous,
            )
        )
        if departure is None:
            departure = CalendarDeparture(appointment_id=appointment.id, practitioner_id=previous)
            session.add(departure)
        start = event.previous_start or appointment.start_at
        departure.start_at = start
        departure.end_at = start + (appointment.end_at - appointment.start_at)
        departure.sequence = revision.sequence
        departure.left_at = event.now
    await session.flush()


# --- the calendar -------------------------------------------------------------------------


def _uid(kind: str, ident: int, domain: str) -> str:
    return f"{kind}-{ident}@{domain}"


def _local(value: dt.datetime) -> dt.datetime:
    # Times carry the Europe/Paris zone: TZID on the property, VTIMEZONE in the calendar.
    return value.astimezone(PARIS)


def _initials(patient: Patient | None) -> str:
    if patient is None:
        return "Patient"
    return "".join(
        f"{part.strip()[0].upper()}." for part in (patient.given_name, patient.family_name) if part
    )


async def build_calendar(
    *, session: AsyncSession, practitioner: Practitioner, now: dt.datetime, base_url: str
) -> bytes:
    """The feed from 30 days back to 180 days ahead."""
    domain = urlsplit(base_url).hostname or "premier-recours"
    start, end = now - dt.timedelta(days=PAST_DAYS), now + dt.timedelta(days=FUTURE_DAYS)
    duties = await practitioners_service.list_sessions(
        session=session,
        practitioner_ids=[practitioner.id],
        start=start,
        end=end,
        include_cancelled=True,
    )
    appointments = await appointments_service.list_for_practitioner(
        session=session,
        practitioner_id=practitioner.id,
        start=start,
        end=end,
        include_cancelled=True,
    )
    departures = (
        await session.scalars(
            select(CalendarDeparture).where(
                CalendarDeparture.practitioner_id == practitioner.id,
                CalendarDeparture.start_at < end,
                CalendarDeparture.end_at > start,
            )
        )
    ).all()
    ids = {a.id for a in appointments} | {d.appointment_id for d in departures}
    sequences = (
        dict(
            (
                await session.execute(
                    select(CalendarRevision.appointment_id, CalendarRevision.sequence).where(
                        CalendarRevision.appointment_id.in_(ids)
                    )
                )
            ).all()
        )
        if ids
        else {}
    )
    patient_ids = {a.patient_id for a in appointments}
    patients = (
        {
            p.id: p
            for p in (
                await session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))
            ).all()
        }
        if patient_ids
        else {}
    )
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Premier Recours — {practitioner.display_name}")
    cal.add("x-wr-timezone", "Europe/Paris")
    stamp = now.astimezone(dt.UTC)
    for duty in duties:
        cal.add_component(_session_event(duty, domain, stamp))
    for a in appointments:
        cal.add_component(
            _appointment_event(a, patients.get(a.patient_id), sequences.get(a.id, 0), domain, stamp)
        )
    current = {a.id for a in appointments if a.practitioner_id == practitioner.id}
    for d in departures:
        if d.appointment_id in current:
            continue  # it came back to this GP
        cal.add_component(_departure_event(d, domain, stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


def _session_event(duty: DutySession, domain: str, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", _uid("vacation", duty.id, domain))
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(duty.start_at))
    event.add("dtend", _local(duty.end_at))
    event.add("summary", SESSION_LABEL[duty.kind])
    event.add("status", "CANCELLED" if duty.cancelled else "CONFIRMED")
    event.add("sequence", 1 if duty.cancelled else 0)
    event.add("transp", "OPAQUE")
    event.add("last-modified", duty.updated_at.astimezone(dt.UTC))
    if duty.cancelled and duty.cancel_reason:
        event.add("description", f"Annulée : {duty.cancel_reason}")
    return event


def _appointment_event(
    a: Appointment, patient: Patient | None, sequence: int, domain: str, stamp: dt.datetime
) -> Event:
    event = Event()
    modality = MODALITY[a.kind]
    commune = patient.commune if patient and patient.commune else None
    summary = f"{modality} — {_initials(patient)}" + (f" ({commune})" if commune else "")
    if a.status == AppointmentStatus.cancelled:
        summary = "Annulé : " + summary
    summary += OUTCOME_LABEL.get(a.status, "")
    event.add("uid", _uid("rdv", a.id, domain))
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(a.start_at))
    event.add("dtend", _local(a.end_at))
    event.add("summary", summary)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if a.status == AppointmentStatus.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("created", a.created_at.astimezone(dt.UTC))
    event.add("last-modified", a.updated_at.astimezone(dt.UTC))
    if commune and a.kind == SessionKind.home_visit:
        event.add("location", commune)
    lines = [modality]
    if a.kind == SessionKind.home_visit:
        lines.append(
            f"Fenêtre d'arrivée {_local(a.start_at):%H:%M}–{_local(a.end_at):%H:%M}"
            + (f", arrivée prévue {_local(a.planned_arrival):%H:%M}" if a.planned_arrival else "")
        )
    lines.append(f"Rendez-vous n°{a.id} — détails dans Premier Recours")
    event.add("description", "\n".join(lines))
    return event


def _departure_event(d: CalendarDeparture, domain: str, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", _uid("rdv", d.appointment_id, domain))
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(d.start_at))
    event.add("dtend", _local(d.end_at))
    event.add("summary", "Rendez-vous confié à un autre médecin")
    event.add("status", "CANCELLED")
    event.add("sequence", d.sequence)
    event.add("last-modified", d.left_at.astimezone(dt.UTC))
    return event


async def feed(*, session: AsyncSession, token: str, now: dt.datetime, base_url: str) -> bytes:
    """The calendar behind a private URL (404 when unknown or revoked)."""
    found = await feed_for_token(session=session, token=token)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=found.practitioner_id
    )
    found.last_used_at = now
    await audit_service.record(
        session=session,
        actor=None,
        action="ical_read",
        entity_type="ical_feed",
        entity_id=found.id,
        detail={"practitioner_id": practitioner.id},
    )
    return await build_calendar(
        session=session, practitioner=practitioner, now=now, base_url=base_url
    )
