"""The travel-time engine interface and :class:`TravelTimeEngine`, the facade callers use.

Two backends answer the same questions on the same exact integer times:

* :class:`gis.matrix.csgraph.CsgraphEngine` — Dijkstra per source (always there; the reference
  and the fallback);
* :class:`gis.matrix.cch.CCHMetricView` — customizable contraction hierarchies from
  routingkit-cch (optional dependency): seconds matrices by one-to-many sweeps, metres by
  unpacking each pair's time-shortest path, and single paths.

The facade picks one per call (:func:`choose_backend`, :func:`metres_pay_on_cch`), from these
thresholds (measured with ``benchmarks/bench_matrix.py`` and the figures quoted beside them):

* seconds only: CCH when routingkit-cch imports, the engine runs in exact-unit mode, there is
  no search radius, and the network has at least :data:`CCH_MIN_NODES` nodes or the hierarchy
  is already built; a query of fewer than :data:`CCH_MIN_ROOTS` searches does not pay for a
  node order that is not cached yet. Figures (load 7, best of 3): once built, the hierarchy
  is faster at every size (Andorra, 1,508 nodes: 5×5 0.3 ms against csgraph 0.7 ms, 200×200
  13 ms against 38 ms, 500×500 68 ms against 143 ms; demo county, 5,939 nodes: 20×20 0.9 ms
  against 33 ms, 500×500 84 ms against 488 ms), so the choice is about the preprocessing:
  on Andorra it costs 49 ms with the order computed, 12 ms with it cached — more than
  csgraph's whole matrix up to 200×200, so small networks stay on csgraph; on the demo county
  191 ms / 29 ms, repaid by one 200×200 matrix (210 ms) or, with the order cached, by one of
  ~20×20 (33 ms), hence :data:`CCH_MIN_ROOTS`; from there on every matrix gains;
* with metres (the dispatch pipeline's matrices): CCH where the seconds would be, and only if
  ``pairs × CCH_PAIR_S × (nodes/100k)**CCH_PAIR_EXP < roots × nodes × CSGRAPH_NODE_S``
  (:data:`CCH_PAIR_S` per point-to-point query with its path, :data:`CSGRAPH_NODE_S` per
  Dijkstra root and node). So the demo county keeps csgraph (100×100: 0.08 s against 0.19 s),
  road-like 100k takes CCH for a few dozen sources and csgraph for 100×100 (about a tie:
  0.72 s against 0.75–0.85 s), and road-like 1M takes CCH for 100×100 (4.5 s against 6.0 s,
  load 7; ``metres_road1m100`` in ``benchmarks/bench_matrix.py``);
* single paths: through the hierarchy from :data:`CCH_PATH_MIN_NODES` nodes or once built.

Closures never redo the preprocessing: :meth:`TravelTimeEngine.with_closures` re-customizes the
same hierarchy. ``backend="cch"`` forces the hierarchy wherever it can answer.

Conventions (both backends)
---------------------------
* ``seconds``/``metres`` as documented in :mod:`gis.matrix.csgraph`; pairs with no path hold
  :data:`UNREACHABLE`. With ``metres=False`` the ``metres`` matrix holds -1 where reachable.
* :meth:`TravelTimeEngine.matrix_lonlat` adds the off-road leg from each point to its snapped
  node at ``offroad_kmh`` (default 5 km/h) to time and distance; a point to itself (same
  coordinates) costs 0 s and 0 m; with off-road legs the totals are rounded *up* to whole
  seconds and metres, so that the matrix obeys the triangle inequality (ceil is subadditive;
  halves-up rounding is not: 1.4 + 1.4 → 1 + 1 < 3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gis.errors import ValidationError
from gis.job_context import current_progress, current_stop
from gis.matrix.csgraph import CsgraphEngine
from gis.matrix.types import (
    DEFAULT_OFFROAD_KMH,
    Path,
    TravelMatrix,
)
from gis.roads import RoadNetwork, SnapResult
from gis.units import UNREACHABLE

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from gis.model import RoadClosure

__all__ = [
    "MatrixBackend",
    "TravelTimeEngine",
    "choose_backend",
    "metres_pay_on_cch",
    "BACKENDS",
    "CCH_MIN_NODES",
]

log = logging.getLogger(__name__)

#: Accepted values of ``backend=``.
BACKENDS = ("auto", "csgraph", "cch")
#: From this many nodes ``auto`` builds a contraction hierarchy for seconds-only matrices.
CCH_MIN_NODES = 3_000
#: A query with fewer searches than this does not pay for computing a node order.
CCH_MIN_ROOTS = 16
#: From this many nodes ``auto`` also unpacks single paths through the hierarchy.
CCH_PATH_MIN_NODES = 50_000
#: Seconds per pair of a matrix with metres through the hierarchy (a point-to-point query and
#: its unpacked path) on a network of 100k nodes: 40–80 µs measured on road-like 100k (core 9k
#: nodes) under load 3–8 on 2 cores, the higher figure taken (worker threads gained nothing
#: there). It grows as ``nodes ** CCH_PAIR_EXP``: 450 µs on road-like 1M (core 93k, load 7).
CCH_PAIR_S = 80e-6
CCH_PAIR_EXP = 0.75
#: Seconds per search root and network node of a csgraph matrix with metres: 74 ns on
#: road-like 100k, 130 ns on the demo county (100×100, same run); the lower figure rounded
#: down, so that csgraph keeps every case it might win.
CSGRAPH_NODE_S = 60e-9

StopFn = Callable[[], bool]
ProgressFn = Callable[[float, str], None]


class MatrixBackend(Protocol):
    """What a backend provides to :class:`TravelTimeEngine` (times in exact units τ)."""

    tau: float

    def unit_matrix(
        self, sources: np.ndarray, targets: np.ndarray, *, stop: StopFn | None = None
    ) -> np.ndarray:
        """float64 ``[S, T]`` shortest times in units τ (inf where there is no path)."""
        ...

    def path_nodes(self, s: int, t: int) -> list[int] | None:
        """A time-shortest node sequence from s to t, or None."""
        ...


def metres_pay_on_cch(n_nodes: int, roots: int | None, pairs: int | None) -> bool:
    """Whether a matrix with metres is faster through the hierarchy (one point-to-point query
    with its path per distinct pair, :data:`CCH_PAIR_S` each at 100k nodes, scaled by
    ``(nodes / 100k) ** CCH_PAIR_EXP``) than by csgraph (one Dijkstra per root,
    :data:`CSGRAPH_NODE_S` per network node)."""
    if roots is None or pairs is None:
        return n_nodes >= CCH_PATH_MIN_NODES
    per_pair = CCH_PAIR_S * (max(n_nodes, 1) / 100_000) ** CCH_PAIR_EXP
    return pairs * per_pair < roots * n_nodes * CSGRAPH_NODE_S


def choose_backend(
    requested: str,
    n_nodes: int,
    *,
    exact: bool,
    cch_importable: bool,
    prepared: bool,
    order_cached: bool = True,
    roots: int | None = None,
) -> str:
    """``"cch"`` or ``"csgraph"`` for a seconds-only query (see module docstring).

    ``auto`` takes CCH once it is prepared; else from :data:`CCH_MIN_NODES` nodes, unless
    the node order would have to be computed first for a query of fewer than
    :data:`CCH_MIN_ROOTS` searches (``roots``: distinct sources or targets, the fewer).
    """
    if requested not in BACKENDS:
        raise ValidationError(f"backend must be one of {', '.join(BACKENDS)}, got {requested!r}")
    if requested == "csgraph" or not exact or not cch_importable:
        return "csgraph"
    if requested == "cch" or prepared:
        return "cch"
    if n_nodes < CCH_MIN_NODES:
        return "csgraph"
    if not order_cached and roots is not None and roots < CCH_MIN_ROOTS:
        return "csgraph"
    return "cch"


class TravelTimeEngine:
    """Shortest travel times on a road network (optionally with closures applied).

    Parameters
    ----------
    network
        The road network; closures already applied to it are replaced by ``closures``.
    closures
        Road closures / slow-downs to apply (see :meth:`RoadNetwork.with_closures`).
    backend
        ``"auto"`` (default), ``"csgraph"`` or ``"cch"`` (CCH where possible, else csgraph).
    """

    def __init__(
        self,
        network: RoadNetwork,
        closures: Sequence[RoadClosure] = (),
        *,
        backend: str = "auto",
    ) -> None:
        choose_backend(backend, 0, exact=False, cch_importable=False, prepared=False)
        self.requested_backend = backend
        self.csgraph = CsgraphEngine(network, closures)
        self.base_network = self.csgraph.base_network
        self.network = self.csgraph.network
        self.closures = self.csgraph.closures
        self._cch: Any = None  # CCHMetricView once customized
        self.fallback_note = ""  # why CCH was not used, when it failed

    # ---- backend selection --------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return self.network.n_nodes

    @property
    def exact_units(self) -> tuple[float, float] | None:
        """(seconds, metres) per unit of the exact weights, or None in float mode."""
        return self.csgraph.exact_units

    def _importable(self) -> bool:
        from gis.matrix import cch

        return cch.available()

    def _prepared(self) -> bool:
        if self._cch is not None:
            return True
        from gis.matrix import cch

        return self.network.base_hash in cch._INDEXES

    def backend_for(
        self,
        *,
        metres: bool = False,
        limit_s: float | None = None,
        roots: int | None = None,
        pairs: int | None = None,
    ) -> str:
        """The backend a matrix call with these options (``roots`` searches: the fewer of
        distinct sources and targets; ``pairs``: distinct source × target) would use."""
        if limit_s is not None or self.fallback_note:
            return "csgraph"
        seconds = self._seconds_backend(roots)
        if seconds != "cch" or not metres or self.requested_backend == "cch":
            return seconds
        return "cch" if metres_pay_on_cch(self.n_nodes, roots, pairs) else "csgraph"

    def _seconds_backend(self, roots: int | None) -> str:
        prepared = self._prepared()
        order_cached = True
        if not prepared and roots is not None:
            from gis.matrix import cch

            order_cached = cch.order_cached(self.base_network)
        return choose_backend(
            self.requested_backend,
            self.n_nodes,
            exact=self._fits_cch(),
            cch_importable=self._importable(),
            prepared=prepared,
            order_cached=order_cached,
            roots=roots,
        )

    def _fits_cch(self) -> bool:
        ut = self.csgraph.unit_times()
        bound = self.csgraph.time_bound_s
        if ut is None or bound is None:
            return False
        from gis.matrix.cch import RK_INF

        return bound / ut[2] + self.n_nodes < RK_INF // 2

    def prepare(self, *, stop: StopFn | None = None, progress: ProgressFn | None = None) -> Any:
        """Build (or fetch) the contraction hierarchy and customize it for this engine's
        closures; returns the :class:`~gis.matrix.cch.CCHMetricView`.

        Without ``stop``/``progress`` those of the running desk job are used
        (:mod:`gis.job_context`). Progress is reported, each message prefixed with
        :data:`PREP_TEXT`, while the hierarchy is built (not when it is memoised); the slow
        part is the node order, when it is not cached on disk yet.

        Raises
        ------
        MatrixCancelled
            ``stop`` returned True during the preprocessing.
        CCHError
            routingkit-cch is missing or failed (the engine then uses csgraph).
        """
        if self._cch is not None:
            return self._cch
        from gis.matrix import cch

        ut = self.csgraph.unit_times()
        if ut is None or not self._fits_cch():
            raise cch.CCHError("travel times do not fit exact 32-bit integer units here")
        stop = stop or current_stop()
        report = progress or current_progress()
        say = None if report is None else _prep_reporter(report)
        try:
            index = cch.get_index(self.base_network, stop=stop, progress=say)
            self._cch = cch.CCHMetricView(index, *ut)
        except ImportError as exc:
            raise cch.CCHError(f"routingkit-cch is not available: {exc}") from exc
        return self._cch

    def _cch_or_none(self, stop: StopFn | None) -> Any:
        from gis.matrix.cch import CCHError

        try:
            return self.prepare(stop=stop)
        except CCHError as exc:
            self.fallback_note = str(exc)
            log.warning("travel times fall back to csgraph: %s", exc)
            return None

    # ---- pass-throughs to the reference engine ---------------------------------------------

    def to_networkx(self) -> nx.DiGraph:
        """The graph the engines search (see :meth:`CsgraphEngine.to_networkx`)."""
        return self.csgraph.to_networkx()

    def nearest_source(self, sources: Any) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`CsgraphEngine.nearest_source` (one multi-source Dijkstra)."""
        return self.csgraph.nearest_source(sources)

    def with_closures(self, closures: Sequence[RoadClosure]) -> TravelTimeEngine:
        """A new engine on the same base network with ``closures`` (replacing the current).

        The contraction hierarchy (if built) is reused; only the weights are re-customized.
        """
        return TravelTimeEngine(self.base_network, closures, backend=self.requested_backend)

    # ---- matrices -----------------------------------------------------------------------

    def _float(
        self,
        src: np.ndarray,
        tgt: np.ndarray,
        stop: StopFn | None,
        limit_s: float | None,
        metres: bool,
    ) -> tuple[np.ndarray, np.ndarray | None, str]:
        n_src, n_tgt = np.unique(src).size, np.unique(tgt).size
        roots, pairs = min(n_src, n_tgt), n_src * n_tgt
        if self.backend_for(metres=metres, limit_s=limit_s, roots=roots, pairs=pairs) == "cch":
            view = self._cch_or_none(stop)
            lengths = self.csgraph.unit_lengths() if metres else None
            if view is not None and (lengths is not None or not metres):
                from gis.matrix.cch import CCHError

                try:
                    if lengths is None:
                        return view.unit_matrix(src, tgt, stop=stop) * view.tau, None, "cch"
                    keys = self.csgraph.unit_times()[0]  # type: ignore[index]
                    units, ql = view.matrix_with_lengths(src, tgt, (keys, lengths[0]), stop=stop)
                    return units * view.tau, ql * lengths[1], "cch"
                except CCHError as exc:
                    self.fallback_note = str(exc)
                    log.warning("travel times fall back to csgraph: %s", exc)
        secs, mets = self.csgraph.float_matrix(src, tgt, stop=stop, limit_s=limit_s)
        return secs, (mets if metres else None), "csgraph"

    def _build(
        self,
        secs: np.ndarray,
        metres: np.ndarray | None,
        src: np.ndarray,
        tgt: np.ndarray,
        backend: str,
        *,
        source_snap: SnapResult | None = None,
        target_snap: SnapResult | None = None,
        to_int: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> TravelMatrix:
        to_int = to_int or self.csgraph._to_int
        reachable = np.isfinite(secs)
        if metres is None:
            met = np.where(reachable, -1, UNREACHABLE).astype(np.int32)
        else:
            met = to_int(np.where(reachable, metres, np.inf))
        return TravelMatrix(
            seconds=to_int(secs),
            metres=met,
            reachable=reachable,
            source_nodes=src,
            target_nodes=tgt,
            source_snap=source_snap,
            target_snap=target_snap,
            network_hash=self.network.content_hash,
            backend=backend,
        )

    def matrix(
        self,
        sources: Any,
        targets: Any,
        *,
        stop: StopFn | None = None,
        limit_s: float | None = None,
        metres: bool = True,
    ) -> TravelMatrix:
        """Travel times and distances between node indices.

        Parameters
        ----------
        sources, targets
            Node indices (repeats allowed; each distinct source is searched once).
        stop
            Polled between blocks of sources; returning True raises :class:`MatrixCancelled`.
        limit_s
            Optional search radius in seconds: pairs slower than this are reported unreachable.
        metres
            False: seconds only (``metres`` holds -1), which lets the CCH backend answer.
        """
        src = self.csgraph._check_nodes(sources, "sources")
        tgt = self.csgraph._check_nodes(targets, "targets")
        secs, mets, used = self._float(src, tgt, stop, limit_s, metres)
        return self._build(secs, mets, src, tgt, used)

    def matrix_lonlat(
        self,
        src_lon: Any,
        src_lat: Any,
        tgt_lon: Any,
        tgt_lat: Any,
        *,
        offroad_kmh: float | None = DEFAULT_OFFROAD_KMH,
        stop: StopFn | None = None,
        metres: bool = True,
    ) -> TravelMatrix:
        """Snap points to the network, then :meth:`matrix`.

        With ``offroad_kmh`` (default 5 km/h) the straight-line legs point→node at the source
        and node→point at the target are added to time (at that speed) and distance, and the
        totals rounded up (see module docstring); ``None`` routes node to node only. A point to
        itself (identical coordinates) costs 0. Snap results (with the > ``snap_warn_m`` flags)
        are returned in ``source_snap``/``target_snap``.
        """
        if offroad_kmh is not None and not offroad_kmh > 0:
            raise ValidationError(f"offroad_kmh must be > 0, got {offroad_kmh!r}")
        s_snap = self.network.snap(src_lon, src_lat)
        t_snap = self.network.snap(tgt_lon, tgt_lat)
        secs, mets, used = self._float(s_snap.node, t_snap.node, stop, None, metres)
        to_int = None
        if offroad_kmh is not None:
            extra_m = s_snap.distance_m[:, None] + t_snap.distance_m[None, :]
            secs = secs + extra_m / (offroad_kmh / 3.6)
            if mets is not None:
                mets = mets + extra_m
            to_int = _ceil_int
        slon = np.atleast_1d(np.asarray(src_lon, dtype=np.float64))
        slat = np.atleast_1d(np.asarray(src_lat, dtype=np.float64))
        tlon = np.atleast_1d(np.asarray(tgt_lon, dtype=np.float64))
        tlat = np.atleast_1d(np.asarray(tgt_lat, dtype=np.float64))
        itself = (slon[:, None] == tlon[None, :]) & (slat[:, None] == tlat[None, :])
        if itself.any():
            secs = np.where(itself, 0.0, secs)
            if mets is not None:
                mets = np.where(itself, 0.0, mets)
        return self._build(
            secs,
            mets,
            s_snap.node,
            t_snap.node,
            used,
            source_snap=s_snap,
            target_snap=t_snap,
            to_int=to_int,
        )

    # ---- paths ------------------------------------------------------------------------

    def path(self, source_node: int, target_node: int) -> Path | None:
        """The time-shortest path between two nodes, or None if the target is unreachable.

        Through the hierarchy on large networks (or once it is built), else one Dijkstra.
        Where several paths are equally fast the two backends may pick different ones.
        """
        s = int(self.csgraph._check_nodes([source_node], "source_node")[0])
        t = int(self.csgraph._check_nodes([target_node], "target_node")[0])
        use_cch = self.backend_for() == "cch" and (
            self.requested_backend == "cch"
            or self._prepared()
            or self.n_nodes >= CCH_PATH_MIN_NODES
        )
        if use_cch:
            view = self._cch_or_none(None)
            if view is not None:
                from gis.matrix.cch import CCHError

                try:
                    nodes = view.path_nodes(s, t)
                except CCHError as exc:
                    self.fallback_note = str(exc)
                    log.warning("paths fall back to csgraph: %s", exc)
                else:
                    return None if nodes is None else self.csgraph.path_from_nodes(nodes)
        return self.csgraph.path(s, t)


#: What a job's progress says while the road network's hierarchy is built (prefixing the step:
#: 合并二度节点路段, 节点排序（N 个核心节点）— the slow one when not cached —, 构建层次结构).
PREP_TEXT = "道路网络预处理…"


def _prep_reporter(progress: ProgressFn) -> ProgressFn:
    """``progress`` with every preprocessing message prefixed by :data:`PREP_TEXT`."""

    def say(fraction: float, message: str) -> None:
        progress(fraction, f"{PREP_TEXT}{message}" if message else PREP_TEXT)

    return say


def _ceil_int(a: np.ndarray) -> np.ndarray:
    """Round up to whole units (1e-6 tolerance against float noise); inf → UNREACHABLE."""
    r = np.ceil(np.asarray(a, dtype=np.float64) - 1e-6)
    r = np.where(np.isfinite(r), np.minimum(r, UNREACHABLE - 1), UNREACHABLE)
    return r.astype(np.int32)
