"""The coordinator edits a titular/adjoint pair on /equipe: another titular, other
authorisation dates, or the adjoint removed; the impact first, then the confirmation
(the same flow as app/web/roster_edit.py, the rules in app/practitioners/pairs.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core.db import SessionDep
from app.core.errors import NotFound
from app.practitioners import changes, pairs
from app.practitioners import service as practitioners_service
from app.practitioners.models import PractitionerStatus
from app.ui.layout import CoordinatorUser, today
from app.web import forms
from app.web.roster_edit import _confirmed, _render, _run, held

router = APIRouter(include_in_schema=False)


async def _adjoint_ctx(session: Any, practitioner_id: int) -> tuple[Any, dict[str, Any]]:
    adjoint = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    if adjoint.status != PractitionerStatus.adjoint or not adjoint.active:
        raise NotFound(f"Médecin adjoint n°{practitioner_id} introuvable.")
    ctx = {
        "what": "adjoint",
        "title": f"Rattachement de {adjoint.display_name} (adjoint)",
        "summary": "",
        "action": f"/equipe/adjoints/{adjoint.id}",
        "remove_action": f"/equipe/adjoints/{adjoint.id}/retirer",
        "remove_label": "Retirer cet adjoint de l'équipe",
        "values": {
            "titular_id": adjoint.titular_id or "",
            "authorisation_start": (
                adjoint.authorisation_start.isoformat() if adjoint.authorisation_start else ""
            ),
            "authorisation_end": (
                adjoint.authorisation_end.isoformat() if adjoint.authorisation_end else ""
            ),
        },
    }
    return adjoint, ctx


@router.get("/equipe/adjoints/{practitioner_id}", response_class=HTMLResponse)
async def adjoint_page(
    request: Request, practitioner_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    _adjoint, ctx = await _adjoint_ctx(session, practitioner_id)
    return await _render(request, session, user, ctx)


@router.post("/equipe/adjoints/{practitioner_id}", response_class=HTMLResponse)
async def edit_adjoint(
    request: Request, practitioner_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    adjoint, ctx = await _adjoint_ctx(session, practitioner_id)
    values = {
        k: forms.text(data, k) for k in ("titular_id", "authorisation_start", "authorisation_end")
    }
    ctx["values"] = values
    errors = forms.FormErrors()
    first = forms.parse_date(values["authorisation_start"])
    last = forms.parse_date(values["authorisation_end"])
    for key, parsed in (("authorisation_start", first), ("authorisation_end", last)):
        if parsed is None:
            errors.add(
                key,
                "Date invalide : utilisez le format jj/mm/aaaa."
                if values[key]
                else "Ce champ est obligatoire.",
            )
    if not values["titular_id"].isdigit():
        errors.add("titular_id", "Choisissez le médecin titulaire.")
    if errors or first is None or last is None:
        return await _render(request, session, user, ctx, errors=errors, status_code=422)
    settings = request.app.state.settings

    async def apply() -> changes.Impact:
        return await pairs.update_pair(
            session=session,
            adjoint=adjoint,
            titular_id=int(values["titular_id"]),
            authorisation_start=first,
            authorisation_end=last,
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
        done="adjoint-modifie",
        refresh=adjoint,
        default_field="authorisation_end",
    )


@router.post("/equipe/adjoints/{practitioner_id}/retirer", response_class=HTMLResponse)
async def remove_adjoint(
    request: Request, practitioner_id: int, session: SessionDep, user: CoordinatorUser
) -> Any:
    data = await forms.read_form(request)
    adjoint, ctx = await _adjoint_ctx(session, practitioner_id)

    async def apply() -> changes.Impact:
        return await pairs.remove_adjoint(
            session=session, adjoint=adjoint, today=today(request), held=held
        )

    return await _run(
        request,
        session,
        user,
        ctx,
        apply=apply,
        mode="remove",
        confirmed=_confirmed(data),
        done="adjoint-retire",
        refresh=adjoint,
    )
