#!/usr/bin/env python3
"""ReliefDesk 应急资源调度台 — entry point.

    python app.py [WS.gpkg]                      open the desktop window (default: the bundled demo county)
    python app.py --version                      print "ReliefDesk X.Y.Z" and exit
    python app.py --screenshot OUT.png [WS.gpkg] open the window, wait for the map, save a PNG, exit
    python app.py info WS.gpkg                   JSON summary of a workspace
    python app.py import-osm FILE --out WS.gpkg [--boundary GEOJSON]
    python app.py download-osm --out WS.gpkg [--boundary GEOJSON | --place NAME]   (online)
    python app.py matrix WS.gpkg [--sources CSV] [--targets CSV] --out M.csv
    python app.py dispatch WS.gpkg --out DIR [--seconds N] [--engine hybrid|pyvrp|ortools]

Bad input on any subcommand: one line on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gis.paths import app_root, data_dir
from gis.version import SOFTWARE

ROOT = app_root()  # gis.paths: the source tree, install prefix or frozen bundle
DEMO_WORKSPACE = data_dir() / "hejiang_demo.gpkg"

SUBCOMMANDS = ("info", "import-osm", "download-osm", "matrix", "dispatch")

EPILOG = """subcommands (headless):
  info WS.gpkg                       counts per entity, road nodes/edges, validation warnings (JSON)
  import-osm FILE --out WS.gpkg      build a workspace's road network from an OSM file
                                     (.osm, .osm.gz, .osm.bz2, .osm.pbf, .graphml) [--boundary GEOJSON]
  download-osm --out WS.gpkg         download the roads with osmnx (needs the internet)
                                     [--boundary GEOJSON | --place NAME]; default area: the
                                     workspace's own boundary
  matrix WS.gpkg --out M.csv         travel-time matrix in seconds [--sources CSV] [--targets CSV]
  dispatch WS.gpkg --out DIR         solve and export a dispatch plan [--seconds N] [--engine E]

Run `python app.py SUBCOMMAND --help` for the options of one subcommand.
"""


class CliError(Exception):
    """Bad input on the command line: printed as one line, exit code 2."""


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="app.py",
        description="ReliefDesk 应急资源调度台 — county emergency resource dispatch desk.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workspace", nargs="?", type=Path, help="workspace GeoPackage (default: demo county)")
    p.add_argument("--screenshot", type=Path, metavar="OUT.png", help="save a PNG of the window and exit")
    p.add_argument("--version", action="version", version=SOFTWARE, help="print the version and exit")
    return p


def _cli_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="ReliefDesk headless commands.")
    sub = p.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="JSON summary of a workspace")
    info.add_argument("workspace", type=Path)

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
        help="never send a vehicle or team that would arrive after the incident's deadline",
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
    return p


# ------------------------------------------------------------------------------------------------
# Subcommands (heavy imports stay inside, so `--help` is instant)
# ------------------------------------------------------------------------------------------------


def _require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise CliError(f"{what} {path} does not exist")
    if not path.is_file():
        raise CliError(f"{what} {path} is not a file")
    return path


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from gis.loading import open_workspace, workspace_info

    ws = open_workspace(_require_file(args.workspace, "workspace"))
    print(json.dumps(workspace_info(ws), ensure_ascii=False, indent=2))
    return 0


def _terminal_progress(fraction: float, message: str) -> None:
    """Progress lines for a person at a terminal; silent when stderr is a pipe or file."""
    if sys.stderr.isatty():
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


def cmd_import_osm(args: argparse.Namespace) -> int:
    import json

    from gis.loading import import_osm

    _require_file(args.file, "OSM file")
    if args.boundary is not None:
        _require_file(args.boundary, "boundary GeoJSON")
    summary = import_osm(
        args.file,
        args.out,
        boundary_path=args.boundary,
        name=args.name,
        progress=_terminal_progress,
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def cmd_download_osm(args: argparse.Namespace) -> int:
    import json

    from gis.loading import download_roads

    if args.boundary is not None:
        _require_file(args.boundary, "boundary GeoJSON")
    summary = download_roads(
        args.out,
        boundary_path=args.boundary,
        place=args.place,
        name=args.name,
        progress=_terminal_progress,
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def cmd_matrix(args: argparse.Namespace) -> int:
    from gis.loading import matrix_csv

    _require_file(args.workspace, "workspace")
    for p, what in ((args.sources, "sources CSV"), (args.targets, "targets CSV")):
        if p is not None:
            _require_file(p, what)
    report = matrix_csv(
        args.workspace,
        args.out,
        sources_csv=args.sources,
        targets_csv=args.targets,
        max_offroad_m=args.max_offroad_m,
    )
    print(report, file=sys.stderr)
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    from dispatch.cli import run_dispatch_cli

    _require_file(args.workspace, "workspace")
    if args.seconds <= 0:
        raise CliError(f"--seconds must be > 0, got {args.seconds}")
    overrides: dict[str, object] = {
        "routing_objective": args.objective,
        "hard_deadlines": bool(args.hard_deadlines),
    }
    if args.max_offroad_m is not None:
        if args.max_offroad_m <= 0:
            raise CliError(f"--max-offroad-m must be > 0, got {args.max_offroad_m}")
        overrides["max_offroad_m"] = float(args.max_offroad_m)
    if args.previous is not None:
        _require_file(args.previous, "previous plan")
    if args.close and args.save:
        raise CliError(
            "--close closures are for this run only and are not written to the workspace, so "
            "its plan cannot be saved there: drop --save, or add the closures to the workspace"
        )
    return run_dispatch_cli(
        args.workspace,
        args.out,
        seconds=args.seconds,
        engine=args.engine,
        overrides=overrides,
        save=bool(args.save),
        previous=args.previous,
        close=tuple(args.close),
    )


COMMANDS = {
    "info": cmd_info,
    "import-osm": cmd_import_osm,
    "download-osm": cmd_download_osm,
    "matrix": cmd_matrix,
    "dispatch": cmd_dispatch,
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
    if workspace is not None and not workspace.exists():
        print(f"error: workspace {workspace} does not exist", file=sys.stderr)
        return 2
    from gui.app_main import main as gui_main

    return gui_main(workspace, args.screenshot)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # solves run in a spawned process (frozen builds need this)
    sys.exit(main())
