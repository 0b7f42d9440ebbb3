"""覆盖分析 — the coverage dialog: which places each facility set reaches in time, what-ifs.

A thin view: the work is :func:`gui.services.coverage_jobs.run_coverage_job` on the window's
:class:`~gui.workers.JobRunner` (never on the GUI thread); the dialog shows the shares per
threshold (baseline and what-if side by side), the blind spots ranked by population (plain-text
table items: names from data are never markup), a chart of the population reached against
minutes, and draws the areas and blind spots on the map (``MapView.set_coverage``).

The chart is a small :class:`QPainter` widget rather than matplotlib: it is one step curve and a
few lines, needs no extra dependency in the frozen build, and redraws with the dialog's size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from dispatch.planning.coverage import FACILITY_SETS, CoverageRequest, CoverageResult
from dispatch.planning.coverage_cli import parse_minutes
from gui.docks.job_dialog import JobDialog
from gui.docks.job_dialog import read_only_item as _item
from gui.i18n import tr
from gui.services.coverage_jobs import CoverageJobRequest, CoverageJobResult, run_coverage_job

BASE_COLOR = QColor("#225ea8")
WHAT_IF_COLOR = QColor("#ff7f00")


class CoverageChart(QWidget):
    """Share of the population reached (y) against travel minutes (x), baseline and what-if."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 200)
        self.curves: list[tuple[QColor, np.ndarray, np.ndarray]] = []
        self.labels: list[tuple[QColor, str]] = []
        self.thresholds: tuple[float, ...] = ()
        self.x_max = 60.0

    def set_results(
        self, results: list[tuple[QColor, CoverageResult]], labels: list[str] | None = None
    ) -> None:
        self.curves = []
        self.labels = list(zip([c for c, _ in results], labels or [], strict=False))
        finite: list[float] = []
        for color, r in results:
            m = np.array([p.minutes if p.minutes is not None else np.inf for p in r.points])
            pop = np.array([p.population for p in r.points], dtype=float)
            order = np.argsort(m, kind="stable")
            total = pop.sum() or 1.0
            self.curves.append((color, m[order], np.cumsum(pop[order]) / total))
            finite.extend(m[np.isfinite(m)].tolist())
            self.thresholds = r.thresholds
        top = max([*finite, *self.thresholds[-1:], 10.0])
        self.x_max = float(np.ceil(top / 15.0) * 15.0)
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        left, right, top, bottom = 44, 12, 12, 28
        w = max(1, self.width() - left - right)
        h = max(1, self.height() - top - bottom)

        def pt(x: float, y: float) -> QPointF:
            return QPointF(left + w * min(x, self.x_max) / self.x_max, top + h * (1 - y))

        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QPen(QColor("#999"), 1))
        p.drawRect(left, top, w, h)
        for frac in (0.25, 0.5, 0.75, 1.0):
            y = top + h * (1 - frac)
            p.drawText(2, int(y) + 4, f"{frac:.0%}")
        for t in self.thresholds:
            if t <= self.x_max:
                a = pt(t, 0)
                p.setPen(QPen(QColor("#bbb"), 1, Qt.PenStyle.DashLine))
                p.drawLine(a, pt(t, 1))
                p.setPen(QPen(QColor("#555"), 1))
                p.drawText(int(a.x()) - 10, top + h + 16, f"{t:g}")
        p.drawText(left + w - 60, top + h + 26, tr("分钟"))
        for color, m, share in self.curves:
            path = QPainterPath(pt(0, 0))
            last = 0.0
            for x, y in zip(m, share, strict=True):
                if not np.isfinite(x):
                    break
                path.lineTo(pt(x, last))
                path.lineTo(pt(x, y))
                last = y
            path.lineTo(pt(self.x_max, last))
            p.setPen(QPen(color, 2))
            p.drawPath(path)
        for k, (color, label) in enumerate(self.labels):  # legend, bottom right
            y = top + h - 12 - 16 * (len(self.labels) - 1 - k)
            p.setPen(QPen(color, 3))
            p.drawLine(left + w - 130, y - 4, left + w - 110, y - 4)
            p.setPen(QPen(QColor("#333"), 1))
            p.drawText(left + w - 104, y, label)
        p.end()




class CoverageDialog(JobDialog):
    """Non-modal; ``window`` provides ``session``, ``runner`` and ``map`` (the main window)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(tr("覆盖分析"))
        self.resize(860, 640)
        self.result: CoverageJobResult | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.facilities = QComboBox(self)
        for key, label in FACILITY_SETS.items():
            self.facilities.addItem(tr(label), key)
        self.minutes = QLineEdit(self)
        self.minutes.setPlaceholderText(tr("默认 15,30,60,90（储备库另加 240 黄金4小时）"))
        self.bridge = QComboBox(self)
        self.removed = QComboBox(self)
        form.addRow(tr("设施"), self.facilities)
        form.addRow(tr("时限（分钟）"), self.minutes)
        form.addRow(tr("假设：桥梁中断"), self.bridge)
        form.addRow(tr("假设：撤除设施"), self.removed)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton(tr("计算"), self)
        self.clear_button = QPushButton(tr("清除地图"), self)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical, self)
        top = QSplitter(Qt.Orientation.Horizontal, split)
        self.summary = QTableWidget(0, 4, top)
        self.summary.setHorizontalHeaderLabels(
            [tr("时限（分钟）"), tr("覆盖人口"), tr("基线比例"), tr("假设比例")]
        )
        self.chart = CoverageChart(top)
        self.blind = QTableWidget(0, 6, split)
        self.blind.setHorizontalHeaderLabels(
            [tr("盲区"), tr("类型"), tr("人口"), tr("最短用时（分钟）"), tr("最近设施"), tr("状态")]
        )
        lay.addWidget(split, 1)
        self.facilities.currentIndexChanged.connect(self._fill_choices)
        self.run_button.clicked.connect(self.run)
        self.clear_button.clicked.connect(lambda: self.window_.map.set_coverage(None))
        self._fill_choices()

    # ---- inputs --------------------------------------------------------------------------

    def _fill_choices(self) -> None:
        session = self.window_.session
        key = self.facilities.currentData()
        self.removed.clear()
        self.removed.addItem(tr("（无）"), "")
        for e in getattr(session.scenario, key):
            self.removed.addItem(f"{e.id} {e.name}", e.id)
        self._fill_bridges()

    def _fill_bridges(self) -> None:
        """The named bridges of the road network (once it is loaded)."""
        if self.bridge.count() > 1:
            return
        self.bridge.clear()
        self.bridge.addItem(tr("（无）"), "")
        net = self.window_.session.network
        if net is not None:
            names = sorted({str(n) for n, b in zip(net.edge_name, net.edge_bridge) if b and n})
            for n in names:
                self.bridge.addItem(n, n)

    def request(self) -> CoverageJobRequest:
        """The job the inputs describe (raises ValidationError on bad minutes)."""
        text = self.minutes.text().strip()
        req = CoverageRequest(
            facilities=self.facilities.currentData(),
            minutes=parse_minutes(text) if text else None,
        )
        req.thresholds()
        s = self.window_.session
        return CoverageJobRequest(
            s.scenario, s.network, req, self.bridge.currentData(), self.removed.currentData()
        )

    # ---- run -----------------------------------------------------------------------------

    def run(self) -> None:
        self._fill_bridges()
        if self.window_.session.network is None:
            self.status.setText(tr("道路网络尚未载入，无法计算覆盖。"))
            return
        try:
            job = self.request()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.run_button.setEnabled(False)
        self.status.setText(tr("正在计算覆盖…"))
        self.window_.runner.start(
            tr("覆盖分析"), run_coverage_job, job, on_done=self._done, on_error=self._failed
        )

    def show_result(self, result: CoverageJobResult) -> None:
        self.result = result
        base, diff = result.baseline, result.what_if
        after = diff.scenario if diff is not None else None
        self.summary.setRowCount(len(base.summary))
        self.summary.verticalHeader().setVisible(False)
        for i, s in enumerate(base.summary):
            other = after.summary[i].share if after is not None else None
            cells = [
                f"{s.minutes:g}",
                f"{s.population:,}",
                f"{s.share:.1%}",
                "" if other is None else f"{other:.1%}",
            ]
            for j, v in enumerate(cells):
                self.summary.setItem(i, j, _item(v))
        shown = after if after is not None else base
        new = {p.id for p in diff.newly_blind} if diff is not None else set()
        self.blind.setRowCount(len(shown.blind_spots))
        for i, p in enumerate(shown.blind_spots):
            cells = [
                p.site.name,
                p.site.kind,
                p.population,
                "—" if p.minutes is None else round(p.minutes, 1),
                p.nearest_id or "—",
                tr("新增盲区") if p.id in new else tr("盲区"),
            ]
            for j, v in enumerate(cells):
                self.blind.setItem(i, j, _item(v))
        for table in (self.summary, self.blind):
            table.resizeColumnsToContents()
        curves = [(BASE_COLOR, base)] + ([(WHAT_IF_COLOR, after)] if after is not None else [])
        self.chart.set_results(curves, [tr("基线"), tr("假设情景")])
        text = tr("{n} 个盲区（超过 {m:g} 分钟或不可达）").format(
            n=len(shown.blind_spots), m=shown.blind_minutes
        )
        if diff is not None:
            text += tr("；假设情景新增盲区 {n} 个，涉及 {p:,} 人").format(
                n=len(diff.newly_blind), p=diff.newly_blind_population
            )
        self.status.setText(text)
        self.window_.map.set_coverage(result.features)
