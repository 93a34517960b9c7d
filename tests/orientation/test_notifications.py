"""The GP is told through the outbox: SMS, e-mail, or a failure the coordinator sees."""

from __future__ import annotations

from sqlalchemy import select

from app.orientation.notifications import TOPIC
from app.outbox import service as outbox_service
from app.outbox.models import OutboxMessage
from app.outbox.worker import OutboxWorker


async def _queue(app, clock, key: str, **payload) -> None:
    body = {"subject": "Nouveau patient orienté vers vous (ORI-1)", "body": "Réf. ORI-1", **payload}
    async with app.state.sessionmaker() as session, session.begin():
        await outbox_service.enqueue(
            session=session, topic=TOPIC, key=key, payload=body, now=clock()
        )


async def test_sms_email_and_missing_contact(app, clock, db, capsys):
    await _queue(app, clock, "sms", channel="sms", to="+33639980090")
    await _queue(app, clock, "mail", channel="email", to="cabinet@example.invalid")
    await _queue(app, clock, "none", channel="sms", to=None)
    await OutboxWorker(app).drain()
    sent = app.state.telephony.messages_to("+33639980090")  # console provider (default)
    assert [m.body for m in sent] == ["Réf. ORI-1"]
    assert "[E-mail → cabinet@example.invalid]" in capsys.readouterr().out
    rows = {
        m.key: (str(m.status), m.last_error)
        for m in (await db.scalars(select(OutboxMessage))).all()
    }
    assert rows["sms"] == ("sent", None) and rows["mail"] == ("sent", None)
    assert rows["none"][0] == "failed" and "Aucun contact" in rows["none"][1]
