"""INT_R02: the guide's three regulator examples, and the 400/422 refusals."""

from __future__ import annotations

import copy
import json

import pytest

from app.sas import (
    InvalidResource,
    ProfileViolation,
    SearchParamError,
    parse_identifier_param,
    parse_regulator,
)
from tests.sas.fake_sas import load_example

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SAS = "urn:oid:1.2.250.1.213.3.6"


def test_example_1_structure_oid_idnps_is_read_as_a_national_id():
    account = parse_regulator(load_example("Practitioner-ExamplePractitionerRegul1"))
    assert account.national_id is not None
    # Sent back under the persons' OID, exactly as the guide's Appointment examples do.
    assert account.national_id.token() == f"{IDNPS}|3456780581/11242343"
    assert account.technical_id is None
    assert account.active is True
    assert account.email == "sebastien.loridon@test.com"
    assert (account.family, account.given) == ("Loridon", "Sébastien")


def test_example_2_is_an_active_national_account():
    account = parse_regulator(json.dumps(load_example("Practitioner-ExamplePractitionerRegul2")))
    assert account.national_id.value == "810002673899"
    assert account.national_id.type_code == "IDNPS"
    assert account.active is True


def test_example_3_revokes_the_same_account():
    body = json.dumps(load_example("Practitioner-ExamplePractitionerRegul3")).encode()
    account = parse_regulator(body)
    assert account.national_id.value == "810002673899"
    assert account.active is False


def test_technical_id_then_national_id_attached_later():
    body = load_example("Practitioner-ExamplePractitionerRegul2")
    uuid = "5d0c8c6c-2b4e-4f57-9b1e-1f0f3f6c2a11"
    technical = {
        "type": {
            "coding": [
                {"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "INTRN"}
            ]
        },
        "system": SAS,
        "value": uuid,
    }
    created = parse_regulator({**body, "identifier": [technical], "meta": {"source": SAS}})
    assert created.national_id is None
    assert created.technical_id.token() == f"{SAS}|{uuid}"
    assert created.technical_id.type_code == "INTRN"
    assert created.source == SAS

    updated = parse_regulator({**body, "identifier": [technical, *body["identifier"]]})
    assert {i.token() for i in updated.identifiers} == {
        f"{SAS}|{uuid}",
        f"{IDNPS}|810002673899",
    }


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", json.dumps({"resourceType": "Patient"}), b"\xff\xfe"],
)
def test_not_a_practitioner_is_a_400(body):
    with pytest.raises(InvalidResource) as info:
        parse_regulator(body)
    assert info.value.status_code == 400
    assert info.value.outcome["resourceType"] == "OperationOutcome"


def test_invalid_fhir_is_a_400():
    body = copy.deepcopy(load_example("Practitioner-ExamplePractitionerRegul2"))
    body["name"] = "MARIUS"
    with pytest.raises(InvalidResource):
        parse_regulator(body)


def _without(key):
    body = copy.deepcopy(load_example("Practitioner-ExamplePractitionerRegul2"))
    body.pop(key)
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_without("active"), "active"),
        (_without("telecom"), "e-mail"),
        (_without("identifier"), "identifiant"),
        (
            {**_without("telecom"), "telecom": [{"system": "email", "value": "pas-un-mail"}]},
            "e-mail",
        ),
        (
            {**_without("identifier"), "identifier": [{"system": "urn:oid:1.2.3", "value": "x"}]},
            "identifiant",
        ),
    ],
)
def test_profile_violations_are_a_422(body, expected):
    with pytest.raises(ProfileViolation) as info:
        parse_regulator(body)
    assert info.value.status_code == 422
    assert expected in info.value.diagnostics


def test_conditional_update_identifier_param():
    assert parse_identifier_param(f"{IDNPS}|810002673899").token() == f"{IDNPS}|810002673899"
    assert parse_identifier_param(f"{SAS}|abc").type_code == "INTRN"
    for bad in (None, "", "810002673899", "urn:oid:1.2.3|x", f"{IDNPS}|"):
        with pytest.raises(SearchParamError):
            parse_identifier_param(bad)
