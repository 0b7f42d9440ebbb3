"""Splittable CFLP: the Lagrangian relaxation (dispatch/planning/cflp_lagrange.py) gives valid
bounds and fixings (checked against OR-Library cap41's published optimum and against brute
force over every set of open sites), the solver path that uses it proves the true optimum, and
``plan-sites --model cflp`` on the demo county respects the stated capacities."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dispatch.planning import location
from dispatch.planning.cflp_lagrange import cover, lagrangian_cflp
from dispatch.planning.cflp_start import transport_shares
from dispatch.planning.location import LocationOptions, LocationProblem, solve_cflp
from dispatch.planning.orlib import read_cap
from dispatch.planning.sites import CFLP_SLACK, SitesRequest, plan_sites
from dispatch.results import Status
from tests.test_cli import run_app

CAP41 = Path(__file__).resolve().parents[2] / "shared" / "bench" / "cflp" / "cap41.txt"
CAP41_OPT = 1040444.375  # OR-Library capopt (Beasley 1988)
CAP41_OPEN = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13}  # its optimal sites (0-based)


def _tiny(seed: int, m: int = 7, n: int = 25) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    fac, cus = rng.uniform(0, 100, (m, 2)), rng.uniform(0, 100, (n, 2))
    demand = rng.integers(1, 20, n).astype(float)
    cost = np.sqrt(((fac[:, None] - cus[None]) ** 2).sum(-1)) * demand[None, :]
    cap = np.round(rng.uniform(0.25, 0.5, m) * demand.sum())
    fixed = rng.uniform(300, 900, m)
    return cost, demand, cap, fixed


def _brute_force(cost, demand, cap, fixed) -> float:  # type: ignore[no-untyped-def]
    best = np.inf
    m = len(cap)
    for r in range(1, m + 1):
        for subset in itertools.combinations(range(m), r):
            opened = np.isin(np.arange(m), subset)
            if cap[opened].sum() < demand.sum():
                continue
            shares = transport_shares(cost, demand, cap, opened)
            if shares is not None:
                best = min(best, float(fixed[opened].sum() + (shares * cost).sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2])
def test_bound_and_fixing_are_valid_and_the_path_proves_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    cost, demand, cap, fixed = _tiny(seed)
    exact = _brute_force(cost, demand, cap, fixed)
    out = lagrangian_cflp(cost, demand, cap, fixed, np.zeros(len(cap), bool), seconds=10)
    assert out.lower <= exact + 1e-6 <= out.upper + 2e-6
    assert out.excluded_bound >= out.upper - 1e-6
    # the Lagrangian branch and bound alone closes the gap on the true optimum
    tree = lagrangian_cflp(
        cost, demand, cap, fixed, np.zeros(len(cap), bool), seconds=10, branch_seconds=20
    )
    assert tree.upper == pytest.approx(exact, rel=1e-7)
    assert tree.lower == pytest.approx(exact, rel=1e-6)
    # the large-model path (relaxation, fixing, SCIP on the free sites) on this small model
    monkeypatch.setattr(location, "CFLP_FULL_LINK_PAIRS", 0)
    res = solve_cflp(
        LocationProblem(cost, demand, capacity=cap, fixed_cost=fixed), LocationOptions(seconds=20)
    )
    assert res.info.status == Status.OPTIMAL and res.info.engine.startswith("lagrangian")
    assert res.info.objective == pytest.approx(exact, rel=1e-7)
    assert res.info.bound == pytest.approx(exact, rel=1e-6)
    flow = np.zeros_like(cost)
    for i, j, f in res.flows:
        flow[i, j] = f
    assert np.allclose(flow.sum(axis=0), 1.0, atol=1e-6)
    assert ((flow * demand[None, :]).sum(axis=1) <= cap + 1e-4).all()


def test_cover_is_exact_for_equal_capacities() -> None:
    v = np.array([5.0, -2.0, 1.0, 3.0, 0.5])
    cap = np.full(5, 10.0)
    none = np.zeros(5, dtype=bool)
    val, y = cover(v, cap, 25.0, none, none)  # the negative site, then the two cheapest
    assert val == pytest.approx(-2.0 + 0.5 + 1.0) and y is not None and y.sum() == 3
    forced = np.array([True, False, False, False, False])
    assert cover(v, cap, 25.0, forced, none)[0] == pytest.approx(5.0 - 2.0 + 0.5)
    assert cover(v, cap, 60.0, none, none) == (np.inf, None)  # not enough capacity at all


@pytest.mark.skipif(not CAP41.is_file(), reason="../shared/bench/cflp/cap41.txt is absent")
def test_cap41_bound_and_fixing_agree_with_the_published_optimum() -> None:
    inst = read_cap(CAP41)
    out = lagrangian_cflp(
        inst.cost, inst.demand, inst.capacity, inst.fixed_cost,
        np.zeros(len(inst.capacity), bool), seconds=20,
    )  # fmt: skip
    assert out.lower <= CAP41_OPT + 1e-6 <= out.upper + 1e-6
    assert (out.upper - out.lower) / CAP41_OPT < 0.01  # a strong bound: within 1 %
    # sites fixed by the relaxation agree with the optimal solution
    assert set(np.nonzero(out.fixed_open)[0]) <= CAP41_OPEN
    assert not set(np.nonzero(out.fixed_closed)[0]) & CAP41_OPEN
    assert out.fixed_open.sum() + out.fixed_closed.sum() >= 8


def test_plan_sites_cflp_on_the_demo(
    tmp_path: Path, demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    r = plan_sites(demo_scenario, demo_network, SitesRequest("cflp", seconds=20),
                   engine=demo_engine)  # fmt: skip
    assert r.status == Status.OPTIMAL
    assert r.solve.info.bound == pytest.approx(r.solve.info.objective, rel=1e-6)
    pop = np.array([d.population for d in r.demand], dtype=float)
    default = np.ceil(CFLP_SLACK * pop.sum() / r.k)
    caps = np.array([c.capacity if c.capacity is not None else default for c in r.candidates])
    existing = [i for i, c in enumerate(r.candidates) if c.existing]
    # the demo's stockpiles state their 库容: together they hold fewer people than live there,
    # so new sites are needed and chosen
    assert all(r.candidates[i].capacity for i in existing)
    assert caps[existing].sum() < pop.sum() and r.new_sites
    flow = np.zeros((len(r.candidates), len(r.demand)))
    for i, j, f in r.solve.flows:
        flow[i, j] = f
    served = flow.sum(axis=0)
    assert np.allclose(served[pop > 0], 1.0, atol=1e-6)  # everyone is served, split or not
    load = (flow * pop[None, :]).sum(axis=1)
    assert (load <= caps + 1e-3).all()  # within every capacity
    assert set(np.nonzero(load > 0)[0]) <= set(r.solve.chosen)
    assert caps[list(r.solve.chosen)].sum() >= pop.sum()
    # keeping an existing stockpile costs nothing: all stay, so everyone is nearer after
    assert set(existing) <= set(r.solve.chosen)
    assert r.after is not None and r.after.mean_minutes <= r.before.mean_minutes
    # the CLI writes the same answer
    out = tmp_path / "out"
    proc = run_app("plan-sites", "data/hejiang_demo.gpkg", "--model", "cflp", "--facilities",
                   "stockpiles", "--seconds", "20", "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    assert doc["status"] == "OPTIMAL" and doc["objective"] == pytest.approx(
        r.solve.info.objective, rel=1e-6
    )
    assert {c["id"] for c in doc["chosen"]} == {c.id for c in r.chosen}
