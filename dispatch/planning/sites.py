"""Site planning service (选址): candidates and travel times from a workspace → a location model.

The Qt-free service behind ``app.py plan-sites`` and the 规划 → 选址… dialog: a typed
:class:`SitesRequest` over a scenario and its road network → :class:`SitesResult` (the chosen
sites, the model's status/objective/bound and before/after figures). The models themselves are
:mod:`dispatch.planning.location`; this module only builds their plain-data problem.

Candidates (:func:`candidate_sites`)
-----------------------------------
* every existing facility of the set (stockpiles, teams or shelters), ``existing=True``;
* every planner-marked candidate site (``candidate_sites`` layer, :class:`gis.model.CandidateSite`)
  whose kind fits the set (``stockpile`` → stockpiles, ``shelter`` → shelters, ``any`` → every
  set), ``existing=False``, with its own id, capacity and fixed cost;
* every township seat (乡镇驻地), ``existing=False``, id ``seat:<township code>``.

Travel times are minutes over the roads with the scenario's closures
(:func:`dispatch.planning.coverage.travel_seconds`): from the candidate to the demand point;
for shelters from the point to the candidate. Demand points are
:func:`~dispatch.planning.coverage.demand_sites` weighted by population.

Models
------
* ``pmedian`` — k sites minimising population × minutes (``--keep-existing``: the existing
  sites stay and k are added: ``solve_keep_existing``);
* ``mclp`` — k sites covering the most people within ``minutes`` (default 30);
* ``lscp`` — the fewest sites putting every coverable point within ``minutes`` (k unused);
* ``cflp`` — capacitated, splittable: demand = population, serving cost = population × minutes.
  Capacities are people served, taken from the layers where stated: a candidate site's
  ``capacity``; an existing shelter's ``capacity``; an existing stockpile's ``capacity_m3`` (库容)
  divided by the stock volume one person needs by the 预案 templates (median over the templates'
  needs per 100 people, unit volumes of the workspace's materials). A candidate with no stated
  capacity gets ``ceil(1.25 × total population / k)`` (an equal share with 25 % slack). A new
  site costs a fixed ``total population × 1 minute`` (it must save each person a minute on
  average to be worth building); candidate sites with a stated ``fixed_cost`` (万元) are priced
  relative to each other: that fixed charge × their cost / the mean stated cost. Existing sites
  cost nothing to keep. The notes say which capacities were stated and which assumed.

k defaults to the number of existing facilities (with ``keep_existing``: 1 new site).
``before`` is the existing facilities as they are, ``after`` the chosen set, each summarised
by :func:`dispatch.planning.location.summarize` over the same matrix and thresholds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.planning.coverage import (
    FACILITY_SETS,
    MAX_OFFROAD_M,
    DemandSite,
    FacilitySite,
    default_minutes,
    demand_sites,
    facility_sites,
    travel_seconds,
)
from dispatch.planning.location import (
    LocationOptions,
    LocationProblem,
    LocationResult,
    solve_cflp,
    solve_keep_existing,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
    summarize,
)
from dispatch.results import ProgressFn, Status, StopFn, never_stop, no_progress
from gis.errors import ValidationError
from gis.matrix import TravelTimeEngine
from gis.model import (
    Location,
    Scenario,
    Shelter,
    ShelterClass,
    ShelterSetting,
    Stockpile,
    StockpileLevel,
)
from gis.roads import RoadNetwork

__all__ = [
    "SITE_MODELS",
    "Candidate",
    "SitesError",
    "SitesRequest",
    "SitesResult",
    "SitesSummary",
    "candidate_sites",
    "PLANNED_MARK",
    "plan_sites",
    "planned_entities",
]

#: Models of ``plan-sites`` with their Chinese names.
SITE_MODELS: dict[str, str] = {
    "pmedian": "p-中位（最小化人口加权时间）",
    "mclp": "最大覆盖",
    "lscp": "集合覆盖（最少设施数）",
    "cflp": "有容量设施选址",
}
#: Coverage minutes of mclp/lscp when none are given.
DEFAULT_COVER_MINUTES = 30.0
#: cflp: capacity slack over an equal share, and a new site's fixed cost in minutes per person.
CFLP_SLACK = 1.25
CFLP_NEW_SITE_MINUTES = 1.0
SEAT_PREFIX = "seat:"


class SitesError(ValidationError):
    """A site plan cannot be made as asked (bad k, no candidates, unreachable demand …)."""


@dataclass(frozen=True)
class SitesRequest:
    """What to plan; ``k`` ``None`` = the default (module doc); ``minutes`` is the coverage
    time of mclp/lscp (and one more reporting threshold for the others)."""

    model: str = "pmedian"
    facilities: str = "stockpiles"
    k: int | None = None
    minutes: float | None = None
    keep_existing: bool = False
    seconds: float = 30.0
    max_offroad_m: float = MAX_OFFROAD_M


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place a facility could be: ``source`` is the facility set or ``townships``."""

    id: str
    name: str
    lon: float
    lat: float
    existing: bool
    source: str
    #: people the site can serve (CFLP); ``None`` = not stated
    capacity: float | None = None
    #: cost of building it (万元); ``None`` = not stated
    fixed_cost_wan: float | None = None


@dataclass(frozen=True)
class SitesSummary:
    """Figures for one set of open sites (minutes; shares of the population per threshold)."""

    mean_minutes: float | None
    max_minutes: float | None
    share_within: dict[str, float]
    unreachable_population: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "mean_minutes": _round(self.mean_minutes),
            "max_minutes": _round(self.max_minutes),
            "share_within": {k: round(v, 6) for k, v in self.share_within.items()},
            "unreachable_population": self.unreachable_population,
        }


@dataclass(frozen=True)
class SitesResult:
    request: SitesRequest
    k: int
    cover_minutes: float | None
    thresholds: tuple[float, ...]
    candidates: tuple[Candidate, ...]
    demand: tuple[DemandSite, ...]
    minutes: np.ndarray = field(repr=False)  # [candidate, demand point], inf = no path
    solve: LocationResult
    before: SitesSummary
    after: SitesSummary | None
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return self.solve.info.status

    @property
    def chosen(self) -> tuple[Candidate, ...]:
        return tuple(self.candidates[i] for i in self.solve.chosen)

    @property
    def new_sites(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.chosen if not c.existing)


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 2)


def candidate_sites(scenario: Scenario, facilities: str) -> tuple[Candidate, ...]:
    """Existing facilities of the set, then the planner-marked candidate sites that fit the set,
    then the township seats (module doc)."""
    existing = facility_sites(scenario, facilities)
    caps = _existing_capacities(scenario, facilities)
    out = [
        Candidate(f.id, f.name, f.lon, f.lat, True, facilities, caps.get(f.id)) for f in existing
    ]
    for c in scenario.candidate_sites:
        if c.serves(facilities):
            lon, lat = c.location.xy
            out.append(
                Candidate(
                    c.id,
                    c.name,
                    lon,
                    lat,
                    False,
                    "candidate_sites",
                    float(c.capacity) if c.capacity > 0 else None,
                    c.fixed_cost if c.fixed_cost > 0 else None,
                )
            )
    for t in scenario.townships:
        lon, lat = t.location.xy
        out.append(
            Candidate(f"{SEAT_PREFIX}{t.code}", f"{t.name}驻地", lon, lat, False, "townships")
        )
    return tuple(out)


def m3_per_person(scenario: Scenario, templates: Any | None = None) -> float | None:
    """Stock volume (m³) one affected person needs by the 预案 templates: the median over the
    templates (every subtype and level) of Σ needs per 100 people × unit volume / 100, with the
    workspace's materials. ``None`` without materials or readable templates."""
    vol = {m.code: m.unit_volume_m3 for m in scenario.materials}
    if not vol:
        return None
    if templates is None:
        from gis.catalogue import load_plan_templates

        try:
            templates = load_plan_templates()
        except ValidationError:
            return None
    per = [
        sum(q * vol[c] for c, q in t.needs_per_100.items() if c in vol) / 100.0
        for levels in templates.values()
        for t in levels.values()
    ]
    per = [p for p in per if p > 0]
    return float(np.median(per)) if per else None


def _existing_capacities(scenario: Scenario, facilities: str) -> dict[str, float]:
    """People each existing facility can serve, where its layer states it (module doc, cflp)."""
    if facilities == "shelters":
        return {s.id: float(s.capacity) for s in scenario.shelters if s.capacity > 0}
    if facilities == "stockpiles":
        stated = [s for s in scenario.stockpiles if s.capacity_m3]
        per = m3_per_person(scenario) if stated else None
        if per:
            return {s.id: math.floor((s.capacity_m3 or 0.0) / per) for s in stated}
    return {}


def _check(request: SitesRequest, n_existing: int, n_candidates: int) -> tuple[int, float | None]:
    """(k, coverage minutes) or :class:`SitesError` naming what is wrong."""
    if request.model not in SITE_MODELS:
        raise SitesError(f"--model must be one of {'|'.join(SITE_MODELS)}, got {request.model!r}")
    if request.facilities not in FACILITY_SETS:
        raise SitesError(
            f"--facilities must be one of {'|'.join(FACILITY_SETS)}, got {request.facilities!r}"
        )
    if not (isinstance(request.seconds, int | float) and request.seconds > 0):
        raise SitesError(f"--seconds must be a positive number, got {request.seconds!r}")
    t = request.minutes
    if t is not None and not (isinstance(t, int | float) and math.isfinite(t) and t > 0):
        raise SitesError(f"--minutes must be a positive number of minutes, got {t!r}")
    if request.model in ("mclp", "lscp") and t is None:
        t = DEFAULT_COVER_MINUTES
    if n_candidates == 0:
        raise SitesError(
            f"no candidate sites: no {request.facilities}, no candidate_sites for them and no "
            "township seats"
        )
    if request.keep_existing and n_existing == 0:
        raise SitesError(f"--keep-existing: the workspace has no {request.facilities}")
    free = n_candidates - n_existing if request.keep_existing else n_candidates
    k = request.k
    if k is None:
        k = 1 if request.keep_existing else max(1, n_existing)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise SitesError(f"--k must be a positive whole number, got {k!r}")
    if k > free and request.model != "lscp":
        what = "new candidate sites" if request.keep_existing else "candidate sites"
        raise SitesError(f"--k {k} is larger than the {free} {what}")
    return k, (None if t is None else float(t))


def plan_sites(
    scenario: Scenario,
    network: RoadNetwork,
    request: SitesRequest,
    *,
    engine: TravelTimeEngine | None = None,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> SitesResult:
    """Build the candidates × demand matrix, solve the model, summarise before/after.

    Raises :class:`SitesError` on bad input (module doc) — before any solving.
    """
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    if request.facilities not in FACILITY_SETS:
        _check(request, 0, 0)
    cands = candidate_sites(scenario, request.facilities)
    existing = np.array([c.existing for c in cands], dtype=bool)
    k, cover = _check(request, int(existing.sum()), len(cands))
    demand = demand_sites(scenario)
    if not demand:
        raise SitesError("no demand points, township seats or hazards to serve")
    thresholds = default_minutes(request.facilities)
    if cover is not None:
        thresholds = tuple(sorted({*thresholds, cover}))
    progress(0.02, "计算行驶时间")
    if engine is None:
        engine = TravelTimeEngine(network, scenario.closures)
    elif tuple(engine.closures) != tuple(scenario.closures):
        engine = engine.with_closures(scenario.closures)
    facs = [FacilitySite(c.id, c.name, c.lon, c.lat) for c in cands]
    secs, *_ = travel_seconds(
        engine,
        facs,
        demand,
        inbound=request.facilities == "shelters",
        max_offroad_m=request.max_offroad_m,
    )
    minutes = secs / 60.0
    t_matrix = time.perf_counter()
    pop = np.array([d.population for d in demand], dtype=np.float64)
    reach = np.isfinite(minutes).any(axis=0)
    if not reach.any():
        raise SitesError("no demand point can be reached from any candidate site over the roads")
    if pop.sum() > 0 and pop[reach].sum() == 0:
        raise SitesError("no demand point with people can be reached from any candidate site")
    notes = []
    if not reach.all():
        notes.append(f"{int((~reach).sum())} 个需求点无法从任何候选点经道路到达（不计入目标）")
    if request.model == "lscp" and request.k is not None:
        notes.append("集合覆盖模型求最少设施数：--k 不使用")
    problem = LocationProblem(
        cost=minutes,
        weight=pop,
        k=k,
        threshold=cover,
        existing=existing,
        keep_existing=request.keep_existing,
        candidate_names=tuple(c.name for c in cands),
        demand_names=tuple(d.name for d in demand),
    )
    options = LocationOptions(seconds=max(0.05, request.seconds - (t_matrix - t0)))
    sub = lambda f, m: progress(0.05 + 0.9 * f, m)  # noqa: E731
    if request.model == "pmedian":
        solver = solve_keep_existing if request.keep_existing else solve_pmedian
        out = solver(problem, options, stop=stop, progress=sub)
    elif request.model == "mclp":
        out = solve_mclp(problem, options, stop=stop, progress=sub)
    elif request.model == "lscp":
        out = solve_lscp(problem, options, stop=stop, progress=sub)
    else:
        total = float(pop.sum())
        cap = math.ceil(CFLP_SLACK * total / k) if total > 0 else 1.0
        caps, fixed, cflp_notes = _cflp_data(cands, existing, cap, total)
        cflp = LocationProblem(
            cost=np.where(np.isfinite(minutes), minutes * pop[None, :], np.inf),
            weight=pop,
            capacity=caps,
            fixed_cost=fixed,
            existing=existing,
            keep_existing=request.keep_existing,
            candidate_names=problem.candidate_names,
            demand_names=problem.demand_names,
        )
        notes.extend(cflp_notes)
        out = solve_cflp(cflp, options, stop=stop, progress=sub)
    progress(0.97, "汇总")
    before = SitesSummary(**summarize(problem, np.nonzero(existing)[0].tolist(), thresholds))
    after = SitesSummary(**summarize(problem, out.chosen, thresholds)) if out.chosen else None
    t_end = time.perf_counter()
    return SitesResult(
        request=request,
        k=k,
        cover_minutes=cover,
        thresholds=thresholds,
        candidates=cands,
        demand=demand,
        minutes=minutes,
        solve=out,
        before=before,
        after=after,
        notes=tuple(notes),
        timings={
            "matrix_s": round(t_matrix - t0, 4),
            "solve_s": round(t_end - t_matrix, 4),
            "total_s": round(t_end - t0, 4),
        },
    )


def _cflp_data(
    cands: Sequence[Candidate], existing: np.ndarray, cap: float, total: float
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Capacities (people), fixed costs (person-minutes) and notes of the cflp model (module
    doc): stated capacities where the layers have them, ``cap`` elsewhere."""
    caps = np.array([c.capacity if c.capacity is not None else cap for c in cands], dtype=float)
    n_stated = sum(1 for c in cands if c.capacity is not None)
    charge = CFLP_NEW_SITE_MINUTES * total
    costs = [c.fixed_cost_wan for c in cands if c.fixed_cost_wan is not None and not c.existing]
    mean_cost = float(np.mean(costs)) if costs else 0.0
    fixed = np.array(
        [
            0.0
            if c.existing
            else (charge * c.fixed_cost_wan / mean_cost if c.fixed_cost_wan and mean_cost else charge)
            for c in cands
        ],
        dtype=float,
    )
    notes = [
        f"容量：{n_stated} 个候选点按图层所填（人）；其余 {len(cands) - n_stated} 个按 "
        f"{cap:,.0f} 人（总人口/k × {CFLP_SLACK:g}）",
        f"新建固定费用 {charge:,.0f} 人·分钟"
        + (f"（{len(costs)} 个候选站点按所填建设费用相对折算）" if costs else "")
        + "，现有设施 0",
    ]
    if caps.sum() < total:
        notes.append(
            f"所有候选点容量合计 {caps.sum():,.0f} 人，少于总人口 {total:,.0f} 人：无法全部服务"
        )
    return caps, fixed, notes


#: The word that marks a planned (规划) site in its name: the workspace model has no status or
#: level meaning "planned", so an applied site is an ordinary entity whose name says so.
PLANNED_MARK = "（规划）"


def planned_entities(
    result: SitesResult, scenario: Scenario, new_ids: Sequence[str]
) -> tuple[Any, ...]:
    """The chosen *new* sites as workspace entities to add (one id of ``new_ids`` each):

    * stockpiles: a 乡镇-level :class:`~gis.model.Stockpile`, empty, named "<site>（规划）",
      with the seat's township code;
    * shelters: an indoor 紧急 :class:`~gis.model.Shelter` of the candidate site's capacity
      (0 = to be filled in);
    * teams are people, not places: none (raises :class:`SitesError`).
    """
    new = result.new_sites
    if len(new_ids) != len(new):
        raise SitesError(f"need {len(new)} ids for the new sites, got {len(new_ids)}")
    kind = result.request.facilities
    if kind == "teams":
        raise SitesError("救援队伍不能按选址结果新建：请在队伍编辑器中调整驻地")
    codes = {t.code for t in scenario.townships}
    out: list[Any] = []
    for c, new_id in zip(new, new_ids, strict=True):
        code = c.id.removeprefix(SEAT_PREFIX) if c.id.startswith(SEAT_PREFIX) else ""
        name = f"{c.name}{PLANNED_MARK}"
        where = Location(c.lon, c.lat)
        if kind == "stockpiles":
            out.append(
                Stockpile(
                    new_id,
                    name,
                    StockpileLevel.TOWNSHIP,
                    where,
                    township_code=code if code in codes else "",
                )
            )
        else:
            out.append(
                Shelter(
                    new_id,
                    name,
                    ShelterSetting.INDOOR,
                    ShelterClass.EMERGENCY,
                    where,
                    capacity=int(c.capacity or 0),
                    township_code=code if code in codes else "",
                )
            )
    return tuple(out)
