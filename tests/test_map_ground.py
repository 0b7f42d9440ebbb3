"""The map's ground layers (issue 13 item 1): rivers, bridges, villages from the demo workspace."""

from __future__ import annotations

import json
import re

import pytest

from gui import map_ground, map_page


def test_rivers_are_drawn_from_the_workspace_document(demo_ws) -> None:
    fc = map_ground.water_features(demo_ws.documents["map_layers"])
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    stored = json.loads(demo_ws.documents["map_layers"]["rivers"])["features"]
    assert len(kinds) == len(stored) and "water" in kinds and "centreline" in kinds
    assert kinds.index("centreline") > max(i for i, k in enumerate(kinds) if k == "water")
    tips = {f["properties"]["tip"] for f in fc["features"]}
    assert "长江" in "".join(tips)


@pytest.mark.parametrize(
    "doc", [None, {}, {"rivers": ""}, {"rivers": "{not json"}, {"rivers": "[1]"}]
)
def test_a_missing_or_bad_rivers_document_gives_an_empty_layer(doc) -> None:
    assert map_ground.water_features(doc) == {"type": "FeatureCollection", "features": []}


def test_a_bad_river_feature_is_skipped_and_names_are_escaped() -> None:
    doc = {
        "features": [
            {"type": "Feature", "geometry": {"type": "Point"}, "properties": {}},
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[105.8, 28.8], [105.9, 28.9]]},
                "properties": {"name": "<img src=x onerror=alert(1)>河"},
            },
        ]
    }
    fc = map_ground.water_features({"rivers": json.dumps(doc)})
    assert len(fc["features"]) == 1
    assert fc["features"][0]["properties"]["tip"] == "&lt;img src=x onerror=alert(1)&gt;河"


def test_the_bridges_come_from_the_road_network_bridge_flag(demo_ws) -> None:
    fc = map_ground.bridge_features(demo_ws.road_edges)
    labels = sorted(f["properties"]["label"] for f in fc["features"])
    flagged = demo_ws.road_edges[demo_ws.road_edges["bridge"].astype(bool)]
    assert len(labels) == flagged["name"].nunique() >= 1
    assert any(label.startswith("合江长江大桥") for label in labels)
    assert map_ground.bridge_features(None)["features"] == []
    assert map_ground.bridge_features(demo_ws.road_edges.drop(columns="bridge"))["features"] == []


def test_villages_are_the_demand_points_with_their_township(demo_ws) -> None:
    pts = map_ground.village_points(demo_ws.scenario)
    assert len(pts) == len(demo_ws.scenario.demand_points) > 100
    d = demo_ws.scenario.demand_points[0]
    town = {t.code: t.name for t in demo_ws.scenario.townships}[d.township_code]
    assert pts[0]["tip"] == map_page.escape(d.name) and town in pts[0]["popup"]


def test_the_page_carries_the_ground_layers_and_a_metric_scale(demo_ws) -> None:
    page = map_page.build_map_html(
        demo_ws.scenario,
        demo_ws.road_edges,
        bridge=False,
        map_layers=demo_ws.documents["map_layers"],
    )
    data = json.loads(re.search(r"var RD_DATA = (.*?);</script>", page, re.S).group(1))
    assert {"water", "bridges", "villages"} <= set(data["order"]) <= set(data["layers"]) | {"roads"}
    assert data["order"].index("water") < data["order"].index("roads")  # drawn beneath
    assert data["order"].index("bridges") > data["order"].index("roads")  # drawn above
    assert data["layers"]["water"]["features"] and data["layers"]["bridges"]["features"]
    assert "L.control.scale" not in page  # folium's (imperial too) is off; the page adds its own
    js = (map_page.RESOURCES_DIR / "js" / "reliefdesk_map.js").read_text(encoding="utf-8")
    assert "L.control.scale({ metric: true, imperial: false" in js
    for layer in ("water", "bridges", "villages"):
        assert f'"{layer}"' in js.split("RD.order = [", 1)[1].split("];", 1)[0]
