"""The pure matching: capacities, priorities, refusals, determinism, reasons, scale."""

from __future__ import annotations

import random

from app.orientation.matching import AvailableGP, MatchParameters, WaitingPatient, greedy, match
from app.orientation.synthetic import bievre_instance

CACHAN = (48.7914, 2.3336)
FRESNES = (48.7558, 2.3222)


def patient(pid: int, *, at=CACHAN, **kw) -> WaitingPatient:
    return WaitingPatient(id=pid, latitude=at[0], longitude=at[1], commune_insee="94016", **kw)


def gp(gid: str, capacity: int, *, at=CACHAN, **kw) -> AvailableGP:
    return AvailableGP(id=gid, latitude=at[0], longitude=at[1], capacity=capacity, **kw)


def test_capacities_are_never_exceeded():
    patients, gps = bievre_instance(600, 12, seed=3)
    result = match(patients, gps)
    capacity = {g.id: g.capacity for g in gps}
    for gp_id, count in result.by_gp().items():
        assert count <= capacity[gp_id]
    assert len(result.matches) + len(result.unmatched) == len(patients)
    assert len({m.patient_id for m in result.matches}) == len(result.matches)


def test_vulnerable_patients_first_then_longest_wait():
    patients = [
        patient(1, waiting_days=90),
        patient(2, vulnerable=True, waiting_days=1),
        patient(3, waiting_days=30),
        patient(4, waiting_days=5),
    ]
    result = match(patients, [gp("g1", 2)])
    assert sorted(m.patient_id for m in result.matches) == [1, 2]
    reasons = {u.patient_id: u.code for u in result.unmatched}
    assert reasons == {3: "capacity_exhausted", 4: "capacity_exhausted"}


def test_vulnerable_first_even_when_closer_patients_wait_longer():
    near, far = CACHAN, FRESNES
    patients = [patient(1, at=near, waiting_days=100), patient(2, at=far, vulnerable=True)]
    result = match(patients, [gp("g1", 1, at=near)])
    assert [m.patient_id for m in result.matches] == [2]


def test_more_patients_matched_than_greedy_when_closest_choice_blocks_another():
    # Greedy sends patient 1 to the closest GP (g1), leaving patient 2 (only g1 covers
    # their commune) without one; the flow sends 1 to g2 and serves both.
    p1 = WaitingPatient(1, *CACHAN, commune_insee="94016", waiting_days=10)
    p2 = WaitingPatient(2, *CACHAN, commune_insee="94034", waiting_days=1)
    g1 = gp("g1", 1, communes=frozenset({"94016", "94034"}))
    g2 = gp("g2", 1, at=FRESNES, communes=frozenset({"94016"}))
    assert len(greedy([p1, p2], [g1, g2]).matches) == 1
    result = match([p1, p2], [g1, g2])
    assert {(m.patient_id, m.gp_id) for m in result.matches} == {(1, "g2"), (2, "g1")}


def test_refused_pairs_are_excluded():
    patients = [patient(1, refused_gp_ids=frozenset({"g1"})), patient(2)]
    result = match(patients, [gp("g1", 5), gp("g2", 5, at=FRESNES)])
    assigned = {m.patient_id: m.gp_id for m in result.matches}
    assert assigned == {1: "g2", 2: "g1"}


def test_only_refused_gps_left_gives_the_reason():
    result = match([patient(1, refused_gp_ids=frozenset({"g1"}))], [gp("g1", 5)])
    assert not result.matches
    assert result.unmatched[0].code == "all_refused"
    assert "refusé" in result.unmatched[0].reason


def test_unmatched_reasons_are_given_in_french():
    patients = [
        WaitingPatient(1, None, None),
        WaitingPatient(2, *CACHAN, commune_insee="94065"),
        WaitingPatient(3, 48.9, 2.6, commune_insee="94016"),
        patient(4, waiting_days=3),
        patient(5),
    ]
    gps = [gp("g1", 1, communes=frozenset({"94016"}))]
    result = match(patients, gps, MatchParameters(max_travel_minutes=30))
    codes = {u.patient_id: u.code for u in result.unmatched}
    assert codes == {
        1: "no_location",
        2: "no_gp_for_commune",
        3: "too_far",
        5: "capacity_exhausted",
    }
    assert [m.patient_id for m in result.matches] == [4]
    assert all(u.reason and u.reason[0].isupper() for u in result.unmatched)


def test_language_and_history_break_ties_between_equal_practices():
    p_ar = patient(1, language="ar")
    p_hist = patient(2, history_gp_ids=frozenset({"g2"}))
    gps = [gp("g1", 1), gp("g2", 1, languages=frozenset({"fr", "ar"}))]
    gps3 = [*gps, gp("g3", 1)]
    assert {m.patient_id: m.gp_id for m in match([p_ar], gps).matches} == {1: "g2"}
    assert {m.patient_id: m.gp_id for m in match([p_hist], gps3).matches} == {2: "g2"}


def test_deterministic_whatever_the_input_order():
    patients, gps = bievre_instance(800, 15, seed=5)
    first = match(patients, gps)
    shuffled_p, shuffled_g = patients[:], gps[:]
    random.Random(1).shuffle(shuffled_p)
    random.Random(2).shuffle(shuffled_g)
    second = match(shuffled_p, shuffled_g)
    assert first.matches == second.matches
    assert first.unmatched == second.unmatched


def test_five_thousand_patients_sixty_gps_solved_and_never_worse_than_greedy():
    patients, gps = bievre_instance(5000, 60, seed=0)
    result = match(patients, gps)
    baseline = greedy(patients, gps)
    assert result.solve_seconds < 10
    assert result.capacity_used > 0.95
    assert result.stats["matched"] >= baseline.stats["matched"]
    assert result.stats["vulnerable_matched"] >= baseline.stats["vulnerable_matched"]
    assert result.stats["mean_travel_minutes"] <= baseline.stats["mean_travel_minutes"]
