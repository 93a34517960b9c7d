"""A patient's erasure on request (RGPD art. 17), keeping what the law requires.

The right to erasure does not reach data the controller must keep to meet a legal
obligation or for reasons of public health (RGPD art. 17.3 b and c). Here:

- the care record — requests (reason, triage), appointments and the GP's outcome with
  the act billed — is kept ``MEDICAL_RECORD_YEARS`` after the last care
  (retention.py, CSP art. R. 1112-7), together with the identity that names it (names,
  birth date, sex, NIR/INS);
- the audit trail is kept (CNIL, journalisation: it proves who read the record);
- a number that answered STOP stays opted out (RGPD art. 21: the objection must hold).

Everything else is erased at once: contact details (phone, address, coordinates), SMS
texts and numbers, the caller's number in the calls log, the orientation case. A patient
with no care record, or whose record is past its retention, is deleted outright; asking
for that deletion (``complete``) while the record must still be kept is refused (409
``erasure_forbidden``), and so is any erasure while an appointment is still to come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import Appointment, AppointmentStatus
from app.core.errors import Conflict
from app.dataprotection import retention
from app.dataprotection.export import calls_of, load_patient
from app.gp.models import VisitOutcome
from app.messaging.models import InboundSms, SmsMessage, SmsOptOut
from app.orientation.models import OrientationCase
from app.patients.models import Patient
from app.requests.models import CareRequest

ERASED = ""


class ErasureForbidden(Conflict):
    code = "erasure_forbidden"
    default_message = "Effacement refusé : ces données doivent être conservées."


class ErasureNotConfirmed(Conflict):
    code = "erasure_not_confirmed"
    default_message = "Confirmez l'effacement (« confirm » : true) : il est définitif."


@dataclass
class ErasureReport:
    patient_id: int
    deleted: bool
    message: str
    erased: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(result: Any) -> int:
    """Rows a bulk UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


async def _care_record(
    session: AsyncSession, patient_id: int
) -> tuple[int, int, int, dt.datetime | None]:
    requests, last_request = (
        await session.execute(
            select(func.count(), func.max(CareRequest.received_at)).where(
                CareRequest.patient_id == patient_id
            )
        )
    ).one()
    appointments, last_appointment = (
        await session.execute(
            select(func.count(), func.max(Appointment.start_at)).where(
                Appointment.patient_id == patient_id
            )
        )
    ).one()
    billed = int(
        await session.scalar(
            select(func.count())
            .select_from(VisitOutcome)
            .join(Appointment, Appointment.id == VisitOutcome.appointment_id)
            .where(Appointment.patient_id == patient_id, VisitOutcome.act_code.is_not(None))
        )
        or 0
    )
    dates = [d for d in (last_request, last_appointment) if d is not None]
    # SQLite returns max() of a datetime column as text: read it back aware.
    last = max((_aware(d) for d in dates), default=None)
    return int(requests), int(appointments), billed, last


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def erase(
    *,
    session: AsyncSession,
    patient_id: int,
    now: dt.datetime,
    confirm: bool,
    complete: bool = False,
) -> ErasureReport:
    """Erase what may be erased; the report says what went and what stays, and why."""
    patient = await load_patient(session, patient_id)
    if not confirm:
        raise ErasureNotConfirmed()
    upcoming = await session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == AppointmentStatus.booked,
            Appointment.end_at >= now,
        )
    )
    if upcoming:
        raise ErasureForbidden(
            "Effacement refusé : le patient a un rendez-vous à venir. "
            "Annulez-le d'abord (le patient en est prévenu par SMS)."
        )
    requests, appointments, billed, last_care = await _care_record(session, patient_id)
    keep_until = (
        retention.care_record_kept_until(last_care.date(), patient.birth_date)
        if last_care
        else None
    )
    must_keep = keep_until is not None and keep_until > now.date()
    if must_keep and complete:
        assert keep_until is not None
        raise ErasureForbidden(
            f"Effacement complet refusé : le dossier de soins ({requests} demande(s), "
            f"{appointments} rendez-vous, {billed} acte(s) facturé(s)) doit être conservé "
            f"jusqu'au {keep_until.strftime('%d/%m/%Y')} (code de la santé publique, "
            "art. R. 1112-7 ; RGPD art. 17.3). Sans « complete », les autres données sont "
            "effacées et le dossier est gardé.",
            keep_until=keep_until.isoformat(),
        )
    erased: list[dict[str, Any]] = []

    def done(data: str, rows: int) -> None:
        erased.append({"data": data, "rows": rows})

    # Calls from the patient's number: the number goes unless another patient (a family
    # sharing a phone) still has it; this patient leaves the matches either way.
    calls_query = calls_of(patient)
    calls = (await session.scalars(calls_query)).all() if calls_query is not None else []
    shared = bool(
        patient.phone
        and await session.scalar(
            select(func.count())
            .select_from(Patient)
            .where(Patient.phone == patient.phone, Patient.id != patient_id)
        )
    )
    for call in calls:
        call.matched_patient_ids = [i for i in call.matched_patient_ids if i != patient_id]
        if not shared:
            call.from_number = None
    done("journal d'appels : numéro de l'appelant", len(calls))

    inbound_where = [InboundSms.patient_id == patient_id]
    if patient.phone and not shared:
        inbound_where = [
            (InboundSms.patient_id == patient_id) | (InboundSms.from_number == patient.phone)
        ]
    opt_outs = (
        (await session.scalars(select(SmsOptOut).where(SmsOptOut.phone == patient.phone))).all()
        if patient.phone
        else []
    )
    for opt_out in opt_outs:
        opt_out.patient_ids = [i for i in opt_out.patient_ids if i != patient_id]
    case_rows = _rows(
        await session.execute(
            delete(OrientationCase).where(OrientationCase.patient_id == patient_id)
        )
    )
    done("parcours médecin traitant (orientation) et son historique", case_rows or 0)

    if must_keep:
        assert keep_until is not None
        sms = await session.execute(
            update(SmsMessage)
            .where(SmsMessage.patient_id == patient_id)
            .values(body=ERASED, to_number=ERASED)
        )
        done("SMS envoyés : texte et numéro", _rows(sms))
        inbound = await session.execute(
            update(InboundSms).where(*inbound_where).values(body=ERASED, from_number=ERASED)
        )
        done("SMS reçus : texte et numéro", _rows(inbound))
        for name in ("phone", "address", "postal_code", "commune", "commune_insee"):
            setattr(patient, name, None)
        patient.latitude = patient.longitude = None
        patient.sms_consent = False
        done("coordonnées : téléphone, adresse, commune, position ; consentement SMS retiré", 1)
        until = keep_until.isoformat()
        kept: list[dict[str, Any]] = [
            {
                "data": "identité (nom, prénom, date de naissance, sexe, NIR, INS)",
                "reason": "identifie le dossier de soins (CSP art. R. 1112-7)",
                "until": until,
            },
            {
                "data": f"demandes de soins ({requests}) et rendez-vous ({appointments}), "
                f"dont {billed} acte(s) facturé(s)",
                "reason": "dossier de soins : 20 ans après la dernière prise en charge, au "
                "moins jusqu'aux 28 ans du patient (CSP art. R. 1112-7) ; actes facturés : "
                "pièces comptables",
                "until": until,
            },
        ]
        message = (
            "Données effacées sauf le dossier de soins et l'identité qui le nomme, conservés "
            f"jusqu'au {keep_until.strftime('%d/%m/%Y')} (CSP art. R. 1112-7)."
        )
        deleted = False
    else:
        sms = await session.execute(delete(SmsMessage).where(SmsMessage.patient_id == patient_id))
        done("SMS envoyés", _rows(sms))
        inbound = await session.execute(delete(InboundSms).where(*inbound_where))
        done("SMS reçus", _rows(inbound))
        gone = await session.execute(
            delete(Appointment).where(Appointment.patient_id == patient_id)
        )
        done("rendez-vous (durée de conservation échue)", _rows(gone))
        gone = await session.execute(
            delete(CareRequest).where(CareRequest.patient_id == patient_id)
        )
        done("demandes de soins (durée de conservation échue)", _rows(gone))
        await session.delete(patient)
        done("identité et coordonnées", 1)
        kept = []
        message = "Patient effacé : aucune donnée de soins à conserver."
        deleted = True
    kept.append(
        {
            "data": "journal des accès (audit)",
            "reason": "traçabilité des accès au dossier (CNIL, journalisation) ; "
            "supprimé par la tâche de conservation",
            "until": None,
        }
    )
    if opt_outs:
        kept.append(
            {
                "data": "opposition aux SMS (STOP) du numéro",
                "reason": "l'opposition doit continuer d'être respectée (RGPD art. 21)",
                "until": None,
            }
        )
    await session.flush()
    return ErasureReport(
        patient_id=patient_id, deleted=deleted, message=message, erased=erased, kept=kept
    )
