"""The audit trail offers its writer to the accounts package (below it in the import graph)."""

from __future__ import annotations

from fastapi import FastAPI

from app.audit import service as audit_service
from app.core.config import Settings


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.record_account_event = audit_service.record
