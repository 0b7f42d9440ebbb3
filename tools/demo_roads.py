"""A GENERATED road network for the demo county (not surveyed; see data/README.md).

Recipe (deterministic for a seed):

1. Points per land region (north of the Yangtze, west of the Chishui, the south-east): township
   seats, village points, bridge ends, county exits, a dense grid in the county seat and jittered
   "hamlet" points elsewhere (sparser in the south-eastern mountains).
2. Candidate links: the Delaunay triangulation of each region's points, keeping links that stay
   on land inside the region. Regions meet only at bridges.
3. A hierarchy of routes, each the cheapest path over the candidates: 国道/省道 (trunk/primary)
   along fixed waypoints, 县道 (secondary) as a spanning tree + loops over township seats, 乡道
   (tertiary) from every village to the nearest higher road, 村道 (unclassified) as the spanning
   tree of everything plus a few loops, streets (residential) in the county seat.
4. Curving geometry: each link becomes a polyline displaced by a smooth random sine series, more
   winding in the mountains; links whose curve would cross another or leave the land stay straight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString, Point

from tools.demo_geo import Ground, TownshipSeat, Village, to_utm, to_wgs

HIGHWAY_RANK = {
    "trunk": 0,
    "primary": 1,
    "secondary": 2,
    "tertiary": 3,
    "unclassified": 4,
    "residential": 5,
}

#: Bridges: name -> (river, lon, lat of the crossing, route that uses it).
BRIDGES: dict[str, tuple[str, float, float]] = {
    "合江长江大桥": ("长江", 105.8470, 28.8196),
    "赤水河大桥": ("赤水河", 105.8225, 28.8035),
    "九支赤水河大桥": ("赤水河", 105.7800, 28.6870),
}
#: Bridge whose closure cuts off the north bank (its only link).
SINGLE_BRIDGE = "合江长江大桥"

#: Where generated trunk/primary roads leave the county (lon, lat) — snapped to the outline.
EXITS: dict[str, tuple[float, float]] = {
    "W": (105.545, 28.790),  # toward 泸州 (G353)
    "NE": (106.020, 28.905),  # toward 江津 (G353)
    "E": (106.275, 28.800),  # toward 江津/綦江 (S308)
    "NW": (105.600, 28.905),  # toward 泸县 (S432)
    "S": (105.640, 28.480),  # toward 赤水 (S432)
}

URBAN_STREETS = (
    "符阳大道", "人民路", "建设路", "马街", "枣林路", "百花亭路", "笔架山路", "少岷路", "九层岩路",
    "临港大道", "港城路", "滨江路", "新华路", "合江大道", "东门路", "西门路", "沙嘴路", "锦绣路",
)


@dataclass
class RoadBuild:
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    seat_nodes: dict[str, int]  # township code -> node_id
    village_nodes: dict[str, int]  # village code -> node_id
    bridge_edges: dict[str, int]  # bridge name -> edge row index
    region_of_node: dict[int, str]


def mountain_index(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 (plain along the rivers) … 1 (the south-eastern mountains around 福宝/先滩)."""
    lon, lat = to_wgs(x, y)
    se = np.clip((lon - 105.92) / 0.18, 0, 1) * np.clip((28.92 - lat) / 0.14, 0.25, 1)
    south = 0.45 * np.clip((28.70 - lat) / 0.15, 0, 1)
    return np.clip(se + south, 0, 1)


def _jitter_grid(poly: Any, spacing: float, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, spacing), np.arange(miny, maxy, spacing))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts + rng.uniform(-0.36 * spacing, 0.36 * spacing, pts.shape)
    return pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]


def _bridge_ends(ground: Ground, name: str) -> tuple[np.ndarray, np.ndarray, str, str]:
    river, lon, lat = BRIDGES[name]
    cx, cy = (float(v) for v in to_utm(lon, lat))
    line = ground.rivers[river]
    # direction across: perpendicular to the river at the crossing
    d = line.project(Point(cx, cy))
    p0 = np.array(line.interpolate(max(d - 150, 0)).coords[0])
    p1 = np.array(line.interpolate(d + 150).coords[0])
    c = np.array(line.interpolate(d).coords[0])
    t = (p1 - p0) / np.hypot(*(p1 - p0))
    n = np.array([-t[1], t[0]])
    poly = ground.river_polys[river]
    half = 60.0
    while poly.contains(Point(*(c + half * n))) or poly.contains(Point(*(c - half * n))):
        half += 20.0
    a, b = c + (half + 70.0) * n, c - (half + 70.0) * n
    ra = _region(ground, a)
    rb = _region(ground, b)
    if ra is None or rb is None or ra == rb:  # pragma: no cover - depends on drawn rivers
        raise RuntimeError(f"bridge {name}: ends not on two banks ({ra}, {rb})")
    return a, b, ra, rb


def _region(ground: Ground, p: np.ndarray) -> str | None:
    for name, poly in ground.regions.items():
        if poly.buffer(-30).contains(Point(float(p[0]), float(p[1]))):
            return name
    return None


def _exit_point(ground: Ground, lon: float, lat: float) -> tuple[np.ndarray, str]:
    x, y = (float(v) for v in to_utm(lon, lat))
    best: tuple[float, np.ndarray, str] | None = None
    for name, poly in ground.regions.items():
        inner = poly.buffer(-150)
        ring = inner.exterior if hasattr(inner, "exterior") else max(inner.geoms, key=lambda g: g.area).exterior
        q = ring.interpolate(ring.project(Point(x, y)))
        d = q.distance(Point(x, y))
        if best is None or d < best[0]:
            best = (d, np.array(q.coords[0]), name)
    assert best is not None
    return best[1], best[2]


def _within(lines: np.ndarray, poly: Any) -> np.ndarray:
    """Vectorised ``line within poly`` through the boundary (much faster on a detailed outline)."""
    if len(lines) == 0:
        return np.zeros(0, dtype=bool)
    boundary = poly.boundary
    shapely.prepare(boundary)
    shapely.prepare(poly)
    first = shapely.get_point(lines, 0)
    return ~shapely.intersects(boundary, lines) & shapely.contains(poly, first)


def _curve(a: np.ndarray, b: np.ndarray, amp_frac: float, rng: np.random.Generator) -> np.ndarray:
    length = float(np.hypot(*(b - a)))
    k = max(1, int(length / 90.0))
    t = np.linspace(0.0, 1.0, k + 2)
    if amp_frac <= 0 or k < 2:
        return np.vstack([a, b]) if k < 2 else a + np.outer(t, b - a)
    coef = rng.normal(0.0, 1.0, 3) / np.array([1.0, 1.8, 2.6])
    off = sum(c * np.sin((j + 1) * np.pi * t) for j, c in enumerate(coef))
    off = off * amp_frac * length * 0.55
    direction = (b - a) / length
    normal = np.array([-direction[1], direction[0]])
    return a + np.outer(t, b - a) + np.outer(off, normal)


def build_roads(
    ground: Ground,
    seats: list[TownshipSeat],
    villages: list[Village],
    rng: np.random.Generator,
) -> RoadBuild:
    """Generate the road network; see the module docstring."""
    # ---------------------------------------------------------------- 1. points
    fixed_pts: list[np.ndarray] = []
    fixed_region: list[str] = []
    fixed_kind: list[tuple[str, str]] = []

    def add_fixed(p: np.ndarray, region: str, kind: tuple[str, str]) -> int:
        fixed_pts.append(np.asarray(p, dtype=float))
        fixed_region.append(region)
        fixed_kind.append(kind)
        return len(fixed_pts) - 1

    seat_idx = {s.code: add_fixed(np.array([s.x, s.y]), s.region, ("seat", s.code)) for s in seats}
    village_idx: dict[str, int] = {}
    for v in villages:
        village_idx[v.code] = add_fixed(np.array([v.x, v.y]), v.region, ("village", v.code))
    bridge_idx: dict[str, tuple[int, int]] = {}
    for name in BRIDGES:
        a, b, ra, rb = _bridge_ends(ground, name)
        bridge_idx[name] = (add_fixed(a, ra, ("bridge", name)), add_fixed(b, rb, ("bridge", name)))
    exit_idx: dict[str, int] = {}
    for name, (lon, lat) in EXITS.items():
        p, region = _exit_point(ground, lon, lat)
        exit_idx[name] = add_fixed(p, region, ("exit", name))

    fixed_arr = np.array(fixed_pts)
    fixed_tree = cKDTree(fixed_arr)
    seat = next(s for s in seats if s.code == "510522001")
    port = next(s for s in seats if s.code == "510522002")

    pts: list[np.ndarray] = [fixed_arr]
    regions: list[str] = list(fixed_region)
    for rname, poly in ground.regions.items():
        inner = poly.buffer(-60)
        hamlets = _jitter_grid(inner, 560.0, rng)
        m = mountain_index(hamlets[:, 0], hamlets[:, 1])
        keep = rng.uniform(0, 1, len(hamlets)) < (0.80 - 0.32 * m)
        hamlets = hamlets[keep]
        d_seat = np.minimum(
            np.hypot(hamlets[:, 0] - seat.x, hamlets[:, 1] - seat.y),
            np.hypot(hamlets[:, 0] - port.x, hamlets[:, 1] - port.y),
        )
        hamlets = hamlets[d_seat > 2600]
        urban = _jitter_grid(inner, 190.0, rng)
        du = np.minimum(
            np.hypot(urban[:, 0] - seat.x, urban[:, 1] - seat.y) / 2500.0,
            np.hypot(urban[:, 0] - port.x, urban[:, 1] - port.y) / 1700.0,
        )
        urban = urban[du < 1.0]
        gen = np.vstack([hamlets, urban])
        dist, _ = fixed_tree.query(gen)
        gen = gen[dist > 110]
        pts.append(gen)
        regions += [rname] * len(gen)
    xy = np.vstack(pts)
    region_arr = np.array(regions)
    n_pts = len(xy)

    # ---------------------------------------------------------------- 2. candidate links
    cand: set[tuple[int, int]] = set()
    for rname, poly in ground.regions.items():
        idx = np.flatnonzero(region_arr == rname)
        tri = Delaunay(xy[idx])
        s = tri.simplices
        for i, j in ((0, 1), (1, 2), (0, 2)):
            a, b = idx[s[:, i]], idx[s[:, j]]
            for u, v in zip(np.minimum(a, b), np.maximum(a, b), strict=True):
                cand.add((int(u), int(v)))
        inner = poly.buffer(-20)
        shapely.prepare(inner)
        pairs = np.array(sorted(p for p in cand if region_arr[p[0]] == rname))
        lines = shapely.linestrings(
            np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1)
        )
        ok = _within(lines, inner) & (
            np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) < 2600
        )
        for p, good in zip(map(tuple, pairs), ok, strict=True):
            if not good:
                cand.discard(p)
    cand_arr = np.array(sorted(cand))
    bridge_pairs = {name: tuple(sorted(ends)) for name, ends in bridge_idx.items()}
    all_pairs = np.vstack([cand_arr, np.array(list(bridge_pairs.values()))])
    seg_len = np.hypot(*(xy[all_pairs[:, 0]] - xy[all_pairs[:, 1]]).T)
    mid = (xy[all_pairs[:, 0]] + xy[all_pairs[:, 1]]) / 2
    cost = seg_len * (1.0 + 0.8 * mountain_index(mid[:, 0], mid[:, 1]))
    graph = coo_matrix(
        (np.concatenate([cost, cost]), (np.concatenate([all_pairs[:, 0], all_pairs[:, 1]]),
                                         np.concatenate([all_pairs[:, 1], all_pairs[:, 0]]))),
        shape=(n_pts, n_pts),
    ).tocsr()

    # chosen links: pair -> (highway, name, ref)
    chosen: dict[tuple[int, int], tuple[str, str, str]] = {}

    def claim(pair: tuple[int, int], hw: str, name: str, ref: str) -> None:
        old = chosen.get(pair)
        if old is None or HIGHWAY_RANK[hw] < HIGHWAY_RANK[old[0]]:
            chosen[pair] = (hw, name, ref)

    def path(pred: np.ndarray, src_row: int, target: int) -> list[int]:
        out = [target]
        while out[-1] != -9999 and pred[src_row, out[-1]] != -9999:
            out.append(int(pred[src_row, out[-1]]))
        return out[::-1]

    def route(points: list[int], hw: str, name: str, ref: str) -> None:
        _, pred = dijkstra(graph, indices=points[:-1], return_predecessors=True)
        for k in range(len(points) - 1):
            nodes = path(pred, k, points[k + 1])
            if nodes[0] != points[k]:
                raise RuntimeError(f"route {ref}: no link from {points[k]} to {points[k + 1]}")
            for u, v in zip(nodes[:-1], nodes[1:], strict=True):
                claim((min(u, v), max(u, v)), hw, name, ref)

    # ---------------------------------------------------------------- 3. hierarchy
    s = seat_idx
    yz_s, yz_n = bridge_idx["合江长江大桥"]
    cs1_w, cs1_e = bridge_idx["赤水河大桥"]
    cs2_w, cs2_e = bridge_idx["九支赤水河大桥"]
    if fixed_region[yz_s] != "SE":
        yz_s, yz_n = yz_n, yz_s
    if fixed_region[cs1_e] != "SE":
        cs1_w, cs1_e = cs1_e, cs1_w
    if fixed_region[cs2_e] != "SE":
        cs2_w, cs2_e = cs2_e, cs2_w
    route([exit_idx["W"], cs1_w, cs1_e, s["510522001"], s["510522002"], exit_idx["NE"]],
          "trunk", "G353", "G353")
    route([s["510522001"], s["510522112"], s["510522113"], exit_idx["E"]], "primary", "S308",
          "S308")
    route([s["510522001"], yz_s, yz_n, exit_idx["NW"]], "primary", "S432", "S432")
    route([cs2_w, exit_idx["S"]], "primary", "S432", "S432")

    # county roads: per region, spanning tree over seats (+ bridge ends) by network cost, + loops
    seat_codes = [x.code for x in seats]
    short = {x.code: x.name[0] for x in seats}
    x_no = 1
    for rname in ground.regions:
        members = [s[c] for c in seat_codes if fixed_region[s[c]] == rname]
        members += [i for ends in bridge_idx.values() for i in ends if fixed_region[i] == rname]
        members = sorted(set(members))
        if len(members) < 2:
            continue
        dist = dijkstra(graph, indices=members)[:, members]
        mst = minimum_spanning_tree(dist).toarray()
        links = {(i, j) for i, j in zip(*np.nonzero(mst), strict=True)}
        for i in range(len(members)):  # loops: link each member to its nearest non-neighbour
            order = np.argsort(dist[i])
            for j in order[1:3]:
                if (i, j) not in links and (j, i) not in links and dist[i, j] < 30000:
                    links.add((min(i, j), max(i, j)))
                    break
        for i, j in sorted(links):
            a, b = members[i], members[j]
            ka, kb = fixed_kind[a], fixed_kind[b]
            na = short[ka[1]] if ka[0] == "seat" else ka[1][0]
            nb = short[kb[1]] if kb[0] == "seat" else kb[1][0]
            ref = f"X{x_no:03d}"
            route([a, b], "secondary", f"县道 {ref} {na}{nb}路", ref)
            x_no += 1

    # township roads: every village to the nearest node of a higher road
    higher = sorted({n for pair in chosen for n in pair})
    _, pred, _src = dijkstra(graph, indices=higher, return_predecessors=True, min_only=True)
    y_no = 1
    vname = {v.code: v.name for v in villages}
    for vcode in sorted(village_idx):
        t = village_idx[vcode]
        nodes = [t]
        while pred[nodes[-1]] != -9999:
            nodes.append(int(pred[nodes[-1]]))
        if len(nodes) < 2:
            continue
        ref = f"Y{y_no:03d}"
        y_no += 1
        for u, v in zip(nodes[:-1], nodes[1:], strict=True):
            claim((min(u, v), max(u, v)), "tertiary", f"乡道 {ref} {vname[vcode]}线", ref)

    # village roads: spanning tree of all candidates (geometric length) + loops; town streets
    geo = coo_matrix(
        (seg_len, (all_pairs[:, 0], all_pairs[:, 1])), shape=(n_pts, n_pts)
    ).tocsr()
    mst = minimum_spanning_tree(geo).tocoo()
    vtree = cKDTree(np.array([[v.x, v.y] for v in villages]))
    vnames = [v.name for v in villages]
    d_urban = np.minimum(
        np.hypot(xy[:, 0] - seat.x, xy[:, 1] - seat.y) / 2500.0,
        np.hypot(xy[:, 0] - port.x, xy[:, 1] - port.y) / 1700.0,
    )
    loops = rng.uniform(0, 1, len(all_pairs))
    mtn = mountain_index(mid[:, 0], mid[:, 1])
    extra = [
        (int(u), int(v))
        for k, (u, v) in enumerate(all_pairs)
        if (
            (d_urban[u] < 1 and d_urban[v] < 1 and loops[k] < 0.8)
            or (seg_len[k] < 800 and loops[k] < 0.16 - 0.12 * mtn[k])
        )
        and (int(u), int(v)) not in bridge_pairs.values()
    ]
    base = [(int(min(u, v)), int(max(u, v))) for u, v in zip(mst.row, mst.col, strict=True)]
    for u, v in sorted(set(base) | set(extra)):
        if (u, v) in chosen:
            continue
        if d_urban[u] < 1 and d_urban[v] < 1:
            street = URBAN_STREETS[(u * 7 + v) % len(URBAN_STREETS)]
            chosen[(u, v)] = ("residential", street, "")
        else:
            _, near = vtree.query((xy[u] + xy[v]) / 2)
            chosen[(u, v)] = ("unclassified", f"{vnames[int(near)]}村道", "")

    # ---------------------------------------------------------------- 4. geometry
    pairs = sorted(chosen)
    bridge_of = {pair: name for name, pair in bridge_pairs.items()}
    lines_xy: list[np.ndarray] = []
    amp = {"trunk": 0.03, "primary": 0.04, "secondary": 0.06, "tertiary": 0.08,
           "unclassified": 0.09, "residential": 0.015}
    mid_c = np.array([(xy[u] + xy[v]) / 2 for u, v in pairs])
    m_c = mountain_index(mid_c[:, 0], mid_c[:, 1])
    for k, (u, v) in enumerate(pairs):
        hw = chosen[(u, v)][0]
        a_frac = 0.0 if (u, v) in bridge_of else amp[hw] * (1.0 + 1.6 * m_c[k])
        lines_xy.append(_curve(xy[u], xy[v], a_frac, rng))
    lines = [LineString(c) for c in lines_xy]
    lines_arr = np.array(lines, dtype=object)
    straight = np.array([LineString([xy[u], xy[v]]) for u, v in pairs], dtype=object)
    land_by_region = {r: p.buffer(-5) for r, p in ground.regions.items()}
    for _ in range(6):
        bad = np.zeros(len(pairs), dtype=bool)
        for r, land in land_by_region.items():
            sel = np.array([region_arr[u] == r and (u, v) not in bridge_of for u, v in pairs])
            bad[sel] |= ~_within(lines_arr[sel], land)
        tree = shapely.STRtree(lines_arr)
        a_idx, b_idx = tree.query(lines_arr, predicate="crosses")
        bad[a_idx] = True
        bad[b_idx] = True
        # links that merely overlap another (share more than an end point)
        a2, b2 = tree.query(lines_arr, predicate="overlaps")
        bad[a2] = True
        bad[b2] = True
        is_curved = np.array([len(ln.coords) > 2 for ln in lines_arr])
        fix = bad & is_curved
        if not fix.any():
            break
        lines_arr[fix] = straight[fix]

    # ---------------------------------------------------------------- 5. frames
    used = sorted({n for pair in pairs for n in pair})
    new_id = {old: i for i, old in enumerate(used)}
    lon, lat = to_wgs(xy[used, 0], xy[used, 1])
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(len(used), dtype=np.int64)},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    geod = Geod(ellps="WGS84")
    rows: dict[str, list[Any]] = {k: [] for k in
                                  ("u", "v", "oneway", "highway", "name", "ref", "maxspeed_kmh",
                                   "length_m", "bridge")}
    geoms = []
    bridge_rows: dict[str, int] = {}
    for k, (u, v) in enumerate(pairs):
        hw, name, ref = chosen[(u, v)]
        c = np.asarray(lines_arr[k].coords)
        clon, clat = to_wgs(c[:, 0], c[:, 1])
        clon, clat = np.round(clon, 6), np.round(clat, 6)
        clon[0], clat[0] = lon[new_id[u]], lat[new_id[u]]
        clon[-1], clat[-1] = lon[new_id[v]], lat[new_id[v]]
        line = LineString(np.column_stack([clon, clat]))
        maxspeed = np.nan
        is_bridge = (u, v) in bridge_of
        if is_bridge:
            bname = bridge_of[(u, v)]
            name = f"{bname}（{ref or name}）" if ref else bname
            bridge_rows[bname] = k
            maxspeed = 60.0 if hw in ("trunk", "primary") else 40.0
        elif hw in ("trunk", "primary") and d_urban[u] < 1 and d_urban[v] < 1:
            maxspeed = 40.0
        rows["u"].append(new_id[u])
        rows["v"].append(new_id[v])
        rows["oneway"].append(False)
        rows["highway"].append(hw)
        rows["name"].append(name)
        rows["ref"].append(ref)
        rows["maxspeed_kmh"].append(maxspeed)
        rows["length_m"].append(round(float(geod.line_length(clon, clat)), 2))
        rows["bridge"].append(is_bridge)
        geoms.append(line)
    edges = gpd.GeoDataFrame(
        pd.DataFrame(rows).astype(
            {"u": "int64", "v": "int64", "oneway": bool, "maxspeed_kmh": float,
             "length_m": float, "bridge": bool}
        ),
        geometry=geoms,
        crs="EPSG:4326",
    )
    _make_one_way_couplets(edges, len(nodes), rng)
    g = frames_digraph(nodes, edges)
    if not nx.is_strongly_connected(g):
        raise RuntimeError("generated road network is not strongly connected")
    if not 5_000 <= len(nodes) <= 20_000:
        raise RuntimeError(f"generated road network has {len(nodes)} nodes (want 5k–20k)")
    crossing, _ = shapely.STRtree(edges.geometry.to_numpy()).query(
        edges.geometry.to_numpy(), predicate="crosses"
    )
    if len(crossing):
        raise RuntimeError(f"{len(crossing)} generated roads cross without a junction")
    return RoadBuild(
        nodes=nodes,
        edges=edges,
        seat_nodes={c: new_id[i] for c, i in seat_idx.items()},
        village_nodes={c: new_id[i] for c, i in village_idx.items()},
        bridge_edges=bridge_rows,
        region_of_node={new_id[i]: str(region_arr[i]) for i in used},
    )


def frames_digraph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> nx.DiGraph:
    """Directed graph of the frames: a two-way edge gives arcs both ways."""
    g = nx.DiGraph()
    g.add_nodes_from(nodes["node_id"].tolist())
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    ow = edges["oneway"].to_numpy()
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    g.add_edges_from(zip(v[~ow].tolist(), u[~ow].tolist(), strict=True))
    return g


def _strongly_connected(n: int, edges: gpd.GeoDataFrame) -> bool:
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    ow = edges["oneway"].to_numpy()
    rows = np.concatenate([u, v[~ow]])
    cols = np.concatenate([v, u[~ow]])
    m = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    k, _ = connected_components(m, directed=True, connection="strong")
    return bool(k == 1)


def _make_one_way_couplets(edges: gpd.GeoDataFrame, n_nodes: int, rng: np.random.Generator) -> None:
    """Make a few town streets one-way (keeping the graph strongly connected)."""
    res = np.flatnonzero(edges["highway"].to_numpy() == "residential")
    if len(res) == 0:
        return
    picks = rng.permutation(res)[:40]
    done = 0
    for k in picks:
        edges.loc[k, "oneway"] = True
        if not _strongly_connected(n_nodes, edges):
            edges.loc[k, "oneway"] = False
            continue
        done += 1
        if done >= 16:
            break
