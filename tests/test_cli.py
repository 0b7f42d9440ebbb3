"""The headless command line, run as a user would: a subprocess of `python app.py ...`."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gis.version import SOFTWARE, __version__
from tests.conftest import ROOT

APP = ROOT / "app.py"


def run_app(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run(
        [sys.executable, str(APP), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_help_lists_subcommands() -> None:
    proc = run_app("--help")
    assert proc.returncode == 0
    for cmd in ("info", "import-osm", "matrix", "dispatch", "--screenshot"):
        assert cmd in proc.stdout


def test_version_is_one_line_from_the_one_place() -> None:
    proc = run_app("--version", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"ReliefDesk {__version__}\n" == f"{SOFTWARE}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "gis.version.__version__"
    }
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_info_on_demo(demo_workspace_path: Path) -> None:
    proc = run_app("info", str(demo_workspace_path))
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    counts = info["counts"]
    assert counts["shelters"] >= 20
    assert counts["stockpiles"] >= 7
    assert counts["teams"] >= 12
    assert counts["hazards"] >= 5
    assert info["open_incidents"] >= 3
    assert 5000 <= info["road_network"]["nodes"] <= 20000
    assert info["road_network"]["edges"] > info["road_network"]["nodes"] * 0.9
    assert info["road_network"]["kind"] == "generated"
    assert isinstance(info["warnings"], list)


def test_matrix_default_on_demo(demo_workspace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    proc = run_app("matrix", str(demo_workspace_path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(out.open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    info = json.loads(run_app("info", str(demo_workspace_path)).stdout)["counts"]
    assert header[0] == "source"
    assert len(header) - 1 == info["incidents"] + info["shelters"]
    assert len(body) == info["stockpiles"] + info["teams"]
    values = [int(c) for r in body for c in r[1:] if c != ""]
    # a connected county: nearly everything reachable, and trips take minutes to a couple of hours
    assert len(values) >= 0.9 * len(body) * (len(header) - 1)
    assert min(values) >= 0 and max(values) < 4 * 3600


def test_import_osm_andorra_then_info_and_matrix(andorra_pbf: Path, tmp_path: Path) -> None:
    ws = tmp_path / "andorra.gpkg"
    proc = run_app("import-osm", str(andorra_pbf), "--out", str(ws))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["nodes"] > 1000
    info = json.loads(run_app("info", str(ws)).stdout)
    assert info["road_network"]["kind"] == "osm"
    assert info["road_network"]["nodes"] == summary["nodes"]
    # what the import dropped stays visible after the cleaned network is stored
    assert info["road_network"]["import_report"] == summary["messages"]
    assert any("strongly connected" in m for m in summary["messages"])
    # a matrix between given points: Andorra la Vella, Encamp, Pas de la Casa, and a point in France
    src = tmp_path / "src.csv"
    src.write_text("id,lon,lat\nAlV,1.5218,42.5063\nEncamp,1.5800,42.5347\n", encoding="utf-8")
    tgt = tmp_path / "tgt.csv"
    tgt.write_text("lon,lat\n1.7339,42.5424\n1.5218,42.5063\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    proc = run_app(
        "matrix", str(ws), "--sources", str(src), "--targets", str(tgt), "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["source", "T1", "T2"]
    assert [r[0] for r in rows[1:]] == ["AlV", "Encamp"]
    alv_to_pas = int(rows[1][1])
    encamp_to_pas = int(rows[2][1])
    # Encamp lies on the road from Andorra la Vella to Pas de la Casa: it must be closer
    assert 600 < encamp_to_pas < alv_to_pas < 3 * 3600
    assert int(rows[1][2]) < 120  # AlV to itself: snapping only


@pytest.mark.parametrize(
    "args, needles",
    [
        (("info", "no/such/file.gpkg"), ("no/such/file.gpkg",)),
        (("matrix", "no/such.gpkg", "--out", "x.csv"), ("no/such.gpkg",)),
        (("import-osm", "missing.osm.pbf", "--out", "x.gpkg"), ("missing.osm.pbf",)),
    ],
)
def test_missing_files_give_one_line(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    assert_clean_error(run_app(*args), *needles)


DEMO = "data/hejiang_demo.gpkg"  # relative to ROOT, the subprocess's working directory


@pytest.mark.parametrize(
    "args, needles",
    [
        # every input file a subcommand reads is checked before it runs, optional ones too
        (("db-push", "no/ws.gpkg", "postgresql://u:p@h:1/d"), ("workspace no/ws.gpkg",)),
        (("download-osm", "--out", "x.gpkg", "--boundary", "no/b.geojson"), ("boundary",)),
        (("matrix", DEMO, "--targets", "no/t.csv", "--out", "x.csv"), ("targets CSV no/t.csv",)),
        (("dispatch", DEMO, "--out", "x", "--previous", "no/p.json"), ("previous plan",)),
        (("relax", DEMO, "--plan", "no/p.json", "--out", "x"), ("plan no/p.json",)),
        (("import", DEMO, "no/f.xlsx", "--kind", "stockpiles"), ("file no/f.xlsx",)),
        (("drill", DEMO, "--script", "no/d.json", "--out", "x"), ("drill script",)),
        (("review", DEMO, "--out", "x", "--deadlines", "no/d.json"), ("deadlines file",)),
        (("plan-stock", "data", "--out", "x"), ("workspace data", "is not a file")),
        (("warn", "no/ws.gpkg", "--hazard", "H", "--colour", "red", "--out", "x"), ("no/ws",)),
        # numbers that must be above zero (NaN is not)
        (("dispatch", DEMO, "--out", "x", "--seconds", "0"), ("--seconds must be > 0",)),
        (("dispatch", DEMO, "--out", "x", "--seconds", "nan"), ("--seconds must be > 0",)),
        (("relax", DEMO, "--plan", DEMO, "--out", "x", "--seconds", "-1"), ("--seconds",)),
        (("dispatch", DEMO, "--out", "x", "--max-offroad-m", "0"), ("--max-offroad-m",)),
    ],
)
def test_bad_inputs_are_refused_before_the_command_runs(
    args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    proc = run_app(*args)
    assert_clean_error(proc, *needles)
    assert not (ROOT / "x").exists() and not (ROOT / "x.gpkg").exists()  # nothing was written


def test_not_a_geopackage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gpkg"
    bad.write_text("this is not a GeoPackage", encoding="utf-8")
    assert_clean_error(run_app("info", str(bad)), "bad.gpkg")


def test_malformed_osm_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    assert_clean_error(
        run_app("import-osm", str(bad), "--out", str(tmp_path / "o.gpkg")), "bad.osm"
    )
    assert not (tmp_path / "o.gpkg").exists()


def test_bad_points_csv(demo_workspace_path: Path, tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_text("lon,lat\n105.8,28.8\nabc,28.9\n", encoding="utf-8")
    proc = run_app(
        "matrix", str(demo_workspace_path), "--sources", str(src), "--out", str(tmp_path / "m.csv")
    )
    assert_clean_error(proc, "src.csv", "row 3")


def test_matrix_reports_far_points_and_rejects_bad_outputs(
    demo_workspace_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import app

    tgt = tmp_path / "tgt.csv"
    # the county seat, and a point ~50 km east of 合江县 (far from every demo road)
    tgt.write_text("id,lon,lat\nseat,105.8336,28.8116\nfar,106.90,28.80\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    proc = run_app("matrix", str(demo_workspace_path), "--targets", str(tgt), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = proc.stderr.strip().splitlines()[-1]
    # 50 km from any road (past the 5 km off-road limit): unreachable, its column empty
    assert "1 point(s) farther than 5,000 m from any road, unreachable" in report, report
    assert "far (" in report and "seat (" not in report
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["source", "seat", "far"]
    assert all(r[1] != "" and r[2] == "" for r in rows[1:])
    # with a larger limit it gets a time (off-road leg at walking pace) and a snap warning
    assert (
        app.main(
            [
                *("matrix", str(demo_workspace_path), "--targets", str(tgt)),
                *("--out", str(out), "--max-offroad-m", "100000"),
            ]
        )
        == 0
    )
    report = capsys.readouterr().err.strip()
    assert "0 unreachable pair(s)" in report and "unreachable (" not in report, report
    assert "1 point(s) farther than 500 m from a road" in report and "far (" in report, report
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert all(int(r[2]) > int(r[1]) + 3600 for r in rows[1:])  # ≥ 40 km on foot: hours

    def one_line_error(*args: str) -> str:  # in-process: the same main() as the subprocess
        assert app.main(list(args)) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        return lines[0]

    # an output that is a folder, or in a missing folder: one line, nothing left behind
    ws = str(demo_workspace_path)
    assert "is a directory" in one_line_error("matrix", ws, "--out", str(tmp_path))
    assert not tmp_path.with_name(tmp_path.name + ".tmp").exists()
    missing = tmp_path / "no" / "m.csv"
    assert "does not exist" in one_line_error("matrix", ws, "--out", str(missing))
    # a CSV whose header names other columns
    bad = tmp_path / "xy.csv"
    bad.write_text("x,y\n105.8,28.8\n", encoding="utf-8")
    line = one_line_error("matrix", ws, "--sources", str(bad), "--out", str(out))
    assert "xy.csv" in line and "lon and lat" in line, line


def test_download_osm_offline_is_one_line_and_keeps_the_workspace(
    demo_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process (the download servers are pointed at a host that cannot resolve)."""
    import osmnx as ox

    import app

    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass.invalid/api")
    monkeypatch.setattr(ox.settings, "nominatim_url", "https://nominatim.invalid/")
    ws = demo_copy
    before = ws.read_bytes()
    # default area: the workspace's own outline
    assert app.main(["download-osm", "--out", str(ws)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "overpass.invalid" in err[0] and "import" in err[0], err
    assert ws.read_bytes() == before  # nothing saved is lost
    new = tmp_path / "new.gpkg"
    assert app.main(["download-osm", "--out", str(new), "--place", "合江县"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not reachable" in err[0], err
    assert not new.exists()
    # a new workspace without --boundary/--place has no area: said before going online
    assert app.main(["download-osm", "--out", str(new)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no area to download" in err[0] and "new.gpkg" in err[0], err


def test_error_with_a_multiline_message_stays_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import app
    import gis.loading

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("GDAL said:\nline two\n\tline three")

    monkeypatch.setattr(gis.loading, "open_workspace", boom)
    ws = tmp_path / "w.gpkg"
    ws.write_bytes(b"x")
    assert app.main(["info", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err == "error: RuntimeError: GDAL said: line two line three\n"


def test_dispatch_options_reach_the_plan(demo_workspace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    proc = run_app(
        "dispatch", str(demo_workspace_path), "--out", str(out), "--seconds", "2",
        "--objective", "travel_time", "--hard-deadlines", "--max-offroad-m", "3000",
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    options = plan["inputs"]["options"]
    assert options["routing_objective"] == "travel_time"
    assert options["hard_deadlines"] is True
    assert options["max_offroad_m"] == 3000.0
    # one version (gis/version.py) in the plan and on every page of the printed orders
    assert plan["inputs"]["software"] == SOFTWARE
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(out / "orders.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        pages = [p for p in text.split("\f") if p.strip()]
        assert pages and all(f"{SOFTWARE} 应急资源调度台" in p for p in pages), text[-400:]
    # with hard deadlines no order carries a late-arrival note (the default run of the demo has
    # several: "第 2 站 … 晚于时限约 8 分钟送达")
    assert "晚于时限" not in (out / "plan.json").read_text(encoding="utf-8")
    assert_clean_error(
        run_app("dispatch", str(demo_workspace_path), "--out", str(out), "--max-offroad-m", "-1"),
        "--max-offroad-m",
    )


def test_dispatch_save_files_numbered_plans_and_keeps_everything(
    demo_copy: Path, tmp_path: Path
) -> None:
    from gis.workspace import read_workspace

    ws = demo_copy
    before = read_workspace(ws)
    for n in (1, 2):
        proc = run_app("dispatch", str(ws), "--out", str(tmp_path / f"p{n}"), "--seconds", "1", "--save")
        assert proc.returncode == 0, proc.stderr
    after = read_workspace(ws)
    plans = sorted(after.documents["plans"])
    assert len(plans) == 2 and plans[0].endswith("-001") and plans[1].endswith("-002")
    assert after.scenario == before.scenario
    assert len(after.road_edges) == len(before.road_edges)
    stored = json.loads(after.documents["plans"][plans[1]])
    on_disk = json.loads((tmp_path / "p2" / "plan.json").read_text(encoding="utf-8"))
    assert stored["number"] == on_disk["number"] == plans[1]
    # without --save the workspace file is input only
    mtime = ws.stat().st_mtime_ns
    assert run_app("dispatch", str(ws), "--out", str(tmp_path / "p3"), "--seconds", "1").returncode == 0
    assert ws.stat().st_mtime_ns == mtime
