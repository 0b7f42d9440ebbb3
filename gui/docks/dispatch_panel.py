"""The dispatch panel (调度方案 dock): widgets and presentation of a dispatch controller.

The state and the jobs are :class:`gui.controllers.dispatch.DispatchController`'s (run/cancel,
stored plans, pins/forbids, approve, export; dropped results of another workspace); the use case
is :mod:`dispatch.service` (by default solved in a spawned child process, so solver C++ code
holding Python's GIL cannot stall the event loop). The dock shows:

- "生成调度方案" with a time-limit field, an engine choice, the deadline mode (时限：软 / 硬,
  :attr:`DispatchOptions.hard_deadlines`, with its trade-off in one line), a progress bar and
  Cancel; a cancelled run still delivers the best plan found so far (status CANCELLED);
- result tabs: overview (served and on-time shares, safety stock released), allocation
  (物资分配), team assignments (队伍派遣, late teams 迟到 N 分钟), vehicle routes (车辆路线) and
  the needs not met on time (未满足或迟到, with 状态 按时/迟到/未满足), filled by
  :mod:`gui.docks.plan_tables`; unserved rows are red with their Chinese reasons, also inside
  the allocation and team tables, late rows orange;
- the routes on the map's "routes" layer (the controller's map payload,
  :func:`gui.plan_layers.route_features`): along the roads, one colour per vehicle, arrowheads
  and numbered stops;
- pin (固定) / forbid (禁止) / reassign a team–incident pair from the assignment table (context
  menu or buttons, :mod:`gui.docks.team_constraints`), applied by the next run;
- the plan's status steps 批准… / 下达… / 开始执行… / 完成… / 作废… (enabled by the plan's
  status; :class:`gui.docks.plan_step_dialog.PlanStepDialog` asks for the name, the note or
  reason, and for 批准/下达 shows what :func:`dispatch.plan_review.review_items` finds; a
  部分方案 needs an explicit confirmation), export the orders (PDF/XLSX/GeoJSON/HTML/CSV/JSON)
  and open the PDF;
- after a cancelled run, its 部分方案 does not silently replace the plan shown: the operator
  chooses 保留当前方案 (default) or 显示部分方案 (:attr:`DispatchPanel.ask_partial`).

Every plan computed is stored in the workspace documents through the session (one undoable step
each); status steps are records outside the undo history (Ctrl+Z leaves an approval in place).
The stored-plan list shows each plan's status (and 部分方案). The panel never edits the scenario.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, QTimer, QUrl, pyqtBoundSignal, pyqtSignal
from PyQt6.QtGui import QAction, QColor, QDesktopServices
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
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
from dispatch.plan import Plan, stored_status_label
from dispatch.records import PlanStatus
from dispatch.summary import INCIDENT_COLUMNS
from gis.paths import default_dir
from gui.controllers.dispatch import (
    DispatchController,
    ExportDone,
    RunFinished,
    ShownPlan,
)
from gui.docks.plan_step_dialog import PlanStepDialog, StepAnswer, ask_show_partial
from gui.docks.plan_tables import (
    UNSERVED_FG,
    PlanTable,
    PlanTables,
    fill_plan_tables,
    incident_overview_rows,
    plan_shares_text,
)
from gui.docks.team_constraints import TeamConstraintTools
from gui.i18n import current_language, tr, tr_noop
from gui.map_view import MapView
from gui.session import Session
from gui.workers import Job, JobRunner

log = logging.getLogger(__name__)

ENGINE_CHOICES: tuple[tuple[str, str], ...] = (
    ("混合（PyVRP + OR-Tools）", "hybrid"),
    ("PyVRP", "pyvrp"),
    ("OR-Tools", "ortools"),
)

#: the status step buttons: (attribute, label, target status)
STEP_BUTTONS: tuple[tuple[str, str, PlanStatus], ...] = (
    ("approve_button", "批准方案…", PlanStatus.APPROVED),
    ("issue_button", "下达…", PlanStatus.ISSUED),
    ("start_button", "开始执行…", PlanStatus.EXECUTING),
    ("complete_button", "完成…", PlanStatus.COMPLETED),
    ("void_button", "作废…", PlanStatus.VOID),
)

#: the result tabs, in order (translated when shown)
TAB_TITLES: tuple[str, ...] = ("概况", "物资分配", "队伍派遣", "车辆路线", "未满足或迟到")

#: the deadline modes (label, DispatchOptions.hard_deadlines, the trade-off in one line)
DEADLINE_CHOICES: tuple[tuple[str, bool, str], ...] = (
    (
        "软（全部送达，部分迟到）",
        False,
        "软时限：能送的都送到，晚于时限的标为迟到并注明迟到多久",
    ),
    (
        "硬（只送能按时到的，可能少送）",
        True,
        "硬时限：只安排能在时限内到达的车辆和队伍，赶不上的列为未满足（超出时限）",
    ),
)


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
        #: after a cancelled run: (部分方案, plan shown) → True to show the 部分方案
        self.ask_partial: Callable[[Plan, Plan | None], bool] = lambda partial, current: (
            ask_show_partial(self, partial, current)
        )
        #: asks for a status step (replaceable in tests)
        self.ask_step: Callable[[Plan, PlanStatus], StepAnswer | None] = lambda plan, target: (
            PlanStepDialog.ask(self, plan, target)
        )
        self._labels: dict[str, tuple[str, str]] = {}  # number → (stored text, status label)
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
        self.deadline_mode = QComboBox(body)
        for label, hard, _tradeoff in DEADLINE_CHOICES:
            self.deadline_mode.addItem(tr(label), hard)
        self.deadline_tradeoff = QLabel("", body)
        self.deadline_tradeoff.setTextFormat(Qt.TextFormat.PlainText)
        self.deadline_tradeoff.setWordWrap(True)
        self.deadline_tradeoff.setStyleSheet("color: #555;")
        self.deadline_mode.currentIndexChanged.connect(self._on_deadline_mode)
        form.addRow(tr("时限"), self.deadline_mode)
        form.addRow("", self.deadline_tradeoff)
        self._on_deadline_mode(self.deadline_mode.currentIndex())
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
        self.tabs.setUsesScrollButtons(False)  # the dock is at least as wide as its tabs
        # 概况: the per-incident figures in a table (text columns padded with spaces never line
        # up: no font here draws a CJK character exactly two Latin ones wide), the rest as text
        self.overview_page = QWidget(body)
        page = QVBoxLayout(self.overview_page)
        page.setContentsMargins(0, 0, 0, 0)
        self.overview_table = PlanTable([h for h, _w, _r in INCIDENT_COLUMNS])
        self.overview = QPlainTextEdit(body)
        self.overview.setReadOnly(True)
        page.addWidget(self.overview_table, 1)
        page.addWidget(self.overview, 2)
        self.alloc_table = PlanTable([tr_noop("事发点/场所"), tr_noop("物资"), tr_noop("数量"),
            tr_noop("出发储备库"), tr_noop("预计到达"), tr_noop("说明")])
        self.team_table = PlanTable([tr_noop("队伍"), tr_noop("事发点"), tr_noop("技能"),
            tr_noop("人数"), tr_noop("预计到达"), tr_noop("约束/说明")])
        self.route_table = PlanTable([tr_noop("车辆"), tr_noop("趟数"), tr_noop("最后送达"),
            tr_noop("里程"), tr_noop("用时"), tr_noop("停靠点")])
        self.unserved_table = PlanTable([tr_noop("状态"), tr_noop("地点"), tr_noop("项目"),
            tr_noop("数量"), tr_noop("迟到(分钟)"), tr_noop("原因"), tr_noop("说明")])
        self.tables = PlanTables(
            self.alloc_table, self.team_table, self.route_table, self.unserved_table
        )
        pages = (
            self.overview_page,
            self.alloc_table,
            self.team_table,
            self.route_table,
            self.unserved_table,
        )
        for w, title in zip(pages, TAB_TITLES):
            self.tabs.addTab(w, tr(title))
        lay.addWidget(self.tabs, 1)
        self._build_relax(body, lay)

        # team constraints: the buttons act on the Teams tab's selection, shown with that tab only
        self.constraints = TeamConstraintTools(
            self.controller,
            self.session,
            self.team_table,
            run=lambda: self.run_dispatch(),
            message=lambda level, text: self._message(level, text),
            parent=body,
        )
        self.team_tools = self.constraints
        self.constraints_label = self.constraints.label
        lay.addWidget(self.team_tools)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._on_tab_changed(self.tabs.currentIndex())
        lay.addWidget(self.constraints_label)

        srow = QHBoxLayout()
        for attr, label, target in STEP_BUTTONS:
            button = QPushButton(tr(label), body)
            button.clicked.connect(lambda _c=False, t=target: self.change_status(t))
            setattr(self, attr, button)
            srow.addWidget(button)
        lay.addLayout(srow)
        arow = QHBoxLayout()
        self.export_button = QPushButton(tr("导出指令…"), body)
        self.export_button.clicked.connect(lambda: self.export())
        # orders for Chinese teams stay Chinese; this one writes the PDF/XLSX/HTML/CSV in English
        self.export_en_button = QPushButton(tr("导出英文指令…"), body)
        self.export_en_button.clicked.connect(lambda: self.export(language="en"))
        self.open_pdf_button = QPushButton(tr("打开 PDF"), body)
        self.open_pdf_button.clicked.connect(self.open_pdf)
        for w in (self.export_button, self.export_en_button, self.open_pdf_button):
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

    def _build_relax(self, body: QWidget, lay: QVBoxLayout) -> None:
        """"怎样可以满足？": the changes that fix late or unmet needs (gui.controllers.relax)."""
        from gui.controllers.relax import RelaxController

        self.relax = RelaxController(self.controller, parent=self)
        self.relax_button = QPushButton(tr("怎样可以满足？"), body)
        self.relax_button.setToolTip(
            tr("为迟到或未满足的需求查找最小调整（增派车辆、放宽时限、启用安全库存、调派队伍），逐项重新求解验证")
        )
        self.relax_button.clicked.connect(lambda: self.relax.start())
        self.relax.sig_busy_changed.connect(lambda _b: self._update_buttons())
        self.relax.sig_done.connect(self._on_relax_done)
        self.relax.sig_failed.connect(
            lambda m: self.session.sig_message.emit("warning", m, "")
        )
        lay.addWidget(self.relax_button)
        self.relax_dialog: Any = None

    def _on_relax_done(self, report: Any, _cancelled: bool) -> None:
        from gui.docks.relax_dialog import RelaxDialog

        self.relax_dialog = RelaxDialog(report, self)
        self.relax_dialog.show()

    # ---- running --------------------------------------------------------------------------------

    def preload_solvers(self) -> Job | None:
        """Import what plans and exports need in a background job, once."""
        return self.controller.preload()

    def options(self, seconds: float | None = None, engine: str | None = None) -> DispatchOptions:
        """The :class:`DispatchOptions` of the next run (time limit, engine, deadline mode, pins,
        forbids)."""
        return self.controller.options(
            float(seconds if seconds is not None else self.seconds.value()),
            engine or self.engine.currentData() or None,
            hard_deadlines=self.hard_deadlines,
        )

    @property
    def hard_deadlines(self) -> bool:
        """The deadline mode chosen: True = hard (only what arrives in time is sent)."""
        return bool(self.deadline_mode.currentData())

    def _on_deadline_mode(self, index: int) -> None:
        tradeoff = DEADLINE_CHOICES[max(0, index)][2]
        self.deadline_tradeoff.setText(tr(tradeoff))
        self.deadline_mode.setToolTip(tr(tradeoff))

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
        if not done.shown:
            state = tr("已取消，部分方案 {no} 已保存").format(no=done.plan.number)
        self.progress_label.setText(
            tr("{state}（用时 {s:.1f} 秒）").format(state=state, s=done.elapsed_s)
        )
        if not done.shown:
            if self.ask_partial(done.plan, self.plan):
                self.controller.show_pending()
            else:
                self.controller.keep_current()
            self._refresh_stored()
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
            self.overview_table.fill([])
        else:
            from dispatch.replan import changes_text
            from dispatch.summary import summary_text

            lang = current_language()  # the child's ready-made summary is Chinese
            self.overview.setPlainText(
                summary  # Chinese, without the incident table (dispatch.service)
                if summary is not None and lang == "zh_CN"
                else summary_text(
                    plan, max_unserved=50, incident_table=False, language=lang
                ) + changes_text(plan)
            )
            self.overview_table.fill(incident_overview_rows(plan))
        fill_plan_tables(self.tables, plan, self.session.scenario, self.pins)
        self._retitle()

    def retranslate(self) -> None:
        """Re-word what this panel formats itself (overview, tables, titles) after a language
        switch; fixed texts are re-worded by :func:`gui.retranslate.retranslate`."""
        self._fill()
        self._update_summary()

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
                self.unserved_table.rowCount(),
            )
        )
        for i, (title, n) in enumerate(zip(TAB_TITLES[1:], counts), start=1):
            self.tabs.setTabText(i, tr(title) if n is None else f"{tr(title)} ({n})")
        bar = self.tabs.tabBar()
        problems = plan is not None and self.unserved_table.rowCount() > 0
        bar.setTabTextColor(4, UNSERVED_FG if problems else QColor())

    def _update_summary(self) -> None:
        plan = self.plan
        if plan is None:
            self.summary.setText(tr("尚未生成调度方案"))
            return
        text = tr(
            "方案 {no}　{status}　求解：{overall}　车辆 {v} 辆　队伍 {t} 支　指令 {o} 份"
        ).format(
            no=plan.number,
            status=tr(plan.status.value) + (tr("（部分方案）") if plan.partial else ""),
            overall=tr(plan.overall.label_zh),
            v=plan.vehicles_used,
            t=len(plan.assignment),
            o=len(plan.orders),
        )
        text += "\n" + plan_shares_text(plan)
        for a in plan.approvals:
            text += "\n" + tr("{action}：{who}　{when}").format(
                action=tr(a.action), who=a.who, when=f"{a.when:%Y-%m-%d %H:%M:%S}"
            )
            if a.note:
                text += tr("　{note}").format(note=a.note)
        self.summary.setText(text)

    def refresh_stale(self) -> None:
        """Say again whether the plan shown is stale (the scenario runs plan changed without
        the session's changing: a drill's inject, :mod:`gui.docks.drill_panel`)."""
        self._update_stale()

    def _update_stale(self) -> None:
        if self.controller.stale:
            self.stale.setText(tr("场景已修改：此方案基于修改前的数据，建议重新生成"))
            self.stale.show()
        else:
            self.stale.hide()
            self.stale.setText("")
        self.constraints.refresh_incidents()

    def _update_buttons(self) -> None:
        running = self.busy
        has = self.plan is not None
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        allowed = set(self.plan.allowed_next()) if self.plan is not None else set()
        for attr, _label, target in STEP_BUTTONS:
            getattr(self, attr).setEnabled(has and not running and target in allowed)
        self.export_button.setEnabled(has)
        self.export_en_button.setEnabled(has)
        self.open_pdf_button.setEnabled(self.controller.exported_pdf() is not None)
        self.relax_button.setEnabled(has and not running and not self.relax.busy)
        self.constraints.update_state(has)

    # ---- stored plans ---------------------------------------------------------------------------

    def stored_plans(self) -> dict[str, str]:
        return self.controller.stored_plans()

    def _refresh_stored(self) -> None:
        self.stored.blockSignals(True)
        self.stored.clear()
        stored = self.stored_plans()
        for number in sorted(stored, reverse=True):
            text = stored[number]
            cached = self._labels.get(number)
            if cached is None or cached[0] is not text:
                cached = self._labels[number] = (text, stored_status_label(text))
            status, partial = cached[1].removesuffix("（部分方案）"), cached[1].endswith("）")
            label = number
            if status:
                label += f"　{tr(status)}" + (tr("（部分方案）") if partial else "")
            self.stored.addItem(label, number)
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
        self.constraints.pin(team_id, incident_id)

    def forbid(self, team_id: str, incident_id: str) -> None:
        """Forbid sending ``team_id`` to ``incident_id`` in the next run."""
        self.constraints.forbid(team_id, incident_id)

    def clear_constraints(self) -> None:
        self.controller.clear_constraints()

    def _on_constraints_changed(self) -> None:
        fill_plan_tables(self.tables, self.plan, self.session.scenario, self.pins)
        self._update_buttons()

    def selected_pair(self) -> tuple[str, str] | None:
        return self.constraints.selected_pair()

    def team_menu(self, team: str, incident: str) -> QMenu:
        """The context menu of an assignment row (pin, forbid, reassign to another incident)."""
        return self.constraints.team_menu(team, incident)

    # ---- approve / export -----------------------------------------------------------------------

    def change_status(
        self,
        to: PlanStatus | str,
        name: str | None = None,
        note: str = "",
        *,
        allow_partial: bool = False,
    ) -> Plan | None:
        """Move the shown plan to ``to``; asks (:attr:`ask_step`) when ``name`` is None."""
        plan = self.plan
        if plan is None:
            return None
        target = PlanStatus(to)
        if name is None:
            answer = self.ask_step(plan, target)
            if answer is None:
                return None
            title = tr("调度方案状态")
            if not answer.who.strip():
                # said where the operator is looking, not only in the (hidden) messages tab
                text = (
                    tr("未批准：请填写批准人姓名。")
                    if target == PlanStatus.APPROVED
                    else tr("未办理：请填写经办人姓名。")
                )
                QMessageBox.warning(self, title, text)
                return None
            if target == PlanStatus.VOID and not answer.note.strip():
                QMessageBox.warning(self, title, tr("未作废：请填写作废原因。"))
                return None
            name, note, allow_partial = answer.who.strip(), answer.note, answer.allow_partial
        return self.controller.change_status(target, name, note, allow_partial=allow_partial)

    def approve(
        self, name: str | None = None, note: str = "", *, allow_partial: bool = False
    ) -> Plan | None:
        """Approve the shown plan (asks for the name, with the review, when ``name`` is None)."""
        return self.change_status(PlanStatus.APPROVED, name, note, allow_partial=allow_partial)

    def export(
        self, folder: Path | str | None = None, *, open_pdf: bool = True, language: str = "zh_CN"
    ) -> Job | None:
        """Write the orders of the shown plan to ``folder`` in the background (asks if None);
        ``language``: of the orders, spreadsheet, map and CSV (Chinese for the teams by default;
        ``en`` from 导出英文指令…)."""
        if self.plan is None:
            return None
        if folder is None:
            start = str(default_dir(self.session.path, fallback=Path.home()))
            chosen = QFileDialog.getExistingDirectory(self, tr("选择导出文件夹"), start)
            if not chosen:
                return None
            folder = Path(chosen) / self.plan.number
        return self.controller.export(Path(folder), open_pdf=open_pdf, language=language)

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


__all__ = [
    "ENGINE_CHOICES",
    "STEP_BUTTONS",
    "TAB_TITLES",
    "DispatchPanel",
    "install_dispatch_panel",
]
