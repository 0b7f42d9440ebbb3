"""Coverage and blind spots (dispatch/planning/coverage.py), isochrones (gis/isochrones.py) and
``app.py coverage`` on the demo county, checked against an independent Dijkstra."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point, shape

from dispatch.planning.coverage import (
    CoverageError,
    CoverageRequest,
    bridge_closure,
    compare,
    compute_coverage,
    demand_sites,
)
from gis.matrix import DEFAULT_OFFROAD_KMH
from gis.model import RoadClosure
from tests.test_cli import run_app

FIRE = "综合性消防救援"


@pytest.fixture(scope="module")
def stock(demo_scenario: Any, demo_network: Any, demo_engine: Any) -> Any:
    return compute_coverage(demo_scenario, demo_network, CoverageRequest(), engine=demo_engine)


def oracle_graph(network: Any) -> csr_matrix:
    """The network's open arcs as a CSR of seconds (fastest of parallel arcs), built here from
    the network arrays, not through the engine."""
    t = np.asarray(network.travel_time_s)
    ok = np.isfinite(t) & (network.arc_u != network.arc_v)
    best: dict[tuple[int, int], float] = {}
    for u, v, w in zip(network.arc_u[ok], network.arc_v[ok], t[ok], strict=True):
        best[(u, v)] = min(w, best.get((u, v), math.inf))
    keys = np.array(list(best))
    n = network.n_nodes
    return csr_matrix((list(best.values()), (keys[:, 0], keys[:, 1])), shape=(n, n))


def oracle_seconds(network: Any, lon: Any, lat: Any, src_lon: Any, src_lat: Any) -> np.ndarray:
    """[S, P] seconds from sources to points: scipy Dijkstra, off-road legs at walking pace."""
    ps, fs = network.snap(lon, lat), network.snap(src_lon, src_lat)
    d = dijkstra(oracle_graph(network), indices=fs.node)[:, ps.node]
    walk = DEFAULT_OFFROAD_KMH / 3.6
    return d + fs.distance_m[:, None] / walk + ps.distance_m[None, :] / walk


def test_demand_points_seats_and_hazards(demo_scenario: Any, stock: Any) -> None:
    sites = demand_sites(demo_scenario)
    sources = [s.source for s in sites]
    assert sources.count("demand_points") == 239 and sources.count("townships") == 21
    assert sources.count("hazards") == len(demo_scenario.hazards)
    # each person once: villages plus the seats' remainder is the townships' population
    assert sum(s.population for s in sites) == sum(t.population for t in demo_scenario.townships)
    assert stock.total_population == sum(t.population for t in demo_scenario.townships)
    assert stock.thresholds == (15.0, 30.0, 60.0, 90.0, 240.0)  # golden 4 h for stockpiles


def test_times_agree_with_an_independent_dijkstra(
    demo_scenario: Any, demo_network: Any, stock: Any
) -> None:
    facs = stock.facilities
    pts = stock.points
    secs = oracle_seconds(
        demo_network,
        [p.site.lon for p in pts],
        [p.site.lat for p in pts],
        [f.lon for f in facs],
        [f.lat for f in facs],
    )
    order = np.sort(secs, axis=0)
    for j, p in enumerate(pts):
        assert p.minutes is not None
        assert abs(p.minutes * 60 - order[0, j]) <= 1.5, p.id
        assert abs(p.second_minutes * 60 - order[1, j]) <= 1.5, p.id
        near = secs[[f.id for f in facs].index(p.nearest_id), j]
        assert abs(near - order[0, j]) <= 1.5  # the named facility is a nearest one
    pops = np.array([p.population for p in pts])
    for s in stock.summary:  # shares: points within a second of a threshold may go either way
        edge = np.abs(order[0] - s.minutes * 60) <= 1.0
        lo = int(pops[(order[0] <= s.minutes * 60) & ~edge].sum())
        assert lo <= s.population <= lo + int(pops[edge].sum())
        assert s.share == pytest.approx(s.population / stock.total_population, abs=1e-6)
    assert 0 < stock.summary[0].share < stock.summary[1].share <= 1.0


def test_isochrones_are_valid_nested_and_follow_the_roads(demo_network: Any, stock: Any) -> None:
    isos = stock.isochrones
    assert [i.minutes for i in isos] == list(stock.thresholds)
    for small, big in zip(isos, isos[1:]):
        assert small.geometry.is_valid and big.geometry.is_valid
        assert small.geometry.geom_type in ("Polygon", "MultiPolygon")
        assert shapely.difference(small.geometry, big.geometry).area < 1e-9  # ≈ 1 m²
        assert small.road_km <= big.road_km
    first = isos[0].geometry
    for f in stock.facilities:
        assert first.contains(Point(f.lon, f.lat)), f.id
    # the point slowest to reach lies outside the 15-minute area; points reached within it
    # by more than a few minutes' margin lie inside
    far = max(stock.points, key=lambda p: p.minutes)
    assert far.minutes > 30 and not first.contains(Point(far.site.lon, far.site.lat))
    near = [p for p in stock.points if p.minutes < 10]
    assert near and all(first.contains(Point(p.site.lon, p.site.lat)) for p in near)
    # every road node reached within a threshold (independent Dijkstra) is inside its area,
    # and the 15-minute area leaves out most nodes reached only later
    fs = demo_network.snap([f.lon for f in stock.facilities], [f.lat for f in stock.facilities])
    walk = DEFAULT_OFFROAD_KMH / 3.6
    node_s = (
        dijkstra(oracle_graph(demo_network), indices=fs.node) + fs.distance_m[:, None] / walk
    ).min(0)
    x, y = np.asarray(demo_network.lon), np.asarray(demo_network.lat)
    for iso in isos[:3]:
        inside = shapely.contains_xy(iso.geometry, x, y)
        assert inside[node_s <= iso.minutes * 60 - 1].all(), iso.minutes
    late = node_s > 25 * 60
    assert shapely.contains_xy(first, x[late], y[late]).mean() < 0.2
    assert isos[0].road_km < isos[-1].road_km


def north_bank(ws: Any) -> Any:
    """The land north of the 长江 (the county outline less the river's water polygon, drawn in
    the map layers): the pieces holding the seats of the townships behind the single bridge."""
    rivers = json.loads(ws.documents["map_layers"]["rivers"])["features"]
    water = next(
        shape(f["geometry"])
        for f in rivers
        if f["properties"]["name"] == "长江" and f["properties"]["kind"] == "water"
    )
    parts = shapely.get_parts(ws.scenario.boundary.difference(water))
    codes = set(ws.scenario.metadata["single_bridge_townships"].split(","))
    seats = [Point(t.location.xy) for t in ws.scenario.townships if t.code in codes]
    north = [p for p in parts if any(p.contains(s) for s in seats)]
    assert len(north) == 1 and north[0].area < ws.scenario.boundary.area / 3
    return north[0]


def test_bridge_out_makes_the_north_bank_blind(
    demo_ws: Any, demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    meta = demo_scenario.metadata
    req = CoverageRequest(facilities="teams", force_type=FIRE, with_isochrones=False)
    base = compute_coverage(demo_scenario, demo_network, req, engine=demo_engine)
    bridge = bridge_closure(demo_network, meta["single_bridge"])
    assert demo_network.closed_edges([bridge])[bridge.id].size == 1  # the bridge only
    out = compute_coverage(
        demo_scenario, demo_network, replace(req, extra_closures=(bridge,)), engine=demo_engine
    )
    area = north_bank(demo_ws)
    on_north = {p.id for p in base.points if area.contains(Point(p.site.lon, p.site.lat))}
    assert len(on_north) > 10
    assert all(out.point(i).minutes is None for i in on_north)  # no fire station north
    assert all(base.point(i).minutes is not None for i in on_north)
    diff = compare(base, out)
    newly = {p.id for p in diff.newly_blind}
    was_blind = {p.id for p in base.blind_spots}
    assert newly >= on_north - was_blind and newly <= on_north
    assert diff.newly_blind_population == sum(base.point(i).population for i in newly) > 10_000
    ranked = [p.population for p in out.blind_spots]
    assert ranked == sorted(ranked, reverse=True)
    assert diff.share_change()[90.0] < 0
    # nothing south of the river is cut off
    south = [p for p in base.points if p.id not in on_north and p.minutes is not None]
    assert all(out.point(p.id).minutes is not None for p in south)


def test_removing_a_facility_only_slows_its_points(
    demo_scenario: Any, demo_network: Any, demo_engine: Any, stock: Any
) -> None:
    req = CoverageRequest(removed=("SP-004",), with_isochrones=False)
    out = compute_coverage(demo_scenario, demo_network, req, engine=demo_engine)
    assert "SP-004" not in {f.id for f in out.facilities}
    diff = compare(stock, out)
    moved = {i for i, _, _ in diff.slower}
    assert moved and moved == {p.id for p in stock.points if p.nearest_id == "SP-004"}
    assert all(after >= before for _, before, after in diff.slower)


def test_bad_requests_name_what_is_wrong(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    def error(scenario: Any, **kw: Any) -> str:
        with pytest.raises(CoverageError) as info:
            compute_coverage(scenario, demo_network, CoverageRequest(**kw), engine=demo_engine)
        return str(info.value)

    assert "positive" in error(demo_scenario, minutes=(15, 0))
    assert "positive" in error(demo_scenario, minutes=(-5,))
    assert "no shelters" in error(demo_scenario.replace(shelters=()), facilities="shelters")
    assert "no teams" in error(demo_scenario, facilities="teams", skill="潜水")
    assert "not among" in error(demo_scenario, removed=("SP-999",))
    empty = demo_scenario.replace(demand_points=(), townships=(), hazards=())
    assert "no demand" in error(empty)


def test_all_unreachable_is_an_honest_empty(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    # every stockpile cut off by a closure around it: nothing is reached, nothing raises
    cut = tuple(
        RoadClosure(f"CUT-{p.id}", Point(*p.location.xy).buffer(0.02))
        for p in demo_scenario.stockpiles
    )
    out = compute_coverage(
        demo_scenario,
        demo_network,
        CoverageRequest(minutes=(30,), extra_closures=cut),
        engine=demo_engine,
    )
    reached = [p for p in out.points if p.minutes is not None]
    assert all(p.minutes < 30 for p in reached)  # only what lies inside a cut-off patch
    assert out.summary[0].share < 0.3
    assert len(out.blind_spots) == len(out.points) - len([p for p in reached if p.minutes <= 30])
    assert out.isochrones[0].geometry.is_valid


def test_cli_contract(demo_workspace_path: Path, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "cov"
    proc = run_app(
        "coverage",
        str(demo_workspace_path),
        "--out",
        str(out),
        "--facilities",
        "teams",
        "--minutes",
        "30,15",
        "--close-bridge",
        "合江长江大桥",
        "--remove",
        "TM-018",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    assert set(doc["summary"]) == {"15", "30"}
    for key in ("15", "30"):
        assert set(doc["summary"][key]) >= {"share", "population"}
        assert 0 <= doc["summary"][key]["share"] <= 1
    assert doc["summary"]["15"]["population"] <= doc["summary"]["30"]["population"]
    assert len(doc["points"]) == 239 + 21 + 7
    for p in doc["points"]:
        assert {"id", "name", "population", "minutes", "nearest_id", "second_minutes"} <= set(p)
    within = sum(
        p["population"] for p in doc["points"] if p["minutes"] is not None and p["minutes"] <= 30
    )
    assert within == doc["summary"]["30"]["population"]
    assert [b["id"] for b in doc["blind_spots"]] == [
        p["id"]
        for p in sorted(
            (p for p in doc["points"] if p["minutes"] is None or p["minutes"] > 30),
            key=lambda p: (-p["population"], -(p["minutes"] or 1e9), p["id"]),
        )
    ]
    # the what-if: the bridge out and the north bank's own team removed
    wi = doc["what_if"]
    assert wi["removed"] == ["TM-018"] and len(wi["closures"]) == 1
    assert set(wi["summary"]) == {"15", "30"}
    assert wi["summary"]["30"]["population"] < doc["summary"]["30"]["population"]
    newly = wi["newly_blind"]
    assert newly and all(p["minutes"] is None for p in newly)  # cut off, not just slower
    assert wi["newly_blind_population"] == sum(p["population"] for p in newly)
    assert [p["population"] for p in newly] == sorted(
        (p["population"] for p in newly), reverse=True
    )
    assert not {p["id"] for p in newly} & {b["id"] for b in doc["blind_spots"]}
    geo = json.loads((out / "isochrones.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["minutes"] for f in geo["features"]] == [15, 30]
    polys = [shape(f["geometry"]) for f in geo["features"]]
    assert all(p.is_valid and not p.is_empty for p in polys)
    # bad input: one line on stderr, exit 2, nothing written (through the same main() as the
    # subprocess above, in-process)
    bad = tmp_path / "bad"
    for args, needle in (
        (("--minutes", "15,0"), "positive"),
        (("--minutes", "15,abc"), "'abc'"),
        (("--minutes", "-30"), "positive"),
        (("--facilities", "depots"), "stockpiles|teams|shelters"),
        (("--remove", "SP-999"), "not among"),
        (("--close-bridge", "金门大桥"), "no bridge named"),
    ):
        ws = str(demo_workspace_path)
        assert needle in one_line_error(capsys, "coverage", ws, "--out", str(bad), *args)
    assert not bad.exists()


def one_line_error(capsys: Any, *args: str) -> str:
    """``app.main`` in-process (the same code as the subprocess): exit 2, one line on stderr."""
    import app

    assert app.main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_cli_no_facilities_and_no_roads(demo_ws: Any, tmp_path: Path, capsys: Any) -> None:
    from gis.workspace import write_workspace

    # a county without shelters: one line, exit 2, nothing written
    ws = tmp_path / "no_shelters.gpkg"
    write_workspace(
        ws,
        demo_ws.scenario.replace(shelters=()),
        road_nodes=demo_ws.road_nodes,
        road_edges=demo_ws.road_edges,
    )
    out = tmp_path / "out"
    assert "no shelters" in one_line_error(
        capsys, "coverage", str(ws), "--out", str(out), "--facilities", "shelters"
    )
    assert not out.exists()
    # without a road network
    bare = tmp_path / "no_roads.gpkg"
    write_workspace(bare, demo_ws.scenario)
    assert "no road network" in one_line_error(capsys, "coverage", str(bare), "--out", str(out))
    assert not out.exists()


def test_demand_points_enter_the_scenario_fingerprint(demo_scenario: Any) -> None:
    from dispatch.plan import scenario_hash

    bare = demo_scenario.replace(demand_points=())
    one = bare.replace(demand_points=demo_scenario.demand_points[:1])
    # present: part of the audit key; absent: left out (the pinned XLSX reference of
    # tests/test_exports.py keeps its 场景指纹 from before the field existed)
    assert len({scenario_hash(demo_scenario), scenario_hash(bare), scenario_hash(one)}) == 3


def test_planner_warnings_for_demand_points(demo_scenario: Any) -> None:
    from gis.model import DemandPoint
    from gis.workspace.checks import validate_scenario

    assert not [w for w in validate_scenario(demo_scenario) if "需求点" in w]  # the demo is clean
    seat = demo_scenario.townships[0]
    scen = demo_scenario.upsert(
        DemandPoint("DP-BIG", "大厂", "工厂", seat.location, seat.population, 1.0, seat.code)
    ).upsert(DemandPoint("DP-LOST", "外村", "村庄", (120.0, 30.0), 10, 1.0, "999"))
    warnings = validate_scenario(scen)
    assert any(seat.name in w and "需求点人口合计" in w for w in warnings)
    assert any("DP-LOST" in w and "不在乡镇图层中" in w for w in warnings)
    assert any("DP-LOST" in w and "县界之外" in w for w in warnings)


def test_shelters_are_measured_towards_the_shelter(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    out = compute_coverage(
        demo_scenario,
        demo_network,
        CoverageRequest(facilities="shelters", with_isochrones=False),
        engine=demo_engine,
    )
    pts = out.points
    # from each point to each shelter: Dijkstra on the reversed graph from the shelters
    g = oracle_graph(demo_network).T.tocsr()
    fs = demo_network.snap([f.lon for f in out.facilities], [f.lat for f in out.facilities])
    ps = demo_network.snap([p.site.lon for p in pts], [p.site.lat for p in pts])
    walk = DEFAULT_OFFROAD_KMH / 3.6
    secs = dijkstra(g, indices=fs.node)[:, ps.node]
    secs = secs + fs.distance_m[:, None] / walk + ps.distance_m[None, :] / walk
    best = secs.min(axis=0)
    assert all(abs(p.minutes * 60 - b) <= 1.5 for p, b in zip(pts, best, strict=True))


def test_filters_and_a_single_facility(
    demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    water = compute_coverage(
        demo_scenario,
        demo_network,
        CoverageRequest(facilities="teams", skill="水域救援", with_isochrones=False),
        engine=demo_engine,
    )
    ids = {f.id for f in water.facilities}
    assert ids == {t.id for t in demo_scenario.teams if "水域救援" in t.skills}
    assert {p.nearest_id for p in water.points} <= ids
    keep = "SP-001"
    others = tuple(s.id for s in demo_scenario.stockpiles if s.id != keep)
    one = compute_coverage(
        demo_scenario,
        demo_network,
        CoverageRequest(removed=others, with_isochrones=False),
        engine=demo_engine,
    )
    assert [f.id for f in one.facilities] == [keep]
    assert all(p.nearest_id == keep and p.second_minutes is None for p in one.points)
