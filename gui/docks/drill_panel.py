"""The 演练 dock: author drill scripts on the map desk and run them in simulated time.

A thin view of :class:`gui.controllers.drill.DrillController` (which holds the scripts, the run
and the jobs; the state machine is :class:`dispatch.drills.session.DrillSession`, Qt-free):

- **Script**: choose / 新建 / 导入… / 导出… (the JSON file of ``app.py drill --script``) /
  删除 a script stored in the workspace; its name and start time.
- **Timeline** (时间线): one row per inject — time, kind, target, details and the message of
  :func:`dispatch.drills.store.row_problems` next to the row (red) when the inject cannot run.
  添加… / 编辑… / 删除 through :class:`gui.docks.drill_inject_dialog.InjectDialog`;
  地图上放置事件 (the next map click places a new-incident inject) and 地图上画中断 (point /
  line / polygon with the map's Leaflet.draw tools, as closures are drawn) open the form filled
  in. Every edit is one undo step of the session.
- **Run**: 人工 / 自动 re-planning, seconds per automatic step and seed; 开始 / 结束, play,
  pause, step to the next inject, speed ×1…×60, the simulated clock, what the run waits
  for; 继续（不调度） closes a step without a plan; Cancel stops an automatic re-plan (its best
  plan is kept). While a drill runs the map shows the drill's scenario (incidents, closures
  and the roads they block, teams, stockpiles, shelters) and, 自动, each step's routes; the
  workspace is not changed. 人工: plan and approve in the 调度方案 dock — it plans the drill's
  scenario while the run lasts, and the approval closes the step (time measured).
- **记录** (log: simulated and wall-clock time of every decision) and **评分** (per step and
  overall, :mod:`dispatch.drills.scorecard`), 导出报告… (drill.json, plans, PDF, XLSX).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QDateTime, Qt
from PyQt6.QtGui import QAction, QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dispatch.drills.script import KIND_ZH
from dispatch.drills.session import SPEEDS
from gis.paths import default_dir
from gui import map_page
from gui.controllers.drill import DrillController
from gui.docks.drill_inject_dialog import InjectDialog, inject_details, inject_target, known_ids
from gui.i18n import tr, tr_noop
from gui.map_view import MapView
from gui.services.workspace_jobs import ClosedRoadsRequest, closed_roads_job, empty_features
from gui.session import Session
from gui.workers import JobRunner

#: the layers a drill changes (redrawn from the drill's scenario while it runs)
DRILL_LAYERS = ("incidents", "closures", "teams", "stockpiles", "shelters")
#: the timeline's columns
TIMELINE_HEADERS = ("时间(分)", "类型", "对象", "详情", "检查")
LOG_HEADERS = ("模拟时间", "墙钟时间", "决定")
SCORE_HEADERS = (
    "步骤",
    "时间(分)",
    "插入",
    "方案",
    "用时(秒)",
    "按时",
    "迟到",
    "未满足",
    "按时安置人数",
    "按时到场队伍",
    "车辆公里",
    "变更指令",
)
#: the overall scorecard's figures shown (key, label)
OVERALL_ROWS = (
    ("steps", "步骤数"),
    ("planned_steps", "已调度步骤"),
    ("wall_s_max", "最长用时(秒)"),
    ("first_plan_s_max", "首个方案最长(秒)"),
    ("orders_changed_total", "变更指令合计"),
    ("final_needs_on_time", "最终按时需求"),
    ("final_needs_late", "最终迟到需求"),
    ("final_needs_unmet", "最终未满足需求"),
    ("final_people_sheltered_on_time", "最终按时安置人数"),
    ("final_teams_on_site_on_time", "最终按时到场队伍"),
    ("final_vehicle_km", "最终车辆公里"),
    ("safety_stock_used_max", "动用安全库存(最多)"),
)
ERROR_BG = QColor("#fde0dc")


def _item(text: Any, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def _table(headers: tuple[str, ...], parent: QWidget) -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    t.setHorizontalHeaderLabels([tr(h) for h in headers])
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class DrillPanel(QDockWidget):
    """The 演练 dock (see the module doc). ``map_view`` and ``window`` may be None (tests)."""

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        controller: DrillController,
        map_view: MapView | None = None,
        window: QMainWindow | None = None,
    ) -> None:
        super().__init__(tr("演练"), window)
        self.setObjectName("dock_drill")
        self.session = session
        self.runner = runner
        self.controller = controller
        self.map_view = map_view
        self.window_ = window
        #: what the next map click / drawing is for ("incident", "closure") or None
        self.pending: str | None = None
        self.dialog: InjectDialog | None = None
        self._filled: tuple[int, int, int] | None = None  # (run, log rows, steps) shown
        self._closed_gen = 0  # the latest closed-roads computation (older results dropped)
        self._build()
        c = controller
        c.sig_scripts_changed.connect(self.refresh_script)
        c.sig_run_changed.connect(self.refresh_run)
        c.sig_drill_scenario.connect(self.draw_scenario)
        c.sig_routes.connect(self._draw_routes)
        c.sig_replan_busy.connect(self._on_replan_busy)
        c.sig_replan_progress.connect(self._on_progress)
        c.sig_exported.connect(self._on_exported)
        c.sig_message.connect(session.sig_message)
        session.sig_scenario_changed.connect(lambda *_: self.refresh_script())
        # an edit of the workspace redraws its layers: a running drill's state goes back on top
        session.sig_scenario_changed.connect(lambda *_: self.redraw_drill())
        self.refresh_script()
        self.refresh_run()

    # ---- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        root = QWidget(self)
        lay = QVBoxLayout(root)
        top = QHBoxLayout()
        self.script_combo = QComboBox(root)
        self.script_combo.setMinimumContentsLength(14)
        self.script_combo.activated.connect(
            lambda i: self.controller.select(self.script_combo.itemData(i))
        )
        top.addWidget(QLabel(tr("演练脚本"), root))
        top.addWidget(self.script_combo, 1)
        self.new_button = self._button(tr("新建…"), self.new_script, top)
        self.import_button = self._button(tr("导入…"), self.import_script, top)
        self.export_button = self._button(tr("导出…"), self.export_script, top)
        self.delete_script_button = self._button(tr("删除"), self.controller.delete_script, top)
        lay.addLayout(top)
        head = QFormLayout()
        self.name_edit = QLineEdit(root)
        self.name_edit.editingFinished.connect(self._header_edited)
        self.start_edit = QDateTimeEdit(root)
        self.start_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.start_edit.editingFinished.connect(self._header_edited)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 2)
        row.addWidget(QLabel(tr("演练开始"), root))
        row.addWidget(self.start_edit, 1)
        head.addRow(tr("名称"), row)
        lay.addLayout(head)
        self.general_problem = QLabel("", root)
        self.general_problem.setTextFormat(Qt.TextFormat.PlainText)
        self.general_problem.setWordWrap(True)
        self.general_problem.setStyleSheet("color: #c62828;")
        self.general_problem.hide()
        lay.addWidget(self.general_problem)
        self.timeline = _table(TIMELINE_HEADERS, root)
        self.timeline.doubleClicked.connect(lambda _i: self.edit_inject())
        self.timeline.setMinimumHeight(150)
        lay.addWidget(self.timeline, 2)
        edit = QHBoxLayout()
        self.add_button = self._button(tr("添加插入…"), self.add_inject, edit)
        self.place_button = self._button(tr("地图上放置事件"), self.place_incident, edit)
        self.draw_button = QPushButton(tr("地图上画中断"), root)
        menu = QMenu(self.draw_button)
        for label, kind in (("点", "point"), ("线", "line"), ("面", "polygon")):
            act = QAction(tr(label), menu)
            act.triggered.connect(lambda _c=False, k=kind: self.draw_closure(k))
            menu.addAction(act)
        self.draw_button.setMenu(menu)
        edit.addWidget(self.draw_button)
        self.edit_button = self._button(tr("编辑…"), self.edit_inject, edit)
        self.remove_button = self._button(tr("删除插入"), self.remove_inject, edit)
        edit.addStretch(1)
        lay.addLayout(edit)
        # run
        opts = QHBoxLayout()
        self.mode_combo = QComboBox(root)
        self.mode_combo.addItem(tr("人工调度"), False)
        self.mode_combo.addItem(tr("自动调度"), True)
        self.seconds_spin = QDoubleSpinBox(root)
        self.seconds_spin.setRange(0.5, 600)
        self.seconds_spin.setValue(2.0)
        self.seconds_spin.setSuffix(tr(" 秒/步"))
        self.seed_spin = QSpinBox(root)
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setPrefix(tr("种子 "))
        self.start_button = self._button(tr("开始演练"), self.toggle_run, opts)
        opts.insertWidget(0, self.seed_spin)
        opts.insertWidget(0, self.seconds_spin)
        opts.insertWidget(0, self.mode_combo)
        lay.addLayout(opts)
        ctl = QHBoxLayout()
        self.play_button = self._button(tr("播放"), self.controller.play, ctl)
        self.pause_button = self._button(tr("暂停"), self.controller.pause, ctl)
        self.step_button = self._button(tr("下一插入"), self.controller.step, ctl)
        self.speed_combo = QComboBox(root)
        for f in SPEEDS:
            self.speed_combo.addItem(f"×{f}", float(f))
        self.speed_combo.currentIndexChanged.connect(
            lambda _i: self.controller.set_speed(self.speed_combo.currentData())
        )
        ctl.addWidget(self.speed_combo)
        self.skip_button = self._button(
            tr("继续（不调度）"), self.controller.continue_without_plan, ctl
        )
        self.cancel_button = self._button(tr("取消调度"), self.controller.cancel_replan, ctl)
        lay.addLayout(ctl)
        self.clock_label = QLabel("", root)
        self.clock_label.setTextFormat(Qt.TextFormat.PlainText)
        self.clock_label.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.status_label = QLabel("", root)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar(root)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        lay.addWidget(self.clock_label)
        lay.addWidget(self.status_label)
        lay.addWidget(self.progress)
        self.tabs = QTabWidget(root)
        self.log_table = _table(LOG_HEADERS, root)
        self.score_table = _table(SCORE_HEADERS, root)
        self.overall_table = _table((tr_noop("指标"), tr_noop("数值")), root)
        score = QWidget(root)
        sl = QVBoxLayout(score)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.score_table, 2)
        sl.addWidget(self.overall_table, 1)
        self.report_button = self._button(tr("导出报告…"), self.export_report, sl)
        self.tabs.addTab(self.log_table, tr("决定记录"))
        self.tabs.addTab(score, tr("评分"))
        lay.addWidget(self.tabs, 3)
        self.setWidget(root)

    def _button(self, text: str, slot: Any, layout: Any) -> QPushButton:
        b = QPushButton(text, self)
        b.clicked.connect(lambda _c=False: slot())
        layout.addWidget(b)
        return b

    # ---- script ------------------------------------------------------------------------------

    def refresh_script(self) -> None:
        c = self.controller
        scripts = c.scripts()
        self.script_combo.blockSignals(True)
        self.script_combo.clear()
        for key in sorted(scripts):
            self.script_combo.addItem(key, key)
        self.script_combo.setCurrentIndex(max(0, self.script_combo.findData(c.key)))
        self.script_combo.blockSignals(False)
        data = c.data()
        has = data is not None
        for w in (self.export_button, self.delete_script_button, self.add_button):
            w.setEnabled(has)
        for w in (self.place_button, self.draw_button):
            w.setEnabled(has and self.map_view is not None)
        for w in (self.name_edit, self.start_edit):
            w.setEnabled(has)
        self.name_edit.setText("" if data is None else str(data.get("name", "")))
        try:
            start = datetime.fromisoformat(str((data or {}).get("start") or ""))
            self.start_edit.setDateTime(QDateTime(start))
        except ValueError:
            pass
        injects = [] if data is None else list(data.get("injects") or [])
        problems, general = c.problems()
        self.general_problem.setText(general)
        self.general_problem.setVisible(bool(general))
        t = self.timeline
        t.setRowCount(len(injects))
        for r, raw in enumerate(injects):
            raw = raw if isinstance(raw, dict) else {}
            kind = str(raw.get("kind") or "")
            msg = problems.get(r, "")
            cells = (
                raw.get("at_min", ""),
                tr(KIND_ZH[kind]) if kind in KIND_ZH else kind,
                inject_target(raw),
                inject_details(raw),
                msg or "✓",
            )
            for col, text in enumerate(cells):
                item = _item(text, msg)
                if msg:
                    item.setBackground(ERROR_BG)
                t.setItem(r, col, item)
        self._enable_run()

    def selected_row(self) -> int:
        rows = self.timeline.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _header_edited(self) -> None:
        data = self.controller.data()
        if data is None:
            return
        start = self.start_edit.dateTime().toPyDateTime().replace(second=0, microsecond=0)
        if self.name_edit.text().strip() == str(data.get("name", "")) and start.isoformat() == str(
            data.get("start", "")
        ):
            return
        self.controller.set_header(self.name_edit.text(), start)

    def new_script(self, name: str | None = None) -> str | None:
        if name is None:
            name, ok = QInputDialog.getText(self, tr("新建演练脚本"), tr("名称"))
            if not ok:
                return None
        now = datetime.now().replace(second=0, microsecond=0)
        return self.controller.new_script(name, now)

    def import_script(self, path: Path | None = None) -> str | None:
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self, tr("导入演练脚本"), str(default_dir()), tr("演练脚本 (*.json)")
            )
            if not name:
                return None
            path = Path(name)
        return self.controller.import_file(path)

    def export_script(self, path: Path | None = None) -> bool:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self,
                tr("导出演练脚本"),
                str(default_dir() / f"{self.controller.key or 'drill'}.json"),
                tr("演练脚本 (*.json)"),
            )
            if not name:
                return False
            path = Path(name)
        return self.controller.export_file(path)

    # ---- injects -----------------------------------------------------------------------------

    def _dialog(self, raw: dict[str, Any], row: int | None) -> InjectDialog:
        data = self.controller.data() or {"injects": []}
        injects = list(data.get("injects") or [])
        others = [r for i, r in enumerate(injects) if i != row and isinstance(r, dict)]
        dlg = InjectDialog(
            self.session.scenario,
            raw,
            known_ids(self.session.scenario, others),
            sorted(self.window_.templates()) if self.window_ is not None else [],
            self,
            new_ids=self._new_ids(),
        )
        if row is None:
            dlg.accepted.connect(lambda: self.controller.add_inject(dlg.entity))
        else:
            dlg.accepted.connect(lambda: self.controller.replace_inject(row, dlg.entity))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _new_ids(self) -> dict[str, str]:
        """Ids for a new incident / closure inject, not used by the workspace or the script."""
        data = self.controller.data() or {}
        injects = [r for r in data.get("injects") or [] if isinstance(r, dict)]
        ids = known_ids(self.session.scenario, injects)
        out = {}
        for kind, prefix, bucket in (
            ("incident", "DRILL-INC-", "incidents"),
            ("closure", "DRILL-CL-", "closures"),
        ):
            n = 1
            while f"{prefix}{n}" in ids[bucket]:
                n += 1
            out[kind] = f"{prefix}{n}"
        return out

    def _new_raw(self, kind: str) -> dict[str, Any]:
        data = self.controller.data() or {}
        injects = [r for r in data.get("injects") or [] if isinstance(r, dict)]
        last = max((float(r.get("at_min") or 0) for r in injects), default=0.0)
        raw: dict[str, Any] = {"at_min": last + 10, "kind": kind}
        if kind in ("incident", "closure"):
            raw[kind] = {"id": self._new_ids()[kind]}
        return raw

    def add_inject(self) -> InjectDialog | None:
        if self.controller.data() is None:
            return None
        return self._dialog(self._new_raw("incident"), None)

    def edit_inject(self, row: int | None = None) -> InjectDialog | None:
        row = self.selected_row() if row is None else row
        data = self.controller.data()
        if data is None or not 0 <= row < len(data.get("injects") or []):
            return None
        raw = data["injects"][row]
        return self._dialog(raw if isinstance(raw, dict) else {}, row)

    def remove_inject(self, row: int | None = None) -> None:
        row = self.selected_row() if row is None else row
        if row >= 0:
            self.controller.remove_inject(row)

    def place_incident(self) -> None:
        """The next map click places a new-incident inject (Esc on the map cancels)."""
        if self.map_view is None or self.controller.data() is None:
            return
        self.pending = "incident"
        self.map_view.set_mode("pick")
        self._status(tr("单击地图确定演练事件位置"))

    def draw_closure(self, kind: str) -> None:
        """Draw a closure inject's geometry with the map's drawing tools."""
        if self.map_view is None or self.controller.data() is None:
            return
        self.pending = "closure"
        self.map_view.start_draw(kind)
        self._status(tr("在地图上绘制演练道路中断（线/面：双击或单击最后一点结束）"))

    def cancel_pending(self) -> None:
        """Esc: the next click / drawing is no longer the drill's."""
        self.pending = None

    def on_map_clicked(self, lon: float, lat: float) -> InjectDialog | None:
        if self.pending != "incident":
            return None
        self.pending = None
        if self.map_view is not None:
            self.map_view.set_mode("browse")
        raw = self._new_raw("incident")
        raw["incident"].update(lon=round(lon, 6), lat=round(lat, 6))
        return self._dialog(raw, None)

    def on_closure_drawn(self, text: str) -> InjectDialog | None:
        """A drawn geometry: the drill's when it asked for one, else the window's closure."""
        if self.pending != "closure":
            if self.window_ is not None:
                self.window_.add_closure_from_geojson(text)
            return None
        self.pending = None
        raw = self._new_raw("closure")
        with contextlib.suppress(json.JSONDecodeError):  # a bad drawing: typed in the form
            raw["closure"]["geometry"] = json.loads(text)
        return self._dialog(raw, None)

    # ---- run ---------------------------------------------------------------------------------

    def toggle_run(self) -> bool:
        c = self.controller
        if c.running:
            c.stop_run()
            return False
        ok = c.start_run(
            auto=bool(self.mode_combo.currentData()),
            seconds_per_step=self.seconds_spin.value(),
            seed=self.seed_spin.value(),
        )
        if ok:
            c.set_speed(self.speed_combo.currentData())
        return ok

    def _enable_run(self) -> None:
        c = self.controller
        drill = c.drill
        running = drill is not None
        problems, general = c.problems()
        can_start = c.data() is not None and not problems and not general
        self.start_button.setText(tr("结束演练") if running else tr("开始演练"))
        self.start_button.setEnabled(running or can_start)
        for w in (self.mode_combo, self.seconds_spin, self.seed_spin):
            w.setEnabled(not running)
        busy = c.job is not None
        awaiting = running and drill.awaiting is not None
        self.play_button.setEnabled(running and not drill.playing and not drill.finished)
        self.pause_button.setEnabled(running and drill.playing)
        self.step_button.setEnabled(running and not awaiting and drill.next_inject is not None)
        self.skip_button.setEnabled(awaiting and not busy)
        self.cancel_button.setEnabled(busy)
        self.report_button.setEnabled(c.shown_run is not None and bool(c.shown_run.steps))

    def refresh_run(self) -> None:
        self._enable_run()
        run = self.controller.shown_run
        if run is None:
            self._filled = None
            self.clock_label.setText(tr("未开始演练"))
            self.status_label.setText("")
            self.log_table.setRowCount(0)
            self.score_table.setRowCount(0)
            self.overall_table.setRowCount(0)
            return
        self.clock_label.setText(
            tr("模拟时间 {t}（T+{m:g} 分，×{s:g}）").format(
                t=run.simulated_at.strftime("%Y-%m-%d %H:%M:%S"),
                m=round(run.clock_min, 1),
                s=run.speed,
            )
        )
        self._status(self._status_text(run))
        shown = (id(run), len(run.log), len(run.steps))
        if shown != self._filled:  # the clock ticks 5× a second: refill only what changed
            self._filled = shown
            self._fill_log(run)
            self._fill_score(run)

    def _status_text(self, run: Any) -> str:
        if self.controller.drill is None:
            return tr("演练已结束")
        if run.awaiting is not None:
            what = tr("基准方案") if run.awaiting == 0 else tr(run.awaited_inject.kind_zh)
            if run.auto:
                return tr("第 {n} 步（{what}）：自动调度中…").format(n=run.awaiting, what=what)
            return tr("第 {n} 步（{what}）：请在调度方案面板生成并批准方案").format(
                n=run.awaiting, what=what
            )
        nxt = run.next_inject
        if nxt is None:
            return tr("全部插入已完成")
        return tr("下一插入：T+{m:g} 分 {what}").format(m=nxt.at_min, what=tr(nxt.kind_zh))

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    def _fill_log(self, run: Any) -> None:
        t = self.log_table
        t.setRowCount(len(run.log))
        for r, e in enumerate(run.log):
            t.setItem(r, 0, _item(e.simulated_at.strftime("%H:%M:%S")))
            t.setItem(r, 1, _item(e.wall_clock.strftime("%H:%M:%S")))
            t.setItem(r, 2, _item(e.text))
        t.scrollToBottom()

    def _fill_score(self, run: Any) -> None:
        records = run.records()
        t = self.score_table
        t.setRowCount(len(records))
        for r, rec in enumerate(records):
            m = rec["metrics"] if rec["plan_number"] else {}
            changed = rec["changed_orders"] or {}
            cells = (
                rec["step"],
                rec["at_min"],
                rec["text"],
                rec["plan_number"] or "—",
                rec["wall_s"],
                m.get("needs_on_time", ""),
                m.get("needs_late", ""),
                m.get("needs_unmet", ""),
                m.get("people_sheltered_on_time", ""),
                m.get("teams_on_site_on_time", ""),
                m.get("vehicle_km", ""),
                sum(changed.get(k, 0) for k in ("changed", "new", "cancelled")) if changed else "",
            )
            for col, text in enumerate(cells):
                t.setItem(r, col, _item(text))
        card = run.scorecard()
        rows = [(label, card[key]) for key, label in OVERALL_ROWS if key in card]
        if "note" in card:
            rows.append(("说明", card["note"]))
        o = self.overall_table
        o.setRowCount(len(rows))
        for r, (label, value) in enumerate(rows):
            o.setItem(r, 0, _item(tr(label)))
            o.setItem(r, 1, _item(value))

    def export_report(self, folder: Path | None = None) -> Any:
        if folder is None:
            name = QFileDialog.getExistingDirectory(
                self, tr("导出演练报告到文件夹"), str(default_dir())
            )
            if not name:
                return None
            folder = Path(name)
        return self.controller.export_report(folder)

    def _on_exported(self, folder: Path) -> None:
        self.session.sig_message.emit(
            "info", tr("演练报告已导出到 {path}").format(path=str(folder)), ""
        )

    def _on_replan_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self._enable_run()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progress.setFormat(message or "%p%")

    # ---- map ---------------------------------------------------------------------------------

    def draw_scenario(self, scenario: Any) -> None:
        """Show the drill's scenario on the map (None: the session's again)."""
        if self.map_view is None:
            return
        scn = self.session.scenario if scenario is None else scenario
        payloads = map_page.layer_payloads(scn, layers=list(DRILL_LAYERS))
        for layer in DRILL_LAYERS:
            self.map_view.set_layer_data(layer, payloads[layer])
        if scenario is None:
            self.map_view.set_layer_data("routes", empty_features())
        self._closed_gen += 1
        gen = self._closed_gen
        network = self.session.network
        if network is None or not scn.closures:
            self.map_view.set_layer_data("closed_roads", empty_features())
            return

        def done(fc: Any, _cancelled: bool) -> None:
            if gen == self._closed_gen and self.map_view is not None:
                self.map_view.set_layer_data("closed_roads", fc)

        self.runner.start(
            tr("计算受阻路段"),
            closed_roads_job,
            ClosedRoadsRequest(network, tuple(scn.closures), tr("受阻路段")),
            on_done=done,
            show=False,
        )

    def redraw_drill(self) -> None:
        """Draw the running drill's state again (after the map or a workspace layer was
        redrawn from the session)."""
        if self.controller.drill is not None:
            self.draw_scenario(self.controller.drill.state)

    def _draw_routes(self, routes: Any) -> None:
        if self.map_view is not None:
            self.map_view.set_layer_data("routes", routes)


def install_drill_panel(window: Any) -> DrillPanel:
    """Add the 演练 dock to the main ``window`` (tabbed with the 调度方案 dock), wired to its map:
    clicks and drawings the dock asks for come to it; other drawings stay the window's."""
    existing = window.findChild(DrillPanel, "dock_drill")
    if isinstance(existing, DrillPanel):
        return existing
    dispatch = window.dispatch_panel.controller
    controller = DrillController(window.session, window.runner, dispatch, parent=window)
    panel = DrillPanel(window.session, window.runner, controller, window.map, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    window.tabifyDockWidget(window.dispatch_panel, panel)
    window.dispatch_panel.raise_()
    window.view_menu.addAction(panel.toggleViewAction())
    bridge = window.map.bridge
    bridge.sig_map_clicked.connect(panel.on_map_clicked)
    bridge.sig_closure_drawn.disconnect(window.add_closure_from_geojson)
    bridge.sig_closure_drawn.connect(panel.on_closure_drawn)
    window.act_cancel.triggered.connect(panel.cancel_pending)
    controller.sig_drill_scenario.connect(lambda _s: window.dispatch_panel.refresh_stale())
    window.sig_map_drawn.connect(panel.redraw_drill)
    return panel


__all__ = ["DrillPanel", "install_drill_panel"]
