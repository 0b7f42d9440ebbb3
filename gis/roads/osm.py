"""Reading road files into a :class:`~gis.roads.network.RoadNetwork`.

:func:`load_osm` reads ``.osm``/``.osm.gz``/``.osm.bz2``/``.osm.pbf`` with pyosmium (two
streaming passes: drivable ways, then only the nodes they use), optionally clipped to a boundary
polygon, builds a networkx graph and simplifies it with osmnx (edges are split where class, name,
ref or maxspeed change, so every edge has one speed and one name for turn lists), then keeps the
largest strongly connected component and reports what it dropped. ``.graphml`` files written by
osmnx load too. What is drivable and how fast is decided in :mod:`gis.roads.classes`.

:func:`simplify_graph` and :func:`network_from_graph` are shared with
:mod:`gis.roads.download`. osmium, networkx and osmnx are imported inside the functions that
need them (``import osmnx`` alone takes over a second; the GUI's start time is benchmarked).
"""

from __future__ import annotations

import bz2
import gzip
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gis.errors import Cancelled, RoadNetworkError
from gis.fields import strip_controls
from gis.model import ROAD_EDGE_COLUMNS
from gis.roads.classes import (
    RoadOptions,
    drivable_reason,
    first_text,
    oneway_direction,
    parse_maxspeed,
    tag_values,
    truthy_tag,
)
from gis.roads.network import LoadReport, RoadNetwork

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

__all__ = ["ProgressFn", "load_osm", "network_from_graph", "simplify_graph"]

#: ``progress(fraction, message)``, fraction from 0 to 1.
ProgressFn = Callable[[float, str], None]
_EDGE_ATTRS_DIFFER = ("highway", "name", "ref", "maxspeed")
_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".xml", ".xml.gz", ".xml.bz2")


def _progress(progress: ProgressFn | None, frac: float, msg: str) -> None:
    if progress is not None:
        progress(frac, msg)


def _check_stop(stop: Callable[[], bool] | None) -> None:
    """Raise :class:`gis.errors.Cancelled` when ``stop()`` says so."""
    if stop is not None and stop():
        raise Cancelled("OSM import cancelled")


def _boundary_geometry(boundary: Any) -> BaseGeometry | None:
    if boundary is None:
        return None
    from shapely.geometry.base import BaseGeometry

    if isinstance(boundary, BaseGeometry):
        geom = boundary
    else:
        import geopandas as gpd

        path = Path(boundary)
        if not path.exists():
            raise RoadNetworkError(f"boundary file not found: {path}")
        try:
            frame = gpd.read_file(path)
        except Exception as exc:
            raise RoadNetworkError(f"boundary file {path}: cannot read: {exc}") from exc
        if frame.empty:
            raise RoadNetworkError(f"boundary file {path}: has no features")
        if frame.crs is not None:
            frame = frame.to_crs("EPSG:4326")
        geom = shapely.make_valid(frame.geometry.union_all())
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise RoadNetworkError(f"boundary must be a polygon, got {geom.geom_type}")
    shapely.prepare(geom)
    return geom


def _read_osm_ways(
    path: Path,
    options: RoadOptions,
    boundary: BaseGeometry | None,
    progress: ProgressFn | None,
    stop: Callable[[], bool] | None = None,
) -> tuple[nx.MultiDiGraph, list[str]]:
    """Two pyosmium passes → unsimplified MultiDiGraph of drivable ways (osmnx conventions)."""
    import networkx as nx
    import osmium

    messages: list[str] = []
    ways: list[tuple[int, dict[str, str], list[int]]] = []
    dropped: Counter[str] = Counter()
    needed: set[int] = set()
    last = ["the start of the file"]  # the last element read, to say where an error is
    try:
        _progress(progress, 0.05, "reading ways")
        fp = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for k, w in enumerate(fp):
            if k % 4096 == 0:
                _check_stop(stop)
            last[0] = f"way {w.id}"
            tags = {t.k: strip_controls(t.v) for t in w.tags}
            reason = drivable_reason(tags, options)
            if reason is not None:
                dropped[reason.split("=")[0] + "=" + reason.split("=", 1)[1]] += 1
                continue
            refs = [n.ref for n in w.nodes]
            if len(refs) < 2:
                continue
            ways.append((w.id, tags, refs))
            needed.update(refs)
        _progress(progress, 0.25, f"reading nodes of {len(ways)} drivable ways")
        coords: dict[int, tuple[float, float]] = {}
        last[0] = "the start of the nodes"
        if needed and min(needed) < 0:
            # JOSM's unsaved objects have negative ids, which osmium's IdTracker refuses:
            # filter the nodes here instead (slower, and only for such files)
            nodes = osmium.FileProcessor(str(path), osmium.osm.NODE)
        else:
            tracker = osmium.IdTracker()
            for r in needed:
                tracker.add_node(r)
            nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
                tracker.id_filter()
            )
        for k, n in enumerate(nodes):
            if k % 4096 == 0:
                _check_stop(stop)
            last[0] = f"node {n.id}"
            if n.id not in needed:
                continue
            loc = n.location
            if not loc.valid():
                continue
            lon, lat = loc.lon, loc.lat
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                raise RoadNetworkError(
                    f"{path}: node {n.id}: coordinate out of range (lon {lon:g}, lat {lat:g})"
                )
            coords[n.id] = (lon, lat)
    except (RoadNetworkError, Cancelled):
        raise
    except Exception as exc:  # osmium: RuntimeError, InvalidLocationError, "tag too long"…
        text = " ".join(str(exc).split()) or type(exc).__name__
        where = _locate_xml_problem(path, text) or f"after {last[0]}"
        raise RoadNetworkError(f"{path}: cannot read OSM data ({where}): {text}") from None
    if dropped:
        messages.append(
            f"dropped {sum(dropped.values())} non-drivable ways: "
            + ", ".join(f"{k} ×{n}" for k, n in dropped.most_common(8))
            + (" …" if len(dropped) > 8 else "")
        )
    if not ways:
        raise RoadNetworkError(f"{path}: no drivable roads found")

    if boundary is not None and coords:
        ids = np.fromiter(coords.keys(), dtype=np.int64, count=len(coords))
        xy = np.array(list(coords.values()), dtype=np.float64)
        inside = shapely.contains_xy(boundary, xy[:, 0], xy[:, 1])
        if not inside.any():
            raise RoadNetworkError(_outside_boundary_message(path, boundary, xy))
        for i in ids[~inside].tolist():
            del coords[i]
        messages.append(f"clipped to the boundary: {int((~inside).sum())} road nodes outside")

    g = nx.MultiDiGraph(crs="epsg:4326")
    missing_refs = 0
    split_ways = 0
    pieces_dropped = 0
    for way_id, tags, refs in ways:
        # Clipped extracts: split a way where it references nodes that are absent.
        runs: list[list[int]] = []
        cur: list[int] = []
        for r in refs:
            if r in coords:
                cur.append(r)
            else:
                missing_refs += 1
                if cur:
                    runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        if len(runs) != 1 or len(runs[0]) != len(refs):
            split_ways += 1
        direction = oneway_direction(tags)
        attrs = {
            "osmid": way_id,
            "highway": tags.get("highway", ""),
            "oneway": direction != 0,
        }
        for key in ("name", "ref", "maxspeed", "bridge"):
            if key in tags:
                attrs[key] = tags[key]
        for run in runs:
            if len(run) < 2:
                pieces_dropped += 1
                continue
            seq = run[::-1] if direction < 0 else run
            for a, b in zip(seq[:-1], seq[1:], strict=False):
                for n in (a, b):
                    if n not in g:
                        g.add_node(n, x=coords[n][0], y=coords[n][1])
                g.add_edge(a, b, reversed=False, **attrs)
                if direction == 0:
                    g.add_edge(b, a, reversed=True, **attrs)
    if missing_refs:
        messages.append(
            f"{split_ways} ways reference {missing_refs} nodes absent from the file "
            "(clipped extract): cut at the gaps"
        )
    if g.number_of_edges() == 0:
        raise RoadNetworkError(f"{path}: no drivable roads left after removing missing nodes")
    return g, messages


_XML_ELEMENT = re.compile(r'<(node|way|relation)\s[^>]*?\bid="(-?\d+)"')
_TOO_LONG = re.compile(r'\b[kv]="[^"]{1024,}')


def _locate_xml_problem(path: Path, message: str) -> str | None:
    """The element of an OSM XML file that osmium's parse error is about ("node 5, line 12"):
    the one holding the quoted value of the message (``wrong format for coordinate: '999'``)
    or an over-long tag. ``None`` for PBF files or when not found."""
    name = path.name.lower()
    if name.endswith((".pbf", ".graphml")):
        return None
    quoted = re.search(r"'([^']*)'", message)
    if quoted is not None:
        needle: re.Pattern[str] = re.compile(r'="' + re.escape(quoted.group(1)) + r'"')
    elif "too long" in message:
        needle = _TOO_LONG
    else:
        return None
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    element = None
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                for m in _XML_ELEMENT.finditer(line):
                    element = f"{m.group(1)} {m.group(2)}"
                if needle.search(line):
                    return f"{element}, line {n}" if element else f"line {n}"
    except (OSError, EOFError, ValueError):
        return None
    return None


def _outside_boundary_message(path: Path, boundary: BaseGeometry, xy: np.ndarray) -> str:
    """Why a clip left nothing: the boundary and the road data do not overlap (with both bboxes)."""
    bx = ", ".join(f"{v:.3f}" for v in boundary.bounds)
    rx = ", ".join(
        f"{v:.3f}" for v in (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())
    )
    return (
        f"{path}: the boundary contains none of the {len(xy)} road nodes "
        f"(boundary lon/lat box {bx}; roads {rx}) — is it the right area, in WGS-84?"
    )


def simplify_graph(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Drop self-loops, add edge lengths and simplify with osmnx, keeping one edge per class,
    name, ref and maxspeed (``g`` is changed in place; the simplified graph is returned)."""
    import osmnx as ox

    g.remove_edges_from([(u, v, k) for u, v, k in g.edges(keys=True) if u == v])
    ox.distance.add_edge_lengths(g)
    return ox.simplify_graph(g, edge_attrs_differ=list(_EDGE_ATTRS_DIFFER))


def _frames_from_graph(
    g: nx.MultiDiGraph,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Pair the two directions of each two-way road into one undirected edge row.

    An arc u→v is matched with an arc v→u whose geometry is its exact reverse; unmatched arcs
    are one-way rows.
    """
    import geopandas as gpd

    node_xy = {n: (float(d["x"]), float(d["y"])) for n, d in g.nodes(data=True)}
    arcs: list[tuple[int, int, tuple[tuple[float, float], ...], dict[str, Any]]] = []
    for u, v, d in g.edges(data=True):
        geom = d.get("geometry")
        if geom is None:
            coords = (node_xy[u], node_xy[v])
        else:
            coords = tuple(tuple(map(float, c[:2])) for c in geom.coords)
        arcs.append((u, v, coords, d))  # type: ignore[arg-type]
    pending: dict[tuple[Any, ...], list[int]] = {}
    for i, (u, v, coords, _) in enumerate(arcs):
        pending.setdefault((u, v, coords), []).append(i)
    used = np.zeros(len(arcs), bool)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for i, (u, v, coords, d) in enumerate(arcs):
        if used[i]:
            continue
        used[i] = True
        twin = None
        for j in pending.get((v, u, coords[::-1]), []):
            if not used[j] and j != i:
                twin = j
                break
        if twin is not None:
            used[twin] = True
        length = d.get("length")
        length_f = (
            float(np.sum([float(x) for x in tag_values(length)]))
            if length is not None
            else (math.nan)
        )
        rows.append(
            {
                "u": int(u),
                "v": int(v),
                "oneway": twin is None,
                "highway": first_text(d.get("highway")),
                "name": first_text(d.get("name")),
                "ref": first_text(d.get("ref")),
                "maxspeed_kmh": parse_maxspeed(d.get("maxspeed")),
                "length_m": length_f,
                "bridge": truthy_tag(d.get("bridge")),
            }
        )
        geoms.append(shapely.linestrings(coords))
    edges = gpd.GeoDataFrame(rows, columns=list(ROAD_EDGE_COLUMNS), geometry=geoms, crs="EPSG:4326")
    if edges["length_m"].isna().any():
        bad = edges["length_m"].isna().to_numpy()
        lengths = edges.loc[bad].to_crs(edges.loc[bad].estimate_utm_crs()).length
        edges.loc[bad, "length_m"] = lengths.to_numpy()
    edges["u"] = edges["u"].astype("int64")
    edges["v"] = edges["v"].astype("int64")
    edges["oneway"] = edges["oneway"].astype(bool)
    edges["bridge"] = edges["bridge"].astype(bool)
    edges["maxspeed_kmh"] = edges["maxspeed_kmh"].astype("float64")
    ids = np.array(list(node_xy.keys()), dtype=np.int64)
    xy = np.array(list(node_xy.values()), dtype=np.float64).reshape(-1, 2)
    nodes = gpd.GeoDataFrame(
        {"node_id": ids}, geometry=shapely.points(xy[:, 0], xy[:, 1]), crs="EPSG:4326"
    )
    return nodes, edges


def _graph_from_graphml(
    path: Path, options: RoadOptions, boundary: BaseGeometry | None
) -> tuple[nx.MultiDiGraph, list[str]]:
    import osmnx as ox

    try:
        g = ox.load_graphml(path)
    except Exception as exc:
        raise RoadNetworkError(f"{path}: cannot read GraphML: {exc}") from exc
    messages: list[str] = []
    drop = []
    reasons: Counter[str] = Counter()
    for u, v, k, d in g.edges(keys=True, data=True):
        hw = first_text(d.get("highway"))
        if hw not in options.speeds_kmh:
            drop.append((u, v, k))
            reasons[f"highway={hw}"] += 1
    g.remove_edges_from(drop)
    if drop:
        messages.append(
            f"dropped {len(drop)} non-drivable edges: "
            + ", ".join(f"{r} ×{n}" for r, n in reasons.most_common(8))
        )
    if boundary is not None:
        outside = [
            n for n, d in g.nodes(data=True) if not shapely.contains_xy(boundary, d["x"], d["y"])
        ]
        if outside and len(outside) == g.number_of_nodes():
            xy = np.array([(d["x"], d["y"]) for _, d in g.nodes(data=True)], dtype=np.float64)
            raise RoadNetworkError(_outside_boundary_message(path, boundary, xy))
        g.remove_nodes_from(outside)
        messages.append(f"clipped to the boundary: {len(outside)} road nodes outside")
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    if g.number_of_edges() == 0:
        raise RoadNetworkError(f"{path}: no drivable roads found")
    if not g.graph.get("simplified", False):
        g = simplify_graph(g)
    return g, messages


def load_osm(
    path: str | os.PathLike[str],
    *,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
    boundary: Any = None,
    progress: ProgressFn | None = None,
    stop: Callable[[], bool] | None = None,
) -> RoadNetwork:
    """Load a drivable road network from an OSM file.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.osm.pbf`` or osmnx ``.graphml``.
    options
        Speeds, component filtering, snap warning distance.
    boundary
        Optional polygon (shapely, lon/lat) or path of a vector file: only road nodes inside
        are kept (roads crossing it are cut at its edge).
    progress
        Optional ``progress(fraction, message)`` callback.
    stop
        Optional ``stop() -> bool``, polled while reading and between the steps.

    Raises
    ------
    RoadNetworkError
        The file is missing, unreadable, of an unknown format or holds no drivable road.
    Cancelled
        ``stop()`` returned True.
    """
    path = Path(path)
    if not path.exists():
        raise RoadNetworkError(f"OSM file not found: {path}")
    name = path.name.lower()
    clip = _boundary_geometry(boundary)
    t0 = time.perf_counter()
    if name.endswith(".graphml"):
        _progress(progress, 0.05, "reading GraphML")
        g, messages = _graph_from_graphml(path, options, clip)
    elif name.endswith(_OSM_SUFFIXES):
        g, messages = _read_osm_ways(path, options, clip, progress, stop)
        _check_stop(stop)
        _progress(progress, 0.5, f"simplifying {g.number_of_nodes()} nodes")
        g = simplify_graph(g)
    else:
        raise RoadNetworkError(
            f"{path}: unknown road file format (expected .osm, .osm.gz, .osm.bz2, .osm.pbf "
            "or .graphml)"
        )
    _check_stop(stop)
    net = network_from_graph(g, messages, options, str(path), progress, t0)
    _check_stop(stop)
    return net


def network_from_graph(
    g: nx.MultiDiGraph,
    messages: list[str],
    options: RoadOptions,
    source: str,
    progress: ProgressFn | None,
    t0: float,
) -> RoadNetwork:
    """A network from an osmnx-style graph; its report starts with ``messages`` (what the
    reader dropped) and ends with the size and the time since ``t0`` (``time.perf_counter``)."""
    _progress(progress, 0.8, "building network arrays")
    nodes, edges = _frames_from_graph(g)
    net = RoadNetwork.from_frames(nodes, edges, options=options, source=source)
    rep = net.report
    if net.n_edges == 0:
        why = "; ".join((*messages, *rep.messages))
        raise RoadNetworkError(
            f"{source}: no usable road left ({len(edges)} edges read, none in a network a "
            f"vehicle can drive through and back — e.g. every road is one-way)"
            + (f": {why}" if why else "")
        )
    msgs = (
        *messages,
        *rep.messages,
        f"{rep.nodes} nodes, {rep.edges} edges ({net.n_arcs} arcs) in "
        f"{time.perf_counter() - t0:.1f} s",
    )
    net = net.with_report(
        LoadReport(rep.nodes, rep.edges, rep.dropped_nodes, rep.dropped_edges, tuple(msgs))
    )
    _progress(progress, 1.0, "done")
    return net
