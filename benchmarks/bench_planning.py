"""Benchmark: facility location (issue 9 §5) — time to a *proven* optimum, ours against a baseline
measured in the same run.

- p-median: OR-Library pmed1–5 from ``../shared/bench`` (+ ``--generated SPEC…``: instances made
  here in the same format and the same way as Beasley's — a Hamiltonian cycle plus random edges,
  m = n²/50, integer costs U[1, 100]; printed as ``gen-n…-p…``, with no published optimum).
  Ours: :func:`dispatch.planning.pmedian.solve_pmedian_matrix` (local search, Lagrangian
  bound and fixing, Lagrangian branch and bound). Baseline: the plain assignment formulation
  (``y`` binary, ``x_ij ≤ y_i`` continuous) solved by SCIP through OR-Tools with the same limit.
- CFLP: cap41, cap71 (+ ``--cflp-generated M,N,SEED…``: capa-sized instances made here in the
  OR-Library cap format — facilities and customers uniform in a 1000 × 1000 square, demand
  U[5, 35], serving cost 0.1 × distance × demand, capacities U[0.5, 1.5] × 4 × total demand / m,
  fixed costs U[5000, 15000]; no published optimum). Ours: :func:`dispatch.planning.location.solve_cflp` (SCIP, strong
  linking rows and a total-capacity cut); baseline: the textbook aggregated formulation
  (``Σ_j d_j x_ij ≤ C_i y_i`` only) in SCIP.

Each line: instance, best-known value (bks.csv), our value/bound/status/wall time (CPU time in
brackets: the machine is shared, so wall time swings with the load), the baseline's, and the
ratio of wall times baseline / ours (a baseline that times out counts as the limit, marked ``>``).
Both sides are single-threaded.

``--pmed-dir DIR`` runs the p-median part on every ``pmedNN.txt`` in ``DIR`` instead (your own
copies of OR-Library pmed1–40; no generated instances unless ``--generated`` is given, no CFLP):
one ``RESULT pmedNN`` line each with our objective, the published optimum (``PMED_OPTIMA``:
Beasley's OR-Library ``pmedopt``), whether it was proven, the seconds (reading the file and the
shortest paths included) and the baseline's, then a ``RESULT pmedian-dir`` summary.

Run: ``.venv/bin/python benchmarks/bench_planning.py [--seconds 60] [--generated 600,10,1 …]``
``[--pmed-dir DIR]``
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.planning.location import LocationOptions, LocationProblem, solve_cflp  # noqa: E402
from dispatch.planning.orlib import read_cap, read_pmedian  # noqa: E402
from dispatch.planning.pmedian import solve_pmedian_matrix  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"

#: published optima of OR-Library pmed1–40 (J. E. Beasley, OR-Library, file ``pmedopt``;
#: Beasley 1985, "A note on solving large p-median problems", EJOR 21)
PMED_OPTIMA = dict(
    enumerate(
        (5819, 4093, 4250, 3034, 1355, 7824, 5631, 4445, 2734, 1255)
        + (7696, 6634, 4374, 2968, 1729, 8162, 6999, 4809, 2845, 1789)
        + (9138, 8579, 4619, 2961, 1828, 9917, 8307, 4498, 3033, 1989)
        + (10086, 9297, 4700, 3013, 10400, 9934, 5057, 11060, 9423, 5128),
        start=1,
    )
)


def bks() -> dict[str, float]:
    if not (BENCH / "bks.csv").is_file():
        return {}
    with open(BENCH / "bks.csv", newline="") as fh:
        return {r["instance"]: float(r["best_known"]) for r in csv.DictReader(fh)}


def generate_pmed(n: int, p: int, seed: int, out: Path) -> Path:
    """A pmed-format instance like Beasley's: cycle 1–2–…–n–1 plus random edges (m = n²/50)."""
    rng = np.random.default_rng(seed)
    m = max(n * n // 50, n)
    lines = [f" {n} {m} {p}"]
    for i in range(1, n + 1):
        lines.append(f" {i} {i % n + 1} {rng.integers(1, 101)}")
    while len(lines) - 1 < m:
        a, b = rng.integers(1, n + 1, 2)
        if a != b:
            lines.append(f" {a} {b} {rng.integers(1, 101)}")
    out.write_text("\n".join(lines) + "\n")
    return out


def generate_cap(m: int, n: int, seed: int, out: Path) -> Path:
    """A cap-format CFLP instance (module doc): ``m n``, ``m`` rows ``capacity fixed``, then per
    customer its demand and the ``m`` costs of serving all of it."""
    rng = np.random.default_rng(seed)
    fac, cus = rng.uniform(0, 1000, (m, 2)), rng.uniform(0, 1000, (n, 2))
    demand = rng.integers(5, 36, n)
    dist = np.sqrt(((fac[:, None, :] - cus[None, :, :]) ** 2).sum(-1))
    cap = np.round(rng.uniform(0.5, 1.5, m) * 4 * demand.sum() / m)
    fixed = rng.uniform(5000, 15000, m)
    lines = [f" {m} {n}"] + [f" {c:.0f} {f:.3f}" for c, f in zip(cap, fixed, strict=True)]
    for j in range(n):
        lines.append(f" {demand[j]}")
        lines.append(" ".join(f"{0.1 * d * demand[j]:.3f}" for d in dist[:, j]))
    out.write_text("\n".join(lines) + "\n")
    return out


def baseline_pmedian(d: np.ndarray, p: int, seconds: float) -> tuple[float, float, bool, float]:
    from ortools.linear_solver import pywraplp

    t0, c0 = time.perf_counter(), time.process_time()
    n = len(d)
    s = pywraplp.Solver.CreateSolver("SCIP")
    y = [s.BoolVar("") for _ in range(n)]
    s.Add(s.Sum(y) == p)
    obj = s.Objective()
    for j in range(n):
        row = []
        for i in range(n):
            x = s.NumVar(0.0, 1.0, "")
            s.Add(x <= y[i])
            obj.SetCoefficient(x, float(d[i, j]))
            row.append(x)
        s.Add(s.Sum(row) == 1)
    obj.SetMinimization()
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 1e-9)
    s.SetTimeLimit(int(max(0.1, seconds - (time.perf_counter() - t0)) * 1000))
    status = s.Solve(params)
    ok = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    value = obj.Value() if ok else float("nan")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return value, obj.BestBound(), status == pywraplp.Solver.OPTIMAL, wall, cpu


def baseline_cflp(inst, seconds: float) -> tuple[float, float, bool, float]:
    from ortools.linear_solver import pywraplp

    t0, c0 = time.perf_counter(), time.process_time()
    m, n = inst.cost.shape
    s = pywraplp.Solver.CreateSolver("SCIP")
    y = [s.BoolVar("") for _ in range(m)]
    x = [[s.NumVar(0.0, 1.0, "") for _ in range(n)] for _ in range(m)]
    for j in range(n):
        s.Add(s.Sum([x[i][j] for i in range(m)]) == 1)
    for i in range(m):
        s.Add(s.Sum([inst.demand[j] * x[i][j] for j in range(n)]) <= inst.capacity[i] * y[i])
    s.Minimize(
        s.Sum([inst.fixed_cost[i] * y[i] for i in range(m)])
        + s.Sum([inst.cost[i, j] * x[i][j] for i in range(m) for j in range(n)])
    )
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 1e-9)
    s.SetTimeLimit(int(seconds * 1000))
    status = s.Solve(params)
    ok = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    value = s.Objective().Value() if ok else float("nan")
    return (
        value,
        s.Objective().BestBound(),
        status == pywraplp.Solver.OPTIMAL,
        time.perf_counter() - t0,
        time.process_time() - c0,
    )


def line(name, best, ours, base, seconds) -> str:
    (ov, ob, op, ot, oc), (bv, _bb, bp, bt, bc) = ours, base
    ratio = (bt if bp else seconds) / max(ot, 1e-3)
    mark = "" if bp else ">"
    ok = "" if best is None or abs(ov - best) < 1e-3 or not op else "  ≠ BKS!"
    best_s = "—" if best is None else f"{best:.3f}".rstrip("0").rstrip(".")
    return (
        f"{name:16s} bks={best_s:>12s} | ours {ov:14.3f} bound {ob:14.3f} "
        f"{'OPT' if op else 'open':4s} {ot:6.2f}s ({oc:5.2f}) | SCIP {bv:14.3f} "
        f"{'OPT' if bp else 'open':4s} {bt:6.2f}s ({bc:5.2f}) | ratio {mark}{ratio:6.1f}x{ok}"
    )


def pmed_files(directory: Path) -> list[tuple[int, Path]]:
    """``pmedNN.txt`` files of ``directory`` in the order of NN."""
    found = []
    for path in directory.glob("pmed*.txt"):
        match = re.fullmatch(r"pmed(\d+)\.txt", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def run_pmed_dir(
    directory: Path, seconds: float, baseline_max_n: int, generated: list[str]
) -> None:
    """One RESULT line per instance (module docstring), then a summary."""
    items: list[tuple[str, Path]] = [(p.stem, p) for _k, p in pmed_files(directory)]
    if not items:
        print(f"{directory}: no pmedNN.txt files found")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for spec in generated:
            n, p, seed = (int(v) for v in spec.split(","))
            path = generate_pmed(n, p, seed, Path(tmp) / f"gen-n{n}-p{p}-s{seed}.txt")
            items.append((path.stem, path))
        rows = []
        for name, path in items:
            t0, c0 = time.perf_counter(), time.process_time()
            inst = read_pmedian(path)
            left = max(0.1, seconds - (time.perf_counter() - t0))
            out = solve_pmedian_matrix(inst.distance, inst.p, seconds=left)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            n = len(inst.distance)
            match = re.fullmatch(r"pmed(\d+)", name)
            best = PMED_OPTIMA.get(int(match.group(1))) if match else None
            if n > baseline_max_n:
                base = f"SCIP skipped (n > {baseline_max_n})"
            else:
                bv, _bb, bp, bt, _bc = baseline_pmedian(
                    inst.distance.astype(float), inst.p, seconds
                )
                base = f"SCIP {bv:.0f} {'OPT' if bp else 'open'} {bt:.2f}s"
            agree = "—" if best is None else ("yes" if round(out.objective) == best else "NO")
            print(
                f"RESULT {name} n={n} p={inst.p} objective={out.objective:.0f} "
                f"bks={'—' if best is None else best} equal={agree} "
                f"proven={'yes' if out.proven else 'no'} bound={out.bound:.0f} "
                f"seconds={wall:.2f} cpu={cpu:.2f} | baseline {base}",
                flush=True,
            )
            rows.append((out.proven, agree, wall))
    proven = sum(r[0] for r in rows)
    known = [r for r in rows if r[1] != "—"]
    print(
        f"RESULT pmedian-dir: {proven}/{len(rows)} proven optimal, "
        f"{sum(r[1] == 'yes' for r in known)}/{len(known)} equal to the published optimum, "
        f"slowest {max(r[2] for r in rows):.2f} s, "
        f"{sum(r[0] and r[2] <= 30 for r in rows)}/{len(rows)} proven within 30 s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="limit per solve (both sides)")
    ap.add_argument(
        "--generated",
        nargs="*",
        default=["400,5,1", "400,40,2", "600,10,3"],
        help="n,p,seed of generated pmed-format instances (marked gen-…)",
    )
    ap.add_argument("--no-baseline-above", type=int, default=600, help="skip SCIP when n > this")
    ap.add_argument(
        "--cflp-generated",
        nargs="*",
        default=[],
        help="m,n,seed of generated cap-format CFLP instances (e.g. 100,1000,1: capa size)",
    )
    ap.add_argument(
        "--pmed-dir",
        type=Path,
        help="run the p-median part on every pmedNN.txt in this folder (module docstring)",
    )
    args = ap.parse_args()
    known = bks()
    print(f"time limit {args.seconds:g} s per solve; machine shared and loaded (timings vary)")
    if args.pmed_dir is not None:
        if not args.pmed_dir.is_dir():
            sys.exit(f"--pmed-dir {args.pmed_dir}: not a folder")
        explicit = "--generated" in sys.argv
        generated = args.generated if explicit else []
        run_pmed_dir(args.pmed_dir, args.seconds, args.no_baseline_above, generated)
        return
    items: list[tuple[str, Path]] = []
    if BENCH.is_dir():
        items += [(f"pmed{k}", BENCH / "pmedian" / f"pmed{k}.txt") for k in range(1, 6)]
    else:
        print("../shared/bench is absent: OR-Library instances skipped")
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.generated:
            n, p, seed = (int(v) for v in spec.split(","))
            path = generate_pmed(n, p, seed, Path(tmp) / f"gen-n{n}-p{p}-s{seed}.txt")
            items.append((f"gen-n{n}-p{p}-s{seed}", path))
        print("p-median (objective = Σ shortest-path distance to the nearest median)")
        ratios = []
        for name, path in items:
            inst = read_pmedian(path)
            t0, c0 = time.perf_counter(), time.process_time()
            out = solve_pmedian_matrix(inst.distance, inst.p, seconds=args.seconds)
            ours = (
                out.objective,
                out.bound,
                out.proven,
                time.perf_counter() - t0,
                time.process_time() - c0,
            )
            if len(inst.distance) > args.no_baseline_above:
                print(f"{name:16s} ours {out.objective:.0f} {'OPT' if out.proven else 'open'} "
                      f"{ours[3]:.2f}s | SCIP skipped (n > {args.no_baseline_above})")  # fmt: skip
                continue
            base = baseline_pmedian(inst.distance.astype(float), inst.p, args.seconds)
            print(line(name, known.get(name), ours, base, args.seconds), flush=True)
            ratios.append((base[3] if base[2] else args.seconds) / max(ours[3], 1e-3))
        if ratios:
            geo = float(np.exp(np.mean(np.log(ratios))))
            print(f"RESULT pmedian: geometric-mean speed-up vs SCIP assignment MIP {geo:.1f}x")
    cflp_items: list[tuple[str, Path]] = []
    if BENCH.is_dir():
        cflp_items += [(name, BENCH / "cflp" / f"{name}.txt") for name in ("cap41", "cap71")]
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.cflp_generated:
            m, n, seed = (int(v) for v in spec.split(","))
            path = generate_cap(m, n, seed, Path(tmp) / f"gen-cap{m}x{n}-s{seed}.txt")
            cflp_items.append((f"gen-cap{m}x{n}-s{seed}", path))
        if cflp_items:
            print("CFLP (splittable; fixed + allocation cost)")
        for name, path in cflp_items:
            inst = read_cap(path)
            c0 = time.process_time()
            res = solve_cflp(
                LocationProblem(
                    inst.cost, inst.demand, capacity=inst.capacity, fixed_cost=inst.fixed_cost
                ),
                LocationOptions(seconds=args.seconds),
            )
            ours = (
                res.info.objective or float("nan"),
                res.info.bound or float("nan"),
                res.info.status.value == "OPTIMAL",
                res.info.runtime_s,
                time.process_time() - c0,
            )
            base = baseline_cflp(inst, args.seconds)
            print(line(name, known.get(name), ours, base, args.seconds), flush=True)


if __name__ == "__main__":
    main()
