"""Drivable road networks: OpenStreetMap → an immutable graph of numpy arrays.

A :class:`RoadNetwork` holds

* nodes: ``node_id`` (OSM id, int64), ``lon``/``lat`` (WGS-84) and ``x``/``y`` (metres in a
  local UTM zone, :attr:`RoadNetwork.crs`);
* an undirected *edge table*, one row per road segment between two junctions, with its
  geometry (lon/lat LineString from ``u`` to ``v``), class, name, ref, tagged maxspeed, length,
  bridge flag and whether it is one-way — this is what the workspace stores and the map draws;
* directed *arcs* derived from the edge table (a two-way edge gives two arcs), with length and
  travel time computed from :class:`RoadOptions` at load time — this is what
  :mod:`gis.matrix` routes on.

Loading (:func:`load_osm`) reads ``.osm``/``.osm.gz``/``.osm.bz2``/``.osm.pbf`` with pyosmium
(two streaming passes: drivable ways, then only the nodes they use), builds a networkx graph and
simplifies it with osmnx (edges are split where class, name, ref or maxspeed change, so every
edge has one speed and one name for turn lists), then keeps the largest strongly connected
component and reports what it dropped. ``.graphml`` files written by osmnx load too.

Closures (:class:`gis.model.RoadClosure`) are applied with :meth:`RoadNetwork.with_closures`:
closed arcs get an infinite travel time (they keep their index, so arc numbering is stable),
slowed arcs take ``time / speed_factor``.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import math
import os
import socket
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gis.errors import NetworkUnavailableError, RoadNetworkError, ValidationError
from gis.model import ROAD_EDGE_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

    from gis.model import RoadClosure

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "ROAD_CLASS_ZH",
    "RoadOptions",
    "LoadReport",
    "SnapResult",
    "RoadNetwork",
    "road_class_zh",
    "parse_maxspeed",
    "load_osm",
    "download_osm",
    "load_network_cached",
    "cache_dir",
    "file_fingerprint",
    "LOADER_VERSION",
]

# --------------------------------------------------------------------------------------------
# Speeds and classes
# --------------------------------------------------------------------------------------------

#: Default speed per OSM ``highway`` class, km/h, for Chinese rural roads: 高速 100, 国道 70,
#: 省道 60, 县道 40, 乡道 30, 村道 20; ``*_link`` ramps a little slower than their parent.
#: Only classes listed in :attr:`RoadOptions.speeds_kmh` are loaded as drivable.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 100.0,
        "motorway_link": 80.0,
        "trunk": 70.0,
        "trunk_link": 60.0,
        "primary": 60.0,
        "primary_link": 50.0,
        "secondary": 40.0,
        "secondary_link": 35.0,
        "tertiary": 30.0,
        "tertiary_link": 25.0,
        "unclassified": 20.0,
        "residential": 20.0,
        "road": 20.0,
        "service": 15.0,
        "track": 15.0,
        "living_street": 10.0,
    }
)

#: OSM ``highway`` class → Chinese administrative road class used in the UI and turn lists.
ROAD_CLASS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "motorway": "高速",
        "motorway_link": "高速",
        "trunk": "国道",
        "trunk_link": "国道",
        "primary": "省道",
        "primary_link": "省道",
        "secondary": "县道",
        "secondary_link": "县道",
        "tertiary": "乡道",
        "tertiary_link": "乡道",
        "unclassified": "村道",
        "residential": "村道",
        "living_street": "村道",
        "road": "其他",
        "service": "其他",
        "track": "其他",
    }
)


def road_class_zh(highway: str) -> str:
    """Chinese class label of an OSM ``highway`` value (``其他`` when unknown)."""
    return ROAD_CLASS_ZH.get(highway, "其他")



#: Bumped whenever loading changes its output, so that cached networks are rebuilt.
LOADER_VERSION = 1

_SUPPORTED_NETWORK_TYPES = ("drive",)
# Tag values that make a way unusable by a motor vehicle (emergency access is kept).
_NO_ACCESS = {"no", "private"}
_SKIP_SERVICE = {"parking_aisle", "driveway", "parking", "drive-through"}
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_BACKWARD = {"-1", "reverse"}


@dataclass(frozen=True)
class RoadOptions:
    """How a road network is built.

    Parameters
    ----------
    speeds_kmh
        Speed per OSM ``highway`` class; classes not listed are not drivable and are dropped
        when loading OSM. A tagged ``maxspeed`` wins over the class speed.
    keep_largest_scc
        Keep only the largest strongly connected component (every node can reach every other).
    snap_warn_m
        Snaps farther than this from their network node are flagged.
    network_type
        Only ``"drive"`` (motor vehicles) for now.
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    keep_largest_scc: bool = True
    snap_warn_m: float = 500.0
    network_type: str = "drive"

    def __post_init__(self) -> None:
        speeds = dict(self.speeds_kmh)
        for cls, kmh in speeds.items():
            if not isinstance(cls, str) or not cls:
                raise ValidationError(f"RoadOptions: speeds_kmh has an invalid class {cls!r}")
            try:
                value = float(kmh)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"RoadOptions: speeds_kmh[{cls!r}] must be a number, got {kmh!r}"
                ) from None
            if not math.isfinite(value) or value <= 0:
                raise ValidationError(f"RoadOptions: speeds_kmh[{cls!r}] must be > 0, got {kmh!r}")
            speeds[cls] = value
        if not speeds:
            raise ValidationError("RoadOptions: speeds_kmh is empty (no drivable road class)")
        object.__setattr__(self, "speeds_kmh", MappingProxyType(speeds))
        if not math.isfinite(float(self.snap_warn_m)) or self.snap_warn_m < 0:
            raise ValidationError(f"RoadOptions: snap_warn_m must be ≥ 0, got {self.snap_warn_m!r}")
        object.__setattr__(self, "snap_warn_m", float(self.snap_warn_m))
        if self.network_type not in _SUPPORTED_NETWORK_TYPES:
            raise ValidationError(
                f"RoadOptions: network_type must be one of {_SUPPORTED_NETWORK_TYPES}, "
                f"got {self.network_type!r}"
            )

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy does not pickle
        return (
            type(self),
            (dict(self.speeds_kmh), self.keep_largest_scc, self.snap_warn_m, self.network_type),
        )

    def fingerprint(self) -> str:
        """Stable text of the options (part of cache keys and content hashes)."""
        return json.dumps(
            {
                "speeds_kmh": sorted(self.speeds_kmh.items()),
                "keep_largest_scc": bool(self.keep_largest_scc),
                "snap_warn_m": self.snap_warn_m,
                "network_type": self.network_type,
            },
            sort_keys=True,
        )

    def speed_for(self, highway: str) -> float:
        """Class speed in km/h (``unclassified``'s speed, else 20, for an unknown class)."""
        return float(self.speeds_kmh.get(highway, self.speeds_kmh.get("unclassified", 20.0)))


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
    return np.array(["" if _is_missing(v) else str(v) for v in values], dtype=object)


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover
        return False


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

    Build it with :meth:`from_frames`, :func:`load_osm`, :func:`download_osm` or
    :meth:`load_cache`; never mutate its arrays (they are read-only).
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
    def _assemble(
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
        coords, offsets = _pack_lines(self.edge_geometry)
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
        nodes = _to_wgs84(nodes, "nodes")
        edges = _to_wgs84(edges, "edges")
        if "node_id" not in nodes.columns:
            raise RoadNetworkError("road nodes frame: missing column 'node_id'")
        for col in ("u", "v", "highway", "length_m"):
            if col not in edges.columns:
                raise RoadNetworkError(f"road edges frame: missing column {col!r}")
        node_id = np.asarray(nodes["node_id"], dtype=np.int64)
        if np.unique(node_id).size != node_id.size:
            dup = Counter(node_id.tolist()).most_common(1)[0][0]
            raise RoadNetworkError(f"road nodes frame: node_id {dup} appears more than once")
        ngeom = np.asarray(nodes.geometry.values, dtype=object)
        bad = np.flatnonzero(shapely.get_type_id(ngeom) != 0)
        if bad.size:
            raise RoadNetworkError(f"road nodes frame: row {int(bad[0])}: geometry is not a Point")
        lon = shapely.get_x(ngeom).astype(float)
        lat = shapely.get_y(ngeom).astype(float)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            row = int(np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))[0])
            raise RoadNetworkError(f"road nodes frame: row {row}: coordinates are not finite")

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
                    f"road edges frame: row {row}, column {col!r}: node {int(ids[row])} "
                    "is not in the nodes frame"
                )
            return order[pos]

        eu = index_of(u_id, "u")
        ev = index_of(v_id, "v")
        geom = np.asarray(edges.geometry.values, dtype=object)
        bad = np.flatnonzero(shapely.get_type_id(geom) != 1)
        if bad.size:
            raise RoadNetworkError(
                f"road edges frame: row {int(bad[0])}: geometry is not a LineString"
            )
        length = np.asarray(edges["length_m"], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(length) | (length < 0))
        if bad.size:
            raise RoadNetworkError(
                f"road edges frame: row {int(bad[0])}, column 'length_m': "
                f"{length[bad[0]]!r} is not a length ≥ 0"
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
        return cls._assemble(
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
        """The nodes and edges frames (EPSG:4326) — the inverse of :meth:`from_frames`."""
        import geopandas as gpd
        import pandas as pd

        nodes = gpd.GeoDataFrame(
            {"node_id": pd.Series(self.node_id.copy(), dtype="int64")},
            geometry=shapely.points(self.lon, self.lat),
            crs="EPSG:4326",
        )
        edges = gpd.GeoDataFrame(
            {
                "u": pd.Series(self.node_id[self.edge_u], dtype="int64"),
                "v": pd.Series(self.node_id[self.edge_v], dtype="int64"),
                "oneway": pd.Series(self.edge_oneway.copy(), dtype=bool),
                "highway": pd.Series(self.edge_highway.copy(), dtype=object),
                "name": pd.Series(self.edge_name.copy(), dtype=object),
                "ref": pd.Series(self.edge_ref.copy(), dtype=object),
                "maxspeed_kmh": pd.Series(self.edge_maxspeed_kmh.copy(), dtype="float64"),
                "length_m": pd.Series(self.edge_length_m.copy(), dtype="float64"),
                "bridge": pd.Series(self.edge_bridge.copy(), dtype=bool),
            },
            geometry=list(self.edge_geometry),
            crs="EPSG:4326",
        )
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
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        d = new.__dict__
        d["travel_time_s"] = _readonly(time_s)
        d["closures"] = closures
        d["_memo"] = self.__dict__["_memo"]  # geometry caches are shared, they do not change
        h = hashlib.sha256(self.base_hash.encode())
        for c in closures:
            h.update(
                json.dumps([c.id, c.radius_m, c.speed_factor]).encode() + shapely.to_wkb(c.geometry)
            )
        d["content_hash"] = h.hexdigest() if closures else self.base_hash
        return new

    # ---- cache -------------------------------------------------------------------------

    def save_cache(self, path: str | os.PathLike[str]) -> None:
        """Write the network (without closures) to a ``.npz`` file, atomically."""
        path = Path(path)
        coords, offsets = _pack_lines(self.edge_geometry)
        meta = {
            "format": "reliefdesk-roads",
            "version": 1,
            "source": self.source,
            "content_hash": self.base_hash,
            "options": {
                "speeds_kmh": dict(self.options.speeds_kmh),
                "keep_largest_scc": self.options.keep_largest_scc,
                "snap_warn_m": self.options.snap_warn_m,
                "network_type": self.options.network_type,
            },
            "report": {
                "nodes": self.report.nodes,
                "edges": self.report.edges,
                "dropped_nodes": self.report.dropped_nodes,
                "dropped_edges": self.report.dropped_edges,
                "messages": list(self.report.messages),
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    meta=np.array(json.dumps(meta)),
                    node_id=self.node_id,
                    lon=self.lon,
                    lat=self.lat,
                    edge_u=self.edge_u,
                    edge_v=self.edge_v,
                    oneway=self.edge_oneway,
                    highway=_unicode(self.edge_highway),
                    name=_unicode(self.edge_name),
                    ref=_unicode(self.edge_ref),
                    maxspeed=self.edge_maxspeed_kmh,
                    length_m=self.edge_length_m,
                    bridge=self.edge_bridge,
                    geom_coords=coords,
                    geom_offsets=offsets,
                )
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load_cache(cls, path: str | os.PathLike[str]) -> RoadNetwork:
        """Read a network written by :meth:`save_cache`.

        Raises
        ------
        RoadNetworkError
            The file is missing, not a ReliefDesk road cache, or damaged.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != "reliefdesk-roads" or meta.get("version") != 1:
                    raise RoadNetworkError(f"{path}: not a ReliefDesk road cache (version 1)")
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except RoadNetworkError:
            raise
        except Exception as exc:  # zipfile/npz/json errors of a damaged file
            raise RoadNetworkError(f"{path}: cannot read road cache: {exc}") from exc
        opts = meta["options"]
        options = RoadOptions(
            speeds_kmh=opts["speeds_kmh"],
            keep_largest_scc=opts["keep_largest_scc"],
            snap_warn_m=opts["snap_warn_m"],
            network_type=opts["network_type"],
        )
        rep = meta["report"]
        report = LoadReport(
            nodes=rep["nodes"],
            edges=rep["edges"],
            dropped_nodes=rep["dropped_nodes"],
            dropped_edges=rep["dropped_edges"],
            messages=tuple(rep["messages"]),
        )
        geometry = _unpack_lines(arrays["geom_coords"], arrays["geom_offsets"])
        net = cls._assemble(
            node_id=arrays["node_id"],
            lon=arrays["lon"],
            lat=arrays["lat"],
            edge_u=arrays["edge_u"],
            edge_v=arrays["edge_v"],
            oneway=arrays["oneway"],
            highway=arrays["highway"].astype(object),
            name=arrays["name"].astype(object),
            ref=arrays["ref"].astype(object),
            maxspeed=arrays["maxspeed"],
            length_m=arrays["length_m"],
            bridge=arrays["bridge"],
            geometry=geometry,
            options=options,
            source=meta["source"],
            report=report,
        )
        if net.base_hash != meta["content_hash"]:
            raise RoadNetworkError(f"{path}: road cache content hash mismatch (damaged file)")
        return net


def _unicode(a: np.ndarray) -> np.ndarray:
    return np.array([str(s) for s in a], dtype=str) if len(a) else np.array([], dtype="<U1")


def _pack_lines(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(geoms, dtype=object)
    counts = shapely.get_num_coordinates(g).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    coords = shapely.get_coordinates(g) if g.size else np.zeros((0, 2))
    return np.ascontiguousarray(coords, dtype=np.float64), offsets


def _unpack_lines(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# OSM tag parsing
# --------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
        return list(parsed) if isinstance(parsed, list | tuple) else [parsed]
    return [value]


def parse_maxspeed(value: Any) -> float:
    """OSM ``maxspeed`` → km/h (NaN if absent or symbolic such as ``none``/``CN:rural``).

    Handles plain numbers, ``km/h``/``kmh``/``mph`` units, ``a;b`` alternatives and lists
    (from simplified graphs), of which the mean is taken (as osmnx does).
    """
    values: list[float] = []
    for item in _as_list(value):
        if _is_missing(item):
            continue
        for part in str(item).split(";"):
            text = part.strip().lower()
            factor = 1.0
            if text.endswith("mph"):
                factor = 1.609344
                text = text[:-3]
            for unit in ("km/h", "kmh", "kph"):
                text = text.removesuffix(unit)
            try:
                v = float(text.strip()) * factor
            except ValueError:
                continue
            if math.isfinite(v) and v > 0:
                values.append(v)
    return float(np.mean(values)) if values else math.nan


def _truthy_tag(value: Any) -> bool:
    return any(
        not _is_missing(v) and str(v).strip().lower() not in ("", "no", "false", "0")
        for v in _as_list(value)
    )


def _first_text(value: Any) -> str:
    items = [str(v) for v in _as_list(value) if not _is_missing(v) and str(v)]
    return items[0] if items else ""


def _drivable(tags: Mapping[str, str], options: RoadOptions) -> str | None:
    """``None`` if a way with these tags is drivable, else the reason it is not."""
    hw = tags.get("highway", "")
    if hw not in options.speeds_kmh:
        return f"highway={hw}"
    if tags.get("area") == "yes":
        return "area=yes"
    for key in ("motor_vehicle", "motorcar", "vehicle"):
        if tags.get(key) in _NO_ACCESS:
            return f"{key}={tags[key]}"
    allowed = ("yes", "designated")
    if (
        tags.get("access") in _NO_ACCESS
        and tags.get("motor_vehicle") not in allowed
        and tags.get("motorcar") not in allowed
    ):
        return f"access={tags['access']}"
    if hw == "service" and tags.get("service") in _SKIP_SERVICE:
        return f"service={tags['service']}"
    return None


def _oneway_direction(tags: Mapping[str, str]) -> int:
    """+1 one-way forward, -1 one-way backward, 0 two-way."""
    ow = str(tags.get("oneway", "")).strip().lower()
    if ow in _ONEWAY_FORWARD:
        return 1
    if ow in _ONEWAY_BACKWARD:
        return -1
    if ow in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1  # implied one-way (OSM convention)
    return 0


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

ProgressFn = Callable[[float, str], None]
_EDGE_ATTRS_DIFFER = ("highway", "name", "ref", "maxspeed")
_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".xml", ".xml.gz", ".xml.bz2")


def _progress(progress: ProgressFn | None, frac: float, msg: str) -> None:
    if progress is not None:
        progress(frac, msg)


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
    path: Path, options: RoadOptions, boundary: BaseGeometry | None, progress: ProgressFn | None
) -> tuple[nx.MultiDiGraph, list[str]]:
    """Two pyosmium passes → unsimplified MultiDiGraph of drivable ways (osmnx conventions)."""
    import networkx as nx
    import osmium

    messages: list[str] = []
    ways: list[tuple[int, dict[str, str], list[int]]] = []
    dropped: Counter[str] = Counter()
    tracker = osmium.IdTracker()
    try:
        _progress(progress, 0.05, "reading ways")
        fp = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for w in fp:
            tags = {t.k: t.v for t in w.tags}
            reason = _drivable(tags, options)
            if reason is not None:
                dropped[reason.split("=")[0] + "=" + reason.split("=", 1)[1]] += 1
                continue
            refs = [n.ref for n in w.nodes]
            if len(refs) < 2:
                continue
            ways.append((w.id, tags, refs))
            for r in refs:
                tracker.add_node(r)
        _progress(progress, 0.25, f"reading nodes of {len(ways)} drivable ways")
        coords: dict[int, tuple[float, float]] = {}
        for n in osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(tracker.id_filter()):
            loc = n.location
            if loc.valid():
                coords[n.id] = (loc.lon, loc.lat)
    except RuntimeError as exc:
        raise RoadNetworkError(f"{path}: cannot read OSM data: {exc}") from exc
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
        direction = _oneway_direction(tags)
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


def _simplify(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
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
            float(np.sum([float(x) for x in _as_list(length)]))
            if length is not None
            else (math.nan)
        )
        rows.append(
            {
                "u": int(u),
                "v": int(v),
                "oneway": twin is None,
                "highway": _first_text(d.get("highway")),
                "name": _first_text(d.get("name")),
                "ref": _first_text(d.get("ref")),
                "maxspeed_kmh": parse_maxspeed(d.get("maxspeed")),
                "length_m": length_f,
                "bridge": _truthy_tag(d.get("bridge")),
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
        hw = _first_text(d.get("highway"))
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
        g = _simplify(g)
    return g, messages


def load_osm(
    path: str | os.PathLike[str],
    *,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
    boundary: Any = None,
    progress: ProgressFn | None = None,
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

    Raises
    ------
    RoadNetworkError
        The file is missing, unreadable, of an unknown format or holds no drivable road.
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
        g, messages = _read_osm_ways(path, options, clip, progress)
        _progress(progress, 0.5, f"simplifying {g.number_of_nodes()} nodes")
        g = _simplify(g)
    else:
        raise RoadNetworkError(
            f"{path}: unknown road file format (expected .osm, .osm.gz, .osm.bz2, .osm.pbf "
            "or .graphml)"
        )
    return _network_from_graph(g, messages, options, str(path), progress, t0)


def _network_from_graph(
    g: nx.MultiDiGraph,
    messages: list[str],
    options: RoadOptions,
    source: str,
    progress: ProgressFn | None,
    t0: float,
) -> RoadNetwork:
    _progress(progress, 0.8, "building network arrays")
    nodes, edges = _frames_from_graph(g)
    net = RoadNetwork.from_frames(nodes, edges, options=options, source=source)
    rep = net.report
    msgs = (
        *messages,
        *rep.messages,
        f"{rep.nodes} nodes, {rep.edges} edges ({net.n_arcs} arcs) in "
        f"{time.perf_counter() - t0:.1f} s",
    )
    net.__dict__["report"] = LoadReport(
        rep.nodes, rep.edges, rep.dropped_nodes, rep.dropped_edges, tuple(msgs)
    )
    _progress(progress, 1.0, "done")
    return net


def _check_online(url: str, timeout: float = 3.0) -> None:
    host = urllib.parse.urlparse(url).hostname or url
    port = 443 if url.startswith("https") else 80
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise NetworkUnavailableError(
            f"cannot download roads: {host} is not reachable ({exc}). Work offline by importing "
            "an OSM file (.osm.pbf / .osm) of the county instead."
        ) from None


def download_osm(
    *,
    polygon: BaseGeometry | None = None,
    place: str | None = None,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
) -> RoadNetwork:
    """Download the drivable roads inside ``polygon`` (lon/lat) or ``place`` with osmnx.

    Raises
    ------
    NetworkUnavailableError
        The Overpass/Nominatim servers cannot be reached (offline).
    RoadNetworkError
        Neither or both of ``polygon``/``place`` given, or the area has no roads.
    """
    import osmnx as ox

    if (polygon is None) == (place is None):
        raise RoadNetworkError("download_osm: give exactly one of polygon= or place=")
    _check_online(ox.settings.overpass_url)
    if place is not None:
        _check_online(ox.settings.nominatim_url)
    hw = "|".join(sorted(options.speeds_kmh))
    custom = (
        f'["highway"~"^({hw})$"]["area"!~"yes"]["access"!~"private|no"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"parking_aisle|driveway|parking|drive-through"]'
    )
    old_cache = ox.settings.cache_folder
    ox.settings.cache_folder = str(cache_dir() / "osmnx")
    t0 = time.perf_counter()
    try:
        if place is not None:
            polygon = ox.geocode_to_gdf(place).geometry.union_all()
        g = ox.graph_from_polygon(
            polygon, custom_filter=custom, simplify=False, retain_all=True, truncate_by_edge=True
        )
    except NetworkUnavailableError:
        raise
    except Exception as exc:
        import requests

        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            raise NetworkUnavailableError(f"cannot download roads: {exc}") from exc
        raise RoadNetworkError(f"cannot download roads: {exc}") from exc
    finally:
        ox.settings.cache_folder = old_cache
    g = _simplify(g)
    source = f"osmnx download: {place}" if place else "osmnx download: polygon"
    return _network_from_graph(g, [], options, source, None, t0)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$RELIEFDESK_CACHE_DIR`` or ``~/.cache/reliefdesk``."""
    env = os.environ.get("RELIEFDESK_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "reliefdesk"


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (key material for :func:`load_network_cached`)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_network_cached(
    key_material: bytes | str,
    build: Callable[[], RoadNetwork],
    *,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
) -> RoadNetwork:
    """Return the cached network for ``key_material`` + ``options``, or ``build()`` and cache it.

    The key is the sha256 of the key material (e.g. :func:`file_fingerprint` of the OSM file, or
    the workspace's road layers' hash), ``options.fingerprint()`` and :data:`LOADER_VERSION`.
    A damaged cache file is rebuilt; a cache directory that cannot be written is ignored.
    """
    if isinstance(key_material, str):
        key_material = key_material.encode("utf-8")
    salt = f"loader-v{LOADER_VERSION}\0{options.fingerprint()}".encode()
    key = hashlib.sha256(key_material + b"\0" + salt).hexdigest()
    path = cache_dir() / "roads" / f"{key[:32]}.npz"
    if path.exists():
        try:
            return RoadNetwork.load_cache(path)
        except RoadNetworkError:
            pass
    net = build()
    with contextlib.suppress(OSError):
        net.save_cache(path)
    return net
