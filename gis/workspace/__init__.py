"""The workspace file: one GeoPackage per county workspace.

A workspace holds a :class:`gis.model.Scenario`, optionally the road network frames (stored
verbatim) and free JSON documents (plans, event log, templates...). It is an ordinary GeoPackage
that QGIS, ``ogrinfo`` and any GDAL tool can open.

The package, one job per module (imports point down this list, never up):

* :mod:`~gis.workspace.schema` — the file layout: one declarative spec per table (columns,
  kinds, defaults, geometry, row ⇄ model mapping) driving both directions; :class:`Workspace`.
* :mod:`~gis.workspace.atomic` — temporary file, fsync, replace, stale temp and side-file
  clean-up: a crash or ``kill -9`` mid-save leaves the previous file intact.
* :mod:`~gis.workspace.checks` — file sniffing, argument checks, geometry repair and
  :func:`validate_scenario` (planner warnings).
* :mod:`~gis.workspace.reader` / :mod:`~gis.workspace.writer` — generic, schema-driven.
* :mod:`~gis.workspace.storage` — :class:`WorkspaceStorage`, the interface another backend (a
  shared PostGIS database) implements; :class:`GeoPackageStorage`; :func:`open_storage`.
* :mod:`~gis.workspace.postgis_ddl` (tables, roles, audit and notify triggers, migrations) ←
  :mod:`~gis.workspace.postgis` (:class:`PostgisStorage`: push/pull/read; record edits with
  versions and conflicts; the audit trail) ← :mod:`~gis.workspace.postgis_notify` (the change
  listener thread): the shared database of issue 16 (psycopg imported lazily).

Callers use the functions re-exported here.
"""

from __future__ import annotations

from gis.workspace.checks import SHELTER_FULL_SHARE, validate_scenario
from gis.workspace.reader import read_road_frames, read_workspace
from gis.workspace.schema import SCHEMA_VERSION, Workspace
from gis.workspace.storage import GeoPackageStorage, WorkspaceStorage, open_storage
from gis.workspace.writer import write_workspace

__all__ = [
    "SCHEMA_VERSION",
    "SHELTER_FULL_SHARE",
    "GeoPackageStorage",
    "Workspace",
    "WorkspaceStorage",
    "open_storage",
    "read_road_frames",
    "read_workspace",
    "validate_scenario",
    "write_workspace",
]
