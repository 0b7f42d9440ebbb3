"""The dispatch panel (调度方案 dock): run the dispatch engine, show and act on the plan.

- "生成调度方案" runs :func:`dispatch.pipeline.plan_dispatch` in a background job
  (:class:`gui.workers.JobRunner`) with a time-limit field, an engine choice, a progress bar and
  Cancel; a cancelled run still delivers the best plan found so far (status CANCELLED). By
  default the job drives a spawned child process that does the solving
  (:func:`dispatch_process_job`): solver C++ code holding Python's GIL cannot then stall the
  event loop (``benchmarks/bench_gui_responsiveness.py`` measures both ways).
- Result tabs: overview, allocation (物资分配), team assignments (队伍派遣), vehicle routes
  (车辆路线) and unserved needs (未满足需求). Unserved rows are shown in red with their Chinese
  reasons, also inside the allocation and team tables where they belong.
- The routes are drawn on the map's "routes" layer (:func:`gui.plan_layers.route_features`):
  along the roads, one colour per vehicle, with arrowheads and numbered stops.
- The operator pins (固定) or forbids (禁止) a team–incident pair from the assignment table
  (context menu or buttons) and re-solves: the pairs go to the assignment solver through
  :class:`dispatch.pipeline.DispatchOptions` ``pins`` / ``forbids``.
- Approve (批准, name prompt; time recorded by the plan's status workflow), export the orders
  (PDF/XLSX/GeoJSON/HTML/CSV/JSON via :func:`dispatch.pipeline.export_all`) and open the PDF.

Every plan computed is stored in the workspace documents (``documents["plans"][number]``)
through :meth:`gui.session.Session.apply` (one undoable step), as is every approval.
The panel never edits the scenario.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QPoint, Qt, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QAction, QBrush, QColor, QDesktopServices, QFont, QFontDatabase
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dispatch.orders import clock
from dispatch.plan import PLANS_DOCUMENT_KIND, Plan, PlanStatusError, with_plan
from dispatch.results import Unserved
from gui.i18n import tr
from gui.plan_layers import route_features, vehicle_colors

log = logging.getLogger(__name__)

#: Background / text colours of unserved rows.
UNSERVED_BG = QColor("#fde0dc")
UNSERVED_FG = QColor("#b71c1c")
PINNED_BG = QColor("#e3f2fd")
#: Item data roles: row kind ("line" / "unserved") and the row's key (e.g. (team, incident)).
KIND_ROLE = Qt.ItemDataRole.UserRole + 11
KEY_ROLE = Qt.ItemDataRole.UserRole + 12

ENGINE_CHOICES: tuple[tuple[str, str], ...] = (
    ("混合（PyVRP + OR-Tools）", "hybrid"),
    ("PyVRP", "pyvrp"),
    ("OR-Tools", "ortools"),
)

#: widest a result-table column starts (px); wider texts are elided, full in the tooltip
MAX_COLUMN_PX = 170

#: the result tabs, in order (translated when shown)
TAB_TITLES: tuple[str, ...] = ("概况", "物资分配", "队伍派遣", "车辆路线", "未满足需求")


# ------------------------------------------------------------------------------------------------
# Background job body (pure function of its data; no Qt)
# ------------------------------------------------------------------------------------------------


def dispatch_job(data: Mapping[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """Compute a plan and everything the panel shows of it, off the GUI thread.

    ``data``: ``scenario``, ``options`` (DispatchOptions), ``network`` (None → loaded from
    ``path`` when the workspace has roads, else travel times are straight-line estimates).
    Returns ``plan``, ``network`` (the one used), ``plan_json`` (the workspace document text),
    ``routes`` (the map payload), ``summary`` (overview text) and ``scenario_hash`` (of the
    input scenario): serialising a plan takes ~0.1 s, too long for the GUI thread.
    """
    from dispatch.pipeline import plan_dispatch
    from dispatch.plan import scenario_hash
    from dispatch.summary import summary_text

    # A full (generation 2) garbage collection stops every thread for its whole pass: ~0.1 s
    # over the heap of a loaded workspace (measured in bench_gui_responsiveness). The objects
    # alive now (workspace, network, modules) are frozen for the run so the collector scans
    # only what the run allocates; unfrozen afterwards so nothing leaks.
    gc.freeze()
    try:
        network = data.get("network")
        if network is None and data.get("path") and data.get("has_roads"):
            from gis.loading import load_road_network

            progress(0.0, tr("加载道路网络…"))
            network = load_road_network(Path(data["path"]), data["scenario"])
        plan = plan_dispatch(
            data["scenario"], network, data["options"], stop=stop, progress=progress
        )
        return {
            "plan": plan,
            "network": network,
            "plan_json": plan.to_json(indent=None),
            "routes": route_features(plan),
            "summary": summary_text(plan, max_unserved=50),
            "scenario_hash": scenario_hash(data["scenario"]),
        }
    finally:
        gc.unfreeze()


#: After Cancel, the child process gets this long to hand back its best plan before it is killed.
HARD_STOP_S = 20.0
#: Child → parent progress messages are throttled to this interval (unless the text changes).
PROGRESS_INTERVAL_S = 0.05


def _child_main(conn: Any, stop_event: Any, payload: Mapping[str, Any]) -> None:
    """Body of the dispatch child process: run :func:`dispatch_job`, send the result back.

    Messages on ``conn``: ``("progress", fraction, text)``, then ``("done", result)`` with
    ``plan_json``, ``routes``, ``summary``, ``scenario_hash``, or ``("error", text, traceback)``.
    """
    import threading
    import time
    import traceback

    lock = threading.Lock()  # solvers may report from their own threads
    last = [0.0, ""]

    def progress(fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if message == last[1] and fraction < 1.0 and now - last[0] < PROGRESS_INTERVAL_S:
            return
        last[0], last[1] = now, message
        with lock, contextlib.suppress(OSError, ValueError):
            conn.send(("progress", float(fraction), str(message)))

    try:
        out = dispatch_job(payload, stop=stop_event.is_set, progress=progress)
        msg: tuple[Any, ...] = (
            "done",
            {k: out[k] for k in ("plan_json", "routes", "summary", "scenario_hash")},
        )
    except BaseException as exc:  # reported to the GUI with the traceback
        msg = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    with lock:
        conn.send(msg)
        conn.close()


class DispatchProcessError(RuntimeError):
    """The dispatch child process failed or died (its message and traceback are kept)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def dispatch_process_job(data: Mapping[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """:func:`dispatch_job` in a child process (spawned), driven from a background thread.

    The GUI process then holds no solver code: C++ solver calls that keep Python's GIL (PyVRP's
    local search, up to ~0.1 s each, longer when the machine is busy) cannot stall the event
    loop. ``stop()`` is relayed through a multiprocessing Event; the child returns its best
    plan; if it does not within :data:`HARD_STOP_S` of the Cancel it is killed. The child loads
    the road network from the workspace (processed-network cache) when ``path`` is given,
    else the network is pickled to it. Same return value as :func:`dispatch_job`.
    """
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("spawn")
    payload = dict(data)
    if payload.get("path") and payload.get("has_roads"):
        payload["network"] = None  # loaded in the child (cached on disk)
    receiver, sender = ctx.Pipe(duplex=False)
    stop_event = ctx.Event()
    # not a daemon: the OR-Tools routing engine starts its own child process
    proc = ctx.Process(
        target=_child_main, args=(sender, stop_event, payload), name="reliefdesk-dispatch"
    )
    try:
        proc.start()
    except Exception as exc:  # e.g. a network that cannot be pickled: run here instead
        log.warning("dispatch child process not started (%s); solving in this process", exc)
        receiver.close()
        sender.close()
        return dispatch_job(data, stop=stop, progress=progress)
    sender.close()
    result: dict[str, Any] | None = None
    cancel_at: float | None = None
    try:
        while result is None:
            if cancel_at is None and stop():
                stop_event.set()
                cancel_at = time.monotonic()
            if cancel_at is not None and time.monotonic() - cancel_at > HARD_STOP_S:
                raise DispatchProcessError(
                    tr("计算进程在取消后 {s:.0f} 秒内未返回，已强制终止").format(s=HARD_STOP_S)
                )
            if not receiver.poll(0.05):
                if not proc.is_alive() and not receiver.poll(0):
                    raise DispatchProcessError(
                        tr("计算进程意外退出（退出码 {code}）").format(code=proc.exitcode)
                    )
                continue
            try:
                msg = receiver.recv()
            except EOFError:
                raise DispatchProcessError(
                    tr("计算进程意外退出（退出码 {code}）").format(code=proc.exitcode)
                ) from None
            if msg[0] == "progress":
                progress(msg[1], msg[2])
            elif msg[0] == "done":
                result = msg[1]
            else:
                log.error("dispatch child process failed:\n%s", msg[2])
                raise DispatchProcessError(str(msg[1]), str(msg[2]))
    finally:
        receiver.close()
        proc.join(5.0)
        if proc.is_alive():
            proc.kill()
            proc.join(5.0)
    plan = Plan.from_json(result["plan_json"])
    return {"plan": plan, "network": data.get("network"), **result}


#: Modules the GUI process needs for plans and exports (their imports hold the GIL, up to
#: ~0.1 s each), imported by :func:`preload_job` once, before any run.
BASE_MODULES: tuple[str, ...] = (
    "dispatch.pipeline",
    "dispatch.plan",
    "dispatch.orders",
    "dispatch.export.pdf",
    "dispatch.export.xlsx",
    "dispatch.export.geojson",
    "dispatch.export.html_map",
    "dispatch.export.csv",
)
#: The solver stack, preloaded too when runs are solved in this process (``isolation="thread"``).
SOLVER_MODULES: tuple[str, ...] = (
    "dispatch.problems",
    "dispatch.evacuation",
    "dispatch.allocation",
    "dispatch.assignment",
    "dispatch.routing",
    "dispatch.routing.engines.pyvrp",
    "dispatch.routing.engines.ortools",
    "gis.matrix",
)


def preload_job(data: Any, *, stop: Any, progress: Any) -> int:
    """Import ``data`` (module names; default all) in the background; returns how many loaded."""
    import importlib

    n = 0
    for name in data or (*BASE_MODULES, *SOLVER_MODULES):
        if stop():
            break
        try:
            importlib.import_module(name)
            n += 1
        except Exception:  # the real run reports it
            log.exception("preload of %s failed", name)
    return n


def export_job(data: Mapping[str, Any], *, stop: Any, progress: Any) -> dict[str, Path]:
    """Write the plan's files into ``data["folder"]`` (returns name → path)."""
    from dispatch.export import export_all

    progress(0.1, tr("导出调度指令…"))
    return export_all(data["plan"], Path(data["folder"]))


# ------------------------------------------------------------------------------------------------
# Formatting helpers
# ------------------------------------------------------------------------------------------------


def _eta(plan: Plan, seconds: float | None) -> str:
    """``09:42 (+37 分钟)`` in the UI language (clock time after the plan's creation)."""
    if seconds is None:
        return ""
    return tr("{t}（+{m:.0f} 分钟）").format(t=clock(plan.created_at, seconds), m=seconds / 60)


def _duration(seconds: float) -> str:
    """A duration in whole minutes, in the UI language (as ``dispatch.orders.format_duration``)."""
    minutes = int(round(float(seconds) / 60.0))
    if minutes < 1:
        return tr("不足 1 分钟")
    if minutes < 60:
        return tr("{m} 分钟").format(m=minutes)
    return tr("{h} 小时 {m} 分钟").format(h=minutes // 60, m=minutes % 60)


def _qty(plan: Plan, code: str, q: float) -> str:
    return f"{q:g} {plan.material_unit(code)}".strip()


def _item(text: Any, *, sort: Any = None, tip: str = "") -> QTableWidgetItem:
    it = QTableWidgetItem(str(text))
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if sort is not None:
        it.setData(Qt.ItemDataRole.UserRole, sort)
    if tip:
        # the full text first (a capped column may elide it), then the id / details
        it.setToolTip(tip if tip == str(text) else f"{text}\n{tip}")
    return it


def delivery_etas(plan: Plan) -> dict[tuple[str, str, str], float]:
    """(stockpile, site, material) → arrival of the last load of it (the delivery's ETA)."""
    out: dict[tuple[str, str, str], float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                for code, q in s.loads.items():
                    if q > 0:
                        key = (t.depot_id, s.site_id, code)
                        out[key] = max(out.get(key, 0.0), s.arrival_s)
    return out


def material_codes(plan: Plan, scenario: Any = None) -> set[str]:
    codes = {m.code for m in plan.materials} | {ln.material for ln in plan.allocation}
    if scenario is not None:
        codes |= {m.code for m in getattr(scenario, "materials", ())}
    return codes


def skill_names(plan: Plan) -> set[str]:
    return {s for o in plan.incidents for s in o.required_skills}


class PlanTable(QTableWidget):
    """Read-only table with plain-text cells; rows can be marked as unserved (red)."""

    def __init__(self, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels([tr(h) for h in headers])
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setDefaultSectionSize(22)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def fill(self, rows: list[tuple[list[QTableWidgetItem], str, Any]]) -> None:
        """Rows of (cells, kind, key); kind ``unserved`` is highlighted."""
        self.setSortingEnabled(False)
        self.clearContents()
        self.setRowCount(len(rows))
        for r, (cells, kind, key) in enumerate(rows):
            for c, it in enumerate(cells):
                it.setData(KIND_ROLE, kind)
                it.setData(KEY_ROLE, key)
                if kind == "unserved":
                    it.setBackground(QBrush(UNSERVED_BG))
                    it.setForeground(QBrush(UNSERVED_FG))
                elif kind == "pinned":
                    it.setBackground(QBrush(PINNED_BG))
                self.setItem(r, c, it)
        self.resizeColumnsToContents()
        # long place names and stop lists must not push the other columns out of the dock: cap
        # the widths (the full text is in the cell tooltip), keep at least the header readable
        header = self.horizontalHeader()
        for c in range(self.columnCount() - 1):
            if self.columnWidth(c) > MAX_COLUMN_PX:
                self.setColumnWidth(c, max(MAX_COLUMN_PX, header.sectionSizeHint(c)))
        self.setSortingEnabled(False)

    def row_kind(self, row: int) -> str:
        it = self.item(row, 0)
        return str(it.data(KIND_ROLE)) if it is not None else ""

    def row_key(self, row: int) -> Any:
        it = self.item(row, 0)
        return it.data(KEY_ROLE) if it is not None else None

    def rows_of_kind(self, kind: str) -> list[int]:
        return [r for r in range(self.rowCount()) if self.row_kind(r) == kind]

    def is_highlighted(self, row: int) -> bool:
        it = self.item(row, 0)
        return it is not None and it.background().color() == UNSERVED_BG


# ------------------------------------------------------------------------------------------------
# The panel
# ------------------------------------------------------------------------------------------------


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
        session: Any,
        runner: Any,
        map_view: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tr("调度方案"), parent)
        self.setObjectName("dock_dispatch")
        self.session = session
        self.runner = runner
        self.map_view = map_view
        self.plan: Plan | None = None
        self.pins: set[tuple[str, str]] = set()
        self.forbids: set[tuple[str, str]] = set()
        self.job: Any = None
        self.last_cancelled = False
        self.last_run_s = 0.0
        self.last_export: dict[str, Path] | None = None
        #: the plan number ``last_export`` belongs to ("Open PDF" is for that plan only)
        self.last_export_plan: str | None = None
        self.routes_payload: dict[str, Any] = route_features(None)
        self._plan_json: str | None = None
        self._hash_cache: tuple[Any, str] | None = None
        self._preload_job_started = False
        #: bumped when another workspace is opened: a run started before is then discarded
        self._workspace_gen = 0
        self._job_gen = 0
        #: where runs are solved: "process" (a spawned child; the GUI process never runs solver
        #: code) or "thread" (a background thread of this process)
        self.isolation = "process"
        #: opens a URL (the exported PDF); replaceable in tests
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._build()
        session.sig_documents_changed.connect(self._on_documents_changed)
        session.sig_scenario_changed.connect(lambda *_: self._update_stale())
        session.sig_workspace_loaded.connect(self._on_workspace_loaded)
        self._refresh_stored()

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

    def preload_solvers(self) -> Any:
        """Import the solver stack in a background job, once (see :func:`preload_job`)."""
        if self._preload_job_started:
            return None
        self._preload_job_started = True
        modules = BASE_MODULES if self.isolation == "process" else (*BASE_MODULES, *SOLVER_MODULES)
        return self.runner.start(tr("预加载求解器"), preload_job, modules, show=False)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def options(self, seconds: float | None = None, engine: str | None = None) -> Any:
        """The :class:`DispatchOptions` of the next run (time limit, engine, pins, forbids)."""
        from dispatch.pipeline import DispatchOptions

        existing = tuple(self.session.documents.get(PLANS_DOCUMENT_KIND, {}))
        return DispatchOptions(
            seconds=float(seconds if seconds is not None else self.seconds.value()),
            engine=engine or self.engine.currentData() or None,
            existing_numbers=existing,
            pins=tuple(sorted(self.pins)),
            forbids=tuple(sorted(self.forbids)),
        )

    def run_dispatch(self, seconds: float | None = None, engine: str | None = None) -> Any:
        """Start a run in the background; returns the job (None if one is already running)."""
        if self.job is not None:
            return None
        s = self.session
        if not s.scenario.open_incidents():
            self._message("warning", tr("没有进行中的事件，无需调度"))
            return None
        data = {
            "scenario": s.scenario,
            "options": self.options(seconds, engine),
            "network": s.network,
            "path": s.path,
            "has_roads": s.road_edges is not None,
        }
        self.last_cancelled = False
        self.progress.setValue(0)
        self.progress_label.setText(tr("开始计算…"))
        job = self.runner.start(
            tr("生成调度方案"),
            dispatch_process_job if self.isolation == "process" else dispatch_job,
            data,
            on_done=self._on_done,
            on_error=self._on_failed,
        )
        job.sig_progress.connect(self._on_progress)
        self.job = job
        self._job_gen = self._workspace_gen
        self._update_buttons()
        self.sig_busy_changed.emit(True)
        return job

    def cancel(self) -> None:
        """Ask the running job to stop; it delivers the best plan found so far."""
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText(tr("正在取消，保留当前最优结果…"))

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.progress_label.setText(message)

    def _on_done(self, result: dict[str, Any], cancelled: bool) -> None:
        job, self.job = self.job, None
        self.last_run_s = float(getattr(job, "elapsed_s", 0.0) or 0.0)
        self.last_cancelled = bool(cancelled)
        self.sig_busy_changed.emit(False)
        plan: Plan = result["plan"]
        if self._job_gen != self._workspace_gen:
            self.progress_label.setText(tr("工作区已切换，已丢弃上一工作区的计算结果"))
            self._update_buttons()
            return
        self.progress.setValue(1000)
        state = tr("已取消，显示当前最优结果") if cancelled else tr("完成")
        self.progress_label.setText(
            tr("{state}（用时 {s:.1f} 秒）").format(state=state, s=self.last_run_s)
        )
        scenario = job.data["scenario"] if job is not None else None
        if scenario is not None and result.get("scenario_hash"):
            self._hash_cache = (scenario, str(result["scenario_hash"]))
        plan_json = result.get("plan_json") or plan.to_json(indent=None)
        self._plan_json = plan_json
        self.plan = plan  # the document handler then sees the shown plan stored unchanged
        self._store(plan, tr("生成调度方案 {no}").format(no=plan.number), plan_json)
        self.set_plan(
            plan, plan_json=plan_json, routes=result.get("routes"), summary=result.get("summary")
        )
        self._message(
            "warning" if plan.is_partial else "info",
            tr("调度方案 {no}：{status}，未满足 {n} 项").format(
                no=plan.number, status=tr(plan.overall.label_zh), n=len(plan.unserved)
            ),
        )
        self.sig_run_finished.emit(plan, bool(cancelled))

    def _on_failed(self, message: str, details: str) -> None:
        self.job = None
        self.sig_busy_changed.emit(False)
        self.progress.setValue(0)
        self.progress_label.setText(tr("计算失败：{m}").format(m=message))
        self._message("error", tr("调度计算失败：{m}").format(m=message), details)
        self._update_buttons()
        self.sig_run_failed.emit(message)

    # ---- showing a plan -------------------------------------------------------------------------

    def set_plan(
        self,
        plan: Plan | None,
        *,
        plan_json: str | None = None,
        routes: dict[str, Any] | None = None,
        summary: str | None = None,
    ) -> None:
        """Show ``plan`` in the tables and on the map (None clears).

        ``plan_json``, ``routes`` and ``summary`` may be given precomputed (by the job).
        """
        self.plan = plan
        self._plan_json = plan_json
        self._fill_tables(summary)
        self.routes_payload = routes if routes is not None else route_features(plan)
        if self.map_view is not None:
            self.map_view.set_layer_data("routes", self.routes_payload)
        self._update_summary()
        self._update_stale()
        self._refresh_stored()
        self._update_buttons()
        self.sig_plan_changed.emit(plan)

    def redraw_routes(self) -> None:
        """Push the shown plan's routes to a freshly drawn map page.

        A new page (workspace opened, recovery, OSM import, basemap change) starts with an empty
        routes layer, and a push made while the old page was still up is lost with it.
        """
        if self.map_view is not None and self.routes_payload.get("features"):
            self.map_view.set_layer_data("routes", self.routes_payload)

    def _fill_tables(self, summary: str | None = None) -> None:
        plan = self.plan
        if plan is None:
            for t in (self.alloc_table, self.team_table, self.route_table, self.unserved_table):
                t.fill([])
            self.overview.setPlainText("")
            self._retitle()
            return
        from dispatch.summary import summary_text

        self.overview.setPlainText(
            summary if summary is not None else summary_text(plan, max_unserved=50)
        )
        mats = material_codes(plan, self.session.scenario)
        skills = skill_names(plan)
        etas = delivery_etas(plan)

        # allocation
        rows: list[tuple[list[QTableWidgetItem], str, Any]] = []
        for ln in plan.allocation:
            eta = etas.get((ln.stockpile_id, ln.site_id, ln.material))
            rows.append(
                (
                    [
                        _item(plan.place_name(ln.site_id), tip=ln.site_id),
                        _item(plan.material_label(ln.material), tip=ln.material),
                        _item(_qty(plan, ln.material, ln.quantity), sort=ln.quantity),
                        _item(plan.place_name(ln.stockpile_id), tip=ln.stockpile_id),
                        _item(_eta(plan, eta), sort=eta),
                        _item(
                            ""
                            if eta is not None
                            else tr("直达约 {m:.0f} 分钟").format(m=ln.travel_s / 60)
                        ),
                    ],
                    "line",
                    ln.site_id,
                )
            )
        for u in plan.unserved:
            if u.what in mats:
                rows.append((self._unserved_cells(plan, u, alloc=True), "unserved", u.site_id))
        self.alloc_table.fill(rows)

        # teams
        names = {t.id: t.name for t in self.session.scenario.teams}
        rows = []
        for a in plan.assignment:
            pinned = (a.team_id, a.incident_id) in self.pins
            skills_txt = "、".join(f"{k} {v}" for k, v in a.contributes.items()) or "、".join(
                a.skills
            )
            rows.append(
                (
                    [
                        _item(names.get(a.team_id, a.team_id), tip=a.team_id),
                        _item(plan.place_name(a.incident_id), tip=a.incident_id),
                        _item(skills_txt),
                        _item(a.headcount, sort=a.headcount),
                        _item(_eta(plan, a.eta_s), sort=a.eta_s),
                        _item(tr("已固定") if pinned else ""),
                    ],
                    "pinned" if pinned else "line",
                    f"{a.team_id}|{a.incident_id}",
                )
            )
        for u in plan.unserved:
            if u.what in skills and u.what not in mats:
                rows.append((self._unserved_cells(plan, u, alloc=False), "unserved", u.site_id))
        self.team_table.fill(rows)

        # vehicle routes
        colors = vehicle_colors(plan)
        by_vehicle = {o.unit_id: o for o in plan.transfer_orders}
        rows = []
        for r in plan.routes:
            trips = [t for t in r.trips if t.stops]
            if not trips:
                continue
            order = by_vehicle.get(r.vehicle_id)
            stops = "；".join(
                tr("{i}：").format(i=i) + "→".join(plan.place_name(s.site_id) for s in t.stops)
                for i, t in enumerate(trips, start=1)
            )
            last = max(s.arrival_s for t in trips for s in t.stops)
            # departure → return, as the printed order's "全程" (the route's own duration also
            # counts the wait for loading before the first departure)
            busy_s = order.total_seconds if order else r.duration_s
            first = _item(order.unit_name if order else r.vehicle_id, tip=r.vehicle_id)
            color = QColor(colors.get(r.vehicle_id, "#1f78b4"))
            first.setData(Qt.ItemDataRole.DecorationRole, color)
            rows.append(
                (
                    [
                        first,
                        _item(len(trips), sort=len(trips)),
                        _item(_eta(plan, last), sort=last),
                        _item(f"{r.distance_m / 1000:.1f} km", sort=r.distance_m),
                        _item(_duration(busy_s), sort=busy_s),
                        _item(stops, tip=stops),
                    ],
                    "line",
                    r.vehicle_id,
                )
            )
        self.route_table.fill(rows)

        # unserved
        self.unserved_table.fill(
            [
                (
                    [
                        _item(plan.place_name(u.site_id), tip=u.site_id),
                        _item(plan.material_label(u.what), tip=u.what),
                        _item(_qty(plan, u.what, u.quantity), sort=u.quantity),
                        _item(tr(u.reason.value)),
                        _item(u.message_zh, tip=u.message_zh),
                    ],
                    "unserved",
                    u.site_id,
                )
                for u in plan.unserved
            ]
        )
        self._retitle()

    def _unserved_cells(self, plan: Plan, u: Unserved, *, alloc: bool) -> list[QTableWidgetItem]:
        reason = tr("未满足：{r}").format(r=tr(u.reason.value))
        if alloc:
            return [
                _item(plan.place_name(u.site_id), tip=u.site_id),
                _item(plan.material_label(u.what), tip=u.what),
                _item(_qty(plan, u.what, u.quantity), sort=u.quantity),
                _item(reason),
                _item(""),
                _item(u.message_zh, tip=u.message_zh),
            ]
        return [
            _item(tr("（缺）")),
            _item(plan.place_name(u.site_id), tip=u.site_id),
            _item(u.what),
            _item(f"{u.quantity:g}", sort=u.quantity),
            _item(reason),
            _item(u.message_zh, tip=u.message_zh),
        ]

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
        if self.plan is None or self.plan.inputs.scenario_hash == self._scenario_hash():
            self.stale.hide()
            self.stale.setText("")
        else:
            self.stale.setText(tr("场景已修改：此方案基于修改前的数据，建议重新生成"))
            self.stale.show()
        self._refresh_incidents()

    def _scenario_hash(self) -> str:
        """Content hash of the session's scenario (cached per scenario object)."""
        from dispatch.plan import scenario_hash

        scenario = self.session.scenario
        if self._hash_cache is None or self._hash_cache[0] is not scenario:
            self._hash_cache = (scenario, scenario_hash(scenario))
        return self._hash_cache[1]

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
        running = self.job is not None
        has = self.plan is not None
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.approve_button.setEnabled(has and not running)
        self.export_button.setEnabled(has)
        self.open_pdf_button.setEnabled(self._exported_pdf() is not None)
        for w in (self.pin_button, self.forbid_button, self.reassign_button):
            w.setEnabled(has)
        n_pins, n_forbids = len(self.pins), len(self.forbids)
        self.clear_button.setEnabled(bool(n_pins or n_forbids))
        if n_pins or n_forbids:
            parts = [tr("固定 {t}→{i}").format(t=t, i=i) for t, i in sorted(self.pins)]
            parts += [tr("禁止 {t}→{i}").format(t=t, i=i) for t, i in sorted(self.forbids)]
            self.constraints_label.setText(tr("约束（重新生成时生效）：") + "；".join(parts))
        else:
            self.constraints_label.setText("")

    # ---- stored plans ---------------------------------------------------------------------------

    def stored_plans(self) -> dict[str, str]:
        return dict(self.session.documents.get(PLANS_DOCUMENT_KIND, {}))

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
        number = self.stored.itemData(index)
        self.show_stored(str(number))

    def show_stored(self, number: str) -> Plan | None:
        """Show a plan stored in the workspace documents."""
        text = self.stored_plans().get(number)
        if text is None:
            return None
        try:
            plan = Plan.from_json(text)
        except Exception as exc:  # a damaged document is reported, not fatal
            self._message("error", tr("无法读取方案 {no}").format(no=number), str(exc))
            return None
        self.set_plan(plan, plan_json=text)
        return plan

    def _store(self, plan: Plan, text: str, plan_json: str | None = None) -> None:
        """Store ``plan`` in the workspace documents (one undoable step)."""
        if plan_json is None:
            docs = with_plan(self.session.documents, plan)
        else:
            docs = {str(k): dict(v) for k, v in self.session.documents.items()}
            docs.setdefault(PLANS_DOCUMENT_KIND, {})[plan.number] = plan_json
        self.session.apply(self.session.scenario, text, documents=docs)

    def _on_documents_changed(self, kind: str) -> None:
        if kind != PLANS_DOCUMENT_KIND:
            return
        stored = self.stored_plans()
        if self.plan is not None:
            text = stored.get(self.plan.number)
            if text is None:  # e.g. undo of the run that made it
                latest = sorted(stored)
                if latest:
                    self.show_stored(latest[-1])
                else:
                    self.set_plan(None)
                return
            if self._plan_json is None:
                self._plan_json = self.plan.to_json(indent=None)
            if text != self._plan_json:  # e.g. undo of an approval
                self.show_stored(self.plan.number)
                return
        self._refresh_stored()

    def _on_workspace_loaded(self) -> None:
        self._workspace_gen += 1
        if self.job is not None:
            self.job.cancel()
        self.pins.clear()
        self.forbids.clear()
        self.last_export = None
        stored = sorted(self.stored_plans())
        if stored:
            self.show_stored(stored[-1])
        else:
            self.set_plan(None)

    # ---- pins and forbids -----------------------------------------------------------------------

    def pin(self, team_id: str, incident_id: str) -> None:
        """Pin ``team_id`` to ``incident_id`` for the next run (a team has one pin at most)."""
        self.pins = {p for p in self.pins if p[0] != team_id}
        self.pins.add((team_id, incident_id))
        self.forbids.discard((team_id, incident_id))
        self._fill_tables()
        self._update_buttons()

    def forbid(self, team_id: str, incident_id: str) -> None:
        """Forbid sending ``team_id`` to ``incident_id`` in the next run."""
        self.forbids.add((team_id, incident_id))
        self.pins.discard((team_id, incident_id))
        self._fill_tables()
        self._update_buttons()

    def clear_constraints(self) -> None:
        self.pins.clear()
        self.forbids.clear()
        self._fill_tables()
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
        try:
            plan = self.plan.approve(name, datetime.now().astimezone(), note)
        except PlanStatusError as exc:
            self._message("error", tr("无法批准方案 {no}").format(no=self.plan.number), str(exc))
            return None
        plan_json = plan.to_json(indent=None)
        self.plan, self._plan_json = plan, plan_json
        self._store(plan, tr("批准调度方案 {no}").format(no=plan.number), plan_json)
        self.set_plan(plan, plan_json=plan_json)
        self._message("info", tr("方案 {no} 已由 {who} 批准").format(no=plan.number, who=name))
        return plan

    def export(self, folder: Path | str | None = None, *, open_pdf: bool = True) -> Any:
        """Write the orders of the shown plan to ``folder`` in the background (asks if None)."""
        if self.plan is None:
            return None
        if folder is None:
            start = str(self.session.path.parent) if self.session.path else str(Path.home())
            chosen = QFileDialog.getExistingDirectory(self, tr("选择导出文件夹"), start)
            if not chosen:
                return None
            folder = Path(chosen) / self.plan.number
        folder = Path(folder)
        plan = self.plan

        def done(files: dict[str, Path], _cancelled: bool) -> None:
            self.last_export = dict(files)
            self.last_export_plan = plan.number
            self._update_buttons()
            self._message("info", tr("已导出方案 {no} 到 {dir}").format(no=plan.number, dir=folder))
            self.sig_exported.emit(dict(files))
            if open_pdf:
                self.open_pdf()

        return self.runner.start(
            tr("导出调度指令"),
            export_job,
            {"plan": plan, "folder": folder},
            on_done=done,
            on_error=lambda m, d: self._message(
                "error", tr("导出失败 {dir}：{m}").format(dir=folder, m=m), d
            ),
            critical=True,
        )

    def _exported_pdf(self) -> Path | None:
        """The orders PDF exported for the plan shown now (None for another plan's export)."""
        if not self.last_export or "orders.pdf" not in self.last_export or self.plan is None:
            return None
        if self.last_export_plan != self.plan.number:
            return None
        return self.last_export["orders.pdf"]

    def open_pdf(self) -> bool:
        pdf = self._exported_pdf()
        if pdf is None:
            return False
        return bool(self.open_url(QUrl.fromLocalFile(str(pdf))))

    # ---- map ------------------------------------------------------------------------------------

    def _pan_to_route(self, row: int, _col: int) -> None:
        if self.plan is None or self.map_view is None:
            return
        vehicle = self.route_table.row_key(row)
        for r in self.plan.routes:
            if r.vehicle_id == vehicle:
                p = self.plan.place(r.depot_id)
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


def install_dispatch_panel(window: QMainWindow) -> DispatchPanel:
    """Add the 调度方案 dock to ReliefDesk's main window (its ``session``, ``map``, ``runner``).

    The dock goes to the right area, tabbed with the event log when present, and its toggle
    goes into the View menu. Returns the panel (also stored as ``window.dispatch_panel``).
    Installing twice returns the panel already there (no second dock, no second F5 action).
    """
    existing = getattr(window, "dispatch_panel", None)
    if isinstance(existing, DispatchPanel):
        return existing
    session = window.session  # type: ignore[attr-defined]
    panel = DispatchPanel(session, window.runner, getattr(window, "map", None), window)  # type: ignore[attr-defined]
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    event_dock = getattr(window, "event_dock", None)
    if isinstance(event_dock, QDockWidget):
        window.tabifyDockWidget(event_dock, panel)
    view_menu = getattr(window, "view_menu", None)
    if view_menu is not None:
        view_menu.addAction(panel.toggleViewAction())
    toolbar = getattr(window, "toolbar", None)
    if toolbar is not None:
        act = QAction(tr("生成调度方案"), window)
        act.setShortcut("F5")
        act.triggered.connect(lambda: (panel.show(), panel.raise_(), panel.run_dispatch()))
        toolbar.addSeparator()
        toolbar.addAction(act)
        panel.run_action = act  # type: ignore[attr-defined]
    # import the solvers in the background once the map has drawn (not during a solve, not
    # competing with the first paint)
    drawn = getattr(window, "sig_map_drawn", None)
    if drawn is not None:
        drawn.connect(lambda: QTimer.singleShot(300, panel.preload_solvers))
        drawn.connect(panel.redraw_routes)
    window.dispatch_panel = panel  # type: ignore[attr-defined]
    return panel


__all__ = [
    "DispatchPanel",
    "PlanTable",
    "delivery_etas",
    "dispatch_job",
    "dispatch_process_job",
    "export_job",
    "install_dispatch_panel",
    "preload_job",
]
