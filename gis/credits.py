"""Data credits of a workspace (Qt-free): what the map shows, credited by where it came from.

The road network is credited by its source (:class:`gis.model.RoadNetworkRef`): OpenStreetMap
only for roads imported or downloaded from OpenStreetMap, never for the demo's generated roads.
Other credits come from the workspace's ``attribution`` metadata (``；``-separated), minus any
OpenStreetMap credit there, which the road source decides.
"""

from __future__ import annotations

from gis.model import Scenario

OSM_CREDIT = "© OpenStreetMap contributors (ODbL)"
GENERATED_ROADS_CREDIT = "道路：程序生成（演示，非实测）"


def attribution_parts(scenario: Scenario | None) -> list[str]:
    """The credits of ``scenario`` in display order (empty without a workspace)."""
    if scenario is None:
        return []
    kind = scenario.road_network.kind
    parts = []
    if kind == "osm":
        parts.append(OSM_CREDIT)
    elif kind == "generated":
        parts.append(GENERATED_ROADS_CREDIT)
    raw = str(scenario.metadata.get("attribution", "") or "")
    for p in (x.strip() for x in raw.replace(";", "；").split("；")):
        if p and "openstreetmap" not in p.lower() and p not in parts:
            parts.append(p)
    return parts


def attribution_text(scenario: Scenario | None) -> str:
    """The credits as one status-bar line."""
    return "；".join(attribution_parts(scenario))
