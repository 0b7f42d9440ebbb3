"""The controllers without a window: the workspace state machine (open → adopt → road network →
closed roads, stale results dropped) and the editing commands, on the real demo workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from gis.model import Incident, IncidentStatus  # noqa: E402
from gis.workspace_service import WorkspaceRef  # noqa: E402
from gui.controllers.editing import EditController  # noqa: E402
from gui.controllers.workspace import WorkspaceController, stage_text  # noqa: E402
from gui.services.workspace_jobs import STAGES, OpenResult  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 120_000


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def parts(qapp, env: Path):
    session = Session(recovery=RecoveryStore(env / "recovery"))
    runner = JobRunner()
    drawn = {"ready": False}
    ctl = WorkspaceController(session, runner, map_ready=lambda: drawn["ready"])
    yield session, runner, ctl, drawn
    runner.cancel_all()
    runner.wait(60_000)
    qapp.processEvents()
    _dispose(qapp, session, ctl, runner)


def _dispose(qapp, session: Session, *others) -> None:
    """Drop the undo history (its commands refer to the session) and delete while Qt is alive."""
    session.undo_stack.clear()
    for obj in (session, *others):
        obj.deleteLater()
    qapp.processEvents()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


def test_stage_words_cover_every_stage(qapp) -> None:
    assert all(stage_text(k) for k in STAGES) and stage_text("其他") == "其他"


def test_open_adopt_network_closures(qtbot, parts, env: Path, demo_workspace_path: Path) -> None:
    session, runner, ctl, drawn = parts
    path = _copy(demo_workspace_path, env / "demo.gpkg")
    pages: list[Path] = []
    ctl.sig_show_page.connect(pages.append)
    with qtbot.waitSignal(ctl.sig_adopted, timeout=TIMEOUT_MS) as adopted:
        ctl.open(path)
    result = adopted.args[0]
    assert isinstance(result, OpenResult) and result.ref == WorkspaceRef(path=path)
    assert session.ref == result.ref and session.path == path and not session.dirty
    assert session.scenario.stockpiles and pages == [result.page_path]
    # the network waits for the map to draw
    assert ctl.network_pending and session.network is None
    drawn["ready"] = True
    with qtbot.waitSignal(ctl.sig_network_loaded, timeout=TIMEOUT_MS):
        ctl.map_drawn()
    assert session.network is not None and ctl.closed_roads["features"] == []
    # a closure drawn across a road edge → the closed edges are computed in the background
    net = session.network
    geom = net.edge_geometry[len(net.edge_geometry) // 2]
    mid = geom.interpolate(0.5, normalized=True)
    line = {
        "type": "LineString",
        "coordinates": [[mid.x - 0.002, mid.y - 0.002], [mid.x + 0.002, mid.y + 0.002]],
    }
    editing = EditController(session)
    closure = editing.closure_from_geojson(json.dumps(line), "塌方")
    assert closure is not None and editing.last_closure_id == closure.id
    with qtbot.waitSignal(ctl.sig_closed_roads, timeout=TIMEOUT_MS) as sig:
        editing.add_closure(closure)
        ctl.update_closed_roads()
    fc = sig.args[0]
    assert fc is ctl.closed_roads and len(fc["features"]) >= 1
    assert len(fc["features"]) == len(net.closed_edges([closure])[closure.id])


def test_cached_page_defers_the_road_frames(
    qtbot, parts, env: Path, demo_workspace_path: Path
) -> None:
    session, runner, ctl, drawn = parts
    path = _copy(demo_workspace_path, env / "demo.gpkg")
    with qtbot.waitSignal(ctl.sig_adopted, timeout=TIMEOUT_MS):
        ctl.open(path)
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    pages: list[Path] = []
    ctl.sig_show_page.connect(pages.append)
    drawn["ready"] = True  # the cached page draws before the data arrive
    with qtbot.waitSignal(ctl.sig_adopted, timeout=TIMEOUT_MS) as adopted:
        ctl.open(path)
    result = adopted.args[0]
    assert result.from_cache and result.roads_deferred and len(pages) == 1  # shown at once
    assert session.ref == WorkspaceRef(path=path, roads_source=path)
    assert session.road_edges is None
    # started at adopt (the map was ready): the frames arrive with the network
    qtbot.waitUntil(lambda: session.network is not None, timeout=TIMEOUT_MS)
    assert session.roads_source is None and session.road_edges is not None


def test_second_open_drops_the_first(qtbot, parts, env: Path, demo_workspace_path: Path) -> None:
    session, runner, ctl, drawn = parts
    first = _copy(demo_workspace_path, env / "first.gpkg")
    second = _copy(demo_workspace_path, env / "second.gpkg")
    adopted: list[OpenResult] = []
    ctl.sig_adopted.connect(adopted.append)
    ctl.open(first)
    ctl.open(second)  # while the first still runs
    qtbot.waitUntil(lambda: bool(adopted) and not runner.busy, timeout=TIMEOUT_MS)
    assert [r.ref.path for r in adopted] == [second] and session.path == second


def test_failed_open_and_recovery_ref(qtbot, parts, env: Path, demo_workspace_path: Path) -> None:
    session, runner, ctl, drawn = parts
    bad = env / "bad.gpkg"
    bad.write_text("not a geopackage", encoding="utf-8")
    with qtbot.waitSignal(ctl.sig_open_failed, timeout=TIMEOUT_MS) as failed:
        ctl.open(bad)
    assert failed.args[0] == bad and ctl.load_error and session.path is None
    # a recovery copy opens as the original file, dirty, remembering where it came from
    rec = _copy(demo_workspace_path, env / "recovery.gpkg")
    original = env / "original.gpkg"
    with qtbot.waitSignal(ctl.sig_adopted, timeout=TIMEOUT_MS):
        ctl.open(rec, recovered_from=rec, source=original)
    assert ctl.load_error is None
    assert session.ref == WorkspaceRef(path=original, recovered_from=rec) and session.dirty


def test_save_and_new_workspace(qtbot, parts, env: Path, demo_workspace_path: Path) -> None:
    session, runner, ctl, drawn = parts
    path = _copy(demo_workspace_path, env / "demo.gpkg")
    with qtbot.waitSignal(ctl.sig_adopted, timeout=TIMEOUT_MS):
        ctl.open(path)
    editing = EditController(session)
    sp = session.scenario.stockpiles[0]
    assert editing.move(sp.id, sp.location.lon + 0.01, sp.location.lat) and session.dirty
    out = env / "saved.gpkg"
    with qtbot.waitSignal(ctl.sig_saved, timeout=TIMEOUT_MS) as saved:
        ctl.save_to(out)
    assert saved.args[0] == out and session.path == out and not session.dirty
    from gis.catalogue import load_materials
    from gis.model import Scenario

    ctl.new_workspace(Scenario(name="新", materials=load_materials()))
    assert session.ref == WorkspaceRef() and session.scenario.name == "新"


def test_editing_commands(qapp, demo_workspace_path: Path) -> None:
    from gis.workspace import read_workspace

    session = Session()
    session.load(read_workspace(demo_workspace_path, include_roads=False), demo_workspace_path)
    editing = EditController(session)
    errors: list[tuple] = []
    editing.sig_error.connect(lambda *a: errors.append(a))
    inc = editing.new_entity("incidents", 105.85, 28.8)
    assert isinstance(inc, Incident) and editing.kind_of(inc.id) is None  # not added yet
    editing.add("incidents", inc)
    assert session.scenario.find(inc.id) and session.selected == inc.id
    assert session.event_log()[-1]["incident_id"] == inc.id
    assert editing.advance_incident(inc.id)
    assert session.scenario.find(inc.id).status != IncidentStatus(inc.status)
    assert not editing.change_incident_status(inc.id, "no such status") and errors
    assert editing.delete(inc.id) and editing.kind_of(inc.id) is None
    assert not editing.delete(inc.id)
    assert editing.closure_from_geojson("{not json") is None and len(errors) == 2
    _dispose(qapp, session, editing)
