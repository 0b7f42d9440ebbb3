"""The shared PostGIS workspace (issue 16) on a real local cluster (``make db``).

Round trip of the demo county through the database, the CLI contracts, versions and conflicts,
refusals by the database for each role, the audit trail written by triggers, and notifications.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest

from gis.workspace import read_workspace
from tests.conftest import DEMO_WORKSPACE
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("test_db")


def _app(*args: str) -> subprocess.CompletedProcess[str]:
    """``python app.py ARGS`` in this process (the same ``main``; no interpreter start-up)."""
    import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = app.main(list(args))
    return subprocess.CompletedProcess(list(args), rc, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def pushed(test_db: SharedDb) -> SharedDb:  # noqa: F811
    r = _app("db-push", str(DEMO_WORKSPACE), test_db.admin)
    assert r.returncode == 0, r.stderr
    assert "rd_admin@" in r.stdout and "stockpiles 10" in r.stdout
    assert ":" + test_db.admin.split(":")[2].split("@")[0] + "@" not in r.stdout  # no password
    return test_db


def test_round_trip_gpkg_db_gpkg_is_equal(pushed: SharedDb, tmp_path: Path) -> None:
    out = tmp_path / "copy.gpkg"
    r = _app("db-pull", pushed.viewer, str(out))
    assert r.returncode == 0, r.stderr
    a = read_workspace(DEMO_WORKSPACE, include_roads=True)
    b = read_workspace(out, include_roads=True)
    assert b.scenario == a.scenario
    assert b.documents == a.documents
    assert b.road_nodes.equals(a.road_nodes) and b.road_edges.equals(a.road_edges)
    assert b.warnings == a.warnings


def test_info_url_is_the_file_json(pushed: SharedDb) -> None:
    f = _app("info", str(DEMO_WORKSPACE))
    d = _app("info", pushed.viewer)
    assert f.returncode == 0 and d.returncode == 0, d.stderr
    jf, jd = json.loads(f.stdout), json.loads(d.stdout)
    assert jd.pop("file").startswith("postgresql://rd_viewer@127.0.0.1")
    jf.pop("file")
    assert jd == jf


def test_bad_url_and_push_by_viewer_are_one_line_errors(pushed: SharedDb, tmp_path: Path) -> None:
    r = _app("db-push", str(DEMO_WORKSPACE), pushed.viewer)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "permission denied" in r.stderr
    bad = pushed.viewer.rsplit(":", 1)[0] + ":1/reliefdesk_test"
    r = _app("info", bad)
    assert r.returncode == 2 and "无法连接共享数据库" in r.stderr and "Traceback" not in r.stderr
    r = _app("db-pull", "notaurl", str(tmp_path / "x.gpkg"))
    assert r.returncode == 2 and "not a database URL" in r.stderr


def test_schema_is_the_geopackage_layout_and_migrations_are_versioned(pushed: SharedDb) -> None:
    import psycopg

    from gis.workspace import GeoPackageStorage, open_storage
    from gis.workspace.postgis import PostgisStorage
    from gis.workspace.postgis_ddl import LATEST, migrate, schema_version
    from gis.workspace.schema import ROAD_LAYERS, TABLES

    with psycopg.connect(pushed.admin, autocommit=True) as conn:
        assert migrate(conn) == []  # already applied: nothing runs twice
        assert schema_version(conn) == LATEST
        (applied,) = conn.execute(
            "SELECT array_agg(number ORDER BY number) FROM schema_migrations"
        ).fetchone()
        assert applied == list(range(1, LATEST + 1))
        names = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE'"
            )
        }
        for table in TABLES:
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    (table.layer,),
                )
            ]
            assert cols[1 : 1 + len(table.columns)] == [c.name for c in table.columns]
    expected = {t.layer for t in TABLES} | {s.layer for s in ROAD_LAYERS}
    assert expected <= names
    assert names - expected == {"audit_log", "schema_migrations", "spatial_ref_sys"}
    assert isinstance(open_storage(pushed.viewer), PostgisStorage)
    assert isinstance(open_storage(str(DEMO_WORKSPACE)), GeoPackageStorage)
    assert open_storage(pushed.viewer).describe().startswith("PostGIS postgresql://rd_viewer@")


def test_info_on_a_database_nobody_pushed_to_says_so(test_db: SharedDb) -> None:  # noqa: F811
    """A migrated but empty database: one line telling to push first, not a schema error."""
    import psycopg

    from gis.workspace.postgis_ddl import migrate

    name = f"{test_db.admin.rsplit('/', 1)[1]}_empty"
    server = test_db.admin.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template1")
    try:
        url = test_db.admin.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        viewer = test_db.viewer.rsplit("/", 1)[0] + "/" + name
        r = _app("info", viewer)
        assert r.returncode == 2
        assert "holds no workspace yet" in r.stderr and "db-push" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
