"""Where to put facilities (储哪里): p-median, covering, capacitated and robust location models.

Every model has the solver shape ``solve_<model>(problem, options, *, stop=None, progress=None)
-> LocationResult`` over plain data (:class:`LocationProblem`: a candidates × demand-points
matrix of travel minutes or costs, populations, capacities, fixed costs, existing-site flags,
closure scenarios), so the ``plan-sites`` command and the planning desk are thin layers over it.
Bad input is never an exception: the result is INFEASIBLE with a sentence naming what is wrong
(``problems``). Statuses are honest: OPTIMAL only when the bound meets the objective.

Models and engines
------------------
- ``pmedian`` / ``keep_existing`` / ``close_weakest`` — the hand-written exact engine in
  :mod:`dispatch.planning.pmedian` (local search + Lagrangian bound/fixing + Lagrangian branch
  and bound); measured many times faster than SCIP on the assignment formulation
  (``benchmarks/bench_planning.py``).
- ``mclp``, ``lscp``, ``backup`` (lexicographic: people covered once, then twice), ``cflp``
  (splittable, strong linking ``x_ij ≤ y_i``) and ``robust`` (min–max over closure scenarios) —
  MIPs solved by SCIP through OR-Tools ``pywraplp``; ``stop`` interrupts SCIP from a watcher
  thread. Large ``cflp`` models first run the Lagrangian relaxation and branch and bound of
  :mod:`dispatch.planning.cflp_lagrange` (bound, solutions, sites fixed open/closed), which
  proved the capa-sized stand-ins; SCIP then gets only the sites still free.

Unreachable pairs are ``np.inf`` in the matrix. A demand point no candidate reaches is left out
of the objective and named in ``problems``; in the median models a point reachable only from
some candidates pays a penalty (10 × the largest finite cost) when served by none of them, and
is named if that happens.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.planning.cflp_lagrange import lagrangian_cflp
from dispatch.planning.pmedian import solve_pmedian_matrix
from dispatch.results import ProgressFn, SolveInfo, Status, StopFn, never_stop, no_progress

#: CFLP: above this many candidate × point pairs, the strong rows x_ij ≤ y_i are written for
#: each point's CFLP_LINK_NEAREST cheapest candidates only (the capacity rows
#: Σ_j d_j x_ij ≤ C_i y_i already make the model exact; the strong rows tighten its LP where it
#: matters). On a generated 100 × 1,000 instance SCIP did not finish the root LP of the full
#: strong model in 120 s on the loaded machine; with 10 rows per point it did. SCIP sees only
#: the sites the Lagrangian relaxation left free, started from its best solution.
CFLP_FULL_LINK_PAIRS = 50_000
CFLP_LINK_NEAREST = 10

MODELS = ("pmedian", "mclp", "lscp", "cflp", "keep_existing", "close_weakest", "backup", "robust")


@dataclass(frozen=True)
class LocationProblem:
    """Plain data for every model (fields a model does not use are ignored).

    ``cost[i, j]``: travel minutes (or cost) from candidate ``i`` to demand point ``j``,
    ``np.inf`` when unreachable. For ``cflp`` it is the cost of serving *all* of ``j``'s demand
    from ``i`` (the OR-Library convention). ``weight``: population / demand per point
    (default 1). ``k``: sites to open (pmedian, mclp, backup, robust), new sites to add
    (keep_existing) or existing sites to close (close_weakest). ``threshold``: coverage
    minutes (mclp, lscp, backup). ``existing``: candidates that already exist; with
    ``keep_existing`` they stay open in mclp/lscp/backup/robust too. ``scenarios``: one cost
    matrix per closure scenario (robust).
    """

    cost: np.ndarray
    weight: np.ndarray | None = None
    k: int = 1
    threshold: float | None = None
    capacity: np.ndarray | None = None
    fixed_cost: np.ndarray | None = None
    existing: np.ndarray | None = None
    keep_existing: bool = False
    scenarios: tuple[np.ndarray, ...] = ()
    candidate_names: tuple[str, ...] = ()
    demand_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocationOptions:
    seconds: float = 30.0


@dataclass(frozen=True)
class LocationResult:
    """``chosen``: open candidate indices; ``assignment[j]``: the candidate serving point ``j``
    (nearest open one; −1 = none / not covered); ``flows``: CFLP (candidate, point, share of
    the point's demand); ``uncovered``: points not covered (coverage models) or unreachable;
    ``problems``: sentences for the planner (zh)."""

    model: str
    info: SolveInfo
    chosen: tuple[int, ...] = ()
    assignment: tuple[int, ...] = ()
    flows: tuple[tuple[int, int, float], ...] = ()
    uncovered: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()
    stats: dict = field(default_factory=dict)


class _Bad(Exception):
    """Internal: input that cannot be solved; the message is for the planner."""


def _name(names: Sequence[str], i: int, kind: str) -> str:
    return str(names[i]) if i < len(names) else f"{kind}{i + 1}"


def _fail(model: str, message: str, t0: float) -> LocationResult:
    info = SolveInfo(Status.INFEASIBLE, runtime_s=time.perf_counter() - t0, engine="")
    return LocationResult(model=model, info=info, problems=(message,))


def _check(problem: LocationProblem, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (cost, weight, existing mask); raises _Bad with a planner-readable sentence."""
    try:
        cost = np.array(problem.cost, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Bad("费用/时间矩阵不是数值矩阵") from None
    if cost.ndim != 2:
        raise _Bad("费用/时间矩阵必须是二维（候选点 × 需求点）")
    m, n = cost.shape
    if m == 0:
        raise _Bad("没有候选点")
    if n == 0:
        raise _Bad("没有需求点")
    if np.isnan(cost).any() or (cost < 0).any():
        raise _Bad("费用/时间矩阵含负数或空值")
    weight = np.ones(n) if problem.weight is None else np.array(problem.weight, dtype=np.float64)
    if weight.shape != (n,) or not np.all(np.isfinite(weight)) or (weight < 0).any():
        raise _Bad(f"需求点人口/权重必须是 {n} 个非负数")
    existing = np.zeros(m, dtype=bool)
    if problem.existing is not None:
        existing = np.array(problem.existing, dtype=bool)
        if existing.shape != (m,):
            raise _Bad(f"现有设施标记必须有 {m} 个（每个候选点一个）")
    if model in ("mclp", "lscp", "backup"):
        t = problem.threshold
        if t is None or not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
            raise _Bad(f"覆盖时间阈值必须是正数，收到 {t!r}")
    if not np.isfinite(cost).any(axis=0).any():
        raise _Bad("所有需求点都无法从任何候选点到达")
    return cost, weight, existing


def _check_k(k: Any, available: int, what: str) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise _Bad(f"{what}必须是正整数，收到 {k!r}")
    if k > available:
        raise _Bad(f"{what} {k} 大于可选候选点数 {available}")
    return int(k)


def _unreachable_note(problem: LocationProblem, points: np.ndarray) -> str:
    names = [_name(problem.demand_names, int(j), "需求点") for j in points[:10]]
    more = f" 等 {len(points)} 个" if len(points) > 10 else ""
    return f"无法从任何候选点到达的需求点（不计入目标）：{'、'.join(names)}{more}"


# ------------------------------------------------------------------------------------------
# p-median family (hand-written exact engine)
# ------------------------------------------------------------------------------------------


def _median_family(
    problem: LocationProblem,
    options: LocationOptions,
    model: str,
    stop: StopFn,
    progress: ProgressFn,
) -> LocationResult:
    t0 = time.perf_counter()
    try:
        cost, weight, existing = _check(problem, model)
        m, n = cost.shape
        forced = np.zeros(m, dtype=bool)
        allowed = np.ones(m, dtype=bool)
        if model == "pmedian":
            p = _check_k(problem.k, m, "选址数量 k")
        elif model == "keep_existing":
            if not existing.any():
                raise _Bad("没有现有设施：请改用 p-中位模型")
            p = int(existing.sum()) + _check_k(problem.k, m - int(existing.sum()), "新增数量 k")
            forced = existing.copy()
        else:  # close_weakest
            n_exist = int(existing.sum())
            if n_exist == 0:
                raise _Bad("没有现有设施可关闭")
            k = _check_k(problem.k, n_exist, "关闭数量 k")
            if k == n_exist:
                raise _Bad(f"关闭数量 k {k} 等于现有设施数：至少要保留一处")
            p = n_exist - k
            allowed = existing.copy()
    except _Bad as exc:
        return _fail(model, str(exc), t0)
    problems: list[str] = []
    reach = np.isfinite(cost[allowed]).any(axis=0)
    if not reach.any():
        return _fail(model, "所有需求点都无法从可选候选点到达", t0)
    if not reach.all():
        problems.append(_unreachable_note(problem, np.nonzero(~reach)[0]))
    sub = cost[:, reach]
    finite_max = float(sub[np.isfinite(sub)].max()) if np.isfinite(sub).any() else 1.0
    penalty = 10.0 * max(finite_max, 1.0)
    weighted = np.where(np.isfinite(sub), sub, penalty) * weight[reach][None, :]
    out = solve_pmedian_matrix(
        weighted,
        p,
        forced=forced,
        allowed=allowed,
        seconds=max(0.0, options.seconds - (time.perf_counter() - t0)),
        stop=stop,
        progress=progress,
    )
    chosen = np.array(out.open, dtype=np.int64)
    assign = np.full(n, -1, dtype=np.int64)
    sub_assign = chosen[np.argmin(sub[chosen], axis=0)]
    ok = np.isfinite(sub[chosen]).any(axis=0)
    cols = np.nonzero(reach)[0]
    assign[cols[ok]] = sub_assign[ok]
    if not ok.all():
        problems.append(
            "所选设施无法到达的需求点："
            + "、".join(_name(problem.demand_names, int(j), "需求点") for j in cols[~ok][:10])
        )
    if out.proven:
        status = Status.OPTIMAL
    elif out.stopped == "cancelled":
        status = Status.CANCELLED
    else:
        status = Status.TIMEOUT
    objective = float(out.objective)
    info = SolveInfo(
        status,
        objective=objective,
        bound=float(out.bound),
        runtime_s=time.perf_counter() - t0,
        engine="lagrangian-bnb",
    )
    uncovered = tuple(int(j) for j in np.nonzero(assign < 0)[0])
    return LocationResult(
        model, info, tuple(int(i) for i in chosen), tuple(int(a) for a in assign),
        uncovered=uncovered, problems=tuple(problems), stats=dict(out.stats),
    )  # fmt: skip


def solve_pmedian(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Open ``k`` sites minimising Σ population × minutes to the nearest open site."""
    return _median_family(
        problem,
        options or LocationOptions(),
        "pmedian",
        stop or never_stop,
        progress or no_progress,
    )


def solve_keep_existing(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Keep every existing site open and add ``k`` new ones (p-median objective)."""
    return _median_family(
        problem,
        options or LocationOptions(),
        "keep_existing",
        stop or never_stop,
        progress or no_progress,
    )


def solve_close_weakest(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Close the ``k`` existing sites whose loss raises Σ population × minutes least."""
    return _median_family(
        problem,
        options or LocationOptions(),
        "close_weakest",
        stop or never_stop,
        progress or no_progress,
    )


# ------------------------------------------------------------------------------------------
# MIP models (SCIP via OR-Tools)
# ------------------------------------------------------------------------------------------


class _Mip:
    """A pywraplp SCIP model that ``stop`` can interrupt and that reports honestly."""

    def __init__(self) -> None:
        from ortools.linear_solver import pywraplp

        self.lp = pywraplp
        self.solver = pywraplp.Solver.CreateSolver("SCIP")
        self.status: int | None = None

    def solve(self, seconds: float, stop: StopFn) -> tuple[Status, float | None, float | None]:
        pywraplp = self.lp
        solver = self.solver
        solver.SetTimeLimit(max(50, int(seconds * 1000)))
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, 1e-9)
        done = threading.Event()
        cancelled = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                if stop():
                    cancelled.set()
                    solver.InterruptSolve()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            status = solver.Solve(params)
        finally:
            done.set()
            watcher.join()
        self.status = status
        if status == pywraplp.Solver.INFEASIBLE:
            return Status.INFEASIBLE, None, None
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return (Status.CANCELLED if cancelled.is_set() else Status.TIMEOUT), None, None
        obj = solver.Objective().Value()
        bound = solver.Objective().BestBound()
        if status == pywraplp.Solver.OPTIMAL:
            return Status.OPTIMAL, obj, bound
        return (Status.CANCELLED if cancelled.is_set() else Status.TIMEOUT), obj, bound


def _cover_sets(cost: np.ndarray, threshold: float) -> np.ndarray:
    return cost <= threshold + 1e-9


def _coverage_model(
    problem: LocationProblem,
    options: LocationOptions,
    model: str,
    stop: StopFn,
    progress: ProgressFn,
) -> LocationResult:
    t0 = time.perf_counter()
    try:
        cost, weight, existing = _check(problem, model)
        m, n = cost.shape
        forced = existing if problem.keep_existing else np.zeros(m, dtype=bool)
        if model != "lscp":
            k = _check_k(problem.k, m - int(forced.sum()), "选址数量 k")
    except _Bad as exc:
        return _fail(model, str(exc), t0)
    assert problem.threshold is not None
    cover = _cover_sets(cost, float(problem.threshold))
    coverable = cover.any(axis=0)
    problems: list[str] = []
    if not coverable.any():
        return _fail(model, f"没有任何需求点能在 {problem.threshold:g} 分钟内被任何候选点覆盖", t0)
    if not coverable.all():
        bad = np.nonzero(~coverable)[0]
        names = "、".join(_name(problem.demand_names, int(j), "需求点") for j in bad[:20])
        more = f" 等 {len(bad)} 个" if len(bad) > 20 else ""
        problems.append(f"{problem.threshold:g} 分钟内任何候选点都覆盖不到：{names}{more}")
    progress(0.1, "建立模型")
    mip = _Mip()
    s = mip.solver
    y = [s.BoolVar(f"y{i}") for i in range(m)]
    for i in np.nonzero(forced)[0]:
        y[i].SetLb(1.0)
    cols = np.nonzero(coverable)[0]
    if model == "lscp":
        for j in cols:
            s.Add(s.Sum([y[i] for i in np.nonzero(cover[:, j])[0]]) >= 1)
        s.Minimize(s.Sum(y))
        status, obj, bound = mip.solve(options.seconds - (time.perf_counter() - t0), stop)
        stages = [(status, obj, bound)]
    else:
        s.Add(s.Sum(y) == k + int(forced.sum()))
        once = {}
        twice = {}
        for j in cols:
            near = [y[i] for i in np.nonzero(cover[:, j])[0]]
            once[j] = s.NumVar(0.0, 1.0, "")
            s.Add(once[j] <= s.Sum(near))
            if model == "backup":
                twice[j] = s.NumVar(0.0, 1.0, "")
                s.Add(once[j] + twice[j] <= s.Sum(near))
                s.Add(twice[j] <= once[j])
        first = s.Sum([float(weight[j]) * once[j] for j in cols])
        s.Maximize(first)
        status, obj, bound = mip.solve(options.seconds - (time.perf_counter() - t0), stop)
        stages = [(status, obj, bound)]
        if model == "backup" and status == Status.OPTIMAL and obj is not None:
            # lexicographic: keep the people covered once, then maximise those covered twice
            s.Add(first >= obj - 1e-6 * max(1.0, abs(obj)))
            s.Maximize(s.Sum([float(weight[j]) * twice[j] for j in cols]))
            left = options.seconds - (time.perf_counter() - t0)
            status, obj, bound = mip.solve(max(left, 0.05), stop)
            stages.append((status, obj, bound))
    if obj is None:
        info = SolveInfo(status, runtime_s=time.perf_counter() - t0, engine="SCIP")
        return LocationResult(model, info, problems=tuple(problems))
    chosen = tuple(int(i) for i in range(m) if y[i].solution_value() > 0.5)
    ch = np.array(chosen, dtype=np.int64)
    hit = cover[ch].sum(axis=0) if len(ch) else np.zeros(n)
    assign = np.full(n, -1, dtype=np.int64)
    if len(ch):
        near = ch[np.argmin(cost[ch], axis=0)]
        assign = np.where(hit > 0, near, -1)
    uncovered = tuple(int(j) for j in np.nonzero(hit == 0)[0])
    # objective recomputed from the chosen sites (the MIP's value is only a check)
    if model == "lscp":
        objective = float(len(ch))
    elif model == "mclp":
        objective = float(weight[hit > 0].sum())
    else:
        objective = float(weight[hit >= 2].sum())
        problems.append(f"单重覆盖人口 {float(weight[hit > 0].sum()):g}")
    if model == "lscp" and (hit[cols] == 0).any():
        problems.append("部分可覆盖的需求点未被覆盖（求解未完成）")
    stats = {
        "covered_once": float(weight[hit > 0].sum()),
        "covered_twice": float(weight[hit >= 2].sum()),
    }
    if model == "backup" and len(stages) == 1:
        status = stages[0][0] if stages[0][0] != Status.OPTIMAL else Status.TIMEOUT
        bound = None
    info = SolveInfo(
        status,
        objective=objective,
        bound=None if bound is None else float(bound),
        runtime_s=time.perf_counter() - t0,
        engine="SCIP",
    )
    return LocationResult(
        model, info, chosen, tuple(int(a) for a in assign), uncovered=uncovered,
        problems=tuple(problems), stats=stats,
    )  # fmt: skip


def solve_mclp(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Maximal covering: open ``k`` sites covering the most people within ``threshold``."""
    return _coverage_model(
        problem, options or LocationOptions(), "mclp", stop or never_stop, progress or no_progress
    )


def solve_lscp(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Set covering: fewest sites so that every coverable point is within ``threshold``;
    points no candidate can cover are named in ``problems`` and ``uncovered``."""
    return _coverage_model(
        problem, options or LocationOptions(), "lscp", stop or never_stop, progress or no_progress
    )


def solve_backup(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Backup coverage: ``k`` sites; first the most people covered once, then (objective) the
    most people covered by two sites within ``threshold``."""
    return _coverage_model(
        problem, options or LocationOptions(), "backup", stop or never_stop, progress or no_progress
    )


def solve_cflp(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Capacitated facility location, splittable demand: min Σ fixed + Σ cost × share.

    ``weight`` is each point's demand, ``capacity``/``fixed_cost`` per candidate; existing
    sites stay open when ``keep_existing``. Large models (> ``CFLP_FULL_LINK_PAIRS`` pairs) first
    get the Lagrangian relaxation (:mod:`dispatch.planning.cflp_lagrange`: a bound, feasible
    solutions, sites fixed open or closed, then a Lagrangian branch and bound for 45 % of the
    time); when that does not close the gap, SCIP solves the problem over the sites still free,
    started from the best solution. Small models go to SCIP directly.
    """
    options = options or LocationOptions()
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    model = "cflp"
    try:
        cost, demand, existing = _check(problem, model)
        m, n = cost.shape
        cap = np.array(problem.capacity if problem.capacity is not None else [], dtype=float)
        fixed = np.array(problem.fixed_cost if problem.fixed_cost is not None else np.zeros(m))
        if cap.shape != (m,) or not np.all(np.isfinite(cap)) or (cap < 0).any():
            raise _Bad(f"容量必须是 {m} 个非负数（每个候选点一个）")
        if fixed.shape != (m,) or not np.all(np.isfinite(fixed)) or (fixed < 0).any():
            raise _Bad(f"固定费用必须是 {m} 个非负数（每个候选点一个）")
        if cap.sum() < demand.sum() - 1e-9:
            raise _Bad(f"总容量 {cap.sum():g} 小于总需求 {demand.sum():g}")
    except _Bad as exc:
        return _fail(model, str(exc), t0)
    problems: list[str] = []
    reach = np.isfinite(cost).any(axis=0)
    if not reach.all():
        problems.append(_unreachable_note(problem, np.nonzero(~reach)[0]))
    cols = np.nonzero(reach)[0]
    sub, dem = cost[:, cols], demand[cols]
    forced = existing if problem.keep_existing else np.zeros(m, dtype=bool)
    progress(0.05, "拉格朗日松弛")
    # small models (the full strong formulation fits): SCIP alone is faster than the relaxation
    small = sub.size <= CFLP_FULL_LINK_PAIRS
    lag = lagrangian_cflp(
        sub, dem, cap, fixed, forced, seconds=0.4 * options.seconds, stop=stop,
        max_iterations=0 if small else 3000, branch_seconds=0.45 * options.seconds,
    )  # fmt: skip
    stats = {
        "lagrangian_bound": lag.lower,
        "lagrangian_iterations": lag.iterations,
        "sites_fixed_open": int(lag.fixed_open.sum()),
        "sites_fixed_closed": int(lag.fixed_closed.sum()),
    }
    tol = 1e-6 * max(1.0, abs(lag.upper)) if math.isfinite(lag.upper) else 0.0
    shares = lag.shares
    value, bound, engine = lag.upper, lag.lower, "lagrangian"
    status = Status.OPTIMAL if lag.upper - lag.lower <= tol else Status.TIMEOUT
    if status != Status.OPTIMAL and not stop():
        progress(0.4, "建立模型")
        keep = np.nonzero(~lag.fixed_closed)[0]
        left = options.seconds - (time.perf_counter() - t0)
        got = _cflp_mip(sub[keep], dem, cap[keep], fixed[keep], lag.fixed_open[keep],
                        None if lag.open is None else (lag.open[keep], lag.shares[keep]),
                        left, stop)  # fmt: skip
        mip_status, mip_value, mip_bound, mip_shares = got
        engine = "SCIP" if small else "lagrangian+SCIP"
        if mip_status == Status.INFEASIBLE and lag.open is None:
            info = SolveInfo(Status.INFEASIBLE, runtime_s=time.perf_counter() - t0, engine=engine)
            return LocationResult(model, info, problems=(*problems, "容量无法满足可达需求"))
        if mip_value is not None and mip_value < value - 1e-9:
            value, shares = mip_value, np.zeros((m, len(cols)))
            shares[keep] = mip_shares
        if mip_bound is not None:
            # the sites fixed by the relaxation cut off only regions bounded by excluded_bound
            bound = max(bound, min(mip_bound, lag.excluded_bound))
        if mip_status == Status.OPTIMAL and mip_value is not None:
            bound = max(bound, min(mip_value, lag.excluded_bound))
        if stop():
            status = Status.CANCELLED
        if math.isfinite(value) and bound >= value - 1e-6 * max(1.0, abs(value)):
            status = Status.OPTIMAL
    if shares is None:
        status = Status.CANCELLED if stop() else Status.TIMEOUT
        info = SolveInfo(status, runtime_s=time.perf_counter() - t0, engine=engine)
        return LocationResult(model, info, problems=(*problems, "时限内未找到可行方案"))
    share = np.zeros((m, n))
    share[:, cols] = np.where(shares > 1e-9, shares, 0.0)
    chosen = tuple(int(i) for i in np.nonzero((share.sum(axis=1) > 0) | forced)[0])
    flows = tuple((int(i), int(j), float(share[i, j])) for i, j in zip(*np.nonzero(share)))
    objective = float(fixed[list(chosen)].sum()) + float(
        (np.where(share > 0, cost, 0.0) * share).sum()
    )
    assign = np.where(share.max(axis=0) > 0, share.argmax(axis=0), -1)
    if status == Status.OPTIMAL:
        bound = min(bound, objective)
    info = SolveInfo(
        status, objective=objective, bound=float(bound) if math.isfinite(bound) else None,
        runtime_s=time.perf_counter() - t0,
        engine=engine,
    )  # fmt: skip
    return LocationResult(
        model, info, chosen, tuple(int(a) for a in assign), flows=flows,
        uncovered=tuple(int(j) for j in np.nonzero(~reach)[0]), problems=tuple(problems),
        stats=stats,
    )  # fmt: skip


def _cflp_mip(
    cost: np.ndarray,
    demand: np.ndarray,
    cap: np.ndarray,
    fixed: np.ndarray,
    open_lb: np.ndarray,
    start: tuple[np.ndarray, np.ndarray] | None,
    seconds: float,
    stop: StopFn,
) -> tuple[Status, float | None, float | None, np.ndarray | None]:
    """SCIP on a CFLP whose every point is reachable: (status, value, bound, shares[site, point])."""
    m, n = cost.shape
    mip = _Mip()
    s = mip.solver
    y = [s.BoolVar(f"y{i}") for i in range(m)]
    for i in np.nonzero(open_lb)[0]:
        y[i].SetLb(1.0)
    x: dict[tuple[int, int], Any] = {}
    load: list[list[Any]] = [[] for _ in range(m)]
    obj = [float(fixed[i]) * y[i] for i in range(m)]
    for j in range(n):
        row = []
        options_j = np.nonzero(np.isfinite(cost[:, j]))[0]
        near = np.argsort(cost[options_j, j], kind="stable")
        if m * n > CFLP_FULL_LINK_PAIRS:
            near = near[:CFLP_LINK_NEAREST]
        strong = set(options_j[near].tolist())
        for i in options_j:
            v = s.NumVar(0.0, 1.0, "")
            x[(int(i), j)] = v
            row.append(v)
            if i in strong:
                s.Add(v <= y[i])
            load[i].append(float(demand[j]) * v)
            obj.append(float(cost[i, j]) * v)
        s.Add(s.Sum(row) == 1)
    for i in range(m):
        if load[i]:
            s.Add(s.Sum(load[i]) <= float(cap[i]) * y[i])
    s.Add(s.Sum([float(cap[i]) * y[i] for i in range(m)]) >= float(demand.sum()))  # a valid cut
    s.Minimize(s.Sum(obj))
    if start is not None:  # a complete solution: SCIP ignored a hint of the y alone
        opened, shares = start
        keys = list(x)
        s.SetHint(
            y + [x[k] for k in keys],
            [1.0 if o else 0.0 for o in opened] + [float(shares[k]) for k in keys],
        )
    status, value, bound = mip.solve(seconds, stop)
    if value is None:
        return status, None, bound, None
    out = np.zeros((m, n))
    for (i, j), v in x.items():
        out[i, j] = v.solution_value()
    out = np.clip(out, 0.0, 1.0)
    value = float(fixed[(out.sum(axis=1) > 1e-9) | open_lb].sum()) + float(
        (np.where(out > 1e-9, cost, 0.0) * out).sum()
    )
    return status, value, bound, out


def solve_robust(
    problem: LocationProblem,
    options: LocationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> LocationResult:
    """Open ``k`` sites minimising the worst Σ population × minutes over the scenarios.

    ``problem.cost`` is the baseline; ``problem.scenarios`` the matrices with roads closed
    (the baseline counts as one more scenario). Points a scenario cuts off from every candidate
    are left out of that scenario's sum and named.
    """
    options = options or LocationOptions()
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    model = "robust"
    try:
        cost, weight, existing = _check(problem, model)
        m, n = cost.shape
        mats = [cost]
        for s_i, sc in enumerate(problem.scenarios, start=1):
            arr = np.array(sc, dtype=float)
            if arr.shape != (m, n) or np.isnan(arr).any() or (arr < 0).any():
                raise _Bad(f"情景 {s_i} 的矩阵形状或数值不对（应为 {m} × {n} 的非负数）")
            mats.append(arr)
        forced = existing if problem.keep_existing else np.zeros(m, dtype=bool)
        k = _check_k(problem.k, m - int(forced.sum()), "选址数量 k")
    except _Bad as exc:
        return _fail(model, str(exc), t0)
    problems: list[str] = []
    progress(0.1, "建立模型")
    mip = _Mip()
    s = mip.solver
    y = [s.BoolVar(f"y{i}") for i in range(m)]
    for i in np.nonzero(forced)[0]:
        y[i].SetLb(1.0)
    s.Add(s.Sum(y) == k + int(forced.sum()))
    worst = s.NumVar(0.0, s.infinity(), "worst")
    for s_i, mat in enumerate(mats):
        reach = np.isfinite(mat).any(axis=0)
        if not reach.all():
            label = "基准" if s_i == 0 else f"情景 {s_i}"
            problems.append(f"{label}：" + _unreachable_note(problem, np.nonzero(~reach)[0]))
        terms = []
        for j in np.nonzero(reach)[0]:
            row = []
            for i in np.nonzero(np.isfinite(mat[:, j]))[0]:
                v = s.NumVar(0.0, 1.0, "")
                s.Add(v <= y[i])
                row.append(v)
                terms.append(float(weight[j] * mat[i, j]) * v)
            s.Add(s.Sum(row) == 1)
        s.Add(worst >= s.Sum(terms))
    s.Minimize(worst)
    status, value, bound = mip.solve(options.seconds - (time.perf_counter() - t0), stop)
    if value is None:
        info = SolveInfo(status, runtime_s=time.perf_counter() - t0, engine="SCIP")
        msg = (
            "所选数量的设施无法在每个情景下都到达可达的需求点"
            if status == Status.INFEASIBLE
            else ""
        )
        return LocationResult(model, info, problems=(*problems, msg) if msg else tuple(problems))
    chosen = tuple(i for i in range(m) if y[i].solution_value() > 0.5)
    ch = np.array(chosen, dtype=np.int64)
    per_scenario = []
    for mat in mats:
        reach = np.isfinite(mat).any(axis=0)
        per_scenario.append(float((weight * mat[ch].min(axis=0))[reach].sum()))
    assign = ch[np.argmin(cost[ch], axis=0)]
    assign = np.where(np.isfinite(cost[ch]).any(axis=0), assign, -1)
    info = SolveInfo(
        status,
        objective=max(per_scenario),
        bound=None if bound is None else float(bound),
        runtime_s=time.perf_counter() - t0,
        engine="SCIP",
    )
    return LocationResult(
        model, info, chosen, tuple(int(a) for a in assign), problems=tuple(problems),
        uncovered=tuple(int(j) for j in np.nonzero(assign < 0)[0]),
        stats={"scenario_costs": per_scenario},
    )  # fmt: skip


def summarize(
    problem: LocationProblem, chosen: Sequence[int], thresholds: Sequence[float] = (15, 30, 60, 90)
) -> dict:
    """Before/after figures for a set of open sites (the ``plan-sites`` ``before``/``after``):
    population-weighted mean and the max minutes to the nearest open site, and per threshold
    the share of people within it. Points no open site reaches count as beyond every threshold
    and are left out of the mean/max (``unreachable_population`` says how many people)."""
    cost = np.asarray(problem.cost, dtype=float)
    n = cost.shape[1]
    w = np.ones(n) if problem.weight is None else np.asarray(problem.weight, dtype=float)
    total = float(w.sum())
    if len(chosen) == 0:
        near = np.full(n, np.inf)
    else:
        near = cost[list(chosen)].min(axis=0)
    ok = np.isfinite(near)
    reached = float(w[ok].sum())
    return {
        "mean_minutes": float((w[ok] * near[ok]).sum() / reached) if reached > 0 else None,
        "max_minutes": float(near[ok].max()) if ok.any() else None,
        "share_within": {
            f"{t:g}": (float(w[near <= t].sum()) / total if total > 0 else 0.0) for t in thresholds
        },
        "unreachable_population": float(w[~ok].sum()),
    }


SOLVERS = {
    "pmedian": solve_pmedian,
    "mclp": solve_mclp,
    "lscp": solve_lscp,
    "cflp": solve_cflp,
    "keep_existing": solve_keep_existing,
    "close_weakest": solve_close_weakest,
    "backup": solve_backup,
    "robust": solve_robust,
}
