"""The plan's record types: one leaf module for everything a :class:`dispatch.plan.Plan` holds.

Plain frozen dataclasses and enums (no solver objects, no Scenario), JSON-able through
:meth:`dispatch.plan.Plan.to_json` (field names are the JSON keys: renaming one changes the
stored plan format). The solvers have their own result types under other names
(:class:`dispatch.allocation.Shipment`, :class:`dispatch.evacuation.Relocation`, the routing
model's ``SiteVisit``/``Tour``); the pipeline turns those into these records.

- plan records: :class:`PlanStatus`, :class:`Approval`, :class:`StageRun`, :class:`Place`,
  :class:`AllocationLine`, :class:`TeamDispatch`, :class:`EvacuationMove`, :class:`RouteStop`,
  :class:`Trip`, :class:`VehicleRoute`, :class:`MaterialRef`, :class:`IncidentOutcome`,
  :class:`PlanInputs` (with a re-plan's :class:`OrderChange` list, :class:`ChangeKind`);
- order records (built by :mod:`dispatch.orders`): :class:`OrderKind`, :class:`TurnStep`,
  :class:`LegPath`, :class:`Leg`, :class:`OrderItem`, :class:`OrderStop`,
  :class:`DispatchOrder`.

Imports only the standard library (a leaf: plan.py, orders.py, the pipeline and the exports all
import from here, never the other way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dispatch.results import Status
from gis.version import SOFTWARE


class PlanStatus(StrEnum):
    DRAFT = "草稿"
    APPROVED = "已批准"
    ISSUED = "已下达"
    EXECUTING = "执行中"
    COMPLETED = "已完成"
    VOID = "已作废"  # with a reason (the step's note); final


@dataclass(frozen=True, slots=True)
class Approval:
    """One step of the workflow: ``action`` (批准/下达/开始执行/完成/退回/作废) by ``who`` at
    ``when``; ``note`` is the remark (the reason, for 作废)."""

    action: str
    who: str
    when: datetime
    to_status: PlanStatus
    note: str = ""


@dataclass(frozen=True, slots=True)
class StageRun:
    """Solver statistics of one pipeline stage (evacuation, allocation, assignment, routing)."""

    stage: str
    status: Status
    objective: float | None = None
    bound: float | None = None
    runtime_s: float = 0.0
    engine: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Place:
    """A named location the plan refers to (stockpile, incident, shelter, team base, group)."""

    id: str
    name: str
    kind: str  # stockpile / incident / shelter / team / group
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """``quantity`` of ``material`` from ``stockpile_id`` to ``site_id`` (incident or shelter)."""

    site_id: str
    material: str
    stockpile_id: str
    quantity: float
    travel_s: float
    from_safety_stock: float = 0.0  # part of ``quantity`` taken from the stockpile's safety stock


@dataclass(frozen=True, slots=True)
class SafetyStockRelease:
    """Safety stock a plan sends out: ``quantity`` of ``material`` from ``stockpile_id``'s
    ``safety_stock`` (the reserve the stockpile keeps) to ``site_id``, an incident of response
    ``level`` (1 = I … 4 = IV; 0 for a shelter)."""

    stockpile_id: str
    material: str
    quantity: float
    safety_stock: float
    site_id: str
    level: int


@dataclass(frozen=True, slots=True)
class TeamDispatch:
    """Team ``team_id`` sent to ``incident_id``, arriving ``eta_s`` seconds after the plan time."""

    team_id: str
    incident_id: str
    eta_s: float
    headcount: int
    skills: tuple[str, ...] = ()
    contributes: Mapping[str, int] = field(default_factory=dict)  # skill → people on it


@dataclass(frozen=True, slots=True)
class EvacuationMove:
    """``people`` of group ``group_id`` move to shelter ``shelter_id``: they leave at
    ``depart_s`` and arrive at ``travel_s`` (seconds after the plan's time; both before it for
    a move carried from an earlier drill plan, :mod:`dispatch.evacuation_state`). ``path``:
    the road path (lon/lat), recorded by drill plans only (a closure ahead of a move)."""

    group_id: str
    shelter_id: str
    people: int
    travel_s: float
    depart_s: float = 0.0
    path: tuple[tuple[float, float], ...] = ()

    @property
    def trip_s(self) -> float:
        """The move's travel time (departure to arrival), whenever it left."""
        return float(self.travel_s) - float(self.depart_s)


@dataclass(frozen=True, slots=True)
class RouteStop:
    """A delivery stop: ``loads`` (material → quantity) unloaded at ``site_id``."""

    site_id: str
    arrival_s: float
    departure_s: float
    loads: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Trip:
    """depot → stops → depot; loads are picked up at ``depot_id`` at ``start_s``."""

    depot_id: str
    start_s: float
    end_s: float
    stops: tuple[RouteStop, ...] = ()


@dataclass(frozen=True, slots=True)
class VehicleRoute:
    vehicle_id: str
    depot_id: str
    trips: tuple[Trip, ...]
    duration_s: float = 0.0
    distance_m: float = 0.0


@dataclass(frozen=True, slots=True)
class MaterialRef:
    """Catalogue facts of a material the plan mentions (so exports need no Scenario)."""

    code: str
    name: str
    unit: str
    unit_weight_kg: float
    unit_volume_m3: float
    name_en: str = ""  # the catalogue's English name (plans stored before it have none)


@dataclass(frozen=True, slots=True)
class IncidentOutcome:
    """What an incident asked for and what the plan gives it.

    ``served_fraction`` is the share of the requested material weight (kg) that the vehicle
    routes deliver; ``staff_fraction`` the share of required skill headcount covered by teams.
    Per material: ``needs`` = ``delivered`` + ``undelivered`` (allocated but on no vehicle; the
    routing's "visit" records say why) + the allocation's shortfall (unserved, with reasons).

    On time: ``deadline_s`` is the incident's deadline in the time base of the routes' stop
    ``arrival_s`` and the teams' ``eta_s`` (seconds after the plan time). ``late`` is, per
    material, the quantity delivered after the deadline (part of ``delivered``);
    ``on_time_fraction`` the share of the requested weight delivered by the deadline;
    ``late_teams`` the teams arriving after it and ``staff_on_time_fraction`` the share of the
    required headcount covered by teams on time; ``late_by_s`` the worst lateness of a delivery
    or team; ``evacuated_late`` the people whose move to a shelter takes longer than the deadline.
    Plans saved before these fields existed load with ``on_time_fraction`` None (unknown).
    """

    incident_id: str
    name: str
    level: int
    needs: Mapping[str, float]
    allocated: Mapping[str, float]
    delivered: Mapping[str, float]
    served_fraction: float
    required_skills: Mapping[str, int]
    covered_skills: Mapping[str, int]
    staff_fraction: float
    teams: tuple[str, ...] = ()
    undelivered: Mapping[str, float] = field(default_factory=dict)  # allocated, not on a vehicle
    deadline_s: float | None = None
    on_time_fraction: float | None = None
    late: Mapping[str, float] = field(default_factory=dict)  # material → quantity after deadline
    late_teams: tuple[str, ...] = ()
    staff_on_time_fraction: float | None = None
    late_by_s: float = 0.0
    evacuated_late: int = 0


class ChangeKind(StrEnum):
    """How a unit's order of a re-plan compares with the previous plan's."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NEW = "new"
    CANCELLED = "cancelled"

    @property
    def label_zh(self) -> str:
        return {"unchanged": "未变", "changed": "变更", "new": "新增", "cancelled": "取消"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class OrderChange:
    """A re-plan's order of unit ``unit_id`` (vehicle or team) against the previous plan's:
    ``order`` / ``previous_order`` are the order numbers ("" when there is none), ``reason``
    says why in Chinese."""

    unit_id: str
    kind: str  # OrderKind value: 调拨单 / 派遣令
    change: ChangeKind
    reason: str = ""
    order: str = ""
    previous_order: str = ""
    unit_name: str = ""


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Audit snapshot: what the plan was computed from and how.

    ``first_plan_s``: seconds from the start of the run to its first complete plan (None in
    plans made before it was recorded; a measurement, so left out of equality: the same inputs
    reproduce the same snapshot). A re-plan names its ``previous_plan`` and lists per
    unit how its order changed (``changes``)."""

    scenario_name: str
    scenario_hash: str
    options: Mapping[str, Any]
    created_at: datetime
    software: str = SOFTWARE  # gis/version.py: the one version
    road_network: str = ""
    notes: tuple[str, ...] = ()
    first_plan_s: float | None = field(default=None, compare=False)  # measured, not an input
    previous_plan: str = ""
    changes: tuple[OrderChange, ...] = ()


# --------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------


class OrderKind(StrEnum):
    TRANSFER = "调拨单"
    DEPLOY = "派遣令"

    @property
    def title_zh(self) -> str:
        return {"调拨单": "应急物资调拨单", "派遣令": "救援队伍派遣令"}[self.value]


@dataclass(frozen=True, slots=True)
class TurnStep:
    """Drive ``distance_m`` on ``road`` (name, or the road class in Chinese if unnamed)."""

    road: str
    distance_m: float
    seconds: float


@dataclass(frozen=True, slots=True)
class LegPath:
    """A path between two places as the order needs it (lon/lat coordinates along the roads)."""

    seconds: float
    metres: float
    steps: tuple[TurnStep, ...]
    coords: tuple[tuple[float, float], ...]


PathFn = Callable[[str, str], "LegPath | None"]


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of an order's route. ``on_roads`` is False when no road path was available
    (then ``coords`` is the straight line and ``steps`` is empty)."""

    from_id: str
    to_id: str
    seconds: float
    metres: float
    steps: tuple[TurnStep, ...]
    coords: tuple[tuple[float, float], ...]
    on_roads: bool = True


@dataclass(frozen=True, slots=True)
class OrderItem:
    material: str
    name: str
    unit: str
    quantity: float
    weight_kg: float


@dataclass(frozen=True, slots=True)
class OrderStop:
    """``action`` 装货 (load) / 卸货 (unload) / 返回 (back at depot) / 出发 / 到达."""

    seq: int
    action: str
    place_id: str
    place_name: str
    eta_s: float
    items: tuple[OrderItem, ...] = ()
    trip: int = 1


@dataclass(frozen=True, slots=True)
class DispatchOrder:
    number: str
    kind: OrderKind
    unit_id: str
    unit_name: str
    unit_type: str  # vehicle kind or team force type
    origin_id: str
    destination_ids: tuple[str, ...]
    stops: tuple[OrderStop, ...]
    items: tuple[OrderItem, ...]  # everything loaded (transfer) — empty for a team
    legs: tuple[Leg, ...]
    depart_s: float
    eta_s: float  # arrival at the last delivery site / at the incident
    end_s: float  # back at the depot (transfer) or = eta_s (team)
    total_seconds: float
    total_metres: float
    task: str = ""
    skills: tuple[str, ...] = ()
    headcount: int = 0
    contact: str = ""
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.kind.title_zh

    @property
    def coords(self) -> tuple[tuple[float, float], ...]:
        """The whole route as one coordinate sequence (legs joined)."""
        out: list[tuple[float, float]] = []
        for leg in self.legs:
            pts = list(leg.coords)
            if out and pts and out[-1] == pts[0]:
                pts = pts[1:]
            out.extend(pts)
        return tuple(out)

    @property
    def total_weight_kg(self) -> float:
        return sum(i.weight_kg for i in self.items)

    def main_roads(self, n: int = 3) -> tuple[str, ...]:
        """The ``n`` roads driven longest, in driving order (the route summary)."""
        totals: dict[str, float] = {}
        order: list[str] = []
        for leg in self.legs:
            for s in leg.steps:
                if s.road not in totals:
                    order.append(s.road)
                totals[s.road] = totals.get(s.road, 0.0) + s.distance_m
        top = set(sorted(totals, key=lambda r: -totals[r])[:n])
        return tuple(r for r in order if r in top)

    def route_summary(self) -> str:
        roads = "→".join(self.main_roads()) or "（无道路路径）"
        return f"经 {roads}，全程 {self.total_metres / 1000:.1f} 公里，约 {self.total_seconds / 60:.0f} 分钟"


__all__ = [
    "AllocationLine",
    "Approval",
    "ChangeKind",
    "DispatchOrder",
    "EvacuationMove",
    "IncidentOutcome",
    "Leg",
    "LegPath",
    "MaterialRef",
    "OrderItem",
    "OrderChange",
    "OrderKind",
    "OrderStop",
    "PathFn",
    "Place",
    "PlanInputs",
    "PlanStatus",
    "RouteStop",
    "SafetyStockRelease",
    "StageRun",
    "TeamDispatch",
    "Trip",
    "TurnStep",
    "VehicleRoute",
]
