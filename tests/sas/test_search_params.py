"""INT_R04 query parsing: the spec's example, 1–25 practitioners, and every 400 case."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, quote

import pytest

from app.sas import SearchParamError, parse_slot_search
from app.sas.search_params import ALL_INCLUDES, parse_datetime
from tests.sas.fake_sas import EXAMPLE_SLOT_QUERY, slot_search_params

CEST = dt.timezone(dt.timedelta(hours=2))
GE, LE = "2024-06-12T16:20:00.000+02:00", "2024-06-15T16:20:00.000+02:00"


def _pairs(query: str) -> list[tuple[str, str]]:
    # What Starlette hands over: "+" decoded as a space when the SAS does not encode it.
    return parse_qsl(query, keep_blank_values=True)


def _without(pairs, key, value_prefix=""):
    return [(k, v) for k, v in pairs if not (k == key and v.startswith(value_prefix))]


def _error(pairs) -> SearchParamError:
    with pytest.raises(SearchParamError) as info:
        parse_slot_search(pairs)
    assert info.value.status_code == 400
    outcome = info.value.outcome
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert outcome["issue"][0]["diagnostics"]
    return info.value


def test_spec_example_query_parses_even_with_unencoded_plus():
    search = parse_slot_search(_pairs(EXAMPLE_SLOT_QUERY))
    assert search.start_ge == dt.datetime(2024, 6, 12, 16, 20, tzinfo=CEST)
    assert search.start_le == dt.datetime(2024, 6, 15, 16, 20, tzinfo=CEST)
    assert search.national_ids == ("810002909371", "810001288385")
    assert search.rpps == ("10002909371", "10001288385")
    assert search.includes == ALL_INCLUDES


def test_spec_example_query_parses_when_percent_encoded():
    encoded = EXAMPLE_SLOT_QUERY.replace("+02:00", quote("+02:00"))
    search = parse_slot_search(_pairs(encoded))
    assert search.start_ge.utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize("count", [1, 25])
def test_one_to_twenty_five_practitioners_accepted(count):
    ids = [f"8{10000000000 + i:011d}" for i in range(count)]
    search = parse_slot_search(slot_search_params(ids, GE, LE))
    assert len(search.practitioners) == count


def test_twenty_six_practitioners_is_a_400():
    ids = [f"8{10000000000 + i:011d}" for i in range(26)]
    error = _error(slot_search_params(ids, GE, LE))
    assert "26" in error.diagnostics


def test_prefixed_and_unprefixed_ids_give_the_same_keys():
    prefixed = parse_slot_search(slot_search_params(["810002909371"], GE, LE))
    bare = parse_slot_search(slot_search_params(["10002909371"], GE, LE))
    assert prefixed.practitioners == bare.practitioners
    key = bare.practitioners[0]
    assert key.national_id == "810002909371"
    assert key.lookup_values == ("810002909371", "10002909371")


def test_adeli_ids_are_answered_with_the_zero_prefix():
    search = parse_slot_search(slot_search_params(["123456789"], GE, LE))
    assert search.practitioners[0].national_id == "0123456789"
    assert search.practitioners[0].kind == "ADELI"


def test_duplicate_practitioners_are_searched_once():
    search = parse_slot_search(slot_search_params(["810002909371", "10002909371"], GE, LE))
    assert len(search.practitioners) == 1


@pytest.mark.parametrize(
    ("key", "prefix"),
    [
        ("start", "ge"),
        ("start", "le"),
        ("schedule.actor:Practitioner.identifier", ""),
        ("status", ""),
    ],
)
def test_each_missing_mandatory_parameter_is_a_400(key, prefix):
    pairs = _without(slot_search_params(["810002909371"], GE, LE), key, prefix)
    error = _error(pairs)
    assert error.issue_code == "required"


def test_empty_query_is_a_400():
    _error([])


@pytest.mark.parametrize(
    "start",
    [
        "ge2024-13-12T16:20:00+02:00",
        "ge2024-06-12T25:20:00+02:00",
        "geYESTERDAY",
        "ge",
        "ge2024-06",
        "ge2024-06-12T16:20:00+99:00",
        "eq2024-06-12T16:20:00+02:00",
        "2024-06-12T16:20:00+02:00",
    ],
)
def test_malformed_start_is_a_400(start):
    pairs = _without(slot_search_params(["810002909371"], GE, LE), "start", "ge")
    _error([*pairs, ("start", start)])


def test_repeated_lower_bound_is_a_400():
    pairs = slot_search_params(["810002909371"], GE, LE)
    _error([*pairs, ("start", f"ge{GE}")])


def test_inverted_bounds_are_a_400():
    _error(slot_search_params(["810002909371"], LE, GE))


@pytest.mark.parametrize(
    "identifiers",
    [
        "urn:oid:1.2.250.1.71.4.2.2|810002909371",  # structures' OID
        "urn:oid:1.2.250.1.71.4.2.1|8100029093",  # 10 digits: neither RPPS nor ADELI
        "urn:oid:1.2.250.1.71.4.2.1|",
        "urn:oid:1.2.250.1.71.4.2.1|810002909371,",
        ",",
        "",
        "urn:oid:1.2.250.1.71.4.2.1|8100029093ab",
    ],
)
def test_bad_identifiers_are_a_400(identifiers):
    pairs = _without(
        slot_search_params(["810002909371"], GE, LE), "schedule.actor:Practitioner.identifier"
    )
    _error([*pairs, ("schedule.actor:Practitioner.identifier", identifiers)])


def test_status_other_than_free_is_a_400():
    pairs = _without(slot_search_params(["810002909371"], GE, LE), "status")
    assert _error([*pairs, ("status", "busy")]).issue_code == "not-supported"


def test_unknown_includes_are_ignored_not_refused():
    pairs = [*slot_search_params(["810002909371"], GE, LE), ("_include", "Slot:foo")]
    search = parse_slot_search(pairs)
    assert search.ignored == ("_include=Slot:foo",)
    assert search.includes == ALL_INCLUDES


def test_only_requested_includes_are_kept():
    pairs = [p for p in slot_search_params(["810002909371"], GE, LE) if p[0] == "start"]
    pairs += [("schedule.actor:Practitioner.identifier", "810002909371"), ("status", "free")]
    pairs += [("_include", "Slot:schedule")]
    assert parse_slot_search(pairs).includes == {"Slot:schedule"}


def test_dates_without_zone_are_paris_time_and_bare_dates_cover_the_day():
    # The SAS test kit sends "ge2024-06-12T16:20:00.000" without an offset.
    assert parse_datetime("2024-06-12T16:20:00.000", upper=False).utcoffset() == dt.timedelta(
        hours=2
    )
    assert parse_datetime("2024-01-12T16:20:00", upper=False).utcoffset() == dt.timedelta(hours=1)
    end = parse_datetime("2024-06-15", upper=True)
    assert (end.hour, end.minute, end.second) == (23, 59, 59)
    assert parse_datetime("2024-06-12T14:20:00Z", upper=False) == dt.datetime(
        2024, 6, 12, 16, 20, tzinfo=CEST
    )


@pytest.mark.parametrize(
    "pairs",
    [
        [("start", None)],
        [(None, None)],
        [("status", "free"), ("start", "ge\x00"), ("start", "le2024")],
        [("schedule.actor:Practitioner.identifier", "|" * 500), ("status", "free")],
    ],
)
def test_garbage_never_raises_anything_but_a_search_error(pairs):
    _error(pairs)
