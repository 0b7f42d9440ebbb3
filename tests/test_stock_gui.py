"""The 储备测算 dialog (gui/docks/stock_dialog.py) and its job (gui/services/stock_jobs.py) on
the demo county, with a stub window."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from openpyxl import load_workbook  # noqa: E402

from dispatch.planning.stock import StockRequest  # noqa: E402
from gui.services.stock_jobs import StockJobRequest, run_stock_job  # noqa: E402

pytestmark = pytest.mark.gui
HOSTILE = '<b>=HYPERLINK("x")</b>库'


def test_dialog_shows_gaps_designs_and_exports(
    qapp: Any, demo_scenario: Any, demo_network: Any, tmp_path: Path
) -> None:
    from PyQt6.QtWidgets import QWidget

    from gui.docks.stock_dialog import StockDialog
    from gui.workers import JobRunner

    sp = (replace(demo_scenario.stockpiles[0], name=HOSTILE), *demo_scenario.stockpiles[1:])
    scen = replace(demo_scenario, stockpiles=sp)
    progress: list[float] = []
    result = run_stock_job(
        StockJobRequest(scen, demo_network, StockRequest()),
        stop=lambda: False,
        progress=lambda f, _m: progress.append(f),
    )
    assert progress and progress == sorted(progress) and progress[-1] <= 1.0
    window = QWidget()
    window.session = SimpleNamespace(scenario=scen, network=None)
    window.runner = JobRunner(window)
    dialog = StockDialog(window)
    dialog.run()  # no roads: a message, no job
    assert "道路网络尚未载入" in dialog.status.text() and not window.runner.busy
    assert not dialog.export_button.isEnabled()
    dialog.show_result(result)
    doc = result.doc
    lines = [it for s in doc["stockpiles"] for it in s["items"] if it["gap"] or it["below_safety"]]
    assert dialog.gaps.rowCount() == len(lines) > 0
    # the largest shortage first, names as typed (plain text)
    top = max(lines, key=lambda it: it["shortage"])
    assert float(dialog.gaps.item(0, 5).text()) == top["shortage"]
    names = {dialog.gaps.item(i, 0).text() for i in range(dialog.gaps.rowCount())}
    assert HOSTILE in names
    assert dialog.designs.rowCount() == 7
    assert "最优" in dialog.status.text() and "需采购" in dialog.status.text()
    out = tmp_path / "stock.xlsx"
    dialog.export(str(out))
    assert "已导出" in dialog.status.text()
    wb = load_workbook(out)
    cell = next(r[1] for r in wb["储备建议"].iter_rows(min_row=2) if r[1].value == HOSTILE)
    assert cell.data_type == "s"
    window.deleteLater()
