"""The 预警与预置 dialog (gui/docks/warnings_dialog.py) and its job (gui/services/warning_jobs.py)
on the demo county, with a stub window whose session records documents like Session.record."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.warnings.preposition import WarnRequest  # noqa: E402
from gis.event_log import with_log_entry  # noqa: E402
from gis.hazard_warnings import read_warnings  # noqa: E402
from gis.monitoring import Monitor, read_monitors, with_monitor  # noqa: E402
from gui.services.warning_jobs import WarningJobRequest, run_warning_job  # noqa: E402

pytestmark = pytest.mark.gui
HOSTILE = "<img src=x onerror=alert(1)>避难所"


class StubSession:
    def __init__(self, scenario: Any, network: Any) -> None:
        self.scenario, self.network, self.documents = scenario, network, {}

    def record(self, kind: str, key: str, text: str, *, log: Any = None) -> None:
        docs = {k: dict(v) for k, v in self.documents.items()}
        docs.setdefault(kind, {})[key] = text
        self.documents = with_log_entry(docs, log) if log else docs


def test_dialog_plans_issues_and_lifts(
    qapp: Any, demo_scenario: Any, demo_network: Any, tmp_path: Path
) -> None:
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QWidget

    from gui.docks.warnings_dialog import WarningsDialog
    from gui.workers import JobRunner

    shelters = tuple(replace(s, name=HOSTILE) for s in demo_scenario.shelters)
    scen = replace(demo_scenario, shelters=shelters)
    progress: list[float] = []
    result = run_warning_job(
        WarningJobRequest(scen, demo_network, WarnRequest(("HZ-005",), "red", seconds=5)),
        stop=lambda: False,
        progress=lambda f, _m: progress.append(f),
    )
    assert progress and progress == sorted(progress) and progress[-1] <= 1.0
    # the overlay: the warned area in red, one line per move, the staging points; tips escaped
    feats = result.features["features"]
    roles = [f["properties"]["role"] for f in feats]
    assert roles.count("area") == 1 and roles.count("move") == len(result.doc["moves"]) > 0
    assert feats[0]["properties"]["color"] == "#d01c1c"
    tips = " ".join(f["properties"]["tip"] for f in feats)
    assert "<img" not in tips and "&lt;img" in tips
    window = QWidget()
    window.session = StubSession(scen, None)
    window.session.documents = with_monitor(
        {}, Monitor("HZ-005", "rainfall", {"orange": 80.0}, ((result.plan.issued_at, 96.0),))
    )
    window.runner = JobRunner(window)
    dialog = WarningsDialog(window)
    assert "建议发布橙色预警" in dialog.proposals.text()
    # monitoring: a water-level gauge at HZ-002 with blue/red thresholds; a reading over red
    # records the monitor, proposes the warning, ticks the hazard and picks the colour
    dialog.m_hazard.setCurrentIndex(dialog.m_hazard.findData("HZ-002"))
    dialog.m_quantity.setCurrentIndex(dialog.m_quantity.findData("water_level"))
    dialog.m_thresholds["blue"].setValue(2.0)
    dialog.m_thresholds["red"].setValue(4.0)
    dialog.add_readings([(datetime(2026, 7, 12, 9), 4.3)])
    (m,) = [m for m in read_monitors(window.session.documents) if m.hazard_id == "HZ-002"]
    assert m.thresholds == {"blue": 2.0, "red": 4.0} and m.readings[-1][1] == 4.3
    assert "HZ-002" in dialog.checked_hazards() and dialog.colour.currentData() == "red"
    assert "建议发布红色预警" in dialog.proposals.text()
    csv_path = tmp_path / "gauge.csv"
    csv_path.write_text("时间,数值\n2026-07-12 10:00,1.5\n", encoding="utf-8")
    dialog.import_readings(str(csv_path))  # the level fell: no proposal from this gauge
    (m,) = [m for m in read_monitors(window.session.documents) if m.hazard_id == "HZ-002"]
    assert len(m.readings) == 2 and m.readings[-1][1] == 1.5
    assert "HZ-002" not in dialog.proposals.text()
    # switching gauges shows each one's stored thresholds
    dialog.m_quantity.setCurrentIndex(dialog.m_quantity.findData("rainfall"))
    assert dialog.m_thresholds["red"].value() == 0.0
    dialog.m_quantity.setCurrentIndex(dialog.m_quantity.findData("water_level"))
    assert dialog.m_thresholds["red"].value() == 4.0
    dialog.set_checked(["HZ-005"])
    dialog.run()  # no roads: a message, no job
    assert "道路网络尚未载入" in dialog.status.text() and not window.runner.busy
    dialog.show_result(result)
    assert dialog.moves.rowCount() == len(result.doc["moves"])
    assert dialog.designs.rowCount() == 1 and dialog.designs.item(0, 2).text() == "I"
    assert "帐篷" in dialog.designs.item(0, 5).text()
    assert roles.count("threatened") == len(result.doc["design_incidents"][0]["sites"]) > 0
    shown = {dialog.moves.item(i, 2).text() for i in range(dialog.moves.rowCount())}
    assert HOSTILE in shown or not any(m["to_id"].startswith("SH") for m in result.doc["moves"])
    assert "受威胁区域按时满足" in dialog.status.text()
    dialog.issue()
    (w,) = read_warnings(window.session.documents)
    assert w.colour == "red" and len(w.moves) == len(result.doc["moves"])
    assert dialog.warnings.rowCount() == 1 and dialog.warnings.item(0, 5).text() == "生效"
    dialog.warnings.selectRow(0)
    dialog.lift_selected()
    (w,) = read_warnings(window.session.documents)
    assert w.state == "已解除" and dialog.warnings.item(0, 5).text() == "已解除"
    dialog.lift_selected()  # lifting twice: a message, no second record
    assert "not in force" in dialog.status.text()
    assert dialog.checked_hazards() == ["HZ-005"]
    assert dialog.hazards.item(0).checkState() == Qt.CheckState.Unchecked
    window.deleteLater()


def test_issue_sets_standby_undoably_and_steps_the_preposition(
    qapp: Any, demo_scenario: Any, demo_network: Any, tmp_path: Path
) -> None:
    """发布预警 on a real Session: the 预置方案 filed in 草稿, a moved team rested since the plan
    was computed called back to 待命 as an undoable edit (the records survive undo); the plan
    lifecycle steps with who/reason checks; 升级 only to a higher colour, logged."""
    from PyQt6.QtWidgets import QWidget

    from dispatch.warnings.lifecycle import read_prepositions
    from gis.event_log import log_entries
    from gis.hazard_warnings import HazardWarning, with_warning
    from gis.model import TeamStatus
    from gui.docks.warnings_dialog import WarningsDialog
    from gui.session import RecoveryStore, Session
    from gui.workers import JobRunner

    result = run_warning_job(
        WarningJobRequest(demo_scenario, demo_network, WarnRequest(("HZ-005",), "orange", seconds=4)),
        stop=lambda: False,
        progress=lambda _f, _m: None,
    )  # fmt: skip
    teams = sorted(m["team_id"] for m in result.doc["moves"] if m["kind"] == "team")
    assert teams, "the demo's flood warning moves teams forward"
    rested = next(t for t in demo_scenario.teams if t.id == teams[0])
    window = QWidget()
    s = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    s.scenario = demo_scenario.upsert(replace(rested, status=TeamStatus.RESTING))
    window.session, window.runner = s, JobRunner(window)
    dialog = WarningsDialog(window)
    dialog.show_result(result)
    dialog.issue()
    (w,) = read_warnings(s.documents)
    (rec,) = read_prepositions(s.documents)
    assert (
        rec.warning_id == w.id and rec.status.value == "草稿" and list(rec.teams_standby) == teams
    )
    assert rec.pending_transfers == tuple(m for m in w.moves if m["kind"] == "stock")
    status = {t.id: t.status for t in s.scenario.teams}
    assert all(status[t] == TeamStatus.STANDBY for t in teams)
    assert s.undo_stack.count() == 1 and s.scenario.stockpiles == demo_scenario.stockpiles
    s.undo_stack.undo()
    assert {t.id: t.status for t in s.scenario.teams}[rested.id] == TeamStatus.RESTING
    assert read_warnings(s.documents) == (w,) and read_prepositions(s.documents) == (rec,)
    s.undo_stack.redo()
    assert {t.id: t.status for t in s.scenario.teams}[rested.id] == TeamStatus.STANDBY
    dialog.issue_button.setEnabled(True)
    dialog.issue()  # the same warning again: refused, its 预置方案 not reset
    assert "不能重复发布" in dialog.status.text() and read_prepositions(s.documents) == (rec,)
    # the lifecycle: who is required, no skipping, 作废 needs a reason
    dialog.warnings.selectRow(0)
    assert dialog.warnings.item(0, 6).text() == "草稿"
    dialog.step_selected("已批准")
    assert "经办人" in dialog.status.text()
    dialog.who.setText("王五")
    dialog.step_selected("已下达")
    assert "不能从「草稿」改为「已下达」" in dialog.status.text()
    dialog.step_selected("已批准")
    dialog.step_selected("已下达")
    assert dialog.warnings.item(0, 6).text() == "已下达"
    dialog.step_selected("已作废")
    assert "作废须填写原因" in dialog.status.text()
    dialog.step_note.setText("雨情减弱")
    dialog.step_selected("已作废")
    (rec,) = read_prepositions(s.documents)
    assert rec.status.value == "已作废" and rec.approvals[-1].note == "雨情减弱"
    assert rec.pending_transfers == () and dialog.warnings.item(0, 6).text() == "已作废"
    steps = [e["to"] for e in log_entries(s.documents) if e.get("preposition") == rec.number]
    assert steps == ["已批准", "已下达", "已作废"]
    # 升级: not to the same or a lower colour; a yellow warning escalated to red
    dialog.escalate_selected("orange")
    assert "higher colour" in dialog.status.text()
    y = HazardWarning("YJ-T", "yellow", w.issued_at, w.valid_until, hazard_ids=("HZ-002",))
    s.record("warnings", y.id, with_warning({}, y)["warnings"][y.id])
    dialog.refresh()
    row = [dialog.warnings.item(i, 0).text() for i in range(dialog.warnings.rowCount())]
    dialog.warnings.selectRow(row.index("YJ-T"))
    dialog.escalate_selected("red")
    states = {x.id: (x.colour, x.state) for x in read_warnings(s.documents)}
    assert states["YJ-T"] == ("yellow", "已升级") and states["YJ-T-red"] == ("red", "生效")
    assert [e["to"] for e in log_entries(s.documents) if e.get("warning") == "YJ-T-red"] == [
        "红色预警"
    ]
    assert "预置" in dialog.status.text() and dialog.warnings.rowCount() == 3
    window.deleteLater()
