"""The audit trail exported for the DPO (JSON or CSV), and the retention report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.dependencies import require_roles
from app.accounts.models import Role, User
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.core.db import SessionDep
from app.dataprotection import retention

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
