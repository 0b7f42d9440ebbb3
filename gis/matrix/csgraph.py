"""The csgraph backend: Dijkstra per source on :mod:`scipy.sparse.csgraph` (the reference).

:class:`CsgraphEngine` is today's engine, kept as the fallback of
:class:`gis.matrix.TravelTimeEngine` and as the oracle the CCH backend is tested against.

How it works
------------
* **Exact packed weights.** Each arc weighs ``round(t/τ)·M + round(l/λ)`` (τ = 1/1024 s and
  λ = 1/8 m unless the network is too large, see :func:`_lex_units`): an integer-valued float,
  so sums are exact in any order; paths are compared by time, then by length (a deliberate tie
  rule); one Dijkstra per source yields both seconds and metres, no predecessor pass. If no
  units fit in float64's 52 bits, the engine falls back to float seconds and sums metres over
  the predecessor tree (pointer jumping, or walking back from the targets).
* **Fewer searches.** Each distinct source is searched once; when there are fewer distinct
  targets, the search runs backwards from them on the reversed graph.
* **Smaller graph for big queries.** With ≥ 64 search roots on a road-like network, dead-end
  trees without query nodes are pruned and chains of two-neighbour nodes contracted into
  shortcuts first (:func:`_reduce_graph`); shortest paths between query nodes are unchanged.

Conventions
-----------
* Between two nodes joined by parallel arcs the best open arc is used; closed arcs (infinite
  time) and self-loops are left out.
* ``seconds`` in a :class:`TravelMatrix` is the shortest travel time rounded to whole seconds
  by :func:`round_units` (halves up). ``metres`` is the length of *that time-shortest path*
  (not the shortest distance), rounded the same way. Both are exactly what networkx computes on
  :meth:`CsgraphEngine.to_networkx` (the engine's weights).
* Pairs with no path hold :data:`UNREACHABLE` in both integer matrices and ``False`` in
  ``reachable``; :meth:`TravelMatrix.unreachable_pairs` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.sparse import csr_array, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from gis.errors import ValidationError
from gis.matrix.chains import sorted_unique
from gis.matrix.types import (
    MatrixCancelled,
    Path,
    Step,
    round_units,
    step_label,
)
from gis.roads import RoadNetwork
from gis.units import UNREACHABLE

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from gis.model import RoadClosure

__all__ = ["CsgraphEngine"]

# Upper bound on the number of float entries of one dijkstra block (sources × nodes).
_BLOCK_ENTRIES = 4_000_000
# Up to this many nodes metres are summed by pointer jumping over all nodes, above by walking
# back from the targets (see CsgraphEngine._tree_metres).
_JUMP_MAX_NODES = 20_000
# From this many distinct search roots on, the graph is first shrunk around the query nodes.
_REDUCE_MIN_ROOTS = 64
# ... and only when at least this share of nodes has one or two neighbours (roads, not grids).
_REDUCE_MIN_SHARE = 0.25
# Exact integer-valued float64 weights (time and length packed into one number) need at most
# this many bits for the longest possible path; otherwise the engine uses plain float times.
_LEX_MAX_BITS = 52


def _lex_units(
    csr: csr_matrix, length: np.ndarray, bound: list[float] | None = None
) -> tuple[float, float, float] | None:
    """Units (time τ s, length λ m, multiplier M) for exact lexicographic weights, or None.

    An arc's weight is ``round(t/τ) · M + round(l/λ)``: integer-valued, so float64 sums are
    exact in any order, comparisons are by time first and length second, and a single
    Dijkstra gives both seconds and metres. M must exceed the length (in λ) of any path and the
    total must stay below 2**_LEX_MAX_BITS; bounds: the longest time is at most the in- plus
    out-eccentricity of a node of the largest strongly connected component (plus, when closures
    split the graph, every arc time outside it) and a path's length at most its time times the
    top arc speed (and the sum of all lengths). Units
    start at τ = 1/1024 s, λ = 1/8 m and are coarsened (×2) up to 6 times to fit. The time
    bound (seconds) is appended to ``bound`` when given.
    """
    n = csr.shape[0]
    t = csr.data
    if n == 0 or t.size == 0:
        return None
    # A shortest path between two nodes of one strongly connected component stays inside it,
    # so there it is at most the out- plus in-eccentricity of any node x of the component.
    # With closures the graph may split: the largest component is bounded that way, the
    # others (small pieces) by the sum of their arc times, plus every arc between components.
    n_comp, labels = connected_components(csr, directed=True, connection="strong")
    big = int(np.argmax(np.bincount(labels)))
    inside = labels == big
    x = int(np.flatnonzero(inside)[0])
    d_out = dijkstra(csr, directed=True, indices=x)
    d_in = dijkstra(csr.T.tocsr(), directed=True, indices=x)
    t_bound = float(d_out[inside].max() + d_in[inside].max())
    if n_comp > 1:
        u = np.repeat(np.arange(n), np.diff(csr.indptr))
        outside = labels[u] != big
        t_bound += float(t[outside | (labels[csr.indices] != big)].sum())
    if bound is not None:
        bound.append(t_bound)
    vmax = float(np.max(length / t))
    for k in range(7):
        tau, lam = 2.0 ** (k - 10), 2.0 ** (k - 3)
        qt_max = t_bound / tau + n
        ql_max = min((t_bound + n * tau) * vmax, float(length.sum())) / lam + n
        bits_l = int(np.ceil(np.log2(ql_max + 1)))
        bits_t = int(np.ceil(np.log2(qt_max + 1)))
        if bits_l + bits_t <= _LEX_MAX_BITS:
            return tau, lam, float(2.0**bits_l)
    return None


def _best_per_pair(
    n: int, arcs: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lowest-weight arc of each (u, v) pair (then lowest arc id), sorted by u then v.

    Returns arc ids, u, v, weights and the keys ``u * n + v``. (Two sort keys, then a
    per-pair minimum: a four-key lexsort took 4× longer on province-size networks.)
    """
    key = u * n + v
    order = np.lexsort((arcs, key))
    arcs, u, v, w, key = arcs[order], u[order], v[order], w[order], key[order]
    first = np.ones(key.size, bool)
    first[1:] = key[1:] != key[:-1]
    if first.all():  # no parallel arcs
        return arcs, u, v, w, key
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    hit = np.flatnonzero(w == np.minimum.reduceat(w, starts)[group])
    g = group[hit]
    keep = hit[np.concatenate([[True], g[1:] != g[:-1]])]  # lowest arc id among the best
    return arcs[keep], u[keep], v[keep], w[keep], key[keep]


def _dedupe_arcs(
    u: np.ndarray, v: np.ndarray, t: np.ndarray, ln: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep the fastest arc of each (u, v) pair; result sorted by u then v."""
    order = np.lexsort((t, v, u))
    u, v, t, ln = u[order], v[order], t[order], ln[order]
    key = u * n + v
    first = np.ones(key.size, bool)
    first[1:] = key[1:] != key[:-1]
    return u[first], v[first], t[first], ln[first]


def _pad_pairs(
    n: int, mids: np.ndarray, mid: np.ndarray, other: np.ndarray, tt: np.ndarray, ll: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node of ``mids``, its (at most two) arcs as ``[len(mids), 2]`` arrays (-1 = none)."""
    order = np.argsort(mid, kind="stable")
    mid, other, tt, ll = mid[order], other[order], tt[order], ll[order]
    rank = np.arange(mid.size) - np.searchsorted(mid, mid, side="left")
    po = np.full((n, 2), -1, dtype=np.int64)
    pt = np.zeros((n, 2))
    pl = np.zeros((n, 2))
    po[mid, rank], pt[mid, rank], pl[mid, rank] = other, tt, ll
    return po[mids], pt[mids], pl[mids]


def _reduce_graph(
    n: int,
    u: np.ndarray,
    v: np.ndarray,
    t: np.ndarray,
    ln: np.ndarray,
    protect: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shrink a graph without changing any shortest path between ``protect``-ed nodes.

    1. Dead-end trees are pruned: a node with one neighbour (ignoring direction) that is not
       protected can only be entered and left through that neighbour, so no shortest path
       between other nodes uses it; repeat until none is left.
    2. Chains are contracted: a node with exactly two neighbours a, b that is not protected is
       replaced by shortcuts a→b and b→a (where the arcs exist) carrying the summed time and
       length; rounds bypass an independent set of such nodes (random priorities) until none
       is left. Parallel arcs keep the fastest.

    Arcs must be de-duplicated (one per (u, v)) and free of self-loops. Returns the kept node
    indices (old numbering, sorted) and the arcs (u, v in new numbering, sorted), time, length.
    """
    alive = np.ones(n, bool)
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = sorted_unique(a * n + b)
    ea, eb = pairs // n, pairs % n
    deg = np.bincount(ea, minlength=n) + np.bincount(eb, minlength=n)
    while True:  # 1. prune dead-end trees
        leaf = alive & (deg <= 1) & ~protect
        if not leaf.any():
            break
        both = leaf[ea] & leaf[eb]
        leaf[ea[both]] = False  # two leaves joined to each other: drop one per round
        alive &= ~leaf
        gone = leaf[ea] | leaf[eb]
        deg -= np.bincount(ea[gone], minlength=n) + np.bincount(eb[gone], minlength=n)
        ea, eb = ea[~gone], eb[~gone]
    keep = alive[u] & alive[v]
    u, v, t, ln = u[keep], v[keep], t[keep], ln[keep]
    prio = np.random.default_rng(20240601).permutation(n)
    while True:  # 2. contract chains
        a, b = np.minimum(u, v), np.maximum(u, v)
        pairs = sorted_unique(a * n + b)
        ea, eb = pairs // n, pairs % n
        deg = np.bincount(ea, minlength=n) + np.bincount(eb, minlength=n)
        sel = (deg == 2) & ~protect
        if not sel.any():
            break
        both = sel[ea] & sel[eb]
        sel[np.where(prio[ea[both]] > prio[eb[both]], ea[both], eb[both])] = False
        mids = np.flatnonzero(sel)
        into, out = sel[v], sel[u]

        i_src, i_t, i_l = _pad_pairs(n, mids, v[into], u[into], t[into], ln[into])
        o_dst, o_t, o_l = _pad_pairs(n, mids, u[out], v[out], t[out], ln[out])
        nu, nv, nt, nl = [], [], [], []
        for i in (0, 1):
            for j in (0, 1):
                ok = (i_src[:, i] >= 0) & (o_dst[:, j] >= 0) & (i_src[:, i] != o_dst[:, j])
                nu.append(i_src[ok, i])
                nv.append(o_dst[ok, j])
                nt.append(i_t[ok, i] + o_t[ok, j])
                nl.append(i_l[ok, i] + o_l[ok, j])
        rest = ~(into | out)
        u, v, t, ln = _dedupe_arcs(
            np.concatenate([u[rest], *nu]),
            np.concatenate([v[rest], *nv]),
            np.concatenate([t[rest], *nt]),
            np.concatenate([ln[rest], *nl]),
            n,
        )
        alive[mids] = False
    kept = np.flatnonzero(alive)
    new = np.full(n, -1, dtype=np.int64)
    new[kept] = np.arange(kept.size)
    return kept, new[u], new[v], t, ln


class CsgraphEngine:
    """Dijkstra on ``scipy.sparse.csgraph`` over ``network`` with ``closures`` applied (they
    replace any already applied), as :class:`gis.matrix.TravelTimeEngine` takes them."""

    def __init__(self, network: RoadNetwork, closures: Sequence[RoadClosure] = ()) -> None:
        self.base_network = network
        closures = tuple(closures)
        self.network = (
            network.with_closures(closures) if (closures or network.closures) else network
        )
        net = self.network
        n = net.n_nodes
        time_s = np.asarray(net.travel_time_s)
        length_all = np.asarray(net.length_m)
        all_arcs = np.flatnonzero(np.isfinite(time_s) & (net.arc_u != net.arc_v))
        u_all = net.arc_u[all_arcs].astype(np.int64)
        v_all = net.arc_v[all_arcs].astype(np.int64)
        arcs, u, v, t, key = _best_per_pair(n, all_arcs, u_all, v_all, time_s[all_arcs])
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        self._csr = csr_matrix((t, v.astype(np.int32), indptr), shape=(n, n))
        bound: list[float] = []
        self._lex = _lex_units(self._csr, length_all[arcs], bound)
        #: upper bound on any shortest travel time (s), or None (float mode / empty network)
        self.time_bound_s: float | None = bound[0] if bound else None
        if self._lex is not None:
            # one exact weight per arc: time units in the high part, length units in the low
            tau, lam, big = self._lex
            qt = np.maximum(np.rint(time_s[all_arcs] / tau), 1.0)
            w = qt * big + np.rint(length_all[all_arcs] / lam)
            arcs, u, v, w, key = _best_per_pair(n, all_arcs, u_all, v_all, w)
            self._csr = csr_matrix((w, v.astype(np.int32), indptr), shape=(n, n))
        length = length_all[arcs]
        self._key = key  # sorted u * n + v of each CSR entry
        self._csr_arc = arcs  # arc index of each CSR entry
        self._csr_len = length
        # the same structure with arc lengths: lengths[p, v] is a C-level binary search
        self._lengths = csr_array((self._csr_len, self._csr.indices, indptr), shape=(n, n))
        self._reverse: tuple[csr_matrix, csr_array] | None = None
        self._ql: np.ndarray | None = None
        self._low_degree_share: float | None = None
        self.closures = closures

    def _reversed(self) -> tuple[csr_matrix, csr_array]:
        """Time and length CSRs of the reversed graph (built on first use)."""
        if self._reverse is None:
            n = self.n_nodes
            u = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._csr.indptr))
            v = self._csr.indices.astype(np.int64)
            ru, rv, rt, rl = _dedupe_arcs(v, u, self._csr.data, self._csr_len, n)
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(ru, minlength=n), out=indptr[1:])
            rv32 = rv.astype(np.int32)
            self._reverse = (
                csr_matrix((rt, rv32, indptr), shape=(n, n)),
                csr_array((rl, rv32, indptr), shape=(n, n)),
            )
        return self._reverse

    # ---- helpers ----------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return self.network.n_nodes

    @property
    def exact_units(self) -> tuple[float, float] | None:
        """(seconds, metres) per unit of the exact weights, or None in float mode."""
        return None if self._lex is None else (self._lex[0], self._lex[1])

    def unit_times(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Exact integer times of the searched arcs, or None in float mode.

        Returns ``(keys, qt, τ)``: the sorted keys ``u * n + v`` of the open node pairs (one
        per pair, the best arc), each pair's time in units of τ seconds (int64) and τ. A path's
        travel time is ``τ`` times the sum of its ``qt`` — what this engine minimises first.
        """
        if self._lex is None:
            return None
        tau, _lam, big = self._lex
        qt = np.floor(self._csr.data / big).astype(np.int64)
        return self._key, qt, tau

    def unit_lengths(self) -> tuple[np.ndarray, float] | None:
        """Exact integer lengths of the searched arcs, or None in float mode.

        Returns ``(ql, λ)``: each open pair's length in units of λ metres (int64), aligned
        with the keys of :meth:`unit_times` — what this engine sums for ``metres``.
        """
        if self._lex is None:
            return None
        _tau, lam, big = self._lex
        if self._ql is None:  # computed once (callers may cache by identity)
            qt = np.floor(self._csr.data / big)
            self._ql = (self._csr.data - qt * big).astype(np.int64)
        return self._ql, lam

    def to_networkx(self) -> nx.DiGraph:
        """The graph this engine searches, for checks with networkx.

        Node indices as in the network; per arc ``weight`` (what is minimised: the exact
        packed time/length number, or the float time), ``travel_time_s``, ``length_m`` (as
        the engine counts them: in exact mode quantised to :attr:`exact_units`) and ``arc``.
        """
        import networkx as nx

        n = self.n_nodes
        u = np.repeat(np.arange(n), np.diff(self._csr.indptr))
        v = self._csr.indices
        w = self._csr.data
        if self._lex is not None:
            secs, metres = self._decode(w, *self._lex)
        else:
            secs, metres = w, self._csr_len
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(
            (
                int(a),
                int(b),
                {
                    "weight": float(ww),
                    "travel_time_s": float(tt),
                    "length_m": float(ll),
                    "arc": int(arc),
                },
            )
            for a, b, ww, tt, ll, arc in zip(u, v, w, secs, metres, self._csr_arc, strict=True)
        )
        return g

    def with_closures(self, closures: Sequence[RoadClosure]) -> CsgraphEngine:
        """A new engine on the same base network with ``closures`` (replacing the current)."""
        return CsgraphEngine(self.base_network, closures)

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
        """Float seconds and metres ``[S, T]`` (inf where unreachable).

        Each distinct source is searched once; when there are fewer distinct targets than
        sources, the search runs backwards from the targets on the reversed graph instead.
        """
        us, s_inv = np.unique(sources, return_inverse=True)
        ut, t_inv = np.unique(targets, return_inverse=True)
        limit = np.inf if limit_s is None else float(limit_s)
        backwards = ut.size < us.size
        roots, goals = (ut, us) if backwards else (us, ut)
        if backwards:
            csr, lengths = self._reversed()
        else:
            csr, lengths = self._csr, self._lengths
        if roots.size >= _REDUCE_MIN_ROOTS and self._reducible():
            csr, lengths, new_index = self._reduced(csr, lengths, roots, goals)
            roots, goals = new_index[roots], new_index[goals]
        if self._lex is not None:
            tau, lam, big = self._lex
            if np.isfinite(limit):
                limit = (np.floor(limit / tau) + 1.0) * big - 1.0
            secs, metres = self._search_lex(csr, roots, goals, stop, limit, tau, lam, big)
        else:
            secs, metres = self._search(csr, lengths, roots, goals, stop, limit)
        if backwards:
            secs, metres = secs.T, metres.T
        return secs[s_inv][:, t_inv], metres[s_inv][:, t_inv]

    def float_matrix(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        *,
        stop: Callable[[], bool] | None = None,
        limit_s: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Float seconds and metres ``[S, T]`` between checked node indices (inf: no path)."""
        return self._float_matrix(sources, targets, stop, limit_s)

    def _reducible(self) -> bool:
        """Whether shrinking pays: enough nodes with at most two neighbours (computed once)."""
        if self._low_degree_share is None:
            n = self.n_nodes
            u = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._csr.indptr))
            v = self._csr.indices.astype(np.int64)
            pairs = sorted_unique(np.minimum(u, v) * n + np.maximum(u, v))
            deg = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
            self._low_degree_share = float(np.mean(deg <= 2)) if n else 0.0
        return self._low_degree_share >= _REDUCE_MIN_SHARE

    @staticmethod
    def _reduced(
        csr: csr_matrix, lengths: csr_array, roots: np.ndarray, goals: np.ndarray
    ) -> tuple[csr_matrix, csr_array, np.ndarray]:
        """The graph shrunk around the query nodes (see :func:`_reduce_graph`)."""
        n = csr.shape[0]
        u = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
        v = csr.indices.astype(np.int64)
        protect = np.zeros(n, bool)
        protect[roots] = True
        protect[goals] = True
        kept, u2, v2, t2, l2 = _reduce_graph(n, u, v, csr.data, lengths.data, protect)
        m = kept.size
        indptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(u2, minlength=m), out=indptr[1:])
        small = csr_matrix((t2, v2.astype(np.int32), indptr), shape=(m, m))
        small_len = csr_array((l2, v2.astype(np.int32), indptr), shape=(m, m))
        new_index = np.full(n, -1, dtype=np.int64)
        new_index[kept] = np.arange(m)
        return small, small_len, new_index

    @classmethod
    def _search(
        cls,
        csr: csr_matrix,
        lengths: csr_array,
        roots: np.ndarray,
        targets: np.ndarray,
        stop: Callable[[], bool] | None,
        limit: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        n = csr.shape[0]
        secs = np.empty((roots.size, targets.size))
        metres = np.empty((roots.size, targets.size))
        block = max(1, _BLOCK_ENTRIES // max(n, 1))
        for start in range(0, roots.size, block):
            if stop is not None and stop():
                raise MatrixCancelled("travel-time matrix cancelled")
            idx = roots[start : start + block]
            dist, pred = dijkstra(
                csr, directed=True, indices=idx, return_predecessors=True, limit=limit
            )
            secs[start : start + idx.size] = dist[:, targets]
            metres[start : start + idx.size] = cls._tree_metres(lengths, pred, idx, targets)
        return secs, metres

    @staticmethod
    def _decode(dist: np.ndarray, tau: float, lam: float, big: float) -> tuple:
        """Exact packed distances → float seconds and metres (inf stays inf)."""
        qt = np.floor(dist / big)  # exact: dist is an integer below 2**52, big a power of 2
        with np.errstate(invalid="ignore"):
            ql = dist - qt * big  # nan where unreachable
        metres = ql * lam
        metres[np.isnan(metres)] = np.inf
        return qt * tau, metres

    @classmethod
    def _search_lex(
        cls,
        csr: csr_matrix,
        roots: np.ndarray,
        targets: np.ndarray,
        stop: Callable[[], bool] | None,
        limit: float,
        tau: float,
        lam: float,
        big: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        n = csr.shape[0]
        dist = np.empty((roots.size, targets.size))
        block = max(1, _BLOCK_ENTRIES // max(n, 1))
        for start in range(0, roots.size, block):
            if stop is not None and stop():
                raise MatrixCancelled("travel-time matrix cancelled")
            idx = roots[start : start + block]
            d = dijkstra(csr, directed=True, indices=idx, limit=limit)
            dist[start : start + idx.size] = d[:, targets]
        return cls._decode(dist, tau, lam, big)

    @staticmethod
    def _tree_metres(
        lengths: csr_array,
        pred: np.ndarray,
        roots: np.ndarray,
        targets: np.ndarray,
        strategy: str = "auto",
    ) -> np.ndarray:
        """Length of the tree path root→target for each (root, target); 0 where not reached.

        ``pred`` is Dijkstra's predecessor matrix (one row per root). Two vectorised strategies
        give the same sums: pointer jumping over every node (``log2(depth)`` passes over
        ``roots × nodes``) when targets are a sizeable share of the nodes, else walking from
        each target back to its root one arc per pass (``roots × targets × depth`` steps).
        """
        c, n = pred.shape
        rows = np.arange(c)
        anc = pred.copy()
        anc[rows, roots] = roots  # roots point to themselves (no self-loop in the CSR: 0 m)
        unreached = anc < 0
        if unreached.any():
            anc[unreached] = np.broadcast_to(np.arange(n), (c, n))[unreached]
        offsets = (rows * n)[:, None]
        jump = strategy == "jump" or (
            strategy == "auto" and (targets.size * 16 >= n or n <= _JUMP_MAX_NODES)
        )
        if jump:
            flat_anc = (anc + offsets).ravel()  # flat index of each node's current ancestor
            cols = np.broadcast_to(np.arange(n), (c, n)).ravel()
            m = lengths[anc.ravel(), cols]  # metres from each node up to its current ancestor
            while True:
                nxt = flat_anc[flat_anc]
                if np.array_equal(nxt, flat_anc):
                    break
                m = m + m[flat_anc]
                flat_anc = nxt
            return m.reshape(c, n)[:, targets]
        # walk back from the targets
        out = np.zeros(c * targets.size)
        node = np.tile(targets, c).astype(np.int64)
        walker_row_off = np.repeat(rows * n, targets.size)
        flat_pos = walker_row_off + node
        active = np.arange(out.size)
        anc_flat = anc.ravel()
        while active.size:
            p = anc_flat[flat_pos]
            out[active] += lengths[p, node]
            moving = p != node
            if not moving.all():
                active, p, walker_row_off = active[moving], p[moving], walker_row_off[moving]
            node = p
            flat_pos = walker_row_off + node
        return out.reshape(c, targets.size)

    @staticmethod
    def _to_int(a: np.ndarray) -> np.ndarray:
        r = round_units(a)
        r = np.where(np.isfinite(r), np.minimum(r, UNREACHABLE - 1), UNREACHABLE)
        return r.astype(np.int32)

    # ---- public API -------------------------------------------------------------------

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
        if self._lex is not None:
            dist, _ = self._decode(dist, *self._lex)
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
        return self.path_from_nodes(nodes)

    def path_from_nodes(self, nodes: Sequence[int]) -> Path:
        """The :class:`Path` along a node sequence (consecutive nodes must be joined by an open
        arc; between parallel arcs the engine's best one is taken): arcs, geometry, turn list,
        and seconds/metres summed in the engine's units."""
        node_arr = np.asarray(nodes, dtype=np.int64)
        s = int(node_arr[0])
        net = self.network
        if node_arr.size > 1:
            entries = self._entry(node_arr[:-1], node_arr[1:])
            arcs = self._csr_arc[entries]
        else:
            entries = np.zeros(0, dtype=np.int64)
            arcs = np.zeros(0, dtype=np.int64)
        lengths = np.asarray(net.length_m)[arcs]
        times = np.asarray(net.travel_time_s)[arcs]
        geometry = self._path_geometry(arcs, s)
        steps: list[Step] = []
        for a, length, secs in zip(arcs.tolist(), lengths.tolist(), times.tolist(), strict=True):
            e = int(net.edge_row[a])
            hw = str(net.edge_highway[e])
            label = step_label(str(net.edge_name[e]), str(net.edge_ref[e]), hw)
            if steps and steps[-1].road == label:
                last = steps[-1]
                steps[-1] = Step(label, last.highway, last.distance_m + length, last.seconds + secs)
            else:
                steps.append(Step(label, hw, length, secs))
        if self._lex is not None:
            total = np.array([float(np.sum(self._csr.data[entries]))])
            secs_f, metres_f = self._decode(total, *self._lex)
        else:
            secs_f = np.array([float(np.sum(times)) if times.size else 0.0])
            metres_f = np.array([float(np.sum(lengths)) if lengths.size else 0.0])
        return Path(
            nodes=tuple(int(x) for x in node_arr.tolist()),
            arcs=tuple(int(a) for a in arcs),
            seconds=int(self._to_int(secs_f)[0]),
            metres=int(self._to_int(metres_f)[0]),
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
