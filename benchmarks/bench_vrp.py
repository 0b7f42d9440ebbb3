"""Benchmark both routing engines on ../shared/bench (CVRPLIB CVRP and Solomon VRPTW).

Prints, per instance and time limit, the gap to the best-known value from ``bks.csv`` and the
mean per engine. Floors (issue 3 §8): CVRP mean gap ≤ 1 % at 10 s; Solomon: vehicle count
equal to the best known (hierarchical convention) on ≥ 5 of 6, distance gap ≤ 2 % at 30 s.

Usage::

    .venv/bin/python benchmarks/bench_vrp.py [--quick] [--engines pyvrp,ortools]
        [--cvrp-seconds 2,10] [--vrptw-seconds 10,30] [--bench DIR]

``--quick``: CVRP at 2 s, VRPTW at 5 s. Every solution is re-checked (capacity, windows, each
customer once) and its cost recomputed independently of the solver.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch import bench  # noqa: E402


def _bks(bench_dir: Path) -> dict[tuple[str, str], tuple[float, int | None]]:
    out: dict[tuple[str, str], tuple[float, int | None]] = {}
    with open(bench_dir / "bks.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            veh = None
            for part in row["extra"].split(";"):
                if part.startswith("min_vehicles="):
                    veh = int(part.split("=")[1])
            out[(row["problem"], row["instance"])] = (float(row["best_known"]), veh)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--engines", default="pyvrp,ortools")
    p.add_argument("--cvrp-seconds", default="2,10")
    p.add_argument("--vrptw-seconds", default="10,30")
    p.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    a = p.parse_args(argv)
    if a.quick:
        a.cvrp_seconds, a.vrptw_seconds = "2", "5"
    engines = [e for e in a.engines.split(",") if e]
    bks = _bks(a.bench)

    print("## CVRP (gap = cost / best-known − 1)")
    print(
        f"{'instance':<12}{'engine':<9}{'limit s':>8}{'wall s':>8}{'cost':>8}{'bks':>8}{'gap %':>8}"
    )
    for secs in [float(s) for s in a.cvrp_seconds.split(",")]:
        for eng in engines:
            gaps = []
            for f in sorted((a.bench / "cvrp").glob("*.vrp")):
                inst = bench.read_cvrp(f)
                t = time.perf_counter()
                if eng == "pyvrp":
                    routes = bench.solve_cvrp_pyvrp(inst, secs)
                else:
                    routes = bench.solve_cvrp_ortools(inst, secs)
                wall = time.perf_counter() - t
                seen = sorted(c for r in routes for c in r)
                assert seen == list(range(1, len(inst.ids))), f"{f.name}: customers not once"
                assert all(inst.demand[r].sum() <= inst.capacity for r in routes), "capacity"
                cost = bench.cvrp_cost(inst, routes)
                ref = bks[("CVRP", f.stem)][0]
                gap = 100 * (cost / ref - 1)
                gaps.append(gap)
                print(f"{f.stem:<12}{eng:<9}{secs:>8g}{wall:>8.1f}{cost:>8}{ref:>8g}{gap:>8.2f}")
            print(
                f"{'MEAN':<12}{eng:<9}{secs:>8g}{'':>8}{'':>8}{'':>8}{sum(gaps) / len(gaps):>8.2f}"
            )
        sys.stdout.flush()

    print()
    print("## VRPTW, hierarchical (vehicles first, then distance in double precision)")
    print(
        f"{'instance':<10}{'engine':<9}{'limit s':>8}{'wall s':>8}{'veh':>5}{'bks veh':>8}"
        f"{'distance':>11}{'bks':>10}{'gap %':>8}"
    )
    for secs in [float(s) for s in a.vrptw_seconds.split(",")]:
        for eng in engines:
            gaps, hits, count = [], 0, 0
            for f in sorted((a.bench / "vrptw").glob("*.txt")):
                inst = bench.read_solomon(f)
                t = time.perf_counter()
                try:
                    if eng == "pyvrp":
                        routes = bench.solve_vrptw_pyvrp(inst, secs)
                    else:
                        routes = bench.solve_vrptw_ortools(inst, secs)
                except RuntimeError as exc:
                    print(f"{f.stem:<10}{eng:<9}{secs:>8g}  no solution: {exc}")
                    count += 1
                    continue
                wall = time.perf_counter() - t
                dist = bench.vrptw_check(inst, routes)
                ref, ref_veh = bks[("VRPTW-hier", f.stem)]
                veh = len(routes)
                count += 1
                hits += veh == ref_veh
                gap = 100 * (dist / ref - 1)
                if veh == ref_veh:
                    gaps.append(gap)
                print(
                    f"{f.stem:<10}{eng:<9}{secs:>8g}{wall:>8.1f}{veh:>5}{ref_veh:>8}"
                    f"{dist:>11.2f}{ref:>10.2f}{gap:>8.2f}"
                )
            mean = f"{sum(gaps) / len(gaps):.2f}" if gaps else "-"
            print(
                f"{'SUMMARY':<10}{eng:<9}{secs:>8g}  best-known fleet on {hits}/{count}; "
                f"mean distance gap where fleet matches: {mean} %"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
