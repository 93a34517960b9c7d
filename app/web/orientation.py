"""Orientation (secretariat): cases by status, the batch of proposals, answers after the call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.db import SessionDep
from app.core.errors import DomainError
from app.orientation import batch as batch_service
from app.orientation import listing
from app.orientation import service as orientation_service
from app.orientation.config import match_parameters
from app.orientation.models import STATUS_LABELS, CaseStatus, CloseReason
from app.orientation.service import VULNERABILITY_LABELS
from app.ui.layout import SecretariatUser, render
from app.web import forms

router = APIRouter(include_in_schema=False)

# What the page shows by default: the cases someone still has to act on, in working order.
OPEN_STATUSES = (CaseStatus.proposed, CaseStatus.accepted, CaseStatus.to_orient, CaseStatus.refused)
ANSWERS = {
    "accepted": "Accepte ce médecin",
    "refused": "Refuse ce médecin",
    "unreachable": "Injoignable : clore le dossier",
}
CONSENT_LABELS = {"unknown": "à recueillir", "given": "donné", "refused": "refusé"}
FLASHES = {
    "reponse": "Réponse enregistrée.",
    "declaration": "Déclaration de médecin traitant enregistrée.",
    "consentement": "Consentement enregistré.",
}
NOTE_MAX = 500
# The fields each row's form shows its errors beside; any other error goes atop the row.
ROW_FIELDS = {
    "proposed": ("answer", "note"),
    "accepted": ("declaration",),
    "to_orient": ("given",),
    "refused": ("given",),
}
_BATCH_KEY = "orientation_batch"


def _statuses(statut: str) -> tuple[CaseStatus, ...]:
    try:
        return (CaseStatus(statut),)
    except ValueError:
        return OPEN_STATUSES


async def _page(
    request: Request,
    session: Any,
    user: Any,
    *,
    statut: str = "",
    flash: str | None = None,
    batch: dict[str, Any] | None = None,
    case_id: int | None = None,
    errors: forms.FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = request.app.state.clock()
    sections: list[dict[str, Any]] = [
        {
            "status": status,
            "label": STATUS_LABELS[status],
            "cases": await listing.list_cases(
                session=session, actor=user, now=now, status=status, limit=500
            ),
        }
        for status in _statuses(statut)
    ]
    return render(
        request,
        "orientation/cases.html",
        user,
        {
            "sections": sections,
            "statut": statut if len(sections) == 1 else "",
            "status_filters": [
                ("", "En cours"),
                *((s.value, STATUS_LABELS[s]) for s in CaseStatus),
            ],
            "vulnerability_labels": VULNERABILITY_LABELS,
            "consent_labels": CONSENT_LABELS,
            "answers": ANSWERS,
            "flash": flash,
            "batch": batch,
            "case_id": case_id,
            "errors": errors or forms.FormErrors(),
            "values": values or {},
            "error_shown": any(c.id == case_id for s in sections for c in s["cases"]),
            "row_fields": ROW_FIELDS,
            "note_max": NOTE_MAX,
        },
        active="orientation",
        status_code=status_code,
    )


def _back(data: dict[str, Any], done: str, case_id: int | None = None) -> RedirectResponse:
    statut = forms.text(data, "statut")
    query = f"?fait={done}" + (f"&statut={statut}" if statut in set(CaseStatus) else "")
    anchor = f"#dossier-{case_id}" if case_id else ""
    return RedirectResponse(f"/orientation{query}{anchor}", status_code=303)


@router.get("/orientation", response_class=HTMLResponse)
async def orientation_page(
    request: Request, session: SessionDep, user: SecretariatUser, statut: str = "", fait: str = ""
) -> Any:
    batch = request.session.pop(_BATCH_KEY, None) if fait == "lot" else None
    return await _page(request, session, user, statut=statut, flash=FLASHES.get(fait), batch=batch)


@router.post("/orientation/lot", response_class=HTMLResponse)
async def propose_batch(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    """« Proposer des médecins traitants » for every waiting patient who consented."""
    data = await forms.read_form(request)
    batch, unmatched = await batch_service.propose_batch(
        session=session,
        actor=user,
        now=request.app.state.clock(),
        params=match_parameters(request.app.state.orientation_settings),
    )
    reasons: dict[str, int] = {}
    for _case_id, reason, _code in unmatched:
        reasons[reason] = reasons.get(reason, 0) + 1
    # Counts and reason texts only (no patient identity) in the session cookie.
    request.session[_BATCH_KEY] = {
        "id": batch.id,
        "waiting": batch.waiting,
        "proposed": batch.proposed,
        "unmatched": batch.unmatched,
        "reasons": sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:10],
    }
    return _back(data, "lot")


@router.post("/orientation/{case_id}/reponse", response_class=HTMLResponse)
async def record_answer(
    request: Request, case_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """The patient's answer after the call: accepts, refuses, or could not be reached."""
    data = await forms.read_form(request)
    values = {"answer": forms.text(data, "answer"), "note": forms.text(data, "note")}
    errors = forms.FormErrors()
    if values["answer"] not in ANSWERS:
        errors.add("answer", "Choisissez la réponse du patient.")
    if len(values["note"]) > NOTE_MAX:
        errors.add("note", f"Texte trop long ({NOTE_MAX} caractères au plus).")
    if not errors:
        now = request.app.state.clock()
        note = values["note"] or None
        try:
            async with session.begin_nested():
                if values["answer"] == "unreachable":
                    await orientation_service.close_case(
                        session=session,
                        case_id=case_id,
                        reason=CloseReason.unreachable,
                        note=note,
                        actor=user,
                        now=now,
                    )
                else:
                    await orientation_service.record_answer(
                        session=session,
                        case_id=case_id,
                        accepted=values["answer"] == "accepted",
                        note=note,
                        actor=user,
                        now=now,
                        channel=request.app.state.orientation_settings.notify_channel,
                    )
            return _back(data, "reponse", case_id)
        except DomainError as exc:
            forms.domain_error(exc, errors, default_field="answer")
    return await _page(
        request,
        session,
        user,
        statut=forms.text(data, "statut"),
        case_id=case_id,
        errors=errors,
        values=values,
        status_code=422,
    )


@router.post("/orientation/{case_id}/declaration", response_class=HTMLResponse)
async def declare(
    request: Request, case_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """The médecin traitant declaration is done (the patient file follows)."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    try:
        async with session.begin_nested():
            await orientation_service.declare(
                session=session, case_id=case_id, actor=user, now=request.app.state.clock()
            )
        return _back(data, "declaration", case_id)
    except DomainError as exc:
        forms.domain_error(exc, errors, default_field="declaration")
    return await _page(
        request,
        session,
        user,
        statut=forms.text(data, "statut"),
        case_id=case_id,
        errors=errors,
        status_code=409,
    )


@router.post("/orientation/{case_id}/consentement", response_class=HTMLResponse)
async def consent(
    request: Request, case_id: int, session: SessionDep, user: SecretariatUser
) -> Any:
    """The patient agrees (or not) to be oriented toward a médecin traitant."""
    data = await forms.read_form(request)
    errors = forms.FormErrors()
    given = forms.text(data, "given")
    if given not in ("oui", "non"):
        errors.add("given", "Indiquez si le patient accepte d'être orienté.")
    else:
        try:
            async with session.begin_nested():
                await orientation_service.set_consent(
                    session=session,
                    case_id=case_id,
                    given=given == "oui",
                    actor=user,
                    now=request.app.state.clock(),
                )
            return _back(data, "consentement", case_id)
        except DomainError as exc:
            forms.domain_error(exc, errors, default_field="given")
    return await _page(
        request,
        session,
        user,
        statut=forms.text(data, "statut"),
        case_id=case_id,
        errors=errors,
        status_code=422,
    )
