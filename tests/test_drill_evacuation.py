"""Evacuation carried between drill steps (issue 14 §2, :mod:`dispatch.evacuation_state`), on
the demo county: people sheltered before an inject are neither moved again nor lost from the
scorecard, a move under way continues unless a full closure cuts its road ahead (then it is
planned again from the origin, with the reason in the plan's notes), shelters' capacities hold
with the carried people, and a full shelter keeps the people already there.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import LineString

from dispatch.drills.runner import run_drill, step_options
from dispatch.drills.scorecard import overall, step_record
from dispatch.drills.script import parse_script
from dispatch.evacuation_state import carried_evacuation
from dispatch.pipeline import plan_dispatch
from gis.model import RoadClosure

START = datetime(2026, 7, 12, 10, 0)
#: both injects come after every baseline move has arrived; SH-017 is one the baseline fills
SCRIPT = {
    "name": "转移延续（演练）",
    "start": START.isoformat(),
    "injects": [
        {"at_min": 80, "kind": "team_unavailable", "team_id": "TM-001"},
        {"at_min": 100, "kind": "shelter_full", "shelter_id": "SH-017"},
    ],
}


@pytest.fixture(scope="module")
def steps(demo_scenario: Any, demo_network: Any) -> tuple[Any, ...]:
    script = parse_script(SCRIPT, demo_scenario)
    return run_drill(demo_scenario, demo_network, script, auto=True, seconds_per_step=2, seed=0)


def _people_at(moves: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in moves:
        out[m.shelter_id] = out.get(m.shelter_id, 0) + int(m.people)
    return out


def _within_capacity(scenario: Any, moves: Any) -> None:
    shelters = {s.id: s for s in scenario.shelters}
    for sid, people in _people_at(moves).items():
        assert shelters[sid].occupancy + people <= shelters[sid].capacity, sid


def test_people_sheltered_before_an_inject_stay(steps: Any, demo_scenario: Any) -> None:
    base, *later = steps
    moves = base.plan.evacuation
    assert moves and all(len(m.path) > 1 for m in moves)  # drill plans record the road path
    assert "SH-017" in _people_at(moves)
    records = [step_record(s, f"steps/{s.number:02d}", {}) for s in steps]
    sheltered = records[0]["metrics"]["people_sheltered_on_time"]
    assert sheltered == sum(m.people for m in moves) > 0
    for s, rec in zip(later, records[1:], strict=True):
        off = (s.plan.created_at - base.plan.created_at).total_seconds()
        assert max(m.travel_s for m in moves) < off  # every move arrived before the inject
        # the same moves, not moved again: times before the plan's (the new time base)
        got = sorted((m.group_id, m.shelter_id, m.people, m.travel_s) for m in s.plan.evacuation)
        want = sorted((m.group_id, m.shelter_id, m.people, m.travel_s - off) for m in moves)
        assert got == want
        assert all(m.depart_s == -off for m in s.plan.evacuation)
        # the exports' 行程 column: the travel time, not the arrival before the plan's time
        assert sorted(m.trip_s for m in s.plan.evacuation) == sorted(m.travel_s for m in moves)
        assert not [u for u in s.plan.unserved if u.what == "people"]
        # judged on the clock: still sheltered within the deadline, nobody lost
        assert rec["metrics"]["people_to_shelter"] == records[0]["metrics"]["people_to_shelter"]
        assert rec["metrics"]["people_sheltered_on_time"] == sheltered
        _within_capacity(demo_scenario, s.plan.evacuation)
    # shelter_full on SH-017: the people already there stay, nobody new is sent
    full = {x.id: x for x in later[1].scenario.shelters}["SH-017"]
    assert full.occupancy == full.capacity
    there = [m for m in later[1].plan.evacuation if m.shelter_id == "SH-017"]
    assert there and all(m.travel_s < 0 for m in there)
    assert overall(records)["final_people_sheltered_on_time"] == sheltered


def test_move_under_way_continues_unless_cut_ahead(
    steps: Any, demo_scenario: Any, demo_network: Any
) -> None:
    base = steps[0].plan
    t = 5 * 60.0
    at = base.created_at + timedelta(seconds=t)
    arrived = [m for m in base.evacuation if m.travel_s <= t]
    under = [m for m in base.evacuation if m.depart_s < t < m.travel_s]
    assert arrived and under, "the demo baseline should have moves arrived and under way at T+5"
    move = max(under, key=lambda m: m.travel_s)
    line = LineString(move.path)
    share = (t - move.depart_s) / (move.travel_s - move.depart_s)

    def closed(fraction: float) -> Any:
        p = line.interpolate(fraction, normalized=True)
        cl = RoadClosure("T-CL", p, reason="测试塌方", radius_m=30.0, speed_factor=0.0)
        return dataclasses.replace(demo_scenario, closures=(*demo_scenario.closures, cl))

    key = (move.group_id, move.shelter_id)
    # behind the people: they continue, with the arrival time they had
    behind = carried_evacuation(base, closed(share / 4), at)
    assert key in {(m.group_id, m.shelter_id) for m in behind.moves} and not behind.notes
    kept = {(m.group_id, m.shelter_id): m for m in behind.moves}[key]
    assert kept.travel_s == pytest.approx(move.travel_s - t) and kept.depart_s < 0 < kept.travel_s
    # ahead of them: planned again from the origin, the plan's notes say why
    ahead = closed(share + (1 - share) / 2)
    cut = carried_evacuation(base, ahead, at)
    assert key not in {(m.group_id, m.shelter_id) for m in cut.moves}
    assert len(cut.notes) == 1 and "测试塌方" in cut.notes[0] and "重新安排" in cut.notes[0]
    assert {(m.group_id, m.shelter_id) for m in arrived} <= {
        (m.group_id, m.shelter_id) for m in cut.moves
    }
    options = step_options(at, (base.number,), 2.0, 0)
    plan = plan_dispatch(ahead, demo_network, options, previous=base, track_fleet=True)
    assert cut.notes[0] in plan.inputs.notes
    carried = [m for m in plan.evacuation if m.depart_s < 0]
    assert carried == list(cut.moves)  # listed first, as carried
    again = [m for m in plan.evacuation if m.group_id == move.group_id and m.depart_s == 0]
    unmet = sum(u.quantity for u in plan.unserved_for(move.group_id) if u.what == "people")
    assert sum(m.people for m in again) + unmet == move.people
    _within_capacity(demo_scenario, plan.evacuation)
