"""Tests of gis/workspace/storage.py and atomic.py: the storage interface and atomic replace."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from gis.errors import WorkspaceError
from gis.model import Scenario
from gis.workspace import GeoPackageStorage, WorkspaceStorage, read_workspace
from gis.workspace.atomic import SQLITE_FAST, fast_sqlite, replace_atomically


def test_geopackage_storage_satisfies_the_protocol(tmp_path: Path) -> None:
    storage: WorkspaceStorage = GeoPackageStorage(tmp_path / "a.gpkg")  # checked by mypy
    assert isinstance(storage, WorkspaceStorage)  # and at run time (runtime_checkable)
    assert storage.location == str(tmp_path / "a.gpkg")
    assert storage.location in storage.describe() and "GeoPackage" in storage.describe()
    assert GeoPackageStorage(str(tmp_path / "a.gpkg")) == storage


def test_geopackage_storage_round_trips_the_demo_workspace(
    tmp_path: Path, demo_workspace_path: Path
) -> None:
    demo = GeoPackageStorage(demo_workspace_path).read()
    assert demo.road_nodes is not None and demo.road_edges is not None
    docs = {"plans": {"p1": json.dumps({"名称": "方案"}, ensure_ascii=False)}}
    storage = GeoPackageStorage(tmp_path / "copy.gpkg")
    storage.write(
        demo.scenario, road_nodes=demo.road_nodes, road_edges=demo.road_edges, documents=docs
    )
    got = storage.read()
    assert got.scenario == demo.scenario
    assert got.documents == docs
    assert got.warnings == demo.warnings
    for a, b in ((got.road_nodes, demo.road_nodes), (got.road_edges, demo.road_edges)):
        assert a is not None
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), b.drop(columns="geometry")
        )
        assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all()
    light = storage.read(include_roads=False)
    assert light.road_nodes is None and light.scenario == demo.scenario
    roads = storage.read_roads()
    assert roads is not None and len(roads[1]) == len(demo.road_edges)
    # the module-level functions and the storage read the same file the same way
    assert read_workspace(storage.path).scenario == got.scenario


def test_replace_atomically_keeps_the_previous_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "t.gpkg"
    target.write_bytes(b"previous")

    def fill(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(WorkspaceError, match="cannot write workspace: disk full") as info:
        replace_atomically(target, fill, spath=str(target))
    assert info.value.path == str(target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]

    replace_atomically(target, lambda tmp: tmp.write_bytes(b"new"), spath=str(target))
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_fast_sqlite_nests_and_restores() -> None:
    def current() -> dict[str, object]:
        return {k: pyogrio.get_gdal_config_option(k) for k in SQLITE_FAST}

    before = current()
    with fast_sqlite():
        fast = current()
        assert fast != before  # pyogrio reports "OFF" as False
        with fast_sqlite():
            assert current() == fast
        assert current() == fast  # the inner exit does not undo the outer save's setting
    assert current() == before


def test_storage_write_errors_are_workspace_errors(tmp_path: Path) -> None:
    storage = GeoPackageStorage(tmp_path / "no" / "dir.gpkg")
    with pytest.raises(WorkspaceError, match="does not exist"):
        storage.write(Scenario(name="x"))
    with pytest.raises(WorkspaceError, match="not found"):
        storage.read()
