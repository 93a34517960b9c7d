"""No patient data in access logs; the demo territory is what the README promises."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select

from app.accounts.models import User
from app.core.logging import RedactQueryFilter
from app.demo import seed as demo_seed
from app.practitioners.models import DutySession, Practitioner, PractitionerStatus


def test_access_log_drops_the_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/patients?name=dupont&birth_date=1980-05-17", "1.1", 200),
        None,
    )
    assert RedactQueryFilter().filter(record)
    message = record.getMessage()
    assert "/api/patients" in message and "dupont" not in message and "1980" not in message


async def test_demo_territory(db, clock):
    today = clock().date()
    assert await demo_seed.seed(session=db, today=today, horizon_days=14) is True
    await db.commit()
    assert await demo_seed.seed(session=db, today=today) is False  # once only
    practitioners = (await db.scalars(select(Practitioner))).all()
    titulars = [p for p in practitioners if p.status == PractitionerStatus.titular]
    adjoints = [p for p in practitioners if p.status == PractitionerStatus.adjoint]
    assert (len(titulars), len(adjoints)) == (6, 5)
    assert {a.titular_id for a in adjoints} <= {t.id for t in titulars}
    assert len({a.titular_id for a in adjoints}) == 5  # each adjoint with its own titular
    assert {p.commune_insee for p in practitioners} == {"94016", "94038", "94034", "94021", "94065"}
    assert all(p.rpps.startswith("99") and len(p.rpps) == 11 for p in practitioners)
    usernames = set((await db.scalars(select(User.username))).all())
    assert {"secretaire", "coordination", "regulateur", "dr.martin", "dr.guerin"} <= usernames
    assert len(usernames) == 14
    assert all((await db.scalars(select(User.demo_only))).all())
    sessions = (await db.scalars(select(DutySession))).all()
    hours = {
        (s.kind, s.start_at.astimezone(dt.timezone(dt.timedelta(hours=1))).time()) for s in sessions
    }
    assert hours == {("home_visit", dt.time(10)), ("teleconsultation", dt.time(14))}
    assert all(s.date.weekday() < 6 for s in sessions)  # Monday to Saturday
    assert all(s.open_to_sas == (s.kind == "teleconsultation") for s in sessions)
    per_day = await db.scalar(select(func.count(DutySession.id)).where(DutySession.date == today))
    assert per_day == 22  # 11 GPs × (visits + teleconsultations)
