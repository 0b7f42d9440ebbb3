"""The desk's shared-database job (Qt-free): connect, learn the role, pull a snapshot copy.

The desk shows a shared workspace through an offline GeoPackage copy pulled from the database
(:meth:`gis.workspace.postgis.PostgisStorage.pull`) and opened like any file; a change
notification pulls a new copy. :func:`snapshot_job` is that pull, with the connected role, the
tables it may change and the database's data version at the time of the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.workspace.postgis import PostgisStorage, SharedWorkspace
from gis.workspace.postgis_ddl import writable_tables


@dataclass(frozen=True)
class SnapshotRequest:
    url: str
    out: Path  # where the offline copy goes (replaced atomically)


@dataclass(frozen=True)
class Snapshot:
    url: str
    location: str  # the URL without its password
    role: str
    writable: frozenset[str]
    path: Path
    data_version: int


def snapshot_job(req: SnapshotRequest, *, stop: Any = None, progress: Any = None) -> Snapshot:  # noqa: ARG001
    """Connect as the URL's role and pull a copy (errors: :class:`gis.errors.WorkspaceError`)."""
    with SharedWorkspace(req.url) as ws:
        role = ws.role
        version = ws.data_version()
    storage = PostgisStorage(req.url)
    req.out.parent.mkdir(parents=True, exist_ok=True)
    storage.pull(req.out)
    return Snapshot(req.url, storage.location, role, writable_tables(role), req.out, version)
