"""Patient page: identity, contact, requests and appointments, SMS, orientation; and the
secretariat's identity work on it: probable duplicates merged after a confirmation (audited
by app.patients.service.merge), the INS fields, the AME / no coverage flags (PASS/CCAS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.appointments import service as appointments_service
from app.core.db import SessionDep
from app.core.errors import DomainError, InvalidInput
from app.messaging import service as messaging_service
from app.orientation import listing as orientation_listing
from app.patients import identity
from app.patients import service as patients_service
from app.patients.models import IdentityStatus
from app.patients.schemas import PatientUpdate
from app.practitioners import service as practitioners_service
from app.requests import service as requests_service
from app.requests.triage import RED_FLAGS
from app.ui.layout import SecretariatUser, render
from app.web import forms
from app.web.agenda import STATUS_LABELS
from app.web.dashboard import MODALITY_LABELS, URGENCY_LABELS
from app.web.intake import MT_LABELS, SEX_LABELS

router = APIRouter(include_in_schema=False)

REQUEST_STATUS_LABELS = {
    "new": "En attente",
    "redirected_15": "Réorientée vers le 15",
    "scheduled": "Rendez-vous pris",
    "advice_given": "Conseil donné",
    "cancelled": "Annulée",
    "unreachable": "Injoignable",
    "oriented": "Orientée ailleurs (3114, 116 117, pharmacien, infirmier, urgences)",
    "unfilled": "Non pourvue",
}
# ANS, Référentiel national d'identitovigilance (RNIV 1, § 3): the four identity statuses.
IDENTITY_STATUS_LABELS = {
    IdentityStatus.provisoire: "Identité provisoire",
    IdentityStatus.recuperee: "Identité récupérée (INS obtenu, pièce d'identité non vérifiée)",
    IdentityStatus.validee: "Identité validée (pièce d'identité vérifiée)",
    IdentityStatus.qualifiee: "Identité qualifiée (INS récupéré et pièce vérifiée)",
}
# Référentiel INS (ANS), annexe: the authority of the matricule.
INS_OID_LABELS = {
    "1.2.250.1.213.1.4.8": "1.2.250.1.213.1.4.8 — NIR",
    "1.2.250.1.213.1.4.9": "1.2.250.1.213.1.4.9 — NIA",
    "1.2.250.1.213.1.4.10": "1.2.250.1.213.1.4.10 — NIR de test",
    "1.2.250.1.213.1.4.11": "1.2.250.1.213.1.4.11 — NIA de test",
}
FLASH = {
    "fusion": "Dossiers fusionnés : demandes, rendez-vous et messages rattachés à ce dossier.",
    "ins": "Identité (INS) enregistrée.",
    "couverture": "Couverture enregistrée.",
}


async def _page(
    request: Request,
    session: Any,
    user: Any,
    patient_id: int,
    *,
    flash: str | None = None,
    form: str = "",
    errors: forms.FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    patient = await patients_service.get(session=session, patient_id=patient_id, actor=user)
    now = request.app.state.clock()
    sms = await messaging_service.sms_for_patient(
        session=session, patient_id=patient.id, actor=user
    )
    orientation = await orientation_listing.case_for_patient(
        session=session, patient_id=patient.id, now=now
    )
    names = {
        p.id: p.display_name
        for p in await practitioners_service.list_(session=session, active_only=False)
    }
    duplicates = (
        []
        if patient.merged_into_id is not None
        else await patients_service.duplicates_of(
            session=session, patient_id=patient.id, actor=user
        )
    )
    return render(
        request,
        "web/patient.html",
        user,
        {
            "patient": patient,
            "requests": await requests_service.list_for_patient(
                session=session, patient_id=patient.id
            ),
            "appointments": await appointments_service.list_for_patient(
                session=session, patient_id=patient.id
            ),
            "sms": sms,
            "orientation": orientation,
            "names": names,
            "red_flags": RED_FLAGS,
            "mt_labels": MT_LABELS,
            "sex_labels": SEX_LABELS,
            "status_labels": STATUS_LABELS,
            "request_status_labels": REQUEST_STATUS_LABELS,
            "modality_labels": MODALITY_LABELS,
            "urgency_labels": URGENCY_LABELS,
            "duplicates": duplicates,
            "identity_status_labels": IDENTITY_STATUS_LABELS,
            "ins_oid_labels": INS_OID_LABELS,
            "flash": flash,
            "form": form,
            "errors": errors or forms.FormErrors(),
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
async def patient_page(
    request: Request, patient_id: int, session: SessionDep, user: SecretariatUser, fait: str = ""
) -> Any:
    return await _page(request, session, user, patient_id, flash=FLASH.get(fait))


@router.get("/patients/{patient_id}/fusion/{duplicate_id}", response_class=HTMLResponse)
async def merge_confirmation(
    request: Request, patient_id: int, duplicate_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """The confirmation step: both records side by side, what the merge moves."""
    return await _merge_page(request, session, user, patient_id, duplicate_id)


async def _merge_page(
    request: Request,
    session: Any,
    user: Any,
    patient_id: int,
    duplicate_id: int,
    *,
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    kept = await patients_service.get(
        session=session, patient_id=patient_id, actor=user, purpose="read_merge"
    )
    duplicate = await patients_service.get(
        session=session, patient_id=duplicate_id, actor=user, purpose="read_merge"
    )
    return render(
        request,
        "web/patient_merge.html",
        user,
        {
            "kept": kept,
            "duplicate": duplicate,
            "identity_status_labels": IDENTITY_STATUS_LABELS,
            "mt_labels": MT_LABELS,
            "requests": await requests_service.list_for_patient(
                session=session, patient_id=duplicate.id
            ),
            "appointments": await appointments_service.list_for_patient(
                session=session, patient_id=duplicate.id
            ),
            "errors": errors or forms.FormErrors(),
        },
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/fusion", response_class=HTMLResponse)
async def merge(
    request: Request, patient_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """Merge a probable duplicate into this record, only once « je confirme » is ticked."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    try:
        duplicate_id = int(forms.text(data, "duplicate_id"))
    except ValueError:
        errors.add("", "Choisissez le dossier à fusionner.")
        return await _page(
            request, session, user, patient_id, form="fusion", errors=errors, status_code=422
        )
    try:
        async with session.begin_nested():
            await patients_service.merge(
                session=session,
                kept_id=patient_id,
                duplicate_id=duplicate_id,
                confirm=forms.checked(data, "confirm"),
                actor=user,
            )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        # Back to the confirmation step, the French reason next to the box.
        forms.domain_error(exc, errors, default_field="confirm")
        return await _merge_page(
            request,
            session,
            user,
            patient_id,
            duplicate_id,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/patients/{patient_id}?fait=fusion", status_code=303)


async def _update(
    request: Request,
    session: Any,
    user: Any,
    patient_id: int,
    *,
    form: str,
    data: dict[str, Any],
) -> Any:
    """Validate with the API's schema, update through the patients service (audited)."""
    errors = forms.FormErrors()
    update = forms.validate(PatientUpdate, data, errors)
    if update is not None:
        try:
            async with session.begin_nested():
                await patients_service.update(
                    session=session, patient_id=patient_id, patient_update=update, actor=user
                )
        except DomainError as exc:
            forms.domain_error(exc, errors)
    if errors:
        return await _page(
            request,
            session,
            user,
            patient_id,
            form=form,
            errors=errors,
            values=data,
            status_code=422,
        )
    return RedirectResponse(f"/patients/{patient_id}?fait={form}", status_code=303)


@router.post("/patients/{patient_id}/ins", response_class=HTMLResponse)
async def set_ins(
    request: Request, patient_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """Matricule INS, its OID and the identity status, typed by the secretariat (no INSi)."""
    data = await forms.read_form(request)
    fields = {
        "ins_matricule": forms.optional(data, "ins_matricule"),
        "ins_oid": forms.optional(data, "ins_oid"),
        "identity_status": forms.text(data, "identity_status") or IdentityStatus.provisoire,
    }
    if fields["ins_matricule"]:
        fields["ins_matricule"] = "".join(str(fields["ins_matricule"]).split()).upper()
    return await _update(request, session, user, patient_id, form="ins", data=fields)


@router.post("/patients/{patient_id}/couverture", response_class=HTMLResponse)
async def set_coverage(
    request: Request, patient_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """AME / no coverage: neither declares a médecin traitant the usual way (PASS/CCAS)."""
    data = await forms.read_form(request)
    fields = {"ame": forms.checked(data, "ame"), "no_coverage": forms.checked(data, "no_coverage")}
    try:
        identity.check_coverage(**fields)
    except InvalidInput as exc:
        errors = forms.FormErrors()
        errors.add("", exc.message)
        return await _page(
            request, session, user, patient_id, form="couverture", errors=errors, status_code=422
        )
    return await _update(request, session, user, patient_id, form="couverture", data=fields)
