"""SAS settings: the CPTS identity is configuration, validated to the SAS formats."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.sas import CptsIdentity, SasSettings, normalise_phone


def test_defaults_give_a_valid_fictitious_cpts(monkeypatch):
    for name in ("CPTS_NAME", "CPTS_FINESS", "CPTS_PHONE"):
        monkeypatch.delenv(name, raising=False)
    identity = Settings(_env_file=None).sas.cpts_identity()
    assert identity.idnst == "1000000000"
    assert identity.phone == "+33100000000"


def test_environment_overrides(monkeypatch):
    """The root settings read the variables into their ``sas`` section."""
    monkeypatch.setenv("CPTS_FINESS", "940000000")
    monkeypatch.setenv("CPTS_PHONE", "01 45 00 00 00")
    monkeypatch.setenv("CPTS_NAME", "CPTS du Val")
    settings = Settings(_env_file=None).sas
    assert settings.cpts_identity().idnst == "1940000000"
    assert settings.cpts_identity().name == "CPTS du Val"
    assert settings.cpts_phone == "+33145000000"


def test_the_section_alone_reads_no_environment(monkeypatch):
    monkeypatch.setenv("CPTS_FINESS", "940000000")
    assert SasSettings().cpts_finess == "000000000"


@pytest.mark.parametrize("finess", ["2A0000000", "12345678", "ABCDEFGHI"])
def test_finess_the_sas_cannot_take_is_refused(finess):
    with pytest.raises(ValidationError):
        SasSettings(cpts_finess=finess)
    with pytest.raises(ValueError):
        CptsIdentity(name="x", finess=finess, phone="+33100000000")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01 45 00 00 00", "+33145000000"),
        ("0033145000000", "+33145000000"),
        ("+33 1 45 00 00 00", "+33145000000"),
    ],
)
def test_phone_normalisation(raw, expected):
    assert normalise_phone(raw) == expected


def test_bad_phone_is_refused():
    with pytest.raises(ValueError):
        normalise_phone("12")
