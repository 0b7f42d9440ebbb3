"""Checks of a place typed or clicked in for a new incident, before it is accepted (Qt-free).

:func:`check_incident_location` returns warnings — the operator may still confirm, nothing is
refused — for a point that dispatch could not serve as the operator expects:

- outside the county outline (:attr:`gis.model.Scenario.boundary`);
- farther than the snap limit (:data:`gis.roads.classes.MAX_OFFROAD_M`) from the nearest road
  node: the dispatch pipeline treats such a place as unreachable;
- (cheaply) at a road node that a scenario closure cuts off from every stockpile and team base
  — only when the caller hands over a travel-time engine that already has the closures.

:func:`township_at` names the township a clicked point belongs to (所属乡镇 of a new entity).

The phrases naming the cause (:func:`far_from_road_text`, :data:`OUTSIDE_COUNTY_TEXT`) are the
ones the dispatch pipeline puts in the reasons of needs it could not serve there, so the form
and the plan say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from gis.model import Scenario
from gis.phrases import say
from gis.roads.classes import MAX_OFFROAD_M

#: Why an incident outside the county outline may not be served (plan reasons, warnings).
OUTSIDE_COUNTY_TEXT = "事发点在县界外"


def far_from_road_text(distance_m: float, language: str = "zh_CN") -> str:
    """``事发点距道路 7.2 km（超出吸附距离）``: the cause named in a plan's unserved reasons."""
    return say("事发点距道路 {km} km（超出吸附距离）", language, km=f"{distance_m / 1000:.1f}")


def outside_county(scenario: Scenario, lon: float, lat: float) -> bool:
    """True when the scenario has a county outline and the point is not inside or on it."""
    boundary = scenario.boundary
    return boundary is not None and not boundary.covers(shapely.Point(lon, lat))


def check_incident_location(
    scenario: Scenario,
    network: Any,
    lon: float,
    lat: float,
    *,
    max_offroad_m: float = MAX_OFFROAD_M,
    engine: Any = None,
    language: str = "zh_CN",
) -> tuple[str, ...]:
    """Warnings (sentences in ``language``, Chinese by default) for an incident placed at
    ``lon, lat``; () when none.

    ``network`` is the scenario's :class:`gis.roads.RoadNetwork` (None: the road check is
    skipped); ``engine`` an optional :class:`gis.matrix.TravelTimeEngine` over it with the
    scenario's closures, for the closure check.
    """
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        return (say("坐标无效：经度 {lon}，纬度 {lat}", language, lon=repr(lon), lat=repr(lat)),)
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        return (say("坐标无效：经度 {lon}，纬度 {lat}", language, lon=repr(lon), lat=repr(lat)),)
    out: list[str] = []
    if outside_county(scenario, lon, lat):
        out.append(
            say(
                "{what}（{county}），调度时可能无法送达，请核对坐标",
                language,
                what=say(OUTSIDE_COUNTY_TEXT, language),
                county=scenario.name,
            )
        )
    if network is None or getattr(network, "n_nodes", 0) == 0:
        return tuple(out)
    snap = network.snap(np.array([lon]), np.array([lat]))
    distance = float(snap.distance_m[0])
    if distance > max_offroad_m:
        out.append(
            say(
                "{cause}：吸附距离上限 {km} km，调度时按不可达处理，请核对坐标及坐标系",
                language,
                cause=far_from_road_text(distance, language),
                km=f"{max_offroad_m / 1000:g}",
            )
        )
    elif engine is not None and _cut_off(scenario, network, engine, int(snap.node[0])):
        out.append(say("事发点附近道路被管制/中断切断：所有储备库和队伍驻地均无法到达", language))
    return tuple(out)


def _cut_off(scenario: Scenario, network: Any, engine: Any, node: int) -> bool:
    """True when no stockpile or team base can reach ``node`` on ``engine`` (with closures)."""
    bases = [*scenario.stockpiles, *scenario.teams]
    if not bases or not scenario.closures:
        return False
    snap = network.snap(
        np.array([b.location.lon for b in bases]), np.array([b.location.lat for b in bases])
    )
    m = engine.matrix(np.asarray(snap.node, dtype=np.int64), np.array([node], dtype=np.int64))
    return not bool(np.asarray(m.reachable, dtype=bool).any())


def township_at(scenario: Scenario, lon: float, lat: float) -> str:
    """The code of the township ``lon, lat`` belongs to (its nearest seat); "" without townships.

    The workspace holds townships as seat points only (no areas), so the point goes to the
    township whose seat is nearest (local metres: longitude scaled by the cosine of the
    latitude). The demo villages' stored townships agree with it for all 239; the nearest village
    instead (each left out in turn) put 48 of them in a neighbouring township.
    """
    if not scenario.townships:
        return ""
    xy = np.array([(t.location.lon, t.location.lat) for t in scenario.townships], dtype=float)
    k = math.cos(math.radians(lat))
    d2 = ((xy[:, 0] - lon) * k) ** 2 + (xy[:, 1] - lat) ** 2
    return scenario.townships[int(np.argmin(d2))].code


__all__ = [
    "OUTSIDE_COUNTY_TEXT",
    "check_incident_location",
    "far_from_road_text",
    "outside_county",
    "township_at",
]
