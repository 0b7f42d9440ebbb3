#!/usr/bin/env python3
"""ReliefDesk 应急资源调度台 — entry point.

    python app.py [WS.gpkg]                      open the desktop window (default: the bundled demo county)
    python app.py URL                            the desktop window on a shared database (issue 16)
    python app.py --version                      print "ReliefDesk X.Y.Z" and exit
    python app.py --screenshot OUT.png [WS.gpkg] open the window, wait for the map, save a PNG, exit
    python app.py info WS.gpkg                   JSON summary of a workspace
    python app.py import-osm FILE --out WS.gpkg [--boundary GEOJSON]
    python app.py download-osm --out WS.gpkg [--boundary GEOJSON | --place NAME]   (online)
    python app.py matrix WS.gpkg [--sources CSV] [--targets CSV] --out M.csv
    python app.py dispatch WS.gpkg --out DIR [--seconds N] [--engine hybrid|pyvrp|ortools]
    python app.py relax WS.gpkg --plan PLAN.json --out DIR [--seconds S]
    python app.py plan-status WS.gpkg PLAN_NUMBER --to STATUS --who NAME [--note TEXT] [--allow-partial]
    python app.py coverage WS.gpkg --out DIR [--facilities stockpiles|teams|shelters] [--minutes 15,30,60,90]
    python app.py import WS.gpkg FILE --kind KIND [--sheet NAME] [--crs auto|…] [--mapping MAP.json]
                  [--dry-run] [--update]
    python app.py export WS.gpkg --layer NAME --format xlsx|csv|geojson|shp|kml --out FILE
    python app.py plan-stock WS.gpkg --out DIR [--radius-m M] [--deadline-min M] [--seconds S]
    python app.py plan-sites WS.gpkg --model pmedian|mclp|lscp|cflp --facilities stockpiles [--k K] [--minutes T] [--keep-existing] --seconds S --out DIR
    python app.py drill WS.gpkg --script drill.json --out DIR [--auto] [--seconds-per-step S] [--seed N]
    python app.py warn WS.gpkg --hazard ID [--hazard ID …] --colour blue|yellow|orange|red [--valid-hours H] [--seconds S] --out DIR [--save]
    python app.py db-push WS.gpkg URL            copy a workspace into a shared PostGIS database
    python app.py db-pull URL OUT.gpkg           offline GeoPackage copy of a shared database
    python app.py info URL                       the same JSON summary, for a database workspace
    python app.py db-audit URL OUT.csv|OUT.xlsx [--table T]   the database's audit trail
    python app.py compare PLAN_A.json|DRILL_DIR PLAN_B.json|DRILL_DIR --out DIR [--workspace WS.gpkg]
    python app.py review WS.gpkg --out DIR [--incident ID] [--seconds S] [--deadlines FILE.json]

Bad input on any subcommand: one line on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gis.paths import app_root, data_dir
from gis.version import SOFTWARE

ROOT = app_root()  # gis.paths: the source tree, install prefix or frozen bundle
DEMO_WORKSPACE = data_dir() / "hejiang_demo.gpkg"

SUBCOMMANDS = (
    "info",
    "import-osm",
    "download-osm",
    "matrix",
    "dispatch",
    "relax",
    "plan-status",
    "coverage",
    "import",
    "export",
    "plan-stock",
    "plan-sites",
    "drill",
    "warn",
    "db-push",
    "db-pull",
    "db-audit",
    "compare",
    "review",
)
IMPORT_KINDS = (
    "stockpiles", "inventory", "shelters", "teams", "hazards", "incidents", "demand_points", "materials",
    "candidate_sites",
)  # fmt: skip

EPILOG = """subcommands (headless):
  info WS.gpkg                       counts per entity, road nodes/edges, validation warnings (JSON)
  import-osm FILE --out WS.gpkg      build a workspace's road network from an OSM file
                                     (.osm, .osm.gz, .osm.bz2, .osm.pbf, .graphml) [--boundary GEOJSON]
  download-osm --out WS.gpkg         download the roads with osmnx (needs the internet)
                                     [--boundary GEOJSON | --place NAME]; default area: the
                                     workspace's own boundary
  matrix WS.gpkg --out M.csv         travel-time matrix in seconds [--sources CSV] [--targets CSV]
  dispatch WS.gpkg --out DIR         solve and export a dispatch plan [--seconds N] [--engine E]
  relax WS.gpkg --plan P --out DIR   what to change so late or unmet needs are met (relax.json)
  plan-status WS.gpkg PLAN_NUMBER --to 已批准|已下达|执行中|已完成|已作废 --who NAME
                                     [--note TEXT] [--allow-partial]: move a stored plan on
  coverage WS.gpkg --out DIR         coverage, blind spots and isochrones (coverage.json,
                                     isochrones.geojson) [--facilities F] [--minutes 15,30,60,90]
  import WS.gpkg FILE --kind KIND    import a ledger (XLSX/XLS/CSV) or a vector file (SHP, GeoJSON,
                                     KML/KMZ, GPKG) [--dry-run] [--update] [--crs C] [--mapping M]
  export WS.gpkg --layer NAME --format F --out FILE   a layer to xlsx, csv, geojson, shp or kml
  plan-stock WS.gpkg --out DIR       recommended stock per stockpile, gaps, procurement list
                                     (stock.json, stock.xlsx)
  plan-sites WS.gpkg --model M --facilities F --seconds S --out DIR
                                     where to put facilities (sites.json): pmedian|mclp|lscp|cflp
                                     [--k K] [--minutes T] [--keep-existing]
  drill WS.gpkg --script S --out DIR run a drill script (演练): drill.json, steps/NN/plan.json,
                                     report.pdf/xlsx [--auto] [--seconds-per-step S] [--seed N]
  warn WS.gpkg --hazard ID --colour C --out DIR
                                     a hazard warning (蓝/黄/橙/红) → pre-positioning of stock and
                                     teams (preposition.json, orders.pdf) [--valid-hours H]
                                     [--seconds S] [--save]
  compare A B --out DIR              two plans (plan.json) or two drill runs side by side:
                                     compare.json/pdf/xlsx [--workspace WS] (map ground)
  review WS.gpkg --out DIR           after-action review (复盘) from the event log: review.json/
                                     pdf/xlsx [--incident ID] [--seconds S] [--deadlines FILE]

Run `python app.py SUBCOMMAND --help` for the options of one subcommand.
"""


#: --to choices of plan-status (dispatch.records.PlanStatus values; checked by the tests)
PLAN_STATUS_TARGETS = ("已批准", "已下达", "执行中", "已完成", "已作废")


class CliError(Exception):
    """Bad input on the command line: printed as one line, exit code 2."""


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="app.py",
        description="ReliefDesk 应急资源调度台 — county emergency resource dispatch desk.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "workspace",
        nargs="?",
        type=_workspace_arg,
        help="workspace GeoPackage or shared database URL (default: demo county)",
    )
    p.add_argument("--screenshot", type=Path, metavar="OUT.png", help="save a PNG of the window and exit")
    p.add_argument("--version", action="version", version=SOFTWARE, help="print the version and exit")
    return p


def _workspace_arg(text: str) -> Path | str:
    """A workspace on the command line: a database URL stays text, anything else is a path."""
    from gis.workspace.postgis import is_database_url

    return text if is_database_url(text) else Path(text)


def _cli_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="ReliefDesk headless commands.")
    sub = p.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="JSON summary of a workspace")
    info.add_argument("workspace", help="WS.gpkg or a postgresql:// URL")

    push = sub.add_parser("db-push", help="copy a workspace GeoPackage into a shared database")
    push.add_argument("workspace", type=Path)
    push.add_argument("url", help="postgresql://user:password@host:port/db (rd_admin)")
    pull = sub.add_parser("db-pull", help="offline GeoPackage copy of a shared database")
    pull.add_argument("url")
    pull.add_argument("out", type=Path)
    aud = sub.add_parser("db-audit", help="export a shared database's audit trail (CSV/XLSX)")
    aud.add_argument("url")
    aud.add_argument("out", type=Path)
    aud.add_argument("--table", default=None, help="only this table's changes")

    imp = sub.add_parser("import-osm", help="build a workspace road network from an OSM file")
    imp.add_argument("file", type=Path, help=".osm, .osm.gz, .osm.bz2, .osm.pbf or .graphml")
    imp.add_argument("--out", type=Path, required=True, help="workspace GeoPackage to write or update")
    imp.add_argument("--boundary", type=Path, help="GeoJSON polygon to clip the roads to")
    imp.add_argument("--name", help="scenario name (default: the file name)")

    dl = sub.add_parser(
        "download-osm", help="download a workspace road network from OpenStreetMap (online)"
    )
    dl.add_argument("--out", type=Path, required=True, help="workspace GeoPackage to write or update")
    area = dl.add_mutually_exclusive_group()
    area.add_argument("--boundary", type=Path, help="GeoJSON polygon of the area")
    area.add_argument("--place", help="place name geocoded by Nominatim, e.g. '合江县, 泸州市'")
    dl.add_argument("--name", help="scenario name of a new workspace")

    mat = sub.add_parser("matrix", help="travel-time matrix (seconds) between points")
    mat.add_argument("workspace", type=Path)
    mat.add_argument("--sources", type=Path, help="CSV of lon,lat (optional id column)")
    mat.add_argument("--targets", type=Path, help="CSV of lon,lat (optional id column)")
    mat.add_argument("--out", type=Path, required=True)
    mat.add_argument(
        "--max-offroad-m",
        type=float,
        default=5000.0,
        help="points farther than this from any road are unreachable (default 5000)",
    )

    dis = sub.add_parser("dispatch", help="solve and export a dispatch plan")
    dis.add_argument("workspace", type=Path)
    dis.add_argument("--out", type=Path, required=True, help="output folder")
    dis.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="time budget of the solvers (evacuation, teams and routing share it)",
    )
    dis.add_argument(
        "--engine",
        choices=("hybrid", "pyvrp", "ortools"),
        default=None,
        help="vehicle routing engine (default: hybrid = PyVRP then OR-Tools)",
    )
    dis.add_argument(
        "--objective",
        choices=("emergency", "travel_time"),
        default="emergency",
        help="routing objective: priority-weighted arrival times (default) or total travel time",
    )
    dis.add_argument(
        "--hard-deadlines",
        action="store_true",
        help="never send a vehicle or team that would arrive after the incident's deadline. "
        "Trade-off: hard = fewer needs served (the rest listed 超出时限), none late; default soft "
        "= everything that stock, vehicles and teams allow is served, some late (迟到 N 分钟)",
    )
    dis.add_argument(
        "--save",
        action="store_true",
        help="also store the plan in the workspace (atomic; numbered after the plans it holds)",
    )
    dis.add_argument(
        "--max-offroad-m",
        type=float,
        default=None,
        metavar="M",
        help="places farther than this from any road are unreachable (default 5000)",
    )
    dis.add_argument(
        "--relax",
        action="store_true",
        help="then suggest what to change for late or unmet needs (as `relax`, 60 s; relax.json)",
    )
    dis.add_argument(
        "--previous",
        type=Path,
        metavar="PLAN.json",
        help="re-plan: warm start from this plan (its issued orders are kept where still possible)",
    )
    dis.add_argument(
        "--close",
        nargs="+",
        action="extend",
        default=[],
        metavar="ROADSPEC",
        help="close roads for this run, on top of the workspace's closures: LON,LAT[,RADIUS_M] "
        "closes the roads within RADIUS_M (default 50) of the point",
    )
    dis.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="zh",
        help="language of the printed summary, orders.pdf, orders.xlsx, plan.html and plan.csv"
        " (default zh: orders for Chinese teams)",
    )

    rel = sub.add_parser("relax", help="what to change so late or unmet needs are met")
    rel.add_argument("workspace", type=Path)
    rel.add_argument("--plan", type=Path, required=True, help="plan.json made from WS")
    rel.add_argument("--out", type=Path, required=True, help="output folder (relax.json)")
    rel.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="time budget of the whole search (each check re-plans in about 1 s)",
    )

    ps = sub.add_parser("plan-status", help="move a plan stored in a workspace to a new status")
    ps.add_argument("workspace", type=Path)
    ps.add_argument(
        "number",
        metavar="PLAN_NUMBER",
        help="e.g. HJ-20261122-001, or a warning's 预置方案 YJ-…-YZ",
    )
    ps.add_argument(
        "--to",
        required=True,
        metavar="|".join(PLAN_STATUS_TARGETS),
        help="new status (已作废 needs --note with the reason)",
    )
    ps.add_argument("--who", required=True, help="who takes this step (name)")
    ps.add_argument("--note", default="", help="remark; for 已作废 the reason (required)")
    ps.add_argument(
        "--allow-partial",
        action="store_true",
        help="confirm approving a 部分方案 (a cancelled or timed-out solve)",
    )

    cov = sub.add_parser("coverage", help="coverage, blind spots and isochrones of a facility set")
    cov.add_argument("workspace", type=Path)
    cov.add_argument("--out", type=Path, required=True, help="output folder")
    cov.add_argument(  # checked by the command (one line on stderr), not by argparse choices
        "--facilities", default="stockpiles", help="stockpiles (default), teams or shelters"
    )
    cov.add_argument(
        "--minutes",
        default=None,
        help="thresholds in minutes, comma-separated (default 15,30,60,90; stockpiles add 240)",
    )
    cov.add_argument(
        "--close-bridge", default="", metavar="NAME", help="what-if: close the bridge named NAME"
    )
    cov.add_argument(
        "--remove", nargs="+", default=(), metavar="ID", help="what-if: leave these facilities out"
    )

    ipt = sub.add_parser("import", help="import a county ledger or vector file into a workspace")
    ipt.add_argument("workspace", type=Path)
    ipt.add_argument("file", type=Path, help=".xlsx .xls .csv .shp .geojson .kml .kmz .gpkg")
    ipt.add_argument("--kind", required=True, choices=IMPORT_KINDS)
    ipt.add_argument("--sheet", help="sheet (spreadsheets) or layer (GeoPackage, KML) to read")
    ipt.add_argument(
        "--crs",
        default="auto",
        help="coordinates: auto (default), wgs84, gcj02, bd09, cgcs2000 or EPSG:N",
    )
    ipt.add_argument("--mapping", type=Path, help="JSON column mapping template")
    ipt.add_argument("--save-mapping", type=Path, help="write the mapping used as a JSON template")
    ipt.add_argument("--dry-run", action="store_true", help="only report what would change")
    ipt.add_argument("--update", action="store_true", help="update rows that exist (by id, else name)")

    exp = sub.add_parser("export", help="export a workspace layer or table")
    exp.add_argument("workspace", type=Path)
    exp.add_argument("--layer", required=True)
    exp.add_argument("--format", required=True, choices=("xlsx", "csv", "geojson", "shp", "kml"))
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument(
        "--encoding", default="utf-8", choices=("utf-8", "gbk"), help="Shapefile text (default utf-8)"
    )

    pst = sub.add_parser("plan-stock", help="how much to hold: recommended stock, gaps, procurement")
    pst.add_argument("workspace", type=Path)
    pst.add_argument("--out", type=Path, required=True, help="output folder")
    pst.add_argument(
        "--radius-m", type=float, default=1000.0, help="affected people within (default 1000 m)"
    )
    pst.add_argument(
        "--nearest", type=int, default=1, help="else the nearest N points with people (default 1)"
    )
    pst.add_argument(
        "--deadline-min", type=float, default=None, help="deadline for all (default: 预案 template)"
    )
    pst.add_argument(
        "--capacity-factor",
        type=float,
        default=1.5,
        help="stockpile capacity = factor × volume held (default 1.5)",
    )
    pst.add_argument("--seconds", type=float, default=20.0, help="solver time limit (default 20)")
    pst.add_argument(
        "--pairs", action="store_true", help="also serve any two design incidents at once"
    )
    pst.add_argument(
        "--expiry-days",
        type=int,
        default=90,
        help="flag inventory expiring within this many days (default 90; needs 到期日 in the ledger)",
    )
    ps2 = sub.add_parser("plan-sites", help="where to put facilities (p-median, covering, cflp)")
    ps2.add_argument("workspace", type=Path)
    # model/facilities/numbers are checked by the command (one line on stderr), not argparse
    ps2.add_argument("--model", required=True, help="pmedian, mclp, lscp or cflp")
    ps2.add_argument(
        "--facilities", default="stockpiles", help="stockpiles (default), teams or shelters"
    )
    ps2.add_argument("--k", default=None, help="sites to choose (default: as many as exist)")
    ps2.add_argument("--minutes", default=None, help="coverage minutes T (mclp/lscp, default 30)")
    ps2.add_argument(
        "--keep-existing", action="store_true", help="keep the existing sites and add k new"
    )
    ps2.add_argument("--seconds", required=True, help="solver time limit in seconds")
    ps2.add_argument("--out", type=Path, required=True, help="output folder")

    dr = sub.add_parser("drill", help="run a drill script (演练): injects, re-plans, scorecard")
    dr.add_argument("workspace", type=Path)
    dr.add_argument("--script", type=Path, required=True, help="drill script JSON")
    dr.add_argument("--out", type=Path, required=True, help="output folder")
    dr.add_argument("--auto", action="store_true", help="re-plan at each inject")
    dr.add_argument(
        "--seconds-per-step", type=float, default=2.0, help="solver time per step (default 2)"
    )
    dr.add_argument("--seed", type=int, default=0, help="solver seed (default 0)")

    wn = sub.add_parser("warn", help="hazard warning → pre-position stock and teams (预置)")
    wn.add_argument("workspace", type=Path)
    wn.add_argument("--hazard", action="append", required=True, help="warned hazard id (repeat)")
    # the colour is checked by the command (one line on stderr naming the four), not argparse
    wn.add_argument("--colour", required=True, help="blue, yellow, orange or red (蓝/黄/橙/红)")
    wn.add_argument("--valid-hours", type=float, default=24.0, help="valid for (default 24 h)")
    wn.add_argument("--seconds", type=float, default=20.0, help="solver time limit (default 20)")
    wn.add_argument("--out", type=Path, required=True, help="output folder")
    wn.add_argument("--save", action="store_true", help="record the warning and moves in WS")

    cmp_ = sub.add_parser("compare", help="two plans or two drill runs side by side")
    cmp_.add_argument("a", type=Path, help="plan A: plan.json or a drill output folder")
    cmp_.add_argument("b", type=Path, help="plan B: plan.json or a drill output folder")
    cmp_.add_argument("--out", type=Path, required=True, help="output folder")
    cmp_.add_argument("--workspace", type=Path, help="workspace for the map's outline and roads")

    rv = sub.add_parser("review", help="after-action review (复盘) of the workspace's event log")
    rv.add_argument("workspace", type=Path)
    rv.add_argument("--out", type=Path, required=True, help="output folder")
    rv.add_argument("--incident", help="review this incident only (id)")
    rv.add_argument(
        "--seconds", type=float, default=2.0, help="solver time per re-run moment (default 2)"
    )
    rv.add_argument("--deadlines", type=Path, help="report deadlines JSON (default: built in)")
    return p


# ------------------------------------------------------------------------------------------------
# Subcommands (heavy imports stay inside, so `--help` is instant)
# ------------------------------------------------------------------------------------------------


Command = Callable[[argparse.Namespace], int]


def _require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise CliError(f"{what} {path} does not exist")
    if not path.is_file():
        raise CliError(f"{what} {path} is not a file")
    return path


def _reads(**files: str) -> Callable[[Command], Command]:
    """The input files of a subcommand, ``argument="what it is"``: each is checked, in order,
    to be an existing file before the command runs (``error: workspace X does not exist``); an
    optional argument that was not given (``None``) is skipped."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def checked(args: argparse.Namespace) -> int:
            for name, what in files.items():
                path = getattr(args, name)
                if path is not None:
                    _require_file(path, what)
            return command(args)

        return checked

    return decorate


def _require_positive(value: float, option: str) -> None:
    """``--seconds`` and the like: a number above zero (NaN is not)."""
    if not value > 0:
        raise CliError(f"{option} must be > 0, got {value}")


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from gis.loading import open_workspace, workspace_info
    from gis.workspace.postgis import is_database_url

    if is_database_url(args.workspace):
        from gis.loading import database_info

        print(json.dumps(database_info(args.workspace), ensure_ascii=False, indent=2))
        return 0
    ws = open_workspace(_require_file(Path(args.workspace), "workspace"))
    print(json.dumps(workspace_info(ws), ensure_ascii=False, indent=2))
    return 0


def _require_url(url: str) -> str:
    from gis.workspace.postgis import is_database_url

    if not is_database_url(url):
        raise CliError(f"{url!r} is not a database URL (postgresql://user:password@host:port/db)")
    return url


@_reads(workspace="workspace")
def cmd_db_push(args: argparse.Namespace) -> int:
    from gis.loading import db_push

    summary = db_push(args.workspace, _require_url(args.url))
    print(summary)
    return 0


def cmd_db_pull(args: argparse.Namespace) -> int:
    from gis.loading import db_pull

    print(db_pull(_require_url(args.url), args.out))
    return 0


def cmd_db_audit(args: argparse.Namespace) -> int:
    from gis.audit_export import export_audit

    n = export_audit(_require_url(args.url), args.out, table=args.table)
    print(f"{n} audit rows written to {args.out}")
    return 0


def _terminal_progress(fraction: float, message: str) -> None:
    """Progress lines for a person at a terminal; silent when stderr is a pipe or file."""
    if sys.stderr.isatty():
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


@_reads(file="OSM file", boundary="boundary GeoJSON")
def cmd_import_osm(args: argparse.Namespace) -> int:
    import json

    from gis.loading import import_osm

    summary = import_osm(
        args.file,
        args.out,
        boundary_path=args.boundary,
        name=args.name,
        progress=_terminal_progress,
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


@_reads(boundary="boundary GeoJSON")
def cmd_download_osm(args: argparse.Namespace) -> int:
    import json

    from gis.loading import download_roads

    summary = download_roads(
        args.out,
        boundary_path=args.boundary,
        place=args.place,
        name=args.name,
        progress=_terminal_progress,
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


@_reads(workspace="workspace", sources="sources CSV", targets="targets CSV")
def cmd_matrix(args: argparse.Namespace) -> int:
    from gis.loading import matrix_csv

    report = matrix_csv(
        args.workspace,
        args.out,
        sources_csv=args.sources,
        targets_csv=args.targets,
        max_offroad_m=args.max_offroad_m,
    )
    print(report, file=sys.stderr)
    return 0


@_reads(workspace="workspace", previous="previous plan")
def cmd_dispatch(args: argparse.Namespace) -> int:
    from dispatch.cli import run_dispatch_cli

    _require_positive(args.seconds, "--seconds")
    overrides: dict[str, object] = {
        "routing_objective": args.objective,
        "hard_deadlines": bool(args.hard_deadlines),
    }
    if args.max_offroad_m is not None:
        _require_positive(args.max_offroad_m, "--max-offroad-m")
        overrides["max_offroad_m"] = float(args.max_offroad_m)
    if args.close and args.save:
        raise CliError(
            "--close closures are for this run only and are not written to the workspace, so "
            "its plan cannot be saved there: drop --save, or add the closures to the workspace"
        )
    rc = run_dispatch_cli(
        args.workspace,
        args.out,
        seconds=args.seconds,
        engine=args.engine,
        overrides=overrides,
        save=bool(args.save),
        previous=args.previous,
        close=tuple(args.close),
        language="en" if args.lang == "en" else "zh_CN",
    )
    if rc == 0 and getattr(args, "relax", False):
        from dispatch.relax_cli import run_relax_cli

        return run_relax_cli(args.workspace, args.out / "plan.json", args.out, seconds=60.0)
    return rc


@_reads(workspace="workspace", plan="plan")
def cmd_relax(args: argparse.Namespace) -> int:
    from dispatch.relax_cli import run_relax_cli

    _require_positive(args.seconds, "--seconds")
    return run_relax_cli(args.workspace, args.plan, args.out, seconds=args.seconds)


@_reads(workspace="workspace")
def cmd_plan_status(args: argparse.Namespace) -> int:
    from dispatch.cli import run_plan_status_cli

    if args.to not in PLAN_STATUS_TARGETS:
        raise CliError(f"--to must be one of {'|'.join(PLAN_STATUS_TARGETS)}, got {args.to!r}")
    return run_plan_status_cli(
        args.workspace,
        args.number,
        to=args.to,
        who=args.who,
        note=args.note,
        allow_partial=bool(args.allow_partial),
    )


@_reads(workspace="workspace")
def cmd_coverage(args: argparse.Namespace) -> int:
    from dispatch.planning.coverage_cli import run_coverage_cli

    return run_coverage_cli(
        args.workspace,
        args.out,
        facilities=args.facilities,
        minutes=args.minutes,
        close_bridge=args.close_bridge,
        removed=tuple(args.remove),
    )


@_reads(workspace="workspace", file="file", mapping="mapping")
def cmd_import(args: argparse.Namespace) -> int:
    import json

    from gis.imports import ImportRequest, run_import
    from gis.imports.mapping import Template, save_template

    result = run_import(
        ImportRequest(
            workspace=args.workspace,
            file=args.file,
            kind=args.kind,
            sheet=args.sheet,
            crs=args.crs,
            mapping=args.mapping,
            dry_run=bool(args.dry_run),
            update=bool(args.update),
        )
    )
    if args.save_mapping is not None:
        save_template(args.save_mapping, Template(args.kind, dict(result.mapping)))
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    if result.rejected and not args.dry_run:
        first = result.rejected[0]
        print(
            f"error: {len(result.rejected)} row(s) rejected (first: row {first.row}: {first.reason}); "
            "nothing was imported — fix them or see --dry-run",
            file=sys.stderr,
        )
        return 2
    return 0


@_reads(workspace="workspace")
def cmd_export(args: argparse.Namespace) -> int:
    import json

    from gis.imports.export import export_layer

    summary = export_layer(args.workspace, args.layer, args.format, args.out, encoding=args.encoding)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


@_reads(workspace="workspace")
def cmd_plan_stock(args: argparse.Namespace) -> int:
    from dispatch.planning.stock_cli import run_plan_stock_cli

    _require_positive(args.seconds, "--seconds")
    return run_plan_stock_cli(
        args.workspace,
        args.out,
        radius_m=args.radius_m,
        nearest=args.nearest,
        deadline_min=args.deadline_min,
        capacity_factor=args.capacity_factor,
        seconds=args.seconds,
        pairs=bool(args.pairs),
        expiry_days=args.expiry_days,
    )


@_reads(workspace="workspace")
def cmd_plan_sites(args: argparse.Namespace) -> int:
    from dispatch.planning.sites_cli import run_plan_sites_cli

    return run_plan_sites_cli(
        args.workspace,
        args.out,
        model=args.model,
        facilities=args.facilities,
        k=args.k,
        minutes=args.minutes,
        keep_existing=bool(args.keep_existing),
        seconds=args.seconds,
    )


@_reads(workspace="workspace", script="drill script")
def cmd_drill(args: argparse.Namespace) -> int:
    from dispatch.drills.cli import run_drill_cli

    return run_drill_cli(
        args.workspace,
        args.script,
        args.out,
        auto=bool(args.auto),
        seconds_per_step=args.seconds_per_step,
        seed=args.seed,
    )


@_reads(workspace="workspace")
def cmd_warn(args: argparse.Namespace) -> int:
    from dispatch.warnings.cli import run_warn_cli

    return run_warn_cli(
        args.workspace,
        args.out,
        hazards=tuple(args.hazard),
        colour=args.colour,
        valid_hours=args.valid_hours,
        seconds=args.seconds,
        save=bool(args.save),
    )


def cmd_compare(args: argparse.Namespace) -> int:
    from dispatch.drills.compare_cli import run_compare_cli

    return run_compare_cli(args.a, args.b, args.out, workspace=args.workspace)


@_reads(workspace="workspace", deadlines="deadlines file")
def cmd_review(args: argparse.Namespace) -> int:
    from dispatch.drills.review_cli import run_review_cli

    return run_review_cli(
        args.workspace,
        args.out,
        incident=args.incident,
        seconds=args.seconds,
        deadlines=args.deadlines,
    )


COMMANDS = {
    "info": cmd_info,
    "import-osm": cmd_import_osm,
    "download-osm": cmd_download_osm,
    "matrix": cmd_matrix,
    "dispatch": cmd_dispatch,
    "relax": cmd_relax,
    "plan-status": cmd_plan_status,
    "coverage": cmd_coverage,
    "import": cmd_import,
    "export": cmd_export,
    "plan-stock": cmd_plan_stock,
    "plan-sites": cmd_plan_sites,
    "drill": cmd_drill,
    "warn": cmd_warn,
    "db-push": cmd_db_push,
    "db-pull": cmd_db_pull,
    "db-audit": cmd_db_audit,
    "compare": cmd_compare,
    "review": cmd_review,
}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        args = _cli_parser().parse_args(args_list)
        try:
            return COMMANDS[args.command](args)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # one clear line, no traceback
            import unicodedata

            from gis.errors import ReliefDeskError

            # one line even if a library message has several; no control characters (an ESC
            # sequence in a name from data must not reach the terminal)
            text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(exc))
            text = " ".join(text.split())
            if isinstance(exc, CliError | ReliefDeskError | OSError | ValueError):
                print(f"error: {text}", file=sys.stderr)
            else:
                print(f"error: {type(exc).__name__}: {text}", file=sys.stderr)
            return 2
    args = _gui_parser().parse_args(args_list)
    workspace = args.workspace
    if isinstance(workspace, Path) and not workspace.exists():
        print(f"error: workspace {workspace} does not exist", file=sys.stderr)
        return 2
    from gui.app_main import main as gui_main

    return gui_main(workspace, args.screenshot)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # solves run in a spawned process (frozen builds need this)
    sys.exit(main())
