"""Entry checks of an incident's place (issue 8 item 7) on the demo county, and the reason a plan
gives for needs at such a place (事发点距道路 … / 事发点在县界外 instead of 道路中断)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely

from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.results import Reason
from gis.model import Location, RoadClosure
from gis.placement import check_incident_location, far_from_road_text
from gis.roads.classes import MAX_OFFROAD_M


def road_km(network, lon: float, lat: float) -> str:
    d = float(network.snap(np.array([lon]), np.array([lat])).distance_m[0])
    return f"{d / 1000:.1f} km"


@pytest.fixture(scope="module")
def east_of_county(demo_scenario) -> tuple[float, float]:
    """0.2° (≈ 20 km) east of the county's easternmost point."""
    minx, miny, maxx, maxy = demo_scenario.boundary.bounds
    return maxx + 0.2, (miny + maxy) / 2


@pytest.fixture(scope="module")
def edge_by_a_road(demo_scenario, demo_network) -> tuple[float, float]:
    """A point 100 m outside the county outline, where a road leaves the county."""
    b = demo_scenario.boundary
    ring = b.exterior if b.geom_type == "Polygon" else max(b.geoms, key=lambda g: g.area).exterior
    for f in np.linspace(0, 1, 400):
        p = ring.interpolate(f, normalized=True)
        d = float(demo_network.snap(np.array([p.x]), np.array([p.y])).distance_m[0])
        if d < 300:
            c = b.centroid
            v = np.array([p.x - c.x, p.y - c.y])
            q = np.array([p.x, p.y]) + v / np.linalg.norm(v) * 0.001  # ≈ 100 m outwards
            if not b.covers(shapely.Point(*q)):
                return float(q[0]), float(q[1])
    pytest.fail("no road reaches the demo county's outline")


@pytest.fixture(scope="module")
def inland_far(demo_scenario, demo_network) -> tuple[float, float, float]:
    """The point of a 40 × 40 grid inside the county farthest from a road node (lon, lat, m)."""
    minx, miny, maxx, maxy = demo_scenario.boundary.bounds
    lon, lat = np.meshgrid(np.linspace(minx, maxx, 40), np.linspace(miny, maxy, 40))
    inside = shapely.covers(demo_scenario.boundary, shapely.points(lon.ravel(), lat.ravel()))
    lon, lat = lon.ravel()[inside], lat.ravel()[inside]
    d = demo_network.snap(lon, lat).distance_m
    i = int(np.argmax(d))
    return float(lon[i]), float(lat[i]), float(d[i])


def test_the_snap_limit_has_one_definition() -> None:
    import dispatch.options
    import dispatch.travel
    import gis.loading

    assert dispatch.travel.MAX_OFFROAD_M is MAX_OFFROAD_M is gis.loading.MAX_OFFROAD_M
    assert dispatch.options.DispatchOptions().max_offroad_m == MAX_OFFROAD_M == 5000


def test_demo_incidents_raise_no_warning(demo_scenario, demo_network) -> None:
    for inc in demo_scenario.incidents:
        loc = inc.location
        assert check_incident_location(demo_scenario, demo_network, loc.lon, loc.lat) == ()


def test_far_outside_the_county_gets_both_warnings(
    demo_scenario, demo_network, east_of_county
) -> None:
    lon, lat = east_of_county
    county, road = check_incident_location(demo_scenario, demo_network, lon, lat)
    assert county.startswith("事发点在县界外")
    assert road.startswith(f"事发点距道路 {road_km(demo_network, lon, lat)}（超出吸附距离）")
    assert "吸附距离上限 5 km" in road


def test_just_outside_by_a_road_is_only_the_county_warning(
    demo_scenario, demo_network, edge_by_a_road
) -> None:
    (only,) = check_incident_location(demo_scenario, demo_network, *edge_by_a_road)
    assert only.startswith("事发点在县界外")
    # without an outline (a workspace with roads only) nothing is said
    assert (
        check_incident_location(demo_scenario.replace(boundary=None), demo_network, *edge_by_a_road)
        == ()
    )


def test_inside_but_beyond_the_snap_limit(demo_scenario, demo_network, inland_far) -> None:
    lon, lat, d = inland_far
    assert 300 < d < MAX_OFFROAD_M  # the demo's roads reach every corner within 5 km…
    assert check_incident_location(demo_scenario, demo_network, lon, lat) == ()
    limit = d - 100  # …so a tighter limit stands in for a remote place
    (only,) = check_incident_location(demo_scenario, demo_network, lon, lat, max_offroad_m=limit)
    assert only.startswith(far_from_road_text(d)) and "县界外" not in only


def test_bad_coordinates_and_no_network(demo_scenario, east_of_county) -> None:
    (bad,) = check_incident_location(demo_scenario, None, float("nan"), 28.8)
    assert bad.startswith("坐标无效")
    (county,) = check_incident_location(demo_scenario, None, *east_of_county)
    assert county.startswith("事发点在县界外")


def test_a_place_cut_off_by_a_closure(demo_scenario, demo_network) -> None:
    from gis.matrix import TravelTimeEngine

    inc = demo_scenario.find("INC-002")
    lon, lat = inc.location.lon, inc.location.lat
    ring = RoadClosure("RC-TEST", shapely.Point(lon, lat).buffer(0.01), reason="塌方")
    closed = demo_scenario.replace(closures=(*demo_scenario.closures, ring))
    engine = TravelTimeEngine(demo_network, closed.closures)
    (cut,) = check_incident_location(closed, demo_network, lon, lat, engine=engine)
    assert "切断" in cut
    open_engine = TravelTimeEngine(demo_network, demo_scenario.closures)
    assert check_incident_location(demo_scenario, demo_network, lon, lat, engine=open_engine) == ()


def test_plan_reasons_name_the_place_not_a_road_cut(
    demo_scenario, demo_network, east_of_county, inland_far
) -> None:
    lon, lat, d = inland_far
    scenario = demo_scenario.upsert(
        replace(demo_scenario.find("INC-002"), location=Location(*east_of_county))
    ).upsert(replace(demo_scenario.find("INC-003"), location=Location(lon, lat)))
    plan = plan_dispatch(scenario, demo_network, DispatchOptions(seconds=1, max_offroad_m=d - 100))
    by_site: dict[str, list] = {}
    for u in plan.unserved:
        by_site.setdefault(u.site_id, []).append(u)
    east_km = road_km(demo_network, *east_of_county)
    for site, cause in (
        ("INC-002", f"事发点在县界外，事发点距道路 {east_km}（超出吸附距离）"),
        ("INC-003", far_from_road_text(d)),
    ):
        inc = scenario.find(site)
        lines = by_site[site]
        # everything it asked for is unserved there, each for that reason
        asked = set(inc.needs) | set(inc.required_skills) | {"people"}
        assert {u.what for u in lines} == asked
        for u in lines:
            assert u.reason == Reason.UNREACHABLE
            assert u.message_zh.endswith(f"：不可达，{cause}"), u.message_zh
            assert "道路中断" not in u.message_zh
    assert "县界外" not in " ".join(u.message_zh for u in by_site["INC-003"])
    # the other incident keeps its own reasons
    assert all("超出吸附距离" not in u.message_zh for u in by_site.get("INC-001", []))
