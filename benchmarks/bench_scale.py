"""Benchmark: the whole ``app.py dispatch`` command at county scale (issue 11 done-criterion:
1,000 incidents with ``--seconds 5`` in under 15 s and under 1.5 GB).

Builds a copy of the demo county (``data/hejiang_demo.gpkg``) whose incidents are replaced by
``--incidents`` generated ones placed on road nodes (seeded: the same workspace every run; each
a scaled copy of one of the three demo incidents: needs, skills, affected people), then runs
``python app.py dispatch WS --out DIR --seconds S`` as a subprocess for it and, in the same run,
for the unchanged 3-incident demo (the baseline). Wall time is measured around the subprocess;
peak memory is the child's maximum resident set size as reported by
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it has been waited for (the largest
RSS of any descendant process waited for: the CLI itself or the OR-Tools child it spawns —
a peak, not a sum of processes alive at the same time; see ``--poll`` for a psutil sum).

Run: ``.venv/bin/python benchmarks/bench_scale.py [--incidents 1000] [--seconds 5] [--seed 7]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO = ROOT / "data" / "hejiang_demo.gpkg"
FLOOR_S = 15.0
FLOOR_MB = 1536.0


def build_workspace(out: Path, n_incidents: int, seed: int) -> Path:
    """A copy of the demo county with ``n_incidents`` generated open incidents on road nodes."""
    import numpy as np

    from gis.model import IncidentStatus, Location
    from gis.workspace import read_workspace, write_workspace

    shutil.copy(DEMO, out)
    ws = read_workspace(out, include_roads=True)
    sc = ws.scenario
    rng = np.random.default_rng(seed)
    nodes = ws.road_nodes
    picks = rng.choice(len(nodes), size=n_incidents, replace=len(nodes) < n_incidents)
    templates = list(sc.incidents)
    t0 = datetime(2026, 7, 12, 8, 0)
    incidents = []
    for k, ni in enumerate(picks):
        tpl = templates[k % len(templates)]
        geom = nodes.geometry.iloc[int(ni)]
        scale = float(rng.uniform(0.01, 0.05))  # small local incidents, like the demo's share
        incidents.append(
            dataclasses.replace(
                tpl,
                id=f"INC-{k + 1:04d}",
                name=f"{tpl.subtype}事件{k + 1:04d}",
                location=Location(round(geom.x, 6), round(geom.y, 6)),
                reported_at=t0 + timedelta(minutes=int(rng.integers(0, 600))),
                affected_people=int(tpl.affected_people * scale),
                needs={c: max(1, round(q * scale)) for c, q in tpl.needs.items()},
                required_skills={s: max(1, round(n * scale)) for s, n in tpl.required_skills.items()},
                level=int(rng.integers(1, 5)),
                status=IncidentStatus.REPORTED,
            )
        )
    write_workspace(
        out,
        sc.replace(incidents=tuple(incidents)),
        road_nodes=ws.road_nodes,
        road_edges=ws.road_edges,
        documents=ws.documents,
    )
    return out


def run_dispatch(ws: Path, out: Path, seconds: float, *, poll: bool) -> dict[str, float | int]:
    """Run the CLI in a fresh interpreter; wall seconds, peak RSS (MB), exit code."""
    cmd = [sys.executable, str(ROOT / "app.py"), "dispatch", str(ws), "--out", str(out)]
    cmd += ["--seconds", f"{seconds:g}"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = 0.0
    if poll:
        import psutil

        p = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                procs = [p, *p.children(recursive=True)]
                peak_sum = max(peak_sum, sum(q.memory_info().rss for q in procs) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(stderr, file=sys.stderr)
    stages = [ln for ln in stdout.splitlines() if ln.startswith("求解：")]
    return {
        "wall_s": wall,
        "peak_mb": max(after, before) / 1024.0,  # ru_maxrss is KiB on Linux
        "peak_sum_mb": peak_sum,
        "rc": proc.returncode,
        "stages": stages[0] if stages else "",
        "grew": after > before,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--poll", action="store_true", help="also sum RSS of the process tree (psutil)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmpd = Path(tmp)
        t = time.perf_counter()
        big = build_workspace(tmpd / "scale.gpkg", args.incidents, args.seed)
        print(f"workspace: {args.incidents} incidents (seed {args.seed}) built in "
              f"{time.perf_counter() - t:.1f} s")
        # baseline first: RUSAGE_CHILDREN's maxrss is a running maximum over waited children
        base = run_dispatch(DEMO, tmpd / "out-demo", args.seconds, poll=args.poll)
        scale = run_dispatch(big, tmpd / "out-scale", args.seconds, poll=args.poll)
    rows = [("demo (3 incidents)", base), (f"{args.incidents} incidents", scale)]
    print(f"command: app.py dispatch WS --out DIR --seconds {args.seconds:g}")
    for label, r in rows:
        extra = f", tree-sum {r['peak_sum_mb']:.0f} MB" if args.poll else ""
        mem = f"{r['peak_mb']:.0f} MB" if r["grew"] or label.startswith("demo") else "≤ baseline"
        print(f"  {label:20s} wall {r['wall_s']:6.1f} s   peak RSS {mem}{extra}   exit {r['rc']}")
        print(f"  {'':20s} {r['stages']}")
    ok_t = scale["wall_s"] < FLOOR_S
    ok_m = scale["peak_mb"] < FLOOR_MB
    print(
        f"floors: wall < {FLOOR_S:g} s: {'PASS' if ok_t else 'FAIL'} ({scale['wall_s']:.1f} s, "
        f"{scale['wall_s'] / max(base['wall_s'], 1e-9):.1f}× the demo); "
        f"peak < {FLOOR_MB / 1024:g} GB: {'PASS' if ok_m else 'FAIL'} ({scale['peak_mb']:.0f} MB)"
    )
    return 0 if ok_t and ok_m and scale["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
