"""The road network value type: an immutable drivable graph held in numpy arrays.

A :class:`RoadNetwork` holds

* nodes: ``node_id`` (OSM id, int64), ``lon``/``lat`` (WGS-84) and ``x``/``y`` (metres in a
  local UTM zone, :attr:`RoadNetwork.crs`);
* an undirected *edge table*, one row per road segment between two junctions, with its
  geometry (lon/lat LineString from ``u`` to ``v``), class, name, ref, tagged maxspeed, length,
  bridge flag and whether it is one-way — this is what the workspace stores (schema:
  :data:`gis.model.ROAD_EDGE_COLUMNS`) and the map draws;
* directed *arcs* derived from the edge table (a two-way edge gives two arcs), with length and
  travel time computed from :class:`~gis.roads.classes.RoadOptions` when built — this is what
  :mod:`gis.matrix` routes on;
* a content hash of all of that and the options (:attr:`RoadNetwork.content_hash`, closures
  included), which matrices and plans record to say which network they were computed on.

It also answers the spatial questions asked of it: snapping points to nodes
(:meth:`RoadNetwork.snap`, giving a :class:`SnapResult`) and closures
(:class:`gis.model.RoadClosure`, applied with :meth:`RoadNetwork.with_closures`: closed arcs get
an infinite travel time (they keep their index, so arc numbering is stable), slowed arcs take
``time / speed_factor``). Snapping and closures stay methods here: they are a few dozen lines
each, share the lazily built projections and spatial indexes, and the module stays well under
800 lines.

Networks come from :meth:`RoadNetwork.from_frames` (validating), :func:`gis.roads.osm.load_osm`,
:func:`gis.roads.download.download_osm` or the ``.npz`` cache (:mod:`gis.roads.cache`, through
:meth:`RoadNetwork.from_arrays`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gis.errors import RoadNetworkError, ValidationError
from gis.model import ROAD_EDGE_COLUMNS, ROAD_NODE_COLUMNS
from gis.roads.classes import RoadOptions, is_missing

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

    from gis.model import RoadClosure

__all__ = ["LoadReport", "RoadNetwork", "SnapResult", "pack_lines", "unpack_lines"]


@dataclass(frozen=True)
class LoadReport:
    """What a load kept and dropped, with human-readable messages."""

    nodes: int
    edges: int
    dropped_nodes: int = 0
    dropped_edges: int = 0
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class SnapResult:
    """Nearest network node of each query point.

    ``node`` are node indices, ``distance_m`` the straight-line distance to that node, and
    ``flagged`` is True where ``distance_m > snap_warn_m``.
    """

    node: np.ndarray
    distance_m: np.ndarray
    flagged: np.ndarray
    snap_warn_m: float

    def __len__(self) -> int:
        return int(self.node.shape[0])


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _text_array(values: Iterable[Any]) -> np.ndarray:
    return np.array(["" if is_missing(v) else str(v) for v in values], dtype=object)


def _utm_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    if lon.size == 0:
        return "EPSG:3857"
    clon, clat = float(np.mean(lon)), float(np.mean(lat))
    zone = int(math.floor((clon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if clat >= 0 else 32700) + zone}"


# --------------------------------------------------------------------------------------------
# RoadNetwork
# --------------------------------------------------------------------------------------------


class RoadNetwork:
    """An immutable drivable road network held in numpy arrays (see module docstring).

    Build it with :meth:`from_frames`, :func:`~gis.roads.osm.load_osm`,
    :func:`~gis.roads.download.download_osm` or :func:`~gis.roads.cache.load_cache`; never
    mutate its arrays (they are read-only).
    """

    # node arrays
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    # undirected edge table
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_oneway: np.ndarray
    edge_highway: np.ndarray
    edge_name: np.ndarray
    edge_ref: np.ndarray
    edge_maxspeed_kmh: np.ndarray
    edge_length_m: np.ndarray
    edge_bridge: np.ndarray
    edge_geometry: np.ndarray
    edge_speed_kmh: np.ndarray
    # directed arcs
    arc_u: np.ndarray
    arc_v: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    base_travel_time_s: np.ndarray
    highway: np.ndarray
    name: np.ndarray
    edge_row: np.ndarray
    arc_reversed: np.ndarray

    crs: str
    content_hash: str
    base_hash: str
    source: str
    report: LoadReport
    options: RoadOptions
    closures: tuple[RoadClosure, ...]

    def __init__(self) -> None:  # use the classmethods
        raise TypeError("build a RoadNetwork with from_frames, load_osm or load_cache")

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        *,
        node_id: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        oneway: np.ndarray,
        highway: np.ndarray,
        name: np.ndarray,
        ref: np.ndarray,
        maxspeed: np.ndarray,
        length_m: np.ndarray,
        bridge: np.ndarray,
        geometry: np.ndarray,
        options: RoadOptions,
        source: str,
        report: LoadReport,
    ) -> RoadNetwork:
        """Build a network from edge-table arrays that are already consistent.

        Node arrays are in node order; ``edge_u``/``edge_v`` are node *indices*. Nothing is
        validated or dropped (that is :meth:`from_frames`' job): this is the constructor behind
        it and behind :func:`gis.roads.cache.load_cache`. Arcs, speeds, travel times, the UTM
        projection and the content hash are derived here.
        """
        self = object.__new__(cls)
        s = self.__dict__
        s["node_id"] = _readonly(np.asarray(node_id, dtype=np.int64))
        s["lon"] = _readonly(np.asarray(lon, dtype=np.float64))
        s["lat"] = _readonly(np.asarray(lat, dtype=np.float64))
        s["crs"] = _utm_crs(self.lon, self.lat)
        tr = Transformer.from_crs("EPSG:4326", s["crs"], always_xy=True)
        x, y = tr.transform(self.lon, self.lat)
        s["x"] = _readonly(np.asarray(x, dtype=np.float64))
        s["y"] = _readonly(np.asarray(y, dtype=np.float64))
        s["edge_u"] = _readonly(np.asarray(edge_u, dtype=np.int32))
        s["edge_v"] = _readonly(np.asarray(edge_v, dtype=np.int32))
        s["edge_oneway"] = _readonly(np.asarray(oneway, dtype=bool))
        s["edge_highway"] = _readonly(np.asarray(highway, dtype=object))
        s["edge_name"] = _readonly(np.asarray(name, dtype=object))
        s["edge_ref"] = _readonly(np.asarray(ref, dtype=object))
        s["edge_maxspeed_kmh"] = _readonly(np.asarray(maxspeed, dtype=np.float64))
        s["edge_length_m"] = _readonly(np.asarray(length_m, dtype=np.float64))
        s["edge_bridge"] = _readonly(np.asarray(bridge, dtype=bool))
        s["edge_geometry"] = _readonly(np.asarray(geometry, dtype=object))
        class_speed = np.array([options.speed_for(h) for h in self.edge_highway], dtype=float)
        tagged = np.isfinite(self.edge_maxspeed_kmh) & (self.edge_maxspeed_kmh > 0)
        speed = np.where(tagged, self.edge_maxspeed_kmh, class_speed)
        s["edge_speed_kmh"] = _readonly(speed)
        # Edge travel time; a tiny floor keeps zero-length edges strictly positive so that
        # shortest-path trees are well ordered (csgraph and networkx see the same weights).
        edge_time = np.maximum(self.edge_length_m / (speed / 3.6), 1e-3)

        rows = np.arange(self.edge_u.shape[0], dtype=np.int64)
        back = rows[~self.edge_oneway]
        arc_edge = np.concatenate([rows, back])
        arc_rev = np.concatenate([np.zeros(rows.size, bool), np.ones(back.size, bool)])
        s["arc_u"] = _readonly(
            np.where(arc_rev, self.edge_v[arc_edge], self.edge_u[arc_edge]).astype(np.int32)
        )
        s["arc_v"] = _readonly(
            np.where(arc_rev, self.edge_u[arc_edge], self.edge_v[arc_edge]).astype(np.int32)
        )
        s["edge_row"] = _readonly(arc_edge)
        s["arc_reversed"] = _readonly(arc_rev)
        s["length_m"] = _readonly(self.edge_length_m[arc_edge].copy())
        s["base_travel_time_s"] = _readonly(edge_time[arc_edge])
        s["travel_time_s"] = self.base_travel_time_s
        s["highway"] = _readonly(self.edge_highway[arc_edge])
        s["name"] = _readonly(self.edge_name[arc_edge])
        s["options"] = options
        s["source"] = str(source)
        s["report"] = report
        s["closures"] = ()
        s["base_hash"] = self._compute_hash()
        s["content_hash"] = self.base_hash
        s["_memo"] = {}
        return self

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"RoadNetwork is immutable (tried to set {key!r})")

    def __getstate__(self) -> dict[str, Any]:  # pickling (e.g. to a worker process)
        state = dict(self.__dict__)
        state["_memo"] = {}  # spatial indexes are rebuilt on demand
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self.__dict__.update(state)

    def __repr__(self) -> str:
        closed = f", {len(self.closures)} closures" if self.closures else ""
        return (
            f"<RoadNetwork {self.n_nodes} nodes, {self.n_edges} edges, {self.n_arcs} arcs, "
            f"{self.crs}{closed}, source={self.source!r}>"
        )

    @property
    def n_nodes(self) -> int:
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def n_arcs(self) -> int:
        return int(self.arc_u.shape[0])

    @property
    def arc_open(self) -> np.ndarray:
        """True for arcs a vehicle may use (not closed)."""
        return np.isfinite(self.travel_time_s)

    def _compute_hash(self) -> str:
        h = hashlib.sha256()
        h.update(b"reliefdesk-roads-v1")
        for arr in (self.node_id, self.lon, self.lat, self.edge_u, self.edge_v, self.edge_oneway):
            h.update(np.ascontiguousarray(arr).tobytes())
        for arr in (self.edge_maxspeed_kmh, self.edge_length_m, self.edge_bridge):
            h.update(np.ascontiguousarray(arr).tobytes())
        for arr in (self.edge_highway, self.edge_name, self.edge_ref):
            h.update("\x1f".join(arr.tolist()).encode("utf-8"))
        coords, offsets = pack_lines(self.edge_geometry)
        h.update(coords.tobytes())
        h.update(offsets.tobytes())
        h.update(self.options.fingerprint().encode())
        return h.hexdigest()

    @classmethod
    def from_frames(
        cls,
        nodes: gpd.GeoDataFrame,
        edges: gpd.GeoDataFrame,
        *,
        options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
        source: str = "",
    ) -> RoadNetwork:
        """Build a network from the nodes/edges frames (schema: :data:`gis.model.ROAD_EDGE_COLUMNS`).

        Frames in another CRS are reprojected to EPSG:4326. Missing optional columns
        (``oneway``, ``name``, ``ref``, ``maxspeed_kmh``, ``bridge``) take defaults
        (two-way, '', '', NaN, False). With ``options.keep_largest_scc`` only the largest
        strongly connected component is kept; :attr:`report` says what was dropped.

        Raises
        ------
        RoadNetworkError
            A required column is missing, a geometry is not a LineString, an edge references an
            unknown node, a node id repeats, or a length is negative/not finite.
        """
        where = f"{source}: " if source else ""
        nodes = _to_wgs84(nodes, "nodes")
        edges = _to_wgs84(edges, "edges")
        if "node_id" not in nodes.columns:
            raise RoadNetworkError(f"{where}road nodes frame: missing column 'node_id'")
        for col in ("u", "v", "highway", "length_m"):
            if col not in edges.columns:
                raise RoadNetworkError(f"{where}road edges frame: missing column {col!r}")
        node_id = np.asarray(nodes["node_id"], dtype=np.int64)
        if np.unique(node_id).size != node_id.size:
            dup = Counter(node_id.tolist()).most_common(1)[0][0]
            raise RoadNetworkError(f"{where}road nodes frame: node_id {dup} appears more than once")
        ngeom = np.asarray(nodes.geometry.values, dtype=object)
        bad = np.flatnonzero(shapely.get_type_id(ngeom) != 0)
        if bad.size:
            raise RoadNetworkError(
                f"{where}road nodes frame: row {int(bad[0])}: geometry is not a Point"
            )
        lon = shapely.get_x(ngeom).astype(float)
        lat = shapely.get_y(ngeom).astype(float)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            row = int(np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))[0])
            raise RoadNetworkError(
                f"{where}road nodes frame: row {row}: coordinates are not finite"
            )

        n_e = len(edges)
        u_id = np.asarray(edges["u"], dtype=np.int64)
        v_id = np.asarray(edges["v"], dtype=np.int64)
        order = np.argsort(node_id, kind="stable")
        sorted_ids = node_id[order]

        def index_of(ids: np.ndarray, col: str) -> np.ndarray:
            pos = np.searchsorted(sorted_ids, ids)
            pos = np.clip(pos, 0, max(sorted_ids.size - 1, 0))
            ok = sorted_ids[pos] == ids if sorted_ids.size else np.zeros(ids.size, bool)
            if not ok.all():
                row = int(np.flatnonzero(~ok)[0])
                raise RoadNetworkError(
                    f"{where}road edges frame: row {row}, column {col!r}: node {int(ids[row])} "
                    "is not in the nodes frame"
                )
            return order[pos]

        eu = index_of(u_id, "u")
        ev = index_of(v_id, "v")
        geom = np.asarray(edges.geometry.values, dtype=object)
        bad = np.flatnonzero(shapely.get_type_id(geom) != 1)
        if bad.size:
            raise RoadNetworkError(
                f"{where}road edges frame: row {int(bad[0])}: geometry is not a LineString"
            )
        length = np.asarray(edges["length_m"], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(length) | (length < 0))
        if bad.size:
            raise RoadNetworkError(
                f"{where}road edges frame: row {int(bad[0])}, column 'length_m': "
                f"{float(length[bad[0]]):g} is not a length ≥ 0"
            )

        def col(name: str, default: Any, dtype: Any) -> np.ndarray:
            if name in edges.columns:
                values = edges[name]
                if dtype is object:
                    return _text_array(values)
                if dtype is bool:
                    return np.asarray(values.fillna(False), dtype=bool)
                return np.asarray(values, dtype=dtype)
            return np.full(n_e, default, dtype=dtype)

        oneway = col("oneway", False, bool)
        highway = _text_array(edges["highway"])
        name = col("name", "", object)
        ref = col("ref", "", object)
        maxspeed = col("maxspeed_kmh", np.nan, np.float64)
        bridge = col("bridge", False, bool)

        messages: list[str] = []
        unknown = Counter(h for h in highway if h not in options.speeds_kmh)
        if unknown:
            fallback = options.speed_for("")
            messages.append(
                "edges of classes without a configured speed use "
                f"{fallback:g} km/h: "
                + ", ".join(f"{k or '(empty)'} ×{n}" for k, n in unknown.most_common())
            )

        keep_nodes = np.ones(node_id.size, bool)
        keep_edges = np.ones(n_e, bool)
        if options.keep_largest_scc and node_id.size:
            rows = np.arange(n_e)
            au = np.concatenate([eu, ev[~oneway]])
            av = np.concatenate([ev, eu[~oneway]])
            del rows
            g = coo_matrix(
                (np.ones(au.size, np.int8), (au, av)), shape=(node_id.size, node_id.size)
            ).tocsr()
            n_comp, labels = connected_components(g, directed=True, connection="strong")
            if n_comp > 1:
                sizes = np.bincount(labels)
                big = int(np.argmax(sizes))
                keep_nodes = labels == big
                keep_edges = keep_nodes[eu] & keep_nodes[ev]
                messages.append(
                    f"kept the largest strongly connected component ({int(sizes[big])} of "
                    f"{node_id.size} nodes); dropped {int((~keep_nodes).sum())} nodes and "
                    f"{int((~keep_edges).sum())} edges in {n_comp - 1} smaller components"
                )
        new_index = np.cumsum(keep_nodes) - 1
        report = LoadReport(
            nodes=int(keep_nodes.sum()),
            edges=int(keep_edges.sum()),
            dropped_nodes=int((~keep_nodes).sum()),
            dropped_edges=int((~keep_edges).sum()),
            messages=tuple(messages),
        )
        return cls.from_arrays(
            node_id=node_id[keep_nodes],
            lon=lon[keep_nodes],
            lat=lat[keep_nodes],
            edge_u=new_index[eu[keep_edges]],
            edge_v=new_index[ev[keep_edges]],
            oneway=oneway[keep_edges],
            highway=highway[keep_edges],
            name=name[keep_edges],
            ref=ref[keep_edges],
            maxspeed=maxspeed[keep_edges],
            length_m=length[keep_edges],
            bridge=bridge[keep_edges],
            geometry=geom[keep_edges],
            options=options,
            source=source,
            report=report,
        )

    def to_frames(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """The nodes and edges frames (EPSG:4326) — the inverse of :meth:`from_frames`.

        Columns and dtypes are :data:`gis.model.ROAD_NODE_COLUMNS` and
        :data:`gis.model.ROAD_EDGE_COLUMNS` (``str`` columns as ``object``), then ``geometry``.
        """
        import geopandas as gpd
        import pandas as pd

        def frame(
            values: Mapping[str, np.ndarray], schema: Mapping[str, str], geometry: Any
        ) -> gpd.GeoDataFrame:
            data = {
                col: pd.Series(values[col], dtype=object if dtype == "str" else dtype)
                for col, dtype in schema.items()
            }
            return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")

        nodes = frame(
            {"node_id": self.node_id.copy()},
            ROAD_NODE_COLUMNS,
            shapely.points(self.lon, self.lat),
        )
        edge_values = {
            "u": self.node_id[self.edge_u],
            "v": self.node_id[self.edge_v],
            "oneway": self.edge_oneway.copy(),
            "highway": self.edge_highway.copy(),
            "name": self.edge_name.copy(),
            "ref": self.edge_ref.copy(),
            "maxspeed_kmh": self.edge_maxspeed_kmh.copy(),
            "length_m": self.edge_length_m.copy(),
            "bridge": self.edge_bridge.copy(),
        }
        edges = frame(edge_values, ROAD_EDGE_COLUMNS, list(self.edge_geometry))
        return nodes, edges

    def to_networkx(self) -> nx.DiGraph:
        """A networkx DiGraph of the open arcs on node indices (parallel arcs: the fastest).

        Edge attributes ``travel_time_s``, ``length_m`` and ``arc`` (arc index), float as stored
        here; :meth:`gis.matrix.TravelTimeEngine.to_networkx` gives the engine's exact weights.
        """
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        open_arcs = np.flatnonzero(self.arc_open)
        order = open_arcs[np.argsort(self.travel_time_s[open_arcs], kind="stable")[::-1]]
        # slowest first so that the fastest parallel arc is written last and wins
        for a in order.tolist():
            g.add_edge(
                int(self.arc_u[a]),
                int(self.arc_v[a]),
                travel_time_s=float(self.travel_time_s[a]),
                length_m=float(self.length_m[a]),
                arc=a,
            )
        return g

    def to_osmnx_graph(self) -> nx.MultiDiGraph:
        """An osmnx-style MultiDiGraph (node ids, ``x``/``y`` lon/lat, edge geometry) e.g. for
        :func:`osmnx.save_graphml`. Closures are not represented."""
        import networkx as nx

        g = nx.MultiDiGraph(crs="epsg:4326", simplified=True)
        for i in range(self.n_nodes):
            g.add_node(int(self.node_id[i]), x=float(self.lon[i]), y=float(self.lat[i]))
        for a in range(self.n_arcs):
            e = int(self.edge_row[a])
            geom = self.edge_geometry[e]
            if self.arc_reversed[a]:
                geom = shapely.reverse(geom)
            data: dict[str, Any] = {
                "osmid": e,
                "highway": self.edge_highway[e],
                "oneway": bool(self.edge_oneway[e]),
                "reversed": bool(self.arc_reversed[a]),
                "length": float(self.edge_length_m[e]),
                "geometry": geom,
            }
            for key, value in (
                ("name", self.edge_name[e]),
                ("ref", self.edge_ref[e]),
            ):
                if value:
                    data[key] = value
            if np.isfinite(self.edge_maxspeed_kmh[e]):
                data["maxspeed"] = f"{self.edge_maxspeed_kmh[e]:g}"
            if self.edge_bridge[e]:
                data["bridge"] = "yes"
            g.add_edge(int(self.node_id[self.arc_u[a]]), int(self.node_id[self.arc_v[a]]), **data)
        return g

    # ---- spatial helpers ---------------------------------------------------------------

    def _lazy(self, key: str, make: Callable[[], Any]) -> Any:
        cache = self.__dict__["_memo"]
        if key not in cache:
            cache[key] = make()
        return cache[key]

    @property
    def _to_xy(self) -> Transformer:
        return self._lazy(
            "to_xy", lambda: Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        )

    def project(self, geometry: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in this network's metric CRS (:attr:`crs`)."""
        tr = self._to_xy
        return shapely.transform(
            geometry, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
        )

    def projected_edges(self) -> np.ndarray:
        """Edge geometries in :attr:`crs` (metres), computed once."""

        def make() -> np.ndarray:
            tr = self._to_xy
            return shapely.transform(
                np.asarray(self.edge_geometry, dtype=object),
                lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])),
            )

        return self._lazy("edges_xy", make)

    def _edge_tree(self) -> shapely.STRtree:
        return self._lazy("edge_tree", lambda: shapely.STRtree(self.projected_edges()))

    def _node_tree(self) -> Any:
        from scipy.spatial import cKDTree

        return self._lazy("node_tree", lambda: cKDTree(np.column_stack([self.x, self.y])))

    def snap(self, lon: Any, lat: Any) -> SnapResult:
        """Nearest node of each lon/lat point (vectorised; scalars give length-1 results).

        Raises
        ------
        ValidationError
            A coordinate is not finite or outside lon/lat bounds (the message gives its index).
        """
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if lon_a.shape != lat_a.shape or lon_a.ndim != 1:
            raise ValidationError(
                f"snap: lon and lat must be 1-D arrays of equal length, got {lon_a.shape} "
                f"and {lat_a.shape}"
            )
        ok = (
            np.isfinite(lon_a) & np.isfinite(lat_a) & (np.abs(lon_a) <= 180) & (np.abs(lat_a) <= 90)
        )
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise ValidationError(
                f"snap: point {i} has invalid coordinates lon={lon_a[i]!r}, lat={lat_a[i]!r}"
            )
        if self.n_nodes == 0:
            raise RoadNetworkError("snap: the road network has no nodes")
        x, y = self._to_xy.transform(lon_a, lat_a)
        dist, idx = self._node_tree().query(np.column_stack([x, y]))
        dist = np.asarray(dist, dtype=np.float64)
        return SnapResult(
            node=np.asarray(idx, dtype=np.int64),
            distance_m=dist,
            flagged=dist > self.options.snap_warn_m,
            snap_warn_m=self.options.snap_warn_m,
        )

    # ---- closures ----------------------------------------------------------------------

    def closed_edges(self, closures: Sequence[RoadClosure]) -> dict[str, np.ndarray]:
        """Edge rows affected by each closure, keyed by closure id.

        A point affects edges within ``radius_m`` of it, a line the edges it intersects, a
        polygon the edges inside or crossing it (distances in metres, in :attr:`crs`).
        """
        tree = self._edge_tree()
        out: dict[str, np.ndarray] = {}
        for c in closures:
            g = self.project(c.geometry)
            if g.geom_type == "Point":
                rows = tree.query(g, predicate="dwithin", distance=float(c.radius_m))
            else:
                rows = tree.query(g, predicate="intersects")
            out[c.id] = np.unique(np.asarray(rows, dtype=np.int64))
        return out

    def with_closures(self, closures: Sequence[RoadClosure]) -> RoadNetwork:
        """A copy with ``closures`` applied (they replace any applied before).

        Arcs of a closing closure (``speed_factor == 0``) get an infinite travel time; a
        slow-down divides the time by its factor. Where closures overlap, closing wins, then the
        smallest factor. Node and arc indices are unchanged, so matrices stay comparable.
        """
        closures = tuple(closures)
        if not closures and not self.closures:
            return self
        affected = self.closed_edges(closures)
        factor = np.ones(self.n_edges, dtype=np.float64)
        for c in closures:
            rows = affected[c.id]
            if rows.size:
                factor[rows] = np.minimum(factor[rows], float(c.speed_factor))
        arc_factor = factor[self.edge_row]
        with np.errstate(divide="ignore"):
            time_s = np.where(
                arc_factor > 0,
                self.base_travel_time_s / np.where(arc_factor > 0, arc_factor, 1),
                np.inf,
            )
        h = hashlib.sha256(self.base_hash.encode())
        for c in closures:
            h.update(
                json.dumps([c.id, c.radius_m, c.speed_factor]).encode() + shapely.to_wkb(c.geometry)
            )
        return self._copy(
            travel_time_s=_readonly(time_s),
            closures=closures,
            content_hash=h.hexdigest() if closures else self.base_hash,
        )

    # ---- copies ------------------------------------------------------------------------

    def with_report(self, report: LoadReport) -> RoadNetwork:
        """A copy with another :attr:`report` (a loader adds what it dropped before building)."""
        return self._copy(report=report)

    def _copy(self, **changes: Any) -> RoadNetwork:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        new.__dict__["_memo"] = self.__dict__["_memo"]  # geometry caches do not change: shared
        return new


def pack_lines(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LineStrings → (coordinates ``(n, 2)`` float64, offsets ``(len + 1,)`` int64).

    The flat form hashed into :attr:`RoadNetwork.content_hash` and stored in the road cache.
    """
    g = np.asarray(geoms, dtype=object)
    counts = shapely.get_num_coordinates(g).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    coords = shapely.get_coordinates(g) if g.size else np.zeros((0, 2))
    return np.ascontiguousarray(coords, dtype=np.float64), offsets


def unpack_lines(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The inverse of :func:`pack_lines`: an object array of LineStrings."""
    n = offsets.size - 1
    if n <= 0:
        return np.empty(0, dtype=object)
    idx = np.repeat(np.arange(n), np.diff(offsets))
    return np.asarray(shapely.linestrings(coords, indices=idx), dtype=object)


def _to_wgs84(frame: Any, what: str) -> Any:
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise RoadNetworkError(f"road {what}: expected a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        return frame
    if CRS.from_user_input(frame.crs).to_epsg() != 4326:
        return frame.to_crs("EPSG:4326")
    return frame
