"""For the DPO (coordination, admin): the audit trail exported (JSON or CSV), the retention
report, a patient's data export and erasure on request."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.accounts.dependencies import require_roles
from app.accounts.models import Role, User
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.core.db import SessionDep
from app.dataprotection import erasure, export, retention

router = APIRouter(prefix="/api/data-protection", tags=["data protection"])
COLUMNS = (
    "id",
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "entity_type",
    "entity_id",
    "patient_id",
)


@router.get("/audit-export", response_class=Response)
async def audit_export(
    session: SessionDep,
    actor: Annotated[User, require_roles(Role.coordinator, Role.admin)],
    start: Annotated[dt.date, Query(alias="from", ge=dt.date(2000, 1, 1))],
    end: Annotated[dt.date, Query(alias="to", le=dt.date(2100, 1, 1))],
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Every audit event from ``from`` to ``to`` (inclusive); the export itself is audited."""
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    rows = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.at >= since, AuditEvent.at < until)
            .order_by(AuditEvent.id)
        )
    ).all()
    records = [{**{c: getattr(e, c) for c in COLUMNS}, "at": e.at.isoformat()} for e in rows]
    await audit_service.record(
        session=session,
        actor=actor,
        action="audit_export",
        entity_type="audit",
        detail={"from": start.isoformat(), "to": end.isoformat(), "events": len(records)},
    )
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(records)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="journal-acces.csv"'},
        )
    return Response(json.dumps(records, ensure_ascii=False), media_type="application/json")


@router.get("/retention", response_model=dict[str, int | bool])
async def retention_report(
    request: Request,
    session: SessionDep,
    actor: Annotated[User, require_roles(Role.coordinator, Role.admin)],
) -> Any:
    """What the next retention run would purge or anonymise (dry run: nothing changes)."""
    report = await retention.run(
        session=session,
        settings=request.app.state.settings,
        now=request.app.state.clock(),
        dry_run=True,
    )
    return report.as_dict()


class ErasureIn(BaseModel):
    """Erase a patient's data; what the law requires is kept (the answer says which)."""

    confirm: bool = Field(
        default=False, description="Confirmer l'effacement, définitif (sinon : 409)"
    )
    complete: bool = Field(
        default=False,
        description=(
            "Supprimer aussi le dossier de soins : refusé (409 erasure_forbidden) tant que "
            "sa durée de conservation (CSP art. R. 1112-7) court"
        ),
    )


PatientId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/patients/{patient_id}/export", response_class=Response)
async def patient_export(
    patient_id: PatientId,
    request: Request,
    session: SessionDep,
    actor: Annotated[User, require_roles(Role.coordinator, Role.admin)],
) -> Response:
    """Everything held about one patient, as JSON (RGPD art. 15 and 20); audited."""
    document = await export.export(
        session=session, patient_id=patient_id, now=request.app.state.clock()
    )
    await audit_service.record(
        session=session,
        actor=actor,
        action="patient_export",
        entity_type="patient",
        entity_id=patient_id,
        patient_id=patient_id,
    )
    return Response(
        json.dumps(document, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="patient-{patient_id}.json"'},
    )


@router.post(
    "/patients/{patient_id}/erasure",
    response_model=dict[str, Any],
    responses={409: {"description": "Non confirmé, rendez-vous à venir, ou dossier à conserver"}},
)
async def patient_erasure(
    patient_id: PatientId,
    erasure_in: ErasureIn,
    request: Request,
    session: SessionDep,
    actor: Annotated[User, require_roles(Role.coordinator, Role.admin)],
) -> Any:
    """Erase a patient's data on request (RGPD art. 17), keeping what the law requires:
    the answer lists what was erased and what is kept, with the reason and until when."""
    report = await erasure.erase(
        session=session,
        patient_id=patient_id,
        now=request.app.state.clock(),
        confirm=erasure_in.confirm,
        complete=erasure_in.complete,
    )
    await audit_service.record(
        session=session,
        actor=actor,
        action="patient_erasure",
        entity_type="patient",
        entity_id=patient_id,
        patient_id=None if report.deleted else patient_id,
        detail={"deleted": report.deleted, "erased": {e["data"]: e["rows"] for e in report.erased}},
    )
    return report.as_dict()
