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
