"""The 选址 dialog (gui/docks/sites_dialog.py), its job and map payload
(gui/services/sites_jobs.py) on the demo county: tables, escaped names, and 应用 adding the
new sites as 规划 stockpiles through the session in one undoable step."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.planning.sites import PLANNED_MARK, SitesRequest  # noqa: E402
from gui.services.sites_jobs import SitesJobRequest, run_sites_job  # noqa: E402

pytestmark = pytest.mark.gui
HOSTILE = '<img src=x onerror="alert(1)">镇'


class StubMap:
    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def set_coverage(self, payload: Any) -> None:
        self.payloads.append(payload)


@pytest.fixture(scope="module")
def scenario(demo_scenario: Any) -> Any:
    # every township seat carries a hostile name (the candidates' names come from data)
    towns = tuple(replace(t, name=f"{HOSTILE}{t.code}") for t in demo_scenario.townships)
    return replace(demo_scenario, townships=towns)


@pytest.fixture(scope="module")
def job_result(scenario: Any, demo_network: Any) -> Any:
    request = SitesRequest("pmedian", k=2, keep_existing=True, seconds=20)
    job = SitesJobRequest(scenario, demo_network, request)
    return run_sites_job(job, stop=lambda: False, progress=lambda *_: None)


def test_payload_marks_new_and_kept_sites_and_escapes(job_result: Any) -> None:
    feats = job_result.features["features"]
    roles = [f["properties"]["role"] for f in feats]
    assert roles.count("site_new") == 2 and roles.count("site_kept") == 10
    assert "site_dropped" not in roles  # keep-existing drops nothing
    new = [f for f in feats if f["properties"]["role"] == "site_new"]
    for f in new:
        tip = f["properties"]["tip"]
        assert "<img" not in tip and "&lt;img" in tip
        assert f["properties"]["shape"] == "diamond"
        assert f["properties"]["radius"] > max(
            g["properties"]["radius"] for g in feats if g["properties"]["role"] != "site_new"
        )


def test_dialog_tables_map_and_undoable_apply(
    qapp: Any, tmp_path: Path, scenario: Any, demo_network: Any, job_result: Any
) -> None:
    from PyQt6.QtWidgets import QWidget

    from gui.docks.sites_dialog import SitesDialog
    from gui.session import RecoveryStore, Session
    from gui.workers import JobRunner

    window = QWidget()  # what the dialog uses of the main window: session, runner, map
    session = Session(window, recovery=RecoveryStore(tmp_path / "recovery"))
    session.scenario = scenario
    window.session = session
    window.runner = JobRunner(window)
    window.map = StubMap()
    dialog = SitesDialog(window)
    dialog.run()  # no road network yet: a message, no job
    assert "道路网络" in dialog.status.text() and not window.runner.busy
    session.network = demo_network
    dialog.show_result(job_result)
    r = job_result.result
    # before/after: mean, max, one row per threshold, facility count
    assert dialog.compare.rowCount() == 2 + len(r.thresholds) + 1
    assert dialog.compare.item(0, 1).text() == f"{r.before.mean_minutes:.1f}"
    assert dialog.compare.item(0, 2).text() == f"{r.after.mean_minutes:.1f}"
    assert float(dialog.compare.item(0, 2).text()) <= float(dialog.compare.item(0, 1).text())
    assert dialog.sites.rowCount() == 12
    names = {dialog.sites.item(i, 0).text() for i in range(12)}
    assert any(n.startswith(HOSTILE) for n in names)  # plain text, shown as typed
    assert dialog.sites.item(0, 1).text() == "建议新建"  # the new sites first
    assert window.map.payloads[-1] is job_result.features
    assert dialog.apply_button.isEnabled()

    before_ids = {s.id for s in session.scenario.stockpiles}
    dialog.apply()
    added = [s for s in session.scenario.stockpiles if s.id not in before_ids]
    assert len(added) == 2 and all(s.name.endswith(PLANNED_MARK) for s in added)
    assert {(s.location.lon, s.location.lat) for s in added} == {
        (c.lon, c.lat) for c in r.new_sites
    }
    assert all(s.township_code for s in added) and len({s.id for s in added}) == 2
    assert not dialog.apply_button.isEnabled()
    session.undo_stack.undo()  # Ctrl+Z: one step takes both away
    assert {s.id for s in session.scenario.stockpiles} == before_ids
    session.undo_stack.redo()
    assert len(session.scenario.stockpiles) == len(before_ids) + 2
    dialog.clear_button.click()
    assert window.map.payloads[-1] is None
    session.undo_stack.clear()  # the commands hold the session: drop them while it lives
    dialog.close()
    window.deleteLater()
