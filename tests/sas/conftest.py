"""Fixtures of the SAS tests: the fake SAS platform, the CPTS identity, an app wired to both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.main import create_app
from app.sas import CptsIdentity, SasSettings
from app.sas.wiring import configure
from tests.conftest import _empty_tables
from tests.sas.fake_sas import FakeSas

FHIR_TOKEN = "fhir-inbound-token"


@pytest.fixture
def fake_sas() -> Iterator[FakeSas]:
    with FakeSas(expected_token="sas-test-token") as fake:
        yield fake


@pytest.fixture
def cpts() -> CptsIdentity:
    return CptsIdentity(name="CPTS Bièvre Val-de-Marne", finess="000000000", phone="+33100000000")


@pytest.fixture
def sas_settings(fake_sas: FakeSas) -> SasSettings:
    """Inbound token, outbound fake SAS; no mTLS proxy unless a test sets one."""
    return SasSettings(
        _env_file=None,
        cpts_name="CPTS Bièvre Val-de-Marne",
        sas_api_token=FHIR_TOKEN,
        sas_base_url=fake_sas.base_url,
        sas_push_token="sas-test-token",
        sas_timeout=2.0,
        sas_appointment_system="https://premier-recours.test/fhir/sid/appointment",
    )


@pytest.fixture
async def app(settings, clock, sas_settings) -> AsyncIterator:
    """The global app fixture, with the SAS settings set before the lifespan starts."""
    application = create_app(settings, clock=clock)
    configure(application, sas_settings)
    await _empty_tables(application)
    async with application.router.lifespan_context(application):
        yield application
        await _empty_tables(application)


@pytest.fixture
def fhir() -> dict[str, str]:
    return {"Authorization": f"Bearer {FHIR_TOKEN}", "Accept": "application/fhir+json"}
