"""The desk's shared-database job (Qt-free): connect, learn the role, pull a snapshot copy.

The desk shows a shared workspace through an offline GeoPackage copy pulled from the database
(:meth:`gis.workspace.postgis.PostgisStorage.pull`) and opened like any file; a change
notification pulls a new copy. :func:`snapshot_job` is that pull, with the connected role, the
tables it may change and the database's data version at the time of the copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import WorkspaceError
from gis.model import Scenario
from gis.workspace import read_workspace
from gis.workspace.postgis import PostgisStorage, SharedWorkspace
from gis.workspace.postgis_ddl import writable_tables
from gis.workspace.postgis_sync import RowChange, SendResult, Versions, read_versions, send_rows


@dataclass(frozen=True)
class SnapshotRequest:
    url: str = field(repr=False)  # holds the password
    out: Path  # where the offline copy goes (replaced atomically)


@dataclass(frozen=True)
class Snapshot:
    url: str = field(repr=False)
    location: str  # the URL without its password
    role: str
    writable: frozenset[str]
    path: Path
    data_version: int
    versions: Versions  # (table, key) -> version of every row in the copy
    scenario: Scenario  # the copy's scenario, read like any file (applied live on a refresh)
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # the copy's


def snapshot_job(req: SnapshotRequest, *, stop: Any = None, progress: Any = None) -> Snapshot:  # noqa: ARG001
    """Connect as the URL's role and pull a copy (errors: :class:`gis.errors.WorkspaceError`)."""
    storage = PostgisStorage(req.url)
    req.out.parent.mkdir(parents=True, exist_ok=True)
    with SharedWorkspace(req.url) as ws:
        role = ws.role
        # the versions first: a row changed between the two reads then looks stale (a conflict
        # shown to the user), never fresh (a lost update)
        versions = read_versions(ws)
        version = ws.data_version()
    storage.pull(req.out)
    ws = read_workspace(req.out, include_roads=False)
    return Snapshot(
        req.url,
        storage.location,
        role,
        writable_tables(role),
        req.out,
        version,
        versions,
        ws.scenario,
        ws.documents,
    )


@dataclass(frozen=True)
class SendRequest:
    url: str = field(repr=False)
    changes: tuple[RowChange, ...]
    versions: Versions


def send_job(req: SendRequest, *, stop: Any = None, progress: Any = None) -> SendResult:  # noqa: ARG001
    """Save a desk edit's rows (:func:`gis.workspace.postgis_sync.send_rows`); no connection:
    every row comes back unsent."""
    try:
        ws = SharedWorkspace(req.url)
    except WorkspaceError:
        return send_rows(None, list(req.changes), req.versions)
    with ws:
        return send_rows(ws, list(req.changes), req.versions)
