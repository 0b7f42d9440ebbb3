"""The CCH backend: customizable contraction hierarchies from ``routingkit-cch`` (BSD-2).

What routingkit-cch does
------------------------
It wraps RoutingKit's C++ CCH: a nested-dissection node order (``compute_order_inertial``,
the slow, metric-independent part), the hierarchy built on that order (``CCH``), a
*customization* binding uint32 arc weights to it (``CCHMetric``, a fraction of a second), and
queries: point to point with the path (``CCHQuery``) and one-to-many / many-to-one sweeps
(``CCHOneToMany`` / ``CCHManyToOne``). Queries release the GIL.

Why hand-written glue is needed
-------------------------------
* **Weights.** Only unsigned 32-bit weights, and a closed arc must weigh exactly 2147483647
  (a merely large weight gives wrong finite times). We use the csgraph engine's exact time
  units (τ = 1/1024 s unless the network is large): integer sums are exact, so the seconds
  equal the reference engine's bit for bit; networks whose longest time does not fit fall
  back to csgraph.
* **No save/load.** The order is cached here as ``.npz`` beside the road cache, keyed by the
  network's content hash (closures excluded: they only change weights).
* **No cancel.** ``compute_order_inertial`` holds the GIL until it returns, so on a large core
  it runs in a spawned child process, which a cancel terminates.
* **Chains.** Chains of two-link nodes are contracted first (:mod:`gis.matrix.chains`): the
  order and the hierarchy are built on the core only, and query nodes inside a chain are
  joined to it through both chain ends.
* **Lifetimes.** A query object must be gone before its metric is re-customized, and misuse
  raises pyo3's ``PanicException``, a ``BaseException`` that ``except Exception`` lets
  through. Every metric here is new per closure set (never reset under a live query), query
  objects live inside one call of one thread, and every call into the library runs under
  :func:`_guard`, which turns a panic into :class:`CCHError`.
* **Metres.** The batched queries return one number per pair, and a uint32 cannot hold the
  (time, length) pair the reference compares paths by. So metres come from one
  point-to-point query per pair (``CCHQuery.run_multi`` with the chain ends as weighted
  sources and targets), its core arcs summed with numpy in blocks: the length of a
  time-shortest path, exact where that path is unique. Where several paths are equally fast
  the csgraph engine takes the shortest of them and the hierarchy any one: metres may then
  differ (never seconds). Paths are unpacked to nodes, then arcs, geometry and turn list
  exactly as csgraph builds them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import ReliefDeskError
from gis.matrix.chains import INF, Chains, contract_chains
from gis.matrix.types import MatrixCancelled
from gis.roads import RoadNetwork, cache_dir

__all__ = ["CCHError", "CCHIndex", "CCHMetricView", "available", "get_index", "order_cached"]

#: What routingkit-cch takes as "closed" (RoutingKit's inf_weight); finite sums stay below it.
RK_INF = 2_147_483_647
#: Bumped when the cached order's meaning changes (chain rules, inputs of the ordering).
ORDER_VERSION = 1
#: From this many core nodes the node order is computed in a child process (cancellable).
_ORDER_CHILD_MIN_CORE = 20_000
#: Expected ordering time per core node (s): 6.9 s for a 100k-node grid (issue 12's figure).
_ORDER_S_PER_CORE_NODE = 70e-6
#: From this many sources (or targets) a matrix sweep is split over worker threads.
_THREAD_MIN = 64
#: ... on a core of at least this many nodes (below, one sweep is too short to gain).
_THREAD_MIN_CORE = 6_000
#: Point-to-point queries (for lengths) per worker thread at least.
_PAIRS_PER_THREAD = 256
#: Paths whose core arcs are summed together (one numpy pass per block).
_PATH_BLOCK = 512

ProgressFn = Callable[[float, str], None]
StopFn = Callable[[], bool]



def _run_split(work: Callable[[int, int], None], n: int, n_workers: int, name: str) -> None:
    """Run ``work(lo, hi)`` over ``range(n)`` cut in ``n_workers`` even slices, one thread each
    (queries release the GIL; each worker creates its own query object inside ``work``)."""
    if n_workers <= 1:
        work(0, n)
        return
    bounds = np.linspace(0, n, n_workers + 1).astype(int)
    with ThreadPoolExecutor(n_workers, thread_name_prefix=name) as pool:
        futures = [
            pool.submit(work, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        for f in futures:
            f.result()

class CCHError(ReliefDeskError):
    """routingkit-cch failed (a Rust panic or a bad input); the engine falls back to csgraph."""


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def _guard(what: str) -> Iterator[None]:
    """Turn routingkit's ``PanicException`` (a BaseException) into :class:`CCHError`."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MatrixCancelled):
        raise
    except BaseException as exc:
        if _is_panic(exc) or isinstance(exc, (TypeError, ValueError, OverflowError)):
            raise CCHError(f"routingkit-cch failed in {what}: {exc}") from exc
        raise


def _rk() -> Any:
    """The ``routingkit_cch`` module (ImportError where the wheel is missing)."""
    import routingkit_cch

    return routingkit_cch


def available() -> bool:
    """Whether routingkit-cch can be imported here (glibc ≥ 2.34 on Linux, a wheel at all)."""
    try:
        _rk()
    except ImportError:
        return False
    return True


def _order_path(network: RoadNetwork) -> Path:
    return cache_dir() / "cch" / f"{network.base_hash[:32]}-v{ORDER_VERSION}.npz"


def order_cached(network: RoadNetwork) -> bool:
    """Whether a node order for ``network`` is on disk (it may still turn out damaged)."""
    return _order_path(network).exists()


def _load_order(path: Path, n_core: int) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            order = z["order"]
    except Exception:  # missing or damaged: recompute
        return None
    ok = (
        meta.get("n_core") == n_core
        and order.shape == (n_core,)
        and np.array_equal(np.sort(order), np.arange(n_core))
    )
    return order.astype(np.int64) if ok else None


def _save_order(path: Path, order: np.ndarray) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=np.array(json.dumps({"n_core": int(order.size)})), order=order)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class CCHIndex:
    """Metric-independent preprocessing of one road network (closures excluded).

    Chains contracted, the core's nested-dissection order (cached on disk), and the
    routingkit ``CCH`` on it. Build with :func:`get_index` (memoised per content hash).
    """

    def __init__(
        self,
        network: RoadNetwork,
        *,
        stop: StopFn | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        rk = _rk()
        say = progress or (lambda f, m: None)
        halt = stop or (lambda: False)

        def check() -> None:
            if halt():
                raise MatrixCancelled("contraction-hierarchy preprocessing cancelled")

        t0 = time.perf_counter()
        check()
        say(0.0, "合并二度节点路段")
        self.base_hash = network.base_hash
        self.n_nodes = network.n_nodes
        self.chains: Chains = contract_chains(network.n_nodes, network.arc_u, network.arc_v)
        ch = self.chains
        check()
        path = _order_path(network)
        order = _load_order(path, ch.n_core)
        self.order_from_cache = order is not None
        if order is None:
            say(0.1, f"节点排序（{ch.n_core:,} 个核心节点）")
            order = self._order(rk, network, halt, say)
            _save_order(path, order)
        check()
        say(0.9, "构建层次结构")
        self._tail = ch.arc_tail.astype(np.uint32)
        self._head = ch.arc_head.astype(np.uint32)
        with _guard("CCH"):
            self.cch = rk.CCH(order.astype(np.uint32), self._tail, self._head, False)
        self.order = order
        self.seconds = time.perf_counter() - t0
        say(1.0, "完成")

    def _order(self, rk: Any, network: RoadNetwork, halt: StopFn, say: ProgressFn) -> np.ndarray:
        """The core's nested-dissection order, with ``stop`` polled meanwhile.

        ``compute_order_inertial`` holds the GIL for its whole run, so on a large core it runs
        in a child process that a cancel terminates, its progress estimated from the time
        taken so far (it reports none); a small core (a fraction of a second) is ordered
        in-process.
        """
        ch = self.chains
        args = (
            int(ch.n_core),
            ch.arc_tail.astype(np.uint32),
            ch.arc_head.astype(np.uint32),
            np.asarray(network.lat)[ch.core].astype(np.float32),
            np.asarray(network.lon)[ch.core].astype(np.float32),
        )
        if ch.n_core < _ORDER_CHILD_MIN_CORE:
            if halt():
                raise MatrixCancelled("contraction-hierarchy preprocessing cancelled")
            with _guard("compute_order_inertial"):
                return np.asarray(rk.compute_order_inertial(*args), dtype=np.int64)
        return _order_in_child(args, halt, say)


def _order_child(conn: Any, args: tuple[Any, ...]) -> None:
    """Child-process entry: compute the order, send ``("ok", order)`` or ``("error", text)``."""
    try:
        import routingkit_cch

        order = np.asarray(routingkit_cch.compute_order_inertial(*args), dtype=np.int64)
        conn.send(("ok", order))
    except BaseException as exc:  # noqa: BLE001 - a Rust panic too: reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _order_in_child(args: tuple[Any, ...], halt: StopFn, say: ProgressFn) -> np.ndarray:
    """The order computed in a child process, ``halt`` polled every 50 ms; progress 0.1–0.9
    estimated as ``1 - exp(-elapsed / expected)`` with :data:`_ORDER_S_PER_CORE_NODE`."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork: the GUI process has threads
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_order_child, args=(send, args), name="cch-order", daemon=True)
    proc.start()
    send.close()
    expected = max(1.0, args[0] * _ORDER_S_PER_CORE_NODE)
    t0 = last = time.monotonic()
    text = f"节点排序（{args[0]:,} 个核心节点）"
    try:
        while not receive.poll(0.05):
            now = time.monotonic()
            if now - last >= 0.5:
                last = now
                say(0.1 + 0.8 * (1.0 - math.exp(-(now - t0) / expected)), text)
            if halt():
                raise MatrixCancelled("contraction-hierarchy preprocessing cancelled")
            if not proc.is_alive() and not receive.poll():
                raise CCHError(f"the node-ordering process ended with code {proc.exitcode}")
        status, value = receive.recv()
    finally:
        if proc.is_alive():  # cancelled (or already done and about to exit)
            proc.terminate()
        proc.join(5)
        receive.close()
    if status != "ok":
        raise CCHError(f"routingkit-cch failed in compute_order_inertial: {value}")
    return value


def _end_length(
    anc: np.ndarray, off_t: np.ndarray, off_l: np.ndarray, node: np.ndarray
) -> np.ndarray:
    """Length from a query node to the core node its path entered at (or from the core node
    its path left to the query node): of its two anchor slots, the open one at ``node``; when
    both are (a loop chain) the faster, then the shorter — what :func:`_entries` keeps."""
    ok0 = (anc[:, 0] == node) & (off_t[:, 0] < INF)
    ok1 = (anc[:, 1] == node) & (off_t[:, 1] < INF)
    pick1 = ok1 & (
        ~ok0
        | (off_t[:, 1] < off_t[:, 0])
        | ((off_t[:, 1] == off_t[:, 0]) & (off_l[:, 1] < off_l[:, 0]))
    )
    return np.where(pick1, off_l[:, 1], off_l[:, 0]).astype(np.float64)


_INDEXES: OrderedDict[str, CCHIndex] = OrderedDict()
_INDEX_LOCK = threading.Lock()
_INDEX_KEEP = 3


def get_index(
    network: RoadNetwork, *, stop: StopFn | None = None, progress: ProgressFn | None = None
) -> CCHIndex:
    """The :class:`CCHIndex` of ``network``'s base (memoised in-process, order cached on disk)."""
    key = network.base_hash
    with _INDEX_LOCK:
        idx = _INDEXES.get(key)
        if idx is not None:
            _INDEXES.move_to_end(key)
            return idx
        idx = CCHIndex(network, stop=stop, progress=progress)
        _INDEXES[key] = idx
        while len(_INDEXES) > _INDEX_KEEP:
            _INDEXES.popitem(last=False)
        return idx


def _entries(anchors: list[int], offsets: list[int]) -> list[tuple[int, int]]:
    """(core node, offset) entry points: closed ones left out, the smaller offset kept where
    both chain ends are the same node (a loop)."""
    best: dict[int, int] = {}
    for a, o in zip(anchors, offsets, strict=True):
        if o < INF and o < best.get(a, INF):
            best[a] = o
    return list(best.items())


class CCHMetricView:
    """One customization of a :class:`CCHIndex`: the times of a network with its closures.

    ``keys``/``qt`` are the csgraph engine's open node pairs and integer times (units τ):
    a pair absent from them is closed.
    """

    def __init__(self, index: CCHIndex, keys: np.ndarray, qt: np.ndarray, tau: float) -> None:
        rk = _rk()
        ch = index.chains
        self.index = index
        self.tau = tau
        pair_keys = ch.pair_u * ch.n + ch.pair_v
        pos = np.minimum(np.searchsorted(keys, pair_keys), max(keys.size - 1, 0))
        found = (keys.size > 0) & (keys[pos] == pair_keys) if keys.size else np.zeros(0, bool)
        self.pair_t = np.where(found, qt[pos] if keys.size else 0, INF).astype(np.int64)
        w = ch.core_weights(self.pair_t)
        if w.size and int(w[w < INF].max(initial=0)) >= RK_INF:
            raise CCHError("an arc's time does not fit routingkit's 32-bit weights")
        self.weights = np.where(w >= INF, RK_INF, w).astype(np.uint32)
        with _guard("CCHMetric"):
            self.metric = rk.CCHMetric(index.cch, self.weights)
        self._pre_t: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._len_cache: tuple[np.ndarray, np.ndarray, Any] | None = None

    @property
    def pre_t(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The chains' time prefix sums of this metric (computed on first use)."""
        if self._pre_t is None:
            self._pre_t = self.index.chains.prefix(self.pair_t)
        return self._pre_t

    # ---- matrices ----------------------------------------------------------------------

    def _sweeps(
        self,
        loop: list[list[tuple[int, int]]],
        pinned: np.ndarray,
        forward: bool,
        stop: StopFn | None,
        threads: int,
    ) -> np.ndarray:
        """float64 ``[len(loop), P]`` times (units τ; inf: no path) between each loop item —
        a list of (core node, offset) entry points — and each pinned core node: from the items
        to the pinned nodes (``forward``) or from the pinned nodes to the items."""
        rk = _rk()
        out = np.full((len(loop), pinned.size), np.inf, dtype=np.float64)
        pinned_list = pinned.tolist()
        metric = self.metric
        cancelled = threading.Event()

        def work(lo: int, hi: int) -> None:
            with _guard("one-to-many query"):
                if forward:
                    q = rk.CCHOneToMany(metric, pinned_list)
                    sweep = q.distances_from_multi
                else:
                    q = rk.CCHManyToOne(metric, pinned_list)
                    sweep = q.distances_to_multi
                try:
                    for i in range(lo, hi):
                        if (i - lo) % 32 == 0 and (
                            cancelled.is_set() or (stop is not None and stop())
                        ):
                            cancelled.set()
                            return
                        if loop[i]:
                            out[i] = sweep(loop[i])  # numpy converts the list in C (None → nan)
                finally:
                    del sweep, q  # before anyone could re-customize the metric

        n_workers = max(1, min(threads, len(loop) // _THREAD_MIN))
        if self.index.chains.n_core < _THREAD_MIN_CORE:  # short sweeps: the GIL dominates
            n_workers = 1
        _run_split(work, len(loop), n_workers, "cch-query")
        if cancelled.is_set():
            raise MatrixCancelled("travel-time matrix cancelled")
        out[np.isnan(out) | (out >= RK_INF)] = np.inf
        return out

    def unit_matrix(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        *,
        stop: StopFn | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        """float64 ``[S, T]`` shortest times in units τ (inf: no path), exact integers.

        One multi-source sweep per distinct source (entering the core at its chain's two ends
        with the along-chain times as initial distances) against the targets' core entry
        points pinned, or the mirror image when there are fewer distinct targets: the loop runs
        over the smaller side and the larger is pinned, because a sweep's cost levels off with
        the pinned set (road-like 100k, core 9,288 nodes, load 7: 60 µs with 1 pinned node,
        0.7 ms with 100, 1.2 ms with 1,000 or 2,000).
        """
        us, s_inv = np.unique(sources, return_inverse=True)
        ut, t_inv = np.unique(targets, return_inverse=True)
        best = self._unique_units(us, ut, stop, threads)
        return best[s_inv][:, t_inv]

    def _unique_units(
        self, us: np.ndarray, ut: np.ndarray, stop: StopFn | None, threads: int | None
    ) -> np.ndarray:
        """:meth:`unit_matrix` between sorted distinct sources and targets."""
        ch = self.index.chains
        threads = threads or min(4, os.cpu_count() or 1)
        sa, so = ch.anchors(us, self.pair_t, outgoing=True, prefix=self.pre_t)
        ta, to = ch.anchors(ut, self.pair_t, outgoing=False, prefix=self.pre_t)
        forward = us.size <= ut.size
        la, lo, pa, po = (sa, so, ta, to) if forward else (ta, to, sa, so)
        loop = [_entries(ra, ro) for ra, ro in zip(la.tolist(), lo.tolist(), strict=True)]
        pinned, p_inv = np.unique(pa, return_inverse=True)
        p_inv = p_inv.reshape(pa.shape)
        swept = self._sweeps(loop, pinned, forward, stop, threads)
        po_f = np.where(po >= INF, np.inf, po).astype(np.float64)
        best = np.full((len(loop), pa.shape[0]), np.inf)
        for y in (0, 1):
            np.minimum(best, swept[:, p_inv[:, y]] + po_f[None, :, y], out=best)
        if not forward:
            best = best.T
        along = ch.along(us, ut, self.pair_t, self.pre_t)
        if (along < INF).any():
            np.minimum(best, np.where(along >= INF, np.inf, along).astype(np.float64), out=best)
        best[us[:, None] == ut[None, :]] = 0.0
        return best

    def matrix_with_lengths(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        pair_lengths: tuple[np.ndarray, np.ndarray],
        *,
        stop: StopFn | None = None,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``[S, T]`` times (units τ) and lengths of those time-shortest paths.

        ``pair_lengths`` is ``(keys, ql)``: the csgraph engine's open pairs and their exact
        integer lengths; the lengths come back in the same units (inf: no path). Times come
        from :meth:`unit_matrix`; lengths from one point-to-point query per distinct pair
        (entering and leaving the core through the chain ends, like the sweeps), its core
        arcs summed with numpy, in worker threads (queries release the GIL; one query object
        per thread, created in it). Where several paths are equally fast the hierarchy takes
        one of them, the csgraph engine the shortest: metres may then differ (times never).
        """
        us, s_inv = np.unique(sources, return_inverse=True)
        ut, t_inv = np.unique(targets, return_inverse=True)
        best = self._unique_units(us, ut, stop, threads)
        lengths = self._unique_lengths(us, ut, best, pair_lengths, stop, threads)
        return best[s_inv][:, t_inv], lengths[s_inv][:, t_inv]

    def _lengths(
        self, pair_lengths: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per chain pair and per core arc lengths, and the chains' length prefix sums (kept
        for the next call with the same length array: the facade passes its engine's own)."""
        keys, ql = pair_lengths
        cached = self._len_cache
        if cached is not None and cached[0] is keys and cached[1] is ql:
            return cached[2]
        ch = self.index.chains
        pair_keys = ch.pair_u * ch.n + ch.pair_v
        pos = np.minimum(np.searchsorted(keys, pair_keys), max(keys.size - 1, 0))
        found = (keys[pos] == pair_keys) if keys.size else np.zeros(pair_keys.size, bool)
        pair_l = np.where(found, ql[pos] if keys.size else 0, 0).astype(np.int64)
        core_l = ch.core_weights(pair_l).astype(np.float64)  # never INF: lengths are finite
        out = (pair_l, core_l, ch.prefix(pair_l))
        self._len_cache = (keys, ql, out)
        return out

    def _unique_lengths(
        self,
        us: np.ndarray,
        ut: np.ndarray,
        best: np.ndarray,
        pair_lengths: tuple[np.ndarray, np.ndarray],
        stop: StopFn | None,
        threads: int | None,
    ) -> np.ndarray:
        ch = self.index.chains
        rk = _rk()
        pair_l, core_l, pre_l = self._lengths(pair_lengths)
        sa, so = ch.anchors(us, self.pair_t, outgoing=True, prefix=self.pre_t)
        ta, to = ch.anchors(ut, self.pair_t, outgoing=False, prefix=self.pre_t)
        _, sl = ch.anchors(us, pair_l, outgoing=True, prefix=pre_l)
        _, tl = ch.anchors(ut, pair_l, outgoing=False, prefix=pre_l)
        out = np.full(best.shape, np.inf)
        out[np.isfinite(best)] = np.nan  # still to find
        along_t = ch.along(us, ut, self.pair_t, self.pre_t)
        straight = (along_t < INF) & (along_t == best)
        if straight.any():  # straight along a shared chain (no core query)
            out[straight] = ch.along(us, ut, pair_l, pre_l)[straight]
        out[us[:, None] == ut[None, :]] = 0.0
        todo_i, todo_j = np.nonzero(np.isnan(out))
        if not todo_i.size:
            return out
        s_entries = [_entries(a, o) for a, o in zip(sa.tolist(), so.tolist(), strict=True)]
        t_entries = [_entries(a, o) for a, o in zip(ta.tolist(), to.tolist(), strict=True)]
        first = np.zeros(todo_i.size, np.int64)  # core node the path enters at
        last = np.zeros(todo_i.size, np.int64)  # ... and leaves from
        core_sum = np.zeros(todo_i.size)
        tail, head = self.index.chains.arc_tail, self.index.chains.arc_head
        ii, jj = todo_i.tolist(), todo_j.tolist()
        cancelled = threading.Event()

        def flush(ks: list[int], counts: list[int], flat: list[int], node0: list[int]) -> None:
            """Sum the core arcs of a block of paths at once (numpy, not per path)."""
            k = np.asarray(ks, dtype=np.int64)
            cnt = np.asarray(counts, dtype=np.int64)
            arcs = np.asarray(flat, dtype=np.int64)
            some = cnt > 0
            start = (np.cumsum(cnt) - cnt)[some]
            first[k] = node0
            last[k] = node0
            if arcs.size:
                first[k[some]] = tail[arcs[start]]
                last[k[some]] = head[arcs[start + cnt[some] - 1]]
                core_sum[k[some]] = np.add.reduceat(core_l[arcs], start)

        def work(lo: int, hi: int) -> None:
            with _guard("path query"):
                q = rk.CCHQuery(self.metric)
                try:
                    for b0 in range(lo, hi, _PATH_BLOCK):
                        if cancelled.is_set() or (stop is not None and stop()):
                            cancelled.set()
                            return
                        ks = list(range(b0, min(hi, b0 + _PATH_BLOCK)))
                        counts: list[int] = []
                        flat: list[int] = []
                        node0: list[int] = []
                        for k in ks:
                            res = q.run_multi(s_entries[ii[k]], t_entries[jj[k]])
                            arcs = res.arc_path
                            node0.append(-1 if arcs else res.node_path[0])
                            del res  # before the next query on q
                            counts.append(len(arcs))
                            flat.extend(arcs)
                        flush(ks, counts, flat, node0)
                finally:
                    del q

        n_pairs = todo_i.size
        threads = threads or min(4, os.cpu_count() or 1)
        n_workers = max(1, min(threads, n_pairs // _PAIRS_PER_THREAD))
        _run_split(work, n_pairs, n_workers, "cch-path")
        if cancelled.is_set():
            raise MatrixCancelled("travel-time matrix cancelled")
        head_l = _end_length(sa[todo_i], so[todo_i], sl[todo_i], first)
        tail_l = _end_length(ta[todo_j], to[todo_j], tl[todo_j], last)
        out[todo_i, todo_j] = head_l + core_sum + tail_l
        return out

    # ---- paths -------------------------------------------------------------------------

    def path_nodes(self, s: int, t: int) -> list[int] | None:
        """A time-shortest node sequence s → t, or None when t cannot be reached."""
        rk = _rk()
        ch = self.index.chains
        if s == t:
            return [s]
        sa, so = ch.anchors(np.array([s]), self.pair_t, outgoing=True, prefix=self.pre_t)
        ta, to = ch.anchors(np.array([t]), self.pair_t, outgoing=False, prefix=self.pre_t)
        best: tuple[int, list[int]] | None = None
        along = int(ch.along(np.array([s]), np.array([t]), self.pair_t, self.pre_t)[0, 0])
        if along < INF:
            best = (along, ch.straight(s, t))
        q = None
        try:
            with _guard("path query"):
                q = rk.CCHQuery(self.metric)
                for x in (0, 1):
                    for y in (0, 1):
                        if so[0, x] >= INF or to[0, y] >= INF:
                            continue
                        a, b = int(sa[0, x]), int(ta[0, y])
                        if a == b:
                            d, core_nodes = 0, [int(ch.core[a])]
                        else:
                            res = q.run(a, b)
                            dist = res.distance
                            arcs = list(res.arc_path) if dist is not None else []
                            del res
                            if dist is None or dist >= RK_INF:
                                continue
                            d, core_nodes = int(dist), ch.expand(arcs)
                        total = int(so[0, x]) + d + int(to[0, y])
                        if best is not None and total >= best[0]:
                            continue
                        head = ch.walk(s, x, outgoing=True) if ch.chain_of[s] >= 0 else [s]
                        tail = ch.walk(t, y, outgoing=False) if ch.chain_of[t] >= 0 else [t]
                        best = (total, head[:-1] + core_nodes + tail[1:])
        finally:
            del q
        return None if best is None else best[1]
