"""One appointment: confirmation after booking, SMS status, move or cancel it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.appointments import service as appointments_service
from app.appointments.dependencies import booking_context
from app.appointments.schemas import RescheduleIn
from app.core.db import SessionDep
from app.core.errors import DomainError
from app.core.timeutil import PARIS, at
from app.messaging import service as messaging_service
from app.patients import service as patients_service
from app.practitioners import service as practitioners_service
from app.ui.layout import SecretariatUser, render
from app.web import forms
from app.web.agenda import STATUS_LABELS
from app.web.dashboard import MODALITY_LABELS

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request,
    session: Any,
    user: Any,
    appointment_id: int,
    *,
    errors: forms.FormErrors | None = None,
    values: dict[str, Any] | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    appointment = await appointments_service.get(
        session=session, appointment_id=appointment_id, actor=user
    )
    patient = await patients_service.get(
        session=session, patient_id=appointment.patient_id, actor=user
    )
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=appointment.practitioner_id
    )
    sms = await messaging_service.sms_for_patient(
        session=session, patient_id=patient.id, actor=user
    )
    mine = [m for m in sms if m.appointment_id in (None, appointment.id)]
    local = appointment.start_at.astimezone(PARIS)
    return render(
        request,
        "web/appointment.html",
        user,
        {
            "appointment": appointment,
            "patient": patient,
            "practitioner": practitioner,
            "practitioner_options": [
                (p.id, p.display_name) for p in await practitioners_service.list_(session=session)
            ],
            "sms": mine[:5],
            "flash": flash,
            "errors": errors or forms.FormErrors(),
            "values": {
                "date": local.date().isoformat(),
                "heure": local.strftime("%H:%M"),
                "practitioner_id": str(appointment.practitioner_id),
                "reason": "",
                **(values or {}),
            },
            "modality_labels": MODALITY_LABELS,
            "status_labels": STATUS_LABELS,
        },
        active="agenda",
        status_code=status_code,
    )


@router.get("/rendez-vous/{appointment_id}", response_class=HTMLResponse)
async def appointment_page(
    request: Request,
    appointment_id: int,
    session: SessionDep,
    user: SecretariatUser,
    reserve: int = 0,
    fait: str = "",
) -> Any:
    flash = {
        "1": "Rendez-vous réservé.",
        "deplace": "Rendez-vous déplacé.",
        "annule": "Rendez-vous annulé.",
    }.get("1" if reserve else fait)
    return await _page(request, session, user, appointment_id, flash=flash)


@router.post("/rendez-vous/{appointment_id}/deplacer", response_class=HTMLResponse)
async def move(
    request: Request, appointment_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    data = await forms.read_form(request)
    values = {k: forms.text(data, k) for k in ("date", "heure", "practitioner_id", "override")}
    values["confirm_same_day"] = "1" if forms.checked(data, "confirm_same_day") else ""
    errors = forms.FormErrors()
    day = forms.parse_date(values["date"])
    if day is None:
        errors.add("date", "Date invalide : utilisez le format jj/mm/aaaa.")
    try:
        time = dt.time.fromisoformat(values["heure"])
    except ValueError:
        errors.add("heure", "Heure invalide : utilisez le format hh:mm.")
    if not errors:
        assert day is not None
        try:
            async with session.begin_nested():
                await appointments_service.reschedule(
                    session=session,
                    appointment_id=appointment_id,
                    reschedule_in=RescheduleIn(
                        start_at=at(day, time),
                        practitioner_id=int(values["practitioner_id"] or 0) or None,
                        deadline_override_reason=values["override"] or None,
                        confirm_same_day=bool(values["confirm_same_day"]),
                    ),
                    actor=user,
                    ctx=booking_context(request),
                )
            return RedirectResponse(f"/rendez-vous/{appointment_id}?fait=deplace", 303)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            field = {
                "start_at": "heure",
                "practitioner_id": "practitioner_id",
                "confirm_same_day": "confirm_same_day",
            }.get(exc.field or "", "heure")
            errors.add(field, exc.message)
    return await _page(
        request, session, user, appointment_id, errors=errors, values=values, status_code=422
    )


@router.post("/rendez-vous/{appointment_id}/annuler", response_class=HTMLResponse)
async def cancel(
    request: Request, appointment_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    data = await forms.read_form(request)
    reason = forms.text(data, "reason")
    errors = forms.FormErrors()
    if not reason:
        errors.add("reason", "Indiquez le motif de l'annulation.")
    else:
        try:
            async with session.begin_nested():
                await appointments_service.cancel(
                    session=session,
                    appointment_id=appointment_id,
                    reason=reason[:500],
                    by_patient=forms.checked(data, "by_patient"),
                    actor=user,
                    ctx=booking_context(request),
                )
            return RedirectResponse(f"/rendez-vous/{appointment_id}?fait=annule", 303)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            errors.add("reason", exc.message)
    return await _page(
        request,
        session,
        user,
        appointment_id,
        errors=errors,
        values={"reason": reason, "by_patient": forms.checked(data, "by_patient")},
        status_code=422,
    )
