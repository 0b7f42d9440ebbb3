"""Evacuation carried between drill re-plans (issue 14 §2): who has been moved, who is moving.

An issued plan's :class:`dispatch.records.EvacuationMove` leaves its origin at ``depart_s`` and
arrives at its shelter at ``travel_s`` (seconds after the plan's time; a move carried from an
earlier plan has times before it). At a re-plan's time (``plan_dispatch(track_fleet=True)``,
drills) :func:`carried_evacuation` reads the previous issued plan:

- a move that has **arrived** stays: its people are sheltered (the shelter's occupancy counts
  them, the incident's people still to move are reduced), whatever closes or fills afterwards;
- a move **under way** (departed, not arrived) continues to the same shelter with its arrival
  time, unless a full closure (``speed_factor`` 0) now cuts its road still ahead
  (:func:`dispatch.replan.closure_ahead`, on the move's road path ``path`` from its position
  on, by the share of its travel time done): then its people are planned again from the
  origin, and the plan's notes say why (their position on the road is not in the model);
- a move **not begun** is planned again with the rest of the people.

A ``shelter_full`` inject (occupancy = capacity) still holds: people already there or on their
way stay, no new people are sent there (its free places stay 0).
:func:`carry_scenario` turns the carried moves into the scenario the evacuation solves:
incidents with fewer people to move, shelters with the carried people in their occupancy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dispatch.fleet_state import path_ahead
from dispatch.plan import Plan
from dispatch.records import EvacuationMove, PlanStatus
from dispatch.replan import closure_ahead
from gis.model import Scenario

#: (plan notes) a move under way whose road ahead is cut
MOVE_CUT = (
    "转移在途（{group} → {shelter}，{people} 人），前方道路已中断（{name}）："
    "原安排作废，从原地重新安排转移（在途位置不入模型）"
)


@dataclass(frozen=True)
class CarriedEvacuation:
    """What a re-plan keeps of the previous plan's evacuation (times in the new plan's time).

    ``moves``: arrived and continuing moves, as the new plan records them; ``arrived`` /
    ``under_way``: how many of them (moves); ``notes``: one line per move cut by a closure."""

    moves: tuple[EvacuationMove, ...] = ()
    arrived: int = 0
    under_way: int = 0
    notes: tuple[str, ...] = ()

    def people_by_group(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.moves:
            out[m.group_id] = out.get(m.group_id, 0) + int(m.people)
        return out

    def people_by_shelter(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.moves:
            out[m.shelter_id] = out.get(m.shelter_id, 0) + int(m.people)
        return out


def carried_evacuation(previous: Plan, scenario: Scenario, at: datetime) -> CarriedEvacuation:
    """The moves of an issued ``previous`` plan that stay at time ``at`` (see module doc);
    empty for a plan not issued (a draft is planned again as a whole)."""
    if previous.status != PlanStatus.ISSUED:
        return CarriedEvacuation()
    t = (at - previous.created_at).total_seconds()
    groups = {i.id for i in scenario.open_incidents()}
    shelters = {s.id for s in scenario.shelters}
    kept: list[EvacuationMove] = []
    arrived = under_way = 0
    notes: list[str] = []
    for m in previous.evacuation:
        if m.group_id not in groups or m.shelter_id not in shelters:
            continue
        done = float(m.travel_s) <= t
        if not done:
            if float(m.depart_s) >= t:  # not begun: planned again
                continue
            span = float(m.travel_s) - float(m.depart_s)
            share = (t - float(m.depart_s)) / span if span > 0 else 1.0
            cut = closure_ahead(path_ahead(m.path, share), scenario)
            if cut is not None:
                notes.append(
                    MOVE_CUT.format(
                        group=previous.place_name(m.group_id),
                        shelter=previous.place_name(m.shelter_id),
                        people=int(m.people),
                        name=cut.reason or cut.id,
                    )
                )
                continue
        arrived += int(done)
        under_way += int(not done)
        kept.append(
            dataclasses.replace(m, travel_s=float(m.travel_s) - t, depart_s=float(m.depart_s) - t)
        )
    return CarriedEvacuation(tuple(kept), arrived, under_way, tuple(notes))


def carry_scenario(scenario: Scenario, carried: CarriedEvacuation) -> Scenario:
    """``scenario`` with the carried people taken off their incidents' people to move and put
    in their shelters' occupancy (at most its capacity: a full shelter takes nobody new)."""
    if not carried.moves:
        return scenario
    moved: Mapping[str, int] = carried.people_by_group()
    housed: Mapping[str, int] = carried.people_by_shelter()
    incidents = tuple(
        dataclasses.replace(i, affected_people=max(0, int(i.affected_people) - moved[i.id]))
        if i.id in moved
        else i
        for i in scenario.incidents
    )
    shelters = tuple(
        dataclasses.replace(s, occupancy=min(int(s.capacity), int(s.occupancy) + housed[s.id]))
        if s.id in housed
        else s
        for s in scenario.shelters
    )
    return dataclasses.replace(scenario, incidents=incidents, shelters=shelters)


__all__ = ["MOVE_CUT", "CarriedEvacuation", "carried_evacuation", "carry_scenario"]
