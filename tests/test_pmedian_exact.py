"""p-median engine on real OR-Library instances from ../shared/bench: the tree search with sites
forced open and excluded (its multipliers are capped at the nearest forced-open site) against
an independent MIP, and ``bench_planning.py --pmed-dir`` (one RESULT line per file, checked
against the published optima)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dispatch.planning.orlib import read_pmedian
from dispatch.planning.pmedian import solve_pmedian_matrix

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
needs_shared = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench is absent")


def scip_pmedian(d: np.ndarray, p: int, forced: list[int], excluded: list[int]) -> float:
    """The assignment formulation in SCIP (independent of our engine)."""
    from ortools.linear_solver import pywraplp

    n = len(d)
    s = pywraplp.Solver.CreateSolver("SCIP")
    y = [s.BoolVar("") for _ in range(n)]
    s.Add(s.Sum(y) == p)
    for i in forced:
        s.Add(y[i] == 1)
    for i in excluded:
        s.Add(y[i] == 0)
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
    assert s.Solve(params) == pywraplp.Solver.OPTIMAL
    return obj.Value()


@needs_shared
def test_forced_and_excluded_sites_match_an_independent_mip() -> None:
    inst = read_pmedian(BENCH / "pmedian" / "pmed2.txt")
    d = inst.distance
    free = solve_pmedian_matrix(d, inst.p, seconds=30)
    # force two sites the free optimum does not use, exclude two that it does
    forced_ids = [i for i in range(len(d)) if i not in free.open][:2]
    excluded_ids = list(free.open[:2])
    forced = np.zeros(len(d), dtype=bool)
    forced[forced_ids] = True
    allowed = np.ones(len(d), dtype=bool)
    allowed[excluded_ids] = False
    out = solve_pmedian_matrix(d, inst.p, forced=forced, allowed=allowed, seconds=30)
    assert out.proven and out.bound == out.objective
    assert set(forced_ids) <= set(out.open) and not set(excluded_ids) & set(out.open)
    assert len(out.open) == inst.p
    assert out.objective == d[list(out.open)].min(axis=0).sum()
    assert out.objective > free.objective  # the constraints bite
    assert out.objective == pytest.approx(scip_pmedian(d, inst.p, forced_ids, excluded_ids))


@needs_shared
def test_bench_pmed_dir_prints_a_result_line_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.bench_planning import PMED_OPTIMA, run_pmed_dir

    for name in ("pmed3.txt", "pmed5.txt"):
        shutil.copy(BENCH / "pmedian" / name, tmp_path / name)
    (tmp_path / "pmed5-notes.txt").write_text("not an instance")
    run_pmed_dir(tmp_path, seconds=30, baseline_max_n=0, generated=[])
    lines = capsys.readouterr().out.splitlines()
    results = [ln for ln in lines if ln.startswith("RESULT pmed") and "=" in ln.split()[2]]
    assert [ln.split()[1] for ln in results] == ["pmed3", "pmed5"]
    for ln, k in zip(results, (3, 5), strict=True):
        fields = dict(f.split("=", 1) for f in ln.split() if "=" in f)
        assert fields["objective"] == fields["bks"] == str(PMED_OPTIMA[k])
        assert fields["equal"] == "yes" and fields["proven"] == "yes"
        assert "SCIP skipped" in ln
    assert lines[-1].startswith("RESULT pmedian-dir: 2/2 proven optimal, 2/2 equal")
    empty = tmp_path / "empty"
    empty.mkdir()
    run_pmed_dir(empty, seconds=30, baseline_max_n=0, generated=[])
    assert "no pmedNN.txt files" in capsys.readouterr().out
