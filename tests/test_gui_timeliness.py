"""The dispatch dock shows on time / late / unmet: the 未满足或迟到 tab lists the demo plan's late
need lines with their minutes, the team table marks late teams, the summary line has the
on-time shares, and the deadline mode chosen in the dock reaches the run's DispatchOptions."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.plan import Plan  # noqa: E402
from dispatch.records import TeamDispatch  # noqa: E402
from dispatch.timeliness import NeedState, need_lines, plan_timeliness  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui.docks.dispatch_panel import DEADLINE_CHOICES, DispatchPanel  # noqa: E402
from gui.docks.plan_tables import LATE_FG  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402


@pytest.fixture(scope="module")
def panel(qapp, tmp_path_factory, demo_workspace_path):
    d = tmp_path_factory.mktemp("timeliness")
    session = Session(recovery=RecoveryStore(d / "recovery"))
    session.load(read_workspace(demo_workspace_path), demo_workspace_path)
    runner = JobRunner()
    p = DispatchPanel(session, runner)
    yield p
    p.close()
    p.deleteLater()
    runner.deleteLater()
    session.undo_stack.clear()
    session.deleteLater()
    qapp.processEvents()
    gc.collect()


def _rows(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_late_lines_of_the_demo_plan_are_listed(panel: DispatchPanel, demo_plan: Plan) -> None:
    panel.set_plan(demo_plan)
    late = [ln for ln in need_lines(demo_plan) if ln.state is NeedState.LATE]
    assert late, "the demo plan (soft deadlines) has deliveries after the deadline"
    t = panel.unserved_table
    assert "未满足或迟到" in panel.tabs.tabText(4) and f"({t.rowCount()})" in panel.tabs.tabText(4)
    late_rows = t.rows_of_kind("late")
    assert len(late_rows) == len(late)
    rows = _rows(t)
    for r, ln in zip(late_rows, late):
        state, site, item, qty, minutes, reason, note = rows[r]
        assert (state, site, item) == ("迟到", ln.site_name, ln.label)
        assert reason == "迟到" and note == ln.reason and "时限" in note
        assert int(minutes) == max(1, round(ln.late_by_s / 60)) and ln.late_by_s > 0
        assert qty.startswith(f"{ln.late:g} ")
    # the one worst lateness of the plan is the one the summary line names
    tl = plan_timeliness(demo_plan)
    assert max(int(rows[r][4]) for r in late_rows) == max(1, round(tl.worst_late_s / 60))
    summary = panel.summary.text()
    assert "软时限" in summary  # the mode the plan was made with (the fixture's default: soft)
    assert f"按时 {100 * tl.on_time_fraction:.0f}%" in summary
    assert f"迟到 {tl.late_lines} 项" in summary
    if demo_plan.safety_releases:
        assert f"动用安全库存 {len(demo_plan.safety_releases)} 项" in summary
    # the overview has on-time shares next to served shares (its incident table)
    t = panel.overview_table
    headers = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert headers.index("按时送达") == headers.index("物资满足") + 1


def test_late_team_is_marked_with_its_minutes(panel: DispatchPanel, demo_plan: Plan) -> None:
    """A hand-made late arrival: the first team arrives 50 minutes after its deadline."""
    a = demo_plan.assignment[0]
    deadline = next(o.deadline_s for o in demo_plan.incidents if o.incident_id == a.incident_id)
    late: TeamDispatch = replace(a, eta_s=deadline + 50 * 60)
    plan = replace(demo_plan, assignment=(late, *demo_plan.assignment[1:]))
    panel.set_plan(plan)
    tt = panel.team_table
    row = next(r for r in range(tt.rowCount()) if tt.row_key(r) == f"{a.team_id}|{a.incident_id}")
    assert tt.item(row, 5).text().endswith("迟到 50 分钟")
    assert tt.item(row, 0).foreground().color() == LATE_FG
    on_time = [
        r for r in tt.rows_of_kind("line") if r != row and "迟到" not in tt.item(r, 5).text()
    ]
    assert on_time and all(tt.item(r, 0).foreground().color() != LATE_FG for r in on_time)
    panel.set_plan(demo_plan)


def test_all_on_time_plan_has_an_empty_late_tab(panel: DispatchPanel, demo_plan: Plan) -> None:
    """The same plan with every deadline pushed out of reach: nothing is late any more."""
    far = tuple(
        replace(o, deadline_s=1e7, late={}, late_teams=(), late_by_s=0.0, evacuated_late=0)
        for o in demo_plan.incidents
    )
    plan = replace(demo_plan, incidents=far, assignment=demo_plan.assignment)
    panel.set_plan(plan)
    assert panel.unserved_table.rows_of_kind("late") == []
    assert panel.unserved_table.rowCount() == len(
        [ln for ln in need_lines(plan) if ln.state is NeedState.UNMET]
    )
    panel.set_plan(demo_plan)


def test_deadline_mode_reaches_the_dispatch_options(panel: DispatchPanel) -> None:
    mode = panel.deadline_mode
    assert [mode.itemData(i) for i in range(mode.count())] == [False, True]
    assert mode.currentIndex() == 0  # soft by default, as DispatchOptions
    soft = panel.options(seconds=1)
    assert soft.hard_deadlines is False and soft.late_allowed
    assert "迟到" in panel.deadline_tradeoff.text()
    mode.setCurrentIndex(1)
    try:
        assert panel.deadline_tradeoff.text() == DEADLINE_CHOICES[1][2]
        hard = panel.options(seconds=1)
        assert hard.hard_deadlines is True and not hard.late_allowed
        # what the controller sends to the solver (child process or thread)
        request = panel.controller.request(hard)
        assert request.options.hard_deadlines is True
        assert request.for_child().options.hard_deadlines is True
    finally:
        mode.setCurrentIndex(0)


def test_map_stops_after_the_deadline_say_late(demo_plan: Plan) -> None:
    from dispatch.timeliness import arrival_late_s, incident_deadlines
    from gui.plan_layers import route_features

    deadlines = incident_deadlines(demo_plan)
    arrivals = {
        (r.vehicle_id, s.site_id, round(s.arrival_s))
        for r in demo_plan.routes
        for t in r.trips
        for s in t.stops
        if arrival_late_s(deadlines.get(s.site_id), s.arrival_s) > 0
    }
    assert arrivals
    stops = [
        f["properties"]
        for f in route_features(demo_plan)["features"]
        if f["properties"]["role"] == "stop"
    ]
    late = [p for p in stops if "迟到" in p["tip"]]
    assert len(late) == len(arrivals)
    assert all("时限" in p["tip"] and "迟到" in p["popup"] for p in late)


def test_unloaded_need_shows_the_missing_visit_reason(
    panel: DispatchPanel, demo_plan: Plan
) -> None:
    from tests.test_exports_timeliness import _not_loaded

    plan, site, code = _not_loaded(demo_plan)
    panel.set_plan(plan)
    rows = _rows(panel.unserved_table)
    assert [(r[0], r[2], r[5]) for r in rows] == [
        ("未满足", plan.material_label(code), "超出时限"),
        ("未满足", "配送车次", "超出时限"),
    ]
    assert all(r[1] == plan.place_name(site) for r in rows)
    assert panel.unserved_table.rows_of_kind("unserved") == [0, 1]
    panel.set_plan(demo_plan)
