"""Pre-positioning (预置) for a hazard warning: stage stock and teams before the disaster.

From warned hazards at one colour (:mod:`gis.hazard_warnings`: 蓝 IV … 红 I):

1. **Design incidents** — :func:`dispatch.planning.stock.design_incidents` (the one builder):
   each warned hazard's 预案 subtype, the warning's response level instead of the hazard's own
   risk level, the people of the demand points within ``radius_m`` (no nearest-point fallback:
   a warned hazard with no demand point nearby is bad input, :class:`PrepositionError`), needs,
   skills and deadline from the template.
2. **Likely closures** — each warned hazard's area (its polygon, or its point with
   ``closure_radius_m``) as a :class:`~gis.model.RoadClosure` at ``closure_speed_factor``
   (default 0.5: water or debris on the road halves speeds; 0 would close the roads, but then
   the hazard itself — where the design incident is — is cut off from everything and no staging
   could serve it). Travel to the design incidents is measured under these closures.
3. **Staging points** — shelters and stockpiles at least ``safe_distance_m`` from every warned
   hazard's area (straight line, in the local UTM zone), reachable from a stockpile over today's
   roads, and within the deadline of at least one design incident under the likely closures.
4. **The model** (SCIP through OR-Tools ``pywraplp``, :class:`dispatch.planning.location._Mip`)::

     y[s,k,i] ≥ 0  stock of item i moved from stockpile s to staging point k (integer when the
                    item is not divisible), ≤ available[s,i] · z[s,k]   (available = stock −
                    safety stock: a depot keeps its safety stock)
     z[s,k] ∈ {0,1} a stock movement (one 预置调拨单 per source × staging point)
     w[j,k] ∈ {0,1} team j moves to staging point k (Σ_k w[j,k] ≤ 1; teams 待命 only)
     q[n,e,i] ≥ 0   stock at place n (stockpile or staging point) used for design incident e,
                    only where n reaches e within e's deadline under the likely closures;
                    Σ_e q[n,e,i] ≤ held after the moves — all warned hazards may strike at once
     v[j,e] ∈ {0,1} team j counted for e; Σ_e v[j,e] ≤ 1; v[j,e] ≤ [base reaches e]·(1 − Σ_k
                    w[j,k]) + Σ_k [k reaches e]·w[j,k]
     Σ_n q[n,e,i] + u[e,i] ≥ need[e,i];  Σ_{j has skill} headcount_j v[j,e] + r[e,σ] ≥ people[e,σ]
     rest of the county (teams, the facilities that move): c[p] ≤ Σ_j reach60(position of j, p),
                    c[p] ∈ [0,1]; Σ_p pop_p c[p] ≥ floor · (population within 60 min before)
     min  PENALTY · (Σ u/need + Σ r/people) + Σ z + Σ w + TONNAGE_TIEBREAK · tonnage moved

   Shortfalls first (each need line weighs the same), then the fewest movements, then the least
   tonnage. Status and bound are SCIP's for this objective. Stock rest-of-county coverage does
   not change: stockpiles stay where they are and keep their safety stock.
5. **Shares** — ``on_time_share``: the share of the design incidents' need lines (item or
   skill) served in full within the deadline, before (no moves: the same model with moves
   forbidden) and after; ``share_within_60``: the rest of the county's population within
   ``within_min`` of a team (teams that are not 待命 count at their base), before and after.

Hand-written model over OR-Tools because no library states this problem; the travel times come
from :class:`gis.matrix.TravelTimeEngine`, shares from :mod:`dispatch.planning.coverage`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import shapely

from dispatch.planning.coverage import (
    DemandSite,
    FacilitySite,
    demand_sites,
    travel_seconds,
)
from dispatch.planning.location import _Mip
from dispatch.planning.stock import DesignIncident, DesignRules, _metric, design_incidents
from dispatch.results import ProgressFn, SolveInfo, Status, StopFn, never_stop, no_progress
from gis.catalogue import PlanTemplates, template_needs
from gis.errors import ValidationError
from gis.hazard_warnings import COLOUR_ZH, WarningError, colour_level
from gis.matrix import TravelTimeEngine
from gis.model import Hazard, Material, RoadClosure, Scenario, TeamStatus
from gis.roads import RoadNetwork

__all__ = [
    "DEFAULT_RADIUS_M",
    "PENALTY",
    "TONNAGE_TIEBREAK",
    "Move",
    "PrepositionError",
    "PrepositionOptions",
    "PrepositionPlan",
    "PrepositionProblem",
    "PrepositionResult",
    "Shares",
    "StagingPoint",
    "WarnRequest",
    "build_problem",
    "likely_closures",
    "plan_preposition",
    "point_site",
    "travel_minutes",
    "solve",
]

#: People within this distance of a warned hazard's area are threatened (a demand point is a
#: village's centre; its houses spread over a kilometre or two around it).
DEFAULT_RADIUS_M = 2500.0
#: Weight of one need line left short (as a share of the line) against one movement.
PENALTY = 1000.0
#: Weight of one tonne moved: among plans with as many movements, the lighter.
TONNAGE_TIEBREAK = 1e-3


class PrepositionError(ValidationError):
    """The pre-positioning cannot be set up as asked (unknown hazard, colour, no people near)."""


@dataclass(frozen=True)
class WarnRequest:
    """What to plan for. ``floor``: the rest of the county keeps this share of its population
    within ``within_min`` minutes before the move."""

    hazard_ids: tuple[str, ...]
    colour: str
    valid_hours: float = 24.0
    seconds: float = 20.0
    floor: float = 0.9
    within_min: float = 60.0
    radius_m: float = DEFAULT_RADIUS_M
    safe_distance_m: float = 500.0
    closure_radius_m: float = 300.0
    closure_speed_factor: float = 0.5
    issued_at: datetime | None = None

    def check(self) -> None:
        if not self.hazard_ids:
            raise PrepositionError("name at least one hazard (--hazard ID)")
        colour_level(self.colour)
        for name in ("valid_hours", "seconds", "within_min"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise PrepositionError(f"{name.replace('_', '-')} must be > 0, got {v!r}")
        if not (0.0 <= self.floor <= 1.0):
            raise PrepositionError(f"floor must be within 0–1, got {self.floor!r}")
        for name in ("radius_m", "safe_distance_m", "closure_radius_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise PrepositionError(f"{name} must be ≥ 0, got {v!r}")
        if not (0.0 <= self.closure_speed_factor < 1.0):
            raise PrepositionError(
                f"closure speed factor must be in [0, 1), got {self.closure_speed_factor!r}"
            )

    @property
    def level(self) -> int:
        return colour_level(self.colour)


@dataclass(frozen=True, slots=True)
class StagingPoint:
    id: str
    name: str
    kind: str  # 避难场所 | 储备库
    lon: float
    lat: float


@dataclass(frozen=True)
class PrepositionProblem:
    """Plain data for :func:`solve` (module doc); minutes are ``inf`` where there is no path."""

    items: tuple[Material, ...]
    incidents: tuple[DesignIncident, ...]  # feasible designs only
    skills: tuple[Mapping[str, int], ...]  # per incident: skill → people
    stockpiles: tuple[str, ...]
    available: np.ndarray  # [stockpile, item]
    staging: tuple[StagingPoint, ...]
    stock_to_staging: np.ndarray  # [stockpile, staging] minutes, today's roads
    stock_to_incident: np.ndarray  # [stockpile, incident] minutes, likely closures
    staging_to_incident: np.ndarray  # [staging, incident] minutes, likely closures
    teams: tuple[str, ...]  # teams that may move (待命)
    team_headcount: tuple[int, ...]
    team_skills: tuple[tuple[str, ...], ...]
    team_to_incident: np.ndarray  # [team, incident] minutes from the base
    rest_population: np.ndarray  # [point]
    rest_fixed: np.ndarray  # [point] bool: covered by a team that does not move
    team_rest: np.ndarray  # [team, point] bool: base within the threshold
    staging_rest: np.ndarray  # [staging, point] bool
    floor: float
    staging_is_stockpile: tuple[int | None, ...]  # staging k → stockpile index, if it is one


@dataclass(frozen=True, slots=True)
class Move:
    """One line of the plan: stock (``material``, ``quantity``) or a team (``team_id``)."""

    kind: str  # stock | team
    from_id: str
    to_id: str
    material: str | None = None
    quantity: float | None = None
    team_id: str | None = None


@dataclass(frozen=True, slots=True)
class Shares:
    on_time_lines: int
    lines: int
    served: float  # quantity-weighted share served in time (stock lines and skill headcount)

    @property
    def on_time_share(self) -> float:
        return round(self.on_time_lines / self.lines, 6) if self.lines else 1.0


@dataclass(frozen=True)
class PrepositionResult:
    info: SolveInfo
    moves: tuple[Move, ...] = ()
    movements: int = 0
    before: Shares | None = None
    after: Shares | None = None
    rest_before: float | None = None
    rest_after: float | None = None
    short: tuple[tuple[str, str, float], ...] = ()  # (incident, item or skill, missing)
    problems: tuple[str, ...] = ()


def _hazard_point(h: Hazard) -> shapely.Point:
    g = h.geometry
    return g if g.geom_type == "Point" else g.representative_point()


def likely_closures(hazards: Sequence[Hazard], request: WarnRequest) -> tuple[RoadClosure, ...]:
    """Each warned hazard's area as a closure at the request's speed factor (module doc)."""
    return tuple(
        RoadClosure(
            id=f"LIKELY-{h.id}",
            geometry=h.geometry,
            reason=f"预警可能中断：{h.name}",
            radius_m=request.closure_radius_m,
            speed_factor=request.closure_speed_factor,
        )
        for h in hazards
    )


def travel_minutes(
    engine: TravelTimeEngine, src: Sequence[FacilitySite], tgt: Sequence[DemandSite]
) -> np.ndarray:
    """``[src, tgt]`` minutes over the engine's roads (``inf``: no path, or off the roads)."""
    if not src or not tgt:
        return np.full((len(src), len(tgt)), np.inf)
    secs = travel_seconds(engine, src, tgt, inbound=False)[0]
    return secs / 60.0


def point_site(id_: str, lon: float, lat: float) -> DemandSite:
    """A place to travel to, as the coverage functions take it (no population)."""
    return DemandSite(id_, id_, "", "", 0, 1.0, lon, lat)


def build_problem(
    scenario: Scenario,
    network: RoadNetwork,
    request: WarnRequest,
    templates: PlanTemplates,
    materials: Sequence[Material],
    *,
    engine: TravelTimeEngine | None = None,
) -> tuple[PrepositionProblem, tuple[DesignIncident, ...], tuple[RoadClosure, ...]]:
    """Design incidents, staging points and travel times (module doc).

    Raises
    ------
    PrepositionError
        Unknown hazard, bad colour or option, or a warned hazard with no demand point nearby.
    """
    request.check()
    known = {h.id: h for h in scenario.hazards}
    unknown = [h for h in request.hazard_ids if h not in known]
    if unknown:
        have = "、".join(known) or "（无）"
        raise PrepositionError(f"unknown hazard {', '.join(unknown)} (workspace hazards: {have})")
    if not scenario.stockpiles:
        raise PrepositionError("workspace has no stockpiles (储备库)")
    ids = list(dict.fromkeys(request.hazard_ids))
    warned = tuple(replace(known[h], risk_level=request.level) for h in ids)
    likely = likely_closures(warned, request)
    base = engine or TravelTimeEngine(network, scenario.closures)
    if tuple(base.closures) != tuple(scenario.closures):
        base = base.with_closures(scenario.closures)
    hit = base.with_closures((*scenario.closures, *likely))
    by_code = {m.code: m for m in materials}
    designs = design_incidents(
        scenario.replace(hazards=warned, closures=(*scenario.closures, *likely)),
        network,
        templates,
        by_code,
        DesignRules(radius_m=request.radius_m, nearest=0),
        engine=hit,
    )
    for e in designs:
        if e.affected == 0:
            raise PrepositionError(
                f"hazard {e.hazard_id} ({e.hazard_name}) has no demand points with people within "
                f"{request.radius_m:g} m: nothing to pre-position for"
            )
    live = tuple(e for e in designs if e.needs and all(c in by_code for c in e.needs))
    skills = []
    for e in live:
        assert e.subtype is not None
        _needs, sk, _dl = template_needs(
            templates, e.subtype, e.level, e.affected, materials=by_code
        )
        skills.append(dict(sk))

    # staging: shelters and stockpiles far enough from every warned hazard's area
    c = warned[0].geometry.centroid
    to_m = _metric(c.x, c.y).transform
    areas = [shapely.transform(h.geometry, to_m, interleaved=False) for h in warned]
    cands = [StagingPoint(s.id, s.name, "避难场所", *s.location.xy) for s in scenario.shelters] + [
        StagingPoint(s.id, s.name, "储备库", *s.location.xy) for s in scenario.stockpiles
    ]
    safe = []
    for p in cands:
        pt = shapely.Point(to_m(p.lon, p.lat))
        if all(shapely.distance(a, pt) >= request.safe_distance_m for a in areas):
            safe.append(p)
    stock = scenario.stockpiles
    s_sites = [FacilitySite(s.id, s.name, *s.location.xy) for s in stock]
    targets = [point_site(e.id, *_hazard_point(known[e.hazard_id]).coords[0]) for e in live]
    stock_to_inc = travel_minutes(hit, s_sites, targets)
    k_sites = [FacilitySite(p.id, p.name, p.lon, p.lat) for p in safe]
    k_to_inc = travel_minutes(hit, k_sites, targets)
    deadlines = np.array([e.deadline_min or 0.0 for e in live])
    useful = [k for k in range(len(safe)) if (k_to_inc[k] <= deadlines + 1e-9).any()]
    s_to_k = travel_minutes(base, s_sites, [point_site(p.id, p.lon, p.lat) for p in safe])
    useful = [k for k in useful if np.isfinite(s_to_k[:, k]).any()]
    safe = [safe[k] for k in useful]
    k_to_inc = k_to_inc[useful] if useful else np.zeros((0, len(live)))
    s_to_k = s_to_k[:, useful] if useful else np.zeros((len(stock), 0))
    k_sites = [k_sites[k] for k in useful]

    codes = sorted({code for e in live for code in e.needs})
    items = tuple(by_code[code] for code in codes)
    available = np.array(
        [[float(s.available(code)) for code in codes] for s in stock], dtype=np.float64
    ).reshape(len(stock), len(codes))

    movable = [t for t in scenario.teams if t.status == TeamStatus.STANDBY]
    fixed = [t for t in scenario.teams if t.status != TeamStatus.STANDBY]
    t_sites = [FacilitySite(t.id, t.name, *t.location.xy) for t in movable]
    team_to_inc = travel_minutes(hit, t_sites, targets)

    threatened = {sid for e in live for sid in e.sites}
    rest = [
        s
        for s in demand_sites(scenario)
        if s.source != "hazards" and s.population > 0 and s.id not in threatened
    ]
    limit = request.within_min + 1e-9
    team_rest = travel_minutes(base, t_sites, rest) <= limit
    staging_rest = travel_minutes(base, k_sites, rest) <= limit
    f_sites = [FacilitySite(t.id, t.name, *t.location.xy) for t in fixed]
    rest_fixed = (travel_minutes(base, f_sites, rest) <= limit).any(axis=0) if fixed else None
    s_index = {s.id: i for i, s in enumerate(stock)}
    problem = PrepositionProblem(
        items=items,
        incidents=live,
        skills=tuple(skills),
        stockpiles=tuple(s.id for s in stock),
        available=available,
        staging=tuple(safe),
        stock_to_staging=s_to_k,
        stock_to_incident=stock_to_inc,
        staging_to_incident=k_to_inc,
        teams=tuple(t.id for t in movable),
        team_headcount=tuple(t.headcount for t in movable),
        team_skills=tuple(t.skills for t in movable),
        team_to_incident=team_to_inc,
        rest_population=np.array([s.population for s in rest], dtype=np.float64),
        rest_fixed=(rest_fixed if rest_fixed is not None else np.zeros(len(rest), dtype=bool)),
        team_rest=team_rest,
        staging_rest=staging_rest,
        floor=request.floor,
        staging_is_stockpile=tuple(s_index.get(p.id) if p.kind == "储备库" else None for p in safe),
    )
    return problem, designs, likely


def _rest_share(problem: PrepositionProblem, position: Sequence[int | None]) -> float:
    """Share of the rest's population within the threshold with team j at staging
    ``position[j]`` (None: at its base)."""
    covered = problem.rest_fixed.copy()
    for j, k in enumerate(position):
        covered |= problem.team_rest[j] if k is None else problem.staging_rest[k]
    total = float(problem.rest_population.sum())
    return round(float(problem.rest_population[covered].sum()) / total, 6) if total else 1.0


@dataclass(frozen=True)
class PrepositionOptions:
    """``allow_moves`` False: the positions as they are (the "before" shares)."""

    seconds: float = 20.0
    allow_moves: bool = True


def solve(
    problem: PrepositionProblem,
    options: PrepositionOptions = PrepositionOptions(),
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> PrepositionResult:
    """The fewest movements that serve the design incidents in time (module doc)."""
    seconds, allow_moves = options.seconds, options.allow_moves
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    P = problem
    if not P.incidents:
        info = SolveInfo(Status.INFEASIBLE, runtime_s=time.perf_counter() - t0, engine="SCIP")
        return PrepositionResult(info, problems=("没有可规划的设计事件",))
    progress(0.1, "建立预置模型")
    mip = _Mip()
    S = mip.solver
    inf = S.infinity()
    n_s, n_k, n_e = len(P.stockpiles), len(P.staging), len(P.incidents)
    deadlines = [e.deadline_min or 0.0 for e in P.incidents]
    codes = [m.code for m in P.items]
    moves_ok = allow_moves and n_k > 0
    y: dict[tuple[int, int, int], object] = {}
    z: dict[tuple[int, int], object] = {}
    if moves_ok:
        for s in range(n_s):
            for k in range(n_k):
                if P.staging_is_stockpile[k] == s or not math.isfinite(P.stock_to_staging[s, k]):
                    continue
                reach = [e for e in range(n_e) if P.staging_to_incident[k, e] <= deadlines[e]]
                terms = []
                for i, m in enumerate(P.items):
                    a = P.available[s, i]
                    if a <= 0 or not any(codes[i] in P.incidents[e].needs for e in reach):
                        continue
                    v = S.NumVar(0, a, "") if m.divisible else S.IntVar(0, math.floor(a), "")
                    y[(s, k, i)] = v
                    terms.append((v, a))
                if terms:
                    zz = S.BoolVar("")
                    z[(s, k)] = zz
                    for v, a in terms:
                        S.Add(v <= a * zz)
    for s in range(n_s):
        for i in range(len(codes)):
            out = [var for (s2, _k, i2), var in y.items() if s2 == s and i2 == i]
            if len(out) > 1:
                S.Add(S.Sum(out) <= P.available[s, i])

    # held after the moves, per place: stockpiles 0..n_s-1, then staging points that are shelters
    def held(place: int, i: int):
        if place < n_s:
            out = [-v for (s, _k, ii), v in y.items() if s == place and ii == i]
            out += [
                v for (_s, k, ii), v in y.items() if ii == i and P.staging_is_stockpile[k] == place
            ]
            return P.available[place, i], out
        k = place - n_s
        return 0.0, [v for (_s, kk, ii), v in y.items() if kk == k and ii == i]

    places = list(range(n_s)) + [n_s + k for k in range(n_k) if P.staging_is_stockpile[k] is None]

    def reaches(place: int, e: int) -> bool:
        t = P.stock_to_incident[place, e] if place < n_s else P.staging_to_incident[place - n_s, e]
        return bool(t <= deadlines[e] + 1e-9)

    short: dict[tuple[int, str], tuple[object, float]] = {}
    for i, code in enumerate(codes):
        q_of: dict[int, list] = {}
        for e, inc in enumerate(P.incidents):
            need = float(inc.needs.get(code, 0.0))
            if need <= 0:
                continue
            terms = []
            for place in places:
                if reaches(place, e):
                    q = S.NumVar(0, inf, "")
                    q_of.setdefault(place, []).append(q)
                    terms.append(q)
            u = S.NumVar(0, need, "")
            short[(e, code)] = (u, need)
            S.Add(S.Sum(terms) + u >= need)
        for place, qs in q_of.items():
            const, var = held(place, i)
            if var:
                S.Add(S.Sum(qs) <= const + S.Sum(var))
            else:
                S.Add(S.Sum(qs) <= const)
    n_j = len(P.teams)
    w: dict[tuple[int, int], object] = {}
    if moves_ok:
        for j in range(n_j):
            for k in range(n_k):
                if any(P.staging_to_incident[k, e] <= deadlines[e] for e in range(n_e)):
                    w[(j, k)] = S.BoolVar("")
            ws = [w[(j, k)] for k in range(n_k) if (j, k) in w]
            if ws:
                S.Add(S.Sum(ws) <= 1)
    team_short: dict[tuple[int, str], tuple[object, float]] = {}
    v_by_team: dict[int, list] = {}
    v: dict[tuple[int, int], object] = {}
    for e in range(n_e):
        if not P.skills[e]:
            continue
        for j in range(n_j):
            if not set(P.team_skills[j]) & set(P.skills[e]):
                continue
            base_ok = P.team_to_incident[j, e] <= deadlines[e]
            moved = [
                w[(j, k)]
                for k in range(n_k)
                if (j, k) in w and P.staging_to_incident[k, e] <= deadlines[e]
            ]
            if not base_ok and not moved:
                continue
            vv = S.BoolVar("")
            v[(j, e)] = vv
            v_by_team.setdefault(j, []).append(vv)
            away = [w[(j, k)] for k in range(n_k) if (j, k) in w]
            rhs = (1 - S.Sum(away) if away else 1) if base_ok else 0
            S.Add(vv <= rhs + (S.Sum(moved) if moved else 0))
        for skill, people in P.skills[e].items():
            r = S.NumVar(0, float(people), "")
            team_short[(e, skill)] = (r, float(people))
            terms = [
                P.team_headcount[j] * v[(j, e)]
                for j in range(n_j)
                if (j, e) in v and skill in P.team_skills[j]
            ]
            S.Add(S.Sum(terms) + r >= float(people))
    for vs in v_by_team.values():
        S.Add(S.Sum(vs) <= 1)
    # rest of the county: the floor on the population within the threshold of a team
    rest_before = _rest_share(P, [None] * n_j)
    if w and P.rest_population.size:
        total = float(P.rest_population.sum())
        cover = []
        for p in range(P.rest_population.size):
            if P.rest_fixed[p]:
                cover.append(P.rest_population[p])
                continue
            terms = []
            for j in range(n_j):
                away = [w[(j, k)] for k in range(n_k) if (j, k) in w]
                if P.team_rest[j, p]:
                    terms.append(1 - S.Sum(away) if away else 1)
                terms += [w[(j, k)] for k in range(n_k) if (j, k) in w and P.staging_rest[k, p]]
            if not terms:
                continue
            c = S.NumVar(0, 1, "")
            S.Add(c <= S.Sum(terms))
            cover.append(P.rest_population[p] * c)
        S.Add(S.Sum(cover) >= P.floor * rest_before * total - 1e-6)
    weights = {m.code: m.unit_weight_kg for m in P.items}
    obj = [PENALTY / need * u for (_e, _c), (u, need) in short.items()]
    obj += [PENALTY / people * r for (_e, _s), (r, people) in team_short.items()]
    obj += list(z.values()) + list(w.values())
    obj += [TONNAGE_TIEBREAK * weights[codes[i]] / 1000.0 * var for (_s, _k, i), var in y.items()]
    S.Minimize(S.Sum(obj))
    progress(0.3, "求解预置模型")
    status, objective, bound = mip.solve(seconds, stop)
    info = SolveInfo(status, objective, bound, time.perf_counter() - t0, "SCIP")
    if objective is None:
        return PrepositionResult(info, rest_before=rest_before)
    moves: list[Move] = []
    for (s, k), zz in z.items():
        if zz.solution_value() < 0.5:  # type: ignore[attr-defined]
            continue
        for (s2, k2, i), var in y.items():
            if (s2, k2) != (s, k):
                continue
            qv = var.solution_value()  # type: ignore[attr-defined]
            qv = float(round(qv)) if not P.items[i].divisible else round(qv, 3)
            if qv > 1e-9:
                moves.append(Move("stock", P.stockpiles[s], P.staging[k].id, codes[i], qv))
    position: list[int | None] = [None] * n_j
    for (j, k), ww in w.items():
        if ww.solution_value() > 0.5:  # type: ignore[attr-defined]
            position[j] = k
            moves.append(Move("team", P.teams[j], P.staging[k].id, team_id=P.teams[j]))
    trips = len({(m.from_id, m.to_id) for m in moves})
    lines = on_time = 0
    served = 0.0
    missing = []
    for (e, what), (u, need) in (*short.items(), *team_short.items()):
        gap = u.solution_value()  # type: ignore[attr-defined]
        lines += 1
        served += 1.0 - min(1.0, gap / need)
        if gap <= 1e-6 * max(1.0, need):
            on_time += 1
        else:
            missing.append((P.incidents[e].id, what, round(gap, 3)))
    shares = Shares(on_time, lines, round(served / lines, 6) if lines else 1.0)
    progress(1.0, "完成")
    return PrepositionResult(
        info,
        moves=tuple(moves),
        movements=trips,
        after=shares,
        rest_before=rest_before,
        rest_after=_rest_share(P, position),
        short=tuple(missing),
    )


@dataclass(frozen=True)
class PrepositionPlan:
    request: WarnRequest
    issued_at: datetime
    valid_until: datetime
    hazards: tuple[Hazard, ...]
    designs: tuple[DesignIncident, ...]
    closures: tuple[RoadClosure, ...]
    problem: PrepositionProblem
    result: PrepositionResult
    materials: Mapping[str, Material] = field(default_factory=dict)

    @property
    def colour_zh(self) -> str:
        return COLOUR_ZH[self.request.colour]


def plan_preposition(
    scenario: Scenario,
    network: RoadNetwork,
    request: WarnRequest,
    *,
    templates: PlanTemplates | None = None,
    engine: TravelTimeEngine | None = None,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> PrepositionPlan:
    """Design incidents → staging points → the plan, with shares before and after.

    Raises :class:`PrepositionError` (or :class:`gis.hazard_warnings.WarningError`) on bad input.
    """
    from gis.catalogue import load_materials, load_plan_templates

    progress = progress or no_progress
    try:
        request.check()
    except WarningError as exc:
        raise PrepositionError(str(exc)) from None
    materials = tuple(scenario.materials) or load_materials()
    templates = load_plan_templates() if templates is None else templates
    progress(0.05, "设计事件与路网时间")
    problem, designs, likely = build_problem(
        scenario, network, request, templates, materials, engine=engine
    )
    issued = request.issued_at or datetime.now().astimezone().replace(microsecond=0)

    def part(lo: float, hi: float) -> ProgressFn:
        return lambda f, msg: progress(lo + (hi - lo) * f, msg)

    before = solve(
        problem,
        PrepositionOptions(max(1.0, request.seconds / 4), allow_moves=False),
        stop=stop,
        progress=part(0.2, 0.35),
    )
    result = solve(
        problem, PrepositionOptions(request.seconds), stop=stop, progress=part(0.35, 1.0)
    )
    planned = {e.id for e in problem.incidents}
    problems = [f"{e.hazard_name}（{e.id}）：{e.problem}" for e in designs if e.id not in planned]
    result = replace(result, before=before.after, problems=(*problems, *result.problems))
    by_id = {h.id: h for h in scenario.hazards}
    return PrepositionPlan(
        request,
        issued,
        issued + timedelta(hours=request.valid_hours),
        tuple(by_id[h] for h in dict.fromkeys(request.hazard_ids)),
        designs,
        likely,
        problem,
        result,
        {m.code: m for m in materials},
    )
