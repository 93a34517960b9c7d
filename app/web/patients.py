"""Patient page: identity, contact, requests and appointments, SMS, orientation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.appointments import service as appointments_service
from app.core.db import SessionDep
from app.messaging import service as messaging_service
from app.orientation import listing as orientation_listing
from app.patients import service as patients_service
from app.practitioners import service as practitioners_service
from app.requests import service as requests_service
from app.requests.triage import RED_FLAGS
from app.ui.layout import SecretariatUser, render
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


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
async def patient_page(
    request: Request, patient_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
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
        },
    )
