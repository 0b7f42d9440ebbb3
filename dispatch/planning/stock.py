"""How much to hold (储多少、储什么): design incidents per hazard and the least stock that serves each.

Design incidents (:func:`design_incidents`)
-------------------------------------------
One per hazard source of the scenario:

* **subtype** (预案模板的事件类型): the first template subtype named in the hazard's name,
  category or description (e.g. "泥石流" in "车辋镇泥石流隐患沟"), else by category —
  :data:`CATEGORY_SUBTYPE` (地质灾害隐患点 → 滑坡, 山洪危险区 → 山洪, 危化品企业 → 危化品泄漏,
  内涝风险区 → 内涝, 尾矿库 → 泥石流 …). No match: the design is named infeasible.
* **level**: the hazard's ``risk_level`` (1 重大 … 4 低) read as the response level I … IV.
* **affected people**: the population of the demand points (villages, schools … with people;
  the township seats only in a workspace without demand points — a seat stands for the whole
  rest of its township, e.g. 128,000 people in 符阳街道, far more than one hazard affects)
  within ``radius_m`` (default 1 km, straight line, 0 inside a polygon hazard) of the hazard;
  when none lies within it, the nearest ``nearest`` (default 1) point(s) with people.
* **needs** and **deadline**: from the 预案 template of subtype × level
  (:func:`gis.catalogue.template_needs`: per 100 affected people, whole units for items that are
  not divisible; deadline = the template's ``deadline_min``, or ``deadline_min`` if given).
* **reach**: stockpiles whose travel time to the hazard (its point, or a point inside its
  polygon) over the roads with the scenario's closures is within the deadline.
  None within it: the design is named infeasible with the nearest stockpile's minutes.

Recommended stock (:func:`solve_stock`)
---------------------------------------
Each design incident is its own scenario: the stock must cover every incident *separately*,
not all at once (the county restocks between events). Within one incident every stockpile in
reach can send all it holds, so the model is a covering MIP::

    min  Σ_s Σ_i w_i x_si                      (w_i = unit weight in kg: the least total tonnage)
    s.t. Σ_{s reaches e} x_si + u_ei ≥ need_ei  for each design incident e and item i
         Σ_i v_i x_si ≤ capacity_s (m³)          for each stockpile s
         x_si ≥ 0, integer where the item is not divisible; u_ei ≥ 0 (shortfall, penalised)

Shortfalls ``u`` (only when capacity is too small) are penalised at :data:`SHORTFALL_PENALTY`
× w_i and named. The objective also carries :data:`PURCHASE_TIEBREAK` (1 %) × the tonnage to
buy (Σ w_i max(0, x_si − held_si)), so ties go to the stock already in place. (A second,
lexicographic stage with the tonnage fixed at its optimum did not finish in 20 s on the demo:
symmetric integer solutions.) ``objective`` and ``bound`` are of this whole objective.
SCIP (OR-Tools ``pywraplp``) rather than GLOP: most items come in whole units, and rounding an
LP solution up per stockpile would not be minimal; the model is small (≈ items × stockpiles
variables) and SCIP proves it optimal in well under a second on the demo county.

With ``pairs`` the stock must also serve any two design incidents at the same time: for each
pair and shared item, Σ_{s reaches e or f} x_si ≥ need_ei + need_fi (with the rows above this
is exactly the condition for a split of the stock between the two to exist — Gale's theorem on
a bipartite supply/demand network with two demands; the tests check it by max-flow).

Capacity: a stockpile's stated 库容 (:attr:`gis.model.Stockpile.capacity_m3`, m³) is the limit
(``capacity_source`` ``"stated"``). Where none is stated (older workspaces, the demo) the limit is
estimated as ``capacity_factor`` (default 1.5) × the volume of its current inventory — a store
already holding goods has room for half as much again (``"estimated"``); an empty (newly planned)
stockpile without a stated capacity has no limit (``"unlimited"``, ``capacity_m3`` ``None``).
A stockpile already holding more than its stated capacity is named in ``over_capacity``.

Safety stock: a design-level incident is when safety stock is released, so the recommended
quantity is the whole stock the design needs; items held below their safety stock are flagged
separately (:func:`stock_report`).

Expiry (到期日): TODO — inventory lines carry no production/expiry date on main yet.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyproj
import shapely

from dispatch.planning.coverage import MAX_OFFROAD_M, demand_sites
from dispatch.planning.location import _Mip
from dispatch.results import ProgressFn, SolveInfo, Status, StopFn, never_stop, no_progress
from gis.catalogue import PlanTemplates, template_needs
from gis.errors import ValidationError
from gis.matrix import TravelTimeEngine
from gis.model import LEVEL_ROMAN, Material, Scenario
from gis.roads import RoadNetwork

__all__ = [
    "CATEGORY_SUBTYPE",
    "DEFAULT_CAPACITY_FACTOR",
    "DEFAULT_NEAREST",
    "DEFAULT_RADIUS_M",
    "PURCHASE_TIEBREAK",
    "SHORTFALL_PENALTY",
    "DesignIncident",
    "DesignRules",
    "StockError",
    "StockItemLine",
    "StockOptions",
    "StockProblem",
    "StockReport",
    "StockPlan",
    "StockRequest",
    "StockResult",
    "build_problem",
    "design_incidents",
    "plan_stock",
    "solve_stock",
    "stock_report",
]

#: Hazard category → 预案 subtype, when the hazard's text names no subtype itself.
CATEGORY_SUBTYPE: Mapping[str, str] = {
    "地质灾害隐患点": "滑坡",
    "滑坡隐患点": "滑坡",
    "崩塌隐患点": "滑坡",
    "泥石流隐患点": "泥石流",
    "尾矿库": "泥石流",
    "山洪危险区": "山洪",
    "山洪灾害危险区": "山洪",
    "内涝风险区": "内涝",
    "洪涝风险区": "内涝",
    "危化品企业": "危化品泄漏",
    "危险化学品企业": "危化品泄漏",
    "加油站": "危化品泄漏",
    "森林火险区": "森林火灾",
    "林区": "森林火灾",
    "地震断裂带": "地震",
}
DEFAULT_RADIUS_M = 1000.0
DEFAULT_NEAREST = 1
DEFAULT_CAPACITY_FACTOR = 1.5
#: A unit short costs this many times its weight: shortfalls only where capacity forces them.
SHORTFALL_PENALTY = 1000.0
#: Weight of the tonnage to buy in the objective: among (near-)equal stockings, the one that
#: keeps what is already held (the tonnage may exceed its optimum by at most this share of the
#: tonnage bought).
PURCHASE_TIEBREAK = 0.01


class StockError(ValidationError):
    """The stock plan cannot be set up as asked (bad option, no stockpile, no catalogue)."""


@dataclass(frozen=True)
class DesignRules:
    """How design incidents are made (module doc)."""

    radius_m: float = DEFAULT_RADIUS_M
    nearest: int = DEFAULT_NEAREST
    deadline_min: float | None = None  # None: the template's deadline

    def check(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m >= 0):
            raise StockError(f"radius must be ≥ 0 m, got {self.radius_m!r}")
        if self.nearest < 0:
            raise StockError(f"nearest must be ≥ 0, got {self.nearest!r}")
        if self.deadline_min is not None and not (
            math.isfinite(self.deadline_min) and self.deadline_min > 0
        ):
            raise StockError(f"deadline must be > 0 minutes, got {self.deadline_min!r}")


@dataclass(frozen=True)
class DesignIncident:
    """One hazard's design incident; ``problem`` (non-empty) says why it cannot be planned for."""

    id: str
    hazard_id: str
    hazard_name: str
    category: str
    subtype: str | None
    level: int
    affected: int
    sites: tuple[str, ...]  # demand site ids counted in ``affected``
    deadline_min: float | None
    needs: Mapping[str, float]
    minutes: Mapping[str, float | None]  # stockpile id → travel minutes (None: no path)
    reach: tuple[str, ...]  # stockpile ids within the deadline
    problem: str = ""

    @property
    def feasible(self) -> bool:
        return not self.problem

    @property
    def level_text(self) -> str:
        return LEVEL_ROMAN[self.level]


def _subtype(hazard_text: Sequence[str], category: str, templates: PlanTemplates) -> str | None:
    for text in hazard_text:
        for name in sorted(templates, key=len, reverse=True):
            if name and name in text:
                return name
    sub = CATEGORY_SUBTYPE.get(category.strip())
    return sub if sub in templates else None


def _metric(lon: float, lat: float) -> pyproj.Transformer:
    zone = int((lon + 180) // 6) + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return pyproj.Transformer.from_crs(4326, epsg, always_xy=True)


def design_incidents(
    scenario: Scenario,
    network: RoadNetwork,
    templates: PlanTemplates,
    materials: Mapping[str, Material],
    rules: DesignRules = DesignRules(),
    *,
    engine: TravelTimeEngine | None = None,
) -> tuple[DesignIncident, ...]:
    """One design incident per hazard (module doc); problems are named, never raised."""
    rules.check()
    hazards = scenario.hazards
    if not hazards:
        return ()
    sites = [s for s in demand_sites(scenario) if s.source != "hazards" and s.population > 0]
    people = [s for s in sites if s.source == "demand_points"] or sites
    stock = scenario.stockpiles
    minutes = np.full((len(stock), len(hazards)), np.inf)
    if stock:
        if engine is None:
            engine = TravelTimeEngine(network, scenario.closures)
        pts = [
            h.geometry if h.geometry.geom_type == "Point" else h.geometry.representative_point()
            for h in hazards
        ]
        m = engine.matrix_lonlat(
            np.array([s.location.xy[0] for s in stock]),
            np.array([s.location.xy[1] for s in stock]),
            np.array([p.x for p in pts]),
            np.array([p.y for p in pts]),
            metres=False,
        )
        secs = np.where(m.reachable, m.seconds, np.inf).astype(np.float64)
        assert m.source_snap is not None and m.target_snap is not None
        secs[m.source_snap.distance_m > MAX_OFFROAD_M, :] = np.inf
        secs[:, m.target_snap.distance_m > MAX_OFFROAD_M] = np.inf
        minutes = secs / 60.0
    c = hazards[0].geometry.centroid
    to_m = _metric(c.x, c.y).transform
    site_pts = shapely.points([to_m(s.lon, s.lat) for s in people] if people else np.empty((0, 2)))
    out = []
    for k, h in enumerate(hazards):
        geom = shapely.transform(h.geometry, to_m, interleaved=False)
        dist = shapely.distance(geom, site_pts) if people else np.empty(0)
        near = [j for j in np.argsort(dist, kind="stable") if dist[j] <= rules.radius_m]
        if not near:
            near = [int(j) for j in np.argsort(dist, kind="stable")[: rules.nearest]]
        affected = int(sum(people[j].population for j in near))
        sub = _subtype((h.name, h.category, h.description), h.category, templates)
        mins = {
            s.id: (round(float(minutes[i, k]), 2) if math.isfinite(minutes[i, k]) else None)
            for i, s in enumerate(stock)
        }
        base = dict(
            id=f"D-{h.id}",
            hazard_id=h.id,
            hazard_name=h.name,
            category=h.category,
            subtype=sub,
            level=h.risk_level,
            affected=affected,
            sites=tuple(people[j].id for j in near),
            minutes=mins,
        )
        if sub is None:
            known = "、".join(templates)
            out.append(
                DesignIncident(
                    **base,
                    deadline_min=None,
                    needs={},
                    reach=(),
                    problem=f"危险源类别“{h.category}”没有对应的预案模板（已有：{known}）",
                )
            )
            continue
        try:
            needs, _skills, deadline = template_needs(
                templates, sub, h.risk_level, affected, materials=materials
            )
        except ValidationError as exc:
            out.append(
                DesignIncident(**base, deadline_min=None, needs={}, reach=(), problem=str(exc))
            )
            continue
        if rules.deadline_min is not None:
            deadline = rules.deadline_min
        reach = tuple(sid for sid, t in mins.items() if t is not None and t <= deadline + 1e-9)
        unknown = sorted(c for c in needs if c not in materials)
        problem = ""
        if unknown:
            problem = f"预案物资 {'、'.join(unknown)} 不在物资目录中"
        elif affected == 0:
            problem = "附近没有有人口的需求点，无法估计受影响人数"
        elif not stock:
            problem = "没有储备库"
        elif not reach:
            finite = [(t, sid) for sid, t in mins.items() if t is not None]
            if finite:
                t, sid = min(finite)
                name = next(s.name for s in stock if s.id == sid)
                problem = f"时限 {deadline:g} 分钟内没有储备库可达（最近的 {name} 需 {t:.0f} 分钟）"
            else:
                problem = "任何储备库经道路都无法到达"
        out.append(
            DesignIncident(**base, deadline_min=deadline, needs=needs, reach=reach, problem=problem)
        )
    return tuple(out)


# ------------------------------------------------------------------------------------------
# The covering model
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockProblem:
    """Plain data: items (catalogue order), stockpiles, capacities, holdings and incidents."""

    items: tuple[Material, ...]
    stockpiles: tuple[str, ...]
    stockpile_names: tuple[str, ...]
    capacity_m3: tuple[float | None, ...]  # None: no limit
    held: Mapping[tuple[str, str], float]  # (stockpile id, code) → quantity held
    incidents: tuple[DesignIncident, ...]
    #: per stockpile: "stated" (its 库容), "estimated" (capacity factor) or "unlimited"
    capacity_source: tuple[str, ...] = ()
    #: (stockpile id, volume held m³, stated capacity m³) where the stock exceeds the capacity
    over_capacity: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class StockOptions:
    """``pairs``: also any two design incidents at once (module doc)."""

    seconds: float = 20.0
    pairs: bool = False


@dataclass(frozen=True)
class StockResult:
    """``recommended[(stockpile id, code)]`` (only positive entries); ``shortfalls``: (incident
    id, code, quantity) that capacity leaves uncovered; ``problems``: sentences."""

    info: SolveInfo
    recommended: Mapping[tuple[str, str], float] = field(default_factory=dict)
    shortfalls: tuple[tuple[str, str, float], ...] = ()
    problems: tuple[str, ...] = ()
    purchase_kg: float | None = None


def build_problem(
    scenario: Scenario,
    materials: Sequence[Material],
    incidents: Sequence[DesignIncident],
    *,
    capacity_factor: float = DEFAULT_CAPACITY_FACTOR,
) -> StockProblem:
    """The model's data from a scenario (capacity rule: module doc)."""
    if not (math.isfinite(capacity_factor) and capacity_factor > 0):
        raise StockError(f"capacity factor must be > 0, got {capacity_factor!r}")
    if not scenario.stockpiles:
        raise StockError("workspace has no stockpiles (储备库)")
    by_code = {m.code: m for m in materials}
    caps: list[float | None] = []
    sources: list[str] = []
    over: list[tuple[str, float, float]] = []
    held: dict[tuple[str, str], float] = {}
    for s in scenario.stockpiles:
        for code, q in s.inventory.items():
            held[(s.id, code)] = float(q)
        vol = s.stock_volume_m3(by_code)
        if s.capacity_m3 is not None:
            caps.append(s.capacity_m3)
            sources.append("stated")
            if vol > s.capacity_m3 + 1e-9:
                over.append((s.id, round(vol, 3), s.capacity_m3))
        elif vol > 0:
            caps.append(round(vol * capacity_factor, 3))
            sources.append("estimated")
        else:  # an empty (e.g. newly planned) stockpile has no volume to scale: no limit
            caps.append(None)
            sources.append("unlimited")
    return StockProblem(
        items=tuple(materials),
        stockpiles=tuple(s.id for s in scenario.stockpiles),
        stockpile_names=tuple(s.name for s in scenario.stockpiles),
        capacity_m3=tuple(caps),
        held=held,
        incidents=tuple(incidents),
        capacity_source=tuple(sources),
        over_capacity=tuple(over),
    )


def solve_stock(
    problem: StockProblem,
    options: StockOptions = StockOptions(),
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> StockResult:
    """The least-tonnage stock that serves every feasible design incident on its own (module doc).

    Status is that of SCIP (OPTIMAL with the bound equal to the objective; TIMEOUT/CANCELLED
    with the best found, if any). Infeasible designs are listed in ``problems`` and left out.
    """
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    problems = [f"{e.hazard_name}（{e.id}）：{e.problem}" for e in problem.incidents if e.problem]
    live = [e for e in problem.incidents if not e.problem]
    if not live:
        info = SolveInfo(Status.INFEASIBLE, runtime_s=time.perf_counter() - t0, engine="SCIP")
        return StockResult(info, problems=(*problems, "没有可规划的设计事件"))
    items = {m.code: m for m in problem.items}
    s_index = {sid: k for k, sid in enumerate(problem.stockpiles)}
    progress(0.1, "建立模型")
    mip = _Mip()
    solver = mip.solver
    x: dict[tuple[int, str], object] = {}
    for e in live:
        for code in e.needs:
            for sid in e.reach:
                key = (s_index[sid], code)
                if key not in x:
                    m = items[code]
                    x[key] = (
                        solver.NumVar(0.0, solver.infinity(), "")
                        if m.divisible
                        else solver.IntVar(0.0, solver.infinity(), "")
                    )
    short: dict[tuple[str, str], object] = {}
    for e in live:
        for code, need in e.needs.items():
            u = solver.NumVar(0.0, float(need), "")
            short[(e.id, code)] = u
            solver.Add(solver.Sum([x[(s_index[sid], code)] for sid in e.reach]) + u >= float(need))
    if options.pairs:
        # two incidents e, f at once: by Gale's supply–demand theorem a split of the stock exists
        # iff each is covered alone (above) and their joint reach holds both needs
        for a, e in enumerate(live):
            for f in live[a + 1 :]:
                both = sorted(set(e.reach) | set(f.reach))
                for code in set(e.needs) & set(f.needs):
                    solver.Add(
                        solver.Sum([x[(s_index[sid], code)] for sid in both])
                        + short[(e.id, code)]
                        + short[(f.id, code)]
                        >= float(e.needs[code] + f.needs[code])
                    )
    for k, cap in enumerate(problem.capacity_m3):
        terms = [items[c].unit_volume_m3 * v for (i, c), v in x.items() if i == k]
        if cap is not None and terms:
            solver.Add(solver.Sum(terms) <= float(cap))
    tonnage = solver.Sum([items[c].unit_weight_kg * v for (_i, c), v in x.items()])
    penalty = solver.Sum(
        [SHORTFALL_PENALTY * items[c].unit_weight_kg * u for (_e, c), u in short.items()]
    )
    buys = []
    for (i, c), v in x.items():
        p = solver.NumVar(0.0, solver.infinity(), "")
        solver.Add(p >= v - problem.held.get((problem.stockpiles[i], c), 0.0))
        buys.append(items[c].unit_weight_kg * p)
    purchase = solver.Sum(buys)
    solver.Minimize(tonnage + penalty + PURCHASE_TIEBREAK * purchase)
    status, obj, bound = mip.solve(options.seconds, stop)
    purchase_kg = None
    if obj is not None:
        purchase_kg = round(sum(b.solution_value() for b in buys), 3)  # type: ignore[attr-defined]
    info = SolveInfo(status, obj, bound, time.perf_counter() - t0, "SCIP")
    if obj is None:
        return StockResult(info, problems=tuple(problems))
    recommended: dict[tuple[str, str], float] = {}
    for (i, c), v in x.items():
        q = v.solution_value()  # type: ignore[attr-defined]
        q = round(q, 3) if items[c].divisible else float(round(q))
        if q > 1e-9:
            recommended[(problem.stockpiles[i], c)] = q
    shortfalls = []
    for (eid, c), u in short.items():
        q = u.solution_value()  # type: ignore[attr-defined]
        if q > 1e-6:
            shortfalls.append((eid, c, round(q, 3)))
    names = {e.id: e.hazard_name for e in live}
    for eid, c, q in shortfalls:
        problems.append(
            f"{names[eid]}（{eid}）：储备库容量不足，{items[c].name_zh} 缺 {q:g} {items[c].unit}"
        )
    progress(1.0, "完成")
    return StockResult(
        info, recommended, tuple(shortfalls), tuple(problems), purchase_kg=purchase_kg
    )


# ------------------------------------------------------------------------------------------
# Gaps against the current inventory
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockItemLine:
    """One stockpile × item: ``gap`` = recommended − held (缺口 when > 0, 富余 when < 0)."""

    stockpile_id: str
    stockpile_name: str
    code: str
    recommended: float
    held: float
    safety_stock: float
    expiry: date | None = None  # 到期日 of the inventory line, when the ledger has one

    @property
    def gap(self) -> float:
        return round(self.recommended - self.held, 3)

    @property
    def shortage(self) -> float:
        return max(0.0, self.gap)

    @property
    def surplus(self) -> float:
        return max(0.0, -self.gap)

    @property
    def below_safety(self) -> bool:
        return self.held < self.safety_stock


@dataclass(frozen=True)
class StockReport:
    lines: tuple[StockItemLine, ...]

    def procurement(self) -> tuple[StockItemLine, ...]:
        """Lines to buy for (缺口 > 0), largest first per stockpile order."""
        return tuple(line for line in self.lines if line.shortage > 0)

    def below_safety(self) -> tuple[StockItemLine, ...]:
        return tuple(line for line in self.lines if line.below_safety)

    def expiring(self, today: date, days: int) -> tuple[StockItemLine, ...]:
        """Held lines whose expiry date is at most ``days`` after ``today`` (expired included),
        soonest first."""
        limit = today + timedelta(days=days)
        due = [
            ln for ln in self.lines if ln.expiry is not None and ln.held > 0 and ln.expiry <= limit
        ]
        return tuple(sorted(due, key=lambda ln: (ln.expiry, ln.stockpile_id, ln.code)))


def stock_report(
    scenario: Scenario, materials: Sequence[Material], result: StockResult
) -> StockReport:
    """Per stockpile, every catalogue item recommended, held or with a safety stock."""
    lines = []
    for s in scenario.stockpiles:
        for m in materials:
            rec = result.recommended.get((s.id, m.code), 0.0)
            held = float(s.inventory.get(m.code, 0.0))
            safety = float(s.safety_stock.get(m.code, 0.0))
            if rec or held or safety:
                lines.append(
                    StockItemLine(
                        s.id, s.name, m.code, rec, held, safety, s.expiry_dates.get(m.code)
                    )
                )
        known = {m.code for m in materials}
        for code in sorted(set(s.inventory) - known):
            lines.append(
                StockItemLine(
                    s.id,
                    s.name,
                    code,
                    0.0,
                    float(s.inventory[code]),
                    float(s.safety_stock.get(code, 0.0)),
                    s.expiry_dates.get(code),
                )
            )
    return StockReport(tuple(lines))


# ------------------------------------------------------------------------------------------
# The whole computation, for the command and the desk
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockRequest:
    rules: DesignRules = DesignRules()
    capacity_factor: float = DEFAULT_CAPACITY_FACTOR
    seconds: float = 20.0
    pairs: bool = False
    expiry_days: int = 90  # flag inventory expiring within this many days (临期)
    today: date | None = None  # the day expiry is counted from (default: today)


@dataclass(frozen=True)
class StockPlan:
    request: StockRequest
    materials: tuple[Material, ...]
    incidents: tuple[DesignIncident, ...]
    problem: StockProblem
    result: StockResult
    report: StockReport


def plan_stock(
    scenario: Scenario,
    network: RoadNetwork,
    request: StockRequest = StockRequest(),
    *,
    templates: PlanTemplates | None = None,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> StockPlan:
    """Design incidents → recommended stock → gaps. Materials: the workspace's catalogue (the
    bundled one when it has none); templates: the bundled 预案 templates unless given.

    Raises
    ------
    StockError
        A bad option, or a workspace without stockpiles.
    """
    from gis.catalogue import load_materials, load_plan_templates

    if not (math.isfinite(request.seconds) and request.seconds > 0):
        raise StockError(f"seconds must be > 0, got {request.seconds!r}")
    request.rules.check()
    progress = progress or no_progress
    materials = tuple(scenario.materials) or load_materials()
    templates = load_plan_templates() if templates is None else templates
    if not scenario.stockpiles:
        raise StockError("workspace has no stockpiles (储备库)")
    progress(0.05, "设计事件与路网时间")
    incidents = design_incidents(
        scenario, network, templates, {m.code: m for m in materials}, request.rules
    )
    problem = build_problem(scenario, materials, incidents, capacity_factor=request.capacity_factor)

    def sub(fraction: float, message: str) -> None:
        progress(0.2 + 0.8 * fraction, message)

    result = solve_stock(
        problem, StockOptions(request.seconds, request.pairs), stop=stop, progress=sub
    )
    return StockPlan(
        request, materials, incidents, problem, result, stock_report(scenario, materials, result)
    )
