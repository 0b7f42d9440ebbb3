"""Tests of gis/workspace/schema.py: one spec per table drives both the writer and the reader.

For every entity and related table, an object with every column set to a non-default value is
written and read back: the file holds exactly what the spec says (``Column.encode`` of the
model attribute) and the object comes back equal. The specs also have to cover every field of
the model classes, and their defaults have to be the model's.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString, Point, Polygon

from gis.model import (
    CandidateSite,
    DemandPoint,
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
from gis.workspace import read_workspace, write_workspace
from gis.workspace.schema import (
    DTYPES,
    OWNED,
    RELATED,
    SCENARIO_ENTITIES,
    TABLES,
    EntityTable,
    RelatedTable,
    entity_table,
)

CST = timezone(timedelta(hours=8))


def full_scenario() -> Scenario:
    """One object per entity table with every column set to something other than its default."""
    materials = (
        Material("M1", "帐篷", "Tent", "顶", 25.0, 0.12, "生活类", divisible=True),
        Material("M2", "饮用水", "Water", "箱", 12.0, 0.015, "生活类", divisible=True),
    )
    stockpile = Stockpile(
        "SP1",
        "储备库",
        "乡镇",
        (105.8, 28.8),
        inventory={"M1": 10.5},
        safety_stock={"M1": 2.0, "M2": 3.0},  # M2: a safety stock without inventory (NULL)
        vehicles=(Vehicle("V1", "厢式货车", 5000.5, 30.25, "SP1", "川E·1", 0.8),),
        township_code="510522100",
        contact="0830-1",
        capacity_m3=850.5,
    )
    shelter = Shelter(
        "SH1", "学校", "室外", "长期", (105.81, 28.81), 500, 120, {"M2": 7.5}, "510522100"
    )
    team = Team(
        "T1",
        "救援队",
        "医疗",
        (105.82, 28.82),
        12,
        skills=("医疗救护", "水域救援"),
        vehicles=(Vehicle("V2", "救护车", 900.0, 3.5, "T1", "救1", 1.2),),
        status="出动",
        leader="李四",
        phone="120",
    )
    incident = Incident(
        "I1",
        "山洪",
        "自然灾害",
        "山洪",
        2,
        (105.83, 28.83),
        datetime(2024, 7, 1, 8, 30, tzinfo=CST),
        affected_people=300,
        needs={"M1": 5.0, "M2": 40.0},
        required_skills={"医疗救护": 4},
        deadline_min=45.5,
        status="调度",
        description="说明",
        township_code="510522100",
    )
    hazard = Hazard(
        "H1",
        "隐患",
        "地质灾害隐患点",
        3,
        Polygon([(105.8, 28.8), (105.9, 28.8), (105.9, 28.9)]),
        description="描述",
    )
    closure = RoadClosure(
        "C1",
        LineString([(105.8, 28.8), (105.85, 28.82)]),
        reason="塌方",
        radius_m=75.0,
        speed_factor=0.25,
        since=datetime(2024, 7, 1, 6, tzinfo=CST),
        until=datetime(2024, 7, 2, 6, tzinfo=CST),
    )
    township = Township("510522100", "合江镇", (105.84, 28.81), 12345, "GeoNames")
    return Scenario(
        "全列",
        materials=materials,
        stockpiles=(stockpile,),
        shelters=(shelter,),
        teams=(team,),
        incidents=(incident,),
        hazards=(hazard,),
        closures=(closure,),
        townships=(township,),
        demand_points=(
            DemandPoint("D1", "<b>福宝村</b>", "学校", (105.85, 28.84), 860, 2.5, "510522100"),
        ),
        candidate_sites=(
            CandidateSite("CS1", "=HYPERLINK(1)", "避难场所", (105.86, 28.85), 900, 120.5, "备注"),
        ),
        boundary=Polygon([(105, 28), (107, 28), (107, 30), (105, 30)]),
        road_network=RoadNetworkRef("osm", "a.pbf", "h1", "注"),
        metadata={"k": "v"},
    )


def _objects(scenario: Scenario, table: EntityTable) -> list[Any]:
    if table.owned_by is None:
        return list(getattr(scenario, table.scenario_attr or ""))
    own = table.owned_by
    return [
        obj
        for layer in own.owners
        for owner in getattr(scenario, entity_table(layer).scenario_attr or "")
        for obj in getattr(owner, own.attr)
    ]


def _file_rows(path: Path, layer: str) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(f'SELECT * FROM "{layer}" ORDER BY fid')]


def _same(a: Any, b: Any) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or (
        a == b
    )


@pytest.fixture(scope="module")
def full_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Scenario, Scenario]:
    scen = full_scenario()
    path = tmp_path_factory.mktemp("schema") / "full.gpkg"
    write_workspace(path, scen)
    return path, scen, read_workspace(path).scenario


def test_the_full_scenario_sets_every_column(full_file: tuple[Path, Scenario, Scenario]) -> None:
    # guards the round trip below: a column added to a spec must be set here too
    _, scen, _ = full_file
    for table in (*SCENARIO_ENTITIES, *OWNED):
        objs = _objects(scen, table)
        assert objs, table.layer
        for col in table.columns:
            if col.attr is None:
                continue
            for obj in objs:
                value = getattr(obj, col.attr)
                empty = "" if col.kind == "text" else None
                assert value not in (col.default, empty), (table.layer, col.name, value)


@pytest.mark.parametrize("table", [*SCENARIO_ENTITIES, *OWNED], ids=lambda t: t.layer)
def test_entity_spec_drives_both_directions(
    full_file: tuple[Path, Scenario, Scenario], table: EntityTable
) -> None:
    path, scen, got = full_file
    written = _objects(scen, table)
    rows = _file_rows(path, table.layer)
    assert len(rows) == len(written)
    file_columns = set(rows[0]) - {"fid", "geom"}
    assert file_columns == {c.name for c in table.columns}, "the file has the spec's columns"
    for obj, row in zip(written, rows):
        for col in table.columns:
            if col.attr is not None:
                stored = row[col.name]
                expected = col.encode(getattr(obj, col.attr))
                if col.kind == "bool":
                    stored = bool(stored)
                assert _same(stored, expected), (table.layer, col.name, stored, expected)
    read_back = _objects(got, table)
    assert read_back == written
    for obj, back in zip(written, read_back):
        for f in dataclasses.fields(obj):
            assert getattr(back, f.name) == getattr(obj, f.name), (table.layer, f.name)


@pytest.mark.parametrize("table", RELATED, ids=lambda t: t.layer)
def test_related_spec_drives_both_directions(
    full_file: tuple[Path, Scenario, Scenario], table: RelatedTable
) -> None:
    path, scen, got = full_file
    owner_table = entity_table(table.owner)
    owners = getattr(scen, owner_table.scenario_attr or "")
    expected_rows = []
    for owner in owners:
        key = getattr(owner, owner_table.key)
        if table.sequence_attr is not None:
            expected_rows += [(key, item) for item in getattr(owner, table.sequence_attr)]
            continue
        maps = [(c, getattr(owner, c.attr or "")) for c in table.value_columns]
        items = dict.fromkeys(i for _, m in maps for i in m)
        for item in items:
            values = tuple(m.get(item) for _, m in maps)  # None = NULL in the file
            expected_rows.append((key, item, *values))
    rows = [tuple(r[c.name] for c in table.columns) for r in _file_rows(path, table.layer)]
    assert rows == expected_rows
    assert len(rows) >= 2 or table.sequence_attr is None, "exercise the order"
    if any(c.nullable for c in table.value_columns):
        assert any(None in r for r in rows), "exercise a NULL value"
    attrs = [table.sequence_attr] if table.sequence_attr else [c.attr for c in table.value_columns]
    back = {getattr(o, owner_table.key): o for o in getattr(got, owner_table.scenario_attr or "")}
    for owner in owners:
        for attr in attrs:
            assert getattr(back[getattr(owner, owner_table.key)], attr or "") == getattr(
                owner, attr or ""
            )


def test_the_whole_scenario_round_trips(full_file: tuple[Path, Scenario, Scenario]) -> None:
    _, scen, got = full_file
    assert got == scen


_MODELS_BY_LAYER = {t.layer: t.model for t in (*SCENARIO_ENTITIES, *OWNED)}


@pytest.mark.parametrize("table", [*SCENARIO_ENTITIES, *OWNED], ids=lambda t: t.layer)
def test_specs_cover_every_model_field_once(table: EntityTable) -> None:
    covered = [c.attr for c in table.columns if c.attr is not None]
    if table.geometry is not None and table.geometry.attr is not None:
        covered.append(table.geometry.attr)
    covered += [
        attr
        for r in RELATED
        if r.owner == table.layer
        for attr in ([r.sequence_attr] if r.sequence_attr else [c.attr for c in r.value_columns])
    ]
    covered += [t.owned_by.attr for t in OWNED if t.owned_by and table.layer in t.owned_by.owners]
    fields = [f.name for f in dataclasses.fields(table.model)]
    assert sorted(covered) == sorted(fields)


@pytest.mark.parametrize("table", [*SCENARIO_ENTITIES, *OWNED], ids=lambda t: t.layer)
def test_optional_column_defaults_are_the_model_defaults(table: EntityTable) -> None:
    model_defaults = {
        f.name: f.default
        for f in dataclasses.fields(table.model)
        if f.default is not dataclasses.MISSING
    }
    for col in table.columns:
        if col.attr is None:
            continue
        if col.required:
            assert col.attr not in model_defaults, (table.layer, col.name)
            continue
        read_default = col.default
        if read_default is None and col.kind == "text":
            read_default = ""
        if col.attr in model_defaults:  # (Material.name_en is optional in files only)
            assert read_default == model_defaults[col.attr], (table.layer, col.name)


def test_every_column_declares_a_known_kind_and_unique_names() -> None:
    layers = [t.layer for t in TABLES]
    assert len(layers) == len(set(layers))
    for table in TABLES:
        names = [c.name for c in table.columns]
        assert len(names) == len(set(names)), table.layer
        for col in table.columns:
            assert col.kind in DTYPES
            assert not (col.roman and col.kind != "int"), col.name
            assert not (col.non_negative and col.kind not in ("int", "float")), col.name


def test_hazard_point_and_closure_polygon_also_round_trip(tmp_path: Path) -> None:
    # the GEOMETRY layers keep each row's own type (the full scenario uses one type each)
    scen = full_scenario()
    scen = scen.replace(
        hazards=(*scen.hazards, Hazard("H2", "点", "危化品企业", 1, Point(105.9, 28.9))),
        closures=(
            *scen.closures,
            RoadClosure("C2", Polygon([(105.8, 28.8), (105.81, 28.8), (105.81, 28.81)])),
        ),
    )
    path = tmp_path / "g.gpkg"
    write_workspace(path, scen)
    assert read_workspace(path).scenario == scen


def test_the_layout_table_in_the_schema_docstring_lists_every_column() -> None:
    # the table QGIS users read stays in step with the specs
    from gis.workspace import schema

    doc = schema.__doc__ or ""
    lines = doc.splitlines()
    for table in TABLES:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"``{table.layer}``"))
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith(("``", "==="))),
            len(lines),
        )
        text = " ".join(lines[start:end])
        for col in table.columns:
            assert col.name in text, (table.layer, col.name)
