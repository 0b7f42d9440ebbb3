"""Site planning (dispatch/planning/sites.py) and ``app.py plan-sites`` on the demo county:
the sites.json contract, before/after figures recomputed with an independent Dijkstra, the
models' own objectives never worse than the existing sites, and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dispatch.planning.coverage import bridge_closure, demand_sites
from dispatch.planning.sites import (
    PLANNED_MARK,
    SitesError,
    SitesRequest,
    candidate_sites,
    plan_sites,
    planned_entities,
)
from gis.model import Location
from tests.test_cli import assert_clean_error, run_app
from tests.test_coverage import oracle_seconds


def _plan(tmp: Path, *args: str) -> dict[str, Any]:
    out = tmp / "out"
    proc = run_app("plan-sites", "data/hejiang_demo.gpkg", *args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "sites.json").read_text(encoding="utf-8"))


def _check_contract(doc: dict[str, Any], scenario: Any, k: int) -> None:
    known = {s.id for s in scenario.stockpiles} | {f"seat:{t.code}" for t in scenario.townships}
    existing = {s.id for s in scenario.stockpiles}
    assert len(doc["chosen"]) == k
    ids = [c["id"] for c in doc["chosen"]]
    assert len(set(ids)) == k and set(ids) <= known
    for c in doc["chosen"]:
        assert set(c) >= {"id", "name", "lon", "lat", "existing"}
        assert c["existing"] is (c["id"] in existing)
        assert 105.0 < c["lon"] < 107.0 and 28.0 < c["lat"] < 29.5
    assert doc["status"] == "OPTIMAL"
    # an OPTIMAL status is only honest with a bound that meets the objective
    assert doc["bound"] == pytest.approx(doc["objective"], rel=1e-6)
    for side in ("before", "after"):
        s = doc[side]
        assert s["mean_minutes"] > 0 and s["max_minutes"] >= s["mean_minutes"]
        assert set(s["share_within"]) == {"15", "30", "60", "90", "240"}
        shares = [s["share_within"][t] for t in ("15", "30", "60", "90", "240")]
        assert shares == sorted(shares) and shares[0] > 0 and shares[-1] <= 1


def test_cli_pmedian_k5(tmp_path: Path, demo_scenario: Any) -> None:
    doc = _plan(tmp_path, "--model", "pmedian", "--facilities", "stockpiles", "--k", "5",
                "--seconds", "20")  # fmt: skip
    _check_contract(doc, demo_scenario, 5)
    assert doc["model"] == "pmedian" and doc["k"] == 5
    # the objective is population × minutes of the chosen sites: mean × population
    pop = sum(d.population for d in demand_sites(demo_scenario))
    assert doc["objective"] == pytest.approx(doc["after"]["mean_minutes"] * pop, rel=1e-3)


def test_cli_mclp_t30_k5(tmp_path: Path, demo_scenario: Any) -> None:
    doc = _plan(tmp_path, "--model", "mclp", "--facilities", "stockpiles", "--k", "5",
                "--minutes", "30", "--seconds", "20")  # fmt: skip
    _check_contract(doc, demo_scenario, 5)
    pop = sum(d.population for d in demand_sites(demo_scenario))
    # mclp's objective is the people within 30 min: the after share within 30 min
    assert doc["objective"] == pytest.approx(doc["after"]["share_within"]["30"] * pop, rel=1e-6)


def test_cli_keep_existing_keeps_every_site(tmp_path: Path, demo_scenario: Any) -> None:
    doc = _plan(tmp_path, "--model", "mclp", "--facilities", "stockpiles", "--k", "2",
                "--minutes", "15", "--keep-existing", "--seconds", "20")  # fmt: skip
    ids = {c["id"] for c in doc["chosen"]}
    assert {s.id for s in demo_scenario.stockpiles} <= ids
    assert sum(1 for c in doc["chosen"] if not c["existing"]) == 2
    assert doc["after"]["share_within"]["15"] >= doc["before"]["share_within"]["15"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--model", "kmeans"), "--model"),
        (("--model", "pmedian", "--k", "99"), "--k 99"),
        (("--model", "pmedian", "--k", "0"), "--k"),
        (("--model", "mclp", "--minutes", "0"), "--minutes"),
        (("--model", "pmedian", "--keep-existing", "--k", "30"), "new candidate"),
    ],
)
def test_cli_bad_input(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    out = tmp_path / "out"
    proc = run_app("plan-sites", "data/hejiang_demo.gpkg", *args, "--seconds", "5",
                   "--out", str(out))  # fmt: skip
    assert_clean_error(proc, needle)
    assert not out.exists()


def test_service_unreachable_demand_is_an_error(demo_scenario: Any, demo_network: Any,
                                                demo_engine: Any) -> None:  # fmt: skip
    # every demand point far from any road (in the sea off Hainan), no seats or hazards:
    # nothing reachable → SitesError before any solving, not a result
    far = tuple(replace(d, location=Location(110.0, 20.0)) for d in demo_scenario.demand_points[:5])
    scenario = replace(demo_scenario, demand_points=far, townships=(), hazards=())
    with pytest.raises(SitesError, match="reached"):
        plan_sites(scenario, demo_network, SitesRequest(), engine=demo_engine)
    with pytest.raises(SitesError, match="no candidate"):
        plan_sites(replace(scenario, stockpiles=(), candidate_sites=()), demo_network, SitesRequest(),
                   engine=demo_engine)  # fmt: skip


@pytest.fixture(scope="module")
def median10(demo_scenario: Any, demo_network: Any, demo_engine: Any) -> Any:
    # k = the number of existing stockpiles: the existing set is one of the choices
    return plan_sites(demo_scenario, demo_network, SitesRequest("pmedian", seconds=20),
                      engine=demo_engine)  # fmt: skip


def test_pmedian_never_worse_than_existing(median10: Any) -> None:
    assert median10.k == 10 and median10.status.value == "OPTIMAL"
    assert median10.after.mean_minutes <= median10.before.mean_minutes + 1e-9


def test_mclp_never_worse_than_existing(demo_scenario: Any, demo_network: Any,
                                        demo_engine: Any) -> None:  # fmt: skip
    r = plan_sites(demo_scenario, demo_network, SitesRequest("mclp", minutes=15, seconds=20),
                   engine=demo_engine)  # fmt: skip
    assert r.status.value == "OPTIMAL" and len(r.chosen) == 10
    assert r.after.share_within["15"] >= r.before.share_within["15"] - 1e-12
    assert r.after.share_within["15"] > r.before.share_within["15"]  # the demo can do better


def test_before_after_recomputed_independently(demo_scenario: Any, demo_network: Any,
                                               median10: Any) -> None:  # fmt: skip
    """Before/after from scipy Dijkstra on the raw road arrays, not through the engine."""
    sites = demand_sites(demo_scenario)
    lon = np.array([s.lon for s in sites])
    lat = np.array([s.lat for s in sites])
    pop = np.array([s.population for s in sites], dtype=float)
    cands = candidate_sites(demo_scenario, "stockpiles")
    assert [c.id for c in median10.candidates] == [c.id for c in cands]
    for summary, chosen in (
        (median10.before, [c for c in cands if c.existing]),
        (median10.after, list(median10.chosen)),
    ):
        secs = oracle_seconds(demo_network, lon, lat, np.array([c.lon for c in chosen]),
                              np.array([c.lat for c in chosen]))  # fmt: skip
        near = secs.min(axis=0) / 60.0
        assert np.isfinite(near).all()
        # the engine's times agree with the oracle's within 1.5 s a point (as in test_coverage)
        tol = 1.5 / 60.0
        assert summary.mean_minutes == pytest.approx((near * pop).sum() / pop.sum(), abs=tol)
        assert summary.max_minutes == pytest.approx(near.max(), abs=tol)
        for t in (15, 30, 60):
            low, high = (pop[near <= t + d].sum() / pop.sum() for d in (-tol, tol))
            assert low - 1e-9 <= summary.share_within[str(t)] <= high + 1e-9
    # a few points one by one: the nearest chosen site's time in the result's own matrix
    idx = [c.id for c in cands]
    rows = [idx.index(c.id) for c in median10.chosen]
    for j in (0, 50, len(sites) - 1):
        secs = oracle_seconds(demo_network, lon[[j]], lat[[j]],
                              np.array([c.lon for c in median10.chosen]),
                              np.array([c.lat for c in median10.chosen]))  # fmt: skip
        assert median10.minutes[rows, j].min() == pytest.approx(secs.min() / 60.0, abs=1.5 / 60)


def test_closures_of_the_workspace_are_used(demo_scenario: Any, demo_network: Any,
                                            demo_engine: Any, median10: Any) -> None:  # fmt: skip
    # the Yangtze bridge closed in the workspace: pairs across the river are cut or slower,
    # none faster (beyond the engine's 1 s rounding)
    closed = replace(demo_scenario, closures=(bridge_closure(demo_network, "合江长江大桥"),))
    r = plan_sites(closed, demo_network, SitesRequest("pmedian", seconds=20), engine=demo_engine)
    a, b = median10.minutes, r.minutes
    both = np.isfinite(a) & np.isfinite(b)
    assert (b[both] >= a[both] - 1.5 / 60).all()
    assert (np.isfinite(a) & ~np.isfinite(b)).sum() > 100
    for t in ("15", "30", "60"):
        assert r.before.share_within[t] <= median10.before.share_within[t] + 1e-9


def test_planned_entities(demo_scenario: Any, demo_network: Any, demo_engine: Any) -> None:
    r = plan_sites(demo_scenario, demo_network,
                   SitesRequest("pmedian", facilities="shelters", k=2, keep_existing=True),
                   engine=demo_engine)  # fmt: skip
    assert len(r.new_sites) == 2 and {s.id for s in demo_scenario.shelters} <= {
        c.id for c in r.chosen
    }
    made = planned_entities(r, demo_scenario, ["SH-9001", "SH-9002"])
    assert [type(e).__name__ for e in made] == ["Shelter", "Shelter"]
    assert all(e.name.endswith(PLANNED_MARK) for e in made)
    # a candidate site brings its stated capacity, a township seat none
    assert [e.capacity for e in made] == [
        int(c.capacity or 0) if c.source == "candidate_sites" else 0 for c in r.new_sites
    ]
    assert [(e.location.lon, e.location.lat) for e in made] == [(c.lon, c.lat) for c in r.new_sites]
    demo_scenario.upsert(made[0]).upsert(made[1])  # valid entities with fresh ids
    with pytest.raises(SitesError, match="ids"):
        planned_entities(r, demo_scenario, ["SH-9001"])
