"""``app.py plan-sites``: where to put facilities, as ``sites.json``.

Contract::

    python app.py plan-sites WS --model pmedian|mclp|lscp|cflp --facilities stockpiles
                             [--k K] [--minutes T] [--keep-existing] --seconds S --out DIR

``--facilities`` may also be ``teams`` or ``shelters``. ``DIR/sites.json`` holds ``chosen``
(``[{id, name, lon, lat, existing, source}]``; township seats have ids ``seat:<code>``),
``objective`` (pmedian: population × minutes; mclp: people within T; lscp: number of sites;
cflp: fixed + population × minutes), ``status`` (OPTIMAL/FEASIBLE/TIMEOUT/CANCELLED/
INFEASIBLE), ``bound`` (``null`` where the engine gives none), ``before`` (the existing
facilities) and ``after`` (the chosen set; ``null`` if the solver found none), each with
``mean_minutes`` (population-weighted), ``max_minutes``, ``share_within`` per threshold and
``unreachable_population``; plus ``model``, ``facilities``, ``k``, ``minutes``,
``thresholds``, ``candidates``, ``demand_points``, ``uncovered``, ``problems``, ``notes``,
``timings``. See :mod:`dispatch.planning.sites` for candidates, times and the cflp data.

Bad input — unknown model or facility set, k larger than the candidates, no candidates, all
demand unreachable, minutes or seconds not positive, a workspace without roads — is exit code 2
with one line on stderr (:class:`~dispatch.planning.sites.SitesError` / ``WorkspaceError``)
and nothing written. The file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dispatch.planning.sites import SITE_MODELS, SitesError, SitesRequest, SitesResult, plan_sites
from gis.errors import WorkspaceError
from gis.workspace.atomic import write_json_atomically

__all__ = ["parse_positive", "run_plan_sites_cli", "sites_json"]


def parse_positive(text: str | None, what: str, *, integer: bool = False) -> Any:
    """``--k``/``--minutes``/``--seconds`` text → a positive number (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SitesError(f"{what}: {text!r} is not {kind}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise SitesError(f"{what} must be positive, got {text!r}")
    return value


def sites_json(result: SitesResult) -> dict[str, Any]:
    """The document of ``sites.json`` (module doc)."""
    info = result.solve.info
    req = result.request
    return {
        "model": req.model,
        "facilities": req.facilities,
        "keep_existing": req.keep_existing,
        "k": result.k,
        "minutes": result.cover_minutes,
        "thresholds": [f"{t:g}" for t in result.thresholds],
        "chosen": [
            {
                "id": c.id,
                "name": c.name,
                "lon": round(c.lon, 7),
                "lat": round(c.lat, 7),
                "existing": c.existing,
                "source": c.source,
            }
            for c in result.chosen
        ],
        "objective": info.objective,
        "status": info.status.value,
        "bound": info.bound,
        "engine": info.engine,
        "runtime_s": round(info.runtime_s, 3),
        "before": result.before.as_dict(),
        "after": None if result.after is None else result.after.as_dict(),
        "candidates": len(result.candidates),
        "existing": sum(1 for c in result.candidates if c.existing),
        "demand_points": len(result.demand),
        "uncovered": [result.demand[j].id for j in result.solve.uncovered],
        "problems": list(result.solve.problems),
        "notes": list(result.notes),
        "timings": result.timings,
    }


def run_plan_sites_cli(
    workspace: Path,
    out: Path,
    *,
    model: str,
    facilities: str = "stockpiles",
    k: str | None = None,
    minutes: str | None = None,
    keep_existing: bool = False,
    seconds: str = "30",
) -> int:
    """Plan and write ``sites.json``; returns the exit code (errors raise, see module doc)."""
    from gis.loading import load_road_network, open_workspace

    if model not in SITE_MODELS:
        raise SitesError(f"--model must be one of {'|'.join(SITE_MODELS)}, got {model!r}")
    request = SitesRequest(
        model=model,
        facilities=facilities,
        k=parse_positive(k, "--k", integer=True),
        minutes=parse_positive(minutes, "--minutes"),
        keep_existing=keep_existing,
        seconds=parse_positive(seconds, "--seconds"),
    )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WorkspaceError("output exists and is not a folder", path=str(out))
    ws = open_workspace(workspace)
    network = load_road_network(workspace, ws.scenario)
    if network is None:
        raise WorkspaceError(
            "workspace has no road network (run import-osm first)", path=str(workspace)
        )
    result = plan_sites(ws.scenario, network, request)
    doc = sites_json(result)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / "sites.json", doc)
    before, after = result.before, result.after
    print(
        f"wrote {out / 'sites.json'}: {model} {result.status.value}, "
        f"{len(result.chosen)} site(s) ({len(result.new_sites)} new) of {len(result.candidates)} "
        f"candidates; mean minutes {before.mean_minutes and round(before.mean_minutes, 1)} → "
        f"{after.mean_minutes and round(after.mean_minutes, 1) if after else None}"
        + (f"; {len(result.solve.problems)} problem(s)" if result.solve.problems else ""),
        file=sys.stderr,
    )
    return 0
