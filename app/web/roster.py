"""Roster (coordinator): practitioners and pairings, weekly templates, absences, sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.agenda import service as agenda_service
from app.appointments import billing
from app.core.db import SessionDep
from app.core.errors import DomainError
from app.core.timeutil import PARIS, at, day_bounds
from app.practitioners import service as practitioners_service
from app.practitioners.models import OWN_NAME_STATUSES
from app.practitioners.schemas import AbsenceIn, SessionIn, SessionTemplateIn
from app.ui.layout import CoordinatorUser, render, today
from app.web import forms, roster_impact
from app.web.dashboard import MODALITY_LABELS

router = APIRouter(include_in_schema=False)


def _by_practitioner(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row.practitioner_id, []).append(row)
    return out


WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
SESSION_FIELDS = ("practitioner_id", "date", "kind", "start_time", "end_time", "capacity")
TEMPLATE_FIELDS = ("practitioner_id", "weekday", "kind", "start_time", "end_time", "capacity")
ABSENCE_FIELDS = ("practitioner_id", "start_date", "end_date", "reason")


async def _page(
    request: Request,
    session: Any,
    user: Any,
    *,
    form: str = "",
    errors: forms.FormErrors | None = None,
    values: dict[str, Any] | None = None,
    flash: str | None = None,
    blocking: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    day = today(request)
    practitioners = list(await practitioners_service.list_(session=session))
    start = day_bounds(day)[0]
    sessions = await practitioners_service.list_sessions(
        session=session,
        practitioner_ids=None,
        start=start,
        end=day_bounds(day + dt.timedelta(days=6))[1],
    )
    by_id = {p.id: p for p in practitioners}
    days = [day + dt.timedelta(days=i) for i in range(7)]
    grid = [
        {
            "practitioner": p,
            "cells": [
                [s for s in sessions if s.practitioner_id == p.id and s.date == d] for d in days
            ],
        }
        for p in practitioners
    ]
    return render(
        request,
        "web/roster.html",
        user,
        {
            "day": day,
            "titulars": [p for p in practitioners if p.status in OWN_NAME_STATUSES],
            "adjoints_of": {
                p.id: [a for a in practitioners if a.titular_id == p.id] for p in practitioners
            },
            "practitioners": practitioners,
            "by_id": by_id,
            "templates": _by_practitioner(
                await practitioners_service.list_templates(session=session)
            ),
            "absences": _by_practitioner(
                await practitioners_service.list_absences(session=session, since=start)
            ),
            "days": days,
            "grid": grid,
            "weekdays": WEEKDAYS,
            "weekday_options": list(enumerate(WEEKDAYS)),
            "practitioner_options": [(p.id, p.display_name) for p in practitioners],
            "modality_labels": MODALITY_LABELS,
            "form": form,
            "errors": errors or forms.FormErrors(),
            "values": values or {},
            "flash": flash,
            "blocking": blocking or [],
            "mcg_on_every_platform_act": (
                await billing.table_with_settings(session, request.app.state.tariffs)
            ).mcg_on_every_platform_act,
        },
        active="equipe",
        status_code=status_code,
    )


@router.get("/equipe", response_class=HTMLResponse)
async def roster(
    request: Request, session: SessionDep, user: CoordinatorUser, fait: str = ""
) -> Any:
    flash = {
        "vacation": "Vacation ajoutée.",
        "modele": "Modèle hebdomadaire ajouté.",
        "absence": "Absence enregistrée : les vacations couvertes sont annulées.",
        "facturation": "Règle de facturation de la MCG enregistrée.",
        **roster_impact.DONE,
    }.get(fait)
    return await _page(request, session, user, flash=flash)


async def _practitioner(session: Any, values: dict[str, Any], errors: forms.FormErrors) -> Any:
    try:
        return await practitioners_service.get(
            session=session, practitioner_id=int(values["practitioner_id"])
        )
    except (ValueError, DomainError):
        errors.add("practitioner_id", "Choisissez un médecin.")
        return None


def _times(values: dict[str, Any], errors: forms.FormErrors) -> None:
    for key in ("start_time", "end_time"):
        if not values.get(key):
            errors.add(key, "Ce champ est obligatoire.")


def _session_in(
    request: Request, values: dict[str, Any], errors: forms.FormErrors
) -> SessionIn | None:
    day = forms.parse_date(values["date"])
    if values["date"] and day is None:
        errors.add("date", "Date invalide : utilisez le format jj/mm/aaaa.")
    _times(values, errors)
    session_in = forms.validate(
        SessionIn,
        {
            "date": day or values["date"],
            "kind": values["kind"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "capacity": values["capacity"] or None,
            "open_to_sas": values["open_to_sas"],
        },
        errors,
        whole_form_field="end_time",
    )
    if session_in is not None and session_in.date < today(request):
        errors.add("date", "La date est déjà passée.")
    return session_in


@router.post("/equipe/vacations", response_class=HTMLResponse)
async def add_session(request: Request, session: SessionDep, user: CoordinatorUser) -> Any:
    data = await forms.read_form(request)
    values: dict[str, Any] = {k: forms.text(data, k) for k in SESSION_FIELDS}
    values["open_to_sas"] = forms.checked(data, "open_to_sas")
    errors = forms.FormErrors()
    practitioner = await _practitioner(session, values, errors)
    session_in = _session_in(request, values, errors)
    if not errors and practitioner is not None and session_in is not None:
        try:
            async with session.begin_nested():
                await practitioners_service.add_session(
                    session=session, practitioner=practitioner, session_in=session_in
                )
            return RedirectResponse("/equipe?fait=vacation", status_code=303)
        except DomainError as exc:
            forms.domain_error(exc, errors, default_field="date")
    return await _page(
        request, session, user, form="vacation", errors=errors, values=values, status_code=422
    )


def _template_in(values: dict[str, Any], errors: forms.FormErrors) -> SessionTemplateIn | None:
    _times(values, errors)
    return forms.validate(
        SessionTemplateIn,
        {
            "weekday": values["weekday"],
            "kind": values["kind"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "capacity": values["capacity"] or None,
            "open_to_sas": values["open_to_sas"],
        },
        errors,
        whole_form_field="end_time",
    )


@router.post("/equipe/modeles", response_class=HTMLResponse)
async def add_template(request: Request, session: SessionDep, user: CoordinatorUser) -> Any:
    data = await forms.read_form(request)
    values: dict[str, Any] = {k: forms.text(data, k) for k in TEMPLATE_FIELDS}
    values["open_to_sas"] = forms.checked(data, "open_to_sas")
    errors = forms.FormErrors()
    practitioner = await _practitioner(session, values, errors)
    template_in = _template_in(values, errors)
    if not errors and practitioner is not None and template_in is not None:
        try:
            async with session.begin_nested():
                await practitioners_service.add_template(
                    session=session,
                    practitioner=practitioner,
                    template_in=template_in,
                    today=today(request),
                    horizon_days=request.app.state.settings.session_horizon_days,
                )
            return RedirectResponse("/equipe?fait=modele", status_code=303)
        except DomainError as exc:
            forms.domain_error(exc, errors, default_field="weekday")
    return await _page(
        request, session, user, form="modele", errors=errors, values=values, status_code=422
    )


def _absence_in(values: dict[str, Any], errors: forms.FormErrors) -> AbsenceIn | None:
    first, last = forms.parse_date(values["start_date"]), forms.parse_date(values["end_date"])
    for key, parsed in (("start_date", first), ("end_date", last)):
        if parsed is None:
            errors.add(
                key,
                "Date invalide : utilisez le format jj/mm/aaaa."
                if values[key]
                else "Ce champ est obligatoire.",
            )
    absence_in = None
    if first and last:
        absence_in = forms.validate(
            AbsenceIn,
            {
                "start_at": at(first, dt.time(0), PARIS),
                "end_at": at(last + dt.timedelta(days=1), dt.time(0), PARIS),
                "reason": values["reason"],
            },
            errors,
            whole_form_field="end_date",
        )
    return absence_in


@router.post("/equipe/absences", response_class=HTMLResponse)
async def add_absence(request: Request, session: SessionDep, user: CoordinatorUser) -> Any:
    data = await forms.read_form(request)
    values: dict[str, Any] = {k: forms.text(data, k) for k in ABSENCE_FIELDS}
    errors = forms.FormErrors()
    practitioner = await _practitioner(session, values, errors)
    absence_in = _absence_in(values, errors)
    blocking: list[dict[str, Any]] = []
    if not errors and practitioner is not None and absence_in is not None:
        try:
            async with session.begin_nested():
                await agenda_service.add_absence(
                    session=session, practitioner=practitioner, absence_in=absence_in
                )
            return RedirectResponse("/equipe?fait=absence", status_code=303)
        except DomainError as exc:
            forms.domain_error(exc, errors, default_field="start_date")
            # « 2 rendez-vous sont déjà pris »: which ones, with a link to each.
            blocking = await roster_impact.appointment_lines(
                session, user, exc.extra.get("appointment_ids", [])
            )
    return await _page(
        request,
        session,
        user,
        form="absence",
        errors=errors,
        values=values,
        blocking=blocking,
        status_code=422,
    )


@router.post("/equipe/facturation", response_class=HTMLResponse)
async def set_billing(request: Request, session: SessionDep, user: CoordinatorUser) -> Any:
    """The coordinator's MCG choice (billing.py): the seed's wish, off by default."""
    data = await forms.read_form(request)
    await billing.set_mcg_on_every_platform_act(
        session,
        value=forms.text(data, "mcg_on_every_platform_act") == "on",
        user_id=user.id,
        now=request.app.state.clock(),
    )
    return RedirectResponse("/equipe?fait=facturation", status_code=303)
