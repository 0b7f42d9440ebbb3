"""Large CFLP models start SCIP from a greedy opening and its cheapest transport: the result is
never worse than that start, and stays a valid splittable assignment within the capacities."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.planning.cflp_start import cflp_greedy_open, transport_shares
from dispatch.planning.location import (
    CFLP_FULL_LINK_PAIRS,
    LocationOptions,
    LocationProblem,
    solve_cflp,
)
from dispatch.results import Status


def _instance(m: int, n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Facilities and customers in a 1000 × 1000 square (the bench's capa-like generator)."""
    rng = np.random.default_rng(seed)
    fac, cus = rng.uniform(0, 1000, (m, 2)), rng.uniform(0, 1000, (n, 2))
    demand = rng.integers(5, 36, n).astype(float)
    dist = np.sqrt(((fac[:, None, :] - cus[None, :, :]) ** 2).sum(-1))
    cost = 0.1 * dist * demand[None, :]
    cap = np.round(rng.uniform(0.5, 1.5, m) * 4 * demand.sum() / m)
    fixed = rng.uniform(5000, 15000, m)
    return cost, demand, cap, fixed


def test_greedy_start_is_feasible_and_kept() -> None:
    cost, demand, cap, fixed = _instance(51, 1000, 3)
    assert cost.size > CFLP_FULL_LINK_PAIRS  # the large-model path
    opened = cflp_greedy_open(cost, demand, cap, fixed)
    assert cap[opened].sum() >= demand.sum() and opened.sum() < len(opened)
    shares = transport_shares(cost, demand, cap, opened)
    assert shares is not None
    assert np.allclose(shares.sum(axis=0), 1.0) and not shares[~opened].any()
    assert ((shares * demand[None, :]).sum(axis=1) <= cap + 1e-6).all()
    start = float(fixed[opened].sum() + (shares * cost).sum())
    r = solve_cflp(
        LocationProblem(cost, demand, capacity=cap, fixed_cost=fixed), LocationOptions(seconds=3)
    )
    assert r.info.status in (Status.OPTIMAL, Status.TIMEOUT)
    assert r.info.objective is not None and r.info.objective <= start + 1e-6 * start
    assert r.info.bound is not None and r.info.bound <= r.info.objective + 1e-6 * start
    # the reported objective is the solution's own cost, within the capacities
    flow = np.zeros_like(cost)
    for i, j, f in r.flows:
        flow[i, j] = f
    assert np.allclose(flow.sum(axis=0), 1.0, atol=1e-6)
    chosen = np.isin(np.arange(len(cap)), r.chosen)
    assert ((flow * demand[None, :]).sum(axis=1) <= cap + 1e-4).all() and not flow[~chosen].any()
    value = float(fixed[list(r.chosen)].sum() + (flow * cost).sum())
    assert value == pytest.approx(r.info.objective, rel=1e-6)


def test_forced_sites_open_first() -> None:
    cost, demand, cap, fixed = _instance(30, 200, 5)
    forced = np.zeros(30, dtype=bool)
    forced[[0, 7]] = True
    opened = cflp_greedy_open(cost, demand, cap, fixed, forced)
    assert opened[[0, 7]].all() and cap[opened].sum() >= demand.sum()
    # a point no site reaches is left out, not a reason to open everything
    cost[:, 0] = np.inf
    assert cflp_greedy_open(cost, demand, cap, fixed).sum() < 30
