"""Facility location models (dispatch.planning.location): every model against brute-force
enumeration on small seeded instances, OR-Library p-median/CFLP instances against their proven
optima (bks.csv), and bad input turned into a sentence instead of an exception."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest

from dispatch.planning.location import (
    LocationOptions,
    LocationProblem,
    solve_backup,
    solve_cflp,
    solve_close_weakest,
    solve_keep_existing,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
    solve_robust,
)
from dispatch.planning.orlib import read_cap, read_pmedian
from dispatch.planning.pmedian import solve_pmedian_matrix
from dispatch.results import Status

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
needs_shared = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench is absent")
OPT = LocationOptions(seconds=20)


def bks(instance: str) -> float:
    with open(BENCH / "bks.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == instance:
                return float(row["best_known"])
    raise KeyError(instance)


def instance(seed: int, m: int = 9, n: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Travel minutes between random points (Manhattan-ish, integers) and populations."""
    rng = np.random.default_rng(seed)
    cand = rng.uniform(0, 60, (m, 2))
    pts = rng.uniform(0, 60, (n, 2))
    cost = np.abs(cand[:, None, :] - pts[None, :, :]).sum(axis=2).round()
    return cost, rng.integers(50, 2000, n).astype(float)


def median_value(cost: np.ndarray, w: np.ndarray, sites) -> float:
    return float((cost[list(sites)].min(axis=0) * w).sum())


def covered(cost: np.ndarray, sites, t: float) -> np.ndarray:
    return (cost[list(sites)] <= t).sum(axis=0)


# ------------------------------------------------------------------------------------------
# brute force
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pmedian_matches_enumeration(seed: int) -> None:
    cost, w = instance(seed)
    res = solve_pmedian(LocationProblem(cost, w, k=3), OPT)
    best = min(median_value(cost, w, s) for s in itertools.combinations(range(9), 3))
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == pytest.approx(best)
    assert median_value(cost, w, res.chosen) == pytest.approx(best)
    assert res.info.bound == pytest.approx(best)
    # each point is assigned to its nearest chosen site
    for j, i in enumerate(res.assignment):
        assert cost[i, j] == cost[list(res.chosen), j].min()


def test_keep_existing_and_close_weakest_match_enumeration() -> None:
    cost, w = instance(4)
    existing = np.zeros(9, dtype=bool)
    existing[[0, 5]] = True
    res = solve_keep_existing(LocationProblem(cost, w, k=2, existing=existing), OPT)
    best = min(
        median_value(cost, w, (0, 5, *s)) for s in itertools.combinations([1, 2, 3, 4, 6, 7, 8], 2)
    )
    assert res.info.status == Status.OPTIMAL
    assert {0, 5} <= set(res.chosen) and len(res.chosen) == 4
    assert res.info.objective == pytest.approx(best)

    existing = np.array([1, 1, 1, 0, 1, 1, 0, 0, 1], dtype=bool)
    res = solve_close_weakest(LocationProblem(cost, w, k=2, existing=existing), OPT)
    have = list(np.nonzero(existing)[0])
    best = min(median_value(cost, w, s) for s in itertools.combinations(have, len(have) - 2))
    assert res.info.status == Status.OPTIMAL
    assert set(res.chosen) <= set(have) and len(res.chosen) == len(have) - 2
    assert res.info.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", [5, 6])
def test_mclp_matches_enumeration(seed: int) -> None:
    cost, w = instance(seed)
    res = solve_mclp(LocationProblem(cost, w, k=2, threshold=25), OPT)
    best = max(
        float(w[covered(cost, s, 25) > 0].sum()) for s in itertools.combinations(range(9), 2)
    )
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == pytest.approx(best)
    assert float(w[covered(cost, res.chosen, 25) > 0].sum()) == pytest.approx(best)


def test_lscp_names_the_uncoverable_point_and_matches_enumeration() -> None:
    cost, w = instance(7)
    cost[:, 4] = 99.0  # point 5 (村五) is beyond the threshold from every candidate
    names = tuple(f"村{c}" for c in "一二三四五六七八九十") + ("甲", "乙", "丙", "丁")
    res = solve_lscp(LocationProblem(cost, w, threshold=30, demand_names=names), OPT)
    ok = [j for j in range(14) if j != 4]
    best = next(
        r
        for r in range(1, 10)
        if any((covered(cost, s, 30)[ok] > 0).all() for s in itertools.combinations(range(9), r))
    )
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == best == len(res.chosen)
    assert res.uncovered == (4,)
    assert any("村五" in p for p in res.problems)


def test_backup_matches_lexicographic_enumeration() -> None:
    cost, w = instance(8)
    res = solve_backup(LocationProblem(cost, w, k=3, threshold=30), OPT)

    def key(s):
        c = covered(cost, s, 30)
        return float(w[c > 0].sum()), float(w[c >= 2].sum())

    best = max(key(s) for s in itertools.combinations(range(9), 3))
    assert res.info.status == Status.OPTIMAL
    assert key(res.chosen) == pytest.approx(best)
    assert res.info.objective == pytest.approx(best[1])


def test_robust_matches_enumeration() -> None:
    cost, w = instance(9)
    rng = np.random.default_rng(9)
    scenarios = []
    for _ in range(3):
        sc = cost.copy()
        cut = rng.choice(9, 3, replace=False)  # a closure makes three sites much slower
        sc[cut] *= 3
        scenarios.append(sc)
    res = solve_robust(LocationProblem(cost, w, k=2, scenarios=tuple(scenarios)), OPT)

    def worst(s):
        return max(median_value(m, w, s) for m in [cost, *scenarios])

    best = min(worst(s) for s in itertools.combinations(range(9), 2))
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == pytest.approx(best)
    assert worst(res.chosen) == pytest.approx(best)


def test_cflp_matches_enumeration_with_lp_per_subset() -> None:
    from scipy.optimize import linprog

    rng = np.random.default_rng(10)
    m, n = 5, 8
    demand = rng.integers(10, 40, n).astype(float)
    unit = rng.uniform(1, 10, (m, n)).round(1)
    cost = unit * demand  # cost of serving all of j's demand from i
    cap = np.array([60, 80, 70, 90, 50.0])
    fixed = np.array([300, 250, 400, 200, 350.0])

    def value(sites):
        sites = list(sites)
        if cap[sites].sum() < demand.sum():
            return np.inf
        k = len(sites)
        c = cost[sites].ravel()
        a_eq = np.zeros((n, k * n))
        a_ub = np.zeros((k, k * n))
        for t in range(k):
            for j in range(n):
                a_eq[j, t * n + j] = 1
                a_ub[t, t * n + j] = demand[j]
        r = linprog(c, A_ub=a_ub, b_ub=cap[sites], A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1))
        return r.fun + fixed[sites].sum()

    best = min(value(s) for r in range(1, m + 1) for s in itertools.combinations(range(m), r))
    res = solve_cflp(LocationProblem(cost, demand, capacity=cap, fixed_cost=fixed), OPT)
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == pytest.approx(best, rel=1e-6)
    shipped = np.zeros(m)
    for i, j, f in res.flows:
        shipped[i] += f * demand[j]
    assert (shipped <= cap + 1e-6).all()


# ------------------------------------------------------------------------------------------
# bad input: a sentence, never an exception
# ------------------------------------------------------------------------------------------


def test_bad_input_gives_clear_messages() -> None:
    cost, w = instance(11)
    cases = [
        (solve_pmedian, LocationProblem(cost, w, k=10), "大于可选候选点数"),
        (solve_pmedian, LocationProblem(np.zeros((0, 5)), None, k=1), "没有候选点"),
        (
            solve_pmedian,
            LocationProblem(np.full((3, 4), np.inf), None, k=1),
            "无法从任何候选点到达",
        ),
        (solve_mclp, LocationProblem(cost, w, k=2, threshold=0), "阈值必须是正数"),
        (solve_lscp, LocationProblem(cost, w, threshold=-5), "阈值必须是正数"),
        (solve_backup, LocationProblem(cost, w, k=2, threshold=None), "阈值必须是正数"),
        (
            solve_cflp,
            LocationProblem(cost, w, capacity=np.ones(9), fixed_cost=np.ones(9)),
            "小于总需求",
        ),
        (solve_keep_existing, LocationProblem(cost, w, k=1), "没有现有设施"),
        (solve_close_weakest, LocationProblem(cost, w, k=1), "没有现有设施"),
        (solve_pmedian, LocationProblem(cost, w[:3], k=1), "人口/权重"),
        (solve_robust, LocationProblem(cost, w, k=2, scenarios=(cost[:2],)), "情景 1"),
    ]
    for solve, problem, text in cases:
        res = solve(problem, OPT)
        assert res.info.status == Status.INFEASIBLE
        assert any(text in p for p in res.problems), (solve.__name__, res.problems)


def test_partly_unreachable_demand_is_named_not_counted() -> None:
    cost, w = instance(12)
    cost[:, 3] = np.inf
    res = solve_pmedian(LocationProblem(cost, w, k=2, demand_names=tuple("ABCDEFGHIJKLMN")), OPT)
    assert res.info.status == Status.OPTIMAL
    assert 3 in res.uncovered and res.assignment[3] == -1
    assert any("D" in p and "无法" in p for p in res.problems)
    keep = [j for j in range(14) if j != 3]
    best = min(median_value(cost[:, keep], w[keep], s) for s in itertools.combinations(range(9), 2))
    assert res.info.objective == pytest.approx(best)


# ------------------------------------------------------------------------------------------
# OR-Library instances (proven optima in ../shared/bench/bks.csv)
# ------------------------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_pmed_reaches_proven_optimum(name: str) -> None:
    inst = read_pmedian(BENCH / "pmedian" / f"{name}.txt")
    out = solve_pmedian_matrix(inst.distance, inst.p, seconds=30)
    assert out.proven and out.objective == bks(name) and out.bound == bks(name)
    assert len(out.open) == inst.p
    assert inst.distance[list(out.open)].min(axis=0).sum() == bks(name)


@needs_shared
@pytest.mark.parametrize("name", ["cap41", "cap71"])
def test_cflp_reaches_proven_optimum(name: str) -> None:
    inst = read_cap(BENCH / "cflp" / f"{name}.txt")
    res = solve_cflp(
        LocationProblem(inst.cost, inst.demand, capacity=inst.capacity, fixed_cost=inst.fixed_cost),
        LocationOptions(seconds=60),
    )
    assert res.info.status == Status.OPTIMAL
    assert res.info.objective == pytest.approx(bks(name), abs=0.01)


@needs_shared
def test_time_limit_gives_honest_timeout_with_a_valid_bound() -> None:
    inst = read_pmedian(BENCH / "pmedian" / "pmed2.txt")
    out = solve_pmedian_matrix(inst.distance, inst.p, seconds=1e-4)
    assert not out.proven and out.stopped == "timeout"
    assert out.bound <= bks("pmed2") <= out.objective
    res = solve_pmedian(
        LocationProblem(inst.distance.astype(float), k=inst.p), LocationOptions(seconds=1e-4)
    )
    assert res.info.status == Status.TIMEOUT
    assert res.info.bound is not None and res.info.bound <= bks("pmed2") <= res.info.objective


def test_stop_cancels_with_best_so_far() -> None:
    cost, w = instance(13, m=30, n=60)
    res = solve_pmedian(LocationProblem(cost, w, k=4), OPT, stop=lambda: True)
    assert res.info.status == Status.CANCELLED
    assert len(res.chosen) == 4
    assert res.info.objective == pytest.approx(median_value(cost, w, res.chosen))
    assert res.info.bound is not None and res.info.bound < res.info.objective


def test_summarize_before_after() -> None:
    cost = np.array([[10.0, 40.0, np.inf], [50.0, 20.0, np.inf]])
    w = np.array([100.0, 300.0, 600.0])
    from dispatch.planning.location import summarize

    before = summarize(LocationProblem(cost, w), [0], thresholds=(15, 45))
    after = summarize(LocationProblem(cost, w), [0, 1], thresholds=(15, 45))
    assert before["mean_minutes"] == pytest.approx((100 * 10 + 300 * 40) / 400)
    assert after["mean_minutes"] == pytest.approx((100 * 10 + 300 * 20) / 400)
    assert before["max_minutes"] == 40 and after["max_minutes"] == 20
    assert before["share_within"] == {"15": 0.1, "45": 0.4}
    assert after["share_within"] == {"15": 0.1, "45": 0.4}
    assert after["unreachable_population"] == 600
