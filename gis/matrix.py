"""Travel-time and distance matrices and paths over a :class:`gis.roads.RoadNetwork`.

:class:`TravelTimeEngine` is the one interface the rest of ReliefDesk uses; today it runs
:func:`scipy.sparse.csgraph.dijkstra` over a CSR matrix built once per network + closures. A
faster backend (contraction hierarchies) can later implement the same methods.

Conventions
-----------
* Weights are arc travel times in seconds (float). Between two nodes joined by parallel arcs the
  fastest open arc is used; closed arcs (infinite time) and self-loops are left out.
* ``seconds`` in a :class:`TravelMatrix` is the shortest float travel time rounded to the
  nearest integer (``numpy.rint``: halves go to the even integer). ``metres`` is the length of
  *that time-shortest path* (not the shortest distance), summed in float along the path and
  rounded the same way.
* Pairs with no path hold :data:`UNREACHABLE` in both integer matrices and ``False`` in
  ``reachable``; :meth:`TravelMatrix.unreachable_pairs` lists them.
* :meth:`TravelTimeEngine.matrix_lonlat` adds the off-road leg from each point to its snapped
  node at ``offroad_kmh`` (default 5 km/h, walking/pushing pace) to both time and distance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis.errors import ReliefDeskError, ValidationError
from gis.roads import RoadNetwork, SnapResult, road_class_zh

if TYPE_CHECKING:  # pragma: no cover
    from gis.model import RoadClosure

__all__ = [
    "UNREACHABLE",
    "DEFAULT_OFFROAD_KMH",
    "MatrixCancelled",
    "TravelMatrix",
    "Step",
    "Path",
    "TravelTimeEngine",
]

#: Sentinel stored in the int32 ``seconds`` and ``metres`` matrices for pairs with no path
#: (``np.iinfo(np.int32).max`` = 2 147 483 647, i.e. about 68 years — never a real time).
UNREACHABLE: int = int(np.iinfo(np.int32).max)

#: Off-road speed from a facility/incident to its snapped network node (km/h).
DEFAULT_OFFROAD_KMH: float = 5.0

# Upper bound on the number of float entries of one dijkstra block (sources × nodes).
_BLOCK_ENTRIES = 4_000_000


class MatrixCancelled(ReliefDeskError):
    """The ``stop`` callable asked a matrix computation to stop."""


@dataclass(frozen=True)
class TravelMatrix:
    """Sources × targets travel times and distances.

    Attributes
    ----------
    seconds, metres
        int32 ``[S, T]``; :data:`UNREACHABLE` where ``reachable`` is False.
    reachable
        bool ``[S, T]``.
    source_nodes, target_nodes
        Node indices the rows and columns refer to (snapped nodes for ``matrix_lonlat``).
    source_snap, target_snap
        Snap results when built from coordinates, else None.
    network_hash
        ``content_hash`` of the network (with closures) the matrix was computed on.
    """

    seconds: np.ndarray
    metres: np.ndarray
    reachable: np.ndarray
    source_nodes: np.ndarray
    target_nodes: np.ndarray
    source_snap: SnapResult | None = None
    target_snap: SnapResult | None = None
    network_hash: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.seconds.shape[0]), int(self.seconds.shape[1]))

    def unreachable_pairs(self) -> list[tuple[int, int]]:
        """(row, column) of every pair without a path, row-major."""
        rows, cols = np.nonzero(~self.reachable)
        return list(zip(rows.tolist(), cols.tolist(), strict=True))


@dataclass(frozen=True)
class Step:
    """One line of a turn list: a stretch along one road.

    ``road`` is the road's name, else its ref (e.g. G93), else its Chinese class label
    (高速/国道/省道/县道/乡道/村道/其他); ``highway`` the OSM class of its first arc.
    """

    road: str
    highway: str
    distance_m: float
    seconds: float


@dataclass(frozen=True)
class Path:
    """A time-shortest path between two nodes.

    ``nodes`` node indices (source first), ``arcs`` arc indices, ``seconds``/``metres`` rounded
    like the matrix, ``geometry`` a lon/lat LineString following the roads from the source node
    to the target node, ``steps`` the turn list (consecutive arcs on the same road merged).
    """

    nodes: tuple[int, ...]
    arcs: tuple[int, ...]
    seconds: int
    metres: int
    geometry: shapely.LineString
    steps: tuple[Step, ...]


def _step_label(name: str, ref: str, highway: str) -> str:
    if name:
        return name
    if ref:
        return ref
    return road_class_zh(highway)


class TravelTimeEngine:
    """Shortest travel times on a road network (optionally with closures applied).

    Parameters
    ----------
    network
        The road network; closures already applied to it are replaced by ``closures``.
    closures
        Road closures / slow-downs to apply (see :meth:`RoadNetwork.with_closures`).
    """

    def __init__(self, network: RoadNetwork, closures: Sequence[RoadClosure] = ()) -> None:
        self.base_network = network
        closures = tuple(closures)
        self.network = (
            network.with_closures(closures) if (closures or network.closures) else network
        )
        net = self.network
        n = net.n_nodes
        time_s = np.asarray(net.travel_time_s)
        ok = np.isfinite(time_s) & (net.arc_u != net.arc_v)
        arcs = np.flatnonzero(ok)
        u = net.arc_u[arcs].astype(np.int64)
        v = net.arc_v[arcs].astype(np.int64)
        t = time_s[arcs]
        order = np.lexsort((arcs, t, v, u))  # by u, then v, then fastest (then lowest arc id)
        arcs, u, v, t = arcs[order], u[order], v[order], t[order]
        key = u * n + v
        first = np.ones(key.size, bool)
        first[1:] = key[1:] != key[:-1]
        arcs, u, v, t, key = arcs[first], u[first], v[first], t[first], key[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        self._csr = csr_matrix((t, v.astype(np.int32), indptr), shape=(n, n))
        self._key = key  # sorted u * n + v of each CSR entry
        self._csr_arc = arcs  # arc index of each CSR entry
        self._csr_len = np.asarray(net.length_m)[arcs]
        self.closures = closures

    # ---- helpers ----------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return self.network.n_nodes

    def with_closures(self, closures: Sequence[RoadClosure]) -> TravelTimeEngine:
        """A new engine on the same base network with ``closures`` (replacing the current)."""
        return TravelTimeEngine(self.base_network, closures)

    def _entry(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """CSR entry positions of arcs p→v (which must exist)."""
        return np.searchsorted(self._key, p.astype(np.int64) * self.n_nodes + v)

    def _check_nodes(self, nodes: Any, what: str) -> np.ndarray:
        arr = np.atleast_1d(np.asarray(nodes))
        if arr.ndim != 1:
            raise ValidationError(f"{what}: expected a 1-D array of node indices")
        if (
            arr.size
            and not np.issubdtype(arr.dtype, np.integer)
            and not np.all(np.mod(arr, 1) == 0)
        ):
            raise ValidationError(f"{what}: node indices must be integers")
        arr = arr.astype(np.int64)
        bad = np.flatnonzero((arr < 0) | (arr >= self.n_nodes))
        if bad.size:
            i = int(bad[0])
            raise ValidationError(
                f"{what}[{i}] = {int(arr[i])} is not a node index (network has "
                f"{self.n_nodes} nodes)"
            )
        return arr

    def _float_matrix(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        stop: Callable[[], bool] | None,
        limit_s: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Float seconds and metres ``[S, T]`` (inf where unreachable)."""
        n = self.n_nodes
        uniq, inverse = np.unique(sources, return_inverse=True)
        secs = np.full((uniq.size, targets.size), np.inf)
        metres = np.full((uniq.size, targets.size), np.inf)
        block = max(1, _BLOCK_ENTRIES // max(n, 1))
        limit = np.inf if limit_s is None else float(limit_s)
        for start in range(0, uniq.size, block):
            if stop is not None and stop():
                raise MatrixCancelled("travel-time matrix cancelled")
            idx = uniq[start : start + block]
            dist, pred = dijkstra(
                self._csr, directed=True, indices=idx, return_predecessors=True, limit=limit
            )
            secs[start : start + idx.size] = dist[:, targets]
            metres[start : start + idx.size] = self._tree_metres(pred, idx, targets)
        return secs[inverse], metres[inverse]

    def _tree_metres(self, pred: np.ndarray, roots: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Length of the tree path root→target for each (root, target), inf if not reached."""
        rows = np.repeat(np.arange(roots.size), targets.size)
        cur = np.tile(targets, roots.size)
        out = np.zeros(rows.size)
        reached = (pred[rows, cur] >= 0) | (cur == roots[rows])
        out[~reached] = np.inf
        active = np.flatnonzero(reached & (cur != roots[rows]))
        node = cur[active]
        row = rows[active]
        # Walk every active pair one arc back towards its root per iteration (vectorised).
        while active.size:
            p = pred[row, node]
            out[active] += self._csr_len[self._entry(p, node)]
            keep = p != roots[row]
            active, node, row = active[keep], p[keep], row[keep]
        return out.reshape(roots.size, targets.size)

    @staticmethod
    def _to_int(a: np.ndarray) -> np.ndarray:
        finite = np.isfinite(a)
        out = np.full(a.shape, UNREACHABLE, dtype=np.int32)
        out[finite] = np.minimum(np.rint(a[finite]), UNREACHABLE - 1).astype(np.int32)
        return out

    # ---- public API -------------------------------------------------------------------

    def matrix(
        self,
        sources: Any,
        targets: Any,
        *,
        stop: Callable[[], bool] | None = None,
        limit_s: float | None = None,
    ) -> TravelMatrix:
        """Travel times and distances between node indices.

        Parameters
        ----------
        sources, targets
            Node indices (repeats allowed; each distinct source is searched once).
        stop
            Called between blocks of sources; returning True raises :class:`MatrixCancelled`.
        limit_s
            Optional search radius in seconds: pairs slower than this are reported unreachable.
        """
        src = self._check_nodes(sources, "sources")
        tgt = self._check_nodes(targets, "targets")
        secs, metres = self._float_matrix(src, tgt, stop, limit_s)
        return self._build(secs, metres, src, tgt)

    def _build(
        self,
        secs: np.ndarray,
        metres: np.ndarray,
        src: np.ndarray,
        tgt: np.ndarray,
        source_snap: SnapResult | None = None,
        target_snap: SnapResult | None = None,
    ) -> TravelMatrix:
        reachable = np.isfinite(secs)
        metres = np.where(reachable, metres, np.inf)
        return TravelMatrix(
            seconds=self._to_int(secs),
            metres=self._to_int(metres),
            reachable=reachable,
            source_nodes=src,
            target_nodes=tgt,
            source_snap=source_snap,
            target_snap=target_snap,
            network_hash=self.network.content_hash,
        )

    def matrix_lonlat(
        self,
        src_lon: Any,
        src_lat: Any,
        tgt_lon: Any,
        tgt_lat: Any,
        *,
        offroad_kmh: float | None = DEFAULT_OFFROAD_KMH,
        stop: Callable[[], bool] | None = None,
    ) -> TravelMatrix:
        """Snap points to the network, then :meth:`matrix`.

        With ``offroad_kmh`` (default 5 km/h) the straight-line legs point→node at the source
        and node→point at the target are added to time (at that speed) and distance, before
        rounding; ``None`` routes node to node only. Snap results (with the > ``snap_warn_m``
        flags) are returned in ``source_snap``/``target_snap``.
        """
        s_snap = self.network.snap(src_lon, src_lat)
        t_snap = self.network.snap(tgt_lon, tgt_lat)
        secs, metres = self._float_matrix(s_snap.node, t_snap.node, stop, None)
        if offroad_kmh is not None:
            if not offroad_kmh > 0:
                raise ValidationError(f"offroad_kmh must be > 0, got {offroad_kmh!r}")
            extra_m = s_snap.distance_m[:, None] + t_snap.distance_m[None, :]
            secs = secs + extra_m / (offroad_kmh / 3.6)
            metres = metres + extra_m
        return self._build(secs, metres, s_snap.node, t_snap.node, s_snap, t_snap)

    def nearest_source(self, sources: Any) -> tuple[np.ndarray, np.ndarray]:
        """For every node, the travel time from the nearest of ``sources`` and which one.

        Returns ``(seconds float [N], source_position int [N])`` where ``source_position`` is
        the index into ``sources`` (-1 where no source reaches the node). One multi-source
        Dijkstra (``min_only=True``), useful for coverage maps.
        """
        src = self._check_nodes(sources, "sources")
        dist, _pred, origin = dijkstra(
            self._csr, directed=True, indices=src, min_only=True, return_predecessors=True
        )
        pos = np.full(self.n_nodes, -1, dtype=np.int64)
        hit = origin >= 0
        lookup = {int(s): i for i, s in reversed(list(enumerate(src.tolist())))}
        pos[hit] = [lookup[int(o)] for o in origin[hit]]
        return dist, pos

    def path(self, source_node: int, target_node: int) -> Path | None:
        """The time-shortest path between two nodes, or None if the target is unreachable."""
        s = int(self._check_nodes([source_node], "source_node")[0])
        t = int(self._check_nodes([target_node], "target_node")[0])
        dist, pred = dijkstra(self._csr, directed=True, indices=s, return_predecessors=True)
        if not np.isfinite(dist[t]):
            return None
        nodes = [t]
        while nodes[-1] != s:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        node_arr = np.asarray(nodes, dtype=np.int64)
        net = self.network
        if node_arr.size > 1:
            entries = self._entry(node_arr[:-1], node_arr[1:])
            arcs = self._csr_arc[entries]
        else:
            arcs = np.zeros(0, dtype=np.int64)
        lengths = np.asarray(net.length_m)[arcs]
        times = np.asarray(net.travel_time_s)[arcs]
        geometry = self._path_geometry(arcs, s)
        steps: list[Step] = []
        for a, length, secs in zip(arcs.tolist(), lengths.tolist(), times.tolist(), strict=True):
            e = int(net.edge_row[a])
            hw = str(net.edge_highway[e])
            label = _step_label(str(net.edge_name[e]), str(net.edge_ref[e]), hw)
            if steps and steps[-1].road == label:
                last = steps[-1]
                steps[-1] = Step(label, last.highway, last.distance_m + length, last.seconds + secs)
            else:
                steps.append(Step(label, hw, length, secs))
        metres = float(np.sum(lengths)) if lengths.size else 0.0
        return Path(
            nodes=tuple(nodes),
            arcs=tuple(int(a) for a in arcs),
            seconds=int(self._to_int(np.array([dist[t]]))[0]),
            metres=int(self._to_int(np.array([metres]))[0]),
            geometry=geometry,
            steps=tuple(steps),
        )

    def _path_geometry(self, arcs: np.ndarray, source: int) -> shapely.LineString:
        net = self.network
        if arcs.size == 0:
            p = (float(net.lon[source]), float(net.lat[source]))
            return shapely.LineString([p, p])
        parts: list[np.ndarray] = []
        for a in arcs.tolist():
            coords = shapely.get_coordinates(net.edge_geometry[int(net.edge_row[a])])
            if net.arc_reversed[a]:
                coords = coords[::-1]
            parts.append(coords if not parts else coords[1:])
        return shapely.LineString(np.concatenate(parts))
