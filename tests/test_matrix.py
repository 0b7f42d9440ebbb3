"""Tests of gis/matrix.py: agreement with networkx on real road graphs (hypothesis), the
unreachable sentinel, closures cutting and restoring, paths with geometry and turn lists."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Point

from gis.errors import ValidationError
from gis.matrix import UNREACHABLE, MatrixCancelled, TravelMatrix, TravelTimeEngine, round_units
from gis.model import RoadClosure
from gis.roads import (
    ROAD_CLASS_ZH,
    RoadNetwork,
    file_fingerprint,
    load_network_cached,
    load_osm,
)

HYP = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def andorra(andorra_pbf: Path) -> RoadNetwork:
    # cached (key: file content + loader version + options): test_roads loads it fresh
    return load_network_cached(file_fingerprint(andorra_pbf), lambda: load_osm(andorra_pbf))


@pytest.fixture(scope="module")
def monaco(monaco_xml: Path) -> RoadNetwork:
    return load_network_cached(file_fingerprint(monaco_xml), lambda: load_osm(monaco_xml))


@pytest.fixture(scope="module")
def engine(andorra: RoadNetwork) -> TravelTimeEngine:
    return TravelTimeEngine(andorra)


@pytest.fixture(scope="module")
def graph(engine: TravelTimeEngine) -> nx.DiGraph:
    return engine.to_networkx()


def _nx_reference(
    g: nx.DiGraph, sources: list[int], targets: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """networkx seconds and metres along the path minimising the engine's ``weight``."""
    secs = np.full((len(sources), len(targets)), np.inf)
    metres = np.full((len(sources), len(targets)), np.inf)
    for i, s in enumerate(sources):
        _, paths = nx.single_source_dijkstra(g, s, weight="weight")
        for j, t in enumerate(targets):
            if t in paths:
                arcs = list(zip(paths[t][:-1], paths[t][1:]))
                secs[i, j] = sum(g[a][b]["travel_time_s"] for a, b in arcs)
                metres[i, j] = sum(g[a][b]["length_m"] for a, b in arcs)
    return secs, metres


def _rows(m: TravelMatrix, rows: np.ndarray) -> TravelMatrix:
    return TravelMatrix(
        m.seconds[rows], m.metres[rows], m.reachable[rows], m.source_nodes[rows], m.target_nodes
    )


def _assert_matches(m: TravelMatrix, secs: np.ndarray, metres: np.ndarray) -> None:
    reach = np.isfinite(secs)
    assert np.array_equal(m.reachable, reach)
    assert (m.seconds[~reach] == UNREACHABLE).all() and (m.metres[~reach] == UNREACHABLE).all()
    assert np.array_equal(m.seconds[reach], round_units(secs[reach]).astype(np.int32))
    assert np.array_equal(m.metres[reach], round_units(metres[reach]).astype(np.int32))


# ---------------------------------------------------------------------------------------------
# agreement with networkx
# ---------------------------------------------------------------------------------------------


@HYP
@given(data=st.data())
def test_matrix_equals_networkx_andorra(
    andorra: RoadNetwork, engine: TravelTimeEngine, graph: nx.DiGraph, data: st.DataObject
) -> None:
    node = st.integers(0, andorra.n_nodes - 1)
    sources = data.draw(st.lists(node, min_size=1, max_size=6))
    targets = data.draw(st.lists(node, min_size=1, max_size=12))
    m = engine.matrix(sources, targets)
    assert m.seconds.dtype == np.int32 and m.metres.dtype == np.int32
    assert m.shape == (len(sources), len(targets))
    secs, metres = _nx_reference(graph, sources, targets)
    _assert_matches(m, secs, metres)
    assert m.reachable.all()  # one strongly connected component


@HYP
@given(data=st.data())
def test_matrix_equals_networkx_with_closures(
    andorra: RoadNetwork, engine: TravelTimeEngine, data: st.DataObject
) -> None:
    """Random point closures and slow-downs: still exactly networkx, sentinel where cut."""
    node = st.integers(0, andorra.n_nodes - 1)
    centres = data.draw(st.lists(node, min_size=1, max_size=4))
    closures = [
        RoadClosure(
            f"c{k}",
            Point(andorra.lon[c], andorra.lat[c]),
            radius_m=data.draw(st.floats(20, 400)),
            speed_factor=data.draw(st.sampled_from([0.0, 0.0, 0.25, 0.5])),
        )
        for k, c in enumerate(centres)
    ]
    cut = engine.with_closures(closures)
    sources = data.draw(st.lists(node, min_size=1, max_size=4))
    targets = data.draw(st.lists(node, min_size=1, max_size=10))
    m = cut.matrix(sources, targets)
    secs, metres = _nx_reference(cut.to_networkx(), sources, targets)
    _assert_matches(m, secs, metres)
    assert m.network_hash == cut.network.content_hash != andorra.content_hash
    # removing the closures restores the original matrix exactly
    again = cut.with_closures([]).matrix(sources, targets)
    base = engine.matrix(sources, targets)
    assert np.array_equal(again.seconds, base.seconds)
    assert np.array_equal(again.metres, base.metres)


@pytest.mark.parametrize(("n_src", "n_tgt"), [(90, 120), (120, 90)])
def test_large_queries_shrink_the_graph_exactly(
    andorra: RoadNetwork,
    engine: TravelTimeEngine,
    graph: nx.DiGraph,
    monkeypatch: pytest.MonkeyPatch,
    n_src: int,
    n_tgt: int,
) -> None:
    """≥ 64 search roots: dead ends pruned and chains contracted (forwards, and backwards from
    the targets when they are fewer) — still exactly networkx, and equal to the plain search."""
    import gis.matrix.csgraph as gm

    rng = np.random.default_rng(n_src)
    sources = rng.choice(andorra.n_nodes, n_src, replace=False)
    targets = rng.choice(andorra.n_nodes, n_tgt, replace=False)
    roots = sources if n_src <= n_tgt else targets
    goals = targets if n_src <= n_tgt else sources
    ref = engine.csgraph
    small, _, _ = ref._reduced(ref._csr, ref._lengths, roots, goals)
    assert small.shape[0] < 0.8 * andorra.n_nodes  # Andorra has many dead ends and chains
    m = engine.matrix(sources, targets)
    rows = np.arange(0, n_src, n_src // 10)  # networkx on a sample of rows
    secs, metres = _nx_reference(graph, sources[rows].tolist(), targets.tolist())
    _assert_matches(_rows(m, rows), secs, metres)
    monkeypatch.setattr(gm, "_REDUCE_MIN_ROOTS", 10**9)
    plain = engine.matrix(sources, targets)
    assert np.array_equal(plain.seconds, m.seconds) and np.array_equal(plain.metres, m.metres)


def test_float_mode_fallback_matches_networkx(
    andorra: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without room for exact packed weights the engine minimises float seconds and sums
    metres over the predecessor tree (pointer jumping, or walking back from few targets)."""
    import gis.matrix.csgraph as gm

    monkeypatch.setattr(gm, "_LEX_MAX_BITS", 0)
    eng = TravelTimeEngine(andorra)
    assert eng.exact_units is None
    g = andorra.to_networkx()  # the network's own float weights
    for _, _, d in g.edges(data=True):
        d["weight"] = d["travel_time_s"]
    rng = np.random.default_rng(3)
    for n_src, n_tgt in ((5, 12), (80, 100)):
        sources = rng.choice(andorra.n_nodes, n_src, replace=False)
        targets = rng.choice(andorra.n_nodes, n_tgt, replace=False)
        m = eng.matrix(sources, targets)
        rows = np.arange(0, n_src, max(1, n_src // 8))  # networkx on a sample of rows
        secs, metres = _nx_reference(g, sources[rows].tolist(), targets.tolist())
        _assert_matches(_rows(m, rows), secs, metres)
    monkeypatch.setattr(gm, "_JUMP_MAX_NODES", 0)  # force the walk strategy
    m = eng.matrix(sources[:5], targets[:12])
    secs, metres = _nx_reference(g, sources[:5].tolist(), targets[:12].tolist())
    _assert_matches(m, secs, metres)
    p = eng.path(int(sources[0]), int(targets[0]))
    assert p is not None and p.seconds == m.seconds[0, 0]


def test_exact_units(engine: TravelTimeEngine, andorra: RoadNetwork) -> None:
    tau, lam = engine.exact_units  # type: ignore[misc]
    assert tau <= 1 / 64 and lam <= 1.0  # fine enough for a county network
    m = engine.matrix([0], [andorra.n_nodes - 1])
    g = andorra.to_networkx()  # float weights: quantisation moves results by far under 1 s
    d = nx.single_source_dijkstra_path_length(g, 0, weight="travel_time_s")
    assert abs(m.seconds[0, 0] - d[andorra.n_nodes - 1]) <= 1


def test_monaco_one_way_asymmetry(monaco: RoadNetwork) -> None:
    eng = TravelTimeEngine(monaco)
    one = np.flatnonzero(monaco.edge_oneway & (monaco.edge_length_m > 30))
    u, v = monaco.edge_u[one], monaco.edge_v[one]
    m_uv = eng.matrix(u, v)
    m_vu = eng.matrix(v, u)
    fwd, back = np.diag(m_uv.seconds), np.diag(m_vu.seconds)
    assert (back != fwd).mean() > 0.5  # against the one-way you drive around
    secs, metres = _nx_reference(eng.to_networkx(), u[:15].tolist(), v[:15].tolist())
    _assert_matches(eng.matrix(u[:15], v[:15]), secs, metres)


def test_metres_follow_fastest_not_shortest_path(
    andorra: RoadNetwork, engine: TravelTimeEngine, graph: nx.DiGraph
) -> None:
    rng = np.random.default_rng(7)
    sources = rng.choice(andorra.n_nodes, 5, replace=False).tolist()
    targets = rng.choice(andorra.n_nodes, 40, replace=False).tolist()
    m = engine.matrix(sources, targets)
    shortest = np.array(
        [
            [nx.shortest_path_length(graph, s, t, weight="length_m") for t in targets]
            for s in sources
        ]
    )
    assert (m.metres >= np.floor(shortest) - 1).all()  # lengths counted in 1/8 m
    assert (m.metres > round_units(shortest) + 50).any()  # the fast road is often longer


def test_repeated_sources_and_validation(andorra: RoadNetwork, engine: TravelTimeEngine) -> None:
    m = engine.matrix([3, 10, 3], [5, 3])
    assert np.array_equal(m.seconds[0], m.seconds[2])
    assert m.seconds[0, 1] == 0 and m.metres[0, 1] == 0
    assert np.array_equal(m.source_nodes, [3, 10, 3])
    with pytest.raises(ValidationError, match=r"targets\[1\] = -1"):
        engine.matrix([0], [1, -1])
    with pytest.raises(ValidationError, match=r"sources\[0\]"):
        engine.matrix([andorra.n_nodes], [1])
    with pytest.raises(MatrixCancelled):
        engine.matrix([1, 2], [3], stop=lambda: True)


def test_limit_and_nearest_source(andorra: RoadNetwork, engine: TravelTimeEngine) -> None:
    sources = [10, 500, 1200]
    targets = np.arange(0, andorra.n_nodes, 7)
    full = engine.matrix(sources, targets)
    limited = engine.matrix(sources, targets, limit_s=600)
    within = full.seconds <= 599
    assert np.array_equal(limited.seconds[within], full.seconds[within])
    assert (~limited.reachable[full.seconds > 601]).all()
    secs, pos = engine.nearest_source(sources)
    assert np.array_equal(round_units(secs[targets]).astype(np.int32), full.seconds.min(axis=0))
    best = full.seconds[pos[targets], np.arange(targets.size)]
    assert np.array_equal(best, full.seconds.min(axis=0))


# ---------------------------------------------------------------------------------------------
# closures: the only crossing
# ---------------------------------------------------------------------------------------------


def _ladder() -> RoadNetwork:
    """Two 5×5 street grids ~300 m apart joined by one bridge (a single two-way edge)."""
    n, step = 5, 0.002
    nodes, edges = [], []
    for side, x0 in ((0, 105.80), (1, 105.80 + step * (n + 2))):
        for i in range(n):
            for j in range(n):
                nodes.append((side * 100 + i * n + j, x0 + j * step, 28.80 + i * step))
    pos = {k: (x, y) for k, x, y in nodes}
    for side in (0, 1):
        for i in range(n):
            for j in range(n):
                k = side * 100 + i * n + j
                if j + 1 < n:
                    edges.append((k, k + 1, "residential"))
                if i + 1 < n:
                    edges.append((k, k + n, "tertiary"))
    edges.append((2 * n + n - 1, 100 + 2 * n, "secondary"))  # the bridge
    geoms = [LineString([pos[u], pos[v]]) for u, v, _ in edges]
    ndf = gpd.GeoDataFrame(
        {"node_id": [k for k, _, _ in nodes]},
        geometry=[Point(x, y) for _, x, y in nodes],
        crs="EPSG:4326",
    )
    edf = gpd.GeoDataFrame(
        {
            "u": [u for u, _, _ in edges],
            "v": [v for _, v, _ in edges],
            "highway": [h for *_, h in edges],
            "name": ["合江大桥" if h == "secondary" else "" for *_, h in edges],
            "length_m": gpd.GeoSeries(geoms, crs=4326).to_crs(32648).length.to_numpy(),
            "bridge": [h == "secondary" for *_, h in edges],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return RoadNetwork.from_frames(ndf, edf)


@pytest.fixture(scope="module")
def ladder() -> RoadNetwork:
    return _ladder()


def _closure_on(net: RoadNetwork, edge: int, kind: str, factor: float = 0.0) -> RoadClosure:
    geom = net.edge_geometry[edge]
    mid = geom.interpolate(0.5, normalized=True)
    if kind == "point":
        return RoadClosure("c", mid, radius_m=15.0, speed_factor=factor)
    (x0, y0), (x1, y1) = geom.coords[0], geom.coords[-1]
    dx, dy = (x1 - x0), (y1 - y0)
    norm = (dx * dx + dy * dy) ** 0.5
    ox, oy = -dy / norm * 0.0002, dx / norm * 0.0002  # ~20 m across
    if kind == "line":
        return RoadClosure(
            "c",
            LineString([(mid.x - ox, mid.y - oy), (mid.x + ox, mid.y + oy)]),
            speed_factor=factor,
        )
    return RoadClosure("c", mid.buffer(0.0001), speed_factor=factor)


@HYP
@given(
    kind=st.sampled_from(["point", "line", "polygon"]),
    src=st.lists(st.integers(0, 49), min_size=1, max_size=6),
    tgt=st.lists(st.integers(0, 49), min_size=1, max_size=6),
)
def test_closing_only_crossing_cuts_and_reopening_restores(
    ladder: RoadNetwork, kind: str, src: list[int], tgt: list[int]
) -> None:
    bridge = int(np.flatnonzero(ladder.edge_bridge)[0])
    side = (ladder.node_id >= 100).astype(int)
    eng = TravelTimeEngine(ladder)
    before = eng.matrix(src, tgt)
    assert before.reachable.all()
    closure = _closure_on(ladder, bridge, kind)
    assert ladder.closed_edges([closure])["c"].tolist() == [bridge]
    cut = eng.with_closures([closure]).matrix(src, tgt)
    cross = side[np.asarray(src)][:, None] != side[np.asarray(tgt)][None, :]
    assert np.array_equal(cut.reachable, ~cross)
    assert (cut.seconds[cross] == UNREACHABLE).all()
    assert set(cut.unreachable_pairs()) == {tuple(map(int, p)) for p in np.argwhere(cross)}
    assert np.array_equal(cut.seconds[~cross], before.seconds[~cross])
    restored = eng.with_closures([closure]).with_closures([]).matrix(src, tgt)
    assert np.array_equal(restored.seconds, before.seconds)
    assert np.array_equal(restored.metres, before.metres)
    # a slow-down doubles the bridge's time: crossing pairs lose exactly that much (or less)
    slow = eng.with_closures([_closure_on(ladder, bridge, kind, 0.5)]).matrix(src, tgt)
    bridge_s = float(ladder.travel_time_s[ladder.edge_row == bridge][0])
    assert np.all(slow.seconds[cross] - before.seconds[cross] <= round_units(bridge_s) + 1)
    assert np.all(slow.seconds[cross] - before.seconds[cross] >= round_units(bridge_s) - 1)


def test_closing_a_real_bridge_on_andorra(andorra: RoadNetwork, engine: TravelTimeEngine) -> None:
    """Find an edge whose removal cuts off a side valley (networkx.bridges), close it."""
    und = nx.Graph()
    und.add_edges_from(zip(andorra.edge_u.tolist(), andorra.edge_v.tolist(), strict=True))
    best = None
    for a, b in nx.bridges(und):
        h = und.copy()
        h.remove_edge(a, b)
        small = min(nx.connected_components(h), key=len)
        if len(small) >= 15 and (best is None or len(small) < len(best[1])):
            best = ((a, b), small)
        if best is not None and len(best[1]) < 60:
            break
    assert best is not None, "Andorra has side valleys reached by a single road"
    (a, b), small = best
    rows = np.flatnonzero(
        ((andorra.edge_u == a) & (andorra.edge_v == b))
        | ((andorra.edge_u == b) & (andorra.edge_v == a))
    )
    closure = _closure_on(andorra, int(rows[0]), "line")
    inside = np.array(sorted(small))
    outside = np.setdiff1d(np.arange(andorra.n_nodes), inside)[::50]
    before = engine.matrix(outside, inside)
    cut = engine.with_closures([closure])
    m = cut.matrix(outside, inside)
    assert before.reachable.all()
    assert not m.reachable.any() and (m.seconds == UNREACHABLE).all()
    assert len(m.unreachable_pairs()) == outside.size * inside.size
    assert cut.path(int(outside[0]), int(inside[0])) is None
    again = cut.with_closures([]).matrix(outside, inside)
    assert np.array_equal(again.seconds, before.seconds)
    assert np.array_equal(again.metres, before.metres)


# ---------------------------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------------------------


@HYP
@given(data=st.data())
def test_path_geometry_and_turn_list(
    andorra: RoadNetwork, engine: TravelTimeEngine, data: st.DataObject
) -> None:
    s = data.draw(st.integers(0, andorra.n_nodes - 1))
    t = data.draw(st.integers(0, andorra.n_nodes - 1))
    p = engine.path(s, t)
    m = engine.matrix([s], [t])
    assert p is not None
    assert p.nodes[0] == s and p.nodes[-1] == t
    assert p.seconds == m.seconds[0, 0]
    assert abs(p.metres - m.metres[0, 0]) <= 1  # float summation order only
    coords = np.asarray(p.geometry.coords)
    assert np.allclose(coords[0], [andorra.lon[s], andorra.lat[s]])
    assert np.allclose(coords[-1], [andorra.lon[t], andorra.lat[t]])
    if s != t:
        assert GEOD.geometry_length(p.geometry) == pytest.approx(p.metres, rel=5e-3, abs=1)
        # each arc joins consecutive path nodes
        assert all(
            andorra.arc_u[a] == u and andorra.arc_v[a] == v
            for a, u, v in zip(p.arcs, p.nodes[:-1], p.nodes[1:], strict=True)
        )
    assert sum(st_.distance_m for st_ in p.steps) == pytest.approx(p.metres, abs=1)
    assert sum(st_.seconds for st_ in p.steps) == pytest.approx(p.seconds, abs=1)
    labels = [st_.road for st_ in p.steps]
    assert all(a != b for a, b in zip(labels[:-1], labels[1:]))
    for step in p.steps:
        assert step.road and (
            step.road in set(andorra.edge_name) | set(andorra.edge_ref)
            or step.road in set(ROAD_CLASS_ZH.values())
        )


def test_path_turn_list_names_roads(ladder: RoadNetwork) -> None:
    eng = TravelTimeEngine(ladder)
    s = int(np.flatnonzero(ladder.node_id == 0)[0])
    t = int(np.flatnonzero(ladder.node_id == 124)[0])
    p = eng.path(s, t)
    assert p is not None
    roads = [step.road for step in p.steps]
    assert "合江大桥" in roads  # the only crossing, named
    assert set(roads) - {"合江大桥"} <= {"村道", "乡道"}  # unnamed: Chinese class labels
    same = eng.path(s, s)
    assert same is not None and same.seconds == 0 and same.steps == () and same.arcs == ()


def test_matrix_lonlat_adds_offroad_leg(andorra: RoadNetwork, engine: TravelTimeEngine) -> None:
    i, j = int(np.argmin(andorra.lat)), 900
    lon = np.array([andorra.lon[i], andorra.lon[j]])
    lat = np.array([andorra.lat[i] - 0.0018, andorra.lat[j]])  # first point ~200 m south
    m = engine.matrix_lonlat(lon, lat, lon, lat)
    node_only = engine.matrix_lonlat(lon, lat, lon, lat, offroad_kmh=None)
    base = engine.matrix(m.source_nodes, m.target_nodes)
    assert np.array_equal(node_only.seconds, base.seconds)
    d = m.source_snap.distance_m
    assert 100 < d[0] < 201 and d[1] == pytest.approx(0, abs=1e-6)
    expect_s = base.seconds + (d[:, None] + d[None, :]) / (5 / 3.6)
    np.fill_diagonal(expect_s, 0)  # a point to itself costs nothing (issue 12)
    assert np.allclose(m.seconds, expect_s, atol=1)
    expect_m = base.metres + d[:, None] + d[None, :]
    np.fill_diagonal(expect_m, 0)
    assert np.allclose(m.metres, expect_m, atol=1)
    assert not m.source_snap.flagged.any()
    with pytest.raises(ValidationError, match="point 0"):
        engine.matrix_lonlat([float("nan")], [42.5], lon, lat)


def test_engine_geometry_is_consistent(andorra: RoadNetwork, engine: TravelTimeEngine) -> None:
    p = engine.path(0, andorra.n_nodes - 1)
    assert p is not None and shapely.is_valid(p.geometry)
    assert len(p.steps) >= 2


@HYP
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 10**6),
    density=st.floats(0.5, 2.5),
    n_protect=st.integers(1, 8),
)
def test_graph_reduction_keeps_protected_distances(
    n: int, seed: int, density: float, n_protect: int
) -> None:
    """Random sparse digraphs (chains, dead ends, one-ways, cycles): pruning and contracting
    never change a shortest distance between protected nodes."""
    from scipy.sparse import csr_matrix as csr
    from scipy.sparse.csgraph import dijkstra

    from gis.matrix.csgraph import _best_per_pair, _reduce_graph

    rng = np.random.default_rng(seed)
    m = max(1, int(n * density))
    a = rng.integers(0, n, m)
    b = np.where(rng.random(m) < 0.7, (a + 1) % n, rng.integers(0, n, m))  # chain-like
    two_way = rng.random(m) < 0.6
    u = np.concatenate([a, b[two_way]]).astype(np.int64)
    v = np.concatenate([b, a[two_way]]).astype(np.int64)
    keep = u != v
    u, v = u[keep], v[keep]
    w = rng.integers(1, 50, u.size).astype(float)  # integer weights: sums are exact
    ln = rng.integers(1, 500, u.size).astype(float)
    arcs, u, v, w, _ = _best_per_pair(n, np.arange(u.size), u, v, w)
    ln = ln[arcs]
    protect = np.zeros(n, bool)
    protect[rng.choice(n, min(n_protect, n), replace=False)] = True
    kept, u2, v2, w2, _ = _reduce_graph(n, u, v, w, ln, protect)
    assert set(np.flatnonzero(protect)) <= set(kept.tolist())
    full = dijkstra(csr((w, (u, v)), shape=(n, n)), indices=np.flatnonzero(protect))
    k = kept.size
    small = dijkstra(
        csr((w2, (u2, v2)), shape=(k, k)), indices=np.searchsorted(kept, np.flatnonzero(protect))
    )
    cols = np.searchsorted(kept, np.flatnonzero(protect))
    assert np.array_equal(full[:, protect], small[:, cols])
