"""Workspace use cases behind the desk's "open workspace" (plain Python, no Qt, no folium).

The GUI runs these steps in background jobs (``gui/services/workspace_jobs.py``) and adapts them
to signals (``gui/controllers/workspace.py``); each step is a function of a frozen request and
returns a frozen result:

- :func:`read_for_open` — the scenario (with or without the road frames);
- :func:`load_network` — the processed road network (cached), plus the road frames when their
  reading was deferred until after the first paint;
- :func:`closed_road_edges` — the road edges the closures affect, as plain geometry + names;
- :func:`import_osm_roads` — a drivable network built from an OSM file, with its frames and ref.

:class:`WorkspaceRef` is the one value that says which file is open: opened once, held by the
session, handed on (to the road-network step, to saves, to the dispatch run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gis.model import RoadClosure, RoadNetworkRef, Scenario

ProgressFn = Callable[[float, str], None]


def _noop(fraction: float, message: str) -> None:  # noqa: ARG001
    return None


@dataclass(frozen=True)
class WorkspaceRef:
    """Which workspace file is open, and where its pieces are read from.

    ``path``: the file a save writes to (``None``: never saved). ``roads_source``: the file the
    road frames are still to be read from while their reading is deferred (cold start from a
    cached page). ``recovered_from``: the recovery copy this state was opened from (deleted once
    saved).
    """

    path: Path | None = None
    roads_source: Path | None = None
    recovered_from: Path | None = None

    @property
    def read_from(self) -> Path | None:
        """The file holding the data now: the recovery copy if any, else ``path``."""
        return self.recovered_from or self.path

    def with_(self, **changes: Any) -> WorkspaceRef:
        """A copy with ``changes`` (paths coerced to :class:`Path`)."""
        clean = {k: (Path(v) if v is not None else None) for k, v in changes.items()}
        return replace(self, **clean)


# ---- read ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRequest:
    path: Path
    include_roads: bool = True


def read_for_open(request: ReadRequest) -> Any:
    """The :class:`gis.workspace.Workspace` at ``request.path`` (road frames optional)."""
    from gis.workspace import read_workspace

    return read_workspace(Path(request.path), include_roads=request.include_roads)


# ---- road network ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkRequest:
    """Load the road network of ``path`` for ``scenario``; ``read_frames``: also read the road
    frames (their reading was deferred)."""

    path: Path
    scenario: Scenario
    read_frames: bool = False


@dataclass(frozen=True)
class NetworkResult:
    path: Path
    network: Any
    #: (nodes, edges) when ``read_frames`` was asked and the file has roads, else None
    frames: tuple[Any, Any] | None = None


def load_network(
    request: NetworkRequest, *, on_stage: Callable[[str], None] = lambda _stage: None
) -> NetworkResult:
    """The processed road network (through the cache), and the deferred frames if asked.

    ``on_stage("frames")`` / ``on_stage("network")`` announce the steps (the caller words them).
    """
    from gis.loading import load_road_network

    frames = None
    if request.read_frames:
        from gis.workspace import read_road_frames

        on_stage("frames")
        got = read_road_frames(Path(request.path))
        frames = tuple(got) if got is not None else None
    on_stage("network")
    network = load_road_network(Path(request.path), request.scenario)
    return NetworkResult(path=Path(request.path), network=network, frames=frames)  # type: ignore[arg-type]


# ---- closures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedEdge:
    """One road edge a closure blocks: its row in the network, geometry and name ('' unknown)."""

    row: int
    geometry: Any
    name: str = ""


def closed_road_edges(network: Any, closures: Sequence[RoadClosure]) -> tuple[ClosedEdge, ...]:
    """The network's edges that ``closures`` block, in row order (empty without a network)."""
    if network is None or not closures:
        return ()
    rows: set[int] = set()
    for r in network.closed_edges(closures).values():
        rows.update(int(x) for x in r)
    return tuple(
        ClosedEdge(row, network.edge_geometry[row], str(network.edge_name[row] or ""))
        for row in sorted(rows)
    )


# ---- import roads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRoadsRequest:
    file: Path
    boundary: Any = None


@dataclass(frozen=True)
class ImportedRoads:
    network: Any
    nodes: Any
    edges: Any
    ref: RoadNetworkRef
    file: Path | None = None


def import_osm_roads(
    request: ImportRoadsRequest,
    *,
    progress: ProgressFn = _noop,
    stop: Callable[[], bool] | None = None,
) -> ImportedRoads:
    """Build a drivable network from an OSM file (.osm/.osm.gz/.osm.bz2/.osm.pbf/.graphml).

    ``stop()`` True raises :class:`gis.errors.Cancelled` (polled while the file is read and
    between the steps); nothing is changed: the caller keeps its workspace.
    """
    from gis.roads import load_osm

    file = Path(request.file)
    network = load_osm(file, boundary=request.boundary, progress=progress, stop=stop)
    nodes, edges = network.to_frames()
    ref = RoadNetworkRef(
        kind="osm",
        source=file.name,
        content_hash=network.content_hash,
        note="© OpenStreetMap contributors (ODbL)",
    )
    return ImportedRoads(network=network, nodes=nodes, edges=edges, ref=ref, file=file)
