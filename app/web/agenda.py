"""Agenda: the grid (team's day, one GP's week), rounds with their map; book, move, cancel.

A free time is a link: with a request in context (``?demande=``) it books that request
there, with an appointment being moved (``?deplacer=``) it moves it there. Both ask for a
confirmation first (a GET that changes nothing), then post through the one pipeline
(``rounds.proposals.book_proposal`` → ``appointments.service.book``, or
``appointments.service.reschedule`` / ``cancel``): the rules answer, in French, and a
rule that asks for a reason (past the deadline) gets a reason field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.agenda import grid as agenda_grid
from app.agenda import service as agenda_service
from app.appointments import service as appointments_service
from app.appointments.dependencies import booking_context
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.schemas import RescheduleIn
from app.core.db import SessionDep
from app.core.errors import Conflict, DomainError
from app.core.timeutil import PARIS, day_bounds
from app.patients.models import Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind
from app.requests import service as requests_service
from app.rounds import proposals as rounds_proposals
from app.rounds import service as rounds_service
from app.rounds.schemas import ProposalChoice, RouteOut
from app.territory import service as territory
from app.ui.formats import person_name
from app.ui.layout import SecretariatUser, render, today
from app.web import forms
from app.web.dashboard import MODALITY_LABELS
from app.web.svg import Point, round_map

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "booked": "Réservé",
    "fulfilled": "Vu",
    "noshow": "Absent",
    "cancelled": "Annulé",
}
VIEW_KEYS = ("date", "vue", "medecin", "demande", "deplacer")
REASON_MAX = 500
FLASHES = {
    "reserve": "Rendez-vous réservé.",
    "deplace": "Rendez-vous déplacé.",
    "annule": "Rendez-vous annulé.",
}


def _int(value: str | None) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _moment(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat((value or "").strip().replace(" ", "+"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


class View:
    """The page's state, carried from link to link (date, view, GP, request or move)."""

    def __init__(self, request: Request, params: dict[str, str]) -> None:
        day = forms.parse_date(params.get("date"))
        # Far dates (year 1, 9999) would overflow the previous/next links: today instead.
        self.day = day if day and 2000 <= day.year <= 2100 else today(request)
        self.week = params.get("vue") == "semaine"
        self.medecin = _int(params.get("medecin"))
        self.demande = _int(params.get("demande"))
        self.deplacer = _int(params.get("deplacer"))

    def params(self, **overrides: Any) -> dict[str, str]:
        base: dict[str, Any] = {
            "date": self.day.isoformat(),
            "vue": "semaine" if self.week else "jour",
            "medecin": self.medecin or "",
            "demande": self.demande or "",
            "deplacer": self.deplacer or "",
        }
        base.update(overrides)
        return {k: str(v) for k, v in base.items() if v not in (None, "")}

    def url(self, **overrides: Any) -> str:
        return "/agenda?" + urlencode(self.params(**overrides))

    def cell_url(
        self, practitioner_id: int, kind: str, start: dt.datetime, end: dt.datetime
    ) -> str:
        """A free time's link (hundreds per page: the view's part is encoded once)."""
        if not hasattr(self, "_base"):
            self._base = self.url()
        return (
            f"{self._base}&gp={practitioner_id}&type={kind}"
            f"&debut={quote(start.isoformat())}&fin={quote(end.isoformat())}#confirmer"
        )


@router.get("/agenda", response_class=HTMLResponse)
async def agenda(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    return await _page(request, session, user, dict(request.query_params))


async def _page(
    request: Request,
    session: Any,
    user: Any,
    params: dict[str, str],
    *,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = View(request, params)
    practitioners = list(await practitioners_service.list_(session=session))
    chosen = [p for p in practitioners if p.id == view.medecin] or practitioners
    if len(chosen) != 1:
        view.medecin = None
    ctx = booking_context(request)
    context: dict[str, Any] = {
        "view": view,
        "day": view.day,
        "vue": "semaine" if view.week else "jour",
        "medecin": str(view.medecin or ""),
        "practitioners": practitioners,
        "modality_labels": MODALITY_LABELS,
        "status_labels": STATUS_LABELS,
        "flash": FLASHES.get(params.get("fait", "")),
        "flash_rdv": _int(params.get("rdv")),
        "error": error,
        # The proposals' refusal points to fresh options; here they are the grid itself.
        "error_message": error.message.removesuffix(" Voici les options à jour.") if error else "",
        "typed": typed or {},
    }
    step = dt.timedelta(days=7 if view.week else 1)
    context["prev_url"] = view.url(date=(view.day - step).isoformat())
    context["next_url"] = view.url(date=(view.day + step).isoformat())
    context.update(await _mode(session, user, view, params, ctx.now))
    if view.week and len(chosen) != 1:
        context.update(await _team_week(session=session, day=view.day, chosen=chosen))
        return render(
            request, "web/agenda.html", user, context, active="agenda", status_code=status_code
        )
    if view.week:
        monday = view.day - dt.timedelta(days=view.day.weekday())
        days = [monday + dt.timedelta(days=i) for i in range(7)]
    else:
        days = [view.day]
    columns, axis = await agenda_service.grid(
        session=session,
        practitioners=chosen,
        days=days,
        actor=user,
        now=ctx.now,
        home_window_minutes=ctx.home_visit_window_minutes,
    )
    if view.week and not any(c.bands for c in columns if c.day.weekday() == 6):
        columns = [c for c in columns if c.day.weekday() != 6]  # no Sunday session
    context.update(columns=columns, axis=axis)
    if not view.week:
        context["rounds"] = await _rounds(session, view.day, columns, chosen)
    return render(
        request, "web/agenda.html", user, context, active="agenda", status_code=status_code
    )


async def _mode(
    session: Any, user: Any, view: View, params: dict[str, str], now: dt.datetime
) -> dict[str, Any]:
    """Booking a request, moving an appointment or cancelling one: what the page asks."""
    out: dict[str, Any] = {"mode": None, "target_kind": None, "pending": None}
    gp_id, kind = _int(params.get("gp")), params.get("type", "")
    start, end = _moment(params.get("debut")), _moment(params.get("fin"))
    choice: dict[str, Any] = {"gp": gp_id, "type": kind, "debut": start, "fin": end}
    chosen = bool(gp_id and start and end and end > start)
    gp_name = ""
    if chosen and gp_id:
        gp = await practitioners_service.get(session=session, practitioner_id=gp_id)
        gp_name = gp.display_name
    if view.deplacer:
        appointment = await appointments_service.get(
            session=session, appointment_id=view.deplacer, actor=user
        )
        patient = await session.get(Patient, appointment.patient_id)
        out.update(
            mode="move",
            moving=appointment,
            moving_patient=patient,
            moving_gp=(
                await practitioners_service.get(
                    session=session, practitioner_id=appointment.practitioner_id
                )
            ).display_name,
            target_kind=str(appointment.kind),
        )
        if appointment.status != AppointmentStatus.booked:
            out.update(mode=None, mode_refusal="Seul un rendez-vous réservé peut être déplacé.")
        elif chosen:
            out["pending"] = {"action": "move", "gp_name": gp_name, **choice}
    elif view.demande:
        care_request = await requests_service.get(
            session=session, request_id=view.demande, actor=user
        )
        patient = await session.get(Patient, care_request.patient_id)
        kind = care_request.modality or SessionKind.teleconsultation
        out.update(
            mode="book", care_request=care_request, request_patient=patient, target_kind=str(kind)
        )
        try:
            appointments_service.check_request_open(care_request)
        except Conflict as exc:
            out.update(mode=None, mode_refusal=exc.message)
        else:
            if chosen:
                out["pending"] = {"action": "book", "gp_name": gp_name, **choice}
    cancel_id = _int(params.get("annuler"))
    if cancel_id and out["pending"] is None:
        appointment = await appointments_service.get(
            session=session, appointment_id=cancel_id, actor=user
        )
        patient = await session.get(Patient, appointment.patient_id)
        out["pending"] = {
            "action": "cancel",
            "appointment": appointment,
            "patient": patient,
            "gp_name": (
                await practitioners_service.get(
                    session=session, practitioner_id=appointment.practitioner_id
                )
            ).display_name,
        }
    return out


def _back(data: dict[str, Any]) -> dict[str, str]:
    return {k: forms.text(data, k) for k in VIEW_KEYS if forms.text(data, k)}


async def _refused(
    request: Request,
    session: Any,
    user: Any,
    data: dict[str, Any],
    exc: DomainError,
    extra: dict[str, str],
) -> HTMLResponse:
    if exc.status_code in (403, 404):
        raise exc
    return await _page(
        request,
        session,
        user,
        {**_back(data), **extra},
        error=exc,
        typed={
            k: forms.text(data, k)
            for k in ("motif_derogation", "motif", "par_patient", "confirm_same_day")
        },
        status_code=409 if exc.status_code == 409 else 422,
    )


def _slot(data: dict[str, Any]) -> tuple[int, dt.datetime, dt.datetime]:
    gp, start, end = (
        _int(forms.text(data, "gp")),
        _moment(data.get("debut")),
        _moment(data.get("fin")),
    )
    if gp is None or start is None or end is None or end <= start:
        raise Conflict("Créneau illisible : rechargez l'agenda et choisissez à nouveau.")
    return gp, start, end


@router.post("/agenda/reserver", response_class=HTMLResponse)
async def book(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    extra = {k: forms.text(data, k) for k in ("gp", "type", "debut", "fin")}
    try:
        request_id = _int(forms.text(data, "demande"))
        if request_id is None:
            raise Conflict("Aucune demande à réserver : ouvrez l'agenda depuis la demande.")
        gp, start, end = _slot(data)
        try:
            kind = SessionKind(forms.text(data, "type"))
        except ValueError as exc:
            raise Conflict("Type de créneau inconnu : rechargez l'agenda.") from exc
        reason = forms.text(data, "motif_derogation")[:REASON_MAX] or None
        async with session.begin_nested():
            booked = await rounds_proposals.book_proposal(
                session=session,
                request_id=request_id,
                choice=ProposalChoice(
                    practitioner_id=gp,
                    kind=kind,
                    start_at=start,
                    end_at=end,
                    deadline_override_reason=reason,
                    confirm_same_day=forms.checked(data, "confirm_same_day"),
                ),
                actor=user,
                planner=request.app.state.rounds_planner,
                ctx=booking_context(request),
            )
    except DomainError as exc:
        return await _refused(request, session, user, data, exc, extra)
    except ValidationError:
        unreadable = Conflict("Créneau illisible : rechargez l'agenda et choisissez à nouveau.")
        return await _refused(request, session, user, data, unreadable, extra)
    return _back_to_day(data, booked.appointment, done="reserve", drop="demande")


def _back_to_day(data: Any, appointment: Any, *, done: str, drop: str) -> Any:
    """Post/redirect/get after a booking or a move: the agenda of the appointment's day,
    without the pending action (``drop``), with what was done and the block to show."""
    back = _back(data)
    back.pop(drop, None)
    back["date"] = appointment.start_at.astimezone(PARIS).date().isoformat()
    return RedirectResponse(
        "/agenda?" + urlencode({**back, "fait": done, "rdv": appointment.id}), 303
    )


@router.post("/agenda/deplacer", response_class=HTMLResponse)
async def move(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    extra = {k: forms.text(data, k) for k in ("gp", "type", "debut", "fin")}
    try:
        appointment_id = _int(forms.text(data, "deplacer"))
        if appointment_id is None:
            raise Conflict("Aucun rendez-vous à déplacer : rechargez l'agenda.")
        gp, start, _ = _slot(data)
        async with session.begin_nested():
            moved = await appointments_service.reschedule(
                session=session,
                appointment_id=appointment_id,
                reschedule_in=RescheduleIn(
                    start_at=start,
                    practitioner_id=gp,
                    deadline_override_reason=forms.text(data, "motif_derogation")[:REASON_MAX]
                    or None,
                    confirm_same_day=forms.checked(data, "confirm_same_day"),
                ),
                actor=user,
                ctx=booking_context(request),
            )
    except DomainError as exc:
        return await _refused(request, session, user, data, exc, extra)
    except ValidationError:
        unreadable = Conflict("Créneau illisible : rechargez l'agenda et choisissez à nouveau.")
        return await _refused(request, session, user, data, unreadable, extra)
    return _back_to_day(data, moved, done="deplace", drop="deplacer")


@router.post("/agenda/annuler", response_class=HTMLResponse)
async def cancel(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    data = await forms.read_form(request)
    appointment_id = _int(forms.text(data, "rdv"))
    extra = {"annuler": str(appointment_id or "")}
    reason = forms.text(data, "motif")
    try:
        if appointment_id is None:
            raise Conflict("Aucun rendez-vous à annuler : rechargez l'agenda.")
        if not reason:
            raise Conflict("Indiquez le motif de l'annulation.", field="motif")
        if len(reason) > REASON_MAX:
            raise Conflict(f"Motif trop long : {REASON_MAX} caractères au plus.", field="motif")
        async with session.begin_nested():
            cancelled: Appointment = await appointments_service.cancel(
                session=session,
                appointment_id=appointment_id,
                reason=reason,
                by_patient=forms.checked(data, "par_patient"),
                actor=user,
                ctx=booking_context(request),
            )
    except DomainError as exc:
        return await _refused(request, session, user, data, exc, extra)
    except ValidationError:
        unreadable = Conflict("Créneau illisible : rechargez l'agenda et choisissez à nouveau.")
        return await _refused(request, session, user, data, unreadable, extra)
    back = _back(data)
    return RedirectResponse(
        "/agenda?" + urlencode({**back, "fait": "annule", "rdv": cancelled.id}), 303
    )


# --- rounds and the team's week -------------------------------------------------------


async def _rounds(
    session: Any, day: dt.date, columns: list[agenda_grid.Column], chosen: list[Practitioner]
) -> list[dict[str, Any]]:
    """Each home-visit session of the day: its stops in order, and the map."""
    with_visits = [
        (c, b)
        for c in columns
        for b in c.bands
        if b.data["kind"] == SessionKind.home_visit
        and any(i.kind == "appt" and i.data["kind"] == SessionKind.home_visit for i in c.items)
    ]
    if not with_visits:
        return []
    routes = {
        r.practitioner_id: r
        for r in (await rounds_service.day_rounds(session=session, date=day)).routes
    }
    communes = await territory.communes(session)
    people = {p.id: p for p in chosen}
    out = []
    for column, band in with_visits:
        practitioner = people[column.practitioner_id]
        visits = [
            i.data
            for i in column.items
            if i.kind == "appt" and i.data["id"] and _inside(i.data, band.data)
        ]
        stops = _stops(visits, routes.get(practitioner.id))
        points = []
        for index, stop in enumerate(stops, start=1):
            lat, lon, approx = _place(stop, communes)
            if lat is None or lon is None:
                continue
            title = f"{index}. {stop['name']}"
            if approx:
                title += f" (position approchée : centre de {stop['commune']})"
            points.append(Point(lat, lon, str(index), title))
        if not stops:
            continue
        out.append(
            {
                "practitioner": practitioner,
                "duty": band.data,
                "stops": stops,
                "map": round_map(
                    Point(practitioner.latitude, practitioner.longitude, "C", "Cabinet"),
                    points,
                    title=f"Tournée du {practitioner.display_name}",
                )
                if points
                else None,
            }
        )
    return out


def _inside(appointment: dict[str, Any], duty: dict[str, Any]) -> bool:
    return bool(duty["start_at"] <= appointment["start_at"] < duty["end_at"])


def _place(stop: dict[str, Any], communes: territory.Communes) -> tuple[Any, Any, bool]:
    """The geocoded address when known, else the commune's centre (then marked approximate)."""
    centre = communes.find(name=stop["commune"]) if stop["commune"] else None
    lat, lon = stop["lat"], stop["lon"]
    if lat is None or lon is None:
        if centre is None:
            return None, None, False
        return centre.latitude, centre.longitude, True
    approx = centre is not None and (lat, lon) == (centre.latitude, centre.longitude)
    return lat, lon, approx


def _stops(visits: list[dict[str, Any]], route: RouteOut | None) -> list[dict[str, Any]]:
    """The round in order: the published route when there is one, else the booked order."""
    by_id = {a["id"]: a for a in visits}
    ordered: list[dict[str, Any]] = []
    if route is not None:
        for stop in route.stops:
            a = by_id.pop(stop.appointment_id, None)
            if a is None:
                continue
            ordered.append(
                _stop(
                    a,
                    arrival=stop.planned_arrival,
                    window=(stop.window_start, stop.window_end),
                    travel=stop.travel_minutes,
                )
            )
    rest = sorted(
        by_id.values(),
        key=lambda a: (
            a["route_order"] if a["route_order"] is not None else 10_000,
            a["planned_arrival"] or a["start_at"],
        ),
    )
    for a in rest:  # not in the published round yet (booked since)
        ordered.append(_stop(a, arrival=a["planned_arrival"], window=(a["start_at"], a["end_at"])))
    return ordered


def _stop(a: dict[str, Any], *, arrival: Any, window: tuple[Any, Any], travel: Any = None) -> dict:
    patient = a["patient"] or {}
    return {
        "appointment": a,
        "status": a["status"],
        "name": person_name(patient.get("family_name"), patient.get("given_name")),
        "address": ", ".join(x for x in (patient.get("address"), patient.get("commune")) if x),
        "commune": patient.get("commune"),
        "lat": patient.get("latitude"),
        "lon": patient.get("longitude"),
        "arrival": arrival,
        "window_start": window[0],
        "window_end": window[1],
        "travel": travel,
    }


async def _team_week(*, session: Any, day: dt.date, chosen: list[Practitioner]) -> dict[str, Any]:
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    sessions = await practitioners_service.list_sessions(
        session=session, practitioner_ids=[p.id for p in chosen], start=start, end=end
    )
    held = await appointments_service.count_by_session(
        session=session, session_ids=[s.id for s in sessions]
    )
    if not any(s.start_at.astimezone(PARIS).weekday() == 6 for s in sessions):
        days = days[:6]  # no Sunday sessions: keep the grid readable
    rows = []
    for practitioner in chosen:
        cells = []
        for d in days:
            mine = [
                {"duty": s, "held": held.get(s.id, 0)}
                for s in sessions
                if s.practitioner_id == practitioner.id and s.start_at.astimezone(PARIS).date() == d
            ]
            cells.append({"day": d, "sessions": mine})
        rows.append({"practitioner": practitioner, "cells": cells})
    return {"week_days": days, "rows": rows}
