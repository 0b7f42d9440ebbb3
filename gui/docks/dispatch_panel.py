"""The dispatch panel (调度方案 dock): widgets and presentation of a dispatch controller.

The state and the jobs are :class:`gui.controllers.dispatch.DispatchController`'s (run/cancel,
stored plans, pins/forbids, approve, export; dropped results of another workspace); the use case
is :mod:`dispatch.service` (by default solved in a spawned child process, so solver C++ code
holding Python's GIL cannot stall the event loop). The dock shows:

- "生成调度方案" with a time-limit field, an engine choice, a progress bar and Cancel; a
  cancelled run still delivers the best plan found so far (status CANCELLED);
- result tabs: overview, allocation (物资分配), team assignments (队伍派遣), vehicle routes
  (车辆路线) and unserved needs (未满足需求), filled by :mod:`gui.docks.plan_tables`; unserved rows
  are red with their Chinese reasons, also inside the allocation and team tables;
- the routes on the map's "routes" layer (the controller's map payload,
  :func:`gui.plan_layers.route_features`): along the roads, one colour per vehicle, arrowheads
  and numbered stops;
- pin (固定) / forbid (禁止) / reassign a team–incident pair from the assignment table (context
  menu or buttons), applied by the next run;
- approve (批准, name prompt), export the orders (PDF/XLSX/GeoJSON/HTML/CSV/JSON) and open the PDF.

Every plan computed and every approval is stored in the workspace documents through the session
(one undoable step each). The panel never edits the scenario.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QPoint, Qt, QTimer, QUrl, pyqtBoundSignal, pyqtSignal
from PyQt6.QtGui import QAction, QColor, QDesktopServices, QFont, QFontDatabase
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from dispatch.options import DispatchOptions
from dispatch.plan import Plan
from gui.controllers.dispatch import (
    DispatchController,
    ExportDone,
    RunFinished,
    ShownPlan,
)
from gui.docks.plan_tables import (
    UNSERVED_FG,
    PlanTable,
    PlanTables,
    fill_plan_tables,
)
from gui.i18n import tr
from gui.map_view import MapView
from gui.session import Session
from gui.workers import Job, JobRunner

log = logging.getLogger(__name__)

ENGINE_CHOICES: tuple[tuple[str, str], ...] = (
    ("混合（PyVRP + OR-Tools）", "hybrid"),
    ("PyVRP", "pyvrp"),
    ("OR-Tools", "ortools"),
)

#: the result tabs, in order (translated when shown)
TAB_TITLES: tuple[str, ...] = ("概况", "物资分配", "队伍派遣", "车辆路线", "未满足需求")


class DispatchPanel(QDockWidget):
    """The 调度方案 dock. ``map_view`` may be None (no map drawing, e.g. in tests)."""

    #: a plan is shown (Plan or None)
    sig_plan_changed = pyqtSignal(object)
    #: a run finished (Plan, cancelled)
    sig_run_finished = pyqtSignal(object, bool)
    sig_run_failed = pyqtSignal(str)
    #: export finished: {file name: Path}
    sig_exported = pyqtSignal(object)
    sig_busy_changed = pyqtSignal(bool)

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        map_view: MapView | None = None,
        parent: QWidget | None = None,
        *,
        controller: DispatchController | None = None,
    ) -> None:
        super().__init__(tr("调度方案"), parent)
        self.setObjectName("dock_dispatch")
        self.session = session
        self.controller = controller or DispatchController(session, runner, parent=self)
        self.map_view = map_view
        #: the F5 action, when installed in a window with a toolbar
        self.run_action: QAction | None = None
        #: opens a URL (the exported PDF); replaceable in tests
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._build()
        c = self.controller
        c.sig_busy_changed.connect(self._on_busy_changed)
        c.sig_progress.connect(self._on_progress)
        c.sig_cancelling.connect(
            lambda: self.progress_label.setText(tr("正在取消，保留当前最优结果…"))
        )
        c.sig_plan_shown.connect(self._on_plan_shown)
        c.sig_run_finished.connect(self._on_run_finished)
        c.sig_run_failed.connect(self._on_run_failed)
        c.sig_run_dropped.connect(self._on_run_dropped)
        c.sig_constraints_changed.connect(self._on_constraints_changed)
        c.sig_stored_changed.connect(self._refresh_stored)
        c.sig_exported.connect(self._on_exported)
        c.sig_message.connect(session.sig_message)
        session.sig_scenario_changed.connect(lambda *_: self._update_stale())
        self._refresh_stored()

    # ---- the controller's state, as the dock shows it ---------------------------------------------

    @property
    def plan(self) -> Plan | None:
        return self.controller.plan

    @property
    def routes_payload(self) -> Mapping[str, Any]:
        return self.controller.routes

    @property
    def pins(self) -> set[tuple[str, str]]:
        return self.controller.pins

    @property
    def forbids(self) -> set[tuple[str, str]]:
        return self.controller.forbids

    @property
    def busy(self) -> bool:
        return self.controller.busy

    @property
    def last_cancelled(self) -> bool:
        return self.controller.last_cancelled

    @property
    def last_run_s(self) -> float:
        return self.controller.last_run_s

    # ---- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)

        form = QFormLayout()
        self.seconds = QSpinBox(body)
        self.seconds.setRange(1, 3600)
        self.seconds.setValue(30)
        self.seconds.setSuffix(tr(" 秒"))
        self.seconds.setToolTip(tr("车辆路径求解的时间上限；其余步骤通常不到 1 秒"))
        form.addRow(tr("求解时限"), self.seconds)
        self.engine = QComboBox(body)
        for label, value in ENGINE_CHOICES:
            self.engine.addItem(tr(label), value)
        form.addRow(tr("路径引擎"), self.engine)
        self.stored = QComboBox(body)
        self.stored.setToolTip(tr("工作区中保存的调度方案"))
        self.stored.activated.connect(self._on_stored_chosen)
        form.addRow(tr("已存方案"), self.stored)
        lay.addLayout(form)

        row = QHBoxLayout()
        self.run_button = QPushButton(tr("生成调度方案"), body)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.run_dispatch())
        self.cancel_button = QPushButton(tr("取消"), body)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.run_button, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.progress = QProgressBar(body)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("", body)
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.progress)
        lay.addWidget(self.progress_label)

        self.summary = QLabel(tr("尚未生成调度方案"), body)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.stale = QLabel("", body)
        self.stale.setTextFormat(Qt.TextFormat.PlainText)
        self.stale.setStyleSheet("color: #b35c00;")
        self.stale.setWordWrap(True)
        self.stale.hide()
        lay.addWidget(self.summary)
        lay.addWidget(self.stale)

        self.tabs = QTabWidget(body)
        self.overview = QPlainTextEdit(body)
        self.overview.setReadOnly(True)
        # the overview text aligns its columns by display width (CJK = 2): a fixed-pitch font
        # with double-width CJK glyphs keeps them aligned
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setFamilies(["WenQuanYi Micro Hei Mono", "Noto Sans Mono CJK SC", *mono.families()])
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.overview.setFont(mono)
        self.alloc_table = PlanTable(
            ["事发点/场所", "物资", "数量", "出发储备库", "预计到达", "说明"]
        )
        self.team_table = PlanTable(["队伍", "事发点", "技能", "人数", "预计到达", "约束/说明"])
        self.route_table = PlanTable(["车辆", "趟数", "最后送达", "里程", "用时", "停靠点"])
        self.unserved_table = PlanTable(["地点", "项目", "缺口", "原因", "说明"])
        self.tables = PlanTables(
            self.alloc_table, self.team_table, self.route_table, self.unserved_table
        )
        pages = (
            self.overview,
            self.alloc_table,
            self.team_table,
            self.route_table,
            self.unserved_table,
        )
        for w, title in zip(pages, TAB_TITLES):
            self.tabs.addTab(w, tr(title))
        lay.addWidget(self.tabs, 1)

        # team constraints
        self.team_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.team_table.customContextMenuRequested.connect(self._team_menu)
        # the team-constraint buttons act on the Teams tab's selection: shown with that tab only
        self.team_tools = QWidget(body)
        trow = QHBoxLayout(self.team_tools)
        trow.setContentsMargins(0, 0, 0, 0)
        self.pin_button = QPushButton(tr("固定"), body)
        self.pin_button.setToolTip(tr("固定所选队伍派往该事件（重新计算时保持）"))
        self.pin_button.clicked.connect(lambda: self._on_selected_pair(self.pin))
        self.forbid_button = QPushButton(tr("禁止"), body)
        self.forbid_button.setToolTip(tr("禁止所选队伍派往该事件（重新计算时排除）"))
        self.forbid_button.clicked.connect(lambda: self._on_selected_pair(self.forbid))
        self.reassign = QComboBox(body)
        self.reassign.setToolTip(tr("把所选队伍改派到此事件（固定）"))
        self.reassign_button = QPushButton(tr("改派"), body)
        self.reassign_button.clicked.connect(self._reassign_selected)
        self.clear_button = QPushButton(tr("清除约束"), body)
        self.clear_button.clicked.connect(self.clear_constraints)
        for w in (self.pin_button, self.forbid_button, self.reassign, self.reassign_button):
            trow.addWidget(w)
        trow.addWidget(self.clear_button)
        lay.addWidget(self.team_tools)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._on_tab_changed(self.tabs.currentIndex())
        self.constraints_label = QLabel("", body)
        self.constraints_label.setTextFormat(Qt.TextFormat.PlainText)
        self.constraints_label.setWordWrap(True)
        lay.addWidget(self.constraints_label)

        arow = QHBoxLayout()
        self.approve_button = QPushButton(tr("批准方案…"), body)
        self.approve_button.clicked.connect(lambda: self.approve())
        self.export_button = QPushButton(tr("导出指令…"), body)
        self.export_button.clicked.connect(lambda: self.export())
        self.open_pdf_button = QPushButton(tr("打开 PDF"), body)
        self.open_pdf_button.clicked.connect(self.open_pdf)
        for w in (self.approve_button, self.export_button, self.open_pdf_button):
            arow.addWidget(w)
        lay.addLayout(arow)
        self.route_table.cellDoubleClicked.connect(self._pan_to_route)
        self.alloc_table.cellDoubleClicked.connect(
            lambda r, _c: self._select_key(self.alloc_table, r)
        )
        self.unserved_table.cellDoubleClicked.connect(
            lambda r, _c: self._select_key(self.unserved_table, r)
        )
        self.setWidget(body)
        self._update_buttons()

    # ---- running --------------------------------------------------------------------------------

    def preload_solvers(self) -> Job | None:
        """Import what plans and exports need in a background job, once."""
        return self.controller.preload()

    def options(self, seconds: float | None = None, engine: str | None = None) -> DispatchOptions:
        """The :class:`DispatchOptions` of the next run (time limit, engine, pins, forbids)."""
        return self.controller.options(
            float(seconds if seconds is not None else self.seconds.value()),
            engine or self.engine.currentData() or None,
        )

    def run_dispatch(self, seconds: float | None = None, engine: str | None = None) -> Job | None:
        """Start a run in the background; returns the job (None if one is already running)."""
        job = self.controller.run(self.options(seconds, engine))
        if job is not None:
            self.progress.setValue(0)
            self.progress_label.setText(tr("开始计算…"))
        return job

    def cancel(self) -> None:
        """Ask the running job to stop; it delivers the best plan found so far."""
        self.controller.cancel()

    def _on_busy_changed(self, busy: bool) -> None:
        self._update_buttons()
        self.sig_busy_changed.emit(busy)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.progress_label.setText(message)

    def _on_run_finished(self, done: RunFinished) -> None:
        self.progress.setValue(1000)
        state = tr("已取消，显示当前最优结果") if done.cancelled else tr("完成")
        self.progress_label.setText(
            tr("{state}（用时 {s:.1f} 秒）").format(state=state, s=done.elapsed_s)
        )
        self.sig_run_finished.emit(done.plan, done.cancelled)

    def _on_run_dropped(self) -> None:
        self.progress_label.setText(tr("工作区已切换，已丢弃上一工作区的计算结果"))
        self._update_buttons()

    def _on_run_failed(self, message: str, _details: str) -> None:
        self.progress.setValue(0)
        self.progress_label.setText(tr("计算失败：{m}").format(m=message))
        self._update_buttons()
        self.sig_run_failed.emit(message)

    # ---- showing a plan -------------------------------------------------------------------------

    def set_plan(
        self,
        plan: Plan | None,
        *,
        plan_json: str | None = None,
        routes: Mapping[str, Any] | None = None,
        summary: str | None = None,
    ) -> None:
        """Show ``plan`` in the tables and on the map (None clears)."""
        self.controller.show(plan, plan_json=plan_json, summary=summary, routes=routes)

    def _on_plan_shown(self, shown: ShownPlan) -> None:
        self._fill(shown.summary)
        if self.map_view is not None:
            self.map_view.set_layer_data("routes", dict(self.routes_payload))
        self._update_summary()
        self._update_stale()
        self._refresh_stored()
        self._update_buttons()
        self.sig_plan_changed.emit(shown.plan)

    def redraw_routes(self) -> None:
        """Push the shown plan's routes to a freshly drawn map page.

        A new page (workspace opened, recovery, OSM import, basemap change) starts with an empty
        routes layer, and a push made while the old page was still up is lost with it.
        """
        if self.map_view is not None and self.routes_payload.get("features"):
            self.map_view.set_layer_data("routes", dict(self.routes_payload))

    def _fill(self, summary: str | None = None) -> None:
        plan = self.plan
        if plan is None:
            self.overview.setPlainText("")
        else:
            from dispatch.replan import changes_text
            from dispatch.summary import summary_text

            self.overview.setPlainText(
                summary
                if summary is not None
                else summary_text(plan, max_unserved=50) + changes_text(plan)
            )
        fill_plan_tables(self.tables, plan, self.session.scenario, self.pins)
        self._retitle()

    def _on_tab_changed(self, index: int) -> None:
        self.team_tools.setVisible(index == TAB_TITLES.index("队伍派遣"))

    def _retitle(self) -> None:
        plan = self.plan
        counts = (
            (None, None, None, None)
            if plan is None
            else (
                len(plan.allocation),
                len(plan.assignment),
                plan.vehicles_used,
                len(plan.unserved),
            )
        )
        for i, (title, n) in enumerate(zip(TAB_TITLES[1:], counts), start=1):
            self.tabs.setTabText(i, tr(title) if n is None else f"{tr(title)} ({n})")
        bar = self.tabs.tabBar()
        bar.setTabTextColor(4, UNSERVED_FG if plan is not None and plan.unserved else QColor())

    def _update_summary(self) -> None:
        plan = self.plan
        if plan is None:
            self.summary.setText(tr("尚未生成调度方案"))
            return
        text = tr(
            "方案 {no}　{status}　求解：{overall}　车辆 {v} 辆　队伍 {t} 支　指令 {o} 份"
        ).format(
            no=plan.number,
            status=tr(plan.status.value),
            overall=tr(plan.overall.label_zh),
            v=plan.vehicles_used,
            t=len(plan.assignment),
            o=len(plan.orders),
        )
        for a in plan.approvals:
            text += "\n" + tr("{action}：{who}　{when}").format(
                action=tr(a.action), who=a.who, when=f"{a.when:%Y-%m-%d %H:%M:%S}"
            )
        self.summary.setText(text)

    def _update_stale(self) -> None:
        if self.controller.stale:
            self.stale.setText(tr("场景已修改：此方案基于修改前的数据，建议重新生成"))
            self.stale.show()
        else:
            self.stale.hide()
            self.stale.setText("")
        self._refresh_incidents()

    def _refresh_incidents(self) -> None:
        current = self.reassign.currentData()
        self.reassign.clear()
        for inc in self.session.scenario.open_incidents():
            if inc.required_skills:
                self.reassign.addItem(f"{inc.name}（{inc.id}）", inc.id)
        i = self.reassign.findData(current)
        if i >= 0:
            self.reassign.setCurrentIndex(i)

    def _update_buttons(self) -> None:
        running = self.busy
        has = self.plan is not None
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.approve_button.setEnabled(has and not running)
        self.export_button.setEnabled(has)
        self.open_pdf_button.setEnabled(self.controller.exported_pdf() is not None)
        for w in (self.pin_button, self.forbid_button, self.reassign_button):
            w.setEnabled(has)
        pins, forbids = self.pins, self.forbids
        self.clear_button.setEnabled(bool(pins or forbids))
        if pins or forbids:
            parts = [tr("固定 {t}→{i}").format(t=t, i=i) for t, i in sorted(pins)]
            parts += [tr("禁止 {t}→{i}").format(t=t, i=i) for t, i in sorted(forbids)]
            self.constraints_label.setText(tr("约束（重新生成时生效）：") + "；".join(parts))
        else:
            self.constraints_label.setText("")

    # ---- stored plans ---------------------------------------------------------------------------

    def stored_plans(self) -> dict[str, str]:
        return self.controller.stored_plans()

    def _refresh_stored(self) -> None:
        self.stored.blockSignals(True)
        self.stored.clear()
        for number in sorted(self.stored_plans(), reverse=True):
            self.stored.addItem(number, number)
        if self.plan is not None:
            i = self.stored.findData(self.plan.number)
            if i >= 0:
                self.stored.setCurrentIndex(i)
        self.stored.blockSignals(False)

    def _on_stored_chosen(self, index: int) -> None:
        self.show_stored(str(self.stored.itemData(index)))

    def show_stored(self, number: str) -> Plan | None:
        """Show a plan stored in the workspace documents."""
        return self.controller.show_stored(number)

    # ---- pins and forbids -----------------------------------------------------------------------

    def pin(self, team_id: str, incident_id: str) -> None:
        """Pin ``team_id`` to ``incident_id`` for the next run (a team has one pin at most)."""
        self.controller.pin(team_id, incident_id)

    def forbid(self, team_id: str, incident_id: str) -> None:
        """Forbid sending ``team_id`` to ``incident_id`` in the next run."""
        self.controller.forbid(team_id, incident_id)

    def clear_constraints(self) -> None:
        self.controller.clear_constraints()

    def _on_constraints_changed(self) -> None:
        fill_plan_tables(self.tables, self.plan, self.session.scenario, self.pins)
        self._update_buttons()

    def selected_pair(self) -> tuple[str, str] | None:
        rows = {i.row() for i in self.team_table.selectedIndexes()}
        for r in sorted(rows):
            key = self.team_table.row_key(r)
            if isinstance(key, str) and "|" in key:
                t, i = key.split("|", 1)
                return t, i
        return None

    def _on_selected_pair(self, fn: Callable[[str, str], None]) -> None:
        pair = self.selected_pair()
        if pair is None:
            self._message("info", tr("请先在队伍派遣表中选择一行"))
            return
        fn(*pair)

    def _reassign_selected(self) -> None:
        pair = self.selected_pair()
        target = self.reassign.currentData()
        if pair is None or not target:
            self._message("info", tr("请先选择队伍和目标事件"))
            return
        self.pin(pair[0], str(target))

    def _team_menu(self, pos: QPoint) -> None:
        index = self.team_table.indexAt(pos)
        if not index.isValid():
            return
        key = self.team_table.row_key(index.row())
        if not (isinstance(key, str) and "|" in key):
            return
        team, inc = key.split("|", 1)
        menu = self.team_menu(team, inc)
        menu.exec(self.team_table.viewport().mapToGlobal(pos))

    def team_menu(self, team: str, incident: str) -> QMenu:
        """The context menu of an assignment row (pin, forbid, reassign to another incident)."""
        menu = QMenu(self)
        a: QAction = menu.addAction(tr("固定此派遣"))
        a.triggered.connect(lambda: self.pin(team, incident))
        a = menu.addAction(tr("禁止此派遣"))
        a.triggered.connect(lambda: self.forbid(team, incident))
        sub = menu.addMenu(tr("改派到"))
        for inc in self.session.scenario.open_incidents():
            if inc.id != incident and inc.required_skills:
                act = sub.addAction(f"{inc.name}（{inc.id}）")
                act.triggered.connect(lambda _c=False, i=inc.id: self.pin(team, i))
        menu.addSeparator()
        a = menu.addAction(tr("按约束重新生成"))
        a.triggered.connect(lambda: self.run_dispatch())
        return menu

    # ---- approve / export -----------------------------------------------------------------------

    def approve(self, name: str | None = None, note: str = "") -> Plan | None:
        """Approve the shown plan (prompts for the approver's name when ``name`` is None)."""
        if self.plan is None:
            return None
        if name is None:
            text, ok = QInputDialog.getText(self, tr("批准调度方案"), tr("批准人姓名："))
            if not ok:
                return None
            if not text.strip():
                # said where the operator is looking, not only in the (hidden) messages tab
                QMessageBox.warning(self, tr("批准调度方案"), tr("未批准：请填写批准人姓名。"))
                return None
            name = text.strip()
        return self.controller.approve(name, note)

    def export(self, folder: Path | str | None = None, *, open_pdf: bool = True) -> Job | None:
        """Write the orders of the shown plan to ``folder`` in the background (asks if None)."""
        if self.plan is None:
            return None
        if folder is None:
            path = self.session.path
            start = str(path.parent) if path else str(Path.home())
            chosen = QFileDialog.getExistingDirectory(self, tr("选择导出文件夹"), start)
            if not chosen:
                return None
            folder = Path(chosen) / self.plan.number
        return self.controller.export(Path(folder), open_pdf=open_pdf)

    def _on_exported(self, done: ExportDone) -> None:
        self._update_buttons()
        self.sig_exported.emit(dict(done.result.files))
        if done.open_pdf:
            self.open_pdf()

    def open_pdf(self) -> bool:
        pdf = self.controller.exported_pdf()
        if pdf is None:
            return False
        return bool(self.open_url(QUrl.fromLocalFile(str(pdf))))

    # ---- map ------------------------------------------------------------------------------------

    def _pan_to_route(self, row: int, _col: int) -> None:
        plan = self.plan
        if plan is None or self.map_view is None:
            return
        vehicle = self.route_table.row_key(row)
        for r in plan.routes:
            if r.vehicle_id == vehicle:
                p = plan.place(r.depot_id)
                if p is not None:
                    self.map_view.pan_to(p.lon, p.lat)
                return

    def _select_key(self, table: PlanTable, row: int) -> None:
        key = table.row_key(row)
        if isinstance(key, str) and key:
            try:
                self.session.scenario.find(key)
            except KeyError:
                return
            self.session.select(key, "dispatch")

    # ---- misc -----------------------------------------------------------------------------------

    def _message(self, level: str, text: str, details: str = "") -> None:
        (log.warning if level == "error" else log.info)("%s", text)
        self.session.sig_message.emit(level, text, details)


def install_dispatch_panel(
    window: QMainWindow,
    *,
    session: Session,
    runner: JobRunner,
    map_view: MapView | None,
    view_menu: QMenu | None = None,
    toolbar: QToolBar | None = None,
    tabify_with: QDockWidget | None = None,
    map_drawn: pyqtBoundSignal | None = None,
) -> DispatchPanel:
    """Add the 调度方案 dock to ``window`` with what the window hands over explicitly.

    The dock goes to the right area (tabbed with ``tabify_with``, e.g. the event log), its
    toggle into ``view_menu``, an F5 "生成调度方案" action into ``toolbar``; once ``map_drawn``
    fires the modules are preloaded and the shown plan's routes redrawn. Installing twice
    returns the panel already there (no second dock, no second F5 action).
    """
    existing = window.findChild(DispatchPanel, "dock_dispatch")
    if isinstance(existing, DispatchPanel):
        return existing
    panel = DispatchPanel(session, runner, map_view, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    if tabify_with is not None:
        window.tabifyDockWidget(tabify_with, panel)
    if view_menu is not None:
        view_menu.addAction(panel.toggleViewAction())
    if toolbar is not None:
        act = QAction(tr("生成调度方案"), window)
        act.setShortcut("F5")
        act.triggered.connect(lambda: (panel.show(), panel.raise_(), panel.run_dispatch()))
        toolbar.addSeparator()
        toolbar.addAction(act)
        panel.run_action = act
    if map_drawn is not None:
        # import in the background once the map has drawn (not during a solve, not competing
        # with the first paint)
        map_drawn.connect(lambda: QTimer.singleShot(300, panel.preload_solvers))
        map_drawn.connect(panel.redraw_routes)
    return panel


__all__ = ["ENGINE_CHOICES", "TAB_TITLES", "DispatchPanel", "install_dispatch_panel"]
