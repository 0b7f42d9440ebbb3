"""选址 — the site-planning dialog: where facilities should be, before/after, apply as 规划.

A thin view over :func:`gui.services.sites_jobs.run_sites_job` (run on the window's
:class:`~gui.workers.JobRunner`, with its progress bar and cancel; never on the GUI thread).
It shows the chosen sites (plain-text table items: names from data are never markup), a
before/after table (mean and longest minutes, population share per threshold), draws the plan
on the map (``MapView.set_coverage``, the overlay 覆盖分析 uses) and "应用" adds the chosen
*new* sites to the workspace through the session as one undoable edit (Ctrl+Z) — named
"…（规划）", see :func:`dispatch.planning.sites.planned_entities`.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
)

from dispatch.planning.coverage import FACILITY_SETS
from dispatch.planning.sites import SITE_MODELS, SitesRequest, planned_entities
from gui.docks.job_dialog import JobDialog
from gui.docks.job_dialog import read_only_item as _item
from gui.i18n import tr
from gui.services.sites_jobs import SitesJobRequest, SitesJobResult, run_sites_job

__all__ = ["SitesDialog"]




def _min(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


class SitesDialog(JobDialog):
    """Non-modal; ``window`` provides ``session``, ``runner`` and ``map`` (the main window)."""

    show_partial = True  # a cancelled search still returns its best sites so far

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(tr("选址"))
        self.resize(820, 640)
        self.result: SitesJobResult | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.model = QComboBox(self)
        for key, label in SITE_MODELS.items():
            self.model.addItem(tr(label), key)
        self.facilities = QComboBox(self)
        for key, label in FACILITY_SETS.items():
            self.facilities.addItem(tr(label), key)
        self.k = QSpinBox(self)
        self.k.setRange(0, 999)
        self.k.setSpecialValueText(tr("默认（现有设施数）"))
        self.minutes = QDoubleSpinBox(self)
        self.minutes.setRange(1.0, 1440.0)
        self.minutes.setValue(30.0)
        self.minutes.setSuffix(tr(" 分钟"))
        self.keep = QCheckBox(tr("保留现有设施，新增 k 处"), self)
        self.seconds = QSpinBox(self)
        self.seconds.setRange(1, 3600)
        self.seconds.setValue(30)
        self.seconds.setSuffix(tr(" 秒"))
        form.addRow(tr("模型"), self.model)
        form.addRow(tr("设施"), self.facilities)
        form.addRow(tr("选址数量 k"), self.k)
        form.addRow(tr("覆盖时限（最大覆盖/集合覆盖）"), self.minutes)
        form.addRow("", self.keep)
        form.addRow(tr("求解时限"), self.seconds)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton(tr("计算"), self)
        self.apply_button = QPushButton(tr("应用"), self)
        self.apply_button.setToolTip(tr("把建议新建的选址作为规划设施加入工作区（可撤销）"))
        self.apply_button.setEnabled(False)
        self.clear_button = QPushButton(tr("清除地图"), self)
        for b in (self.run_button, self.apply_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.compare = QTableWidget(0, 3, split)
        self.compare.setHorizontalHeaderLabels([tr("指标"), tr("现状"), tr("方案")])
        self.compare.verticalHeader().setVisible(False)
        self.sites = QTableWidget(0, 4, split)
        self.sites.setHorizontalHeaderLabels([tr("选址"), tr("类别"), tr("经度"), tr("纬度")])
        self.sites.verticalHeader().setVisible(False)
        lay.addWidget(split, 1)
        self.run_button.clicked.connect(self.run)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button.clicked.connect(lambda: self.window_.map.set_coverage(None))

    # ---- run -----------------------------------------------------------------------------

    def request(self) -> SitesRequest:
        model = self.model.currentData()
        return SitesRequest(
            model=model,
            facilities=self.facilities.currentData(),
            k=self.k.value() or None,
            minutes=float(self.minutes.value()) if model in ("mclp", "lscp") else None,
            keep_existing=self.keep.isChecked(),
            seconds=float(self.seconds.value()),
        )

    def run(self) -> None:
        s = self.window_.session
        if s.network is None:
            self.status.setText(tr("道路网络尚未载入，无法选址。"))
            return
        job = SitesJobRequest(s.scenario, s.network, self.request())
        self.run_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.status.setText(tr("正在选址…"))
        self.window_.runner.start(
            tr("选址"), run_sites_job, job, on_done=self._done, on_error=self._failed
        )

    def show_result(self, job: SitesJobResult) -> None:
        self.result = job
        r = job.result
        before, after = r.before, r.after
        rows: list[tuple[str, str, str]] = [
            (
                tr("人口加权平均用时（分钟）"),
                _min(before.mean_minutes),
                _min(after.mean_minutes if after else None),
            ),
            (
                tr("最长用时（分钟）"),
                _min(before.max_minutes),
                _min(after.max_minutes if after else None),
            ),
        ]
        for key, share in before.share_within.items():
            other = after.share_within.get(key) if after else None
            rows.append(
                (
                    tr("{m} 分钟内人口比例").format(m=key),
                    f"{share:.1%}",
                    "—" if other is None else f"{other:.1%}",
                )
            )
        rows.append(
            (tr("设施数"), str(sum(1 for c in r.candidates if c.existing)), str(len(r.chosen)))
        )
        self.compare.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.compare.setItem(i, j, _item(v))
        shown = sorted(r.chosen, key=lambda c: c.existing)  # the new sites first
        self.sites.setRowCount(len(shown))
        for i, c in enumerate(shown):
            cells = [
                c.name,
                tr("现有")
                if c.existing
                else tr("建议新建（候选站点）")
                if c.source == "candidate_sites"
                else tr("建议新建"),
                f"{c.lon:.5f}",
                f"{c.lat:.5f}",
            ]
            for j, v in enumerate(cells):
                self.sites.setItem(i, j, _item(v))
        for table in (self.compare, self.sites):
            table.resizeColumnsToContents()
        info = r.solve.info
        text = tr("{model}：{status}，{n} 处（新建 {new} 处），目标值 {obj}").format(
            model=tr(SITE_MODELS[r.request.model]),
            status=info.status.label_zh,
            n=len(r.chosen),
            new=len(r.new_sites),
            obj="—" if info.objective is None else f"{info.objective:,.1f}",
        )
        if info.bound is not None:
            text += tr("，下界/上界 {b:,.1f}").format(b=info.bound)
        for line in (*r.solve.problems, *r.notes):
            text += "\n" + line
        self.status.setText(text)
        can_apply = bool(r.new_sites) and r.request.facilities != "teams"
        self.apply_button.setEnabled(can_apply)
        self.window_.map.set_coverage(job.features)

    # ---- apply ---------------------------------------------------------------------------

    def apply(self) -> None:
        """Add the chosen new sites as 规划 facilities: one undo step on the session."""
        if self.result is None:
            return
        from gui.controllers.editing import ID_PREFIX

        s = self.window_.session
        r = self.result.result
        kind = r.request.facilities
        ids: list[str] = []
        for _ in r.new_sites:
            ids.append(s.new_id(ID_PREFIX[kind], ids))
        scenario = s.scenario
        try:
            entities = planned_entities(r, scenario, ids)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        for e in entities:
            scenario = scenario.upsert(e)
        s.apply(scenario, tr("应用选址：新增 {n} 处规划设施").format(n=len(entities)))
        self.apply_button.setEnabled(False)
        self.status.setText(
            tr("已新增 {n} 处规划设施（名称带“规划”）；Ctrl+Z 可撤销。").format(n=len(entities))
        )
