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
:func:`_branch` then searches the sites still free depth first (each node a short subgradient
run warm-started from its parent's multipliers, node fixing, branching on an open free site);
:func:`dispatch.planning.location.solve_cflp` hands SCIP what is left if time runs out.

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


class _Dual:
    """The relaxation of one CFLP: subgradient runs under fixings, the best feasible solution,
    bound tests for fixing (shared by the root and the branch-and-bound nodes)."""

    def __init__(self, cost, demand, capacity, fixed, forced, stop) -> None:  # type: ignore[no-untyped-def]
        self.cost = cost
        self.demand = np.asarray(demand, dtype=float)
        self.capacity = np.asarray(capacity, dtype=float)
        self.fixed = np.asarray(fixed, dtype=float)
        self.forced = np.asarray(forced, dtype=bool)
        self.need = float(self.demand.sum())
        self.stop = stop
        self.ub, self.open, self.shares = math.inf, None, None
        self.tried: set[bytes] = set()
        self.iterations = 0

    def try_open(self, opened: np.ndarray) -> None:
        opened = opened | self.forced
        if float(self.capacity[opened].sum()) < self.need - 1e-9:
            return
        key = np.packbits(opened).tobytes()
        if key in self.tried:
            return
        self.tried.add(key)
        shares = transport_shares(self.cost, self.demand, self.capacity, opened)
        if shares is None:
            return
        used = (opened & (shares.sum(axis=1) > 1e-12)) | self.forced  # idle sites close
        value = float(self.fixed[used].sum()) + float(
            (np.where(shares > 0, self.cost, 0.0) * shares).sum()
        )
        if value < self.ub - 1e-9:
            self.ub, self.open, self.shares = value, used, shares

    def values(self, u: np.ndarray) -> np.ndarray:
        return self.fixed + site_values(self.cost - u[None, :], self.demand, self.capacity)[0]

    def run(
        self, u: np.ndarray, forced: np.ndarray, banned: np.ndarray, step: float,
        max_it: int, deadline: float, patience: int = 20, eager: bool = True,
    ) -> tuple[float, np.ndarray, np.ndarray | None]:  # fmt: skip
        """Subgradient steps from ``u``: (best bound, its multipliers, its site choice). The
        relaxed site choices are tried as solutions every 10 steps, and (``eager``) at every
        improvement of the bound; a node of the tree tries fewer (each try is an LP)."""
        best_lb, best_u, best_y = -math.inf, u.copy(), None
        stall = 0
        for it in range(max_it):
            if time.perf_counter() > deadline or self.stop():
                break
            self.iterations += 1
            vx, x = site_values(self.cost - u[None, :], self.demand, self.capacity)
            val, y = cover(self.fixed + vx, self.capacity, self.need, forced, banned)
            if y is None:
                return math.inf, u, None  # no capacity enough under these fixings
            lb = float(u.sum()) + val
            if lb > best_lb + 1e-9 * max(1.0, abs(lb)):
                best_lb, best_u, best_y, stall = lb, u.copy(), y, 0
            else:
                stall += 1
                if stall >= patience:
                    step, stall = step / 2.0, 0
            if it % 10 == 1 or (eager and stall == 0):
                self.try_open(y > 0.5)
            if self.ub - best_lb <= 1e-7 * max(1.0, abs(self.ub)) or step < 1e-4:
                break
            g = 1.0 - (y[:, None] * x).sum(axis=0)
            norm = float(g @ g)
            if norm <= 1e-12:
                break
            target = self.ub if math.isfinite(self.ub) else best_lb + 0.05 * abs(best_lb)
            u = u + step * (target - lb) / norm * g
        return best_lb, best_u, best_y

    def fix(
        self, u: np.ndarray, forced: np.ndarray, banned: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Sites that must be open / closed in every solution cheaper than the best known,
        under the fixings given, and the least bound of what that cuts off."""
        v = self.values(u)
        base = float(u.sum())
        tol = 1e-9 * max(1.0, abs(self.ub))
        f_open, f_closed, excluded = forced.copy(), banned.copy(), math.inf
        one = np.zeros(len(v), dtype=bool)
        for i in np.nonzero(~forced & ~banned)[0]:
            one[:] = False
            one[i] = True
            lb_open = base + cover(v, self.capacity, self.need, forced | one, banned)[0]
            if lb_open > self.ub + tol:
                f_closed[i] = True
                excluded = min(excluded, lb_open)
                continue
            lb_closed = base + cover(v, self.capacity, self.need, forced, banned | one)[0]
            if lb_closed > self.ub + tol:
                f_open[i] = True
                excluded = min(excluded, lb_closed)
        return f_open, f_closed, excluded


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
    branch_seconds: float = 0.0,
) -> LagrangeOutcome:
    """Subgradient optimisation of the Lagrangian dual, feasible solutions, and site fixing;
    then, for up to ``branch_seconds``, a depth-first branch and bound over the sites still
    free (each node: a short subgradient run from its parent's multipliers, node fixing,
    branching on an open free site). When the tree is exhausted ``lower`` = ``upper``.

    ``cost[i, j]``: serving all of point ``j`` from site ``i`` (``inf`` = impossible; every
    point must be reachable from some site). ``forced``: sites that must stay open."""
    t0 = time.perf_counter()
    m = cost.shape[0]
    dual = _Dual(cost, demand, capacity, fixed, forced, stop)
    dual.try_open(cflp_greedy_open(cost, demand, capacity, fixed, forced))
    u0 = np.where(np.isfinite(cost), cost, np.inf).min(axis=0)
    none = np.zeros(m, dtype=bool)
    lower, u, _y = dual.run(u0, dual.forced, none, 2.0, max_iterations, t0 + seconds)
    fixed_open, fixed_closed, excluded = dual.forced.copy(), none.copy(), math.inf
    if math.isfinite(dual.ub) and math.isfinite(lower) and max_iterations > 0:
        fixed_open, fixed_closed, excluded = dual.fix(u, dual.forced, none)
        if branch_seconds > 0 and dual.ub - lower > 1e-7 * max(1.0, abs(dual.ub)):
            lower = max(lower, _branch(dual, u, fixed_open, fixed_closed, lower,
                                       time.perf_counter() + branch_seconds))  # fmt: skip
    return LagrangeOutcome(
        lower=min(lower, dual.ub),
        upper=dual.ub,
        open=dual.open,
        shares=dual.shares,
        fixed_open=fixed_open,
        fixed_closed=fixed_closed,
        excluded_bound=excluded,
        iterations=dual.iterations,
    )


def _branch(
    dual: _Dual, u: np.ndarray, forced: np.ndarray, banned: np.ndarray, root: float,
    deadline: float,
) -> float:  # fmt: skip
    """Depth-first Lagrangian branch and bound; returns a bound valid for the whole problem
    (the least bound of the nodes left when time runs out; the best cost when none is)."""
    stack = [(forced, banned, u, root)]
    tol = lambda: 1e-7 * max(1.0, abs(dual.ub))  # noqa: E731
    while stack:
        if time.perf_counter() > deadline or dual.stop():
            return min(nd[3] for nd in stack)
        f, b, u_p, lb_p = stack.pop()
        if lb_p >= dual.ub - tol():
            continue
        raw, u_n, y = dual.run(u_p, f, b, 0.5, 60, deadline, patience=8, eager=False)
        if raw == math.inf:
            continue  # not enough capacity under these fixings: nothing to find here
        if y is None:
            stack.append((f, b, u_p, lb_p))  # not evaluated (time is up or stopped)
            continue
        lb = max(raw, lb_p)
        if lb >= dual.ub - tol():
            continue
        f, b, _ex = dual.fix(u_n, f, b)
        free = ~f & ~b
        if not free.any():
            # every site decided: the transport LP is this node's exact value
            dual.try_open(f)
            continue
        v = dual.values(u_n)
        cand = np.nonzero(free & (y > 0.5))[0]
        if len(cand) == 0:
            cand = np.nonzero(free)[0]
        i = int(cand[np.argmin(np.abs(v[cand]))])
        one = np.zeros_like(f)
        one[i] = True
        stack.append((f, b | one, u_n, lb))  # closed: explored second
        stack.append((f | one, b, u_n, lb))  # open: explored first
    return dual.ub


__all__ = ["LagrangeOutcome", "cover", "lagrangian_cflp", "site_values"]
