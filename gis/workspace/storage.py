"""Where a workspace lives: a narrow storage interface and its GeoPackage implementation.

:class:`WorkspaceStorage` is what callers need from a place that holds one county workspace:
read it (with or without the road network), read only the road frames, replace it atomically
and say where it is. :class:`GeoPackageStorage` implements it over one ``.gpkg`` file by
delegating to :mod:`gis.workspace.reader` and :mod:`gis.workspace.writer`. A shared database
for several desks (PostGIS) can implement the same protocol from the same table specs in
:mod:`gis.workspace.schema` without touching callers; today callers use the module-level
functions (``read_workspace`` ...), which are the GeoPackage backend.
:func:`open_storage` picks the backend from what the user named (a file or a database URL);
:mod:`gis.workspace.postgis` is the shared-database backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import geopandas as gpd

from gis.model import Scenario
from gis.workspace.reader import read_road_frames, read_workspace
from gis.workspace.schema import Workspace
from gis.workspace.writer import write_workspace

RoadFrames = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]


@runtime_checkable
class WorkspaceStorage(Protocol):
    """A place holding one workspace. Errors are :class:`gis.errors.WorkspaceError`."""

    @property
    def location(self) -> str:
        """Where the workspace is (a file path, a database URL without password...)."""
        ...

    def describe(self) -> str:
        """One line for people: the kind of storage and its location."""
        ...

    def read(self, *, include_roads: bool = True) -> Workspace:
        """The whole workspace; ``include_roads=False`` skips the road network (fast open)."""
        ...

    def read_roads(self) -> RoadFrames | None:
        """Only the road network frames, or ``None`` when none is stored."""
        ...

    def write(
        self,
        scenario: Scenario,
        *,
        road_nodes: gpd.GeoDataFrame | None = None,
        road_edges: gpd.GeoDataFrame | None = None,
        documents: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Replace the stored workspace atomically: all of it or, on failure, none of it."""
        ...


@dataclass(frozen=True)
class GeoPackageStorage:
    """A workspace in one GeoPackage file (see :mod:`gis.workspace.schema` for the layout)."""

    path: Path

    def __init__(self, path: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def location(self) -> str:
        return str(self.path)

    def describe(self) -> str:
        return f"GeoPackage {self.path}"

    def read(self, *, include_roads: bool = True) -> Workspace:
        return read_workspace(self.path, include_roads=include_roads)

    def read_roads(self) -> RoadFrames | None:
        return read_road_frames(self.path)

    def write(
        self,
        scenario: Scenario,
        *,
        road_nodes: gpd.GeoDataFrame | None = None,
        road_edges: gpd.GeoDataFrame | None = None,
        documents: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        write_workspace(
            self.path, scenario, road_nodes=road_nodes, road_edges=road_edges, documents=documents
        )


def open_storage(location: str | os.PathLike[str]) -> WorkspaceStorage:
    """The storage a desk or a command names: a ``postgresql://`` URL is a shared PostGIS
    workspace (:class:`gis.workspace.postgis.PostgisStorage`), anything else a GeoPackage."""
    from gis.workspace.postgis import PostgisStorage, is_database_url

    if isinstance(location, str) and is_database_url(location):
        return PostgisStorage(location)
    return GeoPackageStorage(location)
