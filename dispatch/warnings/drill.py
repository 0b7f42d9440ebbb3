"""A warning inject in a drill (``{"kind": "warning", "hazard_id", "colour"}``): pre-position, score.

:func:`preposition_step` plans the pre-positioning for the warned hazard on the drill's current
scenario (:func:`dispatch.warnings.preposition.plan_preposition`), scores it like a step (status,
movements, the threatened area's on-time share and the rest of the county's share within
60 minutes, before and after) and returns the scenario with the moves carried out, so later
injects are planned from the staged positions:

* a moved team is at its staging point (its ``location``), 待命;
* stock moved to a stockpile is in that stockpile's inventory (taken from the source's);
* stock moved to a shelter is added to the shelter's own stock (``Shelter.stock``) — the
  dispatch pipeline uses shelter stock for the people sheltered there, not as a source for
  incidents (it has no vehicles at a shelter), which the step's ``notes`` say.

A warned hazard that cannot be planned for (no demand points nearby …) is a scored step with
its ``problem`` and the scenario unchanged, not an error: the drill goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dispatch.warnings.preposition import PrepositionError, WarnRequest, plan_preposition
from gis.model import Location, Scenario, TeamStatus

__all__ = ["apply_moves", "preposition_step"]

SHELTER_NOTE = "预置到避难场所的物资记入其库存，供安置人员使用；调度不从避难场所发运物资"


def apply_moves(
    scenario: Scenario, moves: Any, staging: Mapping[str, tuple[float, float]]
) -> Scenario:
    """``scenario`` with the plan's ``moves`` carried out (module doc)."""
    stock = {s.id: dict(s.inventory) for s in scenario.stockpiles}
    shelter_stock = {s.id: dict(s.stock) for s in scenario.shelters}
    team_to: dict[str, str] = {}
    for m in moves:
        if m.kind == "team":
            team_to[m.team_id] = m.to_id
            continue
        stock[m.from_id][m.material] = stock[m.from_id].get(m.material, 0.0) - m.quantity
        target = stock if m.to_id in stock else shelter_stock
        target[m.to_id][m.material] = target[m.to_id].get(m.material, 0.0) + m.quantity
    return dataclasses.replace(
        scenario,
        stockpiles=tuple(
            dataclasses.replace(s, inventory={c: max(0.0, q) for c, q in stock[s.id].items()})
            for s in scenario.stockpiles
        ),
        shelters=tuple(
            dataclasses.replace(s, stock=shelter_stock[s.id]) for s in scenario.shelters
        ),
        teams=tuple(
            dataclasses.replace(
                t, location=Location(*staging[team_to[t.id]]), status=TeamStatus.STANDBY
            )
            if t.id in team_to
            else t
            for t in scenario.teams
        ),
    )


def preposition_step(
    scenario: Scenario,
    network: Any,
    hazard_id: str,
    colour: str,
    *,
    seconds: float,
    at: datetime,
) -> tuple[Scenario, dict[str, Any]]:
    """Plan, score and carry out the pre-positioning for one warned hazard (module doc)."""
    summary: dict[str, Any] = {"hazard_id": hazard_id, "colour": colour}
    try:
        plan = plan_preposition(
            scenario,
            network,
            WarnRequest((hazard_id,), colour, seconds=max(1.0, seconds), issued_at=at),
        )
    except PrepositionError as exc:
        return scenario, {**summary, "status": "INFEASIBLE", "problem": str(exc)}
    r = plan.result
    staging = {p.id: (p.lon, p.lat) for p in plan.problem.staging}
    summary.update(
        status=r.info.status.value,
        movements=r.movements,
        stock_lines=sum(1 for m in r.moves if m.kind == "stock"),
        teams_moved=sorted(m.team_id for m in r.moves if m.kind == "team"),
        threatened_before=None if r.before is None else r.before.on_time_share,
        threatened_after=None if r.after is None else r.after.on_time_share,
        rest_before=r.rest_before,
        rest_after=r.rest_after,
        problems=list(r.problems),
        notes=[SHELTER_NOTE] if any(m.to_id not in {s.id for s in scenario.stockpiles}
                                    for m in r.moves if m.kind == "stock") else [],
    )  # fmt: skip
    return apply_moves(scenario, r.moves, staging), summary
