"""`python -m dispatch.bench pmedian|cflp`: JSON contract on the OR-Library instances in
../shared/bench (objective recomputed independently from the file), the capa/b/c "capacity"
word, and bad files (exit 2, one stderr line naming the file and line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import floyd_warshall

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
needs_shared = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench is absent")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same entry point in this process (exit status, stdout, stderr) — cheaper than a
    subprocess for the error paths."""
    from dispatch.bench import main

    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def pmed_distances(path: Path) -> tuple[np.ndarray, int]:
    """Independent reader: dense matrix, last occurrence of an edge wins, Floyd–Warshall."""
    lines = path.read_text().split("\n")
    n, m, p = map(int, lines[0].split())
    g = np.full((n, n), np.inf)
    for ln in lines[1 : m + 1]:
        i, j, c = map(int, ln.split())
        g[i - 1, j - 1] = g[j - 1, i - 1] = c
    np.fill_diagonal(g, 0)
    return floyd_warshall(g), p


@needs_shared
def test_pmedian_json_contract_pmed1() -> None:
    out = run_cli("pmedian", str(BENCH / "pmedian" / "pmed1.txt"), "--seconds", "20")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert set(res) == {"objective", "medians", "status", "bound"}
    d, p = pmed_distances(BENCH / "pmedian" / "pmed1.txt")
    assert len(set(res["medians"])) == p and all(1 <= v <= 100 for v in res["medians"])
    idx = [v - 1 for v in res["medians"]]
    assert isinstance(res["objective"], int)
    assert res["objective"] == int(d[idx].min(axis=0).sum()) == 5819
    assert res["status"] == "OPTIMAL" and res["bound"] == 5819


@needs_shared
def test_cflp_json_contract_cap41(capsys: pytest.CaptureFixture[str]) -> None:
    rc, stdout, err = run_main(capsys, "cflp", str(BENCH / "cflp" / "cap41.txt"), "--seconds", "30")
    assert rc == 0, err
    res = json.loads(stdout)
    assert set(res) == {"objective", "open", "status", "bound"}
    assert res["objective"] == pytest.approx(1040444.375, abs=0.01)
    assert res["status"] == "OPTIMAL"
    assert all(1 <= i <= 16 for i in res["open"])


def test_cflp_capacity_word_needs_override(tmp_path: Path) -> None:
    # capa/b/c style: the capacity column is the word "capacity"; costs wrap over lines
    f = tmp_path / "capx.txt"
    f.write_text(
        " 3 4\n capacity 100.\n capacity 120.\n capacity 90.\n"
        " 10\n 10. 20. 30.\n 10\n 30. 10.\n 20.\n 10\n 20. 30. 10.\n 10\n 10. 10. 10.\n"
    )
    out = run_cli("cflp", str(f), "--seconds", "10")
    assert out.returncode == 2
    assert str(f) in out.stderr and "line 2" in out.stderr and "--capacity" in out.stderr
    out = run_cli("cflp", str(f), "--capacity", "25", "--seconds", "10")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    # capacity 25 < total demand 40, so two sites; by hand: {1,3} = 190 + 10+20+10+10 = 240,
    # {1,2} = 220 + 50 = 270, {2,3} = 210 + 50 = 260, three sites ≥ 310 + 40
    assert res == {"objective": 240.0, "open": [1, 3], "status": "OPTIMAL", "bound": 240.0}


@pytest.mark.parametrize(
    "problem, text, line",
    [
        ("pmedian", " 4 3 2\n 1 2 5\n 2 3 x\n 3 4 1\n", "line 3"),
        ("pmedian", " 4 2 9\n 1 2 5\n 2 3 1\n", "line 1"),
        ("pmedian", " 4 2 2\n 1 2 5\n 2 9 1\n", "line 3"),
        ("cflp", " 2 1\n 10 5.\n 10 abc\n 3\n 1. 2.\n", "line 3"),
        ("cflp", " 2 2\n 10 5.\n 10 5.\n 3\n 1. 2.\n", "line 5"),
    ],
)
def test_bad_files_exit_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str, text: str, line: str
) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    rc, stdout, err = run_main(capsys, problem, str(f), "--seconds", "5")
    assert rc == 2
    assert stdout == ""
    err = err.strip()
    assert "\n" not in err and str(f) in err and line in err, err


def test_missing_file_and_bad_seconds_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _out, err = run_main(capsys, "pmedian", str(tmp_path / "nope.txt"), "--seconds", "5")
    assert rc == 2 and "not found" in err
    rc, _out, err = run_main(capsys, "cflp", str(tmp_path / "nope.txt"), "--seconds", "0")
    assert rc == 2 and "--seconds" in err
