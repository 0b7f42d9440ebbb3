"""Tests of gis.roads on real OpenStreetMap extracts (Andorra, Monaco) and small synthetic
networks: every input format, the drivable filter, speeds, components, one-ways, snapping,
closures, frames and cache round trips, offline download."""

from __future__ import annotations

import bz2
import gzip
import inspect
import math
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point

from gis import roads
from gis.errors import NetworkUnavailableError, RoadNetworkError, ValidationError
from gis.model import ROAD_EDGE_COLUMNS, RoadClosure
from gis.roads import (
    DEFAULT_SPEEDS_KMH,
    ROAD_CLASS_ZH,
    RoadNetwork,
    RoadOptions,
    load_cache,
    load_network_cached,
    load_osm,
    parse_maxspeed,
    save_cache,
)

NON_DRIVABLE = {"footway", "path", "cycleway", "steps", "pedestrian", "bridleway", "construction"}
HYP = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def andorra(andorra_pbf: Path) -> RoadNetwork:
    return load_osm(andorra_pbf)


@pytest.fixture(scope="module")
def monaco(monaco_xml: Path) -> RoadNetwork:
    return load_osm(monaco_xml)


def _strongly_connected(net: RoadNetwork) -> int:
    open_ = net.arc_open
    g = coo_matrix(
        (np.ones(int(open_.sum())), (net.arc_u[open_], net.arc_v[open_])),
        shape=(net.n_nodes, net.n_nodes),
    )
    n, _ = connected_components(g, directed=True, connection="strong")
    return int(n)


def _file_highway_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        hw = w.tags.get("highway")
        counts[hw] = counts.get(hw, 0) + 1
    return counts


def _ladder(n: int = 6, spacing_deg: float = 0.002) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two n×n grids of two-way streets joined by a single two-way 'bridge' edge."""
    nodes, edges = [], []

    def nid(side: int, i: int, j: int) -> int:
        return side * 1000 + i * n + j

    for side, x0 in ((0, 105.80), (1, 105.80 + spacing_deg * (n + 3))):
        for i in range(n):
            for j in range(n):
                nodes.append((nid(side, i, j), x0 + j * spacing_deg, 28.80 + i * spacing_deg))
    pos = {k: (x, y) for k, x, y in nodes}
    for side in (0, 1):
        for i in range(n):
            for j in range(n):
                if j + 1 < n:
                    edges.append((nid(side, i, j), nid(side, i, j + 1), "residential"))
                if i + 1 < n:
                    edges.append((nid(side, i, j), nid(side, i + 1, j), "residential"))
    bridge = (nid(0, n // 2, n - 1), nid(1, n // 2, 0))
    edges.append((*bridge, "secondary"))
    ndf = gpd.GeoDataFrame(
        {"node_id": np.array([k for k, _, _ in nodes], dtype=np.int64)},
        geometry=[Point(x, y) for _, x, y in nodes],
        crs="EPSG:4326",
    )
    geoms = [LineString([pos[u], pos[v]]) for u, v, _ in edges]
    lengths = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs("EPSG:32648").length.to_numpy()
    edf = gpd.GeoDataFrame(
        {
            "u": np.array([u for u, _, _ in edges], dtype=np.int64),
            "v": np.array([v for _, v, _ in edges], dtype=np.int64),
            "oneway": False,
            "highway": [h for _, _, h in edges],
            "name": ["大桥" if h == "secondary" else "" for *_, h in edges],
            "ref": "",
            "maxspeed_kmh": np.nan,
            "length_m": lengths,
            "bridge": [h == "secondary" for *_, h in edges],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return ndf, edf


# ---------------------------------------------------------------------------------------------
# loading every format
# ---------------------------------------------------------------------------------------------


def test_andorra_pbf_loads_one_drivable_scc(andorra: RoadNetwork) -> None:
    assert 1000 < andorra.n_nodes < 3000
    assert andorra.n_arcs > andorra.n_edges
    assert _strongly_connected(andorra) == 1
    assert andorra.crs == "EPSG:32631"  # Andorra lies in UTM zone 31N
    assert (andorra.lat > 42.4).all() and (andorra.lat < 42.7).all()
    # projected coordinates are consistent with lon/lat (metres between two nodes)
    i, j = 0, andorra.n_nodes // 2
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    _, _, d = geod.inv(andorra.lon[i], andorra.lat[i], andorra.lon[j], andorra.lat[j])
    planar = math.hypot(andorra.x[i] - andorra.x[j], andorra.y[i] - andorra.y[j])
    assert planar == pytest.approx(d, rel=2e-3)
    # edge geometry runs from u to v and its length matches length_m
    _, edges = andorra.to_frames()
    first = shapely.get_point(edges.geometry.values, 0)
    assert np.allclose(shapely.get_x(first), andorra.lon[andorra.edge_u])
    assert np.allclose(shapely.get_y(first), andorra.lat[andorra.edge_u])
    geo_len = np.array([geod.geometry_length(g) for g in edges.geometry])
    assert np.allclose(geo_len, edges["length_m"], rtol=5e-3, atol=0.5)  # osmnx: sphere


def test_pbf_of_same_data_gives_identical_network(
    monaco: RoadNetwork, monaco_xml: Path, tmp_path: Path
) -> None:
    """Re-encode Monaco's XML as PBF with pyosmium: both formats give the same network."""
    pbf = tmp_path / "monaco.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for obj in osmium.FileProcessor(str(monaco_xml)):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
            elif obj.is_relation():
                writer.add_relation(obj)
    finally:
        writer.close()
    with gzip.open(monaco_xml) as fh:
        assert b"<osm" in fh.read(200)
    assert b"OSMHeader" in pbf.read_bytes()[:40]  # really another encoding
    assert load_osm(pbf).content_hash == monaco.content_hash


def test_plain_osm_and_bz2_give_identical_networks(
    monaco: RoadNetwork, monaco_xml: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "monaco.osm"
    with gzip.open(monaco_xml, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    packed = tmp_path / "monaco.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes(), compresslevel=1))
    for path in (plain, packed):
        net = load_osm(path)
        assert net.content_hash == monaco.content_hash, path.name
        assert net.source == str(path)


def test_graphml_round_trip(andorra: RoadNetwork, tmp_path: Path) -> None:
    import osmnx as ox

    path = tmp_path / "andorra.graphml"
    ox.save_graphml(andorra.to_osmnx_graph(), path)
    again = load_osm(path)
    assert again.content_hash == andorra.content_hash
    n1, e1 = andorra.to_frames()
    n2, e2 = again.to_frames()
    assert n1.equals(n2) and e1.equals(e2)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RoadNetworkError, match="not found"):
        load_osm(tmp_path / "nope.osm.pbf")
    bad = tmp_path / "roads.shp"
    bad.write_text("x")
    with pytest.raises(RoadNetworkError, match="unknown road file format"):
        load_osm(bad)
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not a pbf file")
    with pytest.raises(RoadNetworkError, match="junk.osm.pbf"):
        load_osm(junk)


# ---------------------------------------------------------------------------------------------
# filter, speeds, components, one-ways
# ---------------------------------------------------------------------------------------------


def test_drivable_filter(andorra: RoadNetwork, andorra_pbf: Path) -> None:
    in_file = _file_highway_counts(andorra_pbf)
    assert in_file.get("footway", 0) > 10 and in_file.get("path", 0) > 10  # there was work to do
    kept = set(andorra.highway.tolist())
    assert kept <= set(DEFAULT_SPEEDS_KMH)
    assert not kept & NON_DRIVABLE
    assert {"primary", "secondary", "residential"} <= kept
    text = " ".join(andorra.report.messages)
    assert "highway=footway" in text and "highway=path" in text


def test_custom_speed_table_limits_classes(monaco: RoadNetwork, monaco_xml: Path) -> None:
    opts = RoadOptions(speeds_kmh={"primary": 60, "secondary": 40, "tertiary": 30})
    main = load_osm(monaco_xml, options=opts)
    assert set(main.highway.tolist()) <= {"primary", "secondary", "tertiary"}
    assert "residential" in set(monaco.highway.tolist())
    assert 10 < main.n_nodes < monaco.n_nodes


def test_maxspeed_wins_over_class_speed(andorra: RoadNetwork) -> None:
    tagged = np.isfinite(andorra.edge_maxspeed_kmh)
    assert tagged.sum() > 50
    rows = andorra.edge_row
    expected = np.where(
        tagged[rows],
        andorra.length_m / (andorra.edge_maxspeed_kmh[rows] / 3.6),
        andorra.length_m / (np.array([DEFAULT_SPEEDS_KMH[h] for h in andorra.highway]) / 3.6),
    )
    assert np.allclose(andorra.travel_time_s, np.maximum(expected, 1e-3))
    differs = tagged[rows] & ~np.isclose(
        andorra.edge_maxspeed_kmh[rows], [DEFAULT_SPEEDS_KMH[h] for h in andorra.highway]
    )
    assert differs.any()
    # doubling every class speed halves untagged arcs only
    nodes, edges = andorra.to_frames()
    fast = RoadOptions(speeds_kmh={k: 2 * v for k, v in DEFAULT_SPEEDS_KMH.items()})
    fast_net = RoadNetwork.from_frames(nodes, edges, options=fast)
    untagged = ~tagged[rows] & (andorra.travel_time_s > 0.01)
    assert np.allclose(fast_net.travel_time_s[untagged], andorra.travel_time_s[untagged] / 2)
    assert np.allclose(fast_net.travel_time_s[tagged[rows]], andorra.travel_time_s[tagged[rows]])
    assert fast_net.content_hash != andorra.content_hash


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 30 * 1.609344),
        ("80 km/h", 80.0),
        ("50;70", 60.0),
        (["40", "60"], 50.0),
        ("['40', '60']", 50.0),
        ("none", math.nan),
        ("CN:rural", math.nan),
        (None, math.nan),
    ],
)
def test_parse_maxspeed(tag: object, kmh: float) -> None:
    got = parse_maxspeed(tag)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh)


def test_road_classes_have_chinese_labels() -> None:
    assert ROAD_CLASS_ZH["motorway"] == "高速" and ROAD_CLASS_ZH["trunk"] == "国道"
    assert ROAD_CLASS_ZH["primary"] == "省道" and ROAD_CLASS_ZH["secondary"] == "县道"
    assert ROAD_CLASS_ZH["tertiary"] == "乡道" and ROAD_CLASS_ZH["residential"] == "村道"
    assert roads.road_class_zh("footway") == "其他"
    assert DEFAULT_SPEEDS_KMH["motorway"] == 100 and DEFAULT_SPEEDS_KMH["unclassified"] == 20
    for cls, kmh in DEFAULT_SPEEDS_KMH.items():
        if cls.endswith("_link"):
            assert kmh < DEFAULT_SPEEDS_KMH[cls.removesuffix("_link")]


def test_scc_report_and_dangling_one_way(andorra: RoadNetwork) -> None:
    rep = andorra.report
    assert rep.dropped_nodes > 0 and rep.dropped_edges > 0
    assert rep.nodes == andorra.n_nodes and rep.edges == andorra.n_edges
    assert any("strongly connected" in m for m in rep.messages)
    # a one-way spur out of the network cannot be driven back: it is dropped and reported
    nodes, edges = andorra.to_frames()
    anchor = nodes.iloc[0]
    spur = gpd.GeoDataFrame(
        {"node_id": [-1, -2]},
        geometry=[
            Point(anchor.geometry.x + 0.001, anchor.geometry.y),
            Point(anchor.geometry.x + 0.002, anchor.geometry.y),
        ],
        crs="EPSG:4326",
    )
    spur_edges = gpd.GeoDataFrame(
        {
            "u": [int(anchor.node_id), -1],
            "v": [-1, -2],
            "oneway": [True, False],
            "highway": "track",
            "name": "",
            "ref": "",
            "maxspeed_kmh": np.nan,
            "length_m": [82.0, 82.0],
            "bridge": False,
        },
        geometry=[
            LineString([anchor.geometry, spur.geometry[0]]),
            LineString([spur.geometry[0], spur.geometry[1]]),
        ],
        crs="EPSG:4326",
    )
    import pandas as pd

    all_nodes = gpd.GeoDataFrame(pd.concat([nodes, spur], ignore_index=True), crs="EPSG:4326")
    all_edges = gpd.GeoDataFrame(pd.concat([edges, spur_edges], ignore_index=True), crs="EPSG:4326")
    kept = RoadNetwork.from_frames(all_nodes, all_edges)
    assert kept.n_nodes == andorra.n_nodes and kept.report.dropped_nodes == 2
    assert kept.report.dropped_edges == 2
    assert kept.content_hash == andorra.content_hash
    loose = RoadNetwork.from_frames(
        all_nodes, all_edges, options=RoadOptions(keep_largest_scc=False)
    )
    assert loose.n_nodes == andorra.n_nodes + 2 and loose.report.dropped_nodes == 0


def test_monaco_one_way_arcs(monaco: RoadNetwork) -> None:
    assert monaco.edge_oneway.sum() > 50
    pairs = set(zip(monaco.arc_u.tolist(), monaco.arc_v.tolist(), strict=True))
    lonely = [(u, v) for u, v in pairs if (v, u) not in pairs]
    assert lonely, "a one-way arc without its reverse must exist"
    # every one-way edge gives exactly one arc, every two-way edge two
    per_edge = np.bincount(monaco.edge_row, minlength=monaco.n_edges)
    assert (per_edge[monaco.edge_oneway] == 1).all()
    assert (per_edge[~monaco.edge_oneway] == 2).all()
    # directions of a two-way edge have reversed roles
    two = np.flatnonzero(~monaco.edge_oneway)[0]
    arcs = np.flatnonzero(monaco.edge_row == two)
    assert {(monaco.arc_u[a], monaco.arc_v[a]) for a in arcs} == {
        (monaco.edge_u[two], monaco.edge_v[two]),
        (monaco.edge_v[two], monaco.edge_u[two]),
    }
    assert _strongly_connected(monaco) == 1


def test_clipped_extract_with_missing_nodes(monaco_xml: Path, tmp_path: Path) -> None:
    """Write a copy of Monaco that keeps every way but drops the nodes of its eastern half."""
    out = tmp_path / "clipped.osm"
    lon_cut = 7.4230
    writer = osmium.SimpleWriter(str(out))
    dropped = 0
    try:
        for obj in osmium.FileProcessor(str(monaco_xml)):
            if obj.is_node():
                if obj.location.valid() and obj.location.lon > lon_cut:
                    dropped += 1
                    continue
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
    finally:
        writer.close()
    assert dropped > 1000
    net = load_osm(out)
    assert net.n_nodes > 50
    assert (net.lon <= lon_cut).all()
    assert any("absent from the file" in m for m in net.report.messages)


def test_boundary_clip(andorra_pbf: Path, andorra: RoadNetwork) -> None:
    box = shapely.box(1.50, 42.45, 1.56, 42.52)  # Andorra la Vella / Escaldes
    net = load_osm(andorra_pbf, boundary=box)
    assert 50 < net.n_nodes < andorra.n_nodes
    assert shapely.contains_xy(box, net.lon, net.lat).all()
    with pytest.raises(RoadNetworkError, match="boundary"):
        load_osm(andorra_pbf, boundary=LineString([(1.5, 42.5), (1.6, 42.6)]))
    # a boundary elsewhere (here: in Sichuan) is named as the cause, with both boxes
    with pytest.raises(RoadNetworkError, match=r"boundary contains none of the .* road nodes"):
        load_osm(andorra_pbf, boundary=shapely.box(105.5, 28.4, 106.4, 29.1))


# ---------------------------------------------------------------------------------------------
# frames
# ---------------------------------------------------------------------------------------------


def test_frames_round_trip_and_schema(andorra: RoadNetwork) -> None:
    nodes, edges = andorra.to_frames()
    assert list(nodes.columns) == ["node_id", "geometry"]
    assert list(edges.columns) == [*ROAD_EDGE_COLUMNS, "geometry"]
    assert nodes.crs.to_epsg() == 4326 and edges.crs.to_epsg() == 4326
    assert edges["u"].dtype == np.int64 and edges["oneway"].dtype == bool
    assert edges["maxspeed_kmh"].dtype == np.float64 and edges["bridge"].dtype == bool
    again = RoadNetwork.from_frames(nodes, edges, source=andorra.source)
    assert again.content_hash == andorra.content_hash
    n2, e2 = again.to_frames()
    assert nodes.equals(n2) and edges.equals(e2)
    # reprojected input is accepted and gives the same network (up to float noise)
    moved = RoadNetwork.from_frames(nodes.to_crs(3857), edges.to_crs(3857))
    assert np.allclose(moved.lon, andorra.lon) and moved.n_edges == andorra.n_edges


def test_from_frames_errors_name_row_and_column(andorra: RoadNetwork) -> None:
    nodes, edges = andorra.to_frames()
    with pytest.raises(RoadNetworkError, match="missing column 'length_m'"):
        RoadNetwork.from_frames(nodes, edges.drop(columns="length_m"))
    bad = edges.copy()
    bad.loc[7, "v"] = 123456789012
    with pytest.raises(RoadNetworkError, match=r"row 7, column 'v': node 123456789012"):
        RoadNetwork.from_frames(nodes, bad)
    bad = edges.copy()
    bad.loc[3, "length_m"] = -5.0
    with pytest.raises(RoadNetworkError, match=r"row 3, column 'length_m'"):
        RoadNetwork.from_frames(nodes, bad)
    dup = gpd.GeoDataFrame(
        {"node_id": [1, 1]}, geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4326"
    )
    with pytest.raises(RoadNetworkError, match="node_id 1 appears more than once"):
        RoadNetwork.from_frames(dup, edges.iloc[:0])
    with pytest.raises(ValidationError, match="speeds_kmh"):
        RoadOptions(speeds_kmh={"primary": -1})
    with pytest.raises(AttributeError):
        andorra.crs = "EPSG:4326"  # type: ignore[misc]
    with pytest.raises(ValueError):
        andorra.travel_time_s[0] = 1.0


# ---------------------------------------------------------------------------------------------
# snapping
# ---------------------------------------------------------------------------------------------


def test_snap_exact_nodes_and_far_points(andorra: RoadNetwork) -> None:
    idx = np.arange(0, andorra.n_nodes, 97)
    snap = andorra.snap(andorra.lon[idx], andorra.lat[idx])
    assert (snap.node == idx).all() and np.allclose(snap.distance_m, 0, atol=1e-6)
    assert not snap.flagged.any()
    # 3 km south of the southernmost node: far from every road, flagged
    s = int(np.argmin(andorra.lat))
    far = andorra.snap(andorra.lon[s], andorra.lat[s] - 0.027)
    assert far.node[0] == s and 2900 < far.distance_m[0] < 3100 and far.flagged[0]
    # 300 m off: snapped, not flagged (threshold 500 m by default)
    near = andorra.snap(andorra.lon[s], andorra.lat[s] - 0.0027)
    assert near.distance_m[0] < 500 and not near.flagged[0]
    strict = RoadNetwork.from_frames(*andorra.to_frames(), options=RoadOptions(snap_warn_m=100))
    assert strict.snap(andorra.lon[s], andorra.lat[s] - 0.0027).flagged[0]
    with pytest.raises(ValidationError, match="point 1"):
        andorra.snap([1.5, float("nan")], [42.5, 42.5])


@HYP
@given(st.lists(st.tuples(st.floats(1.40, 1.80), st.floats(42.40, 42.68)), min_size=1, max_size=20))
def test_snap_is_nearest_node(andorra: RoadNetwork, pts: list[tuple[float, float]]) -> None:
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    snap = andorra.snap(lon, lat)
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", andorra.crs, always_xy=True)
    px, py = tr.transform(lon, lat)
    d = np.hypot(andorra.x[None, :] - px[:, None], andorra.y[None, :] - py[:, None])
    assert np.allclose(snap.distance_m, d.min(axis=1))
    assert np.allclose(d[np.arange(len(pts)), snap.node], snap.distance_m)
    assert (snap.flagged == (snap.distance_m > 500)).all()


# ---------------------------------------------------------------------------------------------
# closures
# ---------------------------------------------------------------------------------------------


def test_point_closure_radius(andorra: RoadNetwork) -> None:
    i = int(np.argmax(np.bincount(andorra.edge_u, minlength=andorra.n_nodes)))
    c = RoadClosure("p", Point(andorra.lon[i], andorra.lat[i]), radius_m=150.0)
    rows = andorra.closed_edges([c])["p"]
    centre = Point(andorra.x[i], andorra.y[i])
    dist = shapely.distance(andorra.projected_edges(), centre)
    assert set(rows.tolist()) == set(np.flatnonzero(dist <= 150.0).tolist())
    assert set(np.flatnonzero((andorra.edge_u == i) | (andorra.edge_v == i))) <= set(rows)
    closed = andorra.with_closures([c])
    hit = np.isin(closed.edge_row, rows)
    assert np.isinf(closed.travel_time_s[hit]).all()
    assert np.array_equal(closed.travel_time_s[~hit], andorra.travel_time_s[~hit])
    assert closed.content_hash != andorra.content_hash
    assert closed.with_closures([]).content_hash == andorra.content_hash


def test_line_and_polygon_closures(andorra: RoadNetwork) -> None:
    e = int(np.argmax(andorra.edge_length_m))
    geom_xy = andorra.projected_edges()[e]
    mid = geom_xy.interpolate(0.5, normalized=True)
    # a 40 m line across the edge at its middle, built in metres and taken back to lon/lat
    a = geom_xy.interpolate(0.5, normalized=True).coords[0]
    b = geom_xy.interpolate(0.5 + 1.0 / geom_xy.length, normalized=True).coords[0]
    dx, dy = b[0] - a[0], b[1] - a[1]
    norm = math.hypot(dx, dy)
    nx_, ny_ = -dy / norm * 20, dx / norm * 20
    from pyproj import Transformer

    back = Transformer.from_crs(andorra.crs, "EPSG:4326", always_xy=True)
    cut = LineString(
        [back.transform(mid.x - nx_, mid.y - ny_), back.transform(mid.x + nx_, mid.y + ny_)]
    )
    line = RoadClosure("l", cut)
    rows = andorra.closed_edges([line])["l"]
    assert e in rows
    assert shapely.intersects(andorra.edge_geometry[rows], cut).all()
    # a polygon around one node closes every edge touching it
    i = int(andorra.edge_u[e])
    poly = Point(andorra.lon[i], andorra.lat[i]).buffer(0.0005)
    prow = andorra.closed_edges([RoadClosure("g", poly)])["g"]
    touching = np.flatnonzero((andorra.edge_u == i) | (andorra.edge_v == i))
    assert set(touching) <= set(prow)
    assert shapely.intersects(andorra.edge_geometry[prow], poly).all()


def test_slow_down_doubles_affected_times(andorra: RoadNetwork) -> None:
    i = andorra.n_nodes // 3
    c = RoadClosure("s", Point(andorra.lon[i], andorra.lat[i]), radius_m=400, speed_factor=0.5)
    rows = andorra.closed_edges([c])["s"]
    assert rows.size > 0
    slow = andorra.with_closures([c])
    hit = np.isin(slow.edge_row, rows)
    assert np.allclose(slow.travel_time_s[hit], 2 * andorra.travel_time_s[hit])
    assert np.array_equal(slow.travel_time_s[~hit], andorra.travel_time_s[~hit])
    # closing wins over a slow-down on the same edges
    both = andorra.with_closures([c, RoadClosure("x", c.geometry, radius_m=400)])
    assert np.isinf(both.travel_time_s[hit]).all()


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------


def test_cache_round_trip_and_fast_load(andorra: RoadNetwork, tmp_path: Path) -> None:
    path = tmp_path / "andorra.npz"
    save_cache(andorra, path)
    t0 = time.perf_counter()
    again = load_cache(path)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    assert again.content_hash == andorra.content_hash
    assert again.report == andorra.report and again.source == andorra.source
    n1, e1 = andorra.to_frames()
    n2, e2 = again.to_frames()
    assert n1.equals(n2) and e1.equals(e2)
    assert np.array_equal(again.travel_time_s, andorra.travel_time_s)
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RoadNetworkError, match="damaged.npz"):
        load_cache(damaged)


def test_load_network_cached(
    monaco: RoadNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path))
    calls = []

    def build() -> RoadNetwork:
        calls.append(1)
        return monaco

    first = load_network_cached(b"monaco-v1", build)
    second = load_network_cached(b"monaco-v1", build)
    assert len(calls) == 1 and first is monaco
    assert second.content_hash == monaco.content_hash and second is not monaco
    load_network_cached(b"monaco-v1", build, options=RoadOptions(snap_warn_m=100))
    assert len(calls) == 2  # other options → other key
    (cached,) = list((tmp_path / "roads").glob("*.npz"))[:1]
    for f in (tmp_path / "roads").glob("*.npz"):
        f.write_bytes(b"garbage")
    load_network_cached(b"monaco-v1", build)
    assert len(calls) == 3  # damaged cache file is rebuilt
    assert cached.exists()


# ---------------------------------------------------------------------------------------------
# download
# ---------------------------------------------------------------------------------------------


def test_download_offline_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass.invalid/api")
    with pytest.raises(NetworkUnavailableError, match=r"overpass\.invalid.*not reachable"):
        roads.download_osm(polygon=shapely.box(105.8, 28.8, 105.9, 28.9))
    with pytest.raises(RoadNetworkError, match="exactly one"):
        roads.download_osm()


# ---------------------------------------------------------------------------------------------
# synthetic: the only crossing
# ---------------------------------------------------------------------------------------------


def test_ladder_bridge_closure_splits_network() -> None:
    nodes, edges = _ladder()
    net = RoadNetwork.from_frames(nodes, edges)
    assert _strongly_connected(net) == 1
    bridge = int(np.flatnonzero(net.edge_bridge)[0])
    mid = net.edge_geometry[bridge].interpolate(0.5, normalized=True)
    closed = net.with_closures([RoadClosure("b", mid, radius_m=30)])
    assert set(net.closed_edges(closed.closures)["b"].tolist()) == {bridge}
    assert _strongly_connected(closed) == 2


# ---------------------------------------------------------------------------------------------
# the package: public names, copies
# ---------------------------------------------------------------------------------------------


def test_package_exports_the_public_api() -> None:
    # what callers imported from the single module gis/roads.py, plus the cache functions
    before_split = {
        "DEFAULT_SPEEDS_KMH", "ROAD_CLASS_ZH", "RoadOptions", "LoadReport", "SnapResult",
        "RoadNetwork", "road_class_zh", "parse_maxspeed", "load_osm", "download_osm",
        "load_network_cached", "cache_dir", "file_fingerprint", "LOADER_VERSION",
    }  # fmt: skip
    assert before_split | {"save_cache", "load_cache"} <= set(roads.__all__)
    for name in roads.__all__:
        obj = getattr(roads, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__.startswith("gis.roads."), (name, obj.__module__)
    assert RoadNetwork.__module__ == "gis.roads.network"


def test_with_report_is_a_copy(monaco: RoadNetwork) -> None:
    report = roads.LoadReport(nodes=1, edges=2, messages=("x",))
    other = monaco.with_report(report)
    assert other.report == report and monaco.report != report
    assert other.content_hash == monaco.content_hash
    assert other.travel_time_s is monaco.travel_time_s
    with pytest.raises(AttributeError, match="immutable"):
        other.report = monaco.report  # type: ignore[misc]


def test_load_osm_stops_when_asked(andorra_pbf: Path, monaco_xml: Path) -> None:
    """``stop`` is polled while reading and between the steps (the desk's Cancel)."""
    from gis.errors import Cancelled
    from gis.workspace_service import ImportRoadsRequest, import_osm_roads

    with pytest.raises(Cancelled):
        load_osm(monaco_xml, stop=lambda: True)
    for after in (1, 2, 4):  # in the ways pass, the nodes pass, between the steps
        calls = []

        def stop(calls=calls, after=after) -> bool:
            calls.append(1)
            return len(calls) > after

        with pytest.raises(Cancelled):
            import_osm_roads(ImportRoadsRequest(andorra_pbf), stop=stop)
    assert load_osm(monaco_xml, stop=lambda: False).n_edges > 0
