"""`python -m dispatch.bench`: run as a subprocess on the shared benchmark instances and check
the JSON against an independent recomputation from the instance file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def parse_vrp(path: Path) -> tuple[dict[int, tuple[float, float]], dict[int, int], int, int]:
    """Minimal independent reader: coordinates, demands, capacity, depot."""
    coords: dict[int, tuple[float, float]] = {}
    demand: dict[int, int] = {}
    capacity = depot = None
    section = None
    for line in path.read_text().splitlines():
        parts = line.replace(":", " : ").split()
        if not parts:
            continue
        if parts[0] == "CAPACITY":
            capacity = int(parts[-1])
        elif parts[0].endswith("_SECTION"):
            section = parts[0]
        elif parts[0] == "EOF":
            break
        elif section == "NODE_COORD_SECTION":
            coords[int(parts[0])] = (float(parts[1]), float(parts[2]))
        elif section == "DEMAND_SECTION":
            demand[int(parts[0])] = int(parts[1])
        elif section == "DEPOT_SECTION" and int(parts[0]) > 0 and depot is None:
            depot = int(parts[0])
    assert capacity and depot
    return coords, demand, capacity, depot


def test_cvrp_a_n32_k5(bench_dir: Path) -> None:
    path = bench_dir / "cvrp" / "A-n32-k5.vrp"
    proc = run_cli("cvrp", str(path), "--seconds", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    coords, demand, capacity, depot = parse_vrp(path)
    customers = sorted(c for r in out["routes"] for c in r)
    assert customers == sorted(set(coords) - {depot}), "every customer exactly once"
    cost = 0
    for route in out["routes"]:
        assert sum(demand[c] for c in route) <= capacity
        path_nodes = [depot, *route, depot]
        for a, b in zip(path_nodes, path_nodes[1:]):
            (xa, ya), (xb, yb) = coords[a], coords[b]
            cost += int(math.floor(math.hypot(xa - xb, ya - yb) + 0.5))
    assert cost == out["cost"]
    assert out["cost"] <= 784 * 1.03  # optimal 784


def test_vrptw_solomon_c101(bench_dir: Path) -> None:
    path = bench_dir / "vrptw" / "C101.txt"
    proc = run_cli("vrptw", str(path), "--seconds", "4")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = {}
    capacity = None
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("NUMBER"):
            capacity = int(lines[i + 1].split()[1])
        parts = line.split()
        if len(parts) == 7 and all(p.replace(".", "").isdigit() for p in parts):
            rows[int(parts[0])] = [float(p) for p in parts[1:]]
    assert capacity
    assert sorted(c for r in out["routes"] for c in r) == sorted(set(rows) - {0})
    assert out["vehicles"] == len(out["routes"])
    total = 0.0
    for route in out["routes"]:
        assert sum(rows[c][2] for c in route) <= capacity
        t, prev = rows[0][3], 0
        for c in [*route, 0]:
            x0, y0 = rows[prev][:2]
            x1, y1 = rows[c][:2]
            leg = math.hypot(x1 - x0, y1 - y0)
            total += leg
            t = max(t + leg, rows[c][3])
            assert t <= rows[c][4] + 1e-6, f"customer {c} late"
            t += rows[c][5]
            prev = c
    assert total == pytest.approx(out["distance"], abs=1e-4)
    assert out["vehicles"] == 10  # best known fleet for C101
    assert out["distance"] <= 828.94 * 1.03  # best known 828.94


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("cvrp", "this is not a vrp file\n"),
        ("cvrp", "NAME : x\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EXPLICIT\n"),
        ("vrptw", "R1\n\nVEHICLE\nNUMBER CAPACITY\n 25 200\n\nCUSTOMER\n 0 1 2 abc 0 100 0\n"),
        ("vrptw", "R1\n\nVEHICLE\nNUMBER CAPACITY\n 25 200\n\nCUSTOMER\n 0 1 2 0 50 10 0\n"),
    ],
)
def test_bad_file_exits_2_with_one_line(tmp_path: Path, kind: str, content: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(content)
    proc = run_cli(kind, str(bad), "--seconds", "1")
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in proc.stderr
    assert "bad.txt" in err[0]


def test_missing_file_and_bad_arguments(tmp_path: Path) -> None:
    proc = run_cli("cvrp", str(tmp_path / "nope.vrp"), "--seconds", "1")
    assert proc.returncode == 2 and "not found" in proc.stderr
    proc = run_cli("cvrp", str(tmp_path / "nope.vrp"), "--seconds", "-1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("tsp", "x")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_cli_respects_its_time_budget(bench_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Timed in-process, so a slow interpreter start on a busy machine cannot fail it."""
    from dispatch.bench import main

    path = bench_dir / "cvrp" / "A-n32-k5.vrp"
    main(["cvrp", str(path), "--seconds", "0.5"])  # warm: imports are not the budget
    capsys.readouterr()
    t0 = time.perf_counter()
    assert main(["cvrp", str(path), "--seconds", "1"]) == 0
    wall = time.perf_counter() - t0
    out = json.loads(capsys.readouterr().out.strip())
    assert sorted(c for r in out["routes"] for c in r) == list(range(2, 33))
    assert wall < 1.0 + 1.0, wall  # the 1 s budget, plus reading and checking the file
