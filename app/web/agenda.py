"""Agenda: day and week views per GP and for the team, rounds with their map; move or cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.agenda import service as agenda_service
from app.appointments import service as appointments_service
from app.core.db import SessionDep
from app.core.timeutil import PARIS, day_bounds
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind
from app.rounds import service as rounds_service
from app.rounds.schemas import RouteOut
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


def _day_param(request: Request, value: str | None) -> dt.date:
    return forms.parse_date(value) or today(request)


@router.get("/agenda", response_class=HTMLResponse)
async def agenda(
    request: Request,
    session: SessionDep,
    user: SecretariatUser,
    date: str | None = None,
    vue: str = "jour",
    medecin: str = "",
) -> Any:
    day = _day_param(request, date)
    practitioners = list(await practitioners_service.list_(session=session))
    chosen = [p for p in practitioners if str(p.id) == medecin] or practitioners
    context: dict[str, Any] = {
        "day": day,
        "vue": "semaine" if vue == "semaine" else "jour",
        "medecin": medecin if len(chosen) == 1 and medecin else "",
        "practitioners": practitioners,
        "modality_labels": MODALITY_LABELS,
        "status_labels": STATUS_LABELS,
        "prev_day": day - dt.timedelta(days=7 if vue == "semaine" else 1),
        "next_day": day + dt.timedelta(days=7 if vue == "semaine" else 1),
    }
    if context["vue"] == "semaine":
        context.update(await _week(session=session, day=day, chosen=chosen))
    else:
        context.update(await _day(session=session, day=day, chosen=chosen, user=user))
    return render(request, "web/agenda.html", user, context, active="agenda")


async def _day(
    *, session: Any, day: dt.date, chosen: list[Practitioner], user: Any
) -> dict[str, Any]:
    rounds = {
        r.practitioner_id: r
        for r in (await rounds_service.day_rounds(session=session, date=day)).routes
    }
    columns = []
    for practitioner in chosen:
        agenda = await agenda_service.day(
            session=session, practitioner=practitioner, date=day, actor=user
        )
        if not agenda["sessions"]:
            continue
        route = rounds.get(practitioner.id)
        for duty in agenda["sessions"]:
            if duty["kind"] != SessionKind.home_visit:
                continue
            duty["stops"] = _stops(duty, route)
            duty["map"] = (
                round_map(
                    Point(practitioner.latitude, practitioner.longitude, "C", "Cabinet"),
                    [
                        Point(s["lat"], s["lon"], str(i), f"{i}. {s['name']}")
                        for i, s in enumerate(duty["stops"], start=1)
                        if s["lat"] is not None
                    ],
                    title=f"Tournée du {practitioner.display_name}",
                )
                if duty["stops"]
                else None
            )
        columns.append({"practitioner": practitioner, "sessions": agenda["sessions"]})
    return {"columns": columns}


def _stops(duty: dict[str, Any], route: RouteOut | None) -> list[dict[str, Any]]:
    """The round in order: the published route when there is one, else the booked order."""
    by_id = {a["id"]: a for a in duty["appointments"] if a["status"] != "cancelled"}
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
    for a in by_id.values():  # not in the published round yet (booked since)
        ordered.append(_stop(a, arrival=a["planned_arrival"], window=(a["start_at"], a["end_at"])))
    return ordered


def _stop(a: dict[str, Any], *, arrival: Any, window: tuple[Any, Any], travel: Any = None) -> dict:
    patient = a["patient"] or {}
    return {
        "appointment": a,
        "name": f"{patient.get('given_name', '')} {patient.get('family_name', '')}".strip(),
        "address": ", ".join(x for x in (patient.get("address"), patient.get("commune")) if x),
        "lat": patient.get("latitude"),
        "lon": patient.get("longitude"),
        "arrival": arrival,
        "window_start": window[0],
        "window_end": window[1],
        "travel": travel,
    }


async def _week(*, session: Any, day: dt.date, chosen: list[Practitioner]) -> dict[str, Any]:
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
                if s.practitioner_id == practitioner.id and s.date == d
            ]
            cells.append({"day": d, "sessions": mine})
        rows.append({"practitioner": practitioner, "cells": cells})
    return {"week_days": days, "rows": rows}
