"""The coordinator edits and removes the roster on /equipe: weekly templates, one-off
sessions, absences, titular/adjoint pairs and authorisation dates.

Every change is shown first with its impact (the sessions cancelled, kept or opened
again, and the appointments concerned, each with a link), then confirmed. The rules are
app/practitioners/changes.py; the impact is the change itself run in a savepoint and
rolled back, so what is shown is exactly what the confirmation does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.appointments import queries as appointments_queries
from app.core.db import SessionDep
from app.core.errors import DomainError
from app.core.timeutil import PARIS
from app.practitioners import changes
from app.practitioners import service as practitioners_service
from app.practitioners.models import PractitionerStatus
from app.ui.layout import CoordinatorUser, render, today
from app.web import forms, roster_impact
from app.web.dashboard import MODALITY_LABELS
from app.web.roster import (
    ABSENCE_FIELDS,
    SESSION_FIELDS,
    TEMPLATE_FIELDS,
    WEEKDAYS,
    _absence_in,
    _session_in,
    _template_in,
)

router = APIRouter(include_in_schema=False)

Apply = Callable[[], Awaitable[changes.Impact]]
held = appointments_queries.held_in_sessions


async def _names(session: Any) -> dict[int, str]:
    return {
        p.id: p.display_name
        for p in await practitioners_service.list_(session=session, active_only=False)
    }


async def _render(
    request: Request,
    session: Any,
    user: Any,
    ctx: dict[str, Any],
    *,
    impact: changes.Impact | None = None,
    mode: str = "",
    blocking_ids: list[int] | None = None,
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    names = await _names(session)
    lines = await roster_impact.appointment_lines(
        session, user, (impact.appointment_ids if impact else []) + (blocking_ids or [])
    )
    data = {
        **ctx,
        "mode": mode,
        "errors": errors or forms.FormErrors(),
        "impact": (
            {
                "cancelled": roster_impact.session_lines(impact.cancelled, names),
                "restored": roster_impact.session_lines(impact.restored, names),
                "kept": roster_impact.session_lines(impact.kept, names),
                "created": impact.created,
            }
            if impact is not None
            else None
        ),
        "appointments": lines,
        "blocked": bool(blocking_ids),
        "modality_labels": MODALITY_LABELS,
        "weekday_options": list(enumerate(WEEKDAYS)),
        "titular_options": [
            (p.id, p.display_name)
            for p in await practitioners_service.list_(session=session)
            if p.status == PractitionerStatus.titular
        ],
    }
    return render(
        request, "web/roster_edit.html", user, data, active="equipe", status_code=status_code
    )


async def _run(
    request: Request,
    session: Any,
    user: Any,
    ctx: dict[str, Any],
    *,
    apply: Apply,
    mode: str,
    confirmed: bool,
    done: str,
    refresh: Any,
    default_field: str = "",
) -> Any:
    """Preview (the change run in a savepoint, rolled back) or, confirmed, apply it."""
    errors = forms.FormErrors()
    try:
        if confirmed:
            async with session.begin_nested():
                await apply()
            return RedirectResponse(f"/equipe?fait={done}", status_code=303)
        savepoint = await session.begin_nested()
        try:
            impact = await apply()
        finally:
            await savepoint.rollback()
            await session.refresh(refresh)
        return await _render(request, session, user, ctx, impact=impact, mode=mode)
    except changes.RosterChangeRefused as exc:
        await session.refresh(refresh)
        forms.domain_error(exc, errors, default_field=default_field)
        return await _render(
            request,
            session,
            user,
            ctx,
            errors=errors,
            blocking_ids=exc.appointment_ids,
            status_code=409,
        )
    except DomainError as exc:
        await session.refresh(refresh)
        forms.domain_error(exc, errors, default_field=default_field)
        return await _render(
            request, session, user, ctx, errors=errors, status_code=exc.status_code
        )


def _confirmed(data: dict[str, Any]) -> bool:
    return forms.text(data, "confirmed") == "1"


# --- weekly templates ---------------------------------------------------------------------


async def _template_ctx(session: Any, template_id: int) -> tuple[Any, dict[str, Any]]:
    template = await changes.get_template(session=session, template_id=template_id)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=template.practitioner_id
    )
    ctx = {
        "what": "modele",
        "title": f"Modèle hebdomadaire de {practitioner.display_name}",
        "summary": f"{WEEKDAYS[template.weekday]} "
        f"{MODALITY_LABELS.get(template.kind, template.kind)} "
        f"{template.start_time:%H:%M}–{template.end_time:%H:%M}",
        "action": f"/equipe/modeles/{template.id}",
        "remove_action": f"/equipe/modeles/{template.id}/supprimer",
        "remove_label": "Supprimer ce modèle",
        "values": {
            "weekday": template.weekday,
            "kind": str(template.kind),
            "start_time": f"{template.start_time:%H:%M}",
            "end_time": f"{template.end_time:%H:%M}",
            "capacity": template.capacity,
            "open_to_sas": template.open_to_sas,
        },
    }
    return template, ctx


@router.get("/equipe/modeles/{template_id}", response_class=HTMLResponse)
async def template_page(
    request: Request, template_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    _template, ctx = await _template_ctx(session, template_id)
    return await _render(request, session, user, ctx)


@router.post("/equipe/modeles/{template_id}", response_class=HTMLResponse)
async def edit_template(
    request: Request, template_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    template, ctx = await _template_ctx(session, template_id)
    values: dict[str, Any] = {k: forms.text(data, k) for k in TEMPLATE_FIELDS[1:]}
    values["open_to_sas"] = forms.checked(data, "open_to_sas")
    ctx["values"] = values
    errors = forms.FormErrors()
    template_in = _template_in(values, errors)
    if errors or template_in is None:
        return await _render(request, session, user, ctx, errors=errors, status_code=422)
    settings = request.app.state.settings

    async def apply() -> changes.Impact:
        return await changes.update_template(
            session=session,
            template=template,
            template_in=template_in,
            today=today(request),
            horizon_days=settings.session_horizon_days,
            held=held,
        )

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="edit",
        confirmed=_confirmed(data),
        done="modele-modifie",
        refresh=template,
        default_field="weekday",
    )


@router.post("/equipe/modeles/{template_id}/supprimer", response_class=HTMLResponse)
async def remove_template(
    request: Request, template_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    template, ctx = await _template_ctx(session, template_id)

    async def apply() -> changes.Impact:
        return await changes.remove_template(
            session=session, template=template, today=today(request), held=held
        )

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="remove",
        confirmed=_confirmed(data),
        done="modele-supprime",
        refresh=template,
    )


# --- one-off sessions ---------------------------------------------------------------------


async def _session_ctx(session: Any, session_id: int) -> tuple[Any, dict[str, Any]]:
    duty = await changes.get_session(session=session, session_id=session_id)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=duty.practitioner_id
    )
    start, end = duty.start_at.astimezone(PARIS), duty.end_at.astimezone(PARIS)
    ctx = {
        "what": "vacation",
        "title": f"Vacation de {practitioner.display_name}",
        "summary_at": (duty.start_at, duty.end_at),
        "summary": MODALITY_LABELS.get(duty.kind, duty.kind),
        "action": f"/equipe/vacations/{duty.id}",
        "remove_action": f"/equipe/vacations/{duty.id}/supprimer",
        "remove_label": "Supprimer cette vacation",
        "values": {
            "date": start.date().isoformat(),
            "kind": str(duty.kind),
            "start_time": f"{start:%H:%M}",
            "end_time": f"{end:%H:%M}",
            "capacity": duty.capacity,
            "open_to_sas": duty.open_to_sas,
        },
    }
    return duty, ctx


@router.get("/equipe/vacations/{session_id}", response_class=HTMLResponse)
async def session_page(
    request: Request, session_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    _duty, ctx = await _session_ctx(session, session_id)
    return await _render(request, session, user, ctx)


@router.post("/equipe/vacations/{session_id}", response_class=HTMLResponse)
async def edit_session(
    request: Request, session_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    duty, ctx = await _session_ctx(session, session_id)
    values: dict[str, Any] = {k: forms.text(data, k) for k in SESSION_FIELDS[1:]}
    values["open_to_sas"] = forms.checked(data, "open_to_sas")
    ctx["values"] = values
    errors = forms.FormErrors()
    session_in = _session_in(request, values, errors)
    if errors or session_in is None:
        return await _render(request, session, user, ctx, errors=errors, status_code=422)

    async def apply() -> changes.Impact:
        return await changes.update_session(
            session=session, duty=duty, session_in=session_in, held=held
        )

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="edit",
        confirmed=_confirmed(data),
        done="vacation-modifiee",
        refresh=duty,
        default_field="date",
    )


@router.post("/equipe/vacations/{session_id}/supprimer", response_class=HTMLResponse)
async def remove_session(
    request: Request, session_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    duty, ctx = await _session_ctx(session, session_id)

    async def apply() -> changes.Impact:
        return await changes.remove_session(session=session, duty=duty, held=held)

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="remove",
        confirmed=_confirmed(data),
        done="vacation-supprimee",
        refresh=duty,
    )


# --- absences -----------------------------------------------------------------------------


async def _absence_ctx(session: Any, absence_id: int) -> tuple[Any, dict[str, Any]]:
    absence = await changes.get_absence(session=session, absence_id=absence_id)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=absence.practitioner_id
    )
    last = (absence.end_at.astimezone(PARIS) - dt.timedelta(microseconds=1)).date()
    ctx = {
        "what": "absence",
        "title": f"Absence de {practitioner.display_name}",
        "summary_days": (absence.start_at, last),
        "summary": absence.reason,
        "action": f"/equipe/absences/{absence.id}",
        "remove_action": f"/equipe/absences/{absence.id}/supprimer",
        "remove_label": "Supprimer cette absence",
        "values": {
            "start_date": absence.start_at.astimezone(PARIS).date().isoformat(),
            "end_date": last.isoformat(),
            "reason": absence.reason,
        },
    }
    return absence, ctx


@router.get("/equipe/absences/{absence_id}", response_class=HTMLResponse)
async def absence_page(
    request: Request, absence_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    _absence, ctx = await _absence_ctx(session, absence_id)
    return await _render(request, session, user, ctx)


@router.post("/equipe/absences/{absence_id}", response_class=HTMLResponse)
async def edit_absence(
    request: Request, absence_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    absence, ctx = await _absence_ctx(session, absence_id)
    values: dict[str, Any] = {k: forms.text(data, k) for k in ABSENCE_FIELDS[1:]}
    ctx["values"] = values
    errors = forms.FormErrors()
    absence_in = _absence_in(values, errors)
    if errors or absence_in is None:
        return await _render(request, session, user, ctx, errors=errors, status_code=422)

    async def apply() -> changes.Impact:
        return await changes.update_absence(
            session=session,
            absence=absence,
            absence_in=absence_in,
            booked=appointments_queries.active_between,
        )

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="edit",
        confirmed=_confirmed(data),
        done="absence-modifiee",
        refresh=absence,
        default_field="start_date",
    )


@router.post("/equipe/absences/{absence_id}/supprimer", response_class=HTMLResponse)
async def remove_absence(
    request: Request, absence_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    absence, ctx = await _absence_ctx(session, absence_id)

    async def apply() -> changes.Impact:
        return await changes.remove_absence(session=session, absence=absence)

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="remove",
        confirmed=_confirmed(data),
        done="absence-supprimee",
        refresh=absence,
    )
