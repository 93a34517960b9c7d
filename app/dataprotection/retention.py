"""Retention: what the platform keeps, for how long, and what it purges or anonymises.

Each default, with the text it was checked against (issue 20, item 6; read 2026-12-07):

- Care record (requests, appointments, outcomes and acts billed) — kept, never purged by
  this job; a patient's erasure keeps it ``MEDICAL_RECORD_YEARS`` (erasure.py):
  Code de la santé publique art. R. 1112-7: « conservé pendant une durée de vingt ans à
  compter de la date du dernier séjour … ou de la dernière consultation externe »,
  prorogé jusqu'au 28e anniversaire, 10 ans après un décès survenu moins de 10 ans après
  le dernier passage (text quoted by macsf.fr and relyens.eu). Written for établissements
  de santé; for libéral practice the CNOM advises the same 20 years (onpp.fr), and the CNIL
  référentiel « durées de conservation — santé hors recherche » (juillet 2020) gives, for
  cabinets médicaux, 5 ans en base active + 15 ans d'archivage intermédiaire from the last
  intervention on the record (ordremk.fr, thema-radiologie.fr), i.e. 20 years as well.
  ``REQUEST_RETENTION_DAYS`` (0) only counts requests past a duration, for the DPO.
- Audit trail — ``AUDIT_RETENTION_DAYS`` 365, never under 183: CNIL, recommandation
  relative aux mesures de journalisation (délibération n° 2021-122, JO du 30 octobre
  2021): « entre six mois et un an » (nextinpact.com, commu-net.fr citing cnil.fr).
- Call log (caller's number, matched patients) — ``CALL_LOG_RETENTION_DAYS`` 365:
  **à vérifier**. No text found for a care service's log of inbound callers. Nearby
  texts, not applicable as such: CNIL délibération n° 2014-474 (recordings of calls at
  work: « pas … au-delà de six mois ») — the platform records no audio; CPCE art. L. 34-1
  (operators' traffic data, one year).
- SMS texts and numbers (sent and received) — ``SMS_BODY_RETENTION_DAYS`` 90: **à
  vérifier** (no published duration found; the SMS carries the appointment, which the
  care record keeps anyway).
- Acts billed (erasure.py keeps them with the care record): pièces comptables, 10 ans,
  Code de commerce art. L. 123-22 — **à vérifier** (not checked; the 20 years above are
  longer and apply first).

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
#: The medical record is kept 20 years after the last stay or consultation, at least
#: until the patient's 28th birthday (CSP art. R. 1112-7); erasure.py keeps it that long.
MEDICAL_RECORD_YEARS = 20
MEDICAL_RECORD_UNTIL_AGE = 28


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def care_record_kept_until(last_care: dt.date, birth_date: dt.date) -> dt.date:
    """Until when a care record must be kept (CSP art. R. 1112-7). The rule for a patient
    who died (10 years from the death) is not applied: deaths are not recorded here."""
    return max(
        _add_years(last_care, MEDICAL_RECORD_YEARS),
        _add_years(birth_date, MEDICAL_RECORD_UNTIL_AGE),
    )


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
