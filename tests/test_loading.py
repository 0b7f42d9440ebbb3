"""Use cases behind the commands: snapping warnings and the cached road network of a workspace."""

from __future__ import annotations

import time
from pathlib import Path

from gis.loading import load_road_network, open_workspace, workspace_info
from gis.model import Location, RoadNetworkRef, Scenario, Stockpile, StockpileLevel
from gis.roads import load_osm
from gis.workspace import write_workspace


def test_far_facility_is_flagged_and_network_reopens_from_cache(
    andorra_pbf: Path, tmp_path: Path
) -> None:
    network = load_osm(andorra_pbf)
    near = Stockpile("SP-NEAR", "Andorra la Vella", StockpileLevel.COUNTY, Location(1.5218, 42.5063))
    # 0.2° south of Andorra la Vella, in the Spanish mountains outside the extract: kilometres
    far = Stockpile("SP-FAR", "<b>远处</b>", StockpileLevel.SOCIAL, Location(1.52, 42.30))
    scenario = Scenario(
        "andorra",
        stockpiles=(near, far),
        road_network=RoadNetworkRef(kind="osm", source="andorra", content_hash=network.content_hash),
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
