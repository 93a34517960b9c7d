"""SAS rules on our data: regulator accounts (INT_R02) and the regulator's booking.

The regulator role books only in a session that came from the SAS (``origin=sas``):
:func:`book_for_regulator` refuses otherwise and books with ``origin=Origin.sas``; the
booking rules (``appointments_service.book``) refuse a regulator's booking of any other
origin when the CPTS keeps ``SAS_REGULATOR_BOOKINGS_ONLY_FROM_SAS`` on.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts_service
from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, Origin
from app.appointments.schemas import BookingIn
from app.appointments.service import BookingContext
from app.audit import service as audit_service
from app.core.calendar import DEFAULT_CALENDAR, CareCalendar
from app.core.errors import Forbidden, NotFound
from app.patients import service as patients_service
from app.patients.models import MedecinTraitantStatus
from app.patients.schemas import PatientIn
from app.practitioners.models import SessionKind
from app.requests import service as requests_service
from app.requests.models import Channel, Urgency
from app.requests.schemas import RequestIn
from app.requests.triage import urgency_covering
from app.sas.outcome import BUSINESS_RULE, VALUE, ProfileViolation
from app.sas.profiles import SYSTEM_IDNPS, SYSTEM_SAS
from app.sas.views import RegulatorAccountIn, RegulatorIdentifier

_NATIONAL_MAX, _TECHNICAL_MAX = 20, 64


# --- INT_R02: regulator accounts ---------------------------------------------------------


def _column_for(identifier: RegulatorIdentifier):
    return User.national_id if identifier.system == SYSTEM_IDNPS else User.sas_technical_id


async def find_regulator(
    *, session: AsyncSession, identifiers: tuple[RegulatorIdentifier, ...]
) -> User | None:
    """The one account any of these identifiers designates (422 if they name two)."""
    if not identifiers:
        return None
    clauses = [_column_for(i) == i.value for i in identifiers]
    found = (await session.scalars(select(User).where(or_(*clauses)))).all()
    if len(found) > 1:
        raise ProfileViolation(
            "Ces identifiants désignent deux comptes différents : fusion impossible.",
            code=BUSINESS_RULE,
            expression="Practitioner.identifier",
        )
    if found and found[0].role != Role.regulator:
        raise ProfileViolation(
            "Cet identifiant appartient à un compte qui n'est pas un compte de régulateur.",
            code=BUSINESS_RULE,
            expression="Practitioner.identifier",
        )
    return found[0] if found else None


async def get_regulator(*, session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.role != Role.regulator:
        raise NotFound(f"Practitioner/{user_id} inconnu.")
    return user


def _check_lengths(account: RegulatorAccountIn) -> None:
    for identifier, limit in (
        (account.national_id, _NATIONAL_MAX),
        (account.technical_id, _TECHNICAL_MAX),
    ):
        if identifier is not None and len(identifier.value) > limit:
            raise ProfileViolation(
                f"Identifiant trop long ({len(identifier.value)} caractères, {limit} au plus).",
                code=VALUE,
                expression="Practitioner.identifier.value",
            )


def _attach(user: User, account: RegulatorAccountIn) -> None:
    """Attach identifiers the account lacks; a different identifier is a business error."""
    pairs = ((account.national_id, "national_id"), (account.technical_id, "sas_technical_id"))
    for identifier, attr in pairs:
        if identifier is None:
            continue
        current = getattr(user, attr)
        if current and current != identifier.value:
            raise ProfileViolation(
                f"Le compte porte déjà un autre identifiant ({identifier.type_code}) : "
                "un identifiant ne se remplace pas.",
                code=BUSINESS_RULE,
                expression="Practitioner.identifier",
            )
        setattr(user, attr, identifier.value)


def _username(account: RegulatorAccountIn) -> str:
    primary = account.technical_id or account.national_id
    assert primary is not None
    return "sas-" + re.sub(r"[^A-Za-z0-9._-]", "-", primary.value)[:70]


async def upsert_regulator(
    *,
    session: AsyncSession,
    account: RegulatorAccountIn,
    match: RegulatorIdentifier | None = None,
) -> tuple[User, bool]:
    """Create or update the regulator's account; ``active=false`` revokes it at once.

    Returns the account and whether it was created. An update for an unknown account
    creates it (idempotent conditional update).
    """
    _check_lengths(account)
    wanted = tuple(i for i in (match, *account.identifiers) if i is not None)
    user = await find_regulator(session=session, identifiers=wanted)
    created = user is None
    if user is None:
        username = _username(account)
        if await accounts_service.get_by_username(session=session, username=username):
            username = f"{username}-{secrets.token_hex(3)}"
        # No e-mail check at creation; the password is random until the regulator resets it.
        user = await accounts_service.create(
            session=session,
            username=username,
            password=secrets.token_urlsafe(24),
            role=Role.regulator,
        )
    _attach(user, account)
    user.email = account.email
    name = " ".join(p for p in (account.given, account.family) if p)
    if name:
        user.full_name = name[:200]
    if not account.active and user.active:
        await accounts_service.revoke(session=session, user=user)
    elif account.active and not user.active:
        user.active = True  # tokens issued before the revocation stay invalid
    await session.flush()
    await audit_service.record(
        session=session,
        actor=None,
        action="sas_create" if created else "sas_update",
        entity_type="user",
        entity_id=user.id,
        detail={"active": account.active, "source": account.source},
    )
    return user, created


def regulator_identifier(user: User) -> RegulatorIdentifier | None:
    """The regulator's id for the SAS: the national one when known, else the technical one."""
    if user.national_id:
        return RegulatorIdentifier(SYSTEM_IDNPS, user.national_id)
    if user.sas_technical_id:
        return RegulatorIdentifier(SYSTEM_SAS, user.sas_technical_id)
    return None


# --- Regulator booking ------------------------------------------------------------------


async def list_regulator_appointments(
    *, session: AsyncSession, regulator: User, limit: int = 20
) -> Sequence[Appointment]:
    """The latest appointments this regulator booked (their own referrals only)."""
    stmt = (
        select(Appointment)
        .where(Appointment.sas_regulator_id == regulator.id)
        .order_by(Appointment.start_at.desc())
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


@dataclass(frozen=True)
class SasPatient:
    """The minimal identity the SAS gives for the patient, and the reason for care."""

    family_name: str
    given_name: str
    birth_date: dt.date
    reason: str
    phone: str | None = None
    # The regulator's medical decision; by default the tightest one the chosen slot meets.
    urgency: Urgency | None = None
    # Asked by the regulator (« a-t-il un médecin traitant ? »); unknown when not asked.
    medecin_traitant_status: MedecinTraitantStatus = MedecinTraitantStatus.unknown


async def book_for_regulator(
    *,
    session: AsyncSession,
    actor: User,
    from_sas: bool,
    practitioner_id: int,
    kind: SessionKind,
    start_at: dt.datetime,
    patient: SasPatient,
    ctx: BookingContext,
    calendar: CareCalendar = DEFAULT_CALENDAR,
) -> Appointment:
    """A regulator books a SNP slot for a patient: patient, SAS request, then booking."""
    if actor.role != Role.regulator:
        raise Forbidden("Seul un régulateur du SAS réserve depuis cette page.")
    if not actor.active:
        raise Forbidden("Ce compte de régulateur a été révoqué.")
    if not from_sas:
        raise Forbidden(
            "Le rôle de régulateur ne donne le droit de réserver que depuis la plateforme "
            "SAS : suivez le lien du créneau (origin=sas)."
        )
    record = await patients_service.create(
        session=session,
        patient_in=PatientIn(
            family_name=patient.family_name,
            given_name=patient.given_name,
            birth_date=patient.birth_date,
            phone=patient.phone or None,
            medecin_traitant_status=patient.medecin_traitant_status,
        ),
        actor=actor,
    )
    # The regulator decides the urgency (the age rule is the secretariat's default, not a veto
    # on them: issue 19 item 7); the request records it as urgency_decided_by = regulator.
    care_request, _outcome = await requests_service.create(
        session=session,
        request_in=RequestIn(
            patient_id=record.id,
            channel=Channel.sas,
            reason=patient.reason,
            modality=kind,
            urgency=patient.urgency or urgency_covering(start_at, ctx.now, calendar),
            teleconsultation_override_reason="Décision du médecin régulateur du SAS"
            if kind == SessionKind.teleconsultation
            else None,
        ),
        actor=actor,
        now=ctx.now,
        calendar=calendar,
    )
    return await appointments_service.book(
        session=session,
        booking_in=BookingIn(
            request_id=care_request.id,
            practitioner_id=practitioner_id,
            start_at=start_at,
            kind=kind,
        ),
        actor=actor,
        ctx=ctx,
        origin=Origin.sas,
    )
