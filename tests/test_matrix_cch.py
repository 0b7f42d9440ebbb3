"""The contraction-hierarchy backend (gis/matrix/cch.py, chains.py) against the csgraph engine
as the oracle: exact seconds, identical or equally fast valid paths, after closures, reopening
and slow-downs; the fallback when routingkit-cch is missing or panics; cancel during the
preprocessing; the off-road fixes of matrix_lonlat (zero diagonal, triangle inequality)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from gis.errors import ValidationError
from gis.matrix import UNREACHABLE, MatrixCancelled, TravelTimeEngine
from gis.matrix import cch as cch_mod
from gis.matrix.chains import INF, contract_chains
from gis.model import RoadClosure
from gis.roads import RoadNetwork, file_fingerprint, load_network_cached, load_osm

pytest.importorskip("routingkit_cch", reason="routingkit-cch wheel not installed here")

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "hejiang_demo.gpkg"
HYP = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node orders go to a per-session folder (not the user's cache)."""
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def andorra(andorra_pbf: Path) -> RoadNetwork:
    return load_network_cached(file_fingerprint(andorra_pbf), lambda: load_osm(andorra_pbf))


@pytest.fixture(scope="module")
def demo() -> RoadNetwork:
    if not DEMO.exists():
        pytest.skip(f"{DEMO} absent")
    return RoadNetwork.from_frames(
        gpd.read_file(DEMO, layer="road_nodes"), gpd.read_file(DEMO, layer="road_edges")
    )


@pytest.fixture(params=["andorra", "demo"])
def net(request: pytest.FixtureRequest) -> RoadNetwork:
    return request.getfixturevalue(request.param)


def _pair(network: RoadNetwork, closures: list[RoadClosure] = ()) -> tuple:  # type: ignore[assignment]
    fast = TravelTimeEngine(network, closures, backend="cch")
    ref = TravelTimeEngine(network, closures, backend="csgraph")
    return fast, ref


def _assert_same_seconds(fast: TravelTimeEngine, ref: TravelTimeEngine, s, t) -> None:
    m = fast.matrix(s, t, metres=False)
    r = ref.matrix(s, t)
    assert m.backend == "cch" and r.backend == "csgraph"
    assert np.array_equal(m.reachable, r.reachable)
    assert np.array_equal(m.seconds, r.seconds)
    assert (m.metres[m.reachable] == -1).all() and (m.metres[~m.reachable] == UNREACHABLE).all()


def _assert_same_path(fast: TravelTimeEngine, ref: TravelTimeEngine, s: int, t: int) -> None:
    p, q = fast.path(s, t), ref.path(s, t)
    if q is None:
        assert p is None
        return
    assert p is not None
    assert p.seconds == q.seconds
    if p.nodes != q.nodes:  # equally fast (a tie): must still be a valid path of that cost
        net = fast.network
        assert p.nodes[0] == s and p.nodes[-1] == t
        assert all(
            net.arc_u[a] == u and net.arc_v[a] == v
            for a, u, v in zip(p.arcs, p.nodes[:-1], p.nodes[1:], strict=True)
        )
        assert np.isfinite(np.asarray(net.travel_time_s)[list(p.arcs)]).all()
    else:
        assert p.arcs == q.arcs and p.metres == q.metres and p.steps == q.steps
        assert p.geometry.equals(q.geometry)


def test_cch_equals_csgraph(net: RoadNetwork) -> None:
    fast, ref = _pair(net)
    rng = np.random.default_rng(5)
    s = rng.choice(net.n_nodes, 150)
    t = rng.choice(net.n_nodes, 90)  # fewer targets: the sweeps run backwards
    _assert_same_seconds(fast, ref, s, t)
    _assert_same_seconds(fast, ref, t, s)
    same = 0
    for k in range(40):
        _assert_same_path(fast, ref, int(s[k]), int(t[k]))
        same += fast.path(int(s[k]), int(t[k])).nodes == ref.path(int(s[k]), int(t[k])).nodes
    assert same >= 36  # ties are rare: nearly always the very same path
    assert fast.path(int(s[0]), int(s[0])).seconds == 0


def test_query_nodes_inside_chains(demo: RoadNetwork) -> None:
    """Sources and targets on the same chain, at its ends, and on loop chains."""
    fast, ref = _pair(demo)
    ch = fast.prepare().index.chains
    assert ch.n_core < 0.8 * demo.n_nodes  # the demo county has many two-link nodes
    inner = np.flatnonzero(ch.chain_of >= 0)
    on_long = inner[np.isin(ch.chain_of[inner], np.flatnonzero(np.diff(ch.seq_ptr) >= 5))]
    ends = np.unique(np.concatenate([ch.seq[ch.seq_ptr[:-1]], ch.seq[ch.seq_ptr[1:] - 1]]))
    loops = np.flatnonzero(ch.seq[ch.seq_ptr[:-1]] == ch.seq[ch.seq_ptr[1:] - 1])
    pick = np.concatenate([on_long[:60], ends[:20], ch.seq[ch.seq_ptr[loops[:5]] + 1]])
    _assert_same_seconds(fast, ref, pick, pick)
    for a, b in zip(pick[:30], pick[1:31], strict=True):
        _assert_same_path(fast, ref, int(a), int(b))


def _closures(network: RoadNetwork, rng: np.random.Generator, k: int) -> list[RoadClosure]:
    picks = rng.choice(network.n_nodes, k, replace=False)
    out = []
    for i, c in enumerate(picks):
        lon, lat = float(network.lon[c]), float(network.lat[c])
        kind = i % 3
        factor = float(rng.choice([0.0, 0.0, 0.3, 0.5]))
        if kind == 0:
            out.append(RoadClosure(f"c{i}", Point(lon, lat), radius_m=150, speed_factor=factor))
        elif kind == 1:
            line = LineString([(lon - 0.002, lat - 0.001), (lon + 0.002, lat + 0.001)])
            out.append(RoadClosure(f"c{i}", line, speed_factor=factor))
        else:
            out.append(RoadClosure(f"c{i}", Point(lon, lat).buffer(0.003), speed_factor=factor))
    return out


@HYP
@given(seed=st.integers(0, 10**6), k=st.integers(1, 6))
def test_closures_reopening_and_slowdowns(net: RoadNetwork, seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    base = TravelTimeEngine(net, backend="cch")
    base.prepare()
    closures = _closures(net, rng, k)
    fast = base.with_closures(closures)
    ref = TravelTimeEngine(net, closures, backend="csgraph")
    assert fast.prepare().index is base.prepare().index  # re-customized, not re-preprocessed
    s = rng.choice(net.n_nodes, 40)
    t = rng.choice(net.n_nodes, 50)
    _assert_same_seconds(fast, ref, s, t)
    for a, b in zip(s[:6], t[:6], strict=True):
        _assert_same_path(fast, ref, int(a), int(b))
    again = fast.with_closures([])
    _assert_same_seconds(again, TravelTimeEngine(net, backend="csgraph"), s, t)


def test_closing_the_only_bridge_cuts(ladder_net: RoadNetwork) -> None:
    bridge = int(np.flatnonzero(ladder_net.edge_bridge)[0])
    mid = ladder_net.edge_geometry[bridge].interpolate(0.5, normalized=True)
    closure = RoadClosure("b", mid, radius_m=15)
    fast = TravelTimeEngine(ladder_net, backend="cch").with_closures([closure])
    side = (ladder_net.node_id >= 100).astype(int)
    nodes = np.arange(ladder_net.n_nodes)
    m = fast.matrix(nodes, nodes, metres=False)
    assert m.backend == "cch"
    assert np.array_equal(m.reachable, side[:, None] == side[None, :])
    assert (m.seconds[~m.reachable] == UNREACHABLE).all()
    assert fast.path(0, int(np.flatnonzero(side)[0])) is None


@pytest.fixture(scope="module")
def ladder_net() -> RoadNetwork:
    from tests.test_matrix import _ladder

    return _ladder()


# ---------------------------------------------------------------------------------------------
# chains
# ---------------------------------------------------------------------------------------------


@HYP
@given(n=st.integers(3, 40), seed=st.integers(0, 10**6), density=st.floats(0.6, 2.0))
def test_chain_contraction_keeps_every_distance(n: int, seed: int, density: float) -> None:
    """Random sparse digraphs (chains, rings, loops, one-ways): anchors + core + along-chain
    times give exactly the all-pairs shortest times."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(seed)
    m = max(1, int(n * density))
    a = rng.integers(0, n, m)
    b = np.where(rng.random(m) < 0.7, (a + 1) % n, rng.integers(0, n, m))
    two_way = rng.random(m) < 0.7
    u = np.concatenate([a, b[two_way]])
    v = np.concatenate([b, a[two_way]])
    ok = u != v
    u, v = u[ok], v[ok]
    ch = contract_chains(n, u, v)
    w = rng.integers(1, 50, ch.pair_u.size).astype(np.int64)
    closed = rng.random(w.size) < 0.1
    pair_t = np.where(closed, INF, w)
    open_ = ~closed
    full = dijkstra(
        csr_matrix((w[open_], (ch.pair_u[open_], ch.pair_v[open_])), shape=(n, n)),
        directed=True,
    )
    cw = ch.core_weights(pair_t)
    k = ch.n_core
    dense = np.full((k, k), np.inf)  # parallel core arcs (a chain beside a road): keep the min
    keep = cw < INF
    np.minimum.at(dense, (ch.arc_tail[keep], ch.arc_head[keep]), cw[keep].astype(float))
    core = dijkstra(np.where(np.isfinite(dense), dense, 0), directed=True)
    nodes = np.arange(n)
    sa, so = ch.anchors(nodes, pair_t, outgoing=True)
    ta, to = ch.anchors(nodes, pair_t, outgoing=False)
    f = lambda x: np.where(x >= INF, np.inf, x).astype(float)  # noqa: E731
    got = np.full((n, n), np.inf)
    for x in (0, 1):
        for y in (0, 1):
            got = np.minimum(
                got, f(so)[:, x, None] + core[sa[:, x]][:, ta[:, y]] + f(to)[None, :, y]
            )
    got = np.minimum(got, f(ch.along(nodes, nodes, pair_t)))
    np.fill_diagonal(got, 0)
    assert np.array_equal(got, full)
    # every node is core or on exactly one chain; chains run core → … → core
    assert ((ch.core_index >= 0) ^ (ch.chain_of >= 0)).all()
    assert (ch.core_index[ch.seq[ch.seq_ptr[:-1]]] >= 0).all()
    assert (ch.core_index[ch.seq[ch.seq_ptr[1:] - 1]] >= 0).all()


# ---------------------------------------------------------------------------------------------
def _assert_same_metres(fast: TravelTimeEngine, ref: TravelTimeEngine, s, t) -> int:
    """Seconds equal; metres equal wherever the time-shortest path is unique. Where they
    differ the pair must be a tie: equally fast, csgraph's path the shortest of the tied ones
    (its rule), and the hierarchy's metres those of a valid path of that time. Returns the
    number of tied pairs."""
    m = fast.matrix(s, t)
    r = ref.matrix(s, t)
    assert m.backend == "cch" and r.backend == "csgraph"
    assert np.array_equal(m.reachable, r.reachable)
    assert np.array_equal(m.seconds, r.seconds)
    assert (m.metres[~m.reachable] == UNREACHABLE).all()
    diff = np.argwhere(m.metres != r.metres)
    for i, j in diff:
        assert m.metres[i, j] > r.metres[i, j]  # csgraph: the shortest of the equally fast
        p = fast.path(int(s[i]), int(t[j]))  # the hierarchy's own path: same time
        assert p is not None and p.seconds == r.seconds[i, j]
    return len(diff)


def test_metres_through_the_hierarchy_equal_csgraph(net: RoadNetwork) -> None:
    """Metres along the time-shortest path, from path unpacking (what dispatch asks for)."""
    fast, ref = _pair(net)
    ch = fast.prepare().index.chains
    rng = np.random.default_rng(11)
    inner = np.flatnonzero(ch.chain_of >= 0)
    s = np.concatenate([rng.choice(net.n_nodes, 60), inner[:10], ch.core[:5]])
    t = np.concatenate([rng.choice(net.n_nodes, 45), inner[5:15], s[:3]])
    ties = _assert_same_metres(fast, ref, s, t) + _assert_same_metres(fast, ref, t, s)
    assert ties <= 0.01 * 2 * s.size * t.size  # ties are rare on real roads
    closures = _closures(net, rng, 4)
    _assert_same_metres(fast.with_closures(closures), _pair(net, closures)[1], s, t)


def test_auto_takes_the_hierarchy_for_metres_only_where_it_pays(
    demo: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gis.matrix import engine as engine_mod

    eng = TravelTimeEngine(demo)
    eng.prepare()
    s = np.arange(0, 2000, 20)  # 100 × 100 on the demo county: csgraph is faster
    assert eng.matrix(s, s + 1).backend == "csgraph"
    assert eng.matrix(s, s + 1, metres=False).backend == "cch"
    assert eng.matrix(s[:100], s[:100] + 1, limit_s=900).backend == "csgraph"
    assert engine_mod.metres_pay_on_cch(1_000_000, 100, 100 * 100)  # a province: CCH
    assert not engine_mod.metres_pay_on_cch(5_939, 100, 100 * 100)
    monkeypatch.setattr(engine_mod, "CSGRAPH_NODE_S", 1.0)  # as if Dijkstra were slow
    m = eng.matrix(s, s + 1)
    r = TravelTimeEngine(demo, backend="csgraph").matrix(s, s + 1)
    assert m.backend == "cch"
    assert np.array_equal(m.seconds, r.seconds) and np.array_equal(m.metres, r.metres)


# selection, fallback, cancel, cache
# ---------------------------------------------------------------------------------------------


def test_auto_selection(
    demo: RoadNetwork, andorra: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gis.matrix.engine import CCH_MIN_ROOTS

    monkeypatch.setattr(cch_mod, "_INDEXES", type(cch_mod._INDEXES)())
    big = TravelTimeEngine(demo)  # 5,939 nodes ≥ CCH_MIN_NODES
    assert big.backend_for() == "cch"
    assert big.backend_for(metres=True) == "csgraph"  # unknown size: csgraph below 50k nodes
    assert big.backend_for(metres=True, roots=100, pairs=100 * 100) == "csgraph"
    assert big.backend_for(limit_s=600) == "csgraph"
    # no order on disk yet: a two-search query does not pay for one, a larger one does
    monkeypatch.setattr(cch_mod, "order_cached", lambda network: False)
    assert big.matrix([1, 2], [3, 4], metres=False).backend == "csgraph"
    many = np.arange(CCH_MIN_ROOTS)
    assert big.matrix(many, many + 100, metres=False).backend == "cch"
    assert big.matrix([1, 2], [3, 4], metres=False).backend == "cch"  # prepared now
    small = TravelTimeEngine(andorra)  # 1,508 nodes: not worth a hierarchy ...
    assert small.backend_for() == "csgraph"
    assert TravelTimeEngine(andorra, backend="cch").backend_for() == "cch"  # ... unless asked
    assert TravelTimeEngine(demo, backend="csgraph").backend_for() == "csgraph"
    with pytest.raises(ValidationError, match="backend must be one of"):
        TravelTimeEngine(demo, backend="fast")


def test_fallback_when_routingkit_is_missing(
    demo: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_rk(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "routingkit_cch":
            raise ImportError("No module named 'routingkit_cch' (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rk)
    monkeypatch.delitem(__import__("sys").modules, "routingkit_cch", raising=False)
    assert not cch_mod.available()
    eng = TravelTimeEngine(demo, backend="cch")
    m = eng.matrix([1, 2, 3], [4, 5], metres=False)
    assert m.backend == "csgraph"
    ref = TravelTimeEngine(demo, backend="csgraph").matrix([1, 2, 3], [4, 5])
    assert np.array_equal(m.seconds, ref.seconds)
    assert eng.path(1, 4) is not None


def test_panic_becomes_error_and_falls_back(
    andorra: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """routingkit misuse raises pyo3's PanicException (a BaseException): converted, then the
    engine answers with csgraph."""
    import routingkit_cch as rk

    with pytest.raises(cch_mod.CCHError, match="routingkit-cch failed"), cch_mod._guard("CCH"):
        rk.CCH([0, 0], [0], [1], False)  # not a permutation: Rust panics
    eng = TravelTimeEngine(andorra, backend="cch")
    view = eng.prepare()

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        with cch_mod._guard("one-to-many query"):
            rk.CCHOneToMany(view.metric, [10**9])  # target out of range: panics

    monkeypatch.setattr(cch_mod.CCHMetricView, "unit_matrix", boom)
    m = eng.matrix([1, 2], [3], metres=False)
    assert m.backend == "csgraph" and "routingkit-cch failed" in eng.fallback_note


@pytest.mark.parametrize("in_child", [False, True])
def test_cancel_during_preprocessing(
    demo: RoadNetwork, monkeypatch: pytest.MonkeyPatch, in_child: bool
) -> None:
    """Stop while the node order is computed: in-process for a small core, else in a child
    process (the ordering holds the GIL), which is terminated at once."""
    import multiprocessing
    import time

    monkeypatch.setattr(cch_mod, "_INDEXES", type(cch_mod._INDEXES)())
    monkeypatch.setattr(cch_mod, "_load_order", lambda path, n: None)  # force the ordering
    monkeypatch.setattr(cch_mod, "_ORDER_CHILD_MIN_CORE", 0 if in_child else 10**9)
    seen: list[str] = []
    calls = {"n": 0}

    def stop() -> bool:  # let the chain contraction pass, stop while ordering
        calls["n"] += 1
        return calls["n"] > 2

    eng = TravelTimeEngine(demo, backend="cch")
    t0 = time.perf_counter()
    with pytest.raises(MatrixCancelled):
        eng.prepare(stop=stop, progress=lambda f, msg: seen.append(msg))
    assert time.perf_counter() - t0 < 5
    assert any(s.startswith("道路网络预处理…节点排序") for s in seen)
    assert not [p for p in multiprocessing.active_children() if p.name == "cch-order"]
    assert demo.base_hash not in cch_mod._INDEXES  # nothing half-built is kept
    assert eng.prepare().index.chains.n_core > 0  # a later call builds it


def test_order_in_child_process_equals_in_process(
    andorra: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cch_mod, "_load_order", lambda path, n: None)
    here = cch_mod.CCHIndex(andorra)
    monkeypatch.setattr(cch_mod, "_ORDER_CHILD_MIN_CORE", 0)
    child = cch_mod.CCHIndex(andorra)
    assert np.array_equal(here.order, child.order)


def test_order_is_cached_on_disk(andorra: RoadNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cch_mod, "_INDEXES", type(cch_mod._INDEXES)())
    first = cch_mod.CCHIndex(andorra)
    path = cch_mod._order_path(andorra)
    assert path.exists() and path.parent.parent == cch_mod.cache_dir()
    again = cch_mod.CCHIndex(andorra)
    assert again.order_from_cache and np.array_equal(first.order, again.order)
    path.write_bytes(b"damaged")
    assert not cch_mod.CCHIndex(andorra).order_from_cache  # recomputed


# ---------------------------------------------------------------------------------------------
# off-road legs: a point to itself, triangle inequality
# ---------------------------------------------------------------------------------------------


def test_offroad_diagonal_zero_and_triangle_inequality(andorra: RoadNetwork) -> None:
    """Points up to ~4 km off the road (the issue's Andorra case): the diagonal was twice the
    walk to the road; now 0, and every i → j → k is no faster than i → k."""
    rng = np.random.default_rng(12)
    picks = rng.choice(andorra.n_nodes, 40, replace=False)
    lon = andorra.lon[picks] + rng.uniform(-0.04, 0.04, picks.size)
    lat = andorra.lat[picks] + rng.uniform(-0.03, 0.03, picks.size)
    for backend in ("cch", "csgraph"):
        eng = TravelTimeEngine(andorra, backend=backend)
        m = eng.matrix_lonlat(lon, lat, lon, lat, metres=backend == "csgraph")
        assert m.source_snap.distance_m.max() > 1500  # some are far off the road
        assert (np.diag(m.seconds) == 0).all()
        sec = m.seconds.astype(np.int64)
        assert m.reachable.all()
        via = sec[:, :, None] + sec[None, :, :]  # i → j → k
        assert (sec[:, None, :] <= via).all()
        if backend == "csgraph":
            assert (np.diag(m.metres) == 0).all()
    fast = TravelTimeEngine(andorra, backend="cch").matrix_lonlat(lon, lat, lon, lat, metres=False)
    ref = TravelTimeEngine(andorra, backend="csgraph").matrix_lonlat(lon, lat, lon, lat)
    assert np.array_equal(fast.seconds, ref.seconds)


def test_matrix_cli_prints_zero_diagonal_and_triangle(tmp_path: Path, andorra_pbf: Path) -> None:
    """``app.py matrix`` with the same points as sources and targets (the issue's report)."""
    import csv

    from gis.loading import import_osm, matrix_csv

    ws = tmp_path / "andorra.gpkg"
    import_osm(andorra_pbf, ws)
    pts = tmp_path / "pts.csv"
    rng = np.random.default_rng(3)
    net = load_network_cached(file_fingerprint(andorra_pbf), lambda: load_osm(andorra_pbf))
    picks = rng.choice(net.n_nodes, 12, replace=False)
    rows = [("id", "lon", "lat")] + [
        (f"p{i}", f"{net.lon[c] + 0.03:.6f}", f"{net.lat[c]:.6f}") for i, c in enumerate(picks)
    ]
    pts.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    out = tmp_path / "m.csv"
    matrix_csv(ws, out, sources_csv=pts, targets_csv=pts)
    body = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))[1:]
    sec = np.array([[int(c) if c else -1 for c in r[1:]] for r in body])
    ok = sec >= 0
    assert (np.diag(sec)[np.diag(ok)] == 0).all()
    s = np.where(ok, sec, 10**9)
    assert (s[:, None, :] <= s[:, :, None] + s[None, :, :]).all()


def test_long_chain_and_isolated_ring() -> None:
    """A 5,000-node road and a 1,000-node ring with no junction: walked without a
    chains × length table, the ring gets one core node, distances stay exact."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    a = np.arange(4999)
    ring = 5000 + np.arange(1000)
    u = np.concatenate([a, a + 1, ring, np.roll(ring, -1)])
    v = np.concatenate([a + 1, a, np.roll(ring, -1), ring])  # the ring is one-way back
    n = 6000
    ch = contract_chains(n, u, v)
    assert ch.n_core == 3 and ch.n_chains == 2
    w = np.arange(ch.pair_u.size) % 7 + 1
    full = dijkstra(csr_matrix((w, (ch.pair_u, ch.pair_v)), shape=(n, n)), indices=[7, 5100])
    nodes = np.array([7, 4000, 4999, 5100, 5999, 5000])
    sa, so = ch.anchors(nodes, w, outgoing=True)
    ta, to = ch.anchors(nodes, w, outgoing=False)
    cw = ch.core_weights(w)
    dense = np.full((3, 3), np.inf)
    np.minimum.at(dense, (ch.arc_tail, ch.arc_head), cw.astype(float))
    core = dijkstra(np.where(np.isfinite(dense), dense, 0), directed=True)
    got = np.full((nodes.size, nodes.size), np.inf)
    for x in (0, 1):
        for y in (0, 1):
            got = np.minimum(got, so[:, x, None] + core[sa[:, x]][:, ta[:, y]] + to[None, :, y])
    got = np.minimum(
        got, np.where(ch.along(nodes, nodes, w) >= INF, np.inf, ch.along(nodes, nodes, w))
    )
    np.fill_diagonal(got, 0)
    assert np.array_equal(got[0], full[0, nodes]) and np.array_equal(got[3], full[1, nodes])


def test_dispatch_matrices_through_the_hierarchy(
    demo_scenario: Any, demo_network: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatch pipeline's own matrix (seconds + metres between every place) is the same
    when the hierarchy answers it (as on a province) as from csgraph."""
    from dispatch.travel import snap_places
    from gis.matrix import engine as engine_mod

    ids = list(snap_places(demo_scenario, demo_network).places)
    ref = snap_places(demo_scenario, demo_network)
    ref.engine = TravelTimeEngine(demo_network, demo_scenario.closures, backend="csgraph")
    monkeypatch.setattr(engine_mod, "CSGRAPH_NODE_S", 1.0)  # as if Dijkstra were slow
    geo = snap_places(demo_scenario, demo_network)
    assert geo.engine.backend_for(metres=True, roots=len(ids), pairs=len(ids) ** 2) == "cch"
    sec, met, reach = geo.matrix(ids, ids)
    sec0, met0, reach0 = ref.matrix(ids, ids)
    assert geo.engine._cch is not None and ref.engine._cch is None  # built and used
    assert len(ids) > 20 and reach.sum() > 0.5 * reach.size
    assert np.array_equal(reach, reach0) and np.array_equal(sec, sec0)
    assert np.array_equal(met, met0)
