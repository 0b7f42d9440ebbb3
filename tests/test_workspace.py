"""Tests of gis/workspace/ (read_workspace / write_workspace): the GeoPackage workspace file.

Round trips (a rich hand-built scenario and hypothesis-generated ones), the file opening as a
real GeoPackage, malformed files giving located WorkspaceErrors, reprojection of layers in other
CRSs, road frames stored verbatim, and atomic save under ``kill -9``.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from gis.errors import ValidationError, WorkspaceError
from gis.fields import CONTROL_CHARACTERS
from gis.model import (
    Hazard,
    Incident,
    Material,
    RoadClosure,
    RoadNetworkRef,
    Scenario,
    Shelter,
    Stockpile,
    Team,
    Township,
    Vehicle,
)
from gis.workspace import (
    SCHEMA_VERSION,
    Workspace,
    read_road_frames,
    read_workspace,
    validate_scenario,
    write_workspace,
)
from gis.workspace.atomic import SQLITE_FAST, TEMP_SUFFIX

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script>"
QUOTES = 'O\'Brien "引号" `tick` \\ ; DROP TABLE stockpiles; --'

# 合江县 bbox: lon 105.53–106.38, lat 28.46–29.02 (shared/data/README.md)
BOUNDARY = Polygon([(105.53, 28.46), (106.38, 28.46), (106.38, 29.02), (105.53, 29.02)])
CST = timezone(timedelta(hours=8))


def rich_scenario() -> Scenario:
    """Every entity kind, Chinese and hostile names, mixed geometries, empty mappings."""
    materials = (
        Material("TENT", "帐篷", "Tent", "顶", 25.0, 0.12, "生活类"),
        Material("QUILT", "棉被", "Quilt", "床", 2.5, 0.02, "生活类"),
        Material("WATER", "饮用水", "Drinking water", "箱", 12.0, 0.015, "生活类"),
        Material("FUEL", "柴油", "", "升", 0.84, 0.001, "抢险类", divisible=True),
        Material("X1", HOSTILE, QUOTES, "件", 1.0, 0.001, "其他"),
    )
    county = Stockpile(
        id="SP-county",
        name="合江县应急物资储备中心库",
        level="县级",
        location=(105.83359, 28.81161),
        inventory={"TENT": 500, "QUILT": 2000, "WATER": 800.5, "FUEL": 1234.25},
        safety_stock={"TENT": 50, "X1": 3},  # safety stock of a material with no inventory row
        vehicles=(
            Vehicle("V1", "厢式货车", 5000, 30, "SP-county", name="川E·12345"),
            Vehicle("V2", "皮卡", 1000, 4.5, "SP-county", speed_factor=0.8),
        ),
        township_code="510522100",
        contact="0830-1234567",
    )
    township = Stockpile(
        id="SP-fubao",
        name=f"福宝镇储备点 {HOSTILE}",
        level="乡镇",
        location=(106.07667, 28.76905),
        inventory={"TENT": 20, "WATER": 0},
    )
    empty_depot = Stockpile(id="SP-empty", name=QUOTES, level="企业", location=(105.9, 28.7))
    shelters = (
        Shelter(
            "SH1",
            "合江中学避难场所",
            "室内",
            "长期",
            (105.84, 28.81),
            1200,
            1150,
            stock={"WATER": 40},
            township_code="510522100",
        ),
        Shelter("SH2", HOSTILE, "室外", "紧急", (106.19270, 28.81859), 300),
    )
    teams = (
        Team(
            "T1",
            "合江县消防救援大队",
            "综合性消防救援",
            (105.835, 28.812),
            45,
            skills=("水域救援", "城市搜救", "危化品处置"),
            vehicles=(Vehicle("V3", "消防车", 8000, 10, "T1"),),
            leader="张三",
            phone="119",
        ),
        Team("T2", "福宝镇基层应急队", "基层应急队", (106.07, 28.77), 12, status="休整"),
        Team("T3", QUOTES, "医疗", (105.9, 28.8), 8, skills=("医疗救护",), status="出动"),
    )
    incidents = (
        Incident(
            "I1",
            "福宝镇山洪",
            "自然灾害",
            "山洪",
            2,
            (106.077, 28.768),
            datetime(2024, 7, 1, 8, 30, 15, 123456, tzinfo=CST),
            affected_people=350,
            needs={"TENT": 70, "QUILT": 350, "WATER": 100.5},
            required_skills={"水域救援": 20, "医疗救护": 4},
            deadline_min=90,
            status="调度",
            description=f"{HOSTILE}\n第二行",
            township_code="510522112",
        ),
        Incident(
            "I2",
            "先滩镇滑坡",
            "自然灾害",
            "滑坡",
            "III",
            (106.19, 28.82),
            datetime(2024, 7, 1, 9, 0),  # naive time stays naive
        ),
        Incident(
            "I3",
            "危化品泄漏",
            "事故灾难",
            "危化品泄漏",
            3,
            (105.84, 28.80),
            datetime(2024, 7, 2, 1, 0, tzinfo=UTC),
            status="结束",
        ),
    )
    hazards = (
        Hazard("H1", "滑坡隐患点", "地质灾害隐患点", 2, Point(106.1, 28.8)),
        Hazard(
            "H2",
            "山洪危险区",
            "山洪危险区",
            1,
            MultiPolygon(
                [
                    Polygon([(106.0, 28.7), (106.05, 28.7), (106.05, 28.75), (106.0, 28.75)]),
                    Polygon(
                        [(106.1, 28.7), (106.15, 28.7), (106.15, 28.75), (106.1, 28.75)],
                        holes=[[(106.11, 28.71), (106.12, 28.71), (106.12, 28.72)]],
                    ),
                ]
            ),
            description=QUOTES,
        ),
        Hazard(
            "H3",
            "危化品企业",
            "危化品企业",
            "IV",
            Polygon([(105.84, 28.80), (105.85, 28.80), (105.85, 28.81)]),
        ),
    )
    closures = (
        RoadClosure("C1", Point(106.0, 28.8), reason="桥梁冲毁", radius_m=80),
        RoadClosure(
            "C2",
            LineString([(105.9, 28.7), (105.95, 28.72), (105.97, 28.75)]),
            reason=HOSTILE,
            speed_factor=0.5,
            since=datetime(2024, 7, 1, 6, 0, tzinfo=CST),
            until=datetime(2024, 7, 3, 6, 0, tzinfo=CST),
        ),
        RoadClosure(
            "C3",
            Polygon([(105.6, 28.5), (105.7, 28.5), (105.7, 28.6), (105.6, 28.6)]),
            since=datetime(2024, 7, 1, 6, 0),
        ),
        RoadClosure(
            "C4",
            MultiLineString([[(105.6, 28.9), (105.61, 28.91)], [(105.62, 28.9), (105.6, 28.8)]]),
        ),
    )
    townships = (
        Township("510522100", "合江镇", (105.83359, 28.81161), 120000, "GeoNames"),
        Township("510522112", "福宝镇", (106.07667, 28.76905), location_source="GeoNames"),
        Township("510522199", HOSTILE, (105.7, 28.6)),
    )
    return Scenario(
        name="合江县 演练 'test' \"q\"",
        materials=materials,
        stockpiles=(county, township, empty_depot),
        shelters=shelters,
        teams=teams,
        incidents=incidents,
        hazards=hazards,
        closures=closures,
        townships=townships,
        boundary=BOUNDARY,
        road_network=RoadNetworkRef(
            "generated", "tools/build_demo.py seed=1", "abc123", "道路为生成"
        ),
        metadata={"roads_note": "道路网为演示生成", "empty": "", HOSTILE: QUOTES, "a.b": "点"},
    )


def road_frames(n_nodes: int = 50, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A small random road network in the road-frame schema (ids not 0-based, NaN speeds)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(105.6, 106.3, n_nodes)
    y = rng.uniform(28.5, 29.0, n_nodes)
    ids = np.arange(n_nodes, dtype="int64") * 7 + 10_000_000_000  # beyond int32
    nodes = gpd.GeoDataFrame({"node_id": ids}, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    n_edges = n_nodes * 2
    u = rng.integers(0, n_nodes, n_edges)
    v = (u + 1 + rng.integers(0, n_nodes - 1, n_edges)) % n_nodes
    mid = np.stack([(x[u] + x[v]) / 2 + 0.001, (y[u] + y[v]) / 2], axis=1)
    coords = np.stack([np.stack([x[u], y[u]], 1), mid, np.stack([x[v], y[v]], 1)], 1)
    edges = gpd.GeoDataFrame(
        {
            "u": ids[u],
            "v": ids[v],
            "oneway": rng.random(n_edges) < 0.2,
            "highway": rng.choice(["primary", "tertiary", "track"], n_edges),
            "name": rng.choice(["", "G353 国道", HOSTILE, "县道'X123'"], n_edges),
            "ref": rng.choice(["", "S2"], n_edges),
            "maxspeed_kmh": np.where(rng.random(n_edges) < 0.5, np.nan, 40.0),
            "length_m": rng.uniform(10, 5000, n_edges),
            "bridge": rng.random(n_edges) < 0.05,
        },
        geometry=shapely.linestrings(coords),
        crs="EPSG:4326",
    )
    return nodes, edges


@pytest.fixture()
def rich_file(tmp_path: Path) -> tuple[Path, Scenario]:
    scen = rich_scenario()
    path = tmp_path / "合江 workspace.gpkg"
    write_workspace(path, scen)
    return path, scen


# --------------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------------


def test_rich_round_trip_is_equal(tmp_path: Path) -> None:
    scen = rich_scenario()
    nodes, edges = road_frames()
    docs = {
        "plans": {"P1": json.dumps({"名称": "方案一", "x": [1, 2.5, None]}, ensure_ascii=False)},
        "event_log": {"2024-07-01": json.dumps([{"t": "08:30", "msg": HOSTILE}])},
        "empty": {},
    }
    path = tmp_path / "ws.gpkg"
    write_workspace(path, scen, road_nodes=nodes, road_edges=edges, documents=docs)
    got = read_workspace(path)
    assert isinstance(got, Workspace)
    assert got.path == path
    assert got == got and hash(got)  # identity semantics: no field-wise == on GeoDataFrames
    assert got.scenario == scen
    # details == would hide if the model compared loosely
    s = got.scenario
    assert s.incidents[0].reported_at.utcoffset() == timedelta(hours=8)
    assert s.incidents[0].reported_at.microsecond == 123456
    assert s.incidents[1].reported_at.tzinfo is None
    assert s.stockpiles[0].safety_stock == {"TENT": 50, "X1": 3}
    assert "X1" not in s.stockpiles[0].inventory
    assert s.stockpiles[1].inventory == {"TENT": 20, "WATER": 0}
    assert s.stockpiles[2].inventory == {} and s.stockpiles[2].vehicles == ()
    assert [v.id for v in s.stockpiles[0].vehicles] == ["V1", "V2"]
    assert s.teams[0].skills == ("水域救援", "城市搜救", "危化品处置")
    assert [h.geometry.geom_type for h in s.hazards] == ["Point", "MultiPolygon", "Polygon"]
    assert [c.geometry.geom_type for c in s.closures] == [
        "Point",
        "LineString",
        "Polygon",
        "MultiLineString",
    ]
    assert s.boundary is not None and s.boundary.geom_type == "Polygon"
    assert s.metadata == scen.metadata
    # documents verbatim, empty kinds dropped (nothing to store)
    assert got.documents == {k: v for k, v in docs.items() if v}
    # roads verbatim with the schema's dtypes
    assert got.road_nodes is not None and got.road_edges is not None
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.road_nodes.drop(columns="geometry")),
        pd.DataFrame(nodes.drop(columns="geometry")),
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.road_edges.drop(columns="geometry")),
        pd.DataFrame(edges.drop(columns="geometry")),
    )
    assert got.road_edges.geometry.geom_equals_exact(edges.geometry, tolerance=0).all()
    assert got.road_nodes.crs.to_epsg() == 4326
    # planner warnings travel with the workspace
    assert set(validate_scenario(scen)) <= set(got.warnings)


def test_empty_scenario_round_trip(tmp_path: Path) -> None:
    scen = Scenario(name="空")
    path = tmp_path / "empty.gpkg"
    write_workspace(path, scen)
    got = read_workspace(path)
    assert got.scenario == scen
    assert got.road_nodes is None and got.road_edges is None
    assert got.documents == {}
    assert got.warnings == ()
    assert read_road_frames(path) is None


def test_overwrite_replaces_content(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    smaller = scen.remove("SP-fubao").replace(name="第二版", metadata={})
    write_workspace(path, smaller)
    assert read_workspace(path).scenario == smaller
    assert [p.name for p in path.parent.iterdir()] == [path.name]


# any Unicode text except lone surrogates (not encodable as UTF-8) and control characters
# (refused by the model: CONTROL_CHARACTERS, NUL included)
_chars = st.characters(blacklist_categories=("Cs",)).filter(
    lambda c: CONTROL_CHARACTERS.match(c) is None
)
_any_text = st.text(alphabet=_chars, max_size=8)
_text = st.text(alphabet=_chars, min_size=1, max_size=12).filter(lambda t: t.strip() != "")
_lon = st.floats(105.5, 106.4, allow_nan=False)
_lat = st.floats(28.4, 29.1, allow_nan=False)
_times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.one_of(st.none(), st.just(UTC), st.just(CST)),
)
_qty = st.one_of(st.integers(0, 10**9), st.floats(0, 1e9, allow_nan=False, allow_infinity=False))


@st.composite
def small_scenarios(draw: st.DrawFn) -> Scenario:
    codes = draw(st.lists(_text, max_size=4, unique=True))
    materials = tuple(
        Material(c, draw(_text), draw(_any_text), draw(_text), 1.5, 0.25, "类") for c in codes
    )
    qmap = st.dictionaries(st.sampled_from(codes), _qty, max_size=3) if codes else st.just({})
    ids = draw(st.lists(_text, min_size=0, max_size=6, unique=True))
    stockpiles, shelters, teams, incidents = [], [], [], []
    vehicle_n = 0
    for i, ident in enumerate(ids):
        kind = i % 4
        loc = (draw(_lon), draw(_lat))
        if kind == 0:
            vehicles = []
            for _ in range(draw(st.integers(0, 2))):
                vehicle_n += 1
                vehicles.append(Vehicle(f"v{vehicle_n}", draw(_text), 100.0, 1.0, ident))
            stockpiles.append(
                Stockpile(
                    ident,
                    draw(_text),
                    draw(st.sampled_from(["县级", "乡镇", "村", "企业", "社会"])),
                    loc,
                    inventory=draw(qmap),
                    safety_stock=draw(qmap),
                    vehicles=tuple(vehicles),
                    contact=draw(_any_text),
                )
            )
        elif kind == 1:
            cap = draw(st.integers(0, 5000))
            shelters.append(
                Shelter(
                    ident,
                    draw(_text),
                    draw(st.sampled_from(["室内", "室外"])),
                    draw(st.sampled_from(["紧急", "短期", "长期"])),
                    loc,
                    cap,
                    draw(st.integers(0, cap)),
                    stock=draw(qmap),
                )
            )
        elif kind == 2:
            teams.append(
                Team(
                    ident,
                    draw(_text),
                    draw(st.sampled_from(["医疗", "民兵", "专业救援"])),
                    loc,
                    draw(st.integers(0, 300)),
                    skills=tuple(draw(st.lists(_text, max_size=3, unique=True))),
                    vehicles=tuple(
                        Vehicle(
                            f"tv{ident}{k}",
                            draw(_text),
                            draw(st.floats(0, 1e5, allow_nan=False)),
                            draw(st.floats(0, 100, allow_nan=False)),
                            ident,
                            name=draw(_any_text),
                            speed_factor=draw(st.floats(0.1, 2, allow_nan=False)),
                        )
                        for k in range(draw(st.integers(0, 2)))
                    ),
                    status=draw(st.sampled_from(["待命", "出动", "休整"])),
                    leader=draw(_any_text),
                )
            )
        else:
            incidents.append(
                Incident(
                    ident,
                    draw(_text),
                    draw(st.sampled_from(["自然灾害", "事故灾难"])),
                    draw(_text),
                    draw(st.integers(1, 4)),
                    loc,
                    draw(_times),
                    affected_people=draw(st.integers(0, 10**6)),
                    needs=draw(qmap),
                    required_skills=draw(st.dictionaries(_text, st.integers(0, 50), max_size=2)),
                    deadline_min=draw(st.floats(0.5, 1e4, allow_nan=False)),
                )
            )
    n_hazards = draw(st.integers(0, 2))
    hazards = []
    for k in range(n_hazards):
        x, y = draw(_lon), draw(_lat)
        geom = draw(st.sampled_from([Point(x, y), shapely.box(x, y, x + 0.01, y + 0.02)]))
        hazards.append(Hazard(f"h{k}", draw(_text), draw(_text), draw(st.integers(1, 4)), geom))
    closures = []
    for k in range(draw(st.integers(0, 3))):
        x, y = draw(_lon), draw(_lat)
        geom = draw(
            st.sampled_from(
                [
                    Point(x, y),
                    LineString([(x, y), (x + 0.01, y + 0.003), (x + 0.02, y)]),
                    shapely.box(x, y, x + 0.01, y + 0.01),
                ]
            )
        )
        since = draw(st.one_of(st.none(), _times))
        until = None
        if since is not None and draw(st.booleans()):
            until = since + timedelta(hours=draw(st.integers(0, 1000)))
        closures.append(
            RoadClosure(
                f"c{k}",
                geom,
                reason=draw(_any_text),
                radius_m=draw(st.floats(0, 1e4, allow_nan=False)),
                speed_factor=draw(st.sampled_from([0.0, 0.25, 0.5])),
                since=since,
                until=until,
            )
        )
    town_codes = draw(
        st.lists(st.from_regex(r"5105221[0-9]{2}", fullmatch=True), unique=True, max_size=3)
    )
    townships = tuple(
        Township(c, draw(_text), (draw(_lon), draw(_lat)), draw(st.integers(0, 10**6)))
        for c in town_codes
    )
    metadata = draw(st.dictionaries(_text, _any_text, max_size=3))
    return Scenario(
        name=draw(_text),
        materials=materials,
        stockpiles=tuple(stockpiles),
        shelters=tuple(shelters),
        teams=tuple(teams),
        incidents=tuple(incidents),
        hazards=tuple(hazards),
        closures=tuple(closures),
        townships=townships,
        boundary=draw(st.sampled_from([None, BOUNDARY])),
        road_network=draw(
            st.sampled_from([RoadNetworkRef(), RoadNetworkRef("osm", "a.pbf", "h", "注")])
        ),
        metadata=metadata,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scen=small_scenarios())
def test_generated_scenarios_round_trip(tmp_path: Path, scen: Scenario) -> None:
    path = tmp_path / "gen.gpkg"
    write_workspace(path, scen)
    assert read_workspace(path).scenario == scen


# --------------------------------------------------------------------------------------------
# The file is a real GeoPackage
# --------------------------------------------------------------------------------------------


def test_file_is_a_standard_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "ws.gpkg"
    nodes, edges = road_frames()
    write_workspace(path, rich_scenario(), road_nodes=nodes, road_edges=edges)
    layers = dict(pyogrio.list_layers(path))
    assert layers["stockpiles"] == "Point"
    assert layers["hazards"] == "Unknown"  # GEOMETRY: points and polygons in one layer
    assert layers["road_edges"] == "LineString"
    for table in ("materials", "inventory", "vehicles", "documents", "reliefdesk_meta"):
        assert layers[table] is None  # attribute table
    for layer, gtype in layers.items():
        if gtype is not None:
            info = pyogrio.read_info(path, layer=layer)
            assert info["crs"] == "EPSG:4326", layer
    info = pyogrio.read_info(path, layer="shelters")
    assert info["features"] == 2
    assert dict(zip(info["fields"], info["ogr_types"]))["capacity"] == "OFTInteger64"
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        # the fast-write settings do not stick to the file: a normal rollback journal
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        rtree = {r[0] for r in con.execute("SELECT table_name FROM gpkg_extensions")}
        assert {"stockpiles", "hazards", "road_edges"} <= rtree  # spatial indexes for QGIS
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert contents["stockpiles"] == "features"
        assert contents["inventory"] == "attributes"
        srs = {r[0] for r in con.execute("SELECT srs_id FROM gpkg_geometry_columns")}
        assert srs == {4326}
        meta = dict(con.execute("SELECT key, value FROM reliefdesk_meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["scenario_name"] == rich_scenario().name
    assert meta["road_network_kind"] == "generated"
    assert meta["metadata.roads_note"] == "道路网为演示生成"
    datetime.fromisoformat(meta["saved_at"])
    # geopandas (any GDAL client) reads the Chinese and hostile text back unchanged
    teams = gpd.read_file(path, layer="teams")
    assert QUOTES in set(teams["name"])


# --------------------------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------------------------


def _rewrite_layer(path: Path, layer: str, frame: pd.DataFrame, **kwargs: object) -> None:
    """Replace one layer of a file, as QGIS or another tool editing it would."""
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)


def _raises(
    path: Path,
    *,
    layer: str | None = None,
    row: int | None = None,
    column: str | None = None,
    match: str = "",
) -> WorkspaceError:
    with pytest.raises(WorkspaceError, match=match) as info:
        read_workspace(path)
    err = info.value
    assert err.path == str(path)
    assert str(path) in str(err)
    assert err.layer == layer, str(err)
    assert err.row == row, str(err)
    assert err.column == column, str(err)
    return err


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.gpkg", match="not found")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.gpkg"
    p.write_bytes(b"")
    _raises(p, match="empty")


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.gpkg"
    p.write_text("这不是地理包\nid,name\n1,x\n" * 20, encoding="utf-8")
    _raises(p, match="not a GeoPackage")


def test_plain_sqlite_is_not_a_geopackage(tmp_path: Path) -> None:
    p = tmp_path / "plain.gpkg"
    with sqlite3.connect(p) as con:
        con.execute("CREATE TABLE t (x)")
    _raises(p, match="not a GeoPackage")


def test_truncated_copy(rich_file: tuple[Path, Scenario], tmp_path: Path) -> None:
    path, _ = rich_file
    data = path.read_bytes()
    for cut in (100, len(data) // 3, len(data) - 1024):
        p = tmp_path / f"cut{cut}.gpkg"
        p.write_bytes(data[:cut])
        _raises(p, match="truncated")


def test_geopackage_of_another_program(tmp_path: Path) -> None:
    p = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(1, 2)], crs=4326).to_file(p, layer="x")
    _raises(p, layer="reliefdesk_meta", match="metadata table is missing")


def test_missing_layer(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    with sqlite3.connect(path) as con:  # drop it the way ogr's DeleteLayer does
        con.execute("DROP TABLE shelters")
        con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name='shelters'")
        con.execute("DELETE FROM gpkg_contents WHERE table_name='shelters'")
    assert "shelters" not in dict(pyogrio.list_layers(path))
    _raises(path, layer="shelters", match="layer is missing")


def test_missing_column(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="shelters")
    _rewrite_layer(path, "shelters", gdf.drop(columns="capacity"))
    _raises(path, layer="shelters", column="capacity", match="column is missing")


def test_optional_column_missing_takes_default(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    gdf = pyogrio.read_dataframe(path, layer="stockpiles")
    _rewrite_layer(path, "stockpiles", gdf.drop(columns=["contact"]))
    got = read_workspace(path).scenario
    assert [p.contact for p in got.stockpiles] == ["", "", ""]
    assert got.stockpiles[1] == scen.stockpiles[1]


def test_text_in_number_column(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="shelters")
    gdf["capacity"] = gdf["capacity"].astype(str).astype(object)
    gdf.loc[1, "capacity"] = "三百"  # second row → fid 2
    _rewrite_layer(path, "shelters", gdf)
    _raises(path, layer="shelters", row=2, column="capacity", match="expected a number")


def test_numbers_typed_as_text_are_accepted(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    gdf = pyogrio.read_dataframe(path, layer="shelters")
    gdf["capacity"] = gdf["capacity"].astype(str).astype(object)
    _rewrite_layer(path, "shelters", gdf)
    assert read_workspace(path).scenario == scen


def test_null_in_required_column(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="teams")
    gdf["headcount"] = gdf["headcount"].astype("float64")
    gdf.loc[2, "headcount"] = np.nan
    _rewrite_layer(path, "teams", gdf)
    _raises(path, layer="teams", row=3, column="headcount", match="empty")


def test_bad_time(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="incidents")
    gdf.loc[0, "reported_at"] = "昨天晚上"
    _rewrite_layer(path, "incidents", gdf)
    _raises(path, layer="incidents", row=1, column="reported_at", match="ISO 8601")


@pytest.mark.parametrize(
    ("layer", "index", "column", "value", "match"),
    [
        ("inventory", 3, "quantity", -5.0, "≥ 0, got -5"),
        # the field's plausibility limit (gis.fields.FIELD_LIMITS) is checked by the reader
        # itself, so the message names the column, not only the row
        ("materials", 1, "unit_weight_kg", -2.5, "≥ 0 kg, got -2.5"),
    ],
)
def test_negative_quantity_is_located(
    rich_file: tuple[Path, Scenario], layer: str, index: int, column: str, value: float, match: str
) -> None:
    path, _ = rich_file
    frame = pyogrio.read_dataframe(path, layer=layer)
    frame.loc[index, column] = value
    _rewrite_layer(path, layer, frame)
    _raises(path, layer=layer, row=index + 1, column=column, match=match)


_MODEL_ERRORS = [
    # layer, row index (0-based), column, bad value, expected in message
    ("incidents", 1, "level", 5, "Incident 'I2'.*level"),
    ("vehicles", 2, "speed_factor", 0.0, "Vehicle 'V3'.*speed_factor"),
    ("shelters", 0, "occupancy", 5000, "Shelter 'SH1'.*exceeds capacity"),
    ("stockpiles", 2, "level", "省级", "Stockpile 'SP-empty'.*level"),
]


@pytest.mark.parametrize(("layer", "index", "column", "value", "match"), _MODEL_ERRORS)
def test_model_validation_errors_are_wrapped_with_layer_and_row(
    rich_file: tuple[Path, Scenario],
    layer: str,
    index: int,
    column: str,
    value: object,
    match: str,
) -> None:
    path, _ = rich_file
    frame = pyogrio.read_dataframe(path, layer=layer)
    frame[column] = frame[column].astype(object)
    frame.loc[index, column] = value
    gtype = {"incidents": "Point", "shelters": "Point", "stockpiles": "Point"}.get(layer)
    _rewrite_layer(path, layer, frame, **({"geometry_type": gtype} if gtype else {}))
    err = _raises(path, layer=layer, row=index + 1, match=match)
    assert "invalid value" in str(err)


def test_mixed_naive_and_aware_times_are_a_located_error(
    rich_file: tuple[Path, Scenario],
) -> None:
    # QGIS users may type a time without offset next to one with; the model rejects the pair
    # (ValidationError, see test_model.py); the reader must still name layer and row
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="closures")
    gdf.loc[1, "since"] = "2024-07-01T06:00:00"
    _rewrite_layer(path, "closures", gdf, geometry_type="Unknown")
    _raises(path, layer="closures", row=2, match="time zone")


def test_save_through_a_symlink_keeps_the_link(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    link = path.parent / "link.gpkg"
    link.symlink_to(path.name)
    smaller = scen.replace(name="经由链接保存")
    write_workspace(link, smaller)
    assert link.is_symlink()
    assert read_workspace(path).scenario == smaller


def test_level_as_roman_text_is_accepted(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    gdf = pyogrio.read_dataframe(path, layer="incidents")
    gdf["level"] = ["II", "Ⅲ", "3级"]
    _rewrite_layer(path, "incidents", gdf)
    assert read_workspace(path).scenario == scen


def test_duplicate_id(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="teams")
    gdf.loc[2, "id"] = "T1"
    _rewrite_layer(path, "teams", gdf)
    _raises(path, layer="teams", row=3, column="id", match="duplicate id 'T1'")


def test_unknown_material_in_related_table(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    needs = pyogrio.read_dataframe(path, layer="incident_needs")
    needs.loc[1, "material"] = "UNOBTAINIUM"
    _rewrite_layer(path, "incident_needs", needs)
    _raises(path, layer="incident_needs", row=2, column="material", match="UNOBTAINIUM")


def test_dangling_reference(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    veh = pyogrio.read_dataframe(path, layer="vehicles")
    veh.loc[0, "home_id"] = "nowhere"
    _rewrite_layer(path, "vehicles", veh)
    _raises(path, layer="vehicles", row=1, column="home_id", match="nowhere")


def test_nan_coordinate(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="stockpiles")
    gdf.loc[1, "geometry"] = Point(math.nan, 28.7)
    _rewrite_layer(path, "stockpiles", gdf, geometry_type="Point")
    _raises(path, layer="stockpiles", row=2, column="geometry", match="NaN")


def test_empty_geometry(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="shelters")
    gdf.loc[0, "geometry"] = None
    _rewrite_layer(path, "shelters", gdf, geometry_type="Point")
    _raises(path, layer="shelters", row=1, column="geometry", match="missing or empty")


def test_self_intersecting_polygon_is_repaired_with_warning(
    rich_file: tuple[Path, Scenario],
) -> None:
    path, scen = rich_file
    gdf = pyogrio.read_dataframe(path, layer="hazards")
    bowtie = Polygon([(106.0, 28.6), (106.1, 28.7), (106.1, 28.6), (106.0, 28.7)])
    assert not bowtie.is_valid
    gdf.loc[2, "geometry"] = bowtie
    _rewrite_layer(path, "hazards", gdf, geometry_type="Unknown")
    got = read_workspace(path)
    fixed = got.scenario.hazards[2].geometry
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert math.isclose(fixed.area, 0.005, rel_tol=1e-9)  # two triangles of 0.0025 each
    assert any("'hazards' row 3" in w and "make_valid" in w for w in got.warnings)
    assert got.scenario.hazards[:2] == scen.hazards[:2]


def test_single_part_multipoints_are_points(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    gdf = pyogrio.read_dataframe(path, layer="shelters")
    gdf["geometry"] = [MultiPoint([g]) for g in gdf.geometry]
    _rewrite_layer(path, "shelters", gdf, geometry_type="MultiPoint")
    assert read_workspace(path).scenario == scen
    gdf.loc[0, "geometry"] = MultiPoint([(105.8, 28.8), (105.9, 28.9)])
    _rewrite_layer(path, "shelters", gdf, geometry_type="MultiPoint")
    _raises(path, layer="shelters", row=1, column="geometry", match="got MultiPoint")


def test_damaged_file_gives_workspace_error(rich_file: tuple[Path, Scenario]) -> None:
    # random 4 KiB of garbage somewhere in the file: either still readable (an unused page or
    # an index) or a WorkspaceError naming the file -- never another exception
    path, _ = rich_file
    nodes, edges = road_frames(500)
    write_workspace(path, rich_scenario(), road_nodes=nodes, road_edges=edges)
    data = path.read_bytes()
    rng = random.Random(7)
    errors = 0
    for i in range(12):
        damaged = bytearray(data)
        offset = rng.randrange(4096, len(data) - 4096)
        damaged[offset : offset + 4096] = rng.randbytes(4096)
        p = path.parent / f"damaged{i}.gpkg"
        p.write_bytes(bytes(damaged))
        try:
            read_workspace(p)
        except WorkspaceError as exc:
            assert str(p) in str(exc)
            errors += 1
    assert errors >= 3


def test_point_in_a_polygon_only_layer_is_rejected(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    gdf = pyogrio.read_dataframe(path, layer="boundary")
    gdf.loc[0, "geometry"] = Point(105.8, 28.8)
    _rewrite_layer(path, "boundary", gdf, geometry_type="Unknown")
    _raises(path, layer="boundary", row=1, column="geometry", match="Polygon/MultiPolygon")


@pytest.mark.parametrize("epsg", [3857, 4490])
def test_other_crs_is_reprojected_with_warning(rich_file: tuple[Path, Scenario], epsg: int) -> None:
    path, scen = rich_file
    for layer in ("stockpiles", "hazards"):
        gdf = pyogrio.read_dataframe(path, layer=layer).to_crs(epsg=epsg)
        gtype = "Unknown" if layer == "hazards" else "Point"
        _rewrite_layer(path, layer, gdf, geometry_type=gtype)
        assert pyogrio.read_info(path, layer=layer)["crs"] == f"EPSG:{epsg}"
    got = read_workspace(path)
    for layer in ("stockpiles", "hazards"):
        assert any(f"reprojected layer '{layer}' from EPSG:{epsg}" in w for w in got.warnings)
    for a, b in zip(got.scenario.stockpiles, scen.stockpiles):
        assert a.id == b.id and a.inventory == b.inventory
        assert abs(a.location.lon - b.location.lon) < 1e-9
        assert abs(a.location.lat - b.location.lat) < 1e-9
    for a, b in zip(got.scenario.hazards, scen.hazards):
        assert a.geometry.equals_exact(b.geometry, tolerance=1e-9)


def test_newer_schema_version_is_refused(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE reliefdesk_meta SET value=? WHERE key='schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    err = _raises(path, layer="reliefdesk_meta", match="newer ReliefDesk")
    assert f"schema version {SCHEMA_VERSION + 1}" in str(err)


def test_invalid_document_is_skipped_with_warning(rich_file: tuple[Path, Scenario]) -> None:
    path, _ = rich_file
    docs = pd.DataFrame(
        {"kind": ["plans", "plans"], "doc_id": ["ok", "bad"], "json": ['{"a": 1}', "{not json"]}
    )
    _rewrite_layer(path, "documents", docs)
    got = read_workspace(path)
    assert got.documents == {"plans": {"ok": '{"a": 1}'}}
    assert any("plans/bad" in w and "row 2" in w for w in got.warnings)


# --------------------------------------------------------------------------------------------
# Bad arguments to write_workspace; the previous file survives a failed save
# --------------------------------------------------------------------------------------------


def test_write_rejects_bad_input_and_keeps_previous(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    before = path.read_bytes()
    nodes, edges = road_frames()
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        write_workspace(path, scen, documents={"plans": {"p": "{oops"}})
    with pytest.raises(WorkspaceError, match="together"):
        write_workspace(path, scen, road_nodes=nodes)
    with pytest.raises(WorkspaceError, match="bridge"):
        write_workspace(path, scen, road_nodes=nodes, road_edges=edges.drop(columns="bridge"))
    bad = edges.copy()
    bad["u"] = bad["u"].astype(float)
    bad.loc[5, "u"] = 1.5
    with pytest.raises(WorkspaceError, match="whole number") as info:
        write_workspace(path, scen, road_nodes=nodes, road_edges=bad)
    assert info.value.layer == "road_edges" and info.value.column == "u"
    with pytest.raises(WorkspaceError, match="Scenario"):
        write_workspace(path, {"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="does not exist"):
        write_workspace(path.parent / "no" / "dir.gpkg", scen)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_save_over_a_file_open_in_wal_mode(tmp_path: Path) -> None:
    # QGIS keeps GeoPackages in WAL mode; a -wal file left next to the old file must not be
    # replayed into the new one (without care it is: the new file then reads back the old data)
    a = rich_scenario()
    b = a.replace(name="新版本").remove("SP-fubao")
    path = tmp_path / "ws.gpkg"
    write_workspace(path, a)
    con = sqlite3.connect(path)  # another program holding the old file open
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
        for i in range(200):
            con.execute("INSERT INTO team_skills(team_id, skill) VALUES ('T2', ?)", (f"技能{i}",))
        con.commit()
        assert Path(f"{path}-wal").stat().st_size > 0
        write_workspace(path, b)
        assert read_workspace(path).scenario == b
    finally:
        con.close()
    assert read_workspace(path).scenario == b
    # and a hot rollback journal of a crashed writer is not replayed either
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    Path(f"{path}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + b"\0" * 504)
    write_workspace(path, a)
    assert read_workspace(path).scenario == a
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.skipif(os.name == "nt", reason="POSIX pid probe")
def test_stale_temp_cleanup_policy(tmp_path: Path) -> None:
    path = tmp_path / "ws.gpkg"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    live_pid = os.getppid()  # pytest's parent: alive, and not this process
    stale = tmp_path / f".ws.gpkg.{dead_pid}-abc123{TEMP_SUFFIX}"
    stale_journal = tmp_path / f"{stale.name}-journal"
    busy = tmp_path / f".ws.gpkg.{live_pid}-def456{TEMP_SUFFIX}"
    abandoned = tmp_path / f".ws.gpkg.{live_pid}-0789ab{TEMP_SUFFIX}"
    other = tmp_path / f".other.gpkg.{dead_pid}-abc123{TEMP_SUFFIX}"
    for p in (stale, stale_journal, busy, abandoned, other):
        p.write_bytes(b"partial")
    old = time.time() - 7 * 3600
    os.utime(abandoned, (old, old))
    write_workspace(path, Scenario(name="x"))
    left = {p.name for p in tmp_path.iterdir()}
    # a dead saver's files and any older than 6 h go; a live saver's recent file and files of
    # another workspace stay
    assert left == {path.name, busy.name, other.name}


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_save_keeps_file_permissions(rich_file: tuple[Path, Scenario]) -> None:
    path, scen = rich_file
    os.chmod(path, 0o640)
    write_workspace(path, scen.replace(name="权限"))
    assert path.stat().st_mode & 0o777 == 0o640


def test_saves_from_several_threads(tmp_path: Path) -> None:
    # the GUI saves in a worker thread while others may save too; the GDAL settings used while
    # filling temp files must not leak out of write_workspace
    before = {k: pyogrio.get_gdal_config_option(k) for k in SQLITE_FAST}
    scen = rich_scenario()
    variants = [scen.replace(name=f"线程 {i}") for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: write_workspace(tmp_path / f"t{i}.gpkg", variants[i]), range(4)))
    for i in range(4):
        assert read_workspace(tmp_path / f"t{i}.gpkg").scenario == variants[i]
    assert {k: pyogrio.get_gdal_config_option(k) for k in SQLITE_FAST} == before


def test_nul_character_is_refused_by_the_model_and_by_the_writer(tmp_path: Path) -> None:
    # typed by hand: the model refuses it (the form shows the message) ...
    with pytest.raises(ValidationError, match="'name' contains the control character U\\+0000"):
        Team("T9", "队\x00伍", "医疗", (105.9, 28.8), 3)
    # ... and a model object that slipped through (object.__setattr__) is refused on write
    scen = rich_scenario()
    team = Team("T9", "队伍", "医疗", (105.9, 28.8), 3)
    object.__setattr__(team, "name", "队\x00伍")
    bad = scen.upsert(team)
    path = tmp_path / "nul.gpkg"
    with pytest.raises(WorkspaceError, match="NUL") as info:
        write_workspace(path, bad)
    err = info.value
    assert (err.path, err.layer, err.row, err.column) == (str(path), "teams", 4, "name")
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_road_frames_other_crs_and_extra_columns(tmp_path: Path) -> None:
    nodes, edges = road_frames(30, seed=3)
    edges["lanes"] = 2  # extra column is kept verbatim
    path = tmp_path / "r.gpkg"
    write_workspace(
        path, Scenario(name="r"), road_nodes=nodes.to_crs(3857), road_edges=edges.to_crs(3857)
    )
    got = read_road_frames(path)
    assert got is not None
    n, e = got
    assert n.crs.to_epsg() == 4326
    assert (e["lanes"] == 2).all()
    assert np.allclose(shapely.get_coordinates(n.geometry), shapely.get_coordinates(nodes.geometry))
    assert {c: str(e[c].dtype) for c in ("u", "oneway", "maxspeed_kmh")} == {
        "u": "int64",
        "oneway": "bool",
        "maxspeed_kmh": "float64",
    }
    assert e["maxspeed_kmh"].isna().sum() == edges["maxspeed_kmh"].isna().sum()


def test_road_layer_in_another_crs_is_reprojected_on_read(tmp_path: Path) -> None:
    nodes, edges = road_frames(40, seed=5)
    path = tmp_path / "r.gpkg"
    write_workspace(path, Scenario(name="r"), road_nodes=nodes, road_edges=edges)
    _rewrite_layer(path, "road_edges", edges.to_crs(3857), geometry_type="LineString")
    got = read_workspace(path)
    assert any("reprojected layer 'road_edges' from EPSG:3857" in w for w in got.warnings)
    assert got.road_edges is not None and got.road_edges.crs.to_epsg() == 4326
    assert np.allclose(
        shapely.get_coordinates(got.road_edges.geometry),
        shapely.get_coordinates(edges.geometry),
        atol=1e-9,
    )
    assert (got.road_edges["u"].to_numpy() == edges["u"].to_numpy()).all()


def test_include_roads_false_does_not_read_road_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes, edges = road_frames()
    path = tmp_path / "ws.gpkg"
    write_workspace(path, rich_scenario(), road_nodes=nodes, road_edges=edges)
    read_layers: list[str] = []

    def spy(real):  # type: ignore[no-untyped-def]
        def wrapper(*args: object, **kwargs: object) -> object:
            read_layers.append(str(kwargs.get("layer")))
            return real(*args, **kwargs)

        return wrapper

    # every way the module reads a layer through GDAL
    monkeypatch.setattr(pyogrio, "read_dataframe", spy(pyogrio.read_dataframe))
    monkeypatch.setattr(pyogrio.raw, "read", spy(pyogrio.raw.read))
    got = read_workspace(path, include_roads=False)
    assert got.road_nodes is None and got.road_edges is None
    assert "road_nodes" not in read_layers and "road_edges" not in read_layers
    assert "stockpiles" in read_layers
    read_layers.clear()
    assert read_workspace(path).road_edges is not None
    assert {"road_nodes", "road_edges"} <= set(read_layers)


def test_corrupt_road_layer_is_located(tmp_path: Path) -> None:
    nodes, edges = road_frames()
    path = tmp_path / "ws.gpkg"
    write_workspace(path, Scenario(name="r"), road_nodes=nodes, road_edges=edges)
    bad = pyogrio.read_dataframe(path, layer="road_edges")
    bad["length_m"] = bad["length_m"].astype(str).astype(object)
    bad.loc[9, "length_m"] = "long"
    _rewrite_layer(path, "road_edges", bad, geometry_type="LineString")
    with pytest.raises(WorkspaceError, match="expected a number") as info:
        read_road_frames(path)
    assert (info.value.layer, info.value.row, info.value.column) == ("road_edges", 10, "length_m")
    # include_roads=False still opens the scenario
    assert read_workspace(path, include_roads=False).scenario.name == "r"


# --------------------------------------------------------------------------------------------
# validate_scenario
# --------------------------------------------------------------------------------------------


def test_validate_scenario_reports_planner_problems() -> None:
    scen = rich_scenario()
    warnings = validate_scenario(scen)
    text = "\n".join(warnings)
    # stockpiles without vehicles
    assert any("SP-fubao" in w and "没有车辆" in w for w in warnings)
    assert any("SP-empty" in w and "没有车辆" in w for w in warnings)
    assert not any("SP-county" in w and "没有车辆" in w for w in warnings)
    # X1 has safety stock 3 but no inventory
    assert any("SP-county" in w and "X1" in w and "安全库存" in w for w in warnings)
    # SH1 is 1150/1200 = 96 % occupied; SH2 is empty
    assert any("SH1" in w and "96%" in w for w in warnings)
    assert "SH2" not in text
    # I1 needs 水域救援 (T1 has it, standby) and 医疗救护 (only T3, deployed)
    assert any("I1" in w and "医疗救护" in w for w in warnings)
    assert not any("I1" in w and "水域救援" in w for w in warnings)
    # 350 quilts needed, 2000 in stock → no warning; closed incident I3 ignored
    assert "QUILT" not in text and "I3" not in text
    # all inside the boundary
    assert "县界之外" not in text

    outside = scen.upsert(Shelter("SH9", "界外", "室内", "紧急", (104.0, 28.0), 10)).upsert(
        Incident(
            "I9",
            "缺水",
            "自然灾害",
            "内涝",
            4,
            (105.8, 28.8),
            datetime(2024, 1, 1),
            needs={"FUEL": 5000.0, "X1": 1},
        )
    )
    w2 = validate_scenario(outside)
    assert any("SH9" in w and "县界之外" in w for w in w2)
    assert any("I9" in w and "X1" in w and "没有任何储备库" in w for w in w2)
    assert any("FUEL" in w and "1234.25" in w for w in w2)  # 5000 needed, 1234.25 held


def test_validate_scenario_on_empty_scenario() -> None:
    assert validate_scenario(Scenario(name="空")) == []


# --------------------------------------------------------------------------------------------
# Atomic save under kill -9
# --------------------------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import pickle, sys, time
    sys.path.insert(0, {root!r})
    from gis.workspace import write_workspace
    target, data = sys.argv[1], sys.argv[2]
    with open(data, "rb") as fh:
        (a, b), (nodes, edges) = pickle.load(fh)
    print("ready", flush=True)
    i = 0
    while True:
        scen = a if i % 2 == 0 else b
        t0 = time.perf_counter()
        write_workspace(target, scen, road_nodes=nodes, road_edges=edges,
                        documents={{"plans": {{"p": '{{"i": %d}}' % i}}}})
        print("saved %.3f" % (time.perf_counter() - t0), flush=True)
        i += 1
    """
)


N_KILLS = 10


def big_pair() -> tuple[tuple[Scenario, Scenario], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """Two different scenarios (a few hundred entities) and a 4k-edge road network."""
    base = rich_scenario()
    extra = [
        Shelter(f"S{i:04d}", f"避难场所{i}", "室内", "短期", (105.6 + i * 1e-3, 28.6), 100 + i)
        for i in range(300)
    ]
    a = base.replace(shelters=base.shelters + tuple(extra))
    b = a.replace(name="B 版本", shelters=a.shelters[:-50])
    return (a, b), road_frames(2000, seed=1)


@pytest.mark.slow
def test_kill_during_save_leaves_a_readable_file(tmp_path: Path) -> None:
    (a, b), (nodes, edges) = big_pair()
    target = tmp_path / "county.gpkg"
    write_workspace(target, a, road_nodes=nodes, road_edges=edges)
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(root=str(ROOT)), encoding="utf-8")
    data = tmp_path / "data.pickle"
    data.write_bytes(pickle.dumps(((a, b), (nodes, edges))))
    errlog = tmp_path / "child.err"
    own_files = {target.name, script.name, data.name, errlog.name}
    rng = random.Random(20241122)
    kills = 0
    mid_save = 0
    for attempt in range(N_KILLS):
        # stderr to a file: a pipe nobody reads could fill up and stall the child
        with open(errlog, "w+", encoding="utf-8") as err:
            proc = subprocess.Popen(
                [sys.executable, str(script), str(target), str(data)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=str(tmp_path),
            )
            try:
                assert proc.stdout is not None
                first = proc.stdout.readline().strip()
                assert first == "ready", errlog.read_text(encoding="utf-8")
                # let it complete 0–2 saves, then kill at a random moment of the next one
                for _ in range(attempt % 3):
                    line = proc.stdout.readline()
                    assert line.startswith("saved"), errlog.read_text(encoding="utf-8")
                time.sleep(rng.uniform(0.0, 0.4))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                kills += 1
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout:
                    proc.stdout.close()
        leftovers = [p for p in tmp_path.iterdir() if p.name not in own_files]
        mid_save += bool(leftovers)
        got = read_workspace(target)  # the file at the target path is always complete
        assert got.scenario in (a, b)
        assert got.road_edges is not None and len(got.road_edges) == len(edges)
    assert kills == N_KILLS
    assert mid_save >= 3, "the kills never landed during a save; the test proves nothing"
    # the next save cleans up whatever temp files the killed saves left behind
    write_workspace(target, b)
    assert {p.name for p in tmp_path.iterdir()} == own_files
    assert read_workspace(target).scenario == b
