"""Benchmark both routing engines on ../shared/bench (CVRPLIB CVRP and Solomon VRPTW).

Prints, per instance and time limit, the gap to the best-known value from ``bks.csv`` and the
mean per engine. Floors (issue 3 §8): CVRP mean gap ≤ 1 % at 10 s; Solomon: vehicle count
equal to the best known (hierarchical convention) on ≥ 5 of 6, distance gap ≤ 2 % at 30 s.

Also compares the engines of ``dispatch.routing.solve_routing`` on demo-like emergency
instances (the measurement behind ``DEFAULT_ENGINE``).

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

import numpy as np  # noqa: E402

from dispatch import bench  # noqa: E402
from dispatch.routing import (  # noqa: E402
    Delivery,
    RoutingOptions,
    RoutingProblem,
    RoutingVehicle,
    solve_routing,
)


def demo_like_problem(seed: int = 0, n_depots: int = 3, n_sites: int = 36) -> RoutingProblem:
    """A county-sized emergency instance like the demo: 3 stockpiles, 12 trucks, 36 sites.

    Road distance = 1.3 × straight line over a 40 km square at 40 km/h; trucks of 10 t / 40 m³
    (slower, factor 0.9) and 5 t / 20 m³, 3 trips, 12 h shifts; loads of 0.3–4 t and a few
    12 t loads (split), deadlines 3–10 h, priorities 1/2/5, 10 min unloading, 15 min loading.
    """
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 40_000, size=(n_depots + n_sites, 2))
    d = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1)) * 1.3
    dist = np.round(d).astype(np.int64)
    dur = np.round(d / (40 / 3.6)).astype(np.int64)
    locs = tuple([f"S{i}" for i in range(n_depots)] + [f"P{i}" for i in range(n_sites)])
    vehicles = []
    for dep in range(n_depots):
        for k in range(4):
            big = k < 2
            vehicles.append(
                RoutingVehicle(
                    f"V{dep}-{k}",
                    dep,
                    10_000 if big else 5_000,
                    40 if big else 20,
                    12 * 3600,
                    3,
                    0.9 if big else 1.0,
                )
            )
    dels = []
    for i in range(n_sites):
        w = float(
            rng.choice([300, 800, 1500, 2500, 4000, 12_000], p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.1])
        )
        dels.append(
            Delivery(
                f"D{i}",
                n_depots + i,
                int(rng.integers(n_depots)),
                w,
                w / 250,
                {"water": w / 10},
                600,
                0,
                int(rng.choice([3, 4, 6, 10])) * 3600,
                float(rng.choice([1, 2, 5])),
            )
        )
    return RoutingProblem(
        locs, dur, dist, tuple(locs[:n_depots]), tuple(vehicles), tuple(dels), loading_s=900
    )


def demo_county_problem() -> RoutingProblem | None:
    """The routing problem the dispatch pipeline builds for the bundled demo county.

    Captured by wrapping ``dispatch.routing.solve_routing`` during one ``plan_dispatch`` run
    (the pipeline imports it at call time). None when the demo or its loaders are absent.
    """
    import dispatch.routing as routing_mod

    ws_path = ROOT / "data" / "hejiang_demo.gpkg"
    if not ws_path.exists():
        return None
    try:
        from dispatch.pipeline import DispatchOptions, plan_dispatch
        from gis.loading import load_road_network, open_workspace
    except ImportError:
        return None
    captured: list[RoutingProblem] = []
    original = routing_mod.solve_routing

    def capture(problem, options=None, **kw):  # type: ignore[no-untyped-def]
        captured.append(problem)
        return original(problem, RoutingOptions(engine="pyvrp", time_limit_s=0.5), **kw)

    routing_mod.solve_routing = capture  # type: ignore[assignment]
    try:
        ws = open_workspace(ws_path)
        net = load_road_network(ws_path, ws.scenario)
        plan_dispatch(ws.scenario, net, DispatchOptions(seconds=0.5))
    finally:
        routing_mod.solve_routing = original  # type: ignore[assignment]
    return captured[0] if captured else None


def bench_demo_county(engines: list[str], seconds: list[float]) -> None:
    prob = demo_county_problem()
    if prob is None:
        print("## Demo county: not available\n")
        return
    print(
        f"## Demo county routing problem ({len(prob.depots)} depots, {len(prob.vehicles)} "
        f"vehicles, {len(prob.deliveries)} deliveries)"
    )
    print(
        f"{'objective':<13}{'engine':<9}{'limit s':>8}{'wall s':>8}"
        f"{'unserved':>10}{'wcomp h':>10}{'travel h':>10}{'trips':>7}"
    )
    for secs in seconds:
        for objective in ("emergency", "travel_time"):
            for eng in engines:
                t = time.perf_counter()
                r = solve_routing(
                    prob, RoutingOptions(engine=eng, objective=objective, time_limit_s=secs)
                )
                wall = time.perf_counter() - t
                trips = sum(len(x.trips) for x in r.routes)
                print(
                    f"{objective:<13}{eng:<9}{secs:>8g}{wall:>8.1f}"
                    f"{r.unserved_priority:>10.2f}{r.weighted_completion / 3600:>10.2f}"
                    f"{r.travel_s / 3600:>10.2f}{trips:>7}"
                )
            sys.stdout.flush()
    print()


def bench_emergency(engines: list[str], seconds: list[float], seeds: int) -> None:
    print("## Emergency routing, demo-like instances (lower is better; lexicographic)")
    print("unserved = Σ priority × undelivered share; wcomp = Σ priority × completion (h)")
    print(
        f"{'seed':<5}{'objective':<13}{'engine':<9}{'limit s':>8}{'wall s':>8}"
        f"{'unserved':>10}{'wcomp h':>10}{'travel h':>10}{'trips':>7}"
    )
    for secs in seconds:
        for objective in ("emergency", "travel_time"):
            summary: dict[str, list[tuple[float, float, float]]] = {e: [] for e in engines}
            for seed in range(seeds):
                prob = demo_like_problem(seed)
                for eng in engines:
                    t = time.perf_counter()
                    r = solve_routing(
                        prob, RoutingOptions(engine=eng, objective=objective, time_limit_s=secs)
                    )
                    wall = time.perf_counter() - t
                    trips = sum(len(x.trips) for x in r.routes)
                    summary[eng].append(
                        (r.unserved_priority, r.weighted_completion / 3600, r.travel_s / 3600)
                    )
                    print(
                        f"{seed:<5}{objective:<13}{eng:<9}{secs:>8g}{wall:>8.1f}"
                        f"{r.unserved_priority:>10.2f}{r.weighted_completion / 3600:>10.1f}"
                        f"{r.travel_s / 3600:>10.1f}{trips:>7}"
                    )
            for eng, rows in summary.items():
                m = np.mean(np.array(rows), axis=0)
                print(
                    f"{'MEAN':<5}{objective:<13}{eng:<9}{secs:>8g}{'':>8}"
                    f"{m[0]:>10.2f}{m[1]:>10.1f}{m[2]:>10.1f}"
                )
            sys.stdout.flush()
    print()


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
    p.add_argument("--emergency-seconds", default="5,15")
    p.add_argument("--emergency-seeds", type=int, default=3)
    p.add_argument("--only", choices=["emergency", "cvrp", "vrptw"], default=None)
    p.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    a = p.parse_args(argv)
    if a.quick:
        a.cvrp_seconds, a.vrptw_seconds, a.emergency_seconds = "2", "5", "4"
        a.emergency_seeds = 2
    engines = [e for e in a.engines.split(",") if e]
    if a.only in (None, "emergency"):
        all_engines = engines + (["hybrid"] if "hybrid" not in engines else [])
        bench_demo_county(all_engines, [float(x) for x in a.emergency_seconds.split(",")])
        bench_emergency(
            all_engines,
            [float(x) for x in a.emergency_seconds.split(",")],
            a.emergency_seeds,
        )
        if a.only == "emergency":
            return 0
    bks = _bks(a.bench)

    if a.only == "vrptw":
        a.cvrp_seconds = ""
    else:
        print("## CVRP (gap = cost / best-known − 1)")
        print(
            f"{'instance':<12}{'engine':<9}{'limit s':>8}{'wall s':>8}{'cost':>8}{'bks':>8}"
            f"{'gap %':>8}"
        )
    for secs in [float(s) for s in a.cvrp_seconds.split(",") if s]:
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

    if a.only == "cvrp":
        return 0
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
