"""Retention (purge or anonymise past their duration, dry run first) and the audit trail
exported for the DPO (issue 20, item 6)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cli import main as cli
from app.dataprotection import retention
from app.messaging.models import (
    Call,
    CallOutcome,
    InboundAction,
    InboundSms,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from tests.factories import make_patient


async def _old_and_new(db, now: dt.datetime) -> None:
    patient = await make_patient(db)
    for n, age in enumerate((400, 10)):
        at = now - dt.timedelta(days=age)
        db.add(
            Call(
                call_sid=f"CA{n}",
                from_number="+33639980001",
                started_at=at,
                outcome=list(CallOutcome)[0],
                matched_patient_ids=[patient.id],
            )
        )
        db.add(
            SmsMessage(
                patient_id=patient.id,
                kind=SmsKind.booking_confirmation,
                to_number="+33639980001",
                body="Bonjour Jeanne Dupont, votre rendez-vous…",
                outbox_key=f"k{n}",
                requested_at=at,
                status=SmsStatus.sent,
            )
        )
        db.add(
            InboundSms(
                message_sid=f"SM{n}",
                from_number="+33639980001",
                body="ANNULER",
                received_at=at,
                intent="cancel",
                action=list(InboundAction)[0],
            )
        )
        db.add(
            AuditEvent(
                at=at, username="secretaire", role="secretary", action="read", entity_type="p"
            )
        )
    await db.commit()


async def test_retention_dry_run_then_run(app, client, world, db, clock, database_url, capsys):
    now = clock()
    await _old_and_new(db, now)
    response = await client.get("/api/data-protection/retention", headers=world.coordinator)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert report["calls_anonymised"] == 1 and report["sms_bodies_erased"] == 1
    assert report["inbound_sms_erased"] == 1 and report["audit_events_deleted"] == 1
    assert (
        await client.get("/api/data-protection/retention", headers=world.secretary)
    ).status_code == 403

    # The command line: a dry run changes nothing…
    await db.commit()
    assert (
        await asyncio.to_thread(cli, ["--database-url", database_url, "retention", "--dry-run"])
        == 0
    )
    assert "simulation" in capsys.readouterr().out
    assert await db.scalar(select(func.count()).where(SmsMessage.body != "")) == 2
    await db.commit()
    # …the real run (on the app's clock) anonymises the old rows only.
    async with app.state.sessionmaker() as session, session.begin():
        done = await retention.run(
            session=session, settings=app.state.settings, now=now, dry_run=False
        )
    assert done.sms_bodies_erased == 1
    bodies = sorted((await db.scalars(select(SmsMessage.body))).all())
    assert bodies == ["", "Bonjour Jeanne Dupont, votre rendez-vous…"]
    numbers = (await db.scalars(select(Call.from_number).order_by(Call.started_at))).all()
    assert numbers == [None, "+33639980001"]
    assert (
        await db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.at < now - dt.timedelta(days=365))
        )
        == 0
    )
    await db.commit()


async def test_audit_export_json_and_csv_for_the_dpo(client, world, db, clock):
    await _old_and_new(db, clock())
    params = {
        "from": (clock().date() - dt.timedelta(days=30)).isoformat(),
        "to": clock().date().isoformat(),
    }
    response = await client.get(
        "/api/data-protection/audit-export", params=params, headers=world.coordinator
    )
    assert response.status_code == 200, response.text
    events = response.json()
    assert [e["action"] for e in events if e["username"] == "secretaire"] == ["read"]
    response = await client.get(
        "/api/data-protection/audit-export",
        params={**params, "format": "csv"},
        headers=world.coordinator,
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert any(r["action"] == "audit_export" for r in rows)  # the first export is traced
    refused = await client.get(
        "/api/data-protection/audit-export", params=params, headers=world.secretary
    )
    assert refused.status_code == 403
