"""Coverage and blind spots (覆盖分析): how fast each facility set reaches the county's people.

For one facility set — stockpiles, teams (optionally of one force type or with one skill) or
shelters — and the demand points of a scenario, :func:`compute_coverage` gives every point's
travel time from its nearest and second-nearest facility over the roads with the scenario's
closures (plus any what-if closures), the population-weighted share within each threshold,
the blind spots (beyond the largest threshold, or not reachable at all) ranked by population,
and nested drive-time areas (:mod:`gis.isochrones`). :func:`compare` sets a what-if result
(a bridge out, a facility removed) beside its baseline.

Demand points (:func:`demand_sites`)
------------------------------------
* every ``demand_points`` row (villages, schools, factories …) with its population;
* every township seat, holding the part of the township's population that no demand point of
  that township (``township_code``) holds — so a county with villages listed counts each
  person once, and one without counts the whole township at its seat;
* every hazard source (its point, or a point inside its polygon), with no population: it is
  listed and can be blind, but weighs nothing in the shares.

Direction: teams and stockpiles travel *to* the point; for shelters people travel from the
point *to* the shelter (one-way streets make the two differ). Times include the off-road legs
to the nearest road node at walking pace, as :meth:`TravelTimeEngine.matrix_lonlat` defines
them; a point or facility farther than ``max_offroad_m`` from any road is unreachable (its
coordinates are probably wrong), as in ``app.py matrix``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely

from gis.errors import ValidationError
from gis.isochrones import DEFAULT_BUFFER_M, Isochrone, isochrones
from gis.matrix import DEFAULT_OFFROAD_KMH, TravelTimeEngine
from gis.model import ForceType, RoadClosure, Scenario
from gis.roads import RoadNetwork

__all__ = [
    "FACILITY_SETS",
    "DEFAULT_MINUTES",
    "GOLDEN_MINUTES",
    "CoverageError",
    "CoverageRequest",
    "CoverageResult",
    "DemandSite",
    "FacilitySite",
    "PointCoverage",
    "ThresholdShare",
    "WhatIf",
    "bridge_closure",
    "compare",
    "compute_coverage",
    "default_minutes",
    "demand_sites",
    "facility_sites",
    "travel_seconds",
    "what_if",
]

#: Facility sets a coverage is computed for, with their Chinese names.
FACILITY_SETS: dict[str, str] = {
    "stockpiles": "储备库",
    "teams": "救援队伍",
    "shelters": "避难场所",
}
#: Default thresholds (minutes).
DEFAULT_MINUTES: tuple[float, ...] = (15.0, 30.0, 60.0, 90.0)
#: The "golden 4 hours" for relief supplies: stockpiles are also measured against it.
GOLDEN_MINUTES = 240.0
#: Points farther than this from any road are unreachable (as in ``app.py matrix``).
MAX_OFFROAD_M = 5000.0
#: The kind shown for a township seat as a demand point.
SEAT_KIND = "乡镇驻地"


class CoverageError(ValidationError):
    """A coverage cannot be computed as asked (no facilities, no demand, bad thresholds)."""


def default_minutes(facilities: str) -> tuple[float, ...]:
    """15/30/60/90 min, plus the golden 4 hours for stockpiles."""
    return (*DEFAULT_MINUTES, GOLDEN_MINUTES) if facilities == "stockpiles" else DEFAULT_MINUTES


@dataclass(frozen=True, slots=True)
class DemandSite:
    """A point to reach: ``source`` is ``demand_points``, ``townships`` or ``hazards``."""

    id: str
    name: str
    kind: str
    source: str
    population: int
    weight: float
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class FacilitySite:
    id: str
    name: str
    lon: float
    lat: float


def demand_sites(scenario: Scenario) -> tuple[DemandSite, ...]:
    """Demand points, township seats (remaining population) and hazards (see module doc)."""
    out = [
        DemandSite(
            d.id, d.name, d.kind.value, "demand_points", d.population, d.weight, *d.location.xy
        )
        for d in scenario.demand_points
    ]
    listed: dict[str, int] = {}
    for d in scenario.demand_points:
        listed[d.township_code] = listed.get(d.township_code, 0) + d.population
    for t in scenario.townships:
        rest = max(0, t.population - listed.get(t.code, 0))
        out.append(DemandSite(t.code, t.name, SEAT_KIND, "townships", rest, 1.0, *t.location.xy))
    for h in scenario.hazards:
        g = h.geometry if h.geometry.geom_type == "Point" else h.geometry.representative_point()
        out.append(DemandSite(h.id, h.name, h.category, "hazards", 0, 1.0, g.x, g.y))
    return tuple(out)


def facility_sites(
    scenario: Scenario,
    facilities: str,
    *,
    force_type: str | None = None,
    skill: str | None = None,
    removed: Sequence[str] = (),
) -> tuple[FacilitySite, ...]:
    """The facilities of one set, filtered (teams by force type / skill), ``removed`` left out."""
    if facilities not in FACILITY_SETS:
        raise CoverageError(
            f"facilities must be one of {'/'.join(FACILITY_SETS)}, got {facilities!r}"
        )
    items: Sequence[Any] = getattr(scenario, facilities)
    if (force_type or skill) and facilities != "teams":
        raise CoverageError("force type and skill filters apply to teams only")
    if force_type:
        try:
            ft = ForceType(force_type)
        except ValueError:
            allowed = "/".join(f.value for f in ForceType)
            raise CoverageError(
                f"force type must be one of {allowed}, got {force_type!r}"
            ) from None
        items = [t for t in items if t.force_type == ft]
    if skill:
        items = [t for t in items if skill in t.skills]
    known = {e.id for e in getattr(scenario, facilities)}
    unknown = [r for r in removed if r not in known]
    if unknown:
        raise CoverageError(
            f"cannot remove {', '.join(map(repr, unknown))}: not among the {facilities}"
        )
    gone = set(removed)
    return tuple(FacilitySite(e.id, e.name, *e.location.xy) for e in items if e.id not in gone)


@dataclass(frozen=True)
class CoverageRequest:
    """What to compute. ``minutes`` ``None`` = :func:`default_minutes`; ``removed`` facility ids
    and ``extra_closures`` describe a what-if on top of the scenario's own closures."""

    facilities: str = "stockpiles"
    minutes: tuple[float, ...] | None = None
    force_type: str | None = None
    skill: str | None = None
    removed: tuple[str, ...] = ()
    extra_closures: tuple[RoadClosure, ...] = ()
    with_isochrones: bool = True
    buffer_m: float = DEFAULT_BUFFER_M
    max_offroad_m: float = MAX_OFFROAD_M

    def thresholds(self) -> tuple[float, ...]:
        """Sorted distinct thresholds (raises :class:`CoverageError` if not all positive)."""
        given = default_minutes(self.facilities) if self.minutes is None else self.minutes
        values: list[float] = []
        for m in given:
            try:
                v = float(m)
            except (TypeError, ValueError):
                raise CoverageError(f"threshold {m!r} is not a number of minutes") from None
            if not (math.isfinite(v) and v > 0):
                raise CoverageError(f"thresholds must be positive minutes, got {m!r}")
            values.append(v)
        if not values:
            raise CoverageError("no thresholds given")
        return tuple(sorted(set(values)))


@dataclass(frozen=True, slots=True)
class PointCoverage:
    """One demand point's result; times in minutes (``None`` = no facility reaches it)."""

    site: DemandSite
    minutes: float | None
    nearest_id: str | None
    second_minutes: float | None
    second_id: str | None

    @property
    def id(self) -> str:
        return self.site.id

    @property
    def population(self) -> int:
        return self.site.population


@dataclass(frozen=True, slots=True)
class ThresholdShare:
    """Who is within ``minutes``: people, their share of all people, and points."""

    minutes: float
    population: int
    share: float
    points: int


@dataclass(frozen=True)
class CoverageResult:
    request: CoverageRequest
    thresholds: tuple[float, ...]
    facilities: tuple[FacilitySite, ...]
    points: tuple[PointCoverage, ...]
    summary: tuple[ThresholdShare, ...]
    blind_spots: tuple[PointCoverage, ...]
    isochrones: tuple[Isochrone, ...]
    total_population: int
    closures: tuple[str, ...]
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def blind_minutes(self) -> float:
        return self.thresholds[-1]

    def point(self, point_id: str) -> PointCoverage:
        for p in self.points:
            if p.id == point_id:
                return p
        raise KeyError(point_id)


def _ranked_blind(points: Sequence[PointCoverage], limit: float) -> tuple[PointCoverage, ...]:
    """Points beyond ``limit`` minutes or unreachable: most people first, then the slowest
    (unreachable before any time), then by id."""
    blind = [p for p in points if p.minutes is None or p.minutes > limit]
    big = math.inf
    return tuple(
        sorted(
            blind,
            key=lambda p: (-p.population, -(p.minutes if p.minutes is not None else big), p.id),
        )
    )


def compute_coverage(
    scenario: Scenario,
    network: RoadNetwork,
    request: CoverageRequest = CoverageRequest(),
    *,
    engine: TravelTimeEngine | None = None,
) -> CoverageResult:
    """Coverage of ``request.facilities`` over the scenario's demand points (module doc).

    ``engine`` may be an engine on ``network`` already built (its contraction hierarchy is
    reused); it is re-customised for the scenario's closures plus ``request.extra_closures``.

    Raises
    ------
    CoverageError
        Thresholds not positive, no facility in the set, or no demand point at all.
    """
    t0 = time.perf_counter()
    thresholds = request.thresholds()
    if not (math.isfinite(request.max_offroad_m) and request.max_offroad_m >= 0):
        raise CoverageError(f"max off-road distance must be ≥ 0 m, got {request.max_offroad_m!r}")
    facs = facility_sites(
        scenario,
        request.facilities,
        force_type=request.force_type,
        skill=request.skill,
        removed=request.removed,
    )
    label = FACILITY_SETS[request.facilities]
    if not facs:
        raise CoverageError(f"no {request.facilities} ({label}) to measure coverage from")
    sites = demand_sites(scenario)
    if not sites:
        raise CoverageError("no demand points, township seats or hazards to cover")
    closures = (*scenario.closures, *request.extra_closures)
    if engine is None:
        engine = TravelTimeEngine(network, closures)
    elif tuple(engine.closures) != closures:
        engine = engine.with_closures(closures)
    inbound = request.facilities == "shelters"
    secs, f_snap, p_snap, f_far, p_far = travel_seconds(
        engine, facs, sites, inbound=inbound, max_offroad_m=request.max_offroad_m
    )
    t_matrix = time.perf_counter()

    order = np.argsort(secs, axis=0, kind="stable")
    cols = np.arange(len(sites))
    best = secs[order[0], cols]
    second = secs[order[1], cols] if len(facs) > 1 else np.full(len(sites), np.inf)
    points = tuple(
        PointCoverage(
            s,
            _minutes(best[j]),
            facs[order[0, j]].id if math.isfinite(best[j]) else None,
            _minutes(second[j]),
            facs[order[1, j]].id if len(facs) > 1 and math.isfinite(second[j]) else None,
        )
        for j, s in enumerate(sites)
    )
    pops = np.array([s.population for s in sites], dtype=np.int64)
    total = int(pops.sum())
    summary = []
    for t in thresholds:
        within = best <= t * 60.0
        covered = int(pops[within].sum())
        share = covered / total if total else (float(within.mean()) if len(sites) else 0.0)
        summary.append(ThresholdShare(t, covered, round(share, 6), int(within.sum())))
    notes = []
    if total == 0:
        notes.append("无人口数据：覆盖率按需求点个数计算 (no population: shares count points)")
    for what, far, snap, names in (
        ("facility", f_far, f_snap, [f.id for f in facs]),
        ("point", p_far, p_snap, [s.id for s in sites]),
    ):
        for i in np.flatnonzero(far):
            notes.append(
                f"{what} {names[i]} is {snap.distance_m[i]:,.0f} m from any road "
                f"(limit {request.max_offroad_m:,.0f} m): treated as unreachable"
            )
    unreachable = int(np.isinf(best).sum())
    if unreachable:
        notes.append(f"{unreachable} point(s) reached by no {request.facilities} over the roads")
    isos: tuple[Isochrone, ...] = ()
    if request.with_isochrones:
        isos = isochrones(
            engine.network,
            _node_seconds(engine, f_snap.node[~f_far], f_snap.distance_m[~f_far], inbound),
            thresholds,
            inbound=inbound,
            buffer_m=request.buffer_m,
        )
    t_end = time.perf_counter()
    return CoverageResult(
        request=request,
        thresholds=thresholds,
        facilities=facs,
        points=points,
        summary=tuple(summary),
        blind_spots=_ranked_blind(points, thresholds[-1]),
        isochrones=isos,
        total_population=total,
        closures=tuple(c.id for c in closures),
        notes=tuple(notes),
        timings={
            "matrix_s": round(t_matrix - t0, 4),
            "isochrones_s": round(t_end - t_matrix, 4),
            "total_s": round(t_end - t0, 4),
        },
    )


def travel_seconds(
    engine: TravelTimeEngine,
    facs: Sequence[FacilitySite],
    sites: Sequence[DemandSite],
    *,
    inbound: bool,
    max_offroad_m: float = MAX_OFFROAD_M,
) -> tuple[np.ndarray, Any, Any, np.ndarray, np.ndarray]:
    """``[facility, point]`` seconds over the engine's roads (``inbound``: from the point to the
    facility), ``inf`` where there is no path or either end is farther than ``max_offroad_m``
    from any road; also the facility and point snaps and their too-far masks."""
    f_lon = np.array([f.lon for f in facs])
    f_lat = np.array([f.lat for f in facs])
    p_lon = np.array([s.lon for s in sites])
    p_lat = np.array([s.lat for s in sites])
    if inbound:
        m = engine.matrix_lonlat(p_lon, p_lat, f_lon, f_lat, metres=False)
        secs = np.where(m.reachable, m.seconds, np.inf).astype(np.float64).T
        f_snap, p_snap = m.target_snap, m.source_snap
    else:
        m = engine.matrix_lonlat(f_lon, f_lat, p_lon, p_lat, metres=False)
        secs = np.where(m.reachable, m.seconds, np.inf).astype(np.float64)
        f_snap, p_snap = m.source_snap, m.target_snap
    assert f_snap is not None and p_snap is not None
    f_far = f_snap.distance_m > max_offroad_m
    p_far = p_snap.distance_m > max_offroad_m
    secs[f_far, :] = np.inf
    secs[:, p_far] = np.inf
    return secs, f_snap, p_snap, f_far, p_far


def _minutes(seconds: float) -> float | None:
    return round(float(seconds) / 60.0, 2) if math.isfinite(seconds) else None


def _node_seconds(
    engine: TravelTimeEngine, nodes: np.ndarray, offroad_m: np.ndarray, inbound: bool
) -> np.ndarray:
    """Seconds from the nearest facility to every road node (``inbound``: node to facility),
    the facility's own off-road leg included; ``inf`` where none reaches."""
    n = engine.n_nodes
    if nodes.size == 0:
        return np.full(n, np.inf)
    every = np.arange(n)
    if inbound:
        m = engine.matrix(every, nodes, metres=False)
        secs = np.where(m.reachable, m.seconds, np.inf).T
    else:
        m = engine.matrix(nodes, every, metres=False)
        secs = np.where(m.reachable, m.seconds, np.inf)
    leg = offroad_m / (DEFAULT_OFFROAD_KMH / 3.6)
    return (secs + leg[:, None]).min(axis=0)


# --------------------------------------------------------------------------------------------
# What-if
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """A what-if result beside its baseline: points blind now but not before, and people."""

    baseline: CoverageResult
    scenario: CoverageResult
    newly_blind: tuple[PointCoverage, ...]
    newly_blind_population: int
    slower: tuple[tuple[str, float | None, float | None], ...]  # (id, before, after) min

    def share_change(self) -> dict[float, float]:
        """Change of the population share per threshold (after − before)."""
        return {
            a.minutes: round(b.share - a.share, 6)
            for a, b in zip(self.baseline.summary, self.scenario.summary, strict=True)
        }


def compare(baseline: CoverageResult, other: CoverageResult) -> WhatIf:
    """Which points ``other`` leaves blind that ``baseline`` reached in time, and how many
    people; both must be over the same points and thresholds."""
    if baseline.thresholds != other.thresholds:
        raise CoverageError("a what-if must use the baseline's thresholds")
    before = {p.id: p for p in baseline.points}
    if set(before) != {p.id for p in other.points}:
        raise CoverageError("a what-if must cover the baseline's demand points")
    was_blind = {p.id for p in baseline.blind_spots}
    newly = tuple(p for p in other.blind_spots if p.id not in was_blind)
    slower = tuple(
        (p.id, before[p.id].minutes, p.minutes)
        for p in other.points
        if p.minutes != before[p.id].minutes
        and (p.minutes is None or (before[p.id].minutes or 0) < p.minutes)
    )
    return WhatIf(baseline, other, newly, sum(p.population for p in newly), slower)


def what_if(
    scenario: Scenario,
    network: RoadNetwork,
    request: CoverageRequest,
    *,
    bridge: str = "",
    removed: Sequence[str] = (),
) -> tuple[CoverageResult, WhatIf | None]:
    """The baseline of ``request`` and, when a ``bridge`` (name) is closed or facilities are
    ``removed``, the what-if beside it (one engine: the hierarchy is customised, not rebuilt)."""
    # the what-if's inputs are checked before any work (a wrong name fails at once)
    extra = (bridge_closure(network, bridge),) if bridge else ()
    facility_sites(scenario, request.facilities, removed=removed)
    engine = TravelTimeEngine(network, scenario.closures)
    base = compute_coverage(scenario, network, request, engine=engine)
    if not bridge and not removed:
        return base, None
    other = compute_coverage(
        scenario,
        network,
        replace(request, extra_closures=(*request.extra_closures, *extra), removed=tuple(removed)),
        engine=engine,
    )
    return base, compare(base, other)


def bridge_closure(network: RoadNetwork, name: str, *, closure_id: str = "") -> RoadClosure:
    """A closure of the bridge (or road) named ``name``: a point at the middle of its longest
    edge whose name starts with ``name`` and is tagged ``bridge``, radius 20 m (so only that
    edge is closed — a line closure would also close the roads touching its ends)."""
    names = np.asarray(network.edge_name).astype(str)
    rows = np.flatnonzero(np.char.startswith(names, name) & np.asarray(network.edge_bridge))
    if rows.size == 0:
        raise CoverageError(f"no bridge named {name!r} in the road network")
    row = rows[np.argmax(np.asarray(network.edge_length_m)[rows])]
    mid = shapely.line_interpolate_point(network.edge_geometry[row], 0.5, normalized=True)
    return RoadClosure(
        closure_id or f"WHATIF-{name}", mid, reason=f"假设：{name}中断", radius_m=20.0
    )
