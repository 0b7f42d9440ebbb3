"""The desk's site-planning job (Qt-free): :func:`dispatch.planning.sites.plan_sites` on a
:class:`gui.workers.JobRunner` thread, and the map payload of its result.

:func:`sites_features` is the GeoJSON that ``RD.setCoverage`` draws (the overlay the 覆盖分析
dialog uses): proposed new sites as large purple diamonds, existing sites the plan keeps as
green discs, existing sites it leaves out as small grey ones (``role`` ``site_new`` /
``site_kept`` / ``site_dropped``, ``radius``, ``stroke``, ``shape``), drawn above the entity
markers. Every ``tip`` is escaped here: names
come from data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatch.planning.sites import Candidate, SitesRequest, SitesResult, plan_sites
from gis.model import Scenario
from gui.map_page import escape

__all__ = ["SitesJobRequest", "SitesJobResult", "run_sites_job", "sites_features"]

#: role → (fill colour, radius px, stroke colour, shape, label)
SITE_STYLE: dict[str, tuple[str, int, str, str, str]] = {
    "site_new": ("#6a3d9a", 13, "#ffffff", "diamond", "建议新建"),
    "site_kept": ("#1a9850", 9, "#ffffff", "disc", "保留"),
    "site_dropped": ("#bdbdbd", 7, "#636363", "disc", "未选中的现有设施"),
}


@dataclass(frozen=True)
class SitesJobRequest:
    scenario: Scenario
    network: Any
    request: SitesRequest


@dataclass(frozen=True)
class SitesJobResult:
    result: SitesResult
    features: dict[str, Any]


def _feature(c: Candidate, role: str) -> dict[str, Any]:
    fill, radius, stroke, shape, label = SITE_STYLE[role]
    return {
        "type": "Feature",
        "properties": {
            "role": role,
            "id": c.id,
            "color": fill,
            "radius": radius,
            "stroke": stroke,
            "shape": shape,
            "tip": f"{escape(c.name)} · {label}",
        },
        "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
    }


def sites_features(result: SitesResult) -> dict[str, Any]:
    """The payload of ``RD.setCoverage`` for a site plan (module doc); dropped ones first so
    the chosen are drawn on top."""
    chosen = {c.id for c in result.chosen}
    feats = [
        _feature(c, "site_dropped") for c in result.candidates if c.existing and c.id not in chosen
    ]
    feats += [_feature(c, "site_kept" if c.existing else "site_new") for c in result.chosen]
    return {"type": "FeatureCollection", "features": feats}


def run_sites_job(job: SitesJobRequest, *, stop: Any, progress: Any) -> SitesJobResult:
    """Plan (raises :class:`~dispatch.planning.sites.SitesError` on bad input), then the map
    payload."""
    result = plan_sites(job.scenario, job.network, job.request, stop=stop, progress=progress)
    return SitesJobResult(result, sites_features(result))
