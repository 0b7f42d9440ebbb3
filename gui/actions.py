"""The main window's actions, menus and toolbar (construction only; the slots are the window's).

Every action is an attribute of the window (``act_open``, ``add_actions[kind]``, …): tests and the
dispatch panel find them there.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import QMainWindow, QToolBar, QToolButton

from gis.paths import app_root, data_dir
from gui.i18n import LANGUAGES, tr, tr_noop
from gui.import_dialog import open_export_dialog, open_import_dialog
from gui.shared_db_view import install_shared_db

ROOT = app_root()  # gis.paths: the source tree, install prefix or frozen bundle
DEMO_WORKSPACE = data_dir() / "hejiang_demo.gpkg"


def build_actions(window: QMainWindow) -> None:
    """Create the window's actions (``window.act_*``), menus and toolbar."""
    w = window

    def _action(
        text: str, slot: Any, shortcut: Any = None, *, checkable: bool = False, tip: str = ""
    ) -> QAction:
        a = QAction(tr(text), w)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        if tip:
            a.setStatusTip(tr(tip))
        a.triggered.connect(slot)
        return a

    S = QKeySequence.StandardKey
    # Ctrl+N belongs to "new incident at a map click" (the operator's frequent action); the
    # standard New key on the same window made both shortcuts ambiguous, so neither fired
    w.act_new = _action("新建工作区", w.new_workspace, "Ctrl+Alt+N")
    w.act_open = _action("打开工作区…", w.open_dialog, S.Open)
    w.act_import_osm = _action("导入 OSM 道路…", w.import_osm_dialog)
    w.act_import_data = _action("导入数据…", lambda: open_import_dialog(w))
    w.act_export_layer = _action("导出图层…", lambda: open_export_dialog(w))
    w.act_demo = _action("打开演示县（合江县）", lambda: w.open_workspace(DEMO_WORKSPACE))
    w.act_save = _action("保存", w.save, S.Save)
    w.act_save_as = _action("另存为…", w.save_as, S.SaveAs)
    w.act_screenshot = _action("保存窗口截图…", w.screenshot_dialog)
    w.act_quit = _action("退出", w.close, S.Quit)
    w.act_undo = w.session.undo_stack.createUndoAction(w, tr("撤销"))
    w.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
    w.act_redo = w.session.undo_stack.createRedoAction(w, tr("重做"))
    w.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
    w.act_edit = _action("编辑所选…", w.edit_selected, "Ctrl+E")
    w.act_delete = _action("删除所选", w.delete_selected, QKeySequence.StandardKey.Delete)
    w.act_move = _action("拖动标注移动位置", w.set_move_mode, "Ctrl+M", checkable=True)
    w.add_actions: dict[str, QAction] = {}
    for kind, text, key in (
        ("stockpiles", tr_noop("在地图上添加储备库"), "Ctrl+1"),
        ("shelters", tr_noop("在地图上添加避难场所"), "Ctrl+2"),
        ("teams", tr_noop("在地图上添加救援队伍"), "Ctrl+3"),
        ("hazards", tr_noop("在地图上添加危险源"), "Ctrl+4"),
        ("incidents", tr_noop("在地图上点选新建事件"), "Ctrl+N"),
        ("demand_points", tr_noop("在地图上添加需求点"), "Ctrl+5"),
        ("candidate_sites", tr_noop("在地图上添加候选站点"), "Ctrl+6"),
    ):
        w.add_actions[kind] = _action(
            text,
            lambda _c=False, k=kind: w.begin_add(k),
            key,
            tip=tr_noop("单击地图确定位置（Esc 取消）"),
        )
    w.act_incident_coords = _action("按坐标新建事件…", w.new_incident_typed, "Ctrl+Shift+N")
    w.act_cancel = _action("取消当前操作", w.cancel_pick, "Esc")
    w.draw_actions = {
        "point": _action("绘制点状管制", lambda: w.start_closure_draw("point")),
        "line": _action("绘制线状管制", lambda: w.start_closure_draw("line")),
        "polygon": _action("绘制面状管制", lambda: w.start_closure_draw("polygon")),
    }
    w.act_fit = _action("全图", w.map.fit_data, "Home")
    w.act_tiles = _action("底图瓦片地址…", w.ask_tile_url)
    w.act_about = _action("关于与数据来源", w.about)


    w.act_coverage = _action("覆盖分析…", lambda: _open_coverage(w), tip=tr_noop("各类设施的可达时间、覆盖率与盲区"))
    w.act_stock = _action("储备测算…", lambda: _open_stock(w), tip=tr_noop("各储备库应储多少、缺口与采购清单"))
    w.act_sites = _action("选址…", lambda: _open_sites(w), tip=tr_noop("储备库等设施应建在哪里（规划）"))
    w.act_warnings = _action("预警与预置…", lambda: _open_warnings(w), tip=tr_noop("发布预警，预置物资与队伍"))
    w.act_review = _action(
        "事件复盘…", lambda: _open_review(w), tip=tr_noop("事件记录的时间线与信息报告时限（只读）")
    )
    # menus
    mb = w.menuBar()
    w.file_menu = mb.addMenu(tr("文件(&F)"))
    for a in (w.act_new, w.act_open, w.act_demo, w.act_save, w.act_save_as):
        w.file_menu.addAction(a)
    w.file_menu.addSeparator()
    w.file_menu.addAction(w.act_import_osm)
    w.file_menu.addAction(w.act_import_data)
    w.file_menu.addAction(w.act_export_layer)
    w.file_menu.addSeparator()
    w.file_menu.addAction(w.act_screenshot)
    w.file_menu.addSeparator()
    w.file_menu.addAction(w.act_quit)
    install_shared_db(w)  # 文件 → 连接共享数据库… (issue 16)
    w.edit_menu = mb.addMenu(tr("编辑(&E)"))
    for a in (w.act_undo, w.act_redo):
        w.edit_menu.addAction(a)
    w.edit_menu.addSeparator()
    for a in (*w.add_actions.values(), w.act_incident_coords):
        w.edit_menu.addAction(a)
    w.edit_menu.addSeparator()
    for a in (w.act_edit, w.act_move, w.act_delete, w.act_cancel):
        w.edit_menu.addAction(a)
    w.closure_menu = mb.addMenu(tr("道路管制(&R)"))
    for a in w.draw_actions.values():
        w.closure_menu.addAction(a)
    w.view_menu = mb.addMenu(tr("视图(&V)"))
    w.view_menu.addAction(w.act_fit)
    w.view_menu.addAction(w.act_tiles)
    w.view_menu.addSeparator()
    for dock in (
        w.layer_dock,
        *w.table_docks.values(),
        w.event_dock,
        w.message_dock,
    ):
        w.view_menu.addAction(dock.toggleViewAction())
    w.view_menu.addSeparator()
    lang_menu = w.view_menu.addMenu(tr("界面语言"))
    group = QActionGroup(w)
    w.language_actions: dict[str, QAction] = {}
    for code, label in LANGUAGES.items():
        a = QAction(label, w, checkable=True)
        a.setChecked(code == w.language)
        a.triggered.connect(lambda _c=False, c=code: w.set_language(c))
        group.addAction(a)
        lang_menu.addAction(a)
        w.language_actions[code] = a
    w.planning_menu = mb.addMenu(tr("规划(&P)"))
    w.planning_menu.addAction(w.act_coverage)
    w.planning_menu.addAction(w.act_stock)
    w.planning_menu.addAction(w.act_sites)

    w.planning_menu.addAction(w.act_warnings)
    w.planning_menu.addSeparator()
    w.planning_menu.addAction(w.act_review)
    w.help_menu = mb.addMenu(tr("帮助(&H)"))
    w.help_menu.addAction(w.act_about)
    # toolbar
    tb = QToolBar(tr("工具栏"), w)
    tb.setObjectName("toolbar_main")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    w.addToolBar(tb)
    for a in (w.act_open, w.act_save, None):
        if a is None:
            tb.addSeparator()
        else:
            tb.addAction(a)
    w.undo_button = _history_button(tb, w.act_undo, tr("撤销"))
    w.redo_button = _history_button(tb, w.act_redo, tr("重做"))
    tb.addSeparator()
    for kind, label in (
        ("incidents", tr_noop("新建事件")),
        ("stockpiles", tr_noop("加储备库")),
        ("shelters", tr_noop("加避难所")),
        ("teams", tr_noop("加队伍")),
        ("hazards", tr_noop("加危险源")),
    ):
        a = w.add_actions[kind]
        tb.addAction(a)
        tb.widgetForAction(a).setText(tr(label)) if tb.widgetForAction(a) else None
    tb.addAction(w.act_move)
    tb.addSeparator()
    tb.addAction(w.draw_actions["line"])
    tb.widgetForAction(w.draw_actions["line"]).setText(tr("画管制线"))
    tb.addAction(w.act_fit)
    w.toolbar = tb



def _history_button(tb: QToolBar, act: QAction, label: str) -> QToolButton:
    """A toolbar button for undo/redo with a fixed text (``label``).

    The undo stack's actions name the command ("撤销 添加储备库 …"); shown on the toolbar that
    text changed the button's width with every edit and shifted the buttons after it. The button
    keeps ``label`` and shows the command in its tooltip; the Edit menu keeps the full text.
    """
    btn = QToolButton(tb)
    btn.setText(label)
    btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    btn.clicked.connect(act.trigger)

    def sync() -> None:
        btn.setEnabled(act.isEnabled())
        btn.setToolTip(act.text())

    act.changed.connect(sync)
    sync()
    tb.addWidget(btn)
    return btn


def _open_coverage(window: QMainWindow) -> Any:
    """规划 → 覆盖分析… (each planning dialog module is imported on first use)."""
    from gui.docks.coverage_dialog import CoverageDialog

    return CoverageDialog.open_for(window)


def _open_warnings(window: QMainWindow) -> Any:
    """规划 → 预警与预置…"""
    from gui.docks.warnings_dialog import WarningsDialog

    return WarningsDialog.open_for(window)


def _open_stock(window: QMainWindow) -> Any:
    """规划 → 储备测算…"""
    from gui.docks.stock_dialog import StockDialog

    return StockDialog.open_for(window)


def _open_sites(window: QMainWindow) -> Any:
    """规划 → 选址…"""
    from gui.docks.sites_dialog import SitesDialog

    return SitesDialog.open_for(window)


def _open_review(window: QMainWindow) -> Any:
    """规划 → 事件复盘… (read-only; the dialog module is imported on first use)."""
    from gui.docks.review_dialog import open_review_dialog

    return open_review_dialog(window)
