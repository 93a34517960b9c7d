"""Waiting list and backfill: freed capacity offered to the best-ranked waiting patient.

- :func:`add` puts an open request on the list (consent to be texted/called recorded).
- :func:`on_appointment_event` (effect ``waitlist.backfill``, app/appointments/effects.py)
  turns a cancellation or a home-visit no-show into a :class:`FreedSlot` and offers it;
  a booking of a waiting request takes it off the list and marks a freed slot it fills
  as refilled, whoever booked it.
- :func:`offer_next` ranks the waiting requests that fit and texts the first one with
  SMS consent a reply code, holding the slot ``WAITLIST_OFFER_HOLD_MINUTES``; patients
  without SMS consent are on the secretariat's call list (:func:`call_list`).
- :func:`answer` is the inbound-SMS hook: OUI books through the one booking pipeline
  (``rounds.proposals.book_proposal`` → ``appointments.service.book``: rules, the round's
  exact insertion for a home visit, billing, audit, events), NON passes it on.
- :func:`sweep` (periodic, leader-elected) expires silent offers, closes slots whose
  start passed, and makes requests whose deadline passed *non pourvues*.

A slot is never booked twice: the freed slot's row is locked by whoever books it
(OUI, the secretariat's click), and the booking rules and the database guard the rest.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.events import AppointmentEvent, EventKind
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import BookingContext, check_request_open
from app.audit import service as audit_service
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.timeutil import PARIS, day_bounds
from app.messaging import outbound
from app.messaging.models import InboundAction, InboundSms, SmsKind
from app.messaging.replies import patient_actor
from app.patients.models import Patient
from app.practitioners.models import DutySession, Practitioner, SessionKind
from app.requests import service as requests_service
from app.requests.models import CareRequest, RequestStatus, Urgency
from app.rounds import holds as holds_service
from app.rounds import proposals
from app.rounds.planner import Planner
from app.rounds.schemas import ProposalChoice
from app.waitlist.models import (
    EntryStatus,
    FreedSlot,
    FreedSource,
    OfferChannel,
    OfferStatus,
    SlotOffer,
    SlotStatus,
    WaitlistEntry,
)
from app.waitlist.replies import parse_offer_reply
from telephony import sms_text

# A freed slot starting sooner than this is not offered: nobody could make it.
MIN_LEAD = dt.timedelta(minutes=10)
# Home-visit requests tried against a freed round (each one runs the insertion check).
HOME_VISIT_CANDIDATES = 8
_URGENCY_RANK = {Urgency.same_day: 0, Urgency.within_24h: 1, Urgency.within_48h: 2}
_OPEN_REQUEST = (RequestStatus.new, RequestStatus.unreachable)

UNFILLED_NOTE = "Liste d'attente : échéance dépassée sans créneau disponible (non pourvue)."


def system_actor() -> User:
    """The list acting by itself (expiries, deadlines): traced as « systeme:liste-attente »."""
    return User(username="systeme:liste-attente", full_name="Liste d'attente", role=Role.secretary)


@dataclass(frozen=True)
class Backfill:
    """What backfill needs from the app: hold length, SMS wording, the rounds planner."""

    hold_minutes: int = 15
    cpts_name: str = "CPTS"
    secretariat_phone: str = ""
    tz: ZoneInfo = PARIS
    planner: Planner | None = None
    # OUI/NON needs a sender patients can answer (SMS_REPLY_MODE=reply_capable); from an
    # alphanumeric sender nobody can reply, so every waiting patient is on the call list.
    sms_replies: bool = True


@dataclass(frozen=True)
class EntryIn:
    request_id: int
    consent_sms: bool
    consent_call: bool = True
    preferred_practitioner_id: int | None = None
    preferred_commune_insee: str | None = None
    reachable: str | None = None


# --- the list ----------------------------------------------------------------------------


async def add(
    *, session: AsyncSession, entry_in: EntryIn, actor: User, now: dt.datetime
) -> WaitlistEntry:
    """Put an open request on the list; the patient's consent to be texted is recorded."""
    care_request = await requests_service.get(
        session=session, request_id=entry_in.request_id, actor=actor, lock=True
    )
    check_request_open(care_request)
    if care_request.deadline is None or care_request.deadline <= now:
        raise Conflict(
            "Cette demande n'a pas d'échéance à venir : elle ne peut pas attendre sur la liste.",
            code="no_deadline",
        )
    if not (entry_in.consent_sms or entry_in.consent_call):
        raise InvalidInput(
            "Le patient doit accepter d'être rappelé ou de recevoir un SMS pour être sur la liste.",
            field="consent_sms",
        )
    existing = await session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.request_id == care_request.id,
            WaitlistEntry.status == EntryStatus.waiting,
        )
    )
    if existing is not None:
        raise Conflict("Cette demande est déjà sur la liste d'attente.", code="already_waiting")
    patient = await session.get(Patient, care_request.patient_id)
    assert patient is not None
    if entry_in.consent_sms and not patient.phone:
        raise InvalidInput(
            "Aucun numéro de portable pour ce patient : pas de proposition par SMS.",
            field="consent_sms",
        )
    entry = WaitlistEntry(
        request_id=care_request.id,
        patient_id=care_request.patient_id,
        modality=care_request.modality or SessionKind.teleconsultation,
        deadline=care_request.deadline,
        preferred_practitioner_id=entry_in.preferred_practitioner_id,
        preferred_commune_insee=entry_in.preferred_commune_insee or None,
        reachable=(entry_in.reachable or "").strip()[:200] or None,
        consent_sms=entry_in.consent_sms,
        consent_call=entry_in.consent_call,
        status=EntryStatus.waiting,
        added_at=now,
        added_by_id=actor.id,
    )
    session.add(entry)
    if entry_in.consent_sms and not patient.sms_consent:
        # Consent to be texted, given for this purpose and recorded (CNIL: consent is
        # specific and traceable; STOP withdraws it, app/messaging/replies.py).
        patient.sms_consent = True
        await audit_service.record(
            session=session,
            actor=actor,
            action="update",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
            detail={"fields": ["sms_consent"], "sms_consent": True, "via": "waitlist"},
        )
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="waitlist_add",
        entity_type="request",
        entity_id=care_request.id,
        patient_id=care_request.patient_id,
        detail={
            "entry_id": entry.id,
            "consent_sms": entry.consent_sms,
            "consent_call": entry.consent_call,
        },
    )
    return entry


async def remove(
    *, session: AsyncSession, entry_id: int, actor: User, now: dt.datetime, note: str = ""
) -> WaitlistEntry:
    entry = await session.get(WaitlistEntry, entry_id, with_for_update=True)
    if entry is None:
        raise NotFound(f"Inscription n°{entry_id} introuvable sur la liste d'attente.")
    if entry.status != EntryStatus.waiting:
        raise Conflict("Cette demande n'est plus sur la liste d'attente.")
    await _leave(session, entry, EntryStatus.cancelled, now, note or "Retirée de la liste.")
    await audit_service.record(
        session=session,
        actor=actor,
        action="waitlist_remove",
        entity_type="request",
        entity_id=entry.request_id,
        patient_id=entry.patient_id,
        detail={"entry_id": entry.id},
    )
    return entry


async def _leave(
    session: AsyncSession,
    entry: WaitlistEntry,
    status: EntryStatus,
    now: dt.datetime,
    note: str,
    appointment_id: int | None = None,
) -> None:
    entry.status = status
    entry.left_at = now
    entry.left_note = note
    entry.appointment_id = appointment_id
    pending = await session.scalars(
        select(SlotOffer).where(
            SlotOffer.entry_id == entry.id, SlotOffer.status == OfferStatus.pending
        )
    )
    for offer in pending.all():
        if offer.appointment_id is None or offer.appointment_id != appointment_id:
            offer.status = OfferStatus.withdrawn
    await holds_service.release(session=session, request_id=entry.request_id)
    await session.flush()


@dataclass(frozen=True)
class Waiting:
    entry: WaitlistEntry
    request: CareRequest
    patient: Patient


async def list_waiting(*, session: AsyncSession) -> list[Waiting]:
    rows = await session.execute(
        select(WaitlistEntry, CareRequest, Patient)
        .join(CareRequest, CareRequest.id == WaitlistEntry.request_id)
        .join(Patient, Patient.id == WaitlistEntry.patient_id)
        .where(WaitlistEntry.status == EntryStatus.waiting)
        .order_by(WaitlistEntry.deadline, WaitlistEntry.id)
    )
    return [Waiting(e, r, p) for e, r, p in rows.all()]


async def entry_for_request(*, session: AsyncSession, request_id: int) -> WaitlistEntry | None:
    return await session.scalar(
        select(WaitlistEntry)
        .where(WaitlistEntry.request_id == request_id)
        .order_by(WaitlistEntry.id.desc())
        .limit(1)
    )


# --- freed capacity ------------------------------------------------------------------------


def _source(event: AppointmentEvent) -> FreedSource:
    appointment = event.appointment
    if event.kind == EventKind.outcome:
        return FreedSource.noshow
    if appointment.cancelled_by_patient:
        if event.actor is not None and event.actor.username.startswith("patient:"):
            return FreedSource.cancel_sms
        return FreedSource.cancel_patient
    return FreedSource.cancel_platform


async def on_appointment_event(
    session: AsyncSession, event: AppointmentEvent, bf: Backfill
) -> None:
    """The ``waitlist.backfill`` effect: capacity freed → offered; a booking → off the list."""
    appointment = event.appointment
    if event.kind == EventKind.booked:
        await _on_booked(session, appointment, event.now)
        return
    if event.kind == EventKind.rescheduled and event.previous_start is not None:
        if event.previous_start == appointment.start_at and (
            event.previous_practitioner_id in (None, appointment.practitioner_id)
        ):
            return  # same place (a narrowed window is not a move)
        length = appointment.end_at - appointment.start_at
        await release(
            session=session,
            practitioner_id=event.previous_practitioner_id or appointment.practitioner_id,
            kind=appointment.kind,
            start_at=event.previous_start,
            end_at=event.previous_start + length,
            source=FreedSource.moved,
            source_key=f"moved:{appointment.id}:{event.previous_start.isoformat()}",
            freed_appointment_id=appointment.id,
            now=event.now,
            bf=bf,
        )
        return
    freed = event.kind == EventKind.cancelled or (
        event.kind == EventKind.outcome
        and appointment.status == AppointmentStatus.noshow
        and appointment.kind == SessionKind.home_visit
    )
    if not freed:
        return
    start = appointment.start_at
    if event.kind == EventKind.outcome:
        start = max(start, event.now + MIN_LEAD)  # the rest of the round is free
        if start >= appointment.end_at:
            return
    await release(
        session=session,
        practitioner_id=appointment.practitioner_id,
        kind=appointment.kind,
        start_at=start,
        end_at=appointment.end_at,
        source=_source(event),
        source_key=f"{event.kind}:{appointment.id}",
        freed_appointment_id=appointment.id,
        now=event.now,
        bf=bf,
    )


async def release(
    *,
    session: AsyncSession,
    practitioner_id: int,
    kind: SessionKind,
    start_at: dt.datetime,
    end_at: dt.datetime,
    source: FreedSource,
    source_key: str,
    now: dt.datetime,
    bf: Backfill,
    freed_appointment_id: int | None = None,
) -> FreedSlot | None:
    """Record capacity that freed up and offer it (also for a session newly opened)."""
    if start_at < now + MIN_LEAD:
        return None
    existing = await session.scalar(select(FreedSlot).where(FreedSlot.source_key == source_key))
    if existing is not None:
        return existing
    slot = FreedSlot(
        practitioner_id=practitioner_id,
        kind=kind,
        start_at=start_at,
        end_at=end_at,
        source=source,
        source_key=source_key,
        freed_appointment_id=freed_appointment_id,
        freed_at=now,
        status=SlotStatus.open,
    )
    session.add(slot)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=None,
        action="slot_freed",
        entity_type="waitlist_slot",
        entity_id=slot.id,
        detail={"source": str(source), "practitioner_id": practitioner_id, "kind": str(kind)},
    )
    await offer_next(session=session, slot=slot, now=now, bf=bf)
    return slot


async def _on_booked(session: AsyncSession, appointment: Appointment, now: dt.datetime) -> None:
    """A waiting request was booked (by OUI, the call list, or any page): off the list; a
    freed slot the booking fills is refilled."""
    entry = await session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.request_id == appointment.request_id,
            WaitlistEntry.status == EntryStatus.waiting,
        )
    )
    if entry is not None:
        await _leave(session, entry, EntryStatus.booked, now, "Rendez-vous pris.", appointment.id)
    filled = await session.scalars(
        select(FreedSlot).where(
            FreedSlot.status == SlotStatus.open,
            FreedSlot.practitioner_id == appointment.practitioner_id,
            FreedSlot.kind == appointment.kind,
            FreedSlot.start_at < day_bounds(appointment.start_at.astimezone(PARIS).date())[1],
            FreedSlot.end_at > day_bounds(appointment.start_at.astimezone(PARIS).date())[0],
        )
    )
    for slot in filled.all():
        overlaps = slot.start_at < appointment.end_at and appointment.start_at < slot.end_at
        if slot.kind != SessionKind.home_visit and not overlaps:
            continue  # a round's freed place is refilled by any visit of that round
        slot.status = SlotStatus.refilled
        slot.refilled_at = now
        slot.refilled_appointment_id = appointment.id
        others = await session.scalars(
            select(SlotOffer).where(
                SlotOffer.freed_slot_id == slot.id, SlotOffer.status == OfferStatus.pending
            )
        )
        for offer in others.all():
            if offer.entry_id != (entry.id if entry else None):
                offer.status = OfferStatus.withdrawn
    await session.flush()


# --- ranking and offers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    entry: WaitlistEntry
    request: CareRequest
    patient: Patient
    start_at: dt.datetime
    end_at: dt.datetime
    added_travel: float = 0.0

    @property
    def by_sms(self) -> bool:
        return self.entry.consent_sms and outbound.may_text(self.patient)

    def key(self, slot: FreedSlot) -> tuple[object, ...]:
        """Deadline first (who would otherwise go unserved), then urgency, vulnerability,
        travel added to the round, the GP or commune they asked for, then who waited longest."""
        vulnerable = sum(
            (self.patient.reduced_mobility, self.patient.isolation, self.patient.disability)
        )
        preferred = self.entry.preferred_practitioner_id in (None, slot.practitioner_id)
        return (
            self.entry.deadline,
            _URGENCY_RANK.get(self.request.urgency or Urgency.within_48h, 2),
            -vulnerable,
            round(self.added_travel),
            not preferred,
            self.entry.added_at,
            self.entry.id,
        )


async def rank(
    *,
    session: AsyncSession,
    slot: FreedSlot,
    now: dt.datetime,
    bf: Backfill,
    check_round: bool = True,
) -> list[Candidate]:
    """The waiting requests this slot fits, best first (none already offered it).

    ``check_round=False`` skips the home-visit insertion check (the polled call list: the
    one-click booking checks it)."""
    offered = select(SlotOffer.entry_id).where(SlotOffer.freed_slot_id == slot.id)
    rows = await session.execute(
        select(WaitlistEntry, CareRequest, Patient)
        .join(CareRequest, CareRequest.id == WaitlistEntry.request_id)
        .join(Patient, Patient.id == WaitlistEntry.patient_id)
        .where(
            WaitlistEntry.status == EntryStatus.waiting,
            WaitlistEntry.modality == slot.kind,
            WaitlistEntry.deadline >= slot.start_at,
            WaitlistEntry.id.not_in(offered),
            CareRequest.status.in_(_OPEN_REQUEST),
            or_(
                WaitlistEntry.preferred_practitioner_id.is_(None),
                WaitlistEntry.preferred_practitioner_id == slot.practitioner_id,
            ),
        )
        .order_by(WaitlistEntry.deadline, WaitlistEntry.id)
    )
    found = [Candidate(e, r, p, slot.start_at, slot.end_at) for e, r, p in rows.all()]
    if slot.kind == SessionKind.home_visit and check_round:
        found = await _fit_round(session, slot, found, now, bf)
    return sorted(found, key=lambda c: c.key(slot))


async def _fit_round(
    session: AsyncSession,
    slot: FreedSlot,
    found: list[Candidate],
    now: dt.datetime,
    bf: Backfill,
) -> list[Candidate]:
    """Home visits: only those the GP's round in force can take that day, promises kept
    (the scheduler's insertion check, as for any proposal), with the window it gives."""
    if bf.planner is None:
        return []
    practitioner = await session.get(Practitioner, slot.practitioner_id)
    day = slot.start_at.astimezone(PARIS).date()
    fits: list[Candidate] = []
    for c in found[:HOME_VISIT_CANDIDATES]:
        if (
            c.entry.preferred_commune_insee
            and practitioner is not None
            and c.entry.preferred_commune_insee != practitioner.commune_insee
            and c.entry.preferred_practitioner_id is None
        ):
            continue
        options = await proposals.candidates(
            session=session, care_request=c.request, k=4, planner=bf.planner, now=now
        )
        here = [
            (score, o)
            for score, o in options
            if o.practitioner_id == slot.practitioner_id and o.date == day
        ]
        if not here:
            continue
        _, best = min(here, key=lambda item: item[0])
        fits.append(
            Candidate(
                c.entry,
                c.request,
                c.patient,
                best.start_at,
                best.end_at,
                best.added_travel_minutes or 0.0,
            )
        )
    return fits


async def _new_code(session: AsyncSession, patient_id: int) -> str:
    """Four digits, different from the patient's other live offers."""
    used = set(
        (
            await session.scalars(
                select(SlotOffer.code).where(
                    SlotOffer.patient_id == patient_id,
                    SlotOffer.status.in_((OfferStatus.pending, OfferStatus.expired)),
                )
            )
        ).all()
    )
    while True:
        code = f"{1000 + secrets.randbelow(9000)}"
        if code not in used:
            return code


async def offer_next(
    *, session: AsyncSession, slot: FreedSlot, now: dt.datetime, bf: Backfill
) -> SlotOffer | None:
    """Text the best-ranked waiting patient who agreed to SMS; None when nobody is left
    (patients without SMS consent stay on the secretariat's call list)."""
    if slot.status != SlotStatus.open or slot.start_at < now + MIN_LEAD:
        return None
    pending = await session.scalar(
        select(SlotOffer.id).where(
            SlotOffer.freed_slot_id == slot.id,
            SlotOffer.status == OfferStatus.pending,
            SlotOffer.channel == OfferChannel.sms,
        )
    )
    if pending is not None or not bf.sms_replies:
        return None  # one SMS offer at a time per slot
    ranked = await rank(session=session, slot=slot, now=now, bf=bf)
    # One live offer per patient: whoever is already asked about another slot waits.
    busy = set(
        (
            await session.scalars(
                select(SlotOffer.entry_id).where(SlotOffer.status == OfferStatus.pending)
            )
        ).all()
    )
    chosen = next((c for c in ranked if c.by_sms and c.entry.id not in busy), None)
    if chosen is None:
        return None
    # The offer holds the slot: no later than the slot's start minus the lead time.
    expires_at = min(now + dt.timedelta(minutes=bf.hold_minutes), slot.start_at - MIN_LEAD)
    offer = SlotOffer(
        freed_slot_id=slot.id,
        entry_id=chosen.entry.id,
        patient_id=chosen.patient.id,
        channel=OfferChannel.sms,
        code=await _new_code(session, chosen.patient.id),
        rank=ranked.index(chosen) + 1,
        start_at=chosen.start_at,
        end_at=chosen.end_at,
        offered_at=now,
        expires_at=expires_at,
        status=OfferStatus.pending,
    )
    session.add(offer)
    await session.flush()
    # Other callers' proposals avoid the held slot meanwhile (app/rounds/holds.py).
    await holds_service.hold(
        session=session,
        request_id=chosen.request.id,
        options=[(slot.practitioner_id, str(slot.kind), offer.start_at, offer.end_at)],
        now=now,
        seconds=int((expires_at - now).total_seconds()),
    )
    practitioner = await session.get(Practitioner, slot.practitioner_id)
    assert practitioner is not None and chosen.patient.phone
    await outbound.queue(
        session=session,
        kind=SmsKind.slot_offer,
        key=f"sms:waitlist:offer:{offer.id}",
        to=chosen.patient.phone,
        body=sms_text.slot_offer(
            modality=str(slot.kind),
            start=offer.start_at,
            end=offer.end_at,
            practitioner=practitioner.display_name,
            code=offer.code,
            reply_by=expires_at,
            cpts_name=bf.cpts_name,
            tz=bf.tz,
        ),
        now=now,
        patient_id=chosen.patient.id,
    )
    await audit_service.record(
        session=session,
        actor=None,
        action="waitlist_offer",
        entity_type="waitlist_slot",
        entity_id=slot.id,
        patient_id=chosen.patient.id,
        detail={"offer_id": offer.id, "rank": offer.rank, "channel": "sms"},
    )
    return offer


# --- answers -----------------------------------------------------------------------------------


async def _tell(
    session: AsyncSession, offer: SlotOffer, patient: Patient, outcome: str, bf: Backfill, now
) -> None:
    if not patient.phone:
        return
    await outbound.queue(
        session=session,
        kind=SmsKind.slot_offer_answer,
        key=f"sms:waitlist:answer:{offer.id}:{outcome}",
        to=patient.phone,
        body=sms_text.slot_offer_answer(
            outcome=outcome, cpts_name=bf.cpts_name, secretariat_phone=bf.secretariat_phone
        ),
        now=now,
        patient_id=patient.id,
    )


async def _lock_slot(session: AsyncSession, slot_id: int) -> FreedSlot:
    slot = await session.scalar(
        select(FreedSlot)
        .where(FreedSlot.id == slot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert slot is not None
    return slot


async def answer(
    session: AsyncSession,
    inbound: InboundSms,
    patients: list[Patient],
    ctx: BookingContext,
    bf: Backfill,
) -> bool:
    """The inbound-SMS hook: OUI/NON with a code; False when the SMS is not such an answer."""
    reply = parse_offer_reply(inbound.body)
    if reply is None:
        return False
    now = ctx.now
    by_id = {p.id: p for p in patients}
    offer = await session.scalar(
        select(SlotOffer)
        .where(
            SlotOffer.patient_id.in_(by_id),
            SlotOffer.code == reply.code,
            SlotOffer.channel == OfferChannel.sms,
        )
        .order_by(SlotOffer.offered_at.desc(), SlotOffer.id.desc())
        .limit(1)
    )
    inbound.action = InboundAction.offer_reply
    if offer is None:
        inbound.detail = {"waitlist": "unknown_code"}
        await _tell_unknown(session, inbound, patients[0], bf, now)
        return True
    inbound.patient_id = offer.patient_id
    inbound.handled, inbound.handled_at = True, now
    inbound.detail = {"waitlist_offer": offer.id, "accept": reply.accept}
    patient = by_id[offer.patient_id]
    slot = await _lock_slot(session, offer.freed_slot_id)
    # Re-read the offer under the slot's lock: a concurrent answer may have settled it.
    await session.refresh(offer)
    if not reply.accept:
        if offer.status == OfferStatus.pending:
            offer.status = OfferStatus.declined
            offer.answered_at = now
            entry = await _entry(session, offer)
            await holds_service.release(session=session, request_id=entry.request_id)
            await _audit_answer(session, offer, "declined")
            await offer_next(session=session, slot=slot, now=now, bf=bf)
        return True
    if offer.status == OfferStatus.accepted:
        return True  # the same OUI again: already booked
    entry = await _entry(session, offer)
    if (
        slot.status != SlotStatus.open
        or entry.status != EntryStatus.waiting
        # A late or changed answer still books a slot nobody took (first OUI wins).
        or offer.status not in (OfferStatus.pending, OfferStatus.expired, OfferStatus.declined)
        or slot.start_at < now
    ):
        await _taken(session, offer, patient, bf, now)
        return True
    try:
        async with session.begin_nested():
            appointment = await _book(session, offer, slot, entry, ctx, bf)
    except DomainError:
        await _taken(session, offer, patient, bf, now)
        return True
    offer.status = OfferStatus.accepted
    offer.answered_at = now
    offer.appointment_id = appointment.id
    inbound.appointment_id = appointment.id
    await _audit_answer(session, offer, "accepted")
    return True


async def _entry(session: AsyncSession, offer: SlotOffer) -> WaitlistEntry:
    entry = await session.get(WaitlistEntry, offer.entry_id, populate_existing=True)
    assert entry is not None
    return entry


async def _book(
    session: AsyncSession,
    offer: SlotOffer,
    slot: FreedSlot,
    entry: WaitlistEntry,
    ctx: BookingContext,
    bf: Backfill,
    actor: User | None = None,
) -> Appointment:
    """Through the one pipeline: a home visit is inserted into the round in force first."""
    if bf.planner is None:
        raise Conflict("Planification des tournées indisponible.")
    booked = await proposals.book_proposal(
        session=session,
        request_id=entry.request_id,
        choice=ProposalChoice(
            practitioner_id=slot.practitioner_id,
            kind=slot.kind,
            start_at=offer.start_at,
            end_at=offer.end_at,
        ),
        actor=actor or patient_actor("sms"),
        planner=bf.planner,
        ctx=ctx,
    )
    appointment = await session.get(Appointment, booked.appointment.id)
    assert appointment is not None
    slot.status = SlotStatus.refilled
    slot.refilled_at = ctx.now
    slot.refilled_appointment_id = appointment.id
    await session.flush()
    return appointment


async def _taken(
    session: AsyncSession, offer: SlotOffer, patient: Patient, bf: Backfill, now: dt.datetime
) -> None:
    if offer.status in (
        OfferStatus.pending,
        OfferStatus.expired,
        OfferStatus.declined,
        OfferStatus.withdrawn,
    ):
        offer.status = OfferStatus.taken
        offer.answered_at = now
        await _audit_answer(session, offer, "taken")
    await _tell(session, offer, patient, "taken", bf, now)


async def _tell_unknown(
    session: AsyncSession, inbound: InboundSms, patient: Patient, bf: Backfill, now: dt.datetime
) -> None:
    await outbound.queue(
        session=session,
        kind=SmsKind.slot_offer_answer,
        key=f"sms:inbound:{inbound.id}:waitlist_unknown",
        to=inbound.from_number,
        body=sms_text.slot_offer_answer(
            outcome="unknown", cpts_name=bf.cpts_name, secretariat_phone=bf.secretariat_phone
        ),
        now=now,
        patient_id=patient.id,
    )


async def _audit_answer(session: AsyncSession, offer: SlotOffer, outcome: str) -> None:
    await audit_service.record(
        session=session,
        actor=None,
        action=f"waitlist_offer_{outcome}",
        entity_type="waitlist_slot",
        entity_id=offer.freed_slot_id,
        patient_id=offer.patient_id,
        detail={"offer_id": offer.id},
    )


# --- the secretariat's call list -----------------------------------------------------------


@dataclass(frozen=True)
class ToOffer:
    slot: FreedSlot
    practitioner: Practitioner
    sms_offer: SlotOffer | None
    call_list: list[Candidate]


async def call_list(
    *, session: AsyncSession, now: dt.datetime, bf: Backfill, limit: int = 5
) -> list[ToOffer]:
    """Open freed slots, each with the ranked patients to call (no SMS consent)."""
    slots = (
        await session.scalars(
            select(FreedSlot)
            .where(FreedSlot.status == SlotStatus.open, FreedSlot.start_at > now)
            .order_by(FreedSlot.start_at, FreedSlot.id)
        )
    ).all()
    out: list[ToOffer] = []
    for slot in slots:
        practitioner = await session.get(Practitioner, slot.practitioner_id)
        assert practitioner is not None
        pending = await session.scalar(
            select(SlotOffer).where(
                SlotOffer.freed_slot_id == slot.id, SlotOffer.status == OfferStatus.pending
            )
        )
        ranked = await rank(session=session, slot=slot, now=now, bf=bf, check_round=False)
        to_call = [
            c for c in ranked if (not c.by_sms or not bf.sms_replies) and c.entry.consent_call
        ][:limit]
        out.append(ToOffer(slot, practitioner, pending, to_call))
    return out


async def book_by_call(
    *,
    session: AsyncSession,
    slot_id: int,
    entry_id: int,
    actor: User,
    ctx: BookingContext,
    bf: Backfill,
) -> Appointment:
    """One click from the call list: the patient agreed on the phone; recorded as an offer."""
    found = await session.get(FreedSlot, slot_id)
    if found is None:
        raise NotFound("Créneau libéré introuvable.")
    slot = await _lock_slot(session, slot_id)
    if slot.status != SlotStatus.open or slot.start_at < ctx.now:
        raise Conflict("Ce créneau a déjà été repris ou est passé.", code="slot_taken")
    entry = await session.get(WaitlistEntry, entry_id, populate_existing=True)
    if entry is None or entry.status != EntryStatus.waiting:
        raise Conflict("Ce patient n'est plus sur la liste d'attente.")
    fitting = [
        c
        for c in await rank(session=session, slot=slot, now=ctx.now, bf=bf)
        if c.entry.id == entry.id
    ]
    if not fitting:
        raise Conflict("Ce créneau ne convient pas à cette demande.", code="not_fitting")
    chosen = fitting[0]
    offer = SlotOffer(
        freed_slot_id=slot.id,
        entry_id=entry.id,
        patient_id=entry.patient_id,
        channel=OfferChannel.call,
        code="",
        rank=0,
        start_at=chosen.start_at,
        end_at=chosen.end_at,
        offered_at=ctx.now,
        expires_at=ctx.now,
        status=OfferStatus.pending,
    )
    session.add(offer)
    await session.flush()
    appointment = await _book(session, offer, slot, entry, ctx, bf, actor=actor)
    offer.status = OfferStatus.accepted
    offer.answered_at = ctx.now
    offer.appointment_id = appointment.id
    await _audit_answer(session, offer, "accepted")
    return appointment


# --- the periodic sweep ----------------------------------------------------------------------


@dataclass
class Swept:
    offers_expired: int = 0
    slots_lost: int = 0
    unfilled: int = 0
    opened: int = 0


async def _opened_sessions(session: AsyncSession, now: dt.datetime, bf: Backfill) -> int:
    """A session opened by hand (no template: the coordinator's one-off) is capacity for the
    list: as many of its free slots as requests wait for it (a round: the whole session)."""
    kinds = set(
        (
            await session.scalars(
                select(WaitlistEntry.modality).where(WaitlistEntry.status == EntryStatus.waiting)
            )
        ).all()
    )
    if not kinds:
        return 0
    seen = {
        key.split(":")[1]
        for key in (
            await session.scalars(
                select(FreedSlot.source_key).where(FreedSlot.source == FreedSource.session_opened)
            )
        ).all()
    }
    duties = (
        await session.scalars(
            select(DutySession)
            .where(
                DutySession.template_id.is_(None),
                DutySession.cancelled.is_(False),
                DutySession.kind.in_(kinds),
                DutySession.end_at > now + MIN_LEAD,
            )
            .order_by(DutySession.start_at, DutySession.id)
        )
    ).all()
    released = 0
    for duty in duties:
        if str(duty.id) in seen:
            continue
        windows: list[tuple[dt.datetime, dt.datetime]]
        if duty.kind == SessionKind.home_visit:
            windows = [(max(duty.start_at, now + MIN_LEAD), duty.end_at)]
        else:
            wanting = await session.scalar(
                select(func.count(WaitlistEntry.id)).where(
                    WaitlistEntry.status == EntryStatus.waiting,
                    WaitlistEntry.modality == duty.kind,
                    WaitlistEntry.deadline >= duty.start_at,
                )
            )
            free = await appointments_service.free_slots(
                session=session,
                start=max(duty.start_at, now + MIN_LEAD),
                end=duty.end_at,
                practitioner_ids=[duty.practitioner_id],
                kind=duty.kind,
                now=now,
            )
            windows = [(s, e) for d, s, e in free if d.id == duty.id][: wanting or 0]
        for start_at, end_at in windows:
            slot = await release(
                session=session,
                practitioner_id=duty.practitioner_id,
                kind=duty.kind,
                start_at=start_at,
                end_at=end_at,
                source=FreedSource.session_opened,
                source_key=f"session:{duty.id}:{int(start_at.timestamp())}",
                now=now,
                bf=bf,
            )
            released += slot is not None
    return released


async def sweep(*, session: AsyncSession, now: dt.datetime, bf: Backfill) -> Swept:
    """Silent offers pass to the next; past slots are lost; past deadlines → *non pourvue*."""
    done = Swept()
    done.opened = await _opened_sessions(session, now, bf)
    expired = (
        await session.scalars(
            select(SlotOffer)
            .where(SlotOffer.status == OfferStatus.pending, SlotOffer.expires_at <= now)
            .order_by(SlotOffer.expires_at, SlotOffer.id)
        )
    ).all()
    for offer in expired:
        slot = await _lock_slot(session, offer.freed_slot_id)
        await session.refresh(offer)
        if offer.status != OfferStatus.pending:
            continue
        offer.status = OfferStatus.expired
        done.offers_expired += 1
        await _audit_answer(session, offer, "expired")
        await offer_next(session=session, slot=slot, now=now, bf=bf)
    past = (
        await session.scalars(
            select(FreedSlot).where(
                FreedSlot.status == SlotStatus.open, FreedSlot.start_at <= now + MIN_LEAD
            )
        )
    ).all()
    for slot in past:
        slot.status = SlotStatus.lost
        done.slots_lost += 1
        for offer in (
            await session.scalars(
                select(SlotOffer).where(
                    SlotOffer.freed_slot_id == slot.id, SlotOffer.status == OfferStatus.pending
                )
            )
        ).all():
            offer.status = OfferStatus.expired
    late = (
        await session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.status == EntryStatus.waiting, WaitlistEntry.deadline <= now
            )
        )
    ).all()
    actor = system_actor()
    for entry in late:
        care_request = await session.get(CareRequest, entry.request_id)
        if care_request is not None and care_request.status in _OPEN_REQUEST:
            await requests_service.change_status(
                session=session,
                request_id=care_request.id,
                status=RequestStatus.unfilled,
                note=UNFILLED_NOTE,
                actor=actor,
                now=now,
            )
            done.unfilled += 1
            await _leave(session, entry, EntryStatus.expired, now, UNFILLED_NOTE)
        else:
            await _leave(session, entry, EntryStatus.cancelled, now, "La demande a été close.")
    # Requests closed some other way (cancelled, oriented…) leave the list too.
    closed = (
        await session.execute(
            select(WaitlistEntry)
            .join(CareRequest, CareRequest.id == WaitlistEntry.request_id)
            .where(
                WaitlistEntry.status == EntryStatus.waiting,
                CareRequest.status.not_in(_OPEN_REQUEST),
            )
        )
    ).scalars()
    for entry in closed.all():
        await _leave(session, entry, EntryStatus.cancelled, now, "La demande a été close.")
    await session.flush()
    return done


async def pending_offers(*, session: AsyncSession, slot_ids: Sequence[int]) -> list[SlotOffer]:
    if not slot_ids:
        return []
    return list(
        (
            await session.scalars(
                select(SlotOffer)
                .where(SlotOffer.freed_slot_id.in_(slot_ids))
                .order_by(SlotOffer.offered_at, SlotOffer.id)
            )
        ).all()
    )


async def recent_slots(*, session: AsyncSession, since: dt.datetime) -> list[FreedSlot]:
    return list(
        (
            await session.scalars(
                select(FreedSlot)
                .where(FreedSlot.freed_at >= since)
                .order_by(FreedSlot.freed_at.desc(), FreedSlot.id.desc())
            )
        ).all()
    )
