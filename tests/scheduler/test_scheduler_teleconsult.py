"""Teleconsultation slots with CP-SAT: deadlines, languages, promises, fairness."""

from __future__ import annotations

import pytest
from factories import FAST, make_adjoint, make_gp, make_instance, rounds, tele

from scheduler import SlotRef, TeleconsultationRequest, Urgency, assign_teleconsultations


def test_deadlines_and_languages_are_hard():
    gps = [make_gp("T1"), make_gp("T2", languages=frozenset({"fr", "en"}))]
    requests = [
        TeleconsultationRequest("en", language="en"),
        TeleconsultationRequest("soon", deadline=870, urgency=Urgency.SAME_DAY),
    ]
    instance = make_instance(gps, [tele("T1"), tele("T2")], teles=requests)
    result = assign_teleconsultations(instance, FAST)
    assert result.check() == []
    assert result.slot_of("en").practitioner_id == "T2"
    assert result.slot_of("soon").end <= 870


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (TeleconsultationRequest("zh", language="zh"), "language"),
        (TeleconsultationRequest("past", deadline=845), "deadline"),
    ],
    ids=["language", "deadline"],
)
def test_unassigned_requests_carry_a_reason(request_, reason):
    instance = make_instance([make_gp("T1")], [tele("T1")], teles=[request_])
    result = assign_teleconsultations(instance, FAST)
    assert [(u.request_id, u.reason) for u in result.unassigned] == [(request_.id, reason)]


def test_capacity_drops_the_least_urgent_first():
    gp = make_gp("T1", slot_minutes=60)
    requests = [
        TeleconsultationRequest("low", urgency=Urgency.WITHIN_48H),
        TeleconsultationRequest("high", urgency=Urgency.SAME_DAY),
        TeleconsultationRequest("mid", urgency=Urgency.WITHIN_24H),
    ]
    instance = make_instance([gp], [tele("T1", 840, 960)], teles=requests)
    result = assign_teleconsultations(instance, FAST)
    assert [(u.request_id, u.reason) for u in result.unassigned] == [("low", "capacity")]


def test_per_gp_slot_length_and_booked_slot_kept():
    gps = [make_gp("T1", slot_minutes=20), make_gp("T2")]
    requests = [TeleconsultationRequest("kept", booked=SlotRef("T1", 880))]
    instance = make_instance(gps, [tele("T1"), tele("T2")], teles=requests)
    slot = assign_teleconsultations(instance, FAST).slot_of("kept")
    assert (slot.practitioner_id, slot.start, slot.end) == ("T1", 880, 900)


def test_load_is_balanced_across_the_team():
    gps = [make_gp(f"T{i}") for i in range(3)]
    requests = [TeleconsultationRequest(f"r{i}") for i in range(9)]
    instance = make_instance(gps, [tele(g.id) for g in gps], teles=requests)
    result = assign_teleconsultations(instance, FAST)
    assert sorted(result.loads.values()) == [3, 3, 3]


def test_continuity_is_preferred():
    gps = [make_gp("T1"), make_gp("T2")]
    requests = [TeleconsultationRequest("r", preferred_practitioner_id="T2")]
    instance = make_instance(gps, [tele("T1"), tele("T2")], teles=requests)
    assert assign_teleconsultations(instance, FAST).slot_of("r").practitioner_id == "T2"


def test_adjoint_without_titular_on_duty_has_no_slot():
    gps = [make_gp("T1"), make_adjoint("A1", "T1")]
    requests = [TeleconsultationRequest("r")]
    alone = make_instance(gps, [tele("A1"), rounds("T1")], teles=requests)
    result = assign_teleconsultations(alone, FAST)
    assert [u.reason for u in result.unassigned] == ["no_practitioner_on_duty"]
    together = make_instance(gps, [tele("A1"), tele("T1", 900, 960)], teles=requests)
    slot = assign_teleconsultations(together, FAST).slot_of("r")
    assert slot is not None and (slot.practitioner_id != "A1" or slot.start >= 900)


def test_same_seed_same_assignment():
    gps = [make_gp(f"T{i}") for i in range(3)]
    requests = [
        TeleconsultationRequest(f"r{i}", urgency=list(Urgency)[i % 3], deadline=900 + 5 * i)
        for i in range(12)
    ]
    instance = make_instance(gps, [tele(g.id) for g in gps], teles=requests)
    assert assign_teleconsultations(instance, FAST) == assign_teleconsultations(instance, FAST)
