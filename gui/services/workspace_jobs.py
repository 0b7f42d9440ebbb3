"""Workspace jobs of the desk (Qt-free): open, road network, closed roads, map page, OSM, save.

Each job is ``run(request, *, stop, progress) -> result`` with a frozen request and result
(:class:`gui.workers.JobRunner` runs it on a thread). The plain domain steps are in
:mod:`gis.workspace_service`; what needs the map page (HTML, GeoJSON with escaped tooltips) is
here. ``progress`` receives stage keys of :data:`STAGES` (the controller words them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis import workspace_service as svc
from gis.model import RoadClosure, Scenario
from gis.workspace_service import ImportedRoads, NetworkResult, WorkspaceRef
from gui import map_page

#: progress stage keys → the (untranslated) words the controllers show
STAGES = {
    "read": "读取工作区…",
    "page": "生成地图…",
    "frames": "读取道路…",
    "network": "加载道路网络…",
    "osm": "读取 OSM 文件…",
    "save": "保存中…",
}


def temp_page_dir() -> Path:
    return Path(tempfile.gettempdir()) / "reliefdesk"


# ---- open ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenRequest:
    """Read ``file`` (the workspace, or a recovery copy of ``ref.path``) to become ``ref``;
    ``page_path``: where the map page goes (cached when ``page_cached``: then only the scenario
    is read now, the road frames later)."""

    file: Path
    ref: WorkspaceRef
    page_path: Path | None = None
    page_cached: bool = False
    tile_url: str = ""
    hidden: tuple[str, ...] = ()
    #: the workspace's ``documents["map_layers"]`` (rivers), see gui/map_ground.py
    map_layers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class OpenResult:
    """A workspace read for the desk: ``page_path`` None when the open was cancelled."""

    ref: WorkspaceRef
    workspace: Any
    page_path: Path | None
    from_cache: bool = False
    roads_deferred: bool = False


def load_workspace_job(request: OpenRequest, *, stop: Any, progress: Any) -> OpenResult:
    """Read a workspace; build its map page into ``request.page_path`` unless it is cached."""
    progress(0.05, "read")
    page_path = request.page_path
    if request.page_cached and page_path is not None and page_path.exists():
        # the page (roads included) is cached: read the scenario now, the road frames later
        # with the road network, after the first paint
        ws = svc.read_for_open(svc.ReadRequest(request.file, include_roads=False))
        ref = request.ref.with_(roads_source=request.file)
        return OpenResult(ref, ws, page_path, from_cache=True, roads_deferred=True)
    ws = svc.read_for_open(svc.ReadRequest(request.file, include_roads=True))
    if stop():
        return OpenResult(request.ref, ws, None)
    progress(0.6, "page")
    page = map_page.build_map_html(
        ws.scenario,
        ws.road_edges,
        tile_url=request.tile_url or None,
        hidden_layers=request.hidden,
        map_layers=(ws.documents or {}).get("map_layers"),
    )
    if page_path is None:
        page_path = temp_page_dir() / f"page_{os.getpid()}.html"
    try:
        map_page.write_map_html(page_path, page)
        map_page.prune_page_cache()
    except OSError:  # read-only cache: fall back to a temp file
        page_path = map_page.write_map_html(temp_page_dir() / f"page_{os.getpid()}.html", page)
    progress(1.0, "")
    return OpenResult(request.ref, ws, page_path, from_cache=False)


# ---- road network and closures -------------------------------------------------------------------


def road_network_job(request: svc.NetworkRequest, *, stop: Any, progress: Any) -> NetworkResult:
    """The road network (for closures and travel times), and the deferred road frames."""
    stage_at = {"frames": 0.05, "network": 0.3}
    return svc.load_network(request, on_stage=lambda s: progress(stage_at.get(s, 0.0), s))


@dataclass(frozen=True)
class ClosedRoadsRequest:
    network: Any
    closures: Sequence[RoadClosure]
    #: tooltip of an edge without a name (translated by the caller)
    unnamed: str = "受阻路段"


def empty_features() -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": []}


def closed_roads_job(request: ClosedRoadsRequest, *, stop: Any, progress: Any) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the road edges the closures block (tooltips escaped)."""
    edges = svc.closed_road_edges(request.network, request.closures)
    return map_page.closed_edge_features(edges, unnamed=request.unnamed)


# ---- map page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Build the page of the current (possibly edited) scenario; the road frames are read from
    ``roads_source`` when ``road_edges`` is None (reading still deferred)."""

    scenario: Scenario
    road_edges: Any = None
    roads_source: Path | None = None
    tile_url: str = ""
    hidden: tuple[str, ...] = ()
    #: the workspace's ``documents["map_layers"]`` (rivers), see gui/map_ground.py
    map_layers: Mapping[str, str] | None = None


def rebuild_page_job(request: PageRequest, *, stop: Any, progress: Any) -> Path:
    """Write the page of ``request.scenario`` to a temp file and return its path."""
    edges = request.road_edges
    if edges is None and request.roads_source is not None:
        from gis.workspace import read_road_frames

        frames = read_road_frames(Path(request.roads_source))
        edges = frames[1] if frames is not None else None
    page = map_page.build_map_html(
        request.scenario,
        edges,
        tile_url=request.tile_url or None,
        hidden_layers=request.hidden,
        map_layers=request.map_layers,
    )
    return map_page.write_map_html(temp_page_dir() / f"page_{os.getpid()}_rebuilt.html", page)


# ---- OSM import --------------------------------------------------------------------------------


def import_osm_job(
    request: svc.ImportRoadsRequest, *, stop: Any, progress: Any
) -> ImportedRoads | None:
    """Build a drivable road network from an OSM file (.osm/.osm.gz/.osm.bz2/.osm.pbf/.graphml);
    None when ``stop()`` cut it short (the job then finishes as cancelled)."""
    from gis.errors import Cancelled

    progress(0.02, "osm")
    try:
        return svc.import_osm_roads(request, progress=progress, stop=stop)
    except Cancelled:
        return None


# ---- save ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceSnapshot:
    """Everything a save needs (immutable scenario + copies), safe to hand to a worker."""

    scenario: Scenario
    road_nodes: Any = None
    road_edges: Any = None
    #: the file the road frames are copied from when they were not read yet (deferred)
    roads_source: Path | None = None
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    undo_index: int = 0

    def write(self, path: Path) -> None:
        """Write atomically (runs in a worker thread)."""
        from gis.workspace import read_road_frames, write_workspace

        nodes, edges = self.road_nodes, self.road_edges
        if (nodes is None or edges is None) and self.roads_source is not None:
            # roads not read yet (deferred at start-up): copy them from the file they are in
            frames = read_road_frames(Path(self.roads_source))
            if frames is not None:
                nodes, edges = frames
        if nodes is None or edges is None:
            nodes = edges = None
        write_workspace(
            path,
            self.scenario,
            road_nodes=nodes,
            road_edges=edges,
            documents={k: dict(v) for k, v in self.documents.items()},
        )


@dataclass(frozen=True)
class SaveRequest:
    snapshot: WorkspaceSnapshot
    path: Path


def save_job(request: SaveRequest, *, stop: Any, progress: Any) -> Path:
    progress(0.2, "save")
    request.snapshot.write(Path(request.path))
    return Path(request.path)
