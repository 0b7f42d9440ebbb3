"""OR-Library location benchmarks: readers and the ``pmedian`` / ``cflp`` bench commands.

Formats (Beasley 1985, 1988; see ``../shared/bench/README.md``):

- ``pmedN.txt`` — line 1 ``n m p``; then ``m`` lines ``i j cost`` (1-based, undirected). Distance =
  shortest path over the edges; an edge listed twice keeps its **last** cost.
- ``capNN.txt`` / ``capa|b|c.txt`` — ``m n``; ``m`` rows ``capacity fixed_cost``; then per customer
  its demand followed by ``m`` costs of serving *all* of its demand from each facility (the rows
  wrap over lines, so the file is read as a token stream that remembers line numbers). In capa/b/c
  the capacity column is the literal word ``capacity``: the caller must give ``--capacity``.

A bad file raises :class:`gis.errors.ValidationError` naming the file and the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gis.errors import ValidationError


@dataclass(frozen=True)
class PMedianInstance:
    name: str
    p: int
    distance: np.ndarray  # (n, n) int64 shortest-path distances


@dataclass(frozen=True)
class CapInstance:
    name: str
    capacity: np.ndarray  # (m,)
    fixed_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (m, n): cost of serving all of customer j's demand from i


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise ValidationError(f"{path}: file not found")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc})") from None


def read_pmedian(path: str | Path) -> PMedianInstance:
    """Read an OR-Library p-median file and compute all shortest-path distances."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    path = Path(path)
    lines = _lines(path)
    rows = [(no, ln.split()) for no, ln in enumerate(lines, start=1) if ln.strip()]
    if not rows:
        raise ValidationError(f"{path}: empty file")
    no, head = rows[0]
    try:
        n, m, p = (int(t) for t in head)
    except ValueError:
        raise ValidationError(
            f"{path}, line {no}: expected 'n m p', got {lines[no - 1]!r}"
        ) from None
    if n < 1 or m < 0 or not 1 <= p <= n:
        raise ValidationError(
            f"{path}, line {no}: need n ≥ 1, m ≥ 0 and 1 ≤ p ≤ n, got {n} {m} {p}"
        )
    if len(rows) - 1 < m:
        raise ValidationError(f"{path}: {m} edges announced on line {no}, {len(rows) - 1} found")
    edges: dict[tuple[int, int], int] = {}
    for no, parts in rows[1 : m + 1]:
        try:
            i, j, c = (int(t) for t in parts)
        except ValueError:
            raise ValidationError(
                f"{path}, line {no}: expected 'i j cost' (integers), got {lines[no - 1]!r}"
            ) from None
        if not (1 <= i <= n and 1 <= j <= n):
            raise ValidationError(f"{path}, line {no}: vertex outside 1..{n}")
        if c < 0:
            raise ValidationError(f"{path}, line {no}: negative edge cost {c}")
        if i != j:
            edges[(min(i, j) - 1, max(i, j) - 1)] = c  # the last occurrence wins
    for no, _parts in rows[m + 1 :]:
        raise ValidationError(f"{path}, line {no}: more lines than the {m} edges announced")
    ij = np.array(list(edges.keys()), dtype=np.int64).reshape(-1, 2)
    w = np.array(list(edges.values()), dtype=np.float64)
    # a zero-cost edge would vanish from the sparse matrix: keep it as a tiny positive cost
    # (distances are integers, so rounding removes the epsilons again)
    graph = csr_matrix((np.where(w == 0, 1e-7, w), (ij[:, 0], ij[:, 1])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    if not np.all(np.isfinite(dist)):
        i = int(np.argwhere(~np.isfinite(dist))[0][1])
        raise ValidationError(f"{path}: the graph is not connected (vertex {i + 1} unreachable)")
    return PMedianInstance(name=path.stem, p=p, distance=np.rint(dist).astype(np.int64))


_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def read_cap(path: str | Path, capacity: float | None = None) -> CapInstance:
    """Read an OR-Library capacitated warehouse file; ``capacity`` overrides every capacity."""
    path = Path(path)
    lines = _lines(path)
    tokens = [(tok, no) for no, ln in enumerate(lines, start=1) for tok in ln.split()]
    pos = 0

    def take(what: str, *, word_ok: bool = False) -> float | None:
        nonlocal pos
        if pos >= len(tokens):
            last = tokens[-1][1] if tokens else 1
            raise ValidationError(f"{path}, line {last}: file ends where {what} was expected")
        tok, no = tokens[pos]
        pos += 1
        if word_ok and tok.lower() == "capacity":
            return None
        if not _NUM.match(tok):
            raise ValidationError(f"{path}, line {no}: {what} must be a number, got {tok!r}")
        val = float(tok)
        if val < 0:
            raise ValidationError(f"{path}, line {no}: {what} must not be negative, got {tok}")
        return val

    m_f, n_f = take("the facility count m"), take("the customer count n")
    assert m_f is not None and n_f is not None
    if m_f < 1 or n_f < 1 or not m_f.is_integer() or not n_f.is_integer():
        raise ValidationError(f"{path}, line 1: expected positive integers 'm n'")
    m, n = int(m_f), int(n_f)
    cap = np.zeros(m)
    fixed = np.zeros(m)
    for i in range(m):
        line_no = tokens[pos][1] if pos < len(tokens) else 0
        c = take(f"facility {i + 1} capacity", word_ok=True)
        if c is None:
            if capacity is None:
                raise ValidationError(
                    f"{path}, line {line_no}: capacity is the word 'capacity' "
                    "(capa/capb/capc): give --capacity"
                )
            c = capacity
        cap[i] = capacity if capacity is not None else c
        f = take(f"facility {i + 1} fixed cost")
        assert f is not None
        fixed[i] = f
    demand = np.zeros(n)
    cost = np.zeros((m, n))
    for j in range(n):
        d = take(f"customer {j + 1} demand")
        assert d is not None
        demand[j] = d
        for i in range(m):
            v = take(f"customer {j + 1} cost from facility {i + 1}")
            assert v is not None
            cost[i, j] = v
    if pos < len(tokens):
        raise ValidationError(f"{path}, line {tokens[pos][1]}: unexpected data after customer {n}")
    if capacity is not None and not (capacity > 0 and math.isfinite(capacity)):
        raise ValidationError(f"--capacity must be a positive number, got {capacity}")
    return CapInstance(path.stem, cap, fixed, demand, cost)


# ------------------------------------------------------------------------------------------
# The bench commands (wired into ``python -m dispatch.bench``)
# ------------------------------------------------------------------------------------------


def run_pmedian(path: str | Path, seconds: float) -> dict:
    """``{"objective": int, "medians": [1-based], "status": str, "bound": int}``."""
    import time

    from dispatch.planning.pmedian import solve_pmedian_matrix

    t0 = time.perf_counter()
    inst = read_pmedian(path)
    left = max(0.1, 0.97 * seconds - (time.perf_counter() - t0) - 0.05)
    out = solve_pmedian_matrix(inst.distance, inst.p, seconds=left)
    medians = sorted(int(i) + 1 for i in out.open)
    objective = int(inst.distance[[i - 1 for i in medians]].min(axis=0).sum())
    status = "OPTIMAL" if out.proven else ("CANCELLED" if out.stopped == "cancelled" else "TIMEOUT")
    return {"objective": objective, "medians": medians, "status": status, "bound": int(out.bound)}


def run_cflp(path: str | Path, capacity: float | None, seconds: float) -> dict:
    """``{"objective": float, "open": [1-based], "status": str, "bound": float}`` (splittable)."""
    import time

    from dispatch.planning.location import LocationOptions, LocationProblem, solve_cflp

    t0 = time.perf_counter()
    if capacity is not None and not (capacity > 0 and math.isfinite(capacity)):
        raise ValidationError(f"--capacity must be a positive number, got {capacity}")
    inst = read_cap(path, capacity)
    left = max(0.1, 0.97 * seconds - (time.perf_counter() - t0) - 0.05)
    res = solve_cflp(
        LocationProblem(inst.cost, inst.demand, capacity=inst.capacity, fixed_cost=inst.fixed_cost),
        LocationOptions(seconds=left),
    )
    if res.info.objective is None:
        raise RuntimeError(f"{path}: {res.info.status.value}: {'; '.join(res.problems)}")
    return {
        "objective": round(float(res.info.objective), 6),
        "open": [i + 1 for i in res.chosen],
        "status": res.info.status.value,
        "bound": None if res.info.bound is None else round(float(res.info.bound), 6),
    }
