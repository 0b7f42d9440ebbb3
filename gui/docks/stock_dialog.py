"""储备测算 — the stock-planning dialog: how much each stockpile should hold, gaps, what to buy.

A thin view: the work is :func:`gui.services.stock_jobs.run_stock_job` on the window's
:class:`~gui.workers.JobRunner` (never on the GUI thread). The dialog shows the solve status,
the design incidents (infeasible ones with their reason) and a table of the stockpile × item
lines with a gap (缺口 or 富余) or below their safety stock — plain-text table items: names from
data are never markup — and exports the XLSX of ``app.py plan-stock``.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
)

from dispatch.planning.stock import DEFAULT_RADIUS_M, DesignRules, StockRequest
from gis.paths import default_dir
from gui.docks.job_dialog import JobDialog
from gui.docks.job_dialog import read_only_item as _item
from gui.i18n import tr
from gui.services.stock_jobs import (
    StockJobRequest,
    StockJobResult,
    export_stock_xlsx,
    run_stock_job,
)

__all__ = ["StockDialog"]


class StockDialog(JobDialog):
    """Non-modal; ``window`` provides ``session`` and ``runner`` (the main window)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(tr("储备测算"))
        self.resize(900, 640)
        self.result: StockJobResult | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.radius = QDoubleSpinBox(self)
        self.radius.setRange(0.0, 50_000.0)
        self.radius.setDecimals(0)
        self.radius.setSingleStep(100.0)
        self.radius.setValue(DEFAULT_RADIUS_M)
        self.pairs = QCheckBox(tr("任意两个设计事件同时发生也能满足"), self)
        form.addRow(tr("受影响范围（米）"), self.radius)
        form.addRow("", self.pairs)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton(tr("计算"), self)
        self.export_button = QPushButton(tr("导出 XLSX…"), self)
        self.export_button.setEnabled(False)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.gaps = QTableWidget(0, 8, split)
        self.gaps.setHorizontalHeaderLabels(
            [
                tr("储备库"),
                tr("物资"),
                tr("单位"),
                tr("建议储备"),
                tr("现有库存"),
                tr("缺口"),
                tr("富余"),
                tr("低于安全库存"),
            ]
        )
        self.designs = QTableWidget(0, 6, split)
        self.designs.setHorizontalHeaderLabels(
            [
                tr("危险源"),
                tr("事件类型"),
                tr("响应级别"),
                tr("受影响人数"),
                tr("时限（分钟）"),
                tr("状态"),
            ]
        )
        lay.addWidget(split, 1)
        self.run_button.clicked.connect(self.run)
        self.export_button.clicked.connect(self.export)

    def request(self) -> StockJobRequest:
        s = self.window_.session
        rules = DesignRules(radius_m=float(self.radius.value()))
        return StockJobRequest(
            s.scenario, s.network, StockRequest(rules=rules, pairs=self.pairs.isChecked())
        )

    def run(self) -> None:
        if self.window_.session.network is None:
            self.status.setText(tr("道路网络尚未载入，无法测算储备。"))
            return
        if not self.window_.session.scenario.stockpiles:
            self.status.setText(tr("工作区没有储备库。"))
            return
        self.run_button.setEnabled(False)
        self.status.setText(tr("正在测算储备…"))
        self.window_.runner.start(
            tr("储备测算"), run_stock_job, self.request(), on_done=self._done, on_error=self._failed
        )

    def show_result(self, result: StockJobResult) -> None:
        self.result = result
        doc = result.doc
        rows = [
            (sp, it)
            for sp in doc["stockpiles"]
            for it in sp["items"]
            if it["gap"] != 0 or it["below_safety"]
        ]
        rows.sort(key=lambda r: (-r[1]["shortage"], r[0]["id"], r[1]["code"]))
        self.gaps.setRowCount(len(rows))
        self.gaps.verticalHeader().setVisible(False)
        for i, (sp, it) in enumerate(rows):
            cells = [
                sp["name"],
                it["name"],
                it["unit"],
                it["recommended"],
                it["held"],
                it["shortage"] or "",
                it["surplus"] or "",
                tr("是") if it["below_safety"] else "",
            ]
            for j, v in enumerate(cells):
                self.gaps.setItem(i, j, _item(v))
        self.designs.setRowCount(len(doc["design_incidents"]))
        self.designs.verticalHeader().setVisible(False)
        for i, e in enumerate(doc["design_incidents"]):
            cells = [
                e["hazard_name"],
                e["subtype"] or "—",
                e["level"],
                e["affected"],
                "—" if e["deadline_min"] is None else f"{e['deadline_min']:g}",
                tr("可规划") if e["feasible"] else e["problem"],
            ]
            for j, v in enumerate(cells):
                self.designs.setItem(i, j, _item(v))
        for table in (self.gaps, self.designs):
            table.resizeColumnsToContents()
        self.status.setText(
            tr(
                "{status}：建议储备 {kg:,.0f} kg，需采购 {n} 项（{buy:,.0f} kg）；{bad} 个设计事件无法满足"
            ).format(
                status=doc["status_zh"],
                kg=doc["total_kg"],
                n=len(doc["procurement"]),
                buy=doc["purchase_kg"] or 0.0,
                bad=len(doc["infeasible"]),
            )
        )
        self.export_button.setEnabled(True)

    def export(self, path: str | None = None) -> None:
        if self.result is None:
            return
        if not path:
            start = str(default_dir(self.window_.session.path) / "stock.xlsx")
            path, _ = QFileDialog.getSaveFileName(self, tr("导出 XLSX…"), start, "Excel (*.xlsx)")
        if not path:
            return
        try:
            export_stock_xlsx(self.result, path)
        except OSError as exc:
            self.status.setText(tr("导出失败：{e}").format(e=exc))
            return
        self.status.setText(tr("已导出：{path}").format(path=path))
