"""The shared PostGIS workspace (issue 16) on a real local cluster (``make db``).

Round trip of the demo county through the database, the CLI contracts, versions and conflicts,
refusals by the database for each role, the audit trail written by triggers, and notifications.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gis.workspace import read_workspace
from tests.conftest import DEMO_WORKSPACE, ROOT
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("test_db")


def _app(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


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
