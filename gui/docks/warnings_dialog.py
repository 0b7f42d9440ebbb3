"""预警与预置 — the warnings dialog: issue a warning, plan the pre-positioning, lift warnings.

A thin view over :mod:`gui.services.warning_jobs`: the hazards to warn (checkable list) and the
colour; 计算预置 runs the pre-positioning on the window's :class:`~gui.workers.JobRunner`
(progress and Cancel), shows the shares before/after and the moves, and draws the warned areas,
staging points and moves on the map (``MapView.set_coverage``); 发布预警 records the warning and
its moves and files its 预置方案 in 草稿 (``Session.record``: records with an event-log entry)
and sets the moved teams to 待命 (``Session.apply``: the one undoable edit); the table of the
workspace's warnings lifts (解除) or escalates (升级) the selected one and steps its 预置方案
through the plan lifecycle (批准 → 下达 → 开始执行 → 完成, 作废 with a reason). Monitoring
proposals (the latest reading over a threshold, :mod:`gis.monitoring`) are listed above. Table
items are plain text: names from data are never markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
)

from dispatch.plan import TRANSITIONS
from dispatch.records import PlanStatus
from dispatch.warnings.lifecycle import read_prepositions
from dispatch.warnings.preposition import WarnRequest
from gis.errors import ReliefDeskError
from gis.hazard_warnings import COLOUR_ZH, COLOURS, WarningError, read_warnings
from gis.monitoring import QUANTITIES, Monitor, proposal, read_monitors, read_readings
from gis.paths import default_dir
from gui.docks.job_dialog import JobDialog
from gui.docks.job_dialog import read_only_item as _item
from gui.i18n import tr
from gui.services.warning_jobs import (
    WarningJobRequest,
    WarningJobResult,
    escalate_records,
    issue_records,
    lift_record,
    monitor_record,
    run_warning_job,
    step_record,
)

__all__ = ["WarningsDialog"]


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


class WarningsDialog(JobDialog):
    """Non-modal; ``window`` provides ``session``, ``runner`` and (optionally) ``map``."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(tr("预警与预置"))
        self.resize(920, 680)
        self.result: WarningJobResult | None = None
        lay = QVBoxLayout(self)
        self.proposals = QLabel(self)
        self.proposals.setWordWrap(True)
        self.proposals.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.proposals)
        lay.addWidget(self._monitor_box())
        form = QFormLayout()
        self.hazards = QListWidget(self)
        self.hazards.setMaximumHeight(140)
        self.colour = QComboBox(self)
        for c in COLOURS:
            self.colour.addItem(tr(COLOUR_ZH[c]), c)
        self.colour.setCurrentIndex(COLOURS.index("orange"))
        self.hours = QDoubleSpinBox(self)
        self.hours.setRange(1.0, 240.0)
        self.hours.setDecimals(0)
        self.hours.setValue(24.0)
        form.addRow(tr("预警危险源"), self.hazards)
        form.addRow(tr("预警颜色"), self.colour)
        form.addRow(tr("有效时长（小时）"), self.hours)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton(tr("计算预置"), self)
        self.issue_button = QPushButton(tr("发布预警并记录"), self)
        self.issue_button.setEnabled(False)
        self.lift_button = QPushButton(tr("解除所选预警"), self)
        self.clear_button = QPushButton(tr("清除地图"), self)
        for b in (self.run_button, self.issue_button, self.lift_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        steps = QHBoxLayout()
        self.escalate_colour = QComboBox(self)
        for c in COLOURS[1:]:
            self.escalate_colour.addItem(tr(COLOUR_ZH[c]), c)
        self.escalate_button = QPushButton(tr("升级所选预警"), self)
        self.who = QLineEdit(self)
        self.who.setPlaceholderText(tr("经办人"))
        self.step_note = QLineEdit(self)
        self.step_note.setPlaceholderText(tr("备注（作废须填原因）"))
        self.step_to = QComboBox(self)
        for st in PlanStatus:
            if st != PlanStatus.DRAFT:
                self.step_to.addItem(tr(st.value), st.value)
        self.step_button = QPushButton(tr("变更预置方案状态"), self)
        for w in (self.escalate_colour, self.escalate_button, QLabel(tr("经办人"), self),
                  self.who, self.step_note, self.step_to, self.step_button):  # fmt: skip
            steps.addWidget(w)
        lay.addLayout(steps)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.designs = QTableWidget(0, 6, split)
        self.designs.setHorizontalHeaderLabels(
            [tr("危险源"), tr("事件类型"), tr("响应级别"), tr("受影响人数"), tr("时限（分钟）"),
             tr("预案要求")]
        )  # fmt: skip
        self.moves = QTableWidget(0, 5, split)
        self.moves.setHorizontalHeaderLabels(
            [tr("类型"), tr("出发"), tr("预置点"), tr("物资或队伍"), tr("数量")]
        )
        self.warnings = QTableWidget(0, 7, split)
        self.warnings.setHorizontalHeaderLabels(
            [tr("预警编号"), tr("颜色"), tr("危险源"), tr("发布时间"), tr("有效至"), tr("状态"),
             tr("预置方案")]
        )  # fmt: skip
        self.warnings.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        lay.addWidget(split, 1)
        self.run_button.clicked.connect(self.run)
        self.issue_button.clicked.connect(self.issue)
        self.lift_button.clicked.connect(self.lift_selected)
        self.clear_button.clicked.connect(self.clear_map)
        self.escalate_button.clicked.connect(lambda: self.escalate_selected())
        self.step_button.clicked.connect(lambda: self.step_selected())
        sig = getattr(window.session, "sig_documents_changed", None)
        if sig is not None:
            sig.connect(lambda _kind: self.refresh())
        self.refresh()

    # ---- monitoring (监测) ---------------------------------------------------------------------

    def _monitor_box(self) -> QGroupBox:
        box = QGroupBox(tr("监测"), self)
        row = QHBoxLayout(box)
        self.m_hazard = QComboBox(box)
        self.m_quantity = QComboBox(box)
        for key, (name, unit) in QUANTITIES.items():
            self.m_quantity.addItem(f"{tr(name)}（{unit}）", key)
        self.m_thresholds: dict[str, QDoubleSpinBox] = {}
        row.addWidget(self.m_hazard, 2)
        row.addWidget(self.m_quantity, 1)
        for c in COLOURS:
            spin = QDoubleSpinBox(box)
            spin.setRange(0.0, 1e6)
            spin.setDecimals(1)
            spin.setSpecialValueText(tr("不设"))  # 0: no threshold for this colour
            spin.setToolTip(tr(COLOUR_ZH[c]))
            self.m_thresholds[c] = spin
            row.addWidget(QLabel(tr(COLOUR_ZH[c]), box))
            row.addWidget(spin)
        self.m_value = QDoubleSpinBox(box)
        self.m_value.setRange(-1e6, 1e6)
        self.m_value.setDecimals(1)
        self.m_add = QPushButton(tr("记录读数"), box)
        self.m_import = QPushButton(tr("导入读数…"), box)
        row.addWidget(QLabel(tr("读数"), box))
        row.addWidget(self.m_value)
        row.addWidget(self.m_add)
        row.addWidget(self.m_import)
        self.m_add.clicked.connect(
            lambda: self.add_readings([(datetime.now(), self.m_value.value())])
        )
        self.m_import.clicked.connect(lambda: self.import_readings())
        self.m_hazard.currentIndexChanged.connect(lambda _i: self._load_thresholds())
        self.m_quantity.currentIndexChanged.connect(lambda _i: self._load_thresholds())
        return box

    def _load_thresholds(self) -> None:
        """Show the stored thresholds of the chosen hazard and quantity (none: 不设)."""
        key = f"{self.m_hazard.currentData()}/{self.m_quantity.currentData()}"
        docs = getattr(self.window_.session, "documents", None)
        stored = {m.key: m for m in read_monitors(docs)}.get(key)
        for c, spin in self.m_thresholds.items():
            spin.setValue(stored.thresholds.get(c, 0.0) if stored else 0.0)

    def _monitor(self) -> Monitor:
        """The monitor of the chosen hazard and quantity: the stored one's readings, the
        thresholds as set here."""
        hid = str(self.m_hazard.currentData())
        qty = str(self.m_quantity.currentData())
        stored = {m.key: m for m in read_monitors(getattr(self.window_.session, "documents", None))}
        th = {c: s.value() for c, s in self.m_thresholds.items() if s.value() > 0}
        old = stored.get(f"{hid}/{qty}")
        return Monitor(hid, qty, th, old.readings if old else ())

    def add_readings(self, readings: list[tuple[datetime, float]]) -> None:
        """Record readings on the chosen monitor; a proposed warning pre-fills hazard and colour."""
        try:
            monitor = self._monitor().with_readings(readings)
        except ReliefDeskError as exc:
            self.status.setText(str(exc))
            return
        kind, key, text, log = monitor_record(monitor)
        self.window_.session.record(kind, key, text, log=log)
        p = proposal(monitor)
        if p is not None:
            self.set_checked(sorted({*self.checked_hazards(), p.hazard_id}))
            self.colour.setCurrentIndex(COLOURS.index(p.colour))
        self.refresh()

    def import_readings(self, path: str | None = None) -> None:
        if not path:
            start = str(default_dir(getattr(self.window_.session, "path", None)))
            path, _ = QFileDialog.getOpenFileName(
                self, tr("导入读数…"), start, "CSV / Excel (*.csv *.xlsx *.xls)"
            )
        if not path:
            return
        try:
            readings = read_readings(path)
        except ReliefDeskError as exc:
            self.status.setText(str(exc))
            return
        self.add_readings(list(readings))

    # ---- what the workspace holds ----------------------------------------------------------

    def refresh(self) -> None:
        """Hazard list (keeping the checks), the stored warnings, the monitoring proposals."""
        s = self.window_.session
        checked = set(self.checked_hazards())
        chosen = self.m_hazard.currentData()
        self.m_hazard.clear()
        for h in s.scenario.hazards:
            self.m_hazard.addItem(f"{h.name}（{h.id}）", h.id)
        if chosen is not None and (k := self.m_hazard.findData(chosen)) >= 0:
            self.m_hazard.setCurrentIndex(k)
        self.hazards.clear()
        for h in s.scenario.hazards:
            it = QListWidgetItem(f"{h.name}（{h.id}）")
            it.setData(Qt.ItemDataRole.UserRole, h.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = h.id in checked
            it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.hazards.addItem(it)
        docs = getattr(s, "documents", None)
        stored = read_warnings(docs)
        names = {h.id: h.name for h in s.scenario.hazards}
        try:
            records = {r.warning_id: r for r in read_prepositions(docs)}
        except ReliefDeskError as exc:
            records = {}
            self.status.setText(str(exc))
        self.warnings.setRowCount(len(stored))
        self.warnings.verticalHeader().setVisible(False)
        for i, w in enumerate(stored):
            cells = [
                w.id,
                tr(w.colour_zh),
                "、".join(names.get(h, h) for h in w.hazard_ids) or w.township_code,
                w.issued_at.strftime("%Y-%m-%d %H:%M"),
                w.valid_until.strftime("%Y-%m-%d %H:%M"),
                tr(w.state),
                tr(records[w.id].status.value) if w.id in records else "—",
            ]
            for j, v in enumerate(cells):
                self.warnings.setItem(i, j, _item(v))
        self.warnings.resizeColumnsToContents()
        props = [p for m in read_monitors(docs) if (p := proposal(m)) is not None]
        self.proposals.setText("\n".join(p.text for p in props) if props else "")
        self.proposals.setVisible(bool(props))

    def checked_hazards(self) -> list[str]:
        out = []
        for i in range(self.hazards.count()):
            it = self.hazards.item(i)
            if it is not None and it.checkState() == Qt.CheckState.Checked:
                out.append(str(it.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_checked(self, hazard_ids: list[str]) -> None:
        for i in range(self.hazards.count()):
            it = self.hazards.item(i)
            on = str(it.data(Qt.ItemDataRole.UserRole)) in hazard_ids
            it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # ---- pre-positioning -------------------------------------------------------------------

    def request(self) -> WarningJobRequest:
        s = self.window_.session
        req = WarnRequest(
            tuple(self.checked_hazards()),
            str(self.colour.currentData()),
            valid_hours=float(self.hours.value()),
        )
        return WarningJobRequest(s.scenario, s.network, req)

    def run(self) -> None:
        if self.window_.session.network is None:
            self.status.setText(tr("道路网络尚未载入，无法计算预置。"))
            return
        if not self.checked_hazards():
            self.status.setText(tr("请勾选要预警的危险源。"))
            return
        self.run_button.setEnabled(False)
        self.issue_button.setEnabled(False)
        self.status.setText(tr("正在计算预置…"))
        self.window_.runner.start(
            tr("预置测算"),
            run_warning_job,
            self.request(),
            on_done=self._done,
            on_error=self._failed,
        )

    def show_result(self, result: WarningJobResult) -> None:
        self.result = result
        doc = result.doc
        mats = result.plan.materials
        self.designs.setRowCount(len(doc["design_incidents"]))
        self.designs.verticalHeader().setVisible(False)
        for i, e in enumerate(doc["design_incidents"]):
            needs = "、".join(
                f"{mats[c].name_zh if c in mats else c} {q}{mats[c].unit if c in mats else ''}"
                for c, q in e["needs"].items()
            )
            skills = "、".join(f"{k} {n} 人" for k, n in e["skills"].items())
            cells = [
                e["hazard_name"],
                e["subtype"] or "—",
                e["level"],
                e["affected"],
                "—" if e["deadline_min"] is None else f"{e['deadline_min']:g}",
                "；".join(t for t in (needs, skills) if t) or "—",
            ]
            for j, v in enumerate(cells):
                self.designs.setItem(i, j, _item(v))
        self.designs.resizeColumnsToContents()
        self.designs.setColumnWidth(5, 360)
        self.moves.setRowCount(len(doc["moves"]))
        self.moves.verticalHeader().setVisible(False)
        for i, m in enumerate(doc["moves"]):
            stock = m["kind"] == "stock"
            cells = [
                tr("预置调拨") if stock else tr("预置派遣"),
                m["from_name"],
                m["to_name"],
                m["material_name"] if stock else m["from_name"],
                m["quantity"] if stock else f"{m['headcount']} 人",
            ]
            for j, v in enumerate(cells):
                self.moves.setItem(i, j, _item(v))
        self.moves.resizeColumnsToContents()
        thr, rest = doc["threatened"], doc["rest_of_county"]
        self.status.setText(
            tr(
                "{status}：{n} 次调动；受威胁区域按时满足 {b} → {a}；其余县域 60 分钟覆盖 {rb} → {ra}"
            ).format(
                status=doc["status_zh"],
                n=doc["movements"],
                b=_pct(thr["before"]["on_time_share"] if thr["before"] else None),
                a=_pct(thr["after"]["on_time_share"] if thr["after"] else None),
                rb=_pct(rest["before"]["share_within_60"]),
                ra=_pct(rest["after"]["share_within_60"]),
            )
        )
        self.issue_button.setEnabled(True)
        view = getattr(self.window_, "map", None)
        if view is not None:
            view.set_coverage(result.features)

    def issue(self) -> None:
        """Record the warning and its 预置方案; set the moved teams to 待命 (undoable)."""
        if self.result is None:
            return
        s = self.window_.session
        try:
            records, scenario, changed = issue_records(
                self.result, s.scenario, getattr(s, "documents", None)
            )
        except ReliefDeskError as exc:
            self.status.setText(str(exc))
            return
        for kind, key, text, log in records:
            s.record(kind, key, text, log=log)
        if changed:
            s.apply(scenario, tr("预置队伍待命"))
        self.issue_button.setEnabled(False)
        wid = records[-1][1]
        done = tr("已发布预警并记录：{id}；预置方案 {no}（草稿）").format(id=wid, no=records[0][1])
        self.status.setText(f"{self.status.text()}\n{done}")
        self.refresh()

    def selected_warning(self) -> str | None:
        rows = sorted({i.row() for i in self.warnings.selectedIndexes()})
        if not rows:
            self.status.setText(tr("请先在预警列表中选择一条预警。"))
            return None
        return self.warnings.item(rows[0], 0).text()

    def escalate_selected(self, colour: str | None = None) -> None:
        """升级: the selected warning replaced by one at a higher colour (event-log entry)."""
        wid = self.selected_warning()
        if wid is None:
            return
        s = self.window_.session
        colour = colour or str(self.escalate_colour.currentData())
        try:
            records = escalate_records(s.documents, wid, colour, datetime.now().astimezone())
        except ReliefDeskError as exc:
            self.status.setText(str(exc))
            return
        for kind, key, text, log in records:
            s.record(kind, key, text, log=log)
        self.status.setText(
            tr("已升级为{colour}预警：{id}（预置按原颜色计算，需要时请重新计算预置）").format(
                colour=tr(COLOUR_ZH[colour]), id=records[-1][1]
            )
        )
        self.refresh()

    def step_selected(self, to: str | None = None) -> None:
        """Move the selected warning's 预置方案 to the chosen status (who and note from the
        fields; 作废 needs the note as its reason)."""
        wid = self.selected_warning()
        if wid is None:
            return
        s = self.window_.session
        target = to or str(self.step_to.currentData())
        try:
            kind, key, text, log = step_record(
                s.documents, wid, target, self.who.text(), datetime.now().astimezone(),
                self.step_note.text(),
            )  # fmt: skip
        except ReliefDeskError as exc:
            self.status.setText(str(exc))
            return
        s.record(kind, key, text, log=log)
        self.step_note.clear()
        nxt = "、".join(tr(x.value) for x in TRANSITIONS[PlanStatus(target)]) or "—"
        self.status.setText(
            tr("预置方案 {no}：{status}（下一步可：{next}）").format(
                no=key, status=tr(target), next=nxt
            )
        )
        self.refresh()

    def lift_selected(self) -> None:
        wid = self.selected_warning()
        if wid is None:
            return
        s = self.window_.session
        try:
            kind, key, text, log = lift_record(s.documents, wid, datetime.now().astimezone())
        except WarningError as exc:
            self.status.setText(str(exc))
            return
        s.record(kind, key, text, log=log)
        self.status.setText(tr("已解除预警：{id}").format(id=key))
        self.refresh()

    def clear_map(self) -> None:
        view = getattr(self.window_, "map", None)
        if view is not None:
            view.set_coverage(None)
