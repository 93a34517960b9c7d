"""One call, one screen: the caller, the patient search, triage, proposals and booking.

The three steps (``/demandes/nouvelle``, ``?patient_id=``, ``/demandes/{id}``) render the same
page, ``web/one_call.html``, whose panels (caller, search, triage, request) stay on screen
through the call; every form is a plain GET/POST with post/redirect/get (no JavaScript needed).
The caller's number (``appel``) follows the call from step to step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.appointments import service as appointments_service
from app.appointments.dependencies import booking_context
from app.core.db import SessionDep
from app.core.errors import Conflict, DomainError, InvalidInput
from app.core.timeutil import PARIS
from app.patients import service as patients_service
from app.patients.models import Patient
from app.patients.schemas import PatientIn, PatientUpdate
from app.practitioners.models import Practitioner, SessionKind
from app.requests import service as requests_service
from app.requests.models import Destination, RequestStatus, Urgency, UrgencyDecidedBy
from app.requests.schemas import RequestIn
from app.requests.triage import (
    INFANT_FEVER_MONTHS,
    INFANT_PROMPTS,
    RED_FLAGS,
    decide_urgency,
    infant_months,
    outlook,
    suggest_modality,
)
from app.rounds import proposals as rounds_proposals
from app.rounds.schemas import ProposalChoice
from app.territory import service as territory
from app.ui import formats
from app.ui.layout import SecretariatUser, render
from app.web import forms, integrations
from app.web.agenda import STATUS_LABELS
from app.web.dashboard import MODALITY_LABELS, URGENCY_LABELS

router = APIRouter(include_in_schema=False)

DESTINATION_LABELS = {
    "samu_15": "le 15 (SAMU)",
    "suicide_3114": "le 3114 (prévention du suicide)",
    "pdsa_116117": "le 116 117 (permanence des soins)",
    "pharmacist": "un pharmacien (angine, cystite)",
    "nurse": "un infirmier",
    "emergency_department": "un service d'urgences",
}
MT_LABELS = {
    "none": "Pas de médecin traitant",
    "declared": "Médecin traitant déclaré",
    "unknown": "Ne sait pas",
}
SEX_LABELS = {"unknown": "Non précisé", "female": "Femme", "male": "Homme", "other": "Autre"}
PATIENT_FIELDS = (
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "phone",
    "nir",
    "address",
    "postal_code",
    "commune",
    "medecin_traitant_status",
    "medecin_traitant_name",
    "language",
)
PATIENT_FLAGS = ("ald", "css", "reduced_mobility", "isolation", "disability", "sms_consent")


def _common(communes: territory.Communes) -> dict[str, Any]:
    return {
        "red_flags": RED_FLAGS,
        "destination_labels": DESTINATION_LABELS,
        "mt_labels": MT_LABELS,
        "sex_labels": SEX_LABELS,
        "urgency_labels": URGENCY_LABELS,
        "modality_labels": {k: v for k, v in MODALITY_LABELS.items() if k != "practice"},
        "commune_options": [(c.name, c.name) for c in communes],
    }


def _suggested(patient: Patient, cannot_travel: bool = False) -> str:
    return str(
        suggest_modality(
            cannot_travel=cannot_travel,
            reduced_mobility=patient.reduced_mobility,
            isolation=patient.isolation,
            disability=patient.disability,
        )
    )


# --- the call carried from panel to panel ------------------------------------------------

SEARCH_KEYS = ("nom", "naissance", "telephone")


def _clip(value: Any) -> str:
    if isinstance(value, list):  # a field sent twice: the first one
        value = value[0] if value else ""
    return str(value or "").strip()[:100]


def call_of(source: Mapping[str, Any]) -> str:
    """The caller's number carried by the screen (query string or form), "" if none."""
    return _clip(source.get("appel"))


def call_url(path: str, appel: str, **extra: Any) -> str:
    """``path`` with the call context (and ``extra``) in its query string."""
    params = {k: v for k, v in {**extra, "appel": appel}.items() if v not in ("", None)}
    return f"{path}?{urlencode(params)}" if params else path


async def _search_panel(
    session: Any, user: Any, search: dict[str, str], *, run: bool = True
) -> dict[str, Any]:
    """The search panel's context: the query, its results (None if none asked), errors."""
    errors = forms.FormErrors()
    results: list[Patient] | None = None
    birth = forms.parse_date(search["naissance"])
    if run and any(search.values()):
        if search["naissance"] and birth is None:
            errors.add("naissance", "Date invalide : utilisez le format jj/mm/aaaa.")
        else:
            try:
                results = list(
                    await patients_service.search(
                        session=session,
                        actor=user,
                        name=search["nom"] or None,
                        birth_date=birth,
                        phone=search["telephone"] or None,
                    )
                )
            except InvalidInput as exc:
                field = {"phone": "telephone", "name": "nom"}.get(exc.field or "", "nom")
                errors.add(field, exc.message)
    return {"search": search, "results": results, "search_errors": errors, "birth": birth}


@router.get("/demandes/nouvelle", response_class=HTMLResponse)
async def new_request(
    request: Request,
    session: SessionDep,
    user: SecretariatUser,
    nom: str = "",
    naissance: str = "",
    telephone: str = "",
    appel: str = "",
    patient_id: int | None = None,
) -> Any:
    search = {"nom": _clip(nom), "naissance": _clip(naissance), "telephone": _clip(telephone)}
    appel = _clip(appel)
    if not appel and search["telephone"] and not (search["nom"] or search["naissance"]):
        # Opened from the calls panel (``?telephone=``): that number is the caller's. It
        # is searched once; the phone field is then left free so that a name typed next
        # is not also filtered by a number no record has.
        appel = search["telephone"]
    panel = await _search_panel(session, user, search)
    if appel == search["telephone"] and not (search["nom"] or search["naissance"]):
        panel["search"] = {**search, "telephone": ""}
    if patient_id is not None:
        patient = await patients_service.get(
            session=session, patient_id=patient_id, actor=user, purpose="intake"
        )
        return await _request_form(
            request,
            user,
            patient,
            values={},
            errors=forms.FormErrors(),
            communes=await territory.communes(session),
            session=session,
            appel=appel,
            panel=panel,
        )
    birth = panel.pop("birth")
    # Prefill the creation form with what was searched: nothing typed twice.
    prefill = {
        "family_name": search["nom"],
        "phone": formats.phone(search["telephone"] or appel),
        "birth_date": birth.isoformat() if birth else "",
    }
    return _screen(
        request,
        user,
        "search",
        appel,
        {
            **_common(await territory.communes(session)),
            **panel,
            "create_errors": forms.FormErrors(),
            "values": prefill,
            "duplicates": [],
        },
    )


def _screen(
    request: Request,
    user: Any,
    step: str,
    appel: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The one-call screen at ``step`` (search, triage, request): the same page each time."""
    context.setdefault("search", {"nom": "", "naissance": "", "telephone": ""})
    context.setdefault("results", None)
    context.setdefault("search_errors", forms.FormErrors())
    context.pop("birth", None)
    # "Choisir" keeps the search (and the call) on screen while the triage opens.
    context["choose_query"] = {k: v for k, v in {**context["search"], "appel": appel}.items() if v}
    return render(
        request,
        "web/one_call.html",
        user,
        {**context, "step": step, "appel": appel},
        active="demande",
        status_code=status_code,
    )


@router.post("/patients/nouveau", response_class=HTMLResponse)
async def create_patient(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    values: dict[str, Any] = {key: forms.text(data, key) for key in PATIENT_FIELDS}
    values.update({flag: forms.checked(data, flag) for flag in PATIENT_FLAGS})
    values["confirm_duplicate"] = forms.checked(data, "confirm_duplicate")
    errors = forms.FormErrors()
    payload: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", None)}
    payload.setdefault("sex", "unknown")
    if values["birth_date"] and forms.parse_date(values["birth_date"]) is None:
        errors.add("birth_date", "Date invalide : utilisez le format jj/mm/aaaa.")
    elif values["birth_date"]:
        payload["birth_date"] = forms.parse_date(values["birth_date"])
    commune = (
        await territory.find_commune(session, name=values["commune"]) if values["commune"] else None
    )
    if values["commune"] and commune is None:
        errors.add("commune", "Commune inconnue : choisissez-la dans la liste.")
    if commune is not None:
        payload["commune_insee"] = commune.insee
        if values["postal_code"] and values["postal_code"] != commune.postal_code:
            errors.add(
                "postal_code",
                f"Le code postal {values['postal_code']} ne correspond pas à {commune.name} "
                f"({commune.postal_code}) : corrigez l'un ou l'autre.",
            )
        payload.setdefault("postal_code", commune.postal_code)
    patient_in = forms.validate(PatientIn, payload, errors) if not errors else None
    if patient_in is not None and not patient_in.phone and patient_in.sms_consent:
        errors.add("phone", "Un numéro de téléphone est nécessaire pour les SMS.")
        patient_in = None
    duplicates: list[Patient] = []
    if patient_in is not None:
        try:
            async with session.begin_nested():
                patient = await patients_service.create(
                    session=session, patient_in=patient_in, actor=user
                )
            return RedirectResponse(
                call_url("/demandes/nouvelle", call_of(data), patient_id=patient.id),
                status_code=303,
            )
        except Conflict as exc:
            errors.add(exc.field or "", exc.message)
            for candidate in exc.extra.get("duplicates", []):
                duplicates.append(
                    await patients_service.get(
                        session=session,
                        patient_id=candidate["id"],
                        actor=user,
                        purpose="duplicate_check",
                    )
                )
        except DomainError as exc:
            forms.domain_error(exc, errors)
    return _screen(
        request,
        user,
        "search",
        call_of(data),
        {
            **_common(await territory.communes(session)),
            "create_errors": errors,
            "values": values,
            "duplicates": duplicates,
        },
        status_code=422,
    )


async def _request_form(
    request: Request,
    user: Any,
    patient: Patient,
    *,
    values: dict[str, Any],
    errors: forms.FormErrors,
    communes: territory.Communes,
    session: Any,
    appel: str = "",
    panel: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values = {
        "medecin_traitant_status": str(patient.medecin_traitant_status),
        "sms_consent": patient.sms_consent,
        "red_flags": [],
        **values,
    }
    # The urgency the triage will force (under 6 months, 80 and over: same day), shown
    # before submit rather than "48 h by default".
    today = request.app.state.clock().astimezone(PARIS).date()
    forced, decided_by = decide_urgency(patient.birth_date, today, None, by_regulator=False)
    urgency_forced = decided_by == UrgencyDecidedBy.age_rule
    if urgency_forced and not values.get("urgency"):
        values["urgency"] = str(forced)
    return _screen(
        request,
        user,
        "triage",
        appel,
        {
            **_common(communes),
            **(panel or {}),
            "patient": patient,
            "values": values,
            "errors": errors,
            "suggested": _suggested(patient, bool(values.get("cannot_travel"))),
            # Guard at triage: the patient's appointments still to come (issue 22, item 4).
            "upcoming": [
                a
                for a in await appointments_service.list_for_patient(
                    session=session, patient_id=patient.id
                )
                if a.status == "booked" and a.end_at >= request.app.state.clock()
            ],
            "urgency_forced": (
                (
                    "Moins de 6 mois"
                    if patient.birth_date.year >= today.year - 1
                    else "80 ans ou plus"
                )
                if urgency_forced
                else ""
            ),
            "infant": outlook_for_intake(patient, request.app.state.clock()),
            "mobility_reasons": [
                label
                for flag, label in (
                    ("reduced_mobility", "mobilité réduite"),
                    ("isolation", "isolement"),
                    ("disability", "handicap"),
                )
                if getattr(patient, flag)
            ],
        },
        status_code=status_code,
    )


def outlook_for_intake(patient: Patient, now: dt.datetime) -> dict[str, Any]:
    """The infant prompts, asked before any proposal (empty from 6 months)."""
    months = infant_months(patient.birth_date, now)
    return {
        "prompts": INFANT_PROMPTS if months is not None else (),
        "no_teleconsultation": months is not None and months < INFANT_FEVER_MONTHS,
    }


@router.post("/demandes", response_class=HTMLResponse)
async def create_request(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    try:
        patient_id = int(forms.text(data, "patient_id"))
    except ValueError as exc:
        raise InvalidInput("Patient manquant : recherchez-le d'abord.") from exc
    patient = await patients_service.get(
        session=session, patient_id=patient_id, actor=user, purpose="intake"
    )
    values: dict[str, Any] = {
        "reason": forms.text(data, "reason"),
        "symptoms_since": forms.text(data, "symptoms_since"),
        "red_flags": forms.many(data, "red_flags"),
        "cannot_travel": forms.checked(data, "cannot_travel"),
        "referred_by_medecin_traitant": forms.checked(data, "referred_by_medecin_traitant"),
        "urgency": forms.text(data, "urgency"),
        "modality": forms.text(data, "modality"),
        "suicidal_no_danger": forms.checked(data, "suicidal_no_danger"),
        "destination": forms.text(data, "destination"),
        "teleconsultation_override_reason": forms.text(data, "teleconsultation_override_reason"),
        "medecin_traitant_status": forms.text(data, "medecin_traitant_status")
        or str(patient.medecin_traitant_status),
        "sms_consent": forms.checked(data, "sms_consent"),
    }
    request_in = forms.validate(
        RequestIn,
        {
            "patient_id": patient.id,
            "reason": values["reason"],
            "symptoms_since": values["symptoms_since"] or None,
            "red_flags": values["red_flags"],
            "cannot_travel": values["cannot_travel"],
            "referred_by_medecin_traitant": values["referred_by_medecin_traitant"],
            "urgency": values["urgency"] or None,
            "modality": values["modality"] or None,
            "suicidal_immediate_danger": False if values["suicidal_no_danger"] else None,
            "destination": values["destination"] or None,
            "teleconsultation_override_reason": values["teleconsultation_override_reason"] or None,
        },
        errors,
    )
    update = forms.validate(
        PatientUpdate,
        {
            "medecin_traitant_status": values["medecin_traitant_status"],
            "sms_consent": values["sms_consent"],
        },
        errors,
    )
    if values["sms_consent"] and not patient.phone:
        errors.add("sms_consent", "Pas de numéro de téléphone : impossible d'envoyer des SMS.")
    if errors or request_in is None or update is None:
        return await _request_form(
            request,
            user,
            patient,
            values=values,
            errors=errors,
            communes=await territory.communes(session),
            session=session,
            appel=call_of(data),
            status_code=422,
        )
    if (
        update.medecin_traitant_status != patient.medecin_traitant_status
        or update.sms_consent != patient.sms_consent
    ):
        await patients_service.update(
            session=session, patient_id=patient.id, patient_update=update, actor=user
        )
    # Whatever button was pressed, a red flag records the redirection (no booking).
    try:
        async with session.begin_nested():
            care_request, outcome = await requests_service.create(
                session=session,
                request_in=request_in,
                actor=user,
                now=request.app.state.clock(),
                calendar=request.app.state.calendar,
            )
    except InvalidInput as exc:
        errors.add(exc.field or "modality", exc.message)
        return await _request_form(
            request,
            user,
            patient,
            values=values,
            errors=errors,
            communes=await territory.communes(session),
            session=session,
            appel=call_of(data),
            status_code=422,
        )
    return RedirectResponse(call_url(f"/demandes/{care_request.id}", call_of(data)), 303)


@router.get("/demandes/{request_id}", response_class=HTMLResponse)
async def request_page(
    request: Request,
    request_id: int,
    session: SessionDep,
    user: SecretariatUser,
    appel: str = "",
    reserve: int | None = None,
) -> Any:
    care_request = await requests_service.get(session=session, request_id=request_id, actor=user)
    return await _request_page(
        request,
        session,
        user,
        care_request,
        errors=forms.FormErrors(),
        appel=_clip(appel),
        reserved_id=reserve,
    )


async def _request_page(
    request: Request,
    session: Any,
    user: Any,
    care_request: Any,
    *,
    errors: forms.FormErrors,
    override: dict[str, Any] | None = None,
    appel: str = "",
    reserved_id: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    patient = await session.get(Patient, care_request.patient_id)
    if care_request.status in (RequestStatus.redirected_15, RequestStatus.oriented):
        # What the intake form's redirect leads to (post/redirect/get: F5 re-reads it).
        destination = str(care_request.destination or Destination.samu_15)
        return render(
            request,
            "web/redirected_15.html",
            user,
            {
                "patient": patient,
                "care_request": care_request,
                "flags": [RED_FLAGS[c] for c in care_request.red_flags if c in RED_FLAGS],
                "message": care_request.status_note or "",
                "destination": destination,
                "destination_label": DESTINATION_LABELS.get(destination, ""),
            },
            active="demande",
            status_code=status_code,
        )
    triage_view = outlook(care_request, patient.birth_date, request.app.state.calendar)
    found = None
    same_day: list[Any] = []
    is_open = care_request.status in (RequestStatus.new, RequestStatus.unreachable)
    if is_open:
        found = await integrations.proposals(
            request=request, session=session, care_request=care_request, actor=user
        )
        # The patient's other live appointments on a proposed day (one rule, in booking).
        days = {o.start_at.astimezone(PARIS).date() for o in found.options}
        seen: set[int] = set()
        for day in sorted(days):
            start = dt.datetime.combine(day, dt.time(12), tzinfo=PARIS)
            for other in await appointments_service.patient_same_day(
                session=session,
                patient_id=patient.id,
                start_at=start,
                end_at=start,
                exclude_request_id=care_request.id,
            ):
                if other.id not in seen:
                    seen.add(other.id)
                    same_day.append(other)
    same_days = {a.start_at.astimezone(PARIS).date() for a in same_day}
    appointments = [
        a
        for a in await appointments_service.list_for_patient(session=session, patient_id=patient.id)
        if a.request_id == care_request.id
    ]
    reserved = next((a for a in appointments if a.id == reserved_id), None)
    practitioner = (
        await session.get(Practitioner, reserved.practitioner_id) if reserved is not None else None
    )
    return _screen(
        request,
        user,
        "request",
        appel,
        {
            **_common(await territory.communes(session)),
            "care_request": care_request,
            "patient": patient,
            "proposals": found,
            "triage": triage_view,
            "errors": errors,
            "override": override or {},
            "is_open": is_open,
            "same_day": same_day,
            "same_days": same_days,
            "other_destinations": DESTINATION_LABELS,
            "same_tz": PARIS,
            "appointment_status_labels": STATUS_LABELS,
            "modality_labels_all": {k: v for k, v in MODALITY_LABELS.items() if k != "practice"},
            "appointments": appointments,
            # The confirmation shown on the call screen after booking (``?reserve=<id>``).
            "reserved": reserved,
            "reserved_practitioner": practitioner.display_name if practitioner else "",
        },
        status_code=status_code,
    )


@router.post("/demandes/{request_id}/reserver", response_class=HTMLResponse)
async def book(
    request: Request, request_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    data = await forms.read_form(request)
    care_request = await requests_service.get(session=session, request_id=request_id, actor=user)
    errors = forms.FormErrors()
    try:
        start_at = dt.datetime.fromisoformat(forms.text(data, "start_at"))
        end_at = dt.datetime.fromisoformat(forms.text(data, "end_at"))
        practitioner_id = int(forms.text(data, "practitioner_id"))
        kind = SessionKind(forms.text(data, "kind"))
    except ValueError as exc:
        raise InvalidInput("Proposition illisible : rechargez la page.") from exc
    try:
        async with session.begin_nested():
            booked = await rounds_proposals.book_proposal(
                session=session,
                request_id=care_request.id,
                choice=ProposalChoice(
                    practitioner_id=practitioner_id,
                    kind=kind,
                    start_at=start_at,
                    end_at=end_at,
                    deadline_override_reason=forms.optional(data, "deadline_override_reason"),
                    confirm_same_day=forms.checked(data, "confirm_same_day"),
                ),
                actor=user,
                planner=request.app.state.rounds_planner,
                ctx=booking_context(request),
            )
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        errors.add("booking", exc.message)
        await session.refresh(care_request)
        return await _request_page(
            request,
            session,
            user,
            care_request,
            errors=errors,
            override={
                "start_at": start_at.isoformat(),
                "reason": forms.text(data, "deadline_override_reason"),
                "same_day": exc.extra.get("code") == "patient_same_day",
            },
            appel=call_of(data),
            status_code=409,
        )
    appel = call_of(data)
    if appel:
        # During a call the confirmation stays on the call screen (caller, patient, request).
        return RedirectResponse(
            call_url(f"/demandes/{care_request.id}", appel, reserve=booked.appointment.id), 303
        )
    return RedirectResponse(f"/rendez-vous/{booked.appointment.id}?reserve=1", status_code=303)


# --- no dead ends: the other ways out of a request (issue 22, item 3) -------------------

NOTE_MAX = 500


def _reason(data: dict[str, Any], key: str, errors: forms.FormErrors, what: str) -> str:
    reason = forms.text(data, key)
    if not reason:
        errors.add(key, f"Indiquez {what}.")
    elif len(reason) > NOTE_MAX:
        errors.add(key, f"Texte trop long ({NOTE_MAX} caractères au plus).")
    return reason


async def _after_action(
    request: Request,
    session: Any,
    user: Any,
    request_id: int,
    action: Any,
    errors: forms.FormErrors,
    appel: str = "",
) -> Any:
    """Run the action (a service call) unless the form has errors; redirect, or show why."""
    if not errors:
        try:
            async with session.begin_nested():
                await action()
            return RedirectResponse(call_url(f"/demandes/{request_id}", appel), status_code=303)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            forms.domain_error(exc, errors, default_field="outcome")
    care_request = await requests_service.get(session=session, request_id=request_id, actor=user)
    return await _request_page(
        request, session, user, care_request, errors=errors, appel=appel, status_code=422
    )


@router.post("/demandes/{request_id}/revoir", response_class=HTMLResponse)
async def reconsider(
    request: Request, request_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """Widen the urgency or switch the modality, with a reason."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    reason = _reason(data, "reconsider_reason", errors, "le motif du changement")
    urgency = modality = None
    try:
        urgency = Urgency(forms.text(data, "urgency")) if forms.text(data, "urgency") else None
        modality = (
            SessionKind(forms.text(data, "modality")) if forms.text(data, "modality") else None
        )
    except ValueError:
        errors.add("urgency", "Choisissez une valeur de la liste.")

    async def action() -> None:
        await requests_service.reconsider(
            session=session,
            request_id=request_id,
            actor=user,
            now=request.app.state.clock(),
            reason=reason,
            urgency=urgency,
            modality=modality,
            calendar=request.app.state.calendar,
        )

    return await _after_action(request, session, user, request_id, action, errors, call_of(data))


@router.post("/demandes/{request_id}/orienter", response_class=HTMLResponse)
async def send_elsewhere(
    request: Request, request_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """Send the caller to another destination (15, 3114, 116 117, pharmacist…)."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    note = _reason(data, "orient_note", errors, "ce qui a été dit à l'appelant")
    try:
        destination = Destination(forms.text(data, "destination"))
    except ValueError:
        destination = None
    if destination is None or destination == Destination.platform:
        errors.add("destination", "Choisissez où orienter l'appelant.")

    async def action() -> None:
        await requests_service.change_status(
            session=session,
            request_id=request_id,
            status=RequestStatus.redirected_15
            if destination == Destination.samu_15
            else RequestStatus.oriented,
            note=note,
            actor=user,
            now=request.app.state.clock(),
            destination=destination,
        )

    return await _after_action(request, session, user, request_id, action, errors, call_of(data))


@router.post("/demandes/{request_id}/non-pourvue", response_class=HTMLResponse)
async def close_unfilled(
    request: Request, request_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """Close as *non pourvue*, the reason in the request's note (counted in indicators)."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    note = _reason(data, "unfilled_reason", errors, "pourquoi la demande n'est pas pourvue")

    async def action() -> None:
        await requests_service.change_status(
            session=session,
            request_id=request_id,
            status=RequestStatus.unfilled,
            note=f"Non pourvue : {note}",
            actor=user,
            now=request.app.state.clock(),
        )

    return await _after_action(request, session, user, request_id, action, errors, call_of(data))


@router.post("/demandes/{request_id}/rouvrir", response_class=HTMLResponse)
async def reopen(
    request: Request, request_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """A *non pourvue* request waits again (the patient called back, a GP freed up)."""
    data = await forms.read_form(request)

    async def action() -> None:
        await requests_service.change_status(
            session=session,
            request_id=request_id,
            status=RequestStatus.new,
            note="Demande rouverte.",
            actor=user,
            now=request.app.state.clock(),
        )

    return await _after_action(
        request, session, user, request_id, action, forms.FormErrors(), call_of(data)
    )
