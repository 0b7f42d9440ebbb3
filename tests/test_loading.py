"""Use cases behind the commands: snapping warnings and the cached road network of a workspace."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gis.errors import WorkspaceError
from gis.loading import (
    import_osm,
    load_road_network,
    open_workspace,
    read_points_csv,
    workspace_info,
)
from gis.model import Location, RoadNetworkRef, Scenario, Stockpile, StockpileLevel
from gis.roads import load_osm
from gis.workspace import write_workspace


def test_far_facility_is_flagged_and_network_reopens_from_cache(
    andorra_pbf: Path, tmp_path: Path
) -> None:
    network = load_osm(andorra_pbf)
    near = Stockpile(
        "SP-NEAR", "Andorra la Vella", StockpileLevel.COUNTY, Location(1.5218, 42.5063)
    )
    # 0.2° south of Andorra la Vella, in the Spanish mountains outside the extract: kilometres
    far = Stockpile("SP-FAR", "<b>远处</b>", StockpileLevel.SOCIAL, Location(1.52, 42.30))
    scenario = Scenario(
        "andorra",
        stockpiles=(near, far),
        road_network=RoadNetworkRef(
            kind="osm", source="andorra", content_hash=network.content_hash
        ),
    )
    nodes, edges = network.to_frames()
    path = tmp_path / "a.gpkg"
    write_workspace(path, scenario, road_nodes=nodes, road_edges=edges)

    info = workspace_info(open_workspace(path))
    flagged = [w for w in info["warnings"] if "from the nearest road node" in w]
    assert len(flagged) == 1 and "SP-FAR" in flagged[0] and "SP-NEAR" not in flagged[0]
    assert info["road_network"]["nodes"] == network.n_nodes

    # second open: served from the cache, identical and fast enough to be instant for a person
    t0 = time.perf_counter()
    again = load_road_network(path, open_workspace(path).scenario)
    assert time.perf_counter() - t0 < 5.0
    assert again.content_hash == network.content_hash
    assert again.n_arcs == network.n_arcs


def test_points_csv_ids_encodings_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "gbk.csv"
    # Chinese Excel saves CSV as GBK: ids with Chinese text must survive
    good.write_bytes("id,lon,lat\n福宝镇,106.0767,28.7691\n先滩镇,106.1927,28.8186\n".encode("gbk"))
    pts = read_points_csv(good, "S")
    assert pts.ids == ("福宝镇", "先滩镇")
    assert pts.lon.tolist() == [106.0767, 106.1927] and pts.lat.tolist() == [28.7691, 28.8186]
    bare = tmp_path / "bare.csv"
    bare.write_text("\ufeff106.0,28.7\n\n106.1,28.8\n", encoding="utf-8")  # BOM, blank line
    assert read_points_csv(bare, "T").ids == ("T1", "T2")
    cases = {
        "id,lon,lat\nA,106.0,28.7\nA,106.1,28.8\n": r"row 3, column 'id': duplicate id 'A'",
        "id,lon,lat\nA,106.0,28.7\n ,106.1,28.8\n": r"row 3, column 'id': empty id",
        "lon,lat\n106.0,28.7\n106.1,nan\n": r"row 3: coordinate out of range",
        "lon,lat\n106.0,28.7\n200,28.8\n": r"row 3: coordinate out of range",
        "x,y\n106.0,28.7\n": r"row 1: the header must name columns lon and lat",
        "": r"CSV is empty",
        "lon,lat\n": r"CSV has no points",
    }
    for i, (text, message) in enumerate(cases.items()):
        bad = tmp_path / f"bad{i}.csv"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(WorkspaceError, match=rf"bad{i}\.csv.*{message}"):
            read_points_csv(bad, "S")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"lon,lat\n\x00\x01\x02")
    with pytest.raises(WorkspaceError, match="binary.csv.*NUL"):
        read_points_csv(binary, "S")


def test_import_into_the_demo_keeps_entities_and_drops_generated_road_notes(
    demo_copy: Path, monaco_xml: Path
) -> None:
    ws = demo_copy
    before = open_workspace(ws).scenario
    assert "生成" in before.metadata["roads_note"] and "single_bridge" in before.metadata
    summary = import_osm(monaco_xml, ws)
    after = open_workspace(ws).scenario
    assert after.road_network.kind == "osm" and after.road_network.source == monaco_xml.name
    assert after.counts() == before.counts() and after.shelters == before.shelters
    assert (
        "生成" not in after.metadata["roads_note"]
        and "OpenStreetMap" in after.metadata["roads_note"]
    )
    assert "single_bridge" not in after.metadata and "bridges" not in after.metadata
    net = load_road_network(ws, after)
    assert net is not None and net.n_nodes == summary["nodes"]


def test_road_layer_edited_outside_reliefdesk_is_not_served_from_the_cache(demo_copy: Path) -> None:
    import geopandas as gpd
    import numpy as np
    import pyogrio

    ws = demo_copy
    scenario = open_workspace(ws).scenario
    first = load_road_network(ws, scenario)
    assert load_road_network(ws, scenario).content_hash == first.content_hash  # cached
    # what an edit in QGIS does: rewrite the road layer through GDAL with changed attributes
    # (every road now 5 km/h), leaving the recorded road_network_hash of the workspace as it was
    edges = gpd.read_file(ws, layer="road_edges")
    edges["maxspeed_kmh"] = 5.0
    pyogrio.write_dataframe(edges, ws, layer="road_edges", driver="GPKG")
    edited = load_road_network(ws, open_workspace(ws).scenario)
    assert edited.content_hash != first.content_hash
    assert np.nanmin(np.asarray(edited.travel_time_s) / np.asarray(first.travel_time_s)) > 1.0
