"""The coordinator reads a patient's access history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app.accounts.dependencies import require_roles
from app.accounts.models import Role
from app.audit import service as audit_service
from app.core.db import SessionDep
from app.core.timeutil import ParisDatetime

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    at: ParisDatetime
    username: str
    role: str
    action: str
    entity_type: str
    entity_id: int | None
    patient_id: int | None
    detail: dict[str, Any]


@router.get(
    "/patients/{patient_id}",
    response_model=list[AuditEventOut],
    dependencies=[require_roles(Role.coordinator, Role.admin)],
)
async def patient_access_history(patient_id: int, session: SessionDep) -> Any:
    return await audit_service.list_for_patient(session=session, patient_id=patient_id)
