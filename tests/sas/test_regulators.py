"""INT_R02: our regulator fixtures (the guide's forms), and the 400/422 refusals."""

from __future__ import annotations

import json

import pytest

from app.sas import (
    InvalidResource,
    ProfileViolation,
    SearchParamError,
    parse_identifier_param,
    parse_regulator,
)
from tests.sas.fake_sas import load_fixture

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SAS = "urn:oid:1.2.250.1.213.3.6"
NATIONAL = "810000000417"  # the fixtures' fictitious regulator


def test_structure_oid_idnps_is_read_as_a_national_id():
    account = parse_regulator(load_fixture("regulator-structure-idnps"))
    assert account.national_id is not None
    # Sent back under the persons' OID, as the guide's Appointment examples do for this form.
    assert account.national_id.token() == f"{IDNPS}|3400000099/00000042"
    assert account.technical_id is None
    assert account.active is True
    assert account.email == "amandine.verchere@exemple.test"
    assert (account.family, account.given) == ("Verchère", "Amandine")


def test_an_active_national_account():
    account = parse_regulator(json.dumps(load_fixture("regulator-national")))
    assert account.national_id.value == NATIONAL
    assert account.national_id.type_code == "IDNPS"
    assert account.active is True
    assert account.email == "baptiste.oudin@exemple.test"


def test_the_same_account_revoked():
    body = json.dumps(load_fixture("regulator-national-revoked")).encode()
    account = parse_regulator(body)
    assert account.national_id.value == NATIONAL
    assert account.active is False


def test_a_technical_account_with_its_source():
    account = parse_regulator(load_fixture("regulator-technical"))
    assert account.national_id is None
    assert account.technical_id.token() == f"{SAS}|7b1e4c2a-93d0-4f6e-a5b8-2c7d9e0f1a34"
    assert account.source == SAS


def test_technical_id_then_national_id_attached_later():
    body = load_fixture("regulator-national")
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
        f"{IDNPS}|{NATIONAL}",
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
    body = load_fixture("regulator-national")
    body["name"] = "OUDIN"
    with pytest.raises(InvalidResource):
        parse_regulator(body)


def _without(key):
    body = load_fixture("regulator-national")
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
    assert parse_identifier_param(f"{IDNPS}|{NATIONAL}").token() == f"{IDNPS}|{NATIONAL}"
    assert parse_identifier_param(f"{SAS}|abc").type_code == "INTRN"
    for bad in (None, "", NATIONAL, "urn:oid:1.2.3|x", f"{IDNPS}|"):
        with pytest.raises(SearchParamError):
            parse_identifier_param(bad)


# --- FrPractitionerRegul rules (issue 17): each body below was accepted before -------------


def _national(**changes):
    body = load_fixture("regulator-national")
    body.update(changes)
    return body


def _typed(code: str, system: str, value: str) -> dict:
    return {
        "type": {
            "coding": [
                {
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                    "code": code,
                }
            ]
        },
        "system": system,
        "value": value,
    }


def _refused(body, expression: str) -> ProfileViolation:
    with pytest.raises(ProfileViolation) as info:
        parse_regulator(body)
    assert info.value.status_code == 422
    assert info.value.outcome["resourceType"] == "OperationOutcome"
    assert info.value.outcome["issue"][0]["expression"] == [expression]
    return info.value


@pytest.mark.parametrize("source", ["urn:oid:1.2.250.1.71.4.2.1", "https://sas.sante.fr"])
def test_meta_source_other_than_the_sas_oid_is_refused(source):
    body = _national(
        meta={"source": source, "profile": load_fixture("regulator-national")["meta"]["profile"]}
    )
    error = _refused(body, "Practitioner.meta.source")
    assert SAS in error.diagnostics
    # The SAS's own OID, or no meta.source at all, stays accepted.
    assert parse_regulator(_national(meta={"source": SAS})).source == SAS
    assert parse_regulator(_national(meta={})).source is None


def test_national_id_typed_intrn_is_refused():
    body = _national(identifier=[_typed("INTRN", IDNPS, NATIONAL)])
    assert "IDNPS" in _refused(body, "Practitioner.identifier.type").diagnostics


def test_technical_id_typed_idnps_is_refused():
    body = _national(identifier=[_typed("IDNPS", SAS, "7b1e4c2a-93d0-4f6e-a5b8-2c7d9e0f1a34")])
    assert "INTRN" in _refused(body, "Practitioner.identifier.type").diagnostics
    # Alongside a valid national id, the contradictory one still spoils the body.
    both = _national(
        identifier=[*load_fixture("regulator-national")["identifier"], *body["identifier"]]
    )
    _refused(both, "Practitioner.identifier.type")


@pytest.mark.parametrize(
    "name",
    [{"given": ["Baptiste"]}, {"family": "  ", "given": ["Baptiste"]}, {"text": "Baptiste OUDIN"}],
)
def test_a_name_without_family_is_refused(name):
    _refused(_national(name=[name]), "Practitioner.name.family")


@pytest.mark.parametrize(
    "name",
    [{"family": "OUDIN"}, {"family": "OUDIN", "given": ["Baptiste", "Paul"]}],
)
def test_a_name_without_exactly_one_given_is_refused(name):
    _refused(_national(name=[name]), "Practitioner.name.given")
    # Every name sent is checked, not only the one we keep.
    _refused(
        _national(name=[{"use": "official", "family": "OUDIN", "given": ["Baptiste"]}, name]),
        "Practitioner.name.given",
    )


def test_no_name_at_all_is_accepted():
    body = _national()
    del body["name"]
    account = parse_regulator(body)
    assert (account.family, account.given) == (None, None)


@pytest.mark.parametrize(
    "nested",
    ["[" * 5000 + "]" * 5000, '{"a": ' * 5000 + "1" + "}" * 5000],
    ids=["arrays", "objects"],
)
def test_a_body_nested_beyond_reason_is_a_400(nested):
    """5,000 nested arrays or objects: well-formed JSON that exhausts the parser (issue 20)."""
    body = '{"resourceType": "Practitioner", "name": ' + nested + "}"
    with pytest.raises(InvalidResource) as info:
        parse_regulator(body)
    assert info.value.status_code == 400
    assert "imbriqué" in info.value.diagnostics


def test_extensions_nested_past_the_validators_stack_are_a_400():
    """Shallow enough for the JSON parser, too deep for the FHIR models' recursion."""
    depth = 300
    nested = '{"url": "https://x.test", "extension": [' * depth
    nested += '{"url": "https://y.test", "valueString": "z"}' + "]}" * depth
    body = '{"resourceType": "Practitioner", "active": true, "extension": [' + nested + "]}"
    with pytest.raises(InvalidResource) as info:
        parse_regulator(body)
    assert info.value.status_code == 400
    assert "FHIR R4" in info.value.diagnostics
