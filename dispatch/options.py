"""The dispatch run's options (:class:`DispatchOptions`): time limit, engine, solver switches.

Plain frozen data, stored in the plan's audit snapshot (:meth:`DispatchOptions.to_dict`) and
read back with :meth:`DispatchOptions.from_dict` (unknown keys ignored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.travel import MAX_OFFROAD_M
from gis.errors import ValidationError

#: Default per-person-per-day supply standard of a shelter (material code → quantity):
#: 3 L water ≈ ¼ case of 24×0.55 L, 3 meals ≈ ⅛ case of 24 portions, one quilt.
DEFAULT_SHELTER_STANDARD: Mapping[str, float] = {"WATER": 0.25, "FOOD": 0.125, "QUILT": 1.0}


@dataclass(frozen=True)
class DispatchOptions:
    """Parameters of :func:`plan_dispatch` (all stored in the plan's audit snapshot).

    Attributes
    ----------
    seconds
        Time budget of the solver stages together: evacuation and team assignment each take at
        most 15 % of it, vehicle routing what is left (at least 20 %); every stage stops at its
        limit with its best plan so far.
    engine
        Routing engine (``"pyvrp"`` / ``"ortools"`` / ``"hybrid"``); None = the routing
        module's default.
    routing_objective
        ``"emergency"`` (default: Σ priority × delivery completion time) or ``"travel_time"``
        (total driving time), see :class:`dispatch.routing.RoutingOptions`.
    release_safety_levels
        Response levels (1 = I … 4 = IV) for which safety stock may be released.
    allow_late
        Allocation may use stockpiles that cannot arrive before the incident deadline. None
        (default) follows the deadline mode: allowed with soft deadlines, not with hard ones.
    hard_deadlines
        Incident deadlines (golden hours) are hard: allocation takes no stock that cannot arrive
        in time, vehicle routing drops deliveries that would arrive after the deadline (reason
        超出时限) and team assignment sends no team that would arrive late — fewer needs served,
        none late. Default False (soft): late is better than never — every need that stock,
        vehicles and teams allow is served, as early as the fleet allows (priority still rushes
        it), and what arrives after the deadline is reported 迟到 with by how much.
    evacuate
        Run the evacuation stage (and feed shelter supply deficits into the allocation).
    shelter_standard, shelter_days
        Per-person-per-day supply standard of shelters and the number of days to cover.
    service_s, loading_s
        Unloading time at a delivery site and loading time at the depot before each trip (s).
    max_trips
        Trips a vehicle may make (it returns to its depot to reload between them).
    max_route_s
        Maximum duration of a vehicle's working day (all trips), seconds.
    prefix
        Plan number prefix (default: scenario metadata ``plan_prefix``, else ``HJ``).
    created_at
        The plan's time (default: now); ETAs are counted from it.
    existing_numbers
        Plan numbers already used (the next free daily sequence is taken).
    pins, forbids
        Operator decisions for team assignment: (team_id, incident_id) pairs.
    max_offroad_m
        A stockpile, team, incident or shelter farther than this from the nearest road is
        unreachable (with a note naming it). Only used with a road network.
    seed
        Random seed passed to the solvers that take one (CP-SAT evacuation and team
        assignment, PyVRP routing; OR-Tools routing has none). Default 0, as before.
    """

    seconds: float = 10.0
    engine: str | None = None
    release_safety_levels: tuple[int, ...] = (1, 2)
    allow_late: bool | None = None
    hard_deadlines: bool = False
    evacuate: bool = True
    shelter_standard: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SHELTER_STANDARD)
    )
    shelter_days: float = 1.0
    service_s: int = 600
    loading_s: int = 900
    max_trips: int = 6
    max_route_s: int = 12 * 3600
    prefix: str | None = None
    created_at: datetime | None = None
    existing_numbers: tuple[str, ...] = ()
    pins: tuple[tuple[str, str], ...] = ()
    forbids: tuple[tuple[str, str], ...] = ()
    routing_objective: str = "emergency"
    max_offroad_m: float = MAX_OFFROAD_M
    seed: int = 0

    @property
    def late_allowed(self) -> bool:
        """Whether allocation may use stock that cannot arrive before the deadline."""
        return (not self.hard_deadlines) if self.allow_late is None else bool(self.allow_late)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DispatchOptions:
        """Options back from a plan's audit snapshot (``plan.inputs.options``), to reproduce it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"dispatch options: unknown key(s) {', '.join(unknown)}")
        kw = dict(data)
        for name in ("release_safety_levels",):
            if name in kw:
                kw[name] = tuple(int(x) for x in kw[name])
        for name in ("pins", "forbids"):
            if name in kw:
                kw[name] = tuple((str(a), str(b)) for a, b in kw[name])
        if "shelter_standard" in kw:
            kw["shelter_standard"] = {str(k): float(v) for k, v in kw["shelter_standard"].items()}
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native snapshot (lists, dicts, numbers, text) for the plan's audit record."""
        return {
            "seconds": float(self.seconds),
            "engine": self.engine,
            "release_safety_levels": [int(x) for x in self.release_safety_levels],
            "allow_late": None if self.allow_late is None else bool(self.allow_late),
            "hard_deadlines": bool(self.hard_deadlines),
            "evacuate": bool(self.evacuate),
            "shelter_standard": {str(k): float(v) for k, v in self.shelter_standard.items()},
            "shelter_days": float(self.shelter_days),
            "service_s": int(self.service_s),
            "loading_s": int(self.loading_s),
            "max_trips": int(self.max_trips),
            "max_route_s": int(self.max_route_s),
            "prefix": self.prefix,
            "pins": [list(p) for p in self.pins],
            "forbids": [list(p) for p in self.forbids],
            "routing_objective": str(self.routing_objective),
            "max_offroad_m": float(self.max_offroad_m),
            "seed": int(self.seed),
        }


__all__ = ["DEFAULT_SHELTER_STANDARD", "DispatchOptions"]
