"""The coverage dialog (gui/docks/coverage_dialog.py), its job (gui/services/coverage_jobs.py)
and map payload (gui/coverage_layers.py) on the demo county, with a stub window."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.planning.coverage import CoverageRequest  # noqa: E402
from gis.model import DemandPoint  # noqa: E402
from gui.coverage_layers import coverage_features  # noqa: E402
from gui.services.coverage_jobs import CoverageJobRequest, run_coverage_job  # noqa: E402

pytestmark = pytest.mark.gui
HOSTILE = '<img src=x onerror="alert(1)">村'


class StubMap:
    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def set_coverage(self, payload: Any) -> None:
        self.payloads.append(payload)


@pytest.fixture(scope="module")
def job_result(demo_scenario: Any, demo_network: Any) -> Any:
    # a hostile name far from every fire station's reach once the bridge is out
    north = demo_scenario.metadata["single_bridge_townships"].split(",")[0]
    seat = next(t for t in demo_scenario.townships if t.code == north)
    scen = demo_scenario.upsert(
        DemandPoint("DP-X", HOSTILE, "学校", seat.location, 100_000, 2.0, north)
    )
    job = CoverageJobRequest(
        scen,
        demo_network,
        CoverageRequest(facilities="teams", force_type="综合性消防救援"),
        bridge="合江长江大桥",
    )
    return run_coverage_job(job, stop=lambda: False, progress=lambda *_: None)


def test_payload_escapes_names_and_marks_new_blind_spots(job_result: Any) -> None:
    feats = job_result.features["features"]
    areas = [f for f in feats if f["properties"]["role"] == "area"]
    assert [f["properties"]["minutes"] for f in areas] == [90, 60, 30, 15]  # largest first
    new = [f for f in feats if f["properties"]["role"] == "new_blind"]
    hostile = next(f for f in new if f["properties"]["id"] == "DP-X")
    assert "<img" not in hostile["properties"]["tip"] and "&lt;img" in hostile["properties"]["tip"]
    assert job_result.what_if.newly_blind[0].id == "DP-X"  # the most people first
    # without a what-if nothing is "new"
    plain = coverage_features(job_result.baseline)
    assert not any(f["properties"]["role"] == "new_blind" for f in plain["features"])


def test_dialog_shows_tables_chart_and_map(
    qapp: Any, demo_scenario: Any, demo_network: Any, job_result: Any
) -> None:
    from PyQt6.QtWidgets import QWidget

    from gui.docks.coverage_dialog import CoverageDialog
    from gui.workers import JobRunner

    window = QWidget()  # what the dialog uses of the main window: session, runner, map
    window.session = SimpleNamespace(scenario=demo_scenario, network=demo_network)
    window.runner = JobRunner(window)
    window.map = StubMap()
    dialog = CoverageDialog(window)
    # the bridge list comes from the network; the facility list follows the chosen set
    bridges = [dialog.bridge.itemText(i) for i in range(dialog.bridge.count())]
    assert any(b.startswith("合江长江大桥") for b in bridges)
    dialog.facilities.setCurrentIndex(dialog.facilities.findData("teams"))
    assert dialog.removed.count() == 1 + len(demo_scenario.teams)
    dialog.minutes.setText("15,0")
    dialog.run()  # bad minutes: a message, no job
    assert "positive" in dialog.status.text() and not window.runner.busy
    dialog.minutes.setText("")
    dialog.show_result(job_result)
    assert dialog.summary.rowCount() == 4
    assert dialog.summary.item(3, 3).text().endswith("%")
    first = dialog.blind.item(0, 0).text()
    assert first == HOSTILE  # plain text in the table, shown as typed
    assert dialog.blind.item(0, 5).text() == "新增盲区"
    assert "新增盲区" in dialog.status.text()
    assert window.map.payloads[-1] is job_result.features
    assert len(dialog.chart.curves) == 2
    dialog.chart.resize(400, 240)
    dialog.chart.grab()  # paints without error
    dialog.clear_button.click()
    assert window.map.payloads[-1] is None
    window.deleteLater()


def test_open_for_keeps_one_dialog_per_class(
    qapp: Any, demo_scenario: Any, demo_network: Any
) -> None:
    """The planning menu's open-or-raise: one dialog of each class per window, refreshed,
    shown again after it was closed."""
    from PyQt6.QtWidgets import QWidget

    from gui.docks.coverage_dialog import CoverageDialog
    from gui.docks.job_dialog import JobDialog
    from gui.workers import JobRunner

    class Counting(JobDialog):
        def __init__(self, window: Any) -> None:
            super().__init__(window)
            self.refreshed = 0

        def refresh(self) -> None:
            self.refreshed += 1

    window = QWidget()
    window.session = SimpleNamespace(scenario=demo_scenario, network=demo_network)
    window.runner = JobRunner(window)
    window.map = StubMap()
    first = CoverageDialog.open_for(window)
    assert isinstance(first, CoverageDialog) and first.isVisible()
    first.close()
    assert not first.isVisible()
    assert CoverageDialog.open_for(window) is first and first.isVisible()
    other = Counting.open_for(window)
    assert other is not first and Counting.open_for(window) is other
    assert other.refreshed == 2  # every open re-reads what it shows
    other.close()
    first.close()
    window.deleteLater()
