"""Benchmark of gis.matrix.TravelTimeEngine (contraction hierarchies) against the csgraph engine.

Each case prints one machine-readable line (other lines are comments for people)::

    RESULT case=NAME nodes=N size=SxT engine_s=X baseline=csgraph baseline_s=Y ratio=R

``engine_s`` is the facade's seconds-only matrix (``metres=False``: the CCH backend) after the
metric-independent preprocessing, which is reported separately (``prep``; its node order is
cached on disk, so a second run loads it). ``baseline_s`` is the csgraph engine (Dijkstra per
source with graph reduction) on the same sources and targets, measured in the same run; it
computes metres too, at no extra cost in its exact-unit mode. Runs alternate (best of
``--repeat``) because the machine may be shared. Every case checks that both engines give the
same seconds (on the baseline's rows) and prints ``agree=yes|NO``.

Each matrix case also prints a comment line ``# PLAIN case=NAME plain_dijkstra_s=X ...
ratio_plain=R``: the ratio against plain csgraph Dijkstra without graph reduction (what issue
12's 7.2 s figure measured). ``metres_road100k100`` and ``metres_road1m100`` time a
dispatch-like 100×100 matrix *with metres* through the facade's ``auto`` choice against csgraph.

Cases: ``demo500`` (bundled demo county, 500×500), ``andorra500`` (OSM extract in
``../shared``), ``road100k500`` (generated road-like network, ~100k nodes: a street grid whose
streets are chains of two-link nodes), ``road1m1000`` (the same generator, ~1M nodes, 1000×1000;
the baseline runs a sample of the sources and is extrapolated — the line says ``baseline_est``),
``closure_demo`` and ``closure_road100k`` (apply closures → new 200×200 matrix, both engines
built before, the spatial index warmed by an earlier closure). Memory (resident set size) is
printed for the 1M case.

Usage: ``.venv/bin/python benchmarks/bench_matrix.py [--skip-1m] [--repeat N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.matrix import TravelTimeEngine  # noqa: E402
from gis.model import RoadClosure  # noqa: E402
from gis.roads import RoadNetwork, file_fingerprint, load_network_cached, load_osm  # noqa: E402

ANDORRA = ROOT.parent / "shared" / "data" / "osm" / "andorra.osm.pbf"
DEMO = ROOT / "data" / "hejiang_demo.gpkg"


def rss_mb() -> float:
    """Resident set size of this process (MB), from /proc (0 where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def road_like_network(n_side: int, seed: int = 42) -> RoadNetwork:
    """A seeded road-like network: a perturbed street grid (~1 km blocks), ~13 % of streets
    deleted, faster county roads every 10th line, 3 % one-way streets, each street a chain of
    3–7 two-link nodes (bends). ``n_side`` 100 gives ~100k nodes, 316 ~1M."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    step = 0.01
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    n0 = n_side * n_side
    ids = np.arange(n0)
    lon = 105.0 + jj.ravel() * step + rng.normal(0, step * 0.1, n0)
    lat = 28.0 + ii.ravel() * step * 0.9 + rng.normal(0, step * 0.1, n0)
    right = (jj < n_side - 1).ravel()
    up = (ii < n_side - 1).ravel()
    a = np.concatenate([ids[right], ids[up]])
    b = np.concatenate([ids[right] + 1, ids[up] + n_side])
    main = np.concatenate([(ii.ravel()[right] % 10) == 0, (jj.ravel()[up] % 10) == 0])
    keep = main | (rng.random(a.size) > 0.13)
    a, b, main = a[keep], b[keep], main[keep]
    oneway = ~main & (rng.random(a.size) < 0.03)
    k = rng.integers(3, 8, a.size)  # chain nodes per street
    total = int(k.sum())
    street = np.repeat(np.arange(a.size), k)
    rank = np.arange(total) - np.repeat(np.cumsum(k) - k, k) + 1
    frac = rank / (k[street] + 1)
    mid_lon = lon[a[street]] * (1 - frac) + lon[b[street]] * frac + rng.normal(0, 4e-4, total)
    mid_lat = lat[a[street]] * (1 - frac) + lat[b[street]] * frac + rng.normal(0, 4e-4, total)
    mid_id = n0 + np.arange(total)
    all_lon = np.concatenate([lon, mid_lon])
    all_lat = np.concatenate([lat, mid_lat])
    # links: a → first chain node → … → last → b
    first = np.cumsum(k) - k
    u = np.empty(total + a.size, dtype=np.int64)
    v = np.empty_like(u)
    link_street = np.concatenate([street, np.arange(a.size)])
    u[:total] = np.where(rank == 1, a[street], mid_id - 1)
    v[:total] = mid_id
    u[total:] = mid_id[first + k - 1]
    v[total:] = b
    coords = np.empty((u.size * 2, 2))
    coords[0::2] = np.column_stack([all_lon[u], all_lat[u]])
    coords[1::2] = np.column_stack([all_lon[v], all_lat[v]])
    geoms = shapely.linestrings(coords, indices=np.repeat(np.arange(u.size), 2))
    dx = (all_lon[u] - all_lon[v]) * 111_320 * np.cos(np.radians(all_lat[u]))
    dy = (all_lat[u] - all_lat[v]) * 110_574
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(all_lon.size, dtype=np.int64)},
        geometry=shapely.points(all_lon, all_lat),
        crs="EPSG:4326",
    )
    edges = gpd.GeoDataFrame(
        {
            "u": u,
            "v": v,
            "oneway": oneway[link_street],
            "highway": np.where(main[link_street], "secondary", "unclassified").astype(object),
            "name": "",
            "ref": "",
            "maxspeed_kmh": np.nan,
            "length_m": np.hypot(dx, dy),
            "bridge": False,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return RoadNetwork.from_frames(nodes, edges, source=f"road-like {n_side}² seed {seed}")


def demo_network() -> RoadNetwork | None:
    if not DEMO.exists():
        return None
    import geopandas as gpd

    nodes = gpd.read_file(DEMO, layer="road_nodes")
    edges = gpd.read_file(DEMO, layer="road_edges")
    return RoadNetwork.from_frames(nodes, edges, source=str(DEMO))


def closures_near(net: RoadNetwork, rng: np.random.Generator) -> list[RoadClosure]:
    """A point, a line and a polygon closure plus a slow-down near random nodes."""
    from shapely.geometry import LineString, Point

    picks = rng.choice(net.n_nodes, 4, replace=False)
    lon, lat = net.lon, net.lat
    a = picks[1]
    return [
        RoadClosure("pt", Point(lon[picks[0]], lat[picks[0]]), radius_m=200),
        RoadClosure(
            "ln", LineString([(lon[a] - 0.003, lat[a] - 0.001), (lon[a] + 0.003, lat[a] + 0.001)])
        ),
        RoadClosure("pg", Point(lon[picks[2]], lat[picks[2]]).buffer(0.004)),
        RoadClosure("slow", Point(lon[picks[3]], lat[picks[3]]), radius_m=1500, speed_factor=0.5),
    ]


def result(case: str, nodes: int, s: int, t: int, ours: float, base: float, note: str) -> None:
    print(
        f"RESULT case={case} nodes={nodes} size={s}x{t} engine_s={ours:.4f} "
        f"baseline=csgraph baseline_s={base:.4f} ratio={base / ours:.1f}"
    )
    if note:
        print(f"#   {case}: {note}")
    sys.stdout.flush()


def prepared_engine(net: RoadNetwork, label: str) -> TravelTimeEngine:
    rss0 = rss_mb()
    t0 = time.perf_counter()
    eng = TravelTimeEngine(net, backend="cch")
    t_csr = time.perf_counter() - t0
    rss1 = rss_mb()
    t0 = time.perf_counter()
    view = eng.prepare()
    ch = view.index.chains
    print(
        f"# {label}: {net.n_nodes:,} nodes, {net.n_arcs:,} arcs; csgraph engine {t_csr:.2f} s; "
        f"core {ch.n_core:,} nodes after {ch.n_chains:,} chains; CCH prep "
        f"{time.perf_counter() - t0:.2f} s (order "
        f"{'from cache' if view.index.order_from_cache else 'computed'}); RSS {rss0:.0f} → "
        f"{rss1:.0f} (csgraph engine) → {rss_mb():.0f} MB (CCH index + metric)"
    )
    return eng


def matrix_case(
    case: str,
    net: RoadNetwork,
    size: int,
    repeat: int,
    *,
    sample: int | None = None,
    plain_sample: int | None = None,
    seed: int = 1,
) -> None:
    eng = prepared_engine(net, case)
    rng = np.random.default_rng(seed)
    src = rng.choice(net.n_nodes, size, replace=size > net.n_nodes)
    tgt = rng.choice(net.n_nodes, size, replace=size > net.n_nodes)
    eng.matrix(src[:2], tgt[:2], metres=False)  # warm-up
    rows = np.arange(size) if sample is None else np.sort(rng.choice(size, sample, replace=False))
    fixed_full = fixed_sample = 0.0
    if sample is not None:  # the per-call graph reduction is not proportional to the sources
        csg = eng.csgraph
        t0 = time.perf_counter()
        csg._reduced(csg._csr, csg._lengths, np.unique(src), np.unique(tgt))
        fixed_full = time.perf_counter() - t0
        t0 = time.perf_counter()
        csg._reduced(csg._csr, csg._lengths, np.unique(src[rows]), np.unique(tgt))
        fixed_sample = time.perf_counter() - t0
    ours = base = cpu_ours = cpu_base = np.inf
    m = ref = None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        m = eng.matrix(src, tgt, metres=False)
        ours = min(ours, time.perf_counter() - t0)
        cpu_ours = min(cpu_ours, time.process_time() - c0)
        c0, t0 = time.process_time(), time.perf_counter()
        ref = eng.csgraph.float_matrix(src[rows], tgt)
        took = time.perf_counter() - t0
        base = min(base, fixed_full + (took - fixed_sample) * size / rows.size)
        cpu_base = min(cpu_base, (time.process_time() - c0) * size / rows.size)
    assert m is not None and ref is not None
    from gis.matrix import round_units

    ref_s = round_units(ref[0])
    agree = np.array_equal(np.isfinite(ref[0]), m.reachable[rows]) and np.array_equal(
        np.where(np.isfinite(ref_s), ref_s, -1), np.where(m.reachable[rows], m.seconds[rows], -1)
    )
    note = f"engine={m.backend} agree={'yes' if agree else 'NO'}"
    if sample is not None:
        note += (
            f"; baseline_est: csgraph timed on {rows.size} of {size} sources (agreement checked "
            f"on those rows) and extrapolated: its graph reduction for all {size} sources "
            f"({fixed_full:.2f} s, timed alone) + the Dijkstra part × {size / rows.size:g}"
        )
    result(case, net.n_nodes, size, size, ours, base, note)
    print(
        f"# CPU case={case} engine_cpu_s={cpu_ours:.4f} baseline_cpu_s={cpu_base:.4f} "
        f"ratio_cpu={cpu_base / cpu_ours:.1f} (process CPU time, all threads; on a loaded "
        "machine wall time includes waiting for a core)"
    )
    plain_case(case, eng, src, tgt, ours, plain_sample, rng)


def plain_case(
    case: str,
    eng: TravelTimeEngine,
    src: np.ndarray,
    tgt: np.ndarray,
    ours: float,
    sample: int | None,
    rng: np.random.Generator,
) -> None:
    """A comment line: the ratio against plain csgraph Dijkstra (no pruning, no chain
    contraction: what issue 12's 7.2 s figure measured), timed on ``sample`` sources."""
    import gis.matrix.csgraph as cg

    rows = np.arange(src.size) if sample is None else rng.choice(src.size, sample, replace=False)
    saved = cg._REDUCE_MIN_ROOTS
    cg._REDUCE_MIN_ROOTS = 2**62  # never shrink the graph
    try:
        t0 = time.perf_counter()
        eng.csgraph.float_matrix(src[rows], tgt)
        plain = (time.perf_counter() - t0) * src.size / rows.size
    finally:
        cg._REDUCE_MIN_ROOTS = saved
    est = "" if sample is None else f" (timed on {rows.size} of {src.size} sources, scaled)"
    print(
        f"# PLAIN case={case} plain_dijkstra_s={plain:.4f}{est} engine_s={ours:.4f} "
        f"ratio_plain={plain / ours:.1f}"
    )
    sys.stdout.flush()


def metres_case(case: str, net: RoadNetwork, size: int, repeat: int, seed: int = 3) -> None:
    """A dispatch-like matrix with metres (``size``×``size``) through the facade's ``auto``
    choice (CCH with path unpacking where it pays), against csgraph; agreement of seconds,
    and of metres outside ties, checked."""
    eng = TravelTimeEngine(net)
    eng.prepare()
    ref = TravelTimeEngine(net, backend="csgraph")
    rng = np.random.default_rng(seed)
    src = rng.choice(net.n_nodes, size, replace=False)
    tgt = rng.choice(net.n_nodes, size, replace=False)
    ours = base = np.inf
    m = r = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = eng.matrix(src, tgt)
        ours = min(ours, time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = ref.matrix(src, tgt)
        base = min(base, time.perf_counter() - t0)
    assert m is not None and r is not None
    agree = np.array_equal(m.seconds, r.seconds) and np.array_equal(m.reachable, r.reachable)
    ties = int((m.metres != r.metres).sum())
    note = (
        f"engine={m.backend} (auto) agree={'yes' if agree else 'NO'}; with metres; "
        f"{ties} of {m.metres.size} pairs with other metres (equally fast paths)"
    )
    result(case, net.n_nodes, size, size, ours, base, note)


def closure_case(case: str, net: RoadNetwork, repeat: int, seed: int = 2) -> None:
    eng = prepared_engine(net, case)
    ref0 = TravelTimeEngine(net, backend="csgraph")
    rng = np.random.default_rng(seed)
    src = rng.choice(net.n_nodes, 200, replace=False)
    tgt = rng.choice(net.n_nodes, 200, replace=False)
    eng.with_closures(closures_near(net, rng)).matrix(src[:2], tgt[:2], metres=False)  # warm-up
    ours = base = np.inf
    m = ref = None
    for r in range(repeat):
        closures = closures_near(net, np.random.default_rng(seed + 10 + r))
        t0 = time.perf_counter()
        m = eng.with_closures(closures).matrix(src, tgt, metres=False)
        ours = min(ours, time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = ref0.with_closures(closures).matrix(src, tgt)
        base = min(base, time.perf_counter() - t0)
    assert m is not None and ref is not None
    agree = np.array_equal(m.seconds, ref.seconds) and np.array_equal(m.reachable, ref.reachable)
    cut = int((~m.reachable).sum())
    note = (
        f"engine={m.backend} agree={'yes' if agree else 'NO'}; closures applied to the network, "
        f"new metric customized, 200x200 seconds ({cut} pairs cut); the baseline builds its "
        "CSR and runs 200 Dijkstras (with metres)"
    )
    result(case, net.n_nodes, 200, 200, ours, base, note)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-1m", action="store_true", help="skip the generated ~1M network")
    ap.add_argument("--repeat", type=int, default=3, help="rounds per case (best kept)")
    args = ap.parse_args(argv)
    t_all = time.perf_counter()
    demo = demo_network()
    if demo is not None:
        matrix_case("demo500", demo, 500, args.repeat)
        closure_case("closure_demo", demo, args.repeat)
    else:
        print(f"# skipped demo500, closure_demo: {DEMO} absent")
    if ANDORRA.exists():
        net = load_network_cached(file_fingerprint(ANDORRA), lambda: load_osm(ANDORRA))
        matrix_case("andorra500", net, 500, args.repeat)
    else:
        print(f"# skipped andorra500: {ANDORRA} absent")
    t0 = time.perf_counter()
    road = road_like_network(100)
    print(f"# road-like ~100k network generated in {time.perf_counter() - t0:.1f} s")
    matrix_case("road100k500", road, 500, max(2, args.repeat - 1), plain_sample=100)
    closure_case("closure_road100k", road, max(2, args.repeat - 1))
    metres_case("metres_road100k100", road, 100, 2)
    del road
    if not args.skip_1m:
        rss0 = rss_mb()
        t0 = time.perf_counter()
        big = road_like_network(316)
        rss1 = rss_mb()
        print(
            f"# road-like ~1M network generated in {time.perf_counter() - t0:.1f} s; "
            f"RSS {rss0:.0f} → {rss1:.0f} MB"
        )
        matrix_case("road1m1000", big, 1000, 1, sample=100, plain_sample=10)
        metres_case("metres_road1m100", big, 100, 1)
        print(
            f"# memory, road1m1000: RSS {rss_mb():.0f} MB at the end (network {rss1 - rss0:.0f} MB)"
        )
    print(f"# whole script: {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
