"""Waiting list: the API, the secretariat's page /liste-attente and its dashboard fragment.

Thin: every rule is in :mod:`app.waitlist.service`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.appointments.dependencies import BookingContextDep
from app.appointments.schemas import AppointmentOut
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import InvalidInput
from app.ui.layout import SecretariatUser, render
from app.waitlist import service
from app.waitlist.schemas import CallBookingIn, EntryCreate, EntryOut, OfferOut, SlotOut
from app.waitlist.wiring import backfill
from app.web import forms

router = APIRouter()
api = APIRouter(prefix="/api/waitlist", tags=["waitlist"])

MODALITY_LABELS = {
    "home_visit": "Visite à domicile",
    "teleconsultation": "Téléconsultation",
    "practice": "Consultation au cabinet",
}
SOURCE_LABELS = {
    "cancel_sms": "annulé par SMS",
    "cancel_patient": "annulé par le patient",
    "cancel_platform": "annulé par la plateforme",
    "noshow": "patient absent",
    "session_opened": "vacation ouverte",
    "moved": "rendez-vous déplacé",
}
OFFER_LABELS = {
    "pending": "en attente de réponse",
    "accepted": "accepté",
    "declined": "refusé",
    "expired": "sans réponse",
    "taken": "arrivé trop tard",
    "withdrawn": "retiré",
}
DONE = {
    "ajoutee": "La demande est sur la liste d'attente.",
    "retiree": "La demande a été retirée de la liste d'attente.",
    "reservee": "Créneau réservé pour ce patient.",
}


# --- API ---------------------------------------------------------------------------------


@api.get("", response_model=list[EntryOut], dependencies=[require_roles(*STAFF)])
async def list_entries(session: SessionDep, user: CurrentUser) -> Any:
    return [w.entry for w in await service.list_waiting(session=session)]


@api.post("", response_model=EntryOut, status_code=201, dependencies=[require_roles(*STAFF)])
async def add_entry(body: EntryCreate, session: SessionDep, user: CurrentUser, now: NowDep) -> Any:
    return await service.add(
        session=session, entry_in=service.EntryIn(**body.model_dump()), actor=user, now=now
    )


@api.delete("/{entry_id}", response_model=EntryOut, dependencies=[require_roles(*STAFF)])
async def remove_entry(entry_id: int, session: SessionDep, user: CurrentUser, now: NowDep) -> Any:
    return await service.remove(session=session, entry_id=entry_id, actor=user, now=now)


@api.get("/slots", response_model=list[SlotOut], dependencies=[require_roles(*STAFF)])
async def list_slots(session: SessionDep, user: CurrentUser, now: NowDep) -> Any:
    slots = await service.recent_slots(session=session, since=now - dt.timedelta(days=7))
    offers = await service.pending_offers(session=session, slot_ids=[s.id for s in slots])
    out = []
    for slot in slots:
        item = SlotOut.model_validate(slot)
        item.offers = [OfferOut.model_validate(o) for o in offers if o.freed_slot_id == slot.id]
        out.append(item)
    return out


@api.post(
    "/slots/{slot_id}/book",
    response_model=AppointmentOut,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def book_slot(
    slot_id: int,
    body: CallBookingIn,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
) -> Any:
    """The patient agreed on the phone (call list): book the freed slot for them."""
    return await service.book_by_call(
        session=session,
        slot_id=slot_id,
        entry_id=body.entry_id,
        actor=user,
        ctx=ctx,
        bf=backfill(request.app),
    )


# --- pages -------------------------------------------------------------------------------


@router.get("/liste-attente", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    now = request.app.state.clock()
    bf = backfill(request.app)
    slots = await service.recent_slots(session=session, since=now - dt.timedelta(days=2))
    return render(
        request,
        "waitlist/page.html",
        user,
        {
            "waiting": await service.list_waiting(session=session),
            "to_offer": await service.call_list(session=session, now=now, bf=bf),
            "slots": slots,
            "offers": await service.pending_offers(session=session, slot_ids=[s.id for s in slots]),
            "done": DONE.get(request.query_params.get("fait", "")),
            "modality_labels": MODALITY_LABELS,
            "source_labels": SOURCE_LABELS,
            "offer_labels": OFFER_LABELS,
        },
        active="tableau",
    )


@router.get("/liste-attente/tableau", response_class=HTMLResponse, include_in_schema=False)
async def dashboard_fragment(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    """« Créneau libéré : à proposer », polled by the dashboard."""
    now = request.app.state.clock()
    return render(
        request,
        "waitlist/_to_offer.html",
        user,
        {
            "to_offer": await service.call_list(session=session, now=now, bf=backfill(request.app)),
            "modality_labels": MODALITY_LABELS,
        },
    )


def _int(data: dict[str, Any], key: str, label: str) -> int:
    value = forms.text(data, key)
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise InvalidInput(f"{label} : valeur invalide.", field=key)
    return int(value)


@router.post("/liste-attente/ajouter", include_in_schema=False)
async def add_page(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    request_id = _int(data, "request_id", "Demande")
    preferred = forms.text(data, "preferred_practitioner_id")
    await service.add(
        session=session,
        entry_in=service.EntryIn(
            request_id=request_id,
            consent_sms=forms.checked(data, "consent_sms"),
            consent_call=forms.checked(data, "consent_call"),
            preferred_practitioner_id=_int(data, "preferred_practitioner_id", "Médecin")
            if preferred
            else None,
            reachable=forms.optional(data, "reachable"),
        ),
        actor=user,
        now=request.app.state.clock(),
    )
    return RedirectResponse("/liste-attente?fait=ajoutee", status_code=303)


@router.post("/liste-attente/{entry_id}/retirer", include_in_schema=False)
async def remove_page(
    entry_id: int, request: Request, session: SessionDep, user: SecretariatUser
) -> Any:
    await forms.read_form(request)
    await service.remove(
        session=session, entry_id=entry_id, actor=user, now=request.app.state.clock()
    )
    return RedirectResponse("/liste-attente?fait=retiree", status_code=303)


@router.post("/liste-attente/creneaux/{slot_id}/reserver", include_in_schema=False)
async def book_page(
    slot_id: int,
    request: Request,
    session: SessionDep,
    user: SecretariatUser,
    ctx: BookingContextDep,
) -> Any:
    data = await forms.read_form(request)
    appointment = await service.book_by_call(
        session=session,
        slot_id=slot_id,
        entry_id=_int(data, "entry_id", "Patient"),
        actor=user,
        ctx=ctx,
        bf=backfill(request.app),
    )
    return RedirectResponse(f"/rendez-vous/{appointment.id}", status_code=303)


router.include_router(api)
