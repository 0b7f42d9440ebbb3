"""Qt-free workspace use cases (gis.workspace_service) and the desk's job bodies
(gui.services.workspace_jobs): typed requests in, typed results out, no QApplication."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gis.model import RoadClosure
from gis.workspace import read_workspace
from gis.workspace_service import (
    ClosedEdge,
    NetworkRequest,
    ReadRequest,
    WorkspaceRef,
    closed_road_edges,
    load_network,
    read_for_open,
)
from gui import map_page
from gui.services.workspace_jobs import (
    STAGES,
    ClosedRoadsRequest,
    OpenRequest,
    OpenResult,
    PageRequest,
    SaveRequest,
    WorkspaceSnapshot,
    closed_roads_job,
    load_workspace_job,
    rebuild_page_job,
    road_network_job,
    save_job,
)

ROOT = Path(__file__).resolve().parents[1]


def _run(fn, request, stages: list[str] | None = None):
    seen = stages if stages is not None else []
    return fn(request, stop=lambda: False, progress=lambda f, m="": seen.append(m))


@pytest.fixture(scope="module")
def demo_network(demo_workspace_path: Path):
    ws = read_workspace(demo_workspace_path, include_roads=False)
    result = load_network(NetworkRequest(demo_workspace_path, ws.scenario, read_frames=True))
    return ws, result


def test_services_import_no_qt() -> None:
    """The services and their requests/results load without PyQt6 (a fresh interpreter)."""
    code = (
        "import sys, gis.workspace_service, gui.services.workspace_jobs; "
        "bad = sorted(m for m in sys.modules if m.startswith('PyQt6')); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_workspace_ref_is_one_frozen_value() -> None:
    ref = WorkspaceRef(path=Path("/a/ws.gpkg"))
    assert ref.read_from == Path("/a/ws.gpkg")
    rec = ref.with_(recovered_from="/r/rec.gpkg")
    assert rec.read_from == Path("/r/rec.gpkg") and rec.path == ref.path
    assert ref.recovered_from is None  # unchanged: a new value
    with pytest.raises(AttributeError):
        ref.path = None  # type: ignore[misc]


def test_read_and_network_with_deferred_frames(demo_workspace_path: Path, demo_network) -> None:
    ws = read_for_open(ReadRequest(demo_workspace_path, include_roads=False))
    assert ws.road_edges is None and ws.scenario.stockpiles
    _ws, result = demo_network
    assert result.path == demo_workspace_path and result.network is not None
    nodes, edges = result.frames
    assert len(edges) > 0 and len(nodes) > 0
    # without read_frames: no frames; the job reports its stages as keys of STAGES
    stages: list[str] = []
    again = _run(road_network_job, NetworkRequest(demo_workspace_path, ws.scenario), stages)
    assert again.frames is None and again.network is not None
    assert stages == ["network"] and set(stages) <= set(STAGES)


def test_closed_road_edges_and_escaped_features(demo_network) -> None:
    from shapely.geometry import LineString

    ws, result = demo_network
    net = result.network
    assert closed_road_edges(net, ()) == () and closed_road_edges(None, ()) == ()
    geom = net.edge_geometry[len(net.edge_geometry) // 2]
    mid = geom.interpolate(0.5, normalized=True)
    line = LineString([(mid.x - 0.002, mid.y - 0.002), (mid.x + 0.002, mid.y + 0.002)])
    closure = RoadClosure(id="CL-T1", geometry=line, reason="塌方")
    edges = closed_road_edges(net, (closure,))
    assert edges and all(isinstance(e, ClosedEdge) for e in edges)
    assert [e.row for e in edges] == sorted(e.row for e in edges)
    # a hostile road name is escaped in the tooltip; a nameless edge gets the caller's words
    hostile = ClosedEdge(0, edges[0].geometry, "<b>x</b>")
    fc = map_page.closed_edge_features([hostile, ClosedEdge(1, edges[0].geometry)], unnamed="无名")
    assert [f["properties"]["tip"] for f in fc["features"]] == ["&lt;b&gt;x&lt;/b&gt;", "无名"]
    job_fc = _run(closed_roads_job, ClosedRoadsRequest(net, (closure,), unnamed="受阻"))
    assert len(job_fc["features"]) == len(edges)


def test_open_job_builds_then_defers(tmp_path: Path, demo_workspace_path: Path) -> None:
    page = tmp_path / "page.html"
    ref = WorkspaceRef(path=demo_workspace_path)
    stages: list[str] = []
    first = _run(load_workspace_job, OpenRequest(demo_workspace_path, ref, page_path=page), stages)
    assert isinstance(first, OpenResult) and first.page_path == page and page.exists()
    assert not first.from_cache and first.workspace.road_edges is not None
    assert first.ref == ref and {"read", "page"} <= set(stages)
    cached = _run(
        load_workspace_job, OpenRequest(demo_workspace_path, ref, page_path=page, page_cached=True)
    )
    assert cached.from_cache and cached.roads_deferred and cached.workspace.road_edges is None
    # the deferred roads are part of the one ref handed on
    assert cached.ref.roads_source == demo_workspace_path and cached.ref.path == demo_workspace_path
    # a stop request before the page is built: no page (the open counts as cancelled)
    stopped = load_workspace_job(
        OpenRequest(demo_workspace_path, ref, page_path=tmp_path / "p2.html"),
        stop=lambda: True,
        progress=lambda *a: None,
    )
    assert stopped.page_path is None


def test_rebuild_page_reads_deferred_roads(demo_workspace_path: Path) -> None:
    ws = read_workspace(demo_workspace_path, include_roads=False)
    path = _run(rebuild_page_job, PageRequest(ws.scenario, roads_source=demo_workspace_path))
    html = path.read_text(encoding="utf-8")
    assert path.exists() and "RD" in html
    bare = _run(rebuild_page_job, PageRequest(ws.scenario)).read_text(encoding="utf-8")
    assert len(html) > len(bare)  # the roads are in the first page only


def test_save_job_copies_deferred_roads(tmp_path: Path, demo_workspace_path: Path) -> None:
    ws = read_workspace(demo_workspace_path, include_roads=False)
    snap = WorkspaceSnapshot(
        scenario=ws.scenario, roads_source=demo_workspace_path, documents=ws.documents
    )
    out = _run(save_job, SaveRequest(snap, tmp_path / "out.gpkg"))
    back = read_workspace(out, include_roads=True)
    full = read_workspace(demo_workspace_path, include_roads=True)
    assert back.scenario == ws.scenario and len(back.road_edges) == len(full.road_edges)
