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

``--cap-dir DIR`` runs only the OR-Library CFLP files ``DIR/cap*.txt`` (capa/b/c at each of
their four capacities): one ``RESULT cflp`` line each with our objective, the published optimum
(``CAP_OPTIMA``), proven or not, wall seconds, bound, sites open, load (demand / capacity of
the open sites) and the SCIP baseline of the same run (``--cap-no-baseline`` to skip it).
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


#: Published optima of the OR-Library capacitated warehouse instances, splittable demand
#: (OR-Library ``capopt``, Beasley 1988, EJOR 33; capa/b/c per capacity variant).
CAP_OPTIMA = {
    "cap41": 1040444.375, "cap42": 1098000.450, "cap43": 1153000.450, "cap44": 1235500.450,
    "cap51": 1025208.225, "cap61": 932615.750, "cap62": 977799.400, "cap63": 1014062.050,
    "cap64": 1045650.250, "cap71": 932615.750, "cap72": 977799.400, "cap73": 1010641.450,
    "cap74": 1034976.975, "cap81": 838499.288, "cap82": 910889.563, "cap83": 975889.563,
    "cap84": 1069369.525, "cap91": 796648.438, "cap92": 855733.500, "cap93": 896617.538,
    "cap94": 946051.325, "cap101": 796648.437, "cap102": 854704.200, "cap103": 893782.112,
    "cap104": 928941.750, "cap111": 826124.713, "cap112": 901377.213, "cap113": 970567.750,
    "cap114": 1063356.488, "cap121": 793439.563, "cap122": 852524.625, "cap123": 895302.325,
    "cap124": 946051.325, "cap131": 793439.562, "cap132": 851495.325, "cap133": 893076.712,
    "cap134": 928941.750,
    "capa-8000": 19240822.449, "capa-10000": 18438046.543, "capa-12000": 17765201.949,
    "capa-14000": 17160439.012, "capb-5000": 13656379.578, "capb-6000": 13361927.449,
    "capb-7000": 13198556.434, "capb-8000": 13082516.496, "capc-5000": 11646596.974,
    "capc-5750": 11570340.289, "capc-6500": 11518743.744, "capc-7250": 11505767.394,
}  # fmt: skip
#: The capacity variants of capa/b/c (their files say only the word ``capacity``).
CAP_VARIANTS = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


def run_cap_dir(folder: Path, seconds: float, baseline: bool) -> None:
    """Every ``cap*.txt`` of ``folder`` (capa/b/c at each capacity variant): ours, the published
    optimum, proven or not, wall seconds, the aggregated-formulation SCIP baseline; one RESULT
    line each, then a summary line."""
    import re

    def natural(p: Path) -> tuple:
        return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.stem))

    files = sorted(folder.glob("cap*.txt"), key=natural)
    if not files:
        print(f"no cap*.txt in {folder}")
        return
    print(
        f"CFLP OR-Library in {folder} (splittable); limit {seconds:g} s per solve; machine shared"
    )
    proven = matched = total = 0
    for path in files:
        caps = CAP_VARIANTS.get(path.stem, (None,))
        for cap in caps:
            name = path.stem if cap is None else f"{path.stem}-{cap}"
            inst = read_cap(path, cap)
            problem = LocationProblem(
                inst.cost, inst.demand, capacity=inst.capacity, fixed_cost=inst.fixed_cost
            )
            t0 = time.perf_counter()
            res = solve_cflp(problem, LocationOptions(seconds=seconds))
            wall = time.perf_counter() - t0
            obj = res.info.objective
            best = CAP_OPTIMA.get(name)
            ok = res.info.status.value == "OPTIMAL"
            same = best is not None and obj is not None and abs(obj - best) <= 1e-3 + 1e-9 * best
            total, proven, matched = total + 1, proven + ok, matched + same
            base = "skipped"
            if baseline:
                bv, _bb, bp, bt, _bc = baseline_cflp(inst, seconds)
                base = f"{bv:.3f} {'OPT' if bp else 'open'} {bt:.2f}s"
            load = float(inst.demand.sum()) / float(inst.capacity[list(res.chosen)].sum() or 1)
            print(
                f"RESULT cflp {name} objective={obj if obj is None else round(obj, 3)} "
                f"published={best} proven={ok} seconds={wall:.2f} bound={res.info.bound} "
                f"open={len(res.chosen)} load={load:.3f} "
                f"{'matches' if same else 'DIFFERS'} | baseline SCIP {base}",
                flush=True,
            )
    print(f"RESULT cflp summary: {proven}/{total} proven optimal, {matched}/{total} equal the "
          "published optimum")  # fmt: skip


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
    ap.add_argument("--cap-dir", type=Path, help="run every cap*.txt there (only that)")
    ap.add_argument("--cap-no-baseline", action="store_true", help="--cap-dir without SCIP")
    ap.add_argument(
        "--pmed-dir",
        type=Path,
        help="run the p-median part on every pmedNN.txt in this folder (module docstring)",
    )
    args = ap.parse_args()
    if args.cap_dir:
        return run_cap_dir(args.cap_dir, args.seconds, not args.cap_no_baseline)
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
