"""Material allocation: stockpiles → incident sites (and shelters in need), per material.

Model
-----
For each material independently (stock and demand of one item never substitute for another, so
the multi-commodity problem separates exactly) we solve a transportation problem as a min-cost
flow (OR-Tools ``SimpleMinCostFlow``):

* one *pool* node per stockpile with its available stock (stock − safety stock), and one more
  per stockpile for its safety stock when ``options.release_safety_levels`` allows it; a safety
  pool only has arcs to sites whose response level is released (default: I and II);
* one node per site with demand; an arc pool → site exists iff the pair is reachable and the
  travel time meets the site's deadline (``allow_late=True`` drops the deadline test); its unit
  cost is the travel seconds, plus ``safety_stock_penalty_s`` from a safety pool;
* an arc site → sink with capacity = demand and unit cost ``−B × priority``, and an arc pool →
  sink (stock left at home) with cost 0.

Lexicographic objective in one solve
    Tier 1 maximises priority-weighted delivered quantity, tier 2 minimises quantity × seconds.
    With integer priorities a flow that is not tier-1 optimal has a residual cycle whose tier-1
    cost is ≤ −1; such a cycle enters each site node at most once, so it uses at most
    ``min(#pools, #sites)`` pool → site arcs and its tier-2 cost is ≤ that × the largest arc
    cost ``c_max``. With ``B = min(#pools, #sites) × c_max + 1`` the combined cost of that cycle
    is negative, so the combined optimum is tier-1 optimal, and among tier-1 optima it
    minimises tier 2: the weighting is provably lexicographic.

Integrality
    The network matrix is totally unimodular: with integer supplies and demands the optimum is
    integral. Indivisible items use whole units (stock rounded down, needs rounded up);
    divisible items are planned in steps of ``1/scale`` of their unit (``scale`` up to 1000,
    lowered automatically if int64 costs could overflow).

Shortfall reasons (per site × material)
    No stockpile the site may draw from holds the item → 库存不足; some do but none is reachable
    → 不可达; reachable ones exist but none can arrive by the deadline → 超出时限. When on-time
    stockpiles exist but are used up, the shortfall is split in two records: the part that
    stock still left at reachable late stockpiles could cover → 超出时限, the rest → 库存不足
    (so a shortage is not blamed on the deadline when even late stock would not cover it).

``engine="glop"`` solves the same weighted model as one monolithic LP over all materials with
GLOP (used as the baseline in ``benchmarks/bench_allocation.py`` and to cross-check in tests).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dispatch.problems import AllocationProblem
from dispatch.results import (
    ProgressFn,
    Reason,
    SolveInfo,
    Status,
    StopFn,
    Unserved,
)

_INT64_SAFE = 2**62


@dataclass(frozen=True, slots=True)
class AllocationOptions:
    """Options of :func:`solve_allocation`.

    Attributes
    ----------
    release_safety_levels
        Response levels (1 = I … 4 = IV) of the sites for which safety stock may leave the
        depot. Default (1, 2): levels I and II. ``()`` never releases it.
    safety_stock_penalty_s
        Extra seconds charged per unit taken from safety stock in tier 2 (prefer ordinary stock
        unless the safety stock is at least this much closer).
    allow_late
        Also ship from stockpiles that cannot arrive before the site's deadline.
    engine
        ``"mcf"`` (min-cost flow per material, default) or ``"glop"`` (one LP, baseline).
    time_limit_s
        Wall-clock budget; checked between materials (each takes milliseconds).
    divisible_scale
        Resolution of divisible items: planned in 1/scale units.
    """

    release_safety_levels: tuple[int, ...] = (1, 2)
    safety_stock_penalty_s: int = 60
    allow_late: bool = False
    engine: str = "mcf"
    time_limit_s: float = 30.0
    divisible_scale: int = 1000


@dataclass(frozen=True, slots=True)
class Shipment:
    """The allocation solver's decision (the plan records it as :class:`dispatch.records.AllocationLine`):
    ``quantity`` of ``material`` from ``stockpile_id`` to ``site_id`` (travel ``travel_s``);
    ``from_safety_stock`` of it is released safety stock."""

    site_id: str
    material: str
    stockpile_id: str
    quantity: float
    travel_s: int
    from_safety_stock: float = 0.0


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """Outcome of :func:`solve_allocation`.

    ``info.objective`` is the tier-2 cost Σ quantity × (travel_s + safety penalty) in
    unit·seconds; ``weighted_fulfilled`` / ``weighted_demand`` are tier 1 (Σ priority × quantity).
    """

    info: SolveInfo
    lines: tuple[Shipment, ...]
    unserved: tuple[Unserved, ...]
    weighted_fulfilled: float = 0.0
    weighted_demand: float = 0.0

    def shipped(self, site_id: str | None = None, material: str | None = None) -> float:
        """Total quantity delivered, optionally to one site and/or of one material."""
        return float(
            sum(
                ln.quantity
                for ln in self.lines
                if (site_id is None or ln.site_id == site_id)
                and (material is None or ln.material == material)
            )
        )

    def shortfall(self, site_id: str | None = None, material: str | None = None) -> float:
        return float(
            sum(
                u.quantity
                for u in self.unserved
                if (site_id is None or u.site_id == site_id)
                and (material is None or u.what == material)
            )
        )

    @property
    def fulfilment(self) -> float:
        """Priority-weighted share of the demand delivered (1.0 when nothing is missing)."""
        return 1.0 if self.weighted_demand <= 0 else self.weighted_fulfilled / self.weighted_demand


# --------------------------------------------------------------------------------------------
# Shared preparation
# --------------------------------------------------------------------------------------------


def _fmt(q: float) -> str:
    return f"{int(round(q))}" if abs(q - round(q)) < 1e-9 else f"{q:.3f}".rstrip("0").rstrip(".")


def _unserved(
    p: AllocationProblem, t: int, j: int, qty: float, reason: Reason, extra: str = ""
) -> Unserved:
    name, unit, code = p.material_names[j], p.material_units[j], p.materials[j]
    head = f"缺少 {name} {_fmt(qty)} {unit}".replace("  ", " ").rstrip()
    head_en = f"missing {_fmt(qty)} {unit} of {code}".replace("  ", " ")
    if reason is Reason.UNREACHABLE:
        zh, en = f"{head}：不可达（事发点道路中断，无储备库可达）", f"{head_en}: unreachable"
    elif reason is Reason.TOO_LATE and extra == "depleted":
        minutes = int(math.ceil(p.deadline_s[t] / 60))
        zh = f"{head}：超出时限（{minutes} 分钟内可送达的储备库已无余量，其余储备库无法按时送达）"
        en = f"{head_en}: stockpiles within {minutes} min are used up, the others arrive late"
    elif reason is Reason.TOO_LATE:
        minutes = int(math.ceil(p.deadline_s[t] / 60))
        zh = f"{head}：超出时限（{minutes} 分钟内无储备库可送达{extra}）"
        en = f"{head_en}: no stockpile can arrive within {minutes} min"
    elif reason is Reason.OUT_OF_STOCK:
        zh, en = f"{head}：库存不足", f"{head_en}: out of stock"
    else:
        zh, en = f"{head}：{reason.value}", f"{head_en}: {reason.name.lower()}"
    return Unserved(p.site_ids[t], code, float(qty), reason, zh, en)


@dataclass
class _Material:
    """Integer data of one material: pools (stockpile index, supply, is_safety) and arcs."""

    scale: int
    pool_sp: np.ndarray
    pool_supply: np.ndarray
    pool_safety: np.ndarray
    sites: np.ndarray  # site indices with demand
    demand: np.ndarray  # scaled demand of those sites
    arc_pool: np.ndarray  # index into pools
    arc_site: np.ndarray  # index into sites
    arc_cost: np.ndarray
    arc_cap: np.ndarray


def _prepare(p: AllocationProblem, j: int, opt: AllocationOptions, scale: int) -> _Material:
    """Integer pools/sites/arcs of material ``j`` at resolution ``1/scale``."""
    if p.divisible[j]:
        avail = np.floor(p.available[:, j] * scale + 1e-9).astype(np.int64)
        safety = np.floor(p.safety[:, j] * scale + 1e-9).astype(np.int64)
        demand = np.ceil(p.demand[:, j] * scale - 1e-9).astype(np.int64)
    else:
        avail = np.floor(p.available[:, j] + 1e-9).astype(np.int64)
        safety = np.floor(p.safety[:, j] + 1e-9).astype(np.int64)
        demand = np.ceil(p.demand[:, j] - 1e-9).astype(np.int64)
    released = np.isin(p.level, np.asarray(opt.release_safety_levels, dtype=np.int64))
    sites = np.flatnonzero(demand > 0)
    reg = np.flatnonzero(avail > 0)
    saf = np.flatnonzero(safety > 0) if released[sites].any() else np.zeros(0, np.int64)
    pool_sp = np.concatenate([reg, saf])
    pool_supply = np.concatenate([avail[reg], safety[saf]])
    pool_safety = np.concatenate([np.zeros(len(reg), bool), np.ones(len(saf), bool)])
    # Allowed pairs: reachable, on time unless allow_late, safety pools only to released sites.
    sec = p.seconds[np.ix_(pool_sp, sites)]
    ok = p.reachable[np.ix_(pool_sp, sites)].copy()
    if not opt.allow_late:
        ok &= sec <= p.deadline_s[sites][None, :]
    ok &= ~pool_safety[:, None] | released[sites][None, :]
    ai, bi = np.nonzero(ok)
    cost = sec[ai, bi] + np.where(pool_safety[ai], int(opt.safety_stock_penalty_s), 0)
    cap = np.minimum(pool_supply[ai], demand[sites][bi])
    return _Material(
        scale=scale if p.divisible[j] else 1,
        pool_sp=pool_sp,
        pool_supply=pool_supply,
        pool_safety=pool_safety,
        sites=sites,
        demand=demand[sites],
        arc_pool=ai,
        arc_site=bi,
        arc_cost=cost.astype(np.int64),
        arc_cap=cap.astype(np.int64),
    )


def _big_b(mat: _Material) -> int:
    c_max = int(mat.arc_cost.max()) if len(mat.arc_cost) else 0
    return min(len(mat.pool_sp), len(mat.sites)) * c_max + 1


def _fits(mat: _Material, pri_max: int) -> bool:
    b = _big_b(mat)
    flow = int(mat.pool_supply.sum()) + int(mat.demand.sum()) + 1
    n = len(mat.pool_sp) + len(mat.sites) + 2
    return (b * pri_max + 1) * flow < _INT64_SAFE and b * pri_max * n < _INT64_SAFE


def _material_data(p: AllocationProblem, j: int, opt: AllocationOptions) -> _Material:
    scale = max(1, int(opt.divisible_scale))
    pri_max = int(p.priority.max()) if len(p.priority) else 1
    while True:
        mat = _prepare(p, j, opt, scale)
        if scale == 1 or _fits(mat, pri_max):
            return mat
        scale //= 10


def _shortfall_reasons(
    p: AllocationProblem,
    j: int,
    opt: AllocationOptions,
    mat: _Material,
    delivered: np.ndarray,
    residual: np.ndarray,
) -> list[Unserved]:
    """Unserved records of material ``j``; ``delivered`` per mat.sites, ``residual`` per pool."""
    out: list[Unserved] = []
    released = np.isin(p.level, np.asarray(opt.release_safety_levels, dtype=np.int64))
    for k, t in enumerate(mat.sites):
        missing = int(mat.demand[k] - delivered[k])
        if missing <= 0:
            continue
        qty = missing / mat.scale
        eligible = ~mat.pool_safety | released[t]
        sec = p.seconds[mat.pool_sp, t]
        reach = eligible & p.reachable[mat.pool_sp, t]
        if not eligible.any():
            reason = Reason.OUT_OF_STOCK
        elif not reach.any():
            reason = Reason.UNREACHABLE
        elif opt.allow_late:
            reason = Reason.OUT_OF_STOCK
        else:
            on_time = reach & (sec <= p.deadline_s[t])
            if not on_time.any():
                reason = Reason.TOO_LATE
            else:  # on-time stock is used up: late stock covers at most what is left there
                late = int(residual[reach & ~on_time & (residual > 0)].sum())
                late_part = min(missing, late)
                if late_part > 0:
                    out.append(
                        _unserved(p, t, j, late_part / mat.scale, Reason.TOO_LATE, "depleted")
                    )
                if missing - late_part > 0:
                    out.append(
                        _unserved(p, t, j, (missing - late_part) / mat.scale, Reason.OUT_OF_STOCK)
                    )
                continue
        out.append(_unserved(p, t, j, qty, reason))
    return out


def _lines(p: AllocationProblem, j: int, mat: _Material, flows: np.ndarray) -> list[Shipment]:
    agg: dict[tuple[int, int], list[float]] = {}
    for a in np.flatnonzero(flows > 0):
        s = int(mat.pool_sp[mat.arc_pool[a]])
        t = int(mat.sites[mat.arc_site[a]])
        q = flows[a] / mat.scale
        rec = agg.setdefault((t, s), [0.0, 0.0])
        rec[0] += q
        if mat.pool_safety[mat.arc_pool[a]]:
            rec[1] += q
    return [
        Shipment(
            site_id=p.site_ids[t],
            material=p.materials[j],
            stockpile_id=p.stockpile_ids[s],
            quantity=float(q),
            travel_s=int(p.seconds[s, t]),
            from_safety_stock=float(sq),
        )
        for (t, s), (q, sq) in sorted(agg.items())
    ]


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


def _solve_mcf(mat: _Material, priority: np.ndarray) -> tuple[bool, np.ndarray]:
    """Min-cost flow of one material; returns (optimal, flow per arc of ``mat``)."""
    from ortools.graph.python import min_cost_flow

    n_pool, n_site = len(mat.pool_sp), len(mat.sites)
    if len(mat.arc_cost) == 0:
        return True, np.zeros(0, np.int64)
    big_b = _big_b(mat)
    sink = n_pool + n_site
    tails = np.concatenate([mat.arc_pool, n_pool + np.arange(n_site), np.arange(n_pool)]).astype(
        np.int32
    )
    heads = np.concatenate(
        [n_pool + mat.arc_site, np.full(n_site, sink), np.full(n_pool, sink)]
    ).astype(np.int32)
    caps = np.concatenate([mat.arc_cap, mat.demand, mat.pool_supply]).astype(np.int64)
    costs = np.concatenate(
        [mat.arc_cost, -big_b * priority[mat.sites].astype(np.int64), np.zeros(n_pool, np.int64)]
    ).astype(np.int64)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_pool] = mat.pool_supply
    supplies[sink] = -int(mat.pool_supply.sum())
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:  # e.g. BAD_COST_RANGE on absurd quantities: caller falls back
        return False, np.zeros(len(mat.arc_cost), np.int64)
    flows = np.asarray(smcf.flows(np.arange(len(mat.arc_cost), dtype=np.int32)), np.int64)
    return True, flows


def _solve_glop_all(
    mats: Sequence[_Material], p: AllocationProblem, time_limit_s: float
) -> tuple[Status, list[np.ndarray]]:
    """All materials in one LP (GLOP), same weighted objective as the min-cost flow."""
    import pandas as pd
    from ortools.linear_solver.python import model_builder as mb

    model = mb.Model()
    series = []
    for j, mat in enumerate(mats):
        n = len(mat.arc_cost)
        xs = model.new_var_series(
            f"x{j}", pd.RangeIndex(n), lower_bounds=0, upper_bounds=pd.Series(mat.arc_cap)
        )
        series.append(xs)
    terms, coefs = [], []
    for j, mat in enumerate(mats):
        xs = series[j]
        if len(mat.arc_cost) == 0:
            continue
        big_b = _big_b(mat)
        w = p.priority[mat.sites][mat.arc_site].astype(np.float64)
        # Each unit reaching a site earns B × priority (the site→sink arc in the flow model).
        terms.extend(xs.tolist())
        coefs.extend((mat.arc_cost.astype(np.float64) - big_b * w).tolist())
        order = np.argsort(mat.arc_pool, kind="stable")
        bounds = np.searchsorted(mat.arc_pool[order], np.arange(len(mat.pool_sp) + 1))
        for k in range(len(mat.pool_sp)):
            idx = order[bounds[k] : bounds[k + 1]]
            if len(idx):
                model.add(mb.LinearExpr.sum(xs.iloc[idx].tolist()) <= float(mat.pool_supply[k]))
        order = np.argsort(mat.arc_site, kind="stable")
        bounds = np.searchsorted(mat.arc_site[order], np.arange(len(mat.sites) + 1))
        for k in range(len(mat.sites)):
            idx = order[bounds[k] : bounds[k + 1]]
            if len(idx):
                model.add(mb.LinearExpr.sum(xs.iloc[idx].tolist()) <= float(mat.demand[k]))
    model.minimize(mb.LinearExpr.weighted_sum(terms, coefs))
    solver = mb.Solver("glop")
    solver.set_time_limit_in_seconds(max(0.01, time_limit_s))
    st = solver.solve(model)
    if st == mb.SolveStatus.OPTIMAL:
        status = Status.OPTIMAL
    elif st == mb.SolveStatus.FEASIBLE:
        status = Status.TIMEOUT
    else:
        return Status.TIMEOUT, [np.zeros(len(m.arc_cost), np.int64) for m in mats]
    flows = [
        np.rint(solver.values(xs).to_numpy()).astype(np.int64) if len(xs) else np.zeros(0, int)
        for xs in series
    ]
    return status, flows


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def solve_allocation(
    problem: AllocationProblem,
    options: AllocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> AllocationResult:
    """Allocate stock to sites: max priority-weighted delivery, then min quantity × seconds.

    Never raises for infeasible or partial situations: what cannot be delivered is listed in
    ``unserved`` with a reason. ``stop()`` returning True (checked between materials) yields
    status CANCELLED with the materials finished so far; the rest is listed as 计算已取消.
    """
    opt = options or AllocationOptions()
    if opt.engine not in ("mcf", "glop"):
        raise ValueError(f"AllocationOptions.engine must be 'mcf' or 'glop', got {opt.engine!r}")
    t0 = time.perf_counter()
    n_mat = len(problem.materials)
    lines: list[Shipment] = []
    unserved: list[Unserved] = []
    objective = 0.0
    wf = 0.0
    # Weighted demand as planned: indivisible needs in whole units, divisible in 1/scale steps.
    wd = 0.0
    status = Status.OPTIMAL
    stopped: Reason | None = None
    done = 0

    def account(j: int, mat: _Material, flows: np.ndarray) -> None:
        nonlocal objective, wf, wd
        wd += float(np.dot(mat.demand, problem.priority[mat.sites])) / mat.scale
        delivered = np.bincount(mat.arc_site, weights=flows, minlength=len(mat.sites))
        used = np.bincount(mat.arc_pool, weights=flows, minlength=len(mat.pool_sp))
        residual = mat.pool_supply - used
        objective += float(np.dot(flows, mat.arc_cost)) / mat.scale
        wf += float(np.dot(delivered, problem.priority[mat.sites])) / mat.scale
        lines.extend(_lines(problem, j, mat, flows))
        unserved.extend(_shortfall_reasons(problem, j, opt, mat, delivered, residual))

    if opt.engine == "mcf":
        for j in range(n_mat):
            if stop is not None and stop():
                stopped = Reason.CANCELLED
                break
            if time.perf_counter() - t0 > opt.time_limit_s:
                stopped = Reason.TIME_LIMIT
                break
            mat = _material_data(problem, j, opt)
            ok, flows = _solve_mcf(mat, problem.priority)
            if not ok:  # same model as an LP (integral vertex: totally unimodular)
                remaining = opt.time_limit_s - (time.perf_counter() - t0)
                lp_status, (flows,) = _solve_glop_all([mat], problem, remaining)
                if lp_status is not Status.OPTIMAL:
                    stopped = Reason.TIME_LIMIT
                    break
            account(j, mat, flows)
            done = j + 1
            if progress is not None:
                progress(done / max(n_mat, 1), f"物资 {problem.material_names[j]} 已分配")
    else:
        mats = [_material_data(problem, j, opt) for j in range(n_mat)]
        if stop is not None and stop():
            stopped = Reason.CANCELLED
        else:
            remaining = opt.time_limit_s - (time.perf_counter() - t0)
            status, all_flows = _solve_glop_all(mats, problem, remaining)
            if status is Status.OPTIMAL:
                for j, (mat, flows) in enumerate(zip(mats, all_flows)):
                    account(j, mat, flows)
                done = n_mat
            else:
                stopped = Reason.TIME_LIMIT
        if progress is not None:
            progress(1.0, "物资分配完成")

    if stopped is not None:
        status = Status.CANCELLED if stopped is Reason.CANCELLED else Status.TIMEOUT
        for j in range(done, n_mat):
            wd += float(np.dot(problem.priority, problem.demand[:, j]))
            for t in np.flatnonzero(problem.demand[:, j] > 0):
                unserved.append(_unserved(problem, int(t), j, problem.demand[t, j], stopped))
    info = SolveInfo(
        status=status,
        objective=objective,
        bound=objective if status is Status.OPTIMAL else None,
        runtime_s=time.perf_counter() - t0,
        engine=f"ortools-{'min_cost_flow' if opt.engine == 'mcf' else 'glop'}",
    )
    return AllocationResult(
        info=info,
        lines=tuple(lines),
        unserved=tuple(unserved),
        weighted_fulfilled=wf,
        weighted_demand=wd,
    )


__all__ = [
    "Shipment",
    "AllocationOptions",
    "AllocationResult",
    "solve_allocation",
]
