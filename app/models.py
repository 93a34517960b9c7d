"""Every ORM model, imported once so that Alembic and the app see the whole schema."""

from app.accounts.models import User
from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.core.db import Base
from app.patients.models import Patient
from app.practitioners.models import Absence, DutySession, Practitioner, SessionTemplate
from app.requests.models import CareRequest

__all__ = [
    "Absence",
    "Appointment",
    "AuditEvent",
    "Base",
    "CareRequest",
    "DutySession",
    "Patient",
    "Practitioner",
    "SessionTemplate",
    "User",
]
