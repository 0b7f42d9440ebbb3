"""Lagrangian bound, feasible solutions and site fixing for the splittable CFLP.

Relaxing the assignment rows ``Σ_i x_ij = 1`` with multipliers ``u_j`` splits the capacitated
facility location problem into one continuous knapsack per site (fill its capacity with the
points whose reduced cost ``c_ij − u_j`` is negative, most negative per unit of demand first)
and a covering knapsack over the sites (``Σ_i C_i y_i ≥`` total demand, a valid inequality that
makes the bound stronger than the strong LP's). This is the classical relaxation of Beasley
(1988, EJOR 33) and Görtz & Klose (2012, INFORMS JoC 24). Subgradient steps (Polyak's rule)
improve ``u``; the open sites of the relaxed solutions, completed to enough capacity and
split by the cheapest transport (:func:`~dispatch.planning.cflp_start.transport_shares`), give
feasible solutions. With the best ``u`` every site is tested both ways: if forcing it open
(closed) gives a bound above the best known cost, every better solution has it closed (open).
:func:`dispatch.planning.location.solve_cflp` then hands SCIP the much smaller problem over
the sites still free.

The covering knapsack is solved exactly when the free sites have equal capacities (the
OR-Library instances), otherwise its LP relaxation is used (still a valid, slightly weaker
bound).

Hand-written: the relaxation is a few numpy array operations; no installed library offers it
(OR-Tools and SciPy solve the MIP, not this decomposition).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from dispatch.planning.cflp_start import cflp_greedy_open, transport_shares
from dispatch.results import StopFn, never_stop


@dataclass(frozen=True)
class LagrangeOutcome:
    """``lower``: best Lagrangian bound (valid for the whole problem). ``upper``/``open``/
    ``shares``: the best feasible solution found (``math.inf`` / ``None`` when none).
    ``fixed_open``/``fixed_closed``: sites every solution cheaper than ``upper`` has open /
    closed; ``excluded_bound``: the least bound of the regions this fixing cuts off (≥ ``upper``;
    ``math.inf`` when nothing is fixed)."""

    lower: float
    upper: float
    open: np.ndarray | None
    shares: np.ndarray | None
    fixed_open: np.ndarray
    fixed_closed: np.ndarray
    excluded_bound: float
    iterations: int


def site_values(
    rc: np.ndarray, demand: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per site the least Σ_j rc_ij x_ij with Σ_j d_j x_ij ≤ C_i, 0 ≤ x ≤ 1 (a continuous
    knapsack: most negative reduced cost per unit of demand first), and the shares ``x``.
    Sites whose negative points all fit take them all; only the others are sorted."""
    neg = rc < 0
    x = neg.astype(float)
    tight = np.nonzero((np.where(neg, demand[None, :], 0.0)).sum(axis=1) > capacity)[0]
    if len(tight):
        r = rc[tight]
        dd = np.where(demand > 0, demand, 1.0)
        ratio = np.where(r < 0, r / dd[None, :], np.inf)
        ratio = np.where(demand[None, :] > 0, ratio, np.where(r < 0, -np.inf, np.inf))
        order = np.argsort(ratio, axis=1, kind="stable")
        negs = np.take_along_axis(r < 0, order, axis=1)
        ds = demand[order]
        dsn = np.where(negs, ds, 0.0)
        before = np.cumsum(dsn, axis=1) - dsn
        room = capacity[tight][:, None] - before
        take = np.clip(room / np.where(ds > 0, ds, 1.0), 0.0, 1.0)
        take = np.where(negs, np.where(ds > 0, take, 1.0), 0.0)
        xt = np.zeros_like(r)
        np.put_along_axis(xt, order, take, axis=1)
        x[tight] = xt
    value = np.where(neg, rc * x, 0.0).sum(axis=1)
    return value, x


def cover(
    v: np.ndarray, capacity: np.ndarray, need: float, forced: np.ndarray, banned: np.ndarray
) -> tuple[float, np.ndarray | None]:
    """min Σ v_i y_i with Σ C_i y_i ≥ need, ``forced`` sites open, ``banned`` closed: exact
    (integer y) when the free sites of positive value have equal capacities, else the LP
    relaxation (a lower bound). ``(inf, None)`` when even all allowed sites are too small."""
    y = np.zeros(len(v))
    y[forced] = 1.0
    free = ~forced & ~banned
    y[free & (v < 0)] = 1.0
    rem = need - float(capacity[y > 0].sum())
    if rem > 1e-9:
        cand = np.nonzero(free & (v >= 0) & (capacity > 0))[0]
        if float(capacity[cand].sum()) < rem - 1e-9:
            return math.inf, None
        equal = len(cand) == 0 or float(np.ptp(capacity[cand])) == 0.0
        key = v[cand] if equal else v[cand] / capacity[cand]
        for i in cand[np.argsort(key, kind="stable")]:
            if rem <= 1e-9:
                break
            share = 1.0 if equal or capacity[i] <= rem else rem / float(capacity[i])
            y[i] = share
            rem -= share * float(capacity[i])
    return float(v @ y), y


def lagrangian_cflp(
    cost: np.ndarray,
    demand: np.ndarray,
    capacity: np.ndarray,
    fixed: np.ndarray,
    forced: np.ndarray,
    *,
    seconds: float,
    stop: StopFn = never_stop,
    max_iterations: int = 3000,
) -> LagrangeOutcome:
    """Subgradient optimisation of the Lagrangian dual, feasible solutions, and site fixing.

    ``cost[i, j]``: serving all of point ``j`` from site ``i`` (``inf`` = impossible; every
    point must be reachable from some site). ``forced``: sites that must stay open."""
    t0 = time.perf_counter()
    m, n = cost.shape
    demand = np.asarray(demand, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    fixed = np.asarray(fixed, dtype=float)
    forced = np.asarray(forced, dtype=bool)
    need = float(demand.sum())
    banned = np.zeros(m, dtype=bool)
    best_ub, best_open, best_shares = math.inf, None, None
    tried: set[bytes] = set()

    def try_open(opened: np.ndarray) -> None:
        nonlocal best_ub, best_open, best_shares
        opened = opened | forced
        if float(capacity[opened].sum()) < need - 1e-9:
            return
        key = np.packbits(opened).tobytes()
        if key in tried:
            return
        tried.add(key)
        shares = transport_shares(cost, demand, capacity, opened)
        if shares is None:
            return
        used = (opened & (shares.sum(axis=1) > 1e-12)) | forced  # sites serving nobody close
        value = float(fixed[used].sum()) + float((np.where(shares > 0, cost, 0.0) * shares).sum())
        if value < best_ub - 1e-9:
            best_ub, best_open, best_shares = value, used, shares

    try_open(cflp_greedy_open(cost, demand, capacity, fixed, forced))
    finite = np.where(np.isfinite(cost), cost, np.inf)
    u = finite.min(axis=0)
    best_lb, best_u = -math.inf, u.copy()
    step, stall, it = 2.0, 0, 0
    while it < max_iterations and time.perf_counter() - t0 < seconds and not stop():
        it += 1
        rc = cost - u[None, :]
        vx, x = site_values(rc, demand, capacity)
        v = fixed + vx
        val, y = cover(v, capacity, need, forced, banned)
        if y is None:
            break
        lb = float(u.sum()) + val
        if lb > best_lb + 1e-9 * max(1.0, abs(lb)):
            best_lb, best_u, stall = lb, u.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2.0, 0
        if it % 10 == 1 or stall == 0:
            try_open(y > 0.5)
        if best_ub - best_lb <= 1e-7 * max(1.0, abs(best_ub)) or step < 1e-4:
            break
        g = 1.0 - (y[:, None] * x).sum(axis=0)
        norm = float(g @ g)
        if norm <= 1e-12:
            break
        target = best_ub if math.isfinite(best_ub) else best_lb + 0.05 * abs(best_lb)
        u = u + step * (target - lb) / norm * g

    # fixing with the best multipliers
    fixed_open = forced.copy()
    fixed_closed = np.zeros(m, dtype=bool)
    excluded = math.inf
    if math.isfinite(best_ub) and math.isfinite(best_lb):
        vx, _x = site_values(cost - best_u[None, :], demand, capacity)
        v = fixed + vx
        base = float(best_u.sum())
        tol = 1e-9 * max(1.0, abs(best_ub))
        for i in range(m):
            if forced[i]:
                continue
            only = np.zeros(m, dtype=bool)
            only[i] = True
            lb_open = base + cover(v, capacity, need, forced | only, banned)[0]
            if lb_open > best_ub + tol:
                fixed_closed[i] = True
                excluded = min(excluded, lb_open)
                continue
            lb_closed = base + cover(v, capacity, need, forced, only)[0]
            if lb_closed > best_ub + tol:
                fixed_open[i] = True
                excluded = min(excluded, lb_closed)
    return LagrangeOutcome(
        lower=best_lb,
        upper=best_ub,
        open=best_open,
        shares=best_shares,
        fixed_open=fixed_open,
        fixed_closed=fixed_closed,
        excluded_bound=excluded,
        iterations=it,
    )


__all__ = ["LagrangeOutcome", "cover", "lagrangian_cflp", "site_values"]
