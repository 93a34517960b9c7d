"""INT_R04 Bundle and CapabilityStatement: parse with fhir.resources and pass our checks."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from app.sas import (
    PlaceView,
    SasProfileError,
    build_capability_statement,
    build_slot_bundle,
    check_slot_bundle,
    validate,
)
from app.sas.mapping import fhir_instant, slot_instant
from app.sas.search_params import ALL_INCLUDES, INCLUDE_SCHEDULE, INCLUDE_SERVICE
from app.sas.validation import parse_r4
from tests.sas.factories import make_practitioner, make_slot
from tests.sas.fake_sas import load_fixture

BASE = "https://premier-recours.test/fhir"
SELF = f"{BASE}/Slot?status=free"


def _bundle(slots, practitioners, cpts, includes=ALL_INCLUDES):
    return build_slot_bundle(
        slots=slots,
        practitioners=practitioners,
        cpts=cpts,
        base_url=BASE,
        self_url=SELF,
        includes=includes,
        bundle_id="b1",
    )


def _of_type(bundle, resource_type):
    return [e for e in bundle.get("entry", []) if e["resource"]["resourceType"] == resource_type]


def test_two_practitioners_bundle_is_valid_and_complete(cpts):
    alice, bob = make_practitioner(1), make_practitioner(2)
    slots = [make_slot(alice, 0), make_slot(alice, 1), make_slot(bob, 0, consultation_type="HH")]
    bundle = _bundle(slots, [alice, bob], cpts)

    validate(bundle)  # fhir.resources R4B + our profile checks, references resolve
    assert bundle["total"] == 3
    assert bundle["link"] == [{"relation": "self", "url": SELF}]
    assert [
        len(_of_type(bundle, t))
        for t in (
            "Slot",
            "Schedule",
            "Practitioner",
            "PractitionerRole",
            "HealthcareService",
            "Organization",
        )
    ] == [3, 2, 2, 2, 1, 1]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"
        expected = "match" if resource["resourceType"] == "Slot" else "include"
        assert entry["search"]["mode"] == expected


def test_slot_carries_the_sas_codes_and_the_agenda_url(cpts):
    alice = make_practitioner(1)
    bundle = _bundle([make_slot(alice, 0, label="Téléconsultation")], [alice], cpts)
    slot = _of_type(bundle, "Slot")[0]["resource"]
    assert {s["code"] for s in slot["meta"]["security"]} == {"SNP", "CPTS"}
    assert slot["serviceType"][0]["coding"][0]["code"] == "VR"
    cpts_service = slot["serviceType"][1]
    assert cpts_service["coding"][0]["code"] == "604"
    assert cpts_service["extension"][0]["valueReference"]["reference"] == (
        f"HealthcareService/{cpts.healthcare_service_id}"
    )
    assert slot["specialty"][0]["coding"][0]["code"] == "SM54"
    assert slot["appointmentType"]["coding"][0]["code"] == "ROUTINE"
    assert slot["comment"] == alice.agenda_url
    assert slot["start"] == "2024-06-12T16:30:00.000+02:00"
    assert slot["status"] == "free"


def test_practitioner_answers_with_the_prefixed_national_id(cpts):
    alice = make_practitioner(1)
    bundle = _bundle([make_slot(alice)], [alice], cpts)
    practitioner = _of_type(bundle, "Practitioner")[0]["resource"]
    assert practitioner["identifier"][0]["value"] == "8" + alice.rpps
    assert practitioner["identifier"][0]["system"] == "urn:oid:1.2.250.1.71.4.2.1"


def test_practitioner_role_contains_its_location_and_the_structure_id(cpts):
    alice = make_practitioner(1)
    bundle = _bundle([make_slot(alice)], [alice], cpts)
    role = _of_type(bundle, "PractitionerRole")[0]["resource"]
    location = role["contained"][0]
    assert role["location"] == [{"reference": f"#{location['id']}"}]
    assert location["address"]["postalCode"] == "94230"
    assert location["address"]["extension"][0]["valueCoding"]["code"] == "94016"
    assert role["organization"]["identifier"]["value"] == cpts.idnst  # no structure id given
    schedule = _of_type(bundle, "Schedule")[0]["resource"]
    assert {a["reference"] for a in schedule["actor"]} == {
        f"Practitioner/{alice.id}",
        f"PractitionerRole/{role['id']}",
    }


def test_cpts_organization_has_the_idnst_and_phone(cpts):
    alice = make_practitioner(1)
    org = _of_type(_bundle([make_slot(alice)], [alice], cpts), "Organization")[0]["resource"]
    assert org["identifier"][0]["value"] == "1000000000"
    assert org["telecom"] == [{"system": "phone", "value": "+33100000000"}]


def test_one_schedule_per_place_of_practice(cpts):
    second = PlaceView(
        id="msp",
        address_line="2 av. Larroumès",
        city="L'Haÿ-les-Roses",
        postal_code="94240",
        structure_idnst="1000000018",
    )
    alice = make_practitioner(1)
    alice = make_practitioner(1, places=(*alice.places, second))
    slots = [make_slot(alice, 0), make_slot(alice, 1, place_id="msp", consultation_type="AMB")]
    bundle = _bundle(slots, [alice], cpts)
    validate(bundle)
    assert len(_of_type(bundle, "Schedule")) == 2
    assert len(_of_type(bundle, "PractitionerRole")) == 2
    assert len(_of_type(bundle, "Practitioner")) == 1


def test_nothing_free_gives_total_zero(cpts):
    bundle = _bundle([], [], cpts)
    validate(bundle)
    assert bundle["total"] == 0
    assert "entry" not in bundle
    assert len(bundle["link"]) == 1


def test_only_requested_includes_are_returned(cpts):
    alice = make_practitioner(1)
    bundle = _bundle([make_slot(alice)], [alice], cpts, includes={INCLUDE_SCHEDULE})
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"Slot", "Schedule"}
    assert check_slot_bundle(bundle, complete=False) == []
    parse_r4(bundle)

    bundle = _bundle([make_slot(alice)], [alice], cpts, includes={INCLUDE_SERVICE})
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {
        "Slot",
        "HealthcareService",
    }


def test_slots_are_sorted_and_times_shown_in_paris(cpts):
    alice = make_practitioner(1)
    utc_slot = make_slot(alice, 3)
    utc_slot = make_slot(
        alice, 3, start=utc_slot.start.astimezone(dt.UTC), end=utc_slot.end.astimezone(dt.UTC)
    )
    bundle = _bundle([utc_slot, make_slot(alice, 0)], [alice], cpts)
    starts = [e["resource"]["start"] for e in _of_type(bundle, "Slot")]
    assert starts == ["2024-06-12T16:30:00.000+02:00", "2024-06-12T17:15:00.000+02:00"]
    assert fhir_instant(dt.datetime(2024, 1, 5, 8, 0, tzinfo=dt.UTC)) == "2024-01-05T09:00:00+01:00"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC), "2026-01-05T09:00:00.000+01:00"),
        (dt.datetime(2026, 7, 5, 8, 0, tzinfo=dt.UTC), "2026-07-05T10:00:00.000+02:00"),
        # Sub-millisecond parts are cut, never rounded into the next slot.
        (dt.datetime(2026, 7, 5, 8, 0, 0, 999999, tzinfo=dt.UTC), "2026-07-05T10:00:00.999+02:00"),
        # Either side of the autumn clock change (25 October 2026, 03:00 → 02:00).
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), "2026-10-25T02:30:00.000+02:00"),
        (dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC), "2026-10-25T02:30:00.000+01:00"),
    ],
)
def test_slot_instants_carry_milliseconds_and_the_paris_offset(moment, expected):
    assert slot_instant(moment) == expected
    # Appointments (INT_R03) keep the guide examples' form, without milliseconds.
    assert fhir_instant(moment) == expected[:19] + expected[-6:]


def test_a_slot_of_an_unknown_practitioner_is_a_programming_error(cpts):
    with pytest.raises(ValueError):
        _bundle([make_slot(make_practitioner(1))], [], cpts)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("Organization", "identifier", 0, "value"), "1A00000000", "^1[0-9]{9}$"),
        (("Organization", "telecom", 0, "value"), "01 00 00 00 00", "+33XXXXXXXXX"),
        (("Slot", "schedule", "reference"), "Schedule/unknown", "non résolue"),
        (("PractitionerRole", "location", 0, "reference"), "#nowhere", "Location contenue"),
        (("Practitioner", "identifier", 0, "value"), "10000000001", "non préfixé"),
        (("Slot", "meta", "security", 0, "code"), "PUBLIC", "SNP et CPTS"),
        (("Slot", "status"), "busy", "free"),
        (("Slot", "start"), "2024-06-12T16:30:00+02:00", "hh:mm:ss.SSS+hh:mm"),
        (("Slot", "end"), "2024-06-12T14:45:00.000Z", "hh:mm:ss.SSS+hh:mm"),
    ],
)
def test_our_checks_catch_each_broken_rule(cpts, path, value, expected):
    alice = make_practitioner(1)
    bundle = copy.deepcopy(_bundle([make_slot(alice)], [alice], cpts))
    node = _of_type(bundle, path[0])[0]["resource"]
    for key in path[1:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = check_slot_bundle(bundle)
    assert any(expected in p for p in problems), problems
    with pytest.raises(SasProfileError):
        validate(bundle)


def test_a_guide_shaped_bundle_parses_but_its_placeholder_urls_are_flagged():
    example = load_fixture("bundle-cpts-search")
    parse_r4(example)
    problems = check_slot_bundle(example)
    assert len(problems) == len(example["entry"])
    assert all("fullUrl" in p for p in problems), problems
    # The same bundle on a real base is conforming.
    for entry in example["entry"]:
        entry["fullUrl"] = entry["fullUrl"].replace("https://<base_URl>", BASE)
    validate(example)


def test_capability_statement_lists_slot_search_and_practitioner_update():
    statement = build_capability_statement(base_url=BASE, date=dt.date(2025, 1, 1))
    parse_r4(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert resources["Slot"]["searchInclude"] == [
        "Slot:schedule",
        "Schedule:actor",
        "Slot:service-type-reference",
        "HealthcareService:organization",
    ]
    assert resources["Practitioner"]["conditionalUpdate"] is True
    assert statement["fhirVersion"] == "4.0.1"
