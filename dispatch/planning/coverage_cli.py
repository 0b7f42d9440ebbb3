"""``app.py coverage``: a coverage result as ``coverage.json`` and ``isochrones.geojson``.

Contract::

    python app.py coverage WS --out DIR [--facilities stockpiles|teams|shelters]
                                        [--minutes 15,30,60,90]
                                        [--close-bridge NAME] [--remove ID ...]   (what-if)

* ``DIR/coverage.json``: ``points`` (id, name, population, minutes, nearest_id,
  second_minutes — plus kind, source, weight, lon, lat, second_id), ``summary``
  (``{"15": {"share": 0.42, "population": 1234, "points": 56}, …}`` per threshold, shares of the
  population), ``blind_spots`` (points beyond the largest threshold or unreachable, most people
  first, each with a ``reason``), and ``facilities``, ``thresholds``, ``total_population``,
  ``closures``, ``notes``, ``timings``.
* ``DIR/isochrones.geojson``: one Polygon/MultiPolygon feature per threshold (WGS-84), property
  ``minutes`` (plus ``population``, ``share``, ``road_km``); nested: each contains the last.

With ``--close-bridge`` (a bridge of the road network whose name starts with NAME) and/or
``--remove`` (facility ids), ``coverage.json`` also holds ``what_if``: the closures and removed
facilities, the what-if's ``summary``, ``newly_blind`` (points blind in the what-if that the
baseline reached in time, most people first) and ``newly_blind_population``; the rest of the
file (and the isochrones) is the baseline.

Bad input — thresholds not positive or not numbers, an unknown facility set, a set with no
facility, a workspace without demand or without roads — is exit code 2 with one line on stderr
(:class:`~dispatch.planning.coverage.CoverageError` / ``WorkspaceError``) and nothing written.
Points no facility reaches are not an error: they are in the JSON with ``minutes`` ``null`` and
among the blind spots (reason ``不可达``), and a line on stderr says how many.
Minutes are the travel times rounded to 0.01 min; ``null`` means no path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import shapely

from dispatch.planning.coverage import (
    FACILITY_SETS,
    CoverageError,
    CoverageRequest,
    CoverageResult,
    PointCoverage,
    WhatIf,
    what_if,
)
from gis.errors import WorkspaceError
from gis.workspace.atomic import write_json_atomically

__all__ = [
    "coverage_json",
    "isochrones_geojson",
    "parse_minutes",
    "run_coverage_cli",
    "what_if_json",
]


def _key(minutes: float) -> str:
    """``15.0`` → ``"15"``, ``7.5`` → ``"7.5"``."""
    return f"{minutes:g}"


def parse_minutes(text: str) -> tuple[float, ...]:
    """``"15,30,60"`` → (15.0, 30.0, 60.0); raises :class:`CoverageError` naming the bad item."""
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            value = float(item)
        except ValueError:
            raise CoverageError(f"--minutes: {item!r} is not a number of minutes") from None
        out.append(value)
    return CoverageRequest(minutes=tuple(out)).thresholds()


def _point(p: PointCoverage) -> dict[str, Any]:
    s = p.site
    return {
        "id": s.id,
        "name": s.name,
        "population": s.population,
        "minutes": p.minutes,
        "nearest_id": p.nearest_id,
        "second_minutes": p.second_minutes,
        "second_id": p.second_id,
        "kind": s.kind,
        "source": s.source,
        "weight": s.weight,
        "lon": round(s.lon, 7),
        "lat": round(s.lat, 7),
    }


def coverage_json(result: CoverageResult) -> dict[str, Any]:
    """The JSON document of ``coverage.json`` (see module doc)."""
    blind = []
    for p in result.blind_spots:
        d = _point(p)
        d["reason"] = "不可达" if p.minutes is None else f"超过 {_key(result.blind_minutes)} 分钟"
        blind.append(d)
    return {
        "facilities": {
            "set": result.request.facilities,
            "label": FACILITY_SETS[result.request.facilities],
            "items": [{"id": f.id, "name": f.name} for f in result.facilities],
        },
        "thresholds": [_key(t) for t in result.thresholds],
        "total_population": result.total_population,
        "points": [_point(p) for p in result.points],
        "summary": {
            _key(s.minutes): {"share": s.share, "population": s.population, "points": s.points}
            for s in result.summary
        },
        "blind_spots": blind,
        "closures": list(result.closures),
        "notes": list(result.notes),
        "timings": result.timings,
    }


def what_if_json(diff: WhatIf) -> dict[str, Any]:
    """The ``what_if`` section of ``coverage.json``."""
    after = diff.scenario
    return {
        "closures": list(after.closures),
        "removed": list(after.request.removed),
        "summary": {
            _key(s.minutes): {"share": s.share, "population": s.population, "points": s.points}
            for s in after.summary
        },
        "share_change": {_key(m): v for m, v in diff.share_change().items()},
        "newly_blind": [_point(p) for p in diff.newly_blind],
        "newly_blind_population": diff.newly_blind_population,
    }


def isochrones_geojson(result: CoverageResult) -> dict[str, Any]:
    """One feature per threshold (property ``minutes``), smallest first."""
    shares = {s.minutes: s for s in result.summary}
    features = []
    for iso in result.isochrones:
        s = shares[iso.minutes]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "minutes": iso.minutes,
                    "population": s.population,
                    "share": s.share,
                    "road_km": iso.road_km,
                    "facilities": result.request.facilities,
                },
                "geometry": json.loads(shapely.to_geojson(iso.geometry)),
            }
        )
    return {"type": "FeatureCollection", "name": "isochrones", "features": features}


def run_coverage_cli(
    workspace: Path,
    out: Path,
    *,
    facilities: str = "stockpiles",
    minutes: str | None = None,
    close_bridge: str = "",
    removed: tuple[str, ...] = (),
) -> int:
    """Compute and write the two files; returns the exit code (errors raise, see module doc)."""
    from gis.loading import load_road_network, open_workspace

    if facilities not in FACILITY_SETS:
        raise CoverageError(f"--facilities must be one of {'|'.join(FACILITY_SETS)}")
    request = CoverageRequest(
        facilities=facilities, minutes=None if minutes is None else parse_minutes(minutes)
    )
    request.thresholds()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WorkspaceError("output exists and is not a folder", path=str(out))
    ws = open_workspace(workspace)
    network = load_road_network(workspace, ws.scenario)
    if network is None:
        raise WorkspaceError(
            "workspace has no road network (run import-osm first)", path=str(workspace)
        )
    result, diff = what_if(ws.scenario, network, request, bridge=close_bridge, removed=removed)
    doc = coverage_json(result)
    if diff is not None:
        doc["what_if"] = what_if_json(diff)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / "coverage.json", doc)
    write_json_atomically(out / "isochrones.geojson", isochrones_geojson(result))
    unreachable = sum(1 for p in result.points if p.minutes is None)
    top = {_key(s.minutes): f"{s.share:.1%}" for s in result.summary}
    print(
        f"wrote {out / 'coverage.json'} and isochrones.geojson: {len(result.points)} points, "
        f"{len(result.facilities)} {facilities}, population share within {top}, "
        f"{len(result.blind_spots)} blind spot(s)"
        + (f", {unreachable} unreachable" if unreachable else "")
        + (
            f"; what-if: {len(diff.newly_blind)} point(s) newly blind, "
            f"{diff.newly_blind_population:,} people"
            if diff is not None
            else ""
        ),
        file=sys.stderr,
    )
    return 0
