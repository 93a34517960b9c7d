"""Retention: what the platform keeps, for how long, and what it purges or anonymises.

Sources:
- CNIL, « Référentiel relatif aux traitements de données à caractère personnel destinés
  à la gestion des cabinets médicaux et paramédicaux » (2020): data kept no longer than
  the purpose needs; the medical record itself follows the health code.
- Code de la santé publique, art. R1112-7: the medical record is kept 20 years from the
  last stay or consultation; requests and appointments belong to the patient's care
  history, so this job never purges them (counted only, ``REQUEST_RETENTION_DAYS`` 0).
- CNIL, recommandation relative à la journalisation (2021): access traces kept 6 months
  to 1 year; ``AUDIT_RETENTION_DAYS`` may not go under 183 days (6 months).

Call logs lose the caller's number and the matched patients, SMS (sent and received)
lose their text and number; audit events beyond their retention are deleted; expired
web sessions and tokens go, and so do idle login and webhook counters. ``dry_run``
counts without changing anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from fastapi import FastAPI
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AuthSession
from app.audit.models import AuditEvent
from app.core import limits
from app.core.config import Settings
from app.messaging.models import Call, InboundSms, SmsMessage
from app.requests.models import CareRequest

ERASED = ""
#: The medical record is kept 20 years after the last stay or consultation (CSP art.
#: R. 1112-7); erasure.py keeps a patient's care record that long.
MEDICAL_RECORD_YEARS = 20
#: Login and webhook counters (app/core/limits.py) idle this long are dropped.
LIMITS_KEPT = dt.timedelta(days=1)
JOB = "dataprotection.retention"
INTERVAL_S = 24 * 3600


@dataclass
class RetentionReport:
    dry_run: bool
    calls_anonymised: int
    sms_bodies_erased: int
    inbound_sms_erased: int
    audit_events_deleted: int
    sessions_deleted: int
    limits_deleted: int
    requests_past_retention: int

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


async def _count(session: AsyncSession, model: type, *conditions: ColumnElement[bool]) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    )


async def run(
    *, session: AsyncSession, settings: Settings, now: dt.datetime, dry_run: bool
) -> RetentionReport:
    days = dt.timedelta(days=1)
    calls_before = now - settings.call_log_retention_days * days
    sms_before = now - settings.sms_body_retention_days * days
    audit_before = now - settings.audit_retention_days * days
    calls = (Call.started_at < calls_before, Call.from_number.is_not(None))
    sms = (SmsMessage.requested_at < sms_before, SmsMessage.body != ERASED)
    inbound = (InboundSms.received_at < sms_before, InboundSms.body != ERASED)
    audit = (AuditEvent.at < audit_before,)
    sessions = (AuthSession.expires_at <= now,)
    counters = (limits.stale(now, LIMITS_KEPT),)
    requests_old = 0
    if settings.request_retention_days:
        requests_old = await _count(
            session,
            CareRequest,
            CareRequest.created_at < now - settings.request_retention_days * days,
        )
    report = RetentionReport(
        dry_run=dry_run,
        calls_anonymised=await _count(session, Call, *calls),
        sms_bodies_erased=await _count(session, SmsMessage, *sms),
        inbound_sms_erased=await _count(session, InboundSms, *inbound),
        audit_events_deleted=await _count(session, AuditEvent, *audit),
        sessions_deleted=await _count(session, AuthSession, *sessions),
        limits_deleted=await _count(session, limits.SharedLimit, *counters),
        requests_past_retention=requests_old,
    )
    if dry_run:
        return report
    await session.execute(
        update(Call).where(*calls).values(from_number=None, matched_patient_ids=[])
    )
    await session.execute(update(SmsMessage).where(*sms).values(body=ERASED, to_number=ERASED))
    await session.execute(
        update(InboundSms).where(*inbound).values(body=ERASED, from_number=ERASED)
    )
    await session.execute(delete(AuditEvent).where(*audit))
    await session.execute(delete(AuthSession).where(or_(*sessions)))
    await session.execute(delete(limits.SharedLimit).where(*counters))
    await session.flush()
    return report


async def periodic(app: FastAPI) -> None:
    """The daily job of ``premier-recours worker`` (registered by the wiring)."""
    state = app.state
    async with state.sessionmaker() as session, session.begin():
        await run(session=session, settings=state.settings, now=state.clock(), dry_run=False)
