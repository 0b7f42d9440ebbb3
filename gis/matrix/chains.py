"""Contraction of chains of two-link nodes, before a contraction hierarchy is ordered.

Road networks are full of nodes with exactly two neighbours (a bend where an attribute
changes, a bridge end, a village on a through road). They carry no routing decision, yet each
costs the hierarchy's node ordering and every query. :func:`contract_chains` splits the nodes
into a *core* (every node with one or three and more distinct neighbours, plus one node of each
isolated ring) and *chains*: maximal paths of two-neighbour nodes between two core nodes A and
B. The core graph keeps every arc between two core nodes and gets one shortcut A→B (and B→A)
per chain whose arcs all exist in that direction. Everything is structural (which arcs exist,
not their weights), so it is computed once per road network; weights come later from a metric:

* :meth:`Chains.core_weights` — a core arc's time is the sum over the node pairs it expands to
  (closed when one of them is closed);
* :meth:`Chains.anchors` — a node inside a chain is reached from/leaves through A or B, with
  the along-chain time as an offset; two nodes on the same chain may also go straight along it
  (:meth:`Chains.along`).

Times are integers (units of τ seconds) so all sums are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["Chains", "contract_chains", "INF", "sorted_unique"]

#: "No path" in the int64 times of this module (far above any real sum of uint32 weights).
INF = np.int64(2**62)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-D integer array by sorting (numpy 2.4's hash-based ``np.unique``
    took ~18× longer on millions of int64 keys)."""
    s = np.sort(np.asarray(a), kind="stable")
    if s.size == 0:
        return s
    keep = np.empty(s.size, bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


@dataclass(frozen=True)
class Chains:
    """Core graph and chains of a network with ``n`` nodes (see module docstring).

    Attributes
    ----------
    n
        Number of nodes of the network.
    pair_u, pair_v
        The network's node pairs joined by at least one arc (self-loops left out), sorted by
        ``u * n + v``; metrics give one time per pair.
    core
        Core node indices, sorted; ``core_index[v]`` is v's position in it (-1 in a chain).
    arc_tail, arc_head
        Core arcs in core numbering (what the hierarchy is built on).
    arc_ptr, arc_pairs
        Core arc i expands to the pairs ``arc_pairs[arc_ptr[i]:arc_ptr[i+1]]`` (in order).
    chain_of, pos
        For a chain node, its chain and its position (1..k) on the chain's node sequence.
    seq_ptr, seq
        Chain c's nodes ``seq[seq_ptr[c]:seq_ptr[c+1]]``: A, k chain nodes, B.
    fwd_pair, bwd_pair
        For each step j of the flattened sequences (from ``seq[j]`` to ``seq[j+1]``, within a
        chain) the pair index forwards and backwards (-1: no arc that way); the last entry of
        each chain is unused (-1).
    """

    n: int
    pair_u: np.ndarray
    pair_v: np.ndarray
    core: np.ndarray
    core_index: np.ndarray
    arc_tail: np.ndarray
    arc_head: np.ndarray
    arc_ptr: np.ndarray
    arc_pairs: np.ndarray
    chain_of: np.ndarray
    pos: np.ndarray
    seq_ptr: np.ndarray
    seq: np.ndarray
    fwd_pair: np.ndarray
    bwd_pair: np.ndarray

    @property
    def n_core(self) -> int:
        return int(self.core.size)

    @property
    def n_chains(self) -> int:
        return int(self.seq_ptr.size - 1)

    def pair_index(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Index of pair (u, v), or -1 where the network has no arc u→v."""
        keys = self.pair_u * self.n + self.pair_v
        k = np.asarray(u, dtype=np.int64) * self.n + np.asarray(v, dtype=np.int64)
        i = np.searchsorted(keys, k)
        i = np.minimum(i, max(keys.size - 1, 0))
        ok = keys.size > 0
        return np.where(ok & (keys[i] == k) if ok else False, i, -1)

    # ---- metric-dependent parts --------------------------------------------------------

    def core_weights(self, pair_t: np.ndarray) -> np.ndarray:
        """int64 time of each core arc (:data:`INF` where a pair on it is closed)."""
        t = pair_t[self.arc_pairs]
        closed = t >= INF
        sums = np.add.reduceat(np.where(closed, 0, t), self.arc_ptr[:-1]) if t.size else t
        bad = np.add.reduceat(closed.astype(np.int64), self.arc_ptr[:-1]) if t.size else t
        return np.where(bad > 0, INF, sums)

    def prefix(self, pair_t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per flattened sequence position: cumulative forward and backward time from A (and
        the number of closed steps so far), restarting at each chain. Computed once per metric
        by callers that query often (``prefix=`` of :meth:`anchors` and :meth:`along`)."""
        out = []
        for pairs in (self.fwd_pair, self.bwd_pair):
            t = np.where(pairs >= 0, pair_t[np.maximum(pairs, 0)], INF)
            closed = t >= INF
            step_t = np.where(closed, 0, t)
            step_c = closed.astype(np.int64)
            # inclusive cumsum shifted by one: value at position j = sum of steps 0..j-1
            cum_t = np.concatenate([[0], np.cumsum(step_t)])[:-1]
            cum_c = np.concatenate([[0], np.cumsum(step_c)])[:-1]
            start = np.repeat(self.seq_ptr[:-1], np.diff(self.seq_ptr))
            out += [cum_t - cum_t[start], cum_c - cum_c[start]]
        return out[0], out[1], out[2], out[3]

    def anchors(
        self,
        nodes: np.ndarray,
        pair_t: np.ndarray,
        *,
        outgoing: bool,
        prefix: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each node's (up to two) core anchors (core numbering) and int64 offsets ``[N, 2]``.

        ``outgoing`` True: time from the node to the anchor (it is a source); False: from the
        anchor to the node (a target). A core node is its own anchor (offset 0, twice).
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        anc = np.empty((nodes.size, 2), dtype=np.int64)
        off = np.zeros((nodes.size, 2), dtype=np.int64)
        ci = self.core_index[nodes]
        is_core = ci >= 0
        anc[is_core] = ci[is_core, None]
        inner = np.flatnonzero(~is_core)
        if inner.size:
            c = self.chain_of[nodes[inner]]
            p = self.pos[nodes[inner]]
            s0, s1 = self.seq_ptr[c], self.seq_ptr[c + 1] - 1  # positions of A and B
            j = s0 + p
            anc[inner, 0] = self.core_index[self.seq[s0]]
            anc[inner, 1] = self.core_index[self.seq[s1]]
            ft, fc, bt, bc = prefix or self.prefix(pair_t)
            if outgoing:  # node → A backwards along the chain, node → B forwards
                to_a = np.where(bc[j] > 0, INF, bt[j])
                to_b = np.where(fc[s1] - fc[j] > 0, INF, ft[s1] - ft[j])
            else:  # A → node forwards, B → node backwards
                to_a = np.where(fc[j] > 0, INF, ft[j])
                to_b = np.where(bc[s1] - bc[j] > 0, INF, bt[s1] - bt[j])
            off[inner, 0], off[inner, 1] = to_a, to_b
        return anc, off

    def along(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        pair_t: np.ndarray,
        prefix: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """int64 ``[S, T]`` time straight along a shared chain (:data:`INF` where the two nodes
        are not chain nodes of the same chain, or the way between them is closed)."""
        s = np.asarray(sources, dtype=np.int64)
        t = np.asarray(targets, dtype=np.int64)
        out = np.full((s.size, t.size), INF, dtype=np.int64)
        cs, ct = self.chain_of[s], self.chain_of[t]
        same = (cs[:, None] == ct[None, :]) & (cs[:, None] >= 0)
        if not same.any():
            return out
        ii, jj = np.nonzero(same)
        c = cs[ii]
        a = self.seq_ptr[c] + self.pos[s[ii]]
        b = self.seq_ptr[c] + self.pos[t[jj]]
        ft, fc, bt, bc = prefix or self.prefix(pair_t)
        fwd = a <= b
        # backwards from a to b (b < a): cumulative backward time from A at a minus at b
        val = np.where(
            fwd,
            np.where(fc[b] - fc[a] > 0, INF, ft[b] - ft[a]),
            np.where(bc[a] - bc[b] > 0, INF, bt[a] - bt[b]),
        )
        out[ii, jj] = val
        return out

    def expand(self, core_arcs: list[int]) -> list[int]:
        """Node sequence (network numbering) of a path given as core arc ids (non-empty)."""
        pairs = np.concatenate(
            [self.arc_pairs[self.arc_ptr[a] : self.arc_ptr[a + 1]] for a in core_arcs]
        )
        return [int(self.pair_u[pairs[0]]), *self.pair_v[pairs].tolist()]

    def walk(self, node: int, anchor_slot: int, *, outgoing: bool) -> list[int]:
        """Nodes from a chain node to its anchor (``outgoing``) or from the anchor to it."""
        c = int(self.chain_of[node])
        s0, s1 = int(self.seq_ptr[c]), int(self.seq_ptr[c + 1]) - 1
        j = s0 + int(self.pos[node])
        part = self.seq[s0 : j + 1].tolist() if anchor_slot == 0 else self.seq[j : s1 + 1].tolist()
        # part runs A..node (slot 0) or node..B (slot 1)
        if outgoing:
            return part[::-1] if anchor_slot == 0 else part
        return part if anchor_slot == 0 else part[::-1]

    def straight(self, s: int, t: int) -> list[int]:
        """Nodes straight along the chain shared by chain nodes s and t."""
        c = int(self.chain_of[s])
        base = int(self.seq_ptr[c])
        a, b = base + int(self.pos[s]), base + int(self.pos[t])
        return self.seq[a : b + 1].tolist() if a <= b else self.seq[b : a + 1][::-1].tolist()


def contract_chains(n: int, u: np.ndarray, v: np.ndarray) -> Chains:
    """Split a directed graph (arcs ``u → v``) into a core and chains of two-neighbour nodes."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    keys = sorted_unique(u[keep] * n + v[keep])
    pu, pv = keys // n, keys % n
    und = sorted_unique(np.minimum(pu, pv) * n + np.maximum(pu, pv))
    ea, eb = und // n, und % n
    deg = np.bincount(ea, minlength=n) + np.bincount(eb, minlength=n)
    inner = deg == 2
    # the two distinct neighbours of each node with two
    ends = np.concatenate([ea, eb])
    other = np.concatenate([eb, ea])
    order = np.argsort(ends, kind="stable")
    ends, other = ends[order], other[order]
    first = np.searchsorted(ends, np.arange(n))
    nb0 = np.where(inner, other[np.minimum(first, max(other.size - 1, 0))], -1)
    nb1 = np.where(inner, other[np.minimum(first + 1, max(other.size - 1, 0))], -1)
    # rings of two-neighbour nodes with no core node: promote the smallest node of each
    both_inner = inner[ea] & inner[eb]
    if inner.any():
        g = coo_matrix(
            (np.ones(int(both_inner.sum())), (ea[both_inner], eb[both_inner])), shape=(n, n)
        )
        _, label = connected_components(g, directed=False)
        touches = np.zeros(n, bool)
        core_nb = inner & ((~inner[np.maximum(nb0, 0)]) | (~inner[np.maximum(nb1, 0)]))
        touches[label[core_nb]] = True
        ring_nodes = np.flatnonzero(inner & ~touches[label])
        if ring_nodes.size:
            lab = label[ring_nodes]
            first_of = np.unique(lab, return_index=True)[1]
            inner[ring_nodes[first_of]] = False
    core = np.flatnonzero(~inner)
    core_index = np.full(n, -1, dtype=np.int64)
    core_index[core] = np.arange(core.size)
    # walk every chain from both of its ends at once (one step per round, only the walks still
    # inside a chain take part): starts are chain nodes with a core neighbour — two per chain,
    # or one node with two core neighbours when the chain is one node long
    cn0 = inner & ~inner[np.maximum(nb0, 0)]
    cn1 = inner & ~inner[np.maximum(nb1, 0)]
    starts = np.flatnonzero(cn0 | cn1)
    prev = np.where(cn0[starts], nb0[starts], nb1[starts])
    walk_id = np.arange(starts.size)
    rec_walk = [walk_id, walk_id]
    rec_node = [prev, starts]
    active, cur, prv = walk_id, starts, prev
    while active.size:
        nxt = np.where(nb0[cur] != prv, nb0[cur], nb1[cur])
        rec_walk.append(active)
        rec_node.append(nxt)
        go_on = inner[nxt]
        active, prv, cur = active[go_on], cur[go_on], nxt[go_on]
    w_all = np.concatenate(rec_walk)
    n_all = np.concatenate(rec_node)
    by_walk = np.argsort(w_all, kind="stable")  # records were made in walking order
    w_all, n_all = w_all[by_walk], n_all[by_walk]
    w_len = np.bincount(w_all, minlength=starts.size)  # A, k chain nodes, B
    w_ptr = np.concatenate([[0], np.cumsum(w_len)])
    # a chain is walked from both ends: keep the walk that starts at its smaller end node
    last_inner = n_all[w_ptr[1:] - 2]
    rows = np.flatnonzero(starts <= last_inner)
    lens = w_len[rows]
    seq_ptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=seq_ptr[1:])
    col = np.arange(int(seq_ptr[-1])) - np.repeat(seq_ptr[:-1], lens)
    seq = n_all[np.repeat(w_ptr[rows], lens) + col].astype(np.int64)
    chain_of = np.full(n, -1, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    chain_id = np.repeat(np.arange(rows.size), lens)
    interior = (col > 0) & (col < np.repeat(lens, lens) - 1)
    chain_of[seq[interior]] = chain_id[interior]
    pos[seq[interior]] = col[interior]

    def pair_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = a * n + b
        i = np.minimum(np.searchsorted(keys, k), max(keys.size - 1, 0))
        return np.where((keys.size > 0) & (keys[i] == k), i, -1) if keys.size else -np.ones_like(k)

    last = np.zeros(seq.size, bool)
    last[seq_ptr[1:] - 1] = True
    nxt_node = np.concatenate([seq[1:], [0]])
    fwd_pair = np.where(last, -1, pair_of(seq, nxt_node))
    bwd_pair = np.where(last, -1, pair_of(nxt_node, seq))
    # core arcs: direct arcs between core nodes, then chain shortcuts each way
    direct = np.flatnonzero(~inner[pu] & ~inner[pv])
    tails = [core_index[pu[direct]]]
    heads = [core_index[pv[direct]]]
    lens_out = [np.ones(direct.size, dtype=np.int64)]
    pairs_out = [direct]
    a_node = seq[seq_ptr[:-1]]
    b_node = seq[seq_ptr[1:] - 1]
    step_chain = np.repeat(np.arange(rows.size), lens)
    for pairs, src, dst, rev in (
        (fwd_pair, a_node, b_node, False),
        (bwd_pair, b_node, a_node, True),
    ):
        missing = np.bincount(step_chain[(pairs < 0) & ~last], minlength=rows.size)
        ok = np.flatnonzero((missing == 0) & (src != dst))
        if not ok.size:
            continue
        tails.append(core_index[src[ok]])
        heads.append(core_index[dst[ok]])
        k = lens[ok] - 1
        lens_out.append(k)
        within = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)  # 0..k-1 per chain
        if rev:  # backwards: the chain's steps in reverse order
            within = np.repeat(k, k) - 1 - within
        pairs_out.append(pairs[np.repeat(seq_ptr[ok], k) + within])
    arc_len = np.concatenate(lens_out)
    arc_ptr = np.zeros(arc_len.size + 1, dtype=np.int64)
    np.cumsum(arc_len, out=arc_ptr[1:])
    return Chains(
        n=n,
        pair_u=pu,
        pair_v=pv,
        core=core,
        core_index=core_index,
        arc_tail=np.concatenate(tails).astype(np.int64),
        arc_head=np.concatenate(heads).astype(np.int64),
        arc_ptr=arc_ptr,
        arc_pairs=np.concatenate(pairs_out).astype(np.int64),
        chain_of=chain_of,
        pos=pos,
        seq_ptr=seq_ptr,
        seq=seq,
        fwd_pair=fwd_pair.astype(np.int64),
        bwd_pair=bwd_pair.astype(np.int64),
    )
