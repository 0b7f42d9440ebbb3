"""The dispatch panel (调度方案 dock) on the bundled demo county (pytest-qt, offscreen).

A real :class:`gui.session.Session` holds the demo workspace and its road network; the panel
runs the real pipeline in :class:`gui.workers.JobRunner` with a short time limit. The module
shares one panel; tests run in file order (run → pin/forbid re-solve → cancel → approve/export).
"""

from __future__ import annotations

import gc
import json
import shutil
from dataclasses import replace

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from dispatch.plan import PLANS_DOCUMENT_KIND, Plan  # noqa: E402
from dispatch.records import PlanStatus  # noqa: E402
from dispatch.results import Reason, Status  # noqa: E402
from dispatch.timeliness import NeedState, need_lines  # noqa: E402
from gis.loading import load_road_network  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui.docks.dispatch_panel import DispatchPanel  # noqa: E402
from gui.plan_layers import arrowheads, route_features  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402

pytestmark = pytest.mark.gui
RUN_TIMEOUT_MS = 60000
SECONDS = 3


@pytest.fixture(scope="module")
def session(qapp, tmp_path_factory, demo_workspace_path):
    d = tmp_path_factory.mktemp("dispatch")
    ws_path = d / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws_path)
    s = Session(recovery=RecoveryStore(d / "recovery"))
    ws = read_workspace(ws_path, include_roads=True)
    s.load(ws, ws_path)
    s.network = load_road_network(ws_path, s.scenario)
    assert s.network is not None
    # make the demo short of something so that unserved needs show up: the hazmat incident
    # asks for more light towers than the county holds and more hazmat responders than exist
    inc = s.scenario.find("INC-003")
    s.upsert(
        replace(
            inc,
            needs={**inc.needs, "LIGHTTOWER": 40},
            required_skills={**inc.required_skills, "危化品处置": 200},
        ),
        "test: shortage",
    )
    yield s
    # drop the undo history (its commands refer to the session) while Qt is alive
    s.undo_stack.clear()
    s.deleteLater()
    qapp.processEvents()


@pytest.fixture(scope="module")
def panel(qapp, session):
    runner = JobRunner()
    p = DispatchPanel(session, runner)
    p.resize(700, 800)
    p.show()
    yield p
    p.cancel()
    runner.wait(20000)
    p.close()
    p.deleteLater()
    runner.deleteLater()
    qapp.processEvents()
    gc.collect()


def run_and_wait(qtbot, panel: DispatchPanel, **kw) -> Plan:
    with qtbot.waitSignal(panel.sig_run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        job = panel.run_dispatch(**kw)
        assert job is not None
    plan, _cancelled = blocker.args
    return plan


def stored(session: Session) -> dict[str, Plan]:
    return {k: Plan.from_json(v) for k, v in session.documents.get(PLANS_DOCUMENT_KIND, {}).items()}


def test_run_fills_tables_from_the_plan(qtbot, panel, session):
    progress: list[float] = []
    panel.progress.valueChanged.connect(lambda v: progress.append(v))
    plan = run_and_wait(qtbot, panel, seconds=SECONDS)
    assert panel.plan is plan
    assert not panel.busy and panel.run_button.isEnabled()
    assert progress and max(progress) == 1000 and len(set(progress)) > 3  # stages reported
    # the run is stored in the workspace documents (one undoable step)
    assert stored(session)[plan.number] == plan
    assert session.undo_stack.undoText().startswith("生成调度方案")
    assert plan.overall in (Status.OPTIMAL, Status.FEASIBLE, Status.TIMEOUT)

    mats = {m.code for m in session.scenario.materials}
    skills = {s for i in session.scenario.incidents for s in i.required_skills}
    unserved_mat = [u for u in plan.unserved if u.what in mats]
    unserved_skill = [u for u in plan.unserved if u.what in skills and u.what not in mats]
    # the shortages made above are reported with their reasons
    assert any(u.what == "LIGHTTOWER" and u.reason == Reason.OUT_OF_STOCK for u in unserved_mat)
    assert any(u.what == "危化品处置" for u in unserved_skill)

    # allocation: one row per line, plus the material shortfalls (highlighted)
    t = panel.alloc_table
    assert len(plan.allocation) > 10
    assert t.rowCount() == len(plan.allocation) + len(unserved_mat)
    assert len(t.rows_of_kind("line")) == len(plan.allocation)
    for r in range(t.rowCount()):
        assert t.is_highlighted(r) == (t.row_kind(r) == "unserved")
    first = plan.allocation[0]
    assert t.item(0, 0).text() == plan.place_name(first.site_id)
    assert t.item(0, 3).text() == plan.place_name(first.stockpile_id)
    assert t.item(0, 4).text()  # ETA of the delivery that carries it
    red = [t.item(r, 5).text() for r in t.rows_of_kind("unserved")]
    assert any("库存不足" in x for x in red)

    # teams: one row per dispatch + skill shortfalls in red
    tt = panel.team_table
    assert len(tt.rows_of_kind("line")) == len(plan.assignment) > 5
    assert tt.rowCount() == len(plan.assignment) + len(unserved_skill)
    a0 = plan.assignment[0]
    assert tt.item(0, 1).text() == plan.place_name(a0.incident_id)
    assert tt.item(0, 3).text() == str(a0.headcount)
    assert all(tt.is_highlighted(r) for r in tt.rows_of_kind("unserved"))

    # vehicles: one row per vehicle used; the 未满足或迟到 tab lists every need line that is not
    # on time: unmet ones in red with their reasons, late ones in orange with the minutes late
    assert panel.route_table.rowCount() == plan.vehicles_used > 3
    ut = panel.unserved_table
    lines = [ln for ln in need_lines(plan) if ln.state is not NeedState.ON_TIME]
    assert ut.rowCount() >= len(lines) > 0
    unmet = ut.rows_of_kind("unserved")
    assert {ut.item(r, 0).text() for r in unmet} == {"未满足"}
    assert all(ut.is_highlighted(r) for r in unmet)
    reasons = {x for r in unmet for x in ut.item(r, 5).text().split("、") if x}
    assert reasons and reasons <= {x.value for x in Reason}
    assert len(unmet) == sum(ln.state is NeedState.UNMET for ln in lines) + (
        ut.rowCount() - len(lines)  # vehicle visits of sites without an unmet line
    )
    assert "未满足或迟到" in panel.tabs.tabText(4)
    assert str(ut.rowCount()) in panel.tabs.tabText(4)


def test_routes_payload_follows_the_roads(panel):
    plan = panel.plan
    fc = panel.routes_payload
    assert fc == route_features(plan)
    trips = [f for f in fc["features"] if f["properties"]["role"] == "trip"]
    n_trips = sum(1 for r in plan.routes for t in r.trips if t.stops)
    assert len(trips) == n_trips
    colors = {}
    for f in trips:
        assert f["geometry"]["type"] == "LineString"
        coords = f["geometry"]["coordinates"]
        assert len(coords) > 2  # along the roads, not a straight depot–site line
        # the line leaves from and returns to the depot of its vehicle
        route = next(r for r in plan.routes if r.vehicle_id == f["properties"]["vehicle"])
        depot = plan.place(route.depot_id)
        assert coords[0] == pytest.approx([depot.lon, depot.lat], abs=1e-5)
        assert coords[-1] == pytest.approx([depot.lon, depot.lat], abs=1e-5)
        colors.setdefault(f["properties"]["vehicle"], set()).add(f["properties"]["color"])
    # one colour per vehicle, distinct between vehicles (up to the palette size)
    assert all(len(c) == 1 for c in colors.values())
    assert len({next(iter(c)) for c in colors.values()}) == min(len(colors), 16)
    # direction: arrowheads point along the line; numbered stops per delivery
    arrows = [f for f in fc["features"] if f["properties"]["role"] == "arrow"]
    assert len(arrows) >= len(trips)
    stops = [f for f in fc["features"] if f["properties"]["role"] == "stop"]
    assert len(stops) == sum(len(t.stops) for r in plan.routes for t in r.trips)
    assert all("第" in f["properties"]["tip"] for f in stops)
    json.dumps(fc)  # JSON-able for RD.setLayerData


def test_routes_are_drawn_on_the_map_page(qtbot, panel, session, tmp_path):
    """The payload goes through MapView.set_layer_data into the real Leaflet page."""
    from gui.map_page import build_map_html
    from gui.map_view import MapView

    view = MapView(page_dir=tmp_path)
    view.resize(800, 600)
    view.show()
    try:
        with qtbot.waitSignal(view.sig_ready, timeout=RUN_TIMEOUT_MS):
            view.show_page(build_map_html(session.scenario, None))
        panel.map_view = view
        panel.set_plan(panel.plan)  # draws the routes layer
        box: dict = {}
        script = (
            "JSON.stringify({n: RD.counts.routes, colors: (function () {"
            " var c = {}; RD.groups.routes.eachLayer(function (l) {"
            " if (l.options && l.options.color) { c[l.options.color] = 1; } });"
            " return Object.keys(c).length; })()})"
        )
        view.evaluate(script, lambda r: box.setdefault("r", r))
        qtbot.waitUntil(lambda: "r" in box, timeout=RUN_TIMEOUT_MS)
        got = json.loads(box["r"])
        assert got["n"] == len(panel.routes_payload["features"])
        assert got["colors"] == len(
            {r.vehicle_id for r in panel.plan.routes if any(t.stops for t in r.trips)}
        )
        # numbered stops: a badge per stop, its text the payload's label, in the vehicle colour;
        # arrows: one pixel-sized triangle per arrowhead; lines: the payload's weight
        probe = (
            "JSON.stringify((function () { var s = [], a = [], w = [];"
            " RD.groups.routes.eachLayer(function (l) {"
            "  var el = l.getElement && l.getElement();"
            "  if (l._rdStop !== undefined) { var b = el.querySelector('.rd-stop');"
            "   s.push([b.textContent, getComputedStyle(b).backgroundColor,"
            "           l.getLatLng().lng, l.getLatLng().lat, b.children.length]); }"
            "  else if (l._rdArrow !== undefined) { a.push([l._rdArrow,"
            "   el.querySelector('.rd-arrow').style.color]); }"
            "  else if (l.options && l.options.weight) { w.push(l.options.weight); } });"
            " return {stops: s, arrows: a, weights: w}; })())"
        )
        view.evaluate(probe, lambda r: box.setdefault("p", r))
        qtbot.waitUntil(lambda: "p" in box, timeout=RUN_TIMEOUT_MS)
        drawn = json.loads(box["p"])
        feats = panel.routes_payload["features"]
        stops = [f for f in feats if f["properties"]["role"] == "stop"]
        arrows = [f for f in feats if f["properties"]["role"] == "arrow"]
        trips = [f for f in feats if f["properties"]["role"] == "trip"]
        assert stops and arrows and trips

        def rgb(hex_color: str) -> str:
            r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
            return f"rgb({r}, {g}, {b})"

        want = sorted(
            [
                f["properties"]["label"],
                rgb(f["properties"]["color"]),
                f["geometry"]["coordinates"][0],
                f["geometry"]["coordinates"][1],
                0,  # plain text, no child elements
            ]
            for f in stops
        )
        assert sorted(drawn["stops"]) == want
        assert len(drawn["arrows"]) == len(arrows)
        assert sorted(c for _deg, c in drawn["arrows"]) == sorted(
            rgb(f["properties"]["color"]) for f in arrows
        )
        assert sorted(drawn["weights"]) == sorted(f["properties"]["weight"] for f in trips)
    finally:
        panel.map_view = None
        view.dispose()
        view.deleteLater()


def test_arrowhead_points_the_way_the_line_runs():
    east = [(105.80, 28.80), (105.90, 28.80)]
    (heads,) = [arrowheads(east, spacing_m=20000.0)]
    assert len(heads) == 1
    left, tip, right = heads[0]
    assert tip[0] > left[0] and tip[0] > right[0]  # wings trail behind (west of) the tip
    assert left[1] != right[1]
    west = list(reversed(east))
    (l2, t2, r2) = arrowheads(west, spacing_m=20000.0)[0]
    assert t2[0] < l2[0] and t2[0] < r2[0]


def test_pin_and_forbid_then_resolve(qtbot, panel, session):
    plan = panel.plan
    by_team = {a.team_id: a.incident_id for a in plan.assignment}
    # a team on one incident, moved to another incident that needs one of its skills
    teams = {t.id: t for t in session.scenario.teams}
    incidents = [i for i in session.scenario.open_incidents() if i.required_skills]
    move = None
    for team_id, inc_id in sorted(by_team.items()):
        for other in incidents:
            if other.id != inc_id and set(teams[team_id].skills) & set(other.required_skills):
                move = (team_id, other.id, inc_id)
                break
        if move:
            break
    assert move is not None
    team_id, target, old = move
    # another assigned pair to forbid
    forbid = next((t, i) for t, i in sorted(by_team.items()) if t != team_id)

    # through the context menu of the assignment row
    row = next(
        r
        for r in panel.team_table.rows_of_kind("line")
        if panel.team_table.row_key(r) == f"{team_id}|{old}"
    )
    panel.team_table.selectRow(row)
    assert panel.selected_pair() == (team_id, old)
    menu = panel.team_menu(team_id, old)
    reassign = next(a for a in menu.actions() if a.menu() is not None).menu()
    act = next(a for a in reassign.actions() if f"（{target}）" in a.text())
    act.trigger()
    assert panel.pins == {(team_id, target)}
    panel.forbid(*forbid)
    assert panel.options().pins == ((team_id, target),)
    assert panel.options().forbids == (forbid,)
    assert "固定" in panel.constraints_label.text() and "禁止" in panel.constraints_label.text()

    new = run_and_wait(qtbot, panel, seconds=SECONDS)
    assert new.number != plan.number and len(stored(session)) == 2
    pairs = {(a.team_id, a.incident_id) for a in new.assignment}
    assert (team_id, target) in pairs
    assert (team_id, old) not in pairs
    assert forbid not in pairs
    assert new.inputs.options["pins"] == [[team_id, target]]
    # the pinned row is marked in the table
    tt = panel.team_table
    pinned = tt.rows_of_kind("pinned")
    assert [tt.row_key(r) for r in pinned] == [f"{team_id}|{target}"]
    assert tt.item(pinned[0], 5).text() == "已固定"
    panel.clear_constraints()
    assert not panel.pins and not panel.forbids


def test_cancel_returns_promptly_with_the_best_so_far(qtbot, panel, session):
    import time

    current = panel.plan
    asked: list = []
    panel.ask_partial = lambda partial, shown: asked.append((partial, shown)) or False
    with qtbot.waitSignal(panel.sig_run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.run_dispatch(seconds=120)
        assert panel.busy and panel.cancel_button.isEnabled()
        # wait until the routing stage runs, then cancel
        qtbot.waitUntil(lambda: "车辆路径" in panel.progress_label.text(), timeout=30000)
        t0 = time.perf_counter()
        panel.cancel_button.click()
    waited = time.perf_counter() - t0
    plan, cancelled = blocker.args
    assert cancelled and panel.last_cancelled
    assert waited < 5.0, f"cancel took {waited:.1f} s"
    assert plan.overall == Status.CANCELLED
    assert any(s.status == Status.CANCELLED for s in plan.stages)
    # the partial plan keeps what was decided before the cancel; it is stored and marked
    assert plan.allocation and plan.assignment
    assert plan.partial and stored(session)[plan.number] == plan
    assert "已取消" in panel.progress_label.text()
    # it did not replace the plan on the map: the operator was asked, and kept the current one
    assert asked == [(plan, current)]
    assert panel.plan is current and panel.controller.pending is None
    labels = [panel.stored.itemText(i) for i in range(panel.stored.count())]
    assert f"{plan.number}　草稿（部分方案）" in labels
    # choosing it from the list shows it
    panel.show_stored(plan.number)
    assert panel.plan == plan and "部分方案" in panel.summary.text()
    assert "部分方案" in panel.overview.toPlainText().splitlines()[0]


def test_a_failing_run_is_reported_with_the_child_traceback(qtbot, panel, session):
    """An error inside the child process reaches the message panel (text and traceback)."""
    shown = panel.plan
    messages: list = []
    session.sig_message.connect(lambda *a: messages.append(a))
    # bad data the pipeline refuses up front: a shelter sharing a stockpile's id
    sp = session.scenario.stockpiles[0]
    session.upsert(replace(session.scenario.shelters[0], id=sp.id), "test: id clash")
    try:
        with qtbot.waitSignal(panel.sig_run_failed, timeout=RUN_TIMEOUT_MS) as blocker:
            panel.run_dispatch(seconds=1)
    finally:
        session.undo_stack.undo()
    assert sp.id in blocker.args[0] and "unique" in blocker.args[0]
    level, text, details = messages[-1]
    assert level == "error" and sp.id in text
    assert "DispatchProcessError" in details
    assert panel.plan is shown and not panel.busy and panel.run_button.isEnabled()


def test_approve_records_name_and_time(panel, session):
    from datetime import datetime

    from dispatch.plan import PlanStatusError

    # the shown plan is the cancelled run's 部分方案: approving it needs the confirmation
    assert panel.plan.partial and panel.approve_button.isEnabled()
    assert panel.approve("王指挥") is None and panel.plan.status == PlanStatus.DRAFT
    with pytest.raises(PlanStatusError, match="须明确确认"):
        panel.plan.approve("王指挥", datetime.now().astimezone())
    before = datetime.now().astimezone()
    undo_steps = session.undo_stack.count()
    plan = panel.approve("王指挥", allow_partial=True)
    assert plan is not None and plan.status == PlanStatus.APPROVED
    (step,) = plan.approvals
    assert step.who == "王指挥" and step.action == "批准" and "部分方案" in step.note
    assert before <= step.when <= datetime.now().astimezone()
    assert stored(session)[plan.number].status == PlanStatus.APPROVED
    assert "王指挥" in panel.summary.text() and "已批准" in panel.summary.text()
    # approving twice is refused by the workflow (and reported, not raised)
    assert panel.approve("李四") is None
    # not an undoable edit: the undo stack did not grow, and Ctrl+Z leaves the approval
    assert session.undo_stack.count() == undo_steps
    assert session.dirty
    assert [e["to"] for e in session.event_log() if e.get("plan") == plan.number] == ["已批准"]
    session.undo_stack.undo()  # the cancelled run's storing
    session.undo_stack.undo()  # the pin/forbid run
    assert stored(session)[plan.number].status == PlanStatus.APPROVED
    assert any(e.get("plan") == plan.number for e in session.event_log())
    session.undo_stack.redo()
    session.undo_stack.redo()
    assert panel.plan.number == plan.number and panel.plan.status == PlanStatus.APPROVED


def test_export_writes_files_and_opens_pdf(qtbot, panel, tmp_path):
    opened = []
    panel.open_url = lambda url: opened.append(url.toLocalFile()) or True
    with qtbot.waitSignal(panel.sig_exported, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.export(tmp_path / "out")
    files = blocker.args[0]
    for name in ("orders.pdf", "orders.xlsx", "plan.geojson", "plan.html", "plan.json"):
        p = files[name]
        assert p.exists() and p.stat().st_size > 0, name
    assert files["orders.pdf"].read_bytes().startswith(b"%PDF")
    assert Plan.from_json(files["plan.json"].read_text(encoding="utf-8")) == panel.plan
    assert opened == [str(files["orders.pdf"])]
    assert panel.open_pdf_button.isEnabled()


def test_export_in_english_button(qtbot, panel, tmp_path, monkeypatch):
    """导出英文指令… writes the orders in English; 导出指令… stays Chinese (the test above)."""
    from openpyxl import load_workbook

    import gui.docks.dispatch_panel as dp

    monkeypatch.setattr(dp.QFileDialog, "getExistingDirectory", lambda *_a: str(tmp_path))
    panel.open_url = lambda url: True
    assert panel.export_en_button.isEnabled()
    with qtbot.waitSignal(panel.sig_exported, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.export_en_button.click()
    files = blocker.args[0]
    assert files["orders.xlsx"].parent == tmp_path / panel.plan.number
    sheets = load_workbook(files["orders.xlsx"], read_only=True).sheetnames
    assert sheets[:3] == ["Plan summary", "Unmet or late", "Safety stock released"]
    assert files["plan.csv"].read_text(encoding="utf-8-sig").startswith("Order no.,Type")


def test_undo_of_runs_falls_back_to_the_previous_plan(panel, session):
    numbers = sorted(stored(session))
    assert len(numbers) == 3
    shown = panel.plan.number
    assert shown == numbers[-1] and panel.plan.status == PlanStatus.APPROVED
    session.undo_stack.undo()  # the cancelled run: its plan was approved, so it stays
    assert panel.plan.number == shown and panel.stored.count() == 3
    # a plan still a draft goes with the undo of its run
    panel.show_stored(numbers[-2])
    session.undo_stack.undo()  # the pin/forbid run
    assert panel.plan.number == shown and panel.stored.count() == 2
    panel.show_stored(numbers[0])  # the first, complete run (routes drawn)
    assert panel.plan.routes
    # a changed scenario marks the shown plan as stale
    assert panel.stale.isHidden()
    inc = session.scenario.find("INC-002")
    session.upsert(replace(inc, affected_people=inc.affected_people + 1), "test: edit")
    assert not panel.stale.isHidden()
    session.undo_stack.undo()
    assert panel.stale.isHidden()


def test_hostile_names_stay_text(panel):
    """Names from data reach the map only escaped, and the tables only as plain text."""
    plan = panel.plan
    evil = "<script>alert(1)</script>\"'"
    hostile = replace(plan, places=tuple(replace(p, name=evil + p.name) for p in plan.places))
    fc = route_features(hostile)
    texts = [f["properties"].get(k, "") for f in fc["features"] for k in ("tip", "popup")]
    assert texts and all("<script>" not in t for t in texts)
    assert any("&lt;script&gt;" in t for t in texts)
    shown = panel.plan
    panel.set_plan(hostile)
    try:
        cell = panel.alloc_table.item(0, 0)
        assert cell.text().startswith(evil)  # shown verbatim as text (QTableWidgetItem)
    finally:
        panel.set_plan(shown)


def test_job_loads_the_road_network_when_the_session_has_none(session):
    """A run started before the window's network job finished loads the network itself."""
    from dispatch.options import DispatchOptions
    from dispatch.service import DispatchRequest
    from gui.services.dispatch_jobs import RunRequest, run_job

    msgs: list[str] = []
    request = DispatchRequest(
        scenario=session.scenario,
        options=DispatchOptions(seconds=1, evacuate=False),
        workspace=session.ref,
        has_roads=True,
        network=None,
    )
    out = run_job(
        RunRequest(request, in_child=False),
        stop=lambda: False,
        progress=lambda f, m: msgs.append(m),
    )
    plan = out.plan
    assert out.outcome.network is not None
    assert plan.inputs.road_network.endswith(session.network.content_hash)
    assert msgs[0] == "加载道路网络…"
    assert Plan.from_json(out.outcome.plan_json) == plan
    assert out.routes == route_features(plan)
    assert plan.matches(session.scenario) and out.outcome.scenario_hash == plan.inputs.scenario_hash


def test_install_in_the_main_window(qtbot, qapp, demo_copy, app_dirs):
    """The one-line wiring: dock, View menu, toolbar action, routes drawn on the window's map."""
    from PyQt6.QtWidgets import QDockWidget

    from gui.main_window import MainWindow

    ws = demo_copy
    w = MainWindow(interactive=False)
    try:
        panel = w.install_dispatch_panel()
        assert w.dispatch_panel is panel and panel.map_view is w.map
        # the window installs it already: a second call adds no second dock or F5 action
        assert w.install_dispatch_panel() is panel
        docks = [d for d in w.findChildren(QDockWidget) if type(d).__name__ == "DispatchPanel"]
        assert docks == [panel]
        assert sum(1 for a in w.toolbar.actions() if a is panel.run_action) == 1
        assert panel in w.findChildren(QDockWidget)
        assert w.dockWidgetArea(panel) == Qt.DockWidgetArea.RightDockWidgetArea
        assert panel.toggleViewAction() in w.view_menu.actions()
        assert panel.run_action in w.toolbar.actions()
        w.show()
        w.open_workspace(ws)
        qtbot.waitUntil(lambda: w.map.ready and w.session.network is not None, timeout=60000)
        qtbot.waitUntil(
            lambda: panel.controller.preload_started and not w.runner.busy, timeout=60000
        )
        panel.seconds.setValue(1)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=RUN_TIMEOUT_MS):
            panel.run_action.trigger()
        box: dict = {}
        w.map.evaluate("RD.counts.routes", lambda r: box.setdefault("n", r))
        qtbot.waitUntil(lambda: "n" in box, timeout=RUN_TIMEOUT_MS)
        assert box["n"] == len(panel.routes_payload["features"]) > 0
        assert w.session.dirty  # the plan is stored in the workspace documents
    finally:
        close_window(w)


def test_opening_another_workspace_discards_a_running_solve(qtbot, panel, session):
    finished: list = []
    panel.sig_run_finished.connect(lambda *a: finished.append(a))
    job = panel.run_dispatch(seconds=60)
    assert job is not None
    ws = read_workspace(session.path, include_roads=True)
    session.load(ws, session.path)  # another workspace (here: the file as saved, no plans)
    assert job.cancelled  # the run is told to stop at once
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    assert not finished and panel.plan is None
    assert PLANS_DOCUMENT_KIND not in session.documents
    assert "丢弃" in panel.progress_label.text()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
