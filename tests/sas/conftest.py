"""Fixtures of the SAS tests: the fake SAS platform and the CPTS identity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.sas import CptsIdentity
from tests.sas.fake_sas import FakeSas


@pytest.fixture
def fake_sas() -> Iterator[FakeSas]:
    with FakeSas(expected_token="sas-test-token") as fake:
        yield fake


@pytest.fixture
def cpts() -> CptsIdentity:
    return CptsIdentity(name="CPTS Bièvre Val-de-Marne", finess="000000000", phone="+33100000000")
