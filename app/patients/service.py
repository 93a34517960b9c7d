"""Patients: creation with duplicate detection, search, access control and audit."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.handlers import NUL_CHARACTER
from app.core.identifiers import fold, normalise_phone
from app.patients.models import MedecinTraitantStatus, Patient
from app.patients.schemas import PatientIn, PatientOut, PatientUpdate, check_ins
from app.territory import service as territory


class SeenBy(Protocol):
    """ "Has this practitioner seen this patient?", a question for appointments (above us).

    app/agenda passes ``app.appointments.queries.has_seen``; without it a practitioner
    reads no patient.
    """

    async def __call__(
        self, *, session: AsyncSession, practitioner_id: int, patient_id: int
    ) -> bool: ...


class BookedBy(Protocol):
    """ "Does this regulator hold a live booking for this patient?" (appointments, above us).

    The API passes ``app.appointments.queries.regulator_booked``.
    """

    async def __call__(self, *, session: AsyncSession, user_id: int, patient_id: int) -> bool: ...


def search_key(family_name: str, given_name: str) -> str:
    return f"{fold(family_name)}|{fold(given_name)}"


async def find_duplicates(
    *,
    session: AsyncSession,
    patient_in: PatientIn | Patient,
    exclude_id: int | None = None,
) -> Sequence[Patient]:
    """Probable duplicates: same folded name and birth date, same NIR, or phone + birth date.

    Merged records are out of it (they live on in the record they were merged into).
    """
    clauses: list[ColumnElement[bool]] = [
        (Patient.search_name == search_key(patient_in.family_name, patient_in.given_name))
        & (Patient.birth_date == patient_in.birth_date)
    ]
    if patient_in.nir:
        clauses.append(Patient.nir == patient_in.nir)
    if patient_in.phone:
        clauses.append(
            (Patient.phone == patient_in.phone) & (Patient.birth_date == patient_in.birth_date)
        )
    stmt = select(Patient).where(or_(*clauses), Patient.merged_into_id.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Patient.id != exclude_id)
    return (await session.scalars(stmt.order_by(Patient.id))).all()


async def create(*, session: AsyncSession, patient_in: PatientIn, actor: User) -> Patient:
    if actor.role == Role.regulator:
        # The SAS keeps its own record: a regulator's booking always makes a new file,
        # never reuses (nor reveals) an existing one — twins on a parent's phone stay two
        # people, and a regulator never reads a file someone else filled. The secretariat
        # sees the probable duplicates and merges them (``merge``), with a confirmation.
        return await _insert(session=session, patient_in=patient_in, actor=actor)
    duplicates = await find_duplicates(session=session, patient_in=patient_in)
    if patient_in.nir and any(p.nir == patient_in.nir for p in duplicates):
        same_nir = [p for p in duplicates if p.nir == patient_in.nir]
        raise Conflict(
            "Un patient avec ce NIR existe déjà.",
            field="nir",
            duplicates=_candidates(same_nir),
        )
    if duplicates and not patient_in.confirm_duplicate:
        raise Conflict(
            "Doublon probable : un patient avec le même nom et la même date de naissance "
            "(ou le même téléphone) existe déjà. Vérifiez, ou confirmez la création.",
            duplicates=_candidates(duplicates),
        )
    return await _insert(session=session, patient_in=patient_in, actor=actor)


async def _insert(*, session: AsyncSession, patient_in: PatientIn, actor: User) -> Patient:
    data = patient_in.model_dump(exclude={"confirm_duplicate"})
    _fill_coordinates(data, await territory.communes(session))
    patient = Patient(**data, search_name=search_key(patient_in.family_name, patient_in.given_name))
    session.add(patient)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="create",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
    )
    return patient


def _candidates(patients: Sequence[Patient]) -> list[dict]:
    """What a 409 shows of each probable duplicate: enough to recognise them, as a search would."""
    return [
        {
            "id": p.id,
            "family_name": p.family_name,
            "given_name": p.given_name,
            "birth_date": p.birth_date.isoformat(),
            "commune": p.commune,
        }
        for p in patients
    ]


def _fill_coordinates(data: dict, communes: territory.Communes) -> None:
    """Without geocoding, a patient is placed at their commune's centre."""
    if data.get("latitude") is not None and data.get("longitude") is not None:
        return
    commune = communes.find(insee=data.get("commune_insee"), name=data.get("commune"))
    if commune is not None:
        data["latitude"], data["longitude"] = commune.latitude, commune.longitude
        data["commune_insee"] = data.get("commune_insee") or commune.insee
        data["commune"] = data.get("commune") or commune.name


async def _may_read(
    *,
    session: AsyncSession,
    actor: User,
    patient: Patient,
    seen_by: SeenBy | None,
    booked_by: BookedBy | None = None,
) -> bool:
    if actor.role in (Role.secretary, Role.coordinator, Role.admin):
        return True
    if actor.role == Role.practitioner and actor.practitioner_id is not None:
        # A practitioner reads the patients they have seen (asked of appointments).
        return seen_by is not None and await seen_by(
            session=session, practitioner_id=actor.practitioner_id, patient_id=patient.id
        )
    if actor.role == Role.regulator:
        # A SAS regulator reads back only the records they created themselves (``create``
        # always makes a new one for them), not once merged into the CPTS's record, and
        # through the API only while a booking of theirs for the patient is live (not
        # after they cancel it): what they see is what they entered, never a file found
        # by identity matching (and ``shown_to`` hides what others added to it).
        if patient.merged_into_id is not None:
            return False
        if booked_by is not None and not await booked_by(
            session=session, user_id=actor.id, patient_id=patient.id
        ):
            return False
        created = await session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.patient_id == patient.id,
                AuditEvent.user_id == actor.id,
                AuditEvent.action == "create",
            )
        )
        return created is not None
    return False


async def get(
    *,
    session: AsyncSession,
    patient_id: int,
    actor: User,
    purpose: str = "read",
    seen_by: SeenBy | None = None,
    booked_by: BookedBy | None = None,
) -> Patient:
    """Load a patient for someone allowed to see them, and trace the access.

    A record the caller may not read answers exactly like a missing one (404, same
    message): the answer never tells whether an id exists.
    """
    patient = await session.get(Patient, patient_id)
    if patient is None or not await _may_read(
        session=session, actor=actor, patient=patient, seen_by=seen_by, booked_by=booked_by
    ):
        raise NotFound(f"Patient n°{patient_id} introuvable.")
    await audit_service.record(
        session=session,
        actor=actor,
        action=purpose,
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
    )
    return patient


#: What a SAS regulator enters on the SAS page, hence all they read back of a record.
_REGULATOR_FIELDS = frozenset(
    {"id", "family_name", "given_name", "birth_date", "sex", "phone", "medecin_traitant_status"}
)


def shown_to(actor: User, patient: Patient) -> PatientOut:
    """The record as this reader may see it: a regulator gets the minimal identity they
    entered, never the NIR, address or anything the CPTS added since."""
    out = PatientOut.model_validate(patient)
    if actor.role != Role.regulator:
        return out
    hidden = {
        name: (False if isinstance(getattr(out, name), bool) else None)
        for name in PatientOut.model_fields
        if name not in _REGULATOR_FIELDS and name not in ("language", "identity_status")
    }
    return out.model_copy(update=hidden)


async def update(
    *, session: AsyncSession, patient_id: int, patient_update: PatientUpdate, actor: User
) -> Patient:
    patient = await get(session=session, patient_id=patient_id, actor=actor, purpose="update")
    changes = patient_update.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(patient, key, value)
    try:
        check_ins(patient.identity_status, patient.ins_matricule, patient.ins_oid)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="identity_status") from exc
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="update",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"fields": sorted(changes)},
    )
    return patient


async def confirm_medecin_traitant_status(
    *,
    session: AsyncSession,
    patient: Patient,
    status: MedecinTraitantStatus,
    actor: User | None,
    source: str,
) -> bool:
    """Record the answer to « avez-vous un médecin traitant ? » asked at a contact.

    An ``unknown`` status is never written over a known one (an answer is needed to change
    it); returns whether the record changed. Audited with where the answer was given.
    """
    if status == MedecinTraitantStatus.unknown or status == patient.medecin_traitant_status:
        return False
    previous = patient.medecin_traitant_status
    patient.medecin_traitant_status = status
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="medecin_traitant_status",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"from": str(previous), "to": str(status), "source": source},
    )
    return True


#: Who may search by name alone (the platform's front desk: issue 22); every other role
#: keeps name + birth date, or phone (CNIL, référentiel « gestion des cabinets médicaux »:
#: access limited to what the task needs).
NAME_ALONE_ROLES = frozenset({Role.secretary, Role.coordinator})
#: Typo tolerance: pg_trgm word similarity on PostgreSQL, difflib's ratio on SQLite.
TRIGRAM_THRESHOLD = 0.5
FUZZY_RATIO = 0.75
#: The SQLite candidate set: names starting like the query (bounded, then ranked in Python).
_FUZZY_CANDIDATES = 500
MAX_RESULTS = 20


async def _by_name(
    session: AsyncSession, stmt: Select[Patient], folded: str, limit: int
) -> list[Patient]:
    """Accent- and typo-tolerant name match, best first ("Lefebre" finds Lefebvre).

    ``search_name`` is already folded (lower case, no accents) when written. PostgreSQL
    ranks with pg_trgm (migration 0021: extensions unaccent and pg_trgm, trigram index
    on search_name); SQLite bounds the candidates by the first letters, then ranks them
    with difflib.
    """
    if session.get_bind().dialect.name == "postgresql":
        query = func.unaccent(folded)
        score = func.word_similarity(query, Patient.search_name)
        rows = await session.scalars(
            stmt.where(
                or_(
                    Patient.search_name.contains(folded, autoescape=True),
                    score >= TRIGRAM_THRESHOLD,
                )
            )
            .order_by(score.desc(), Patient.search_name, Patient.id)
            .limit(limit)
        )
        return list(rows.all())
    rows = await session.scalars(
        stmt.where(
            or_(
                Patient.search_name.contains(folded, autoescape=True),
                Patient.search_name.startswith(folded[:2], autoescape=True),
            )
        )
        .order_by(Patient.search_name, Patient.id)
        .limit(_FUZZY_CANDIDATES)
    )
    scored = []
    for patient in rows.all():
        family, _, given = patient.search_name.partition("|")
        if folded in patient.search_name:
            ratio = 2.0
        else:
            ratio = max(
                difflib.SequenceMatcher(None, folded, family).ratio(),
                difflib.SequenceMatcher(None, folded, f"{family} {given}").ratio(),
            )
        if ratio >= FUZZY_RATIO:
            scored.append((-ratio, patient.search_name, patient.id, patient))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


async def search(
    *,
    session: AsyncSession,
    actor: User,
    name: str | None = None,
    birth_date: dt.date | None = None,
    phone: str | None = None,
    limit: int = MAX_RESULTS,
    seen_by: SeenBy | None = None,
) -> Sequence[Patient]:
    """Find patients by name (typo-tolerant), birth date, phone; every search is traced.

    The secretariat and the coordinator may search by name alone; every other role needs
    name + birth date, or a phone number. At most 20 results.
    """
    if "\x00" in (name or ""):
        raise InvalidInput(NUL_CHARACTER, field="name")  # as the database would refuse it
    folded = fold(name or "")
    name_alone = actor.role in NAME_ALONE_ROLES and len(folded) >= 2
    if not phone and not (folded and birth_date) and not name_alone:
        raise InvalidInput(
            "Recherchez par nom (2 lettres au moins)."
            if actor.role in NAME_ALONE_ROLES
            else "Recherchez par nom et date de naissance, ou par numéro de téléphone.",
            field="name",
        )
    limit = min(limit, MAX_RESULTS)
    stmt = select(Patient).where(Patient.merged_into_id.is_(None))
    if phone:
        try:
            stmt = stmt.where(Patient.phone == normalise_phone(phone))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="phone") from exc
    if birth_date:
        stmt = stmt.where(Patient.birth_date == birth_date)
    if folded:
        found: Sequence[Patient] = await _by_name(session, stmt, folded, limit)
    else:
        found = (
            await session.scalars(stmt.order_by(Patient.search_name, Patient.id).limit(limit))
        ).all()
    allowed = [
        p
        for p in found
        if await _may_read(session=session, actor=actor, patient=p, seen_by=seen_by)
    ]
    # The search itself (what was used, never the name typed), then every record shown.
    await audit_service.record(
        session=session,
        actor=actor,
        action="search",
        entity_type="patient_search",
        detail={
            "by_name": bool(folded),
            "by_birth_date": birth_date is not None,
            "by_phone": bool(phone),
            "results": len(allowed),
        },
    )
    for patient in allowed:
        await audit_service.record(
            session=session,
            actor=actor,
            action="search",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
        )
    return allowed


# --- duplicates and merging (the secretariat) ----------------------------------------------


async def duplicates_of(
    *, session: AsyncSession, patient_id: int, actor: User
) -> Sequence[Patient]:
    """The probable duplicates of a record (name + birth date, NIR, phone + birth date)."""
    patient = await get(session=session, patient_id=patient_id, actor=actor, purpose="duplicates")
    return await find_duplicates(session=session, patient_in=patient, exclude_id=patient.id)


#: Identity and contact fields a merge copies from the duplicate when the kept record
#: lacks them (the kept record's own values always win).
_FILLED_ON_MERGE = (
    "nir",
    "phone",
    "address",
    "postal_code",
    "commune",
    "commune_insee",
    "latitude",
    "longitude",
    "medecin_traitant_name",
    "medecin_traitant_id",
    "ins_matricule",
    "ins_oid",
)


async def merge(
    *, session: AsyncSession, kept_id: int, duplicate_id: int, confirm: bool, actor: User
) -> Patient:
    """Merge a duplicate into the kept record, once the secretariat has confirmed it.

    Everything attached to the duplicate (requests, appointments, messages, orientation)
    moves to the kept record; the duplicate stays, marked ``merged_into_id``, so the audit
    trail still reads; the merge itself is audited on both records.
    """
    if kept_id == duplicate_id:
        raise InvalidInput("Choisissez deux dossiers différents.", field="duplicate_id")
    kept = await get(session=session, patient_id=kept_id, actor=actor, purpose="read_merge")
    duplicate = await get(
        session=session, patient_id=duplicate_id, actor=actor, purpose="read_merge"
    )
    if kept.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise Conflict("L'un de ces dossiers a déjà été fusionné dans un autre.")
    if kept.nir and duplicate.nir and kept.nir != duplicate.nir:
        raise Conflict(
            "Ces deux dossiers portent des NIR différents : ce sont deux personnes, "
            "ils ne peuvent pas être fusionnés.",
            field="duplicate_id",
        )
    if not confirm:
        raise Conflict(
            "Confirmez la fusion : le second dossier sera rattaché au premier "
            "(demandes, rendez-vous et messages déplacés).",
            code="merge_unconfirmed",
            duplicates=_candidates([kept, duplicate]),
        )
    moved = await _move_rows(session=session, from_id=duplicate.id, to_id=kept.id)
    filled = []
    nir = duplicate.nir
    if nir and not kept.nir:
        duplicate.nir = None  # NIR is unique: free it before the kept record takes it
        await session.flush()
    for field in _FILLED_ON_MERGE:
        value = nir if field == "nir" else getattr(duplicate, field)
        if getattr(kept, field) is None and value is not None:
            setattr(kept, field, value)
            filled.append(field)
    for flag in ("ald", "css", "ame", "no_coverage", "reduced_mobility", "isolation", "disability"):
        if getattr(duplicate, flag) and not getattr(kept, flag):
            setattr(kept, flag, True)
            filled.append(flag)
    if kept.medecin_traitant_status == "unknown" and duplicate.medecin_traitant_status != "unknown":
        kept.medecin_traitant_status = duplicate.medecin_traitant_status
        filled.append("medecin_traitant_status")
    duplicate.merged_into_id = kept.id
    await session.flush()
    for subject, detail in (
        (kept, {"merged": duplicate.id, "moved": moved, "filled": filled}),
        (duplicate, {"merged_into": kept.id}),
    ):
        await audit_service.record(
            session=session,
            actor=actor,
            action="merge",
            entity_type="patient",
            entity_id=subject.id,
            patient_id=subject.id,
            detail=detail,
        )
    return kept


async def _move_rows(*, session: AsyncSession, from_id: int, to_id: int) -> dict[str, int]:
    """Point every row that references the duplicate at the kept record.

    Read from the schema (the tables above this layer are not imported here): each foreign
    key to ``patients.id`` except the audit trail (history stays where it happened) and
    the patients' own merge link. A one-per-patient row (unique key) moves only if the
    kept record has none.
    """
    moved: dict[str, int] = {}
    for table in Patient.metadata.sorted_tables:
        if table.name in ("patients", "audit_events"):
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != "patients":
                continue
            column = fk.parent
            if column.unique:
                taken = await session.scalar(
                    select(func.count()).select_from(table).where(column == to_id)
                )
                if taken:
                    continue
            result = await session.execute(
                sql_update(table).where(column == from_id).values({column.name: to_id})
            )
            count = getattr(result, "rowcount", 0) or 0
            if count:
                moved[table.name] = count
    return moved
