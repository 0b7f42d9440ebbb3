"""Benchmark of gis.workspace: save and open a county-size workspace.

A generated county (~300 entities, 40 materials, 20k road edges) is saved and read back; the
bundled demo county is read too when present. Baseline, measured in the same run: reading the
same file's layers with plain ``pyogrio.read_dataframe`` (no validation, no model objects) — the
GDAL floor any GeoPackage reader pays. Goals (issue 2 §3, h2 brief): read_workspace < 1.5 s;
20k-edge road layers written and read "well under 2 s"; include_roads=False skips the roads;
reopening the demo county (workspace + road network from the cache) < 1 s.

Usage: ``.venv/bin/python benchmarks/bench_workspace.py [--repeat 3] [--edges 20000]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.model import (  # noqa: E402
    Hazard,
    Incident,
    Material,
    RoadNetworkRef,
    Scenario,
    Shelter,
    Stockpile,
    Team,
    Township,
    Vehicle,
)
from gis.workspace import read_road_frames, read_workspace, write_workspace  # noqa: E402

CST = timezone(timedelta(hours=8))


def county(n_edges: int, seed: int = 7) -> tuple[Scenario, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A county-size scenario and a road network of ``n_edges`` edges (random, not a real map)."""
    rng = np.random.default_rng(seed)

    def loc() -> tuple[float, float]:
        return (float(rng.uniform(105.6, 106.3)), float(rng.uniform(28.5, 29.0)))

    materials = tuple(
        Material(f"M{i:02d}", f"物资{i}", f"item {i}", "件", 1 + i, 0.01 * (i + 1), "生活类")
        for i in range(40)
    )
    codes = [m.code for m in materials]
    stockpiles = tuple(
        Stockpile(
            f"SP{i:03d}",
            f"储备库{i}",
            "乡镇" if i else "县级",
            loc(),
            inventory={c: int(rng.integers(0, 1000)) for c in codes[: 10 + i % 30]},
            safety_stock={c: 10 for c in codes[:5]},
            vehicles=tuple(
                Vehicle(f"SP{i:03d}-V{k}", "厢式货车", 5000, 30, f"SP{i:03d}") for k in range(3)
            ),
        )
        for i in range(30)
    )
    shelters = tuple(
        Shelter(f"SH{i:03d}", f"避难场所{i}", "室内", "短期", loc(), 500, 100, stock={"M00": 5})
        for i in range(150)
    )
    teams = tuple(
        Team(
            f"T{i:03d}",
            f"队伍{i}",
            "专业救援",
            loc(),
            20,
            skills=("水域救援", "山地搜救"),
            vehicles=(Vehicle(f"T{i:03d}-V", "皮卡", 1000, 4, f"T{i:03d}"),),
        )
        for i in range(60)
    )
    incidents = tuple(
        Incident(
            f"I{i:02d}",
            f"事件{i}",
            "自然灾害",
            "山洪",
            1 + i % 4,
            loc(),
            datetime(2024, 7, 1, 8, tzinfo=CST),
            affected_people=100,
            needs={c: 10 for c in codes[:8]},
            required_skills={"水域救援": 10},
        )
        for i in range(20)
    )
    hazards = tuple(
        Hazard(
            f"H{i:02d}",
            f"隐患{i}",
            "地质灾害隐患点",
            2,
            shapely.Point(loc()) if i % 2 else shapely.Point(loc()).buffer(0.01),
        )
        for i in range(20)
    )
    townships = tuple(Township(f"510522{i:03d}", f"乡镇{i}", loc()) for i in range(21))
    scen = Scenario(
        "基准县",
        materials=materials,
        stockpiles=stockpiles,
        shelters=shelters,
        teams=teams,
        incidents=incidents,
        hazards=hazards,
        townships=townships,
        boundary=shapely.box(105.5, 28.4, 106.4, 29.1),
        road_network=RoadNetworkRef("generated", "bench", "x", "random"),
    )
    n_nodes = max(2, n_edges // 2)
    x, y = rng.uniform(105.6, 106.3, n_nodes), rng.uniform(28.5, 29.0, n_nodes)
    ids = np.arange(n_nodes, dtype="int64")
    nodes = gpd.GeoDataFrame({"node_id": ids}, geometry=gpd.points_from_xy(x, y), crs=4326)
    u = rng.integers(0, n_nodes, n_edges)
    v = rng.integers(0, n_nodes, n_edges)
    steps = np.linspace(0, 1, 6)[None, :, None]
    a = np.stack([x[u], y[u]], 1)[:, None, :]
    b = np.stack([x[v], y[v]], 1)[:, None, :]
    edges = gpd.GeoDataFrame(
        {
            "u": ids[u],
            "v": ids[v],
            "oneway": rng.random(n_edges) < 0.1,
            "highway": rng.choice(["primary", "secondary", "tertiary", "track"], n_edges),
            "name": rng.choice(["", "G353", "县道X101", "乡道"], n_edges),
            "ref": rng.choice(["", "G353", "X101"], n_edges),
            "maxspeed_kmh": np.where(rng.random(n_edges) < 0.7, np.nan, 60.0),
            "length_m": rng.uniform(10, 2000, n_edges),
            "bridge": rng.random(n_edges) < 0.01,
        },
        geometry=shapely.linestrings(a + (b - a) * steps),  # 6 vertices per edge
        crs=4326,
    )
    return scen, nodes, edges


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def gdal_floor(path: Path, *, roads: bool) -> None:
    for name, _gtype in pyogrio.list_layers(path):
        if not roads and name in ("road_nodes", "road_edges"):
            continue
        pyogrio.read_dataframe(path, layer=name)


def report(label: str, path: Path, repeat: int) -> None:
    full = timed(lambda: read_workspace(path), repeat)
    light = timed(lambda: read_workspace(path, include_roads=False), repeat)
    roads = timed(lambda: read_road_frames(path), repeat)
    floor_full = timed(lambda: gdal_floor(path, roads=True), repeat)
    floor_light = timed(lambda: gdal_floor(path, roads=False), repeat)
    print(f"[{label}] {path.stat().st_size / 2**20:.1f} MiB")
    print(
        f"  read_workspace            {full * 1000:7.0f} ms   "
        f"(plain pyogrio read of every layer {floor_full * 1000:.0f} ms, ratio "
        f"{full / floor_full:.2f}x)"
    )
    print(
        f"  read_workspace(no roads)  {light * 1000:7.0f} ms   "
        f"(plain pyogrio {floor_light * 1000:.0f} ms, ratio {light / floor_light:.2f}x)"
    )
    print(f"  read_road_frames          {roads * 1000:7.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--edges", type=int, default=20_000)
    args = ap.parse_args()
    scen, nodes, edges = county(args.edges)
    counts = scen.counts()
    print(
        f"generated county: {sum(counts.values())} records {counts}, "
        f"{len(nodes)} road nodes, {len(edges)} road edges"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "county.gpkg"
        w_full = timed(
            lambda: write_workspace(path, scen, road_nodes=nodes, road_edges=edges), args.repeat
        )
        w_light = timed(lambda: write_workspace(Path(tmp) / "light.gpkg", scen), args.repeat)

        def floor_write() -> None:
            p = Path(tmp) / "floor.gpkg"
            p.unlink(missing_ok=True)
            pyogrio.write_dataframe(nodes, p, layer="road_nodes", driver="GPKG")
            pyogrio.write_dataframe(edges, p, layer="road_edges", driver="GPKG")

        w_floor = timed(floor_write, args.repeat)
        print(f"  write_workspace           {w_full * 1000:7.0f} ms   (scenario + roads, atomic)")
        print(f"  write_workspace(no roads) {w_light * 1000:7.0f} ms")
        print(
            f"  plain pyogrio write of the two road layers (default SQLite settings) "
            f"{w_floor * 1000:.0f} ms"
        )
        assert read_workspace(path).scenario == scen
        report("generated county", path, args.repeat)
        roads_rt = timed(lambda: read_road_frames(path), args.repeat)
        roads_w = w_full - w_light
        print(
            f"  roads write+read ≈ {(roads_w + roads_rt) * 1000:.0f} ms (goal: well under 2000 ms)"
        )
    demo = ROOT / "data" / "hejiang_demo.gpkg"
    if demo.exists():
        report("bundled demo county", demo, args.repeat)
        reopen(demo, args.repeat)


def reopen(path: Path, repeat: int) -> None:
    """Issue 2 §4: reopening the demo county (workspace + road network from the cache) < 1 s.

    The baseline is a cold build of the network from the file's road layers (no cache)."""
    from gis.loading import load_road_network, open_workspace
    from gis.roads import RoadNetwork

    ws = open_workspace(path)
    load_road_network(path, ws.scenario)  # fill the cache

    def warm() -> None:
        w = open_workspace(path)
        load_road_network(path, w.scenario)

    def cold() -> None:
        nodes, edges = read_road_frames(path)
        RoadNetwork.from_frames(nodes, edges, source=str(path))

    t_warm = timed(warm, repeat)
    t_cold = timed(cold, repeat)
    verdict = "met" if t_warm < 1.0 else "NOT MET"
    print(
        f"  reopen (workspace + roads from cache) {t_warm * 1000:5.0f} ms   (goal < 1000 ms: "
        f"{verdict}; building the roads without the cache {t_cold * 1000:.0f} ms, "
        f"ratio {t_cold / t_warm:.1f}x)"
    )


if __name__ == "__main__":
    main()
