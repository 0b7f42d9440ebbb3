"""Vehicle routing for emergency deliveries (multi-depot, two capacity dimensions, time windows,
max route duration, split delivery, multi-trip) with two engines behind one interface.

Model
-----
Locations ``0..n-1`` index the two matrices (int seconds, int metres); the first
``len(depots)`` locations are the depots (stockpiles). An entry ``>= UNREACHABLE`` (the one
"no path" sentinel, :data:`gis.units.UNREACHABLE` = int32 max; sums of entries are taken in
Python ints or int64 only) or
``False`` in the optional ``reachable`` mask means there is no road.

Every vehicle leaves its depot at t = 0 (the plan's reference time), or at its ``ready_s`` when
it is still out on an issued trip at a re-plan (:mod:`dispatch.fleet_state`); loading at the
depot takes ``loading_s`` before each trip (the first and every reload); a vehicle must be back
at its depot by ``max_duration_s``. A vehicle makes at most ``max_trips`` trips (multi-trip: it
returns to its own depot to reload). Travel time of a vehicle = matrix seconds /
``speed_factor``, rounded up. A delivery's time window ``[earliest_s, deadline_s]`` bounds the
*start of unloading* at the site; unloading takes ``service_s``. Goods are picked up at
``pickup_depot`` (the stockpile the allocation chose): only vehicles based there carry them.
Since no resource is shared between depots, the problem decomposes exactly by depot (the PyVRP
engine solves one depot after the other, splitting the time; OR-Tools solves one model with
per-depot vehicle restrictions).

Split delivery (before solving)
-------------------------------
A delivery that fits some vehicle of its pickup depot in both dimensions stays whole. Otherwise
it is cut into ``k`` equal pieces, where ``k = min over the depot's vehicles v of
max(ceil(weight / cap_kg(v)), ceil(volume / cap_m3(v)))``: each piece (weight/k, volume/k) then
fits the vehicle that needs the fewest pieces in both dimensions. Material quantities are split
the same way (integer quantities as evenly as possible, pieces differing by at most one unit),
so a piece's weight assumes the load is homogeneous. The delivery's completion time is that of
its last piece.

Objectives and what each engine really optimises
------------------------------------------------
``objective="emergency"`` (default): minimise Σ priority × completion time of each delivery.
``objective="travel_time"``: minimise total driving time.

- ``engine="ortools"``: exact emergency objective — a soft upper bound at 0 on the time cumul of
  each piece with coefficient round(10 × priority / pieces) adds Σ priority × start-of-unloading
  (completion = start + a constant service time), plus total travel time as a small tie-break
  (arc costs, which guided local search needs). Multi-trip via duplicated depot *reload* nodes
  (optional, tied to one vehicle) whose negative demand and free slack reset both load
  dimensions. Runs in a child process killed after limit + grace (hard stop), returning the best
  solution its solution callback reported.
- ``engine="pyvrp"``: PyVRP cannot express arrival-time costs; it minimises total route duration
  (travel + unloading + waiting) with native reloading (``reload_depots``/``max_reloads``).
  Phase 1 makes every piece required (only then does its search insert reload visits); if no
  feasible plan exists by half the time, phase 2 makes pieces optional with a prize of
  (horizon + 1) × priority (prize-collecting: when capacity runs short the high-priority loads
  are kept), warm-started from phase 1.
- ``engine="hybrid"``: PyVRP for the first third of the time (two thirds for ``travel_time``),
  then OR-Tools on the exact objective warm-started from PyVRP's routes; the better plan
  (fewer priority-weighted undelivered loads, then the objective) is kept.

Every engine's plan then goes through the same exact post-processing, using the scheduler in
this module: infeasible pieces are dropped (repair), unrouted pieces are inserted greedily
(highest priority first, or in place of a lower-priority piece), and each vehicle's trip order
and stop sequence are improved by exact local search on the chosen objective.

Anything that cannot be delivered becomes an :class:`~dispatch.results.Unserved` with a
Chinese reason (unreachable, no vehicle at the depot, too large for every vehicle, deadline
impossible even directly, or not enough vehicles/trips in time), never an exception. Invalid
*input* (shapes, indices, negative values) raises :class:`gis.errors.ValidationError`.

Package layout
--------------
- :mod:`dispatch.routing.model`: problem, vehicle, delivery, options and result types; units;
- :mod:`dispatch.routing.jobs`: deliveries cut into vehicle-sized pieces (*jobs*) and screened;
- :mod:`dispatch.routing.schedule`: exact schedule of a vehicle's trips, repair, insertion,
  local improvement (the post-processing every engine's plan goes through);
- :mod:`dispatch.routing.engines`: the engine protocol and the PyVRP, OR-Tools and hybrid
  engines (they use only public names of the modules above);
- :mod:`dispatch.routing.solve`: :func:`solve_routing`, which runs an engine and builds the
  :class:`RoutingResult`.

This package re-exports the public names; callers import from ``dispatch.routing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dispatch.routing.model import (
    DEFAULT_ENGINE,
    ENGINES,
    KG_UNIT,
    M3_UNIT,
    OBJECTIVES,
    PRIORITY_UNIT,
    UNREACHABLE,
    Delivery,
    Route,
    RoutingOptions,
    RoutingProblem,
    RoutingResult,
    RoutingVehicle,
    SiteVisit,
    Tour,
    job_matrix,
    vehicles_by_depot,
)

if TYPE_CHECKING:  # pragma: no cover
    from dispatch.routing.solve import describe, solve_routing


def __getattr__(name: str) -> Any:
    """``solve_routing`` and ``describe``, imported on first use: the OR-Tools child process
    imports :mod:`dispatch.routing.engines.ortools` (hence this package) and needs neither,
    and every millisecond of its start-up counts against the solver's time limit."""
    if name in ("solve_routing", "describe"):
        from dispatch.routing import solve

        value = getattr(solve, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "KG_UNIT",
    "M3_UNIT",
    "OBJECTIVES",
    "PRIORITY_UNIT",
    "UNREACHABLE",
    "Delivery",
    "Route",
    "RoutingOptions",
    "RoutingProblem",
    "RoutingResult",
    "RoutingVehicle",
    "SiteVisit",
    "Tour",
    "describe",
    "job_matrix",
    "solve_routing",
    "vehicles_by_depot",
]
