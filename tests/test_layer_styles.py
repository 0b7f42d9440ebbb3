"""QGIS look (issue 13 item 4): ``layer_styles`` rows and GeoPackage 1.2 in every saved workspace."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gis.map_style import LAYER_STYLES, LEVEL_COLORS, ROAD_CLASSES, style_qml, style_sld
from gis.workspace import read_workspace, write_workspace


@pytest.fixture(scope="module")
def saved(demo_ws, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("styles") / "ws.gpkg"
    write_workspace(
        out,
        demo_ws.scenario,
        road_nodes=demo_ws.road_nodes,
        road_edges=demo_ws.road_edges,
        documents=demo_ws.documents,
    )
    return out


def _rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault"
            " FROM layer_styles"
        ).fetchall()


def test_every_main_layer_gets_a_default_style_with_valid_xml(saved: Path) -> None:
    rows = _rows(saved)
    names = {r[0] for r in rows}
    assert {
        "boundary", "road_edges", "stockpiles", "shelters", "teams", "incidents", "hazards",
        "demand_points",
    } <= names  # fmt: skip
    with sqlite3.connect(saved) as con:
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    for table, geom, name, qml, sld, default in rows:
        assert geom == geom_cols[table] and name and default == 1
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
        assert ET.fromstring(sld).tag.endswith("StyledLayerDescriptor")


def test_the_styles_use_the_app_colours(saved: Path) -> None:
    rows = {r[0]: r for r in _rows(saved)}
    roads = ET.fromstring(rows["road_edges"][3].split("\n", 1)[1])
    cats = {c.get("value"): c for c in roads.iter("category")}
    assert {"trunk", "primary", "unclassified", ""} <= set(cats)  # "" = all other values
    trunk = roads.find(f"renderer-v2/symbols/symbol[@name='{cats['trunk'].get('symbol')}']")
    color = trunk.find("layer/Option/Option[@name='line_color']").get("value")
    hexc = ROAD_CLASSES["trunk"][1]
    assert color == f"{int(hexc[1:3], 16)},{int(hexc[3:5], 16)},{int(hexc[5:7], 16)},255"
    inc = ET.fromstring(rows["incidents"][4])
    assert LEVEL_COLORS[1] in {e.text for e in inc.iter() if e.get("name") == "fill"}


def test_names_in_styles_are_escaped_xml() -> None:
    from dataclasses import replace

    st = replace(LAYER_STYLES[0], name='<&"县界">')
    assert ET.fromstring(style_sld(st)).find(".//{http://www.opengis.net/se}Name") is not None
    ET.fromstring(style_qml(st).split("\n", 1)[1])


def test_the_file_is_geopackage_1_2_and_reads_back_unchanged(saved: Path, demo_ws) -> None:
    with sqlite3.connect(saved) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    back = read_workspace(saved, include_roads=True)
    assert back.scenario == demo_ws.scenario and not back.warnings
    assert back.documents == demo_ws.documents
    assert len(back.road_edges) == len(demo_ws.road_edges)


def test_a_workspace_without_roads_styles_only_its_layers(demo_ws, tmp_path: Path) -> None:
    out = tmp_path / "noroads.gpkg"
    write_workspace(out, demo_ws.scenario, documents=demo_ws.documents)
    names = {r[0] for r in _rows(out)}
    assert "road_edges" not in names and "incidents" in names


def test_the_bundled_demo_carries_the_styles_as_geopackage_1_2(demo_workspace_path: Path) -> None:
    with sqlite3.connect(demo_workspace_path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    assert {"boundary", "road_edges", "incidents"} <= {r[0] for r in _rows(demo_workspace_path)}
