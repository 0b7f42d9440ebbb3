"""Planner-marked candidate sites (candidate_sites layer) and stated capacities (库容) in site
planning and stock planning, on the demo county: which candidates a facility set gets, that the
chosen new site is the best of them by an independent evaluation, that CFLP keeps every stated
capacity and says so when the capacities cannot hold the demand, that plan-stock stays within a
stated stockpile capacity and names a stockpile already over it, and that a workspace written
before these fields existed still opens."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dispatch.planning.sites import (
    SitesRequest,
    candidate_sites,
    m3_per_person,
    plan_sites,
    planned_entities,
)
from dispatch.planning.stock import StockRequest, plan_stock
from dispatch.planning.stock_cli import stock_json
from dispatch.results import Status
from gis.model import CandidateSite
from gis.workspace import read_workspace, write_workspace


def _sites(scenario: Any) -> tuple[CandidateSite, ...]:
    """Three candidate sites near three demand points with people (one per kind)."""
    pts = sorted(scenario.demand_points, key=lambda d: -d.population)
    return (
        CandidateSite("CS-1", "候选库址", "储备库", pts[0].location, 0, 200.0),
        CandidateSite("CS-2", "候选避难点", "shelter", pts[1].location, 1500),
        CandidateSite("CS-3", "候选（不限）", "any", pts[2].location, 0, 50.0),
    )


def test_candidates_follow_the_kind(demo_scenario: Any) -> None:
    sc = replace(demo_scenario, candidate_sites=_sites(demo_scenario))
    for facilities, expected in (
        ("stockpiles", ["CS-1", "CS-3"]),
        ("shelters", ["CS-2", "CS-3"]),
        ("teams", ["CS-3"]),
    ):
        cands = candidate_sites(sc, facilities)
        marked = [c for c in cands if c.source == "candidate_sites"]
        assert [c.id for c in marked] == expected
        assert not any(c.existing for c in marked)
        n_existing = len(getattr(sc, facilities))
        assert len(cands) == n_existing + len(expected) + len(sc.townships)
    shelter_site = next(c for c in candidate_sites(sc, "shelters") if c.id == "CS-2")
    assert shelter_site.capacity == 1500 and shelter_site.fixed_cost_wan is None


def test_keep_existing_picks_the_best_marked_site(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    # no township seats: the only new candidates are the two marked sites that fit stockpiles
    sc = replace(demo_scenario, candidate_sites=_sites(demo_scenario), townships=())
    r = plan_sites(
        sc,
        demo_network,
        SitesRequest("pmedian", k=1, keep_existing=True, seconds=20),
        engine=demo_engine,
    )
    assert r.status is Status.OPTIMAL
    assert [c.id for c in r.new_sites] in (["CS-1"], ["CS-3"])
    # each alternative evaluated on its own over the result's matrix: the chosen one is best
    ids = [c.id for c in r.candidates]
    existing = [i for i, c in enumerate(r.candidates) if c.existing]
    pop = np.array([d.population for d in r.demand], dtype=float)

    def mean_with(site: str) -> float:
        near = r.minutes[[*existing, ids.index(site)]].min(axis=0)
        ok = np.isfinite(near)
        return float((near[ok] * pop[ok]).sum() / pop[ok].sum())

    best = min(("CS-1", "CS-3"), key=mean_with)
    assert r.new_sites[0].id == best
    assert r.after.mean_minutes == pytest.approx(mean_with(best), abs=0.01)
    assert r.after.mean_minutes < r.before.mean_minutes
    # applied: a stockpile at the marked site's place
    made = planned_entities(r, sc, ["SP-9001"])
    assert made[0].location == next(c.location for c in sc.candidate_sites if c.id == best)


def test_cflp_keeps_stated_capacities(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    # 80 villages at a tenth of their people (the shelters' stated capacities can hold them),
    # no seats: candidates are the 33 shelters and the two marked sites that fit shelters
    pts = tuple(replace(d, population=d.population // 10) for d in demo_scenario.demand_points)
    sc = replace(
        demo_scenario,
        candidate_sites=_sites(demo_scenario),
        demand_points=pts[:80],
        townships=(),
        hazards=(),
    )
    r = plan_sites(
        sc, demo_network, SitesRequest("cflp", facilities="shelters", k=4, seconds=20),
        engine=demo_engine,
    )  # fmt: skip
    assert r.status is Status.OPTIMAL
    assert any("按图层所填" in n for n in r.notes)
    caps = {c.id: c.capacity for c in r.candidates}
    assert caps["CS-2"] == 1500 and caps["CS-3"] is None  # CS-3 states no capacity
    assert all(caps[s.id] == s.capacity for s in sc.shelters if s.capacity > 0)
    pop = np.array([d.population for d in r.demand], dtype=float)
    load: dict[int, float] = {}
    for i, j, share in r.solve.flows:
        load[i] = load.get(i, 0.0) + share * pop[j]
    assert sum(load.values()) == pytest.approx(pop.sum(), rel=1e-6)  # everyone served
    full = 0
    for i, used in load.items():
        assert i in r.solve.chosen
        cap = r.candidates[i].capacity
        if cap is not None:
            assert used <= cap + 1e-6 * cap
            full += used >= cap - 1e-6 * cap
    assert full > 0  # the stated capacities bind: without them the nearest sites take all
    # capacities far below the demand: a clear message, no exception
    tiny = replace(
        sc,
        demand_points=demo_scenario.demand_points,
        candidate_sites=tuple(replace(c, capacity=1) for c in sc.candidate_sites),
    )
    r = plan_sites(
        tiny, demo_network, SitesRequest("cflp", facilities="shelters", k=2, seconds=5),
        engine=demo_engine,
    )  # fmt: skip
    assert r.status is Status.INFEASIBLE and r.after is None
    assert any("总容量" in p for p in r.solve.problems)
    assert any("少于总人口" in n for n in r.notes)


def test_stockpile_capacity_converts_by_the_templates(demo_scenario: Any) -> None:
    per = m3_per_person(demo_scenario)
    assert per is not None and 0 < per < 1  # m³ of stock per affected person
    # the demo's own 库容 convert too
    for c in candidate_sites(demo_scenario, "stockpiles"):
        sp = next((s for s in demo_scenario.stockpiles if s.id == c.id), None)
        if sp is not None:
            assert sp.capacity_m3 and c.capacity == math.floor(sp.capacity_m3 / per)
    sp = demo_scenario.stockpiles[0]
    rest = tuple(replace(s, capacity_m3=None) for s in demo_scenario.stockpiles[1:])
    sc = replace(
        demo_scenario, stockpiles=(replace(sp, capacity_m3=100.0), *rest), candidate_sites=()
    )
    cand = next(c for c in candidate_sites(sc, "stockpiles") if c.id == sp.id)
    assert cand.capacity == pytest.approx(int(100.0 / per), abs=1)
    assert all(c.capacity is None for c in candidate_sites(sc, "stockpiles") if c.id != sp.id)


def test_plan_stock_within_a_stated_capacity(demo_scenario: Any, demo_network: Any) -> None:
    # from a county whose stockpiles state no 库容 (the demo states them all)
    demo_scenario = replace(
        demo_scenario,
        stockpiles=tuple(replace(s, capacity_m3=None) for s in demo_scenario.stockpiles),
    )
    base = plan_stock(demo_scenario, demo_network, StockRequest(seconds=10))
    mats = {m.code: m for m in base.materials}

    def volume(plan: Any, sid: str) -> float:
        return sum(
            q * mats[c].unit_volume_m3 for (s, c), q in plan.result.recommended.items() if s == sid
        )

    busiest = max(base.problem.stockpiles, key=lambda sid: volume(base, sid))
    unbounded = volume(base, busiest)
    assert unbounded > 1
    sp = next(s for s in demo_scenario.stockpiles if s.id == busiest)
    held = sp.stock_volume_m3(mats)
    cap = round(min(unbounded, held) / 2, 3)  # below both: the stock already held is too much
    sc = replace(
        demo_scenario,
        stockpiles=tuple(
            replace(s, capacity_m3=cap) if s.id == busiest else s for s in demo_scenario.stockpiles
        ),
    )
    p = plan_stock(sc, demo_network, StockRequest(seconds=10))
    k = p.problem.stockpiles.index(busiest)
    assert p.problem.capacity_m3[k] == cap and p.problem.capacity_source[k] == "stated"
    assert volume(p, busiest) <= cap + 1e-6
    assert p.problem.over_capacity == ((busiest, pytest.approx(held, abs=1e-3), cap),)
    doc = stock_json(p)
    row = next(s for s in doc["stockpiles"] if s["id"] == busiest)
    assert row["capacity_source"] == "stated" and row["capacity_m3"] == cap
    assert doc["over_capacity"][0]["id"] == busiest
    assert any("超出库容" in t for t in doc["problems"])
    assert any("未填库容" in n for n in doc["notes"])  # the others were estimated, and said


def test_old_workspace_without_the_new_fields_opens(
    demo_workspace_path: Path, tmp_path: Path
) -> None:
    ws = read_workspace(demo_workspace_path)
    sc = replace(
        ws.scenario,
        candidate_sites=_sites(ws.scenario),
        stockpiles=(replace(ws.scenario.stockpiles[0], capacity_m3=300.0),
                    *ws.scenario.stockpiles[1:]),
    )  # fmt: skip
    path = tmp_path / "ws.gpkg"
    write_workspace(path, sc)
    assert read_workspace(path).scenario == sc
    # as written by an older ReliefDesk: no candidate_sites layer, no capacity_m3 column
    with sqlite3.connect(path) as con:
        con.execute("ALTER TABLE stockpiles DROP COLUMN capacity_m3")
        con.execute('DROP TABLE "candidate_sites"')
        for meta in ("gpkg_geometry_columns", "gpkg_contents"):
            con.execute(f"DELETE FROM {meta} WHERE table_name = 'candidate_sites'")
    old = read_workspace(path).scenario
    assert old.candidate_sites == ()
    assert all(s.capacity_m3 is None for s in old.stockpiles)
    assert old.demand_points == sc.demand_points


def test_candidate_sites_and_capacity_import_from_a_ledger(
    demo_workspace_path: Path, tmp_path: Path
) -> None:
    from gis.imports import ImportRequest, run_import

    ws = tmp_path / "ws.gpkg"
    ws.write_bytes(demo_workspace_path.read_bytes())
    f = tmp_path / "候选站点.csv"
    f.write_text(
        "名称,可建为,可容纳人数,建设费用(万元),备注,经度,纬度\n"
        '白鹿小学操场,避难场所,"1,200",80,学校,105.95,28.75\n'
        "望龙仓库,储备库,,300.5,闲置粮库,106.05,28.72\n",
        encoding="utf-8",
    )
    result = run_import(ImportRequest(workspace=ws, file=f, kind="candidate_sites"))
    assert result.committed and len(result.added) == 2
    before = read_workspace(demo_workspace_path).scenario.candidate_sites
    got = read_workspace(ws).scenario.candidate_sites
    assert got[: len(before)] == before  # the demo's own candidate sites are kept
    got = got[len(before) :]
    assert [(c.name, c.kind.value, c.capacity, c.fixed_cost, c.note) for c in got] == [
        ("白鹿小学操场", "shelter", 1200, 80.0, "学校"),
        ("望龙仓库", "stockpile", 0, 300.5, "闲置粮库"),
    ]
    # stockpile 库容 from a ledger, updating the existing stockpiles by name
    sp = read_workspace(ws).scenario.stockpiles[:2]
    g = tmp_path / "库容.csv"
    g.write_text(
        "名称,级别,库容(m³),经度,纬度\n"
        + "".join(f"{s.name},{s.level.value},{150 * (i + 1)},{s.location.lon},{s.location.lat}\n"
                  for i, s in enumerate(sp)),  # fmt: skip
        encoding="utf-8",
    )
    result = run_import(ImportRequest(workspace=ws, file=g, kind="stockpiles", update=True))
    assert result.committed, result
    after = {s.id: s.capacity_m3 for s in read_workspace(ws).scenario.stockpiles}
    assert [after[s.id] for s in sp] == [150.0, 300.0]
