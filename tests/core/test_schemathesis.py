"""Schemathesis over the whole OpenAPI, every role and no token: no 500, answers as documented.

Bounded so the suite stays fast: a fixed seed (derandomized), a few examples per operation,
each example sent once per identity (secretary, coordinator, regulator, GP, no token) to
the app of tests/conftest.py (ASGI, real database on SQLite or PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.accounts.models import Role
from app.core.config import Settings
from app.core.timeutil import PARIS
from app.main import create_app
from tests.factories import add_week, make_patient, make_practitioner, make_user, token

# The schema does not depend on the database: read it from an app never started.
_SCHEMA_APP = create_app(
    Settings(
        database_url="sqlite://",
        secret_key="test-secret-not-for-production",
        demo=False,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
)
schema = schemathesis.openapi.from_dict(_SCHEMA_APP.openapi())
# The coverage phase (every boundary of every field) costs ~10 s per operation: it is left
# to a longer manual `schemathesis run`; the suite keeps the examples and seeded fuzzing.
schema.config.phases.coverage.enabled = False

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXAMPLES = 3


@pytest.fixture
def settings(settings):
    """Short solver runs, in-process: the fuzzer checks answers, not plan quality."""
    rounds = settings.rounds.model_copy(
        update={
            "rounds_time_limit_s": 0.2,
            "rounds_replan_time_limit_s": 0.2,
            "rounds_parallel_search": False,
        }
    )
    return settings.model_copy(update={"rounds": rounds})


@pytest.fixture
async def identities(db, client, clock) -> dict[str, dict[str, str]]:
    """One account per role, a GP with two days of sessions and a patient: small on purpose
    (it is built once per operation)."""
    today = clock().astimezone(PARIS).date()
    gp = await make_practitioner(db)
    await add_week(db, gp, today, weekdays=[today.weekday()], horizon_days=1)
    await make_patient(db)
    await make_user(db, "secretaire", Role.secretary)
    await make_user(db, "coordination", Role.coordinator)
    await make_user(db, "regulateur", Role.regulator)
    await make_user(db, "dr.martin", Role.practitioner, practitioner_id=gp.id)
    return {
        "secretary": await token(client, "secretaire"),
        "coordinator": await token(client, "coordination"),
        "regulator": await token(client, "regulateur"),
        "gp": await token(client, "dr.martin"),
        "anonymous": {},
    }


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The requests-style arguments schemathesis serialises, as httpx takes them."""
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": dict(kwargs.get("headers") or {}),
        "params": kwargs.get("params"),
    }
    cookies = kwargs.get("cookies")
    if cookies:
        out["headers"]["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
async def test_api_answers_as_documented(case, app, identities):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for name, auth in identities.items():
            kwargs = case.as_transport_kwargs(base_url="http://test", headers=auth)
            request = _httpx_kwargs(kwargs)
            response = await client.request(**request)
            try:
                case.validate_response(response, checks=CHECKS, headers=request["headers"])
            except Exception as exc:
                exc.add_note(f"identity: {name}")
                raise
