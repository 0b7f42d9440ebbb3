"""The main window: wiring and presentation of the map desk.

The window builds its widgets (:mod:`gui.window_parts`, :mod:`gui.actions`), connects them to
the session and the controllers, and shows what they report. It owns no state machine and edits
no data:

- :class:`gui.controllers.workspace.WorkspaceController` opens, adopts, loads the road network,
  computes closed roads, rebuilds the page, imports OSM roads and saves (background jobs);
- :class:`gui.controllers.editing.EditController` carries out editing commands on the
  :class:`gui.session.Session` (the only object that changes state);
- the window shows forms and questions, and pushes layer updates to the map.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from gis.model import Scenario
from gis.paths import default_dir, settings_dir
from gui import map_page, map_updates
from gui.actions import DEMO_WORKSPACE, ROOT, build_actions
from gui.controllers.editing import ENTITY_KINDS, ID_PREFIX, EditController, kind_of
from gui.controllers.workspace import WorkspaceController
from gui.docks.dispatch_panel import DispatchPanel
from gui.docks.drill_panel import install_drill_panel
from gui.editors import DIALOGS, ClosureDialog, IncidentDialog
from gui.i18n import LANGUAGES, install_language, set_material_names, tr, tr_warning
from gui.map_tools import install_map_tools
from gui.map_view import MapView
from gui.retranslate import retranslate_window
from gui.services.workspace_jobs import OpenResult
from gui.session import EVENT_LOG, Session
from gui.table_models import TITLES, plain_tooltip
from gui.window_parts import (
    ATTRIBUTION,
    RIGHT_DOCK_WIDTH,
    build_docks,
    build_status_bar,
    make_dock,
    show_about,
    show_attribution,
    sync_status_combo,
)
from gui.workers import JobRunner

log = logging.getLogger(__name__)

__all__ = [
    "ATTRIBUTION",
    "DEMO_WORKSPACE",
    "ENTITY_KINDS",
    "ID_PREFIX",
    "RIGHT_DOCK_WIDTH",
    "ROOT",
    "MainWindow",
    "app_settings",
    "kind_of",
]


def app_settings() -> QSettings:
    """The app's settings (INI) in :func:`gis.paths.settings_dir` (``~/.config/ReliefDesk``,
    ``%APPDATA%\\ReliefDesk``); ``RELIEFDESK_SETTINGS_DIR`` redirects them (tests)."""
    directory = os.environ.get("RELIEFDESK_SETTINGS_DIR")
    if directory:
        return QSettings(str(Path(directory) / "reliefdesk.ini"), QSettings.Format.IniFormat)
    return QSettings(str(settings_dir() / "ReliefDesk.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """ReliefDesk's main window."""

    sig_map_drawn = pyqtSignal()
    #: emitted after a workspace finished loading (path)
    sig_loaded = pyqtSignal(str)
    #: an edit form opened on an existing entity (entity id, the dialog)
    sig_form_opened = pyqtSignal(str, object)

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
        self.setWindowTitle(tr("ReliefDesk 应急资源调度台"))
        self.resize(1400, 900)

        map_page.set_translator(tr)  # the page's popups and names in the UI language
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
        build_docks(self)
        build_status_bar(self)
        self.workspace = WorkspaceController(
            self.session,
            self.runner,
            map_ready=lambda: self.map.ready,
            page_options=self._page_options,
            parent=self,
        )
        self.editing = EditController(self.session, self)
        build_actions(self)
        self._connect()
        install_map_tools(self)  # 视图 → 底图, measuring, search, coordinates, view export
        # the dispatch dock must exist before the saved layout is restored
        self.dispatch_panel = self.install_dispatch_panel()
        self.drill_panel = install_drill_panel(self)  # 演练 (issue 14), tabbed with dispatch
        self._restore_settings()

        self._changes_discarded = False
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(self.settings.value("autosave/seconds", 120)) * 1000)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ---- state held by the controllers (read by tests and tools) ----------------------------------

    @property
    def closed_roads(self) -> dict[str, Any]:
        """GeoJSON of the road edges the closures block (latest computation)."""
        return self.workspace.closed_roads

    @property
    def load_error(self) -> str | None:
        """Why the last open failed (None: it did not)."""
        return self.workspace.load_error

    @property
    def last_closure_id(self) -> str | None:
        return self.editing.last_closure_id

    def _page_options(self) -> tuple[str, tuple[str, ...]]:
        tile_url = str(self.settings.value("map/tile_url", "") or "")
        return tile_url, tuple(self.layer_panel.hidden_layers())

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        return make_dock(self, title, widget, area, name)

    def _connect(self) -> None:
        s = self.session
        s.sig_scenario_changed.connect(self._on_scenario_changed)
        s.sig_selection_changed.connect(self._on_selection_changed)
        s.sig_documents_changed.connect(self._on_documents_changed)
        s.sig_dirty_changed.connect(lambda _d: self._update_title())
        s.sig_path_changed.connect(lambda _p: self._update_title())
        s.sig_workspace_loaded.connect(lambda: show_attribution(self))
        s.sig_message.connect(self.messages.add)
        ws = self.workspace
        ws.sig_show_page.connect(self.map.show_file)
        ws.sig_opening.connect(
            lambda p: self.statusBar().showMessage(tr("正在打开 {path}").format(path=p))
        )
        ws.sig_adopted.connect(self._on_adopted)
        ws.sig_open_failed.connect(self._on_open_failed)
        ws.sig_no_workspace.connect(lambda t: self.map.show_empty_state(tr("未打开工作区"), t))
        ws.sig_closed_roads.connect(lambda fc: self.map.set_layer_data("closed_roads", fc))
        ws.sig_roads_imported.connect(lambda _r: self._set_note(""))
        ws.sig_saved.connect(self._on_saved)
        ws.sig_autosaved.connect(
            lambda _p: self.statusBar().showMessage(tr("已自动保存恢复文件"), 3000)
        )
        ws.sig_message.connect(lambda level, text: self.messages.add(level, text))
        ws.sig_error.connect(lambda t, m, d, dlg: self.report_error(t, m, d, dialog=dlg))
        self.editing.sig_error.connect(lambda t, m, d: self.report_error(t, m, d, dialog=False))
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
        """Switch the UI language now (no restart) and remember it."""
        self.settings.setValue("ui/language", code)
        self.settings.sync()
        self.language = install_language(code)
        self.language_actions[self.language].setChecked(True)
        retranslate_window(self)  # menus, docks, tables, panels (gui/retranslate.py)
        self._update_title()
        show_attribution(self)
        self._on_view_changed(0, 0.0, 0)  # the scale read-out
        if self.map.ready:
            self.rebuild_map()
        self.messages.add("info", tr("界面语言：{lang}").format(lang=LANGUAGES[self.language]))

    # ---- workspace -----------------------------------------------------------------------------

    def open_workspace(
        self, path: Path | str, *, recovered_from: Path | None = None, source: Path | None = None
    ) -> None:
        """Read ``path`` in the background, then show it (``sig_loaded`` when done)."""
        self.workspace.open(path, recovered_from=recovered_from, source=source)

    def _on_adopted(self, result: OpenResult) -> None:
        ws = result.workspace
        self.statusBar().clearMessage()
        english = {m.code: m.name_en for m in ws.scenario.materials}
        set_material_names(ws.scenario.materials)
        self.messages.add_many("warning", [tr_warning(str(w), english) for w in ws.warnings])
        road_network = self.session.scenario.road_network
        if road_network.kind == "generated":
            self._set_note(tr("注意：演示道路网为程序生成，非实测（文件 → 导入 OSM 道路）"))
            self.roads_note.setToolTip(plain_tooltip(road_network.note or ""))
        elif road_network.kind == "none" and ws.road_edges is None and not result.roads_deferred:
            self._set_note(tr("无道路网络"))
        else:
            self._set_note("")
        path = result.ref.path
        if path is not None and result.ref.recovered_from is None:
            self.settings.setValue("workspace/last", str(path))
        self._refresh_event_log()
        self.messages.add("info", tr("已打开 {name}").format(name=self.session.scenario.name))
        self._update_title()
        self.sig_loaded.emit(str(path or ""))

    def _on_open_failed(self, path: Path, message: str, details: str) -> None:
        self.statusBar().clearMessage()
        self.report_error(tr("无法打开工作区 {path}").format(path=path), message, details)
        self.sig_loaded.emit("")

    def update_closed_roads(self) -> None:
        """Recompute (in the background) and redraw the road edges affected by closures."""
        self.workspace.update_closed_roads()

    def new_workspace(self) -> None:
        """An empty, unsaved workspace with the bundled material catalogue."""
        if not self.maybe_save():
            return
        from gis.catalogue import load_materials

        scenario = Scenario(name=tr("新工作区"), materials=load_materials())
        self.workspace.new_workspace(scenario)
        self._set_note(tr("无道路网络"))
        self._refresh_event_log()
        self.rebuild_map()

    def import_osm_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            tr("导入 OSM 道路"),
            str(default_dir()),
            tr("OSM 数据 (*.osm *.osm.gz *.osm.bz2 *.osm.pbf *.pbf *.graphml)"),
        )
        if path:
            self.import_osm(Path(path))

    def import_osm(self, file: Path) -> Any:
        """Replace the workspace's road network by one built from a real OSM file (background)."""
        return self.workspace.import_osm(Path(file))

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(default_dir(self.session.path, fallback=ROOT / "data"))
        path, _ = QFileDialog.getOpenFileName(self, tr("打开工作区"), start, tr("工作区 (*.gpkg)"))
        if path:
            self.open_workspace(path)

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        self._save_to(self.session.path)
        return True

    def save_as(self) -> bool:
        start = str(self.session.path or default_dir() / "workspace.gpkg")
        path, _ = QFileDialog.getSaveFileName(self, tr("另存为"), start, tr("工作区 (*.gpkg)"))
        if not path:
            return False
        if not path.endswith(".gpkg"):
            path += ".gpkg"
        self._save_to(Path(path))
        return True

    def _save_to(self, path: Path) -> None:
        self.workspace.save_to(path)

    def _on_saved(self, path: Path) -> None:
        self.settings.setValue("workspace/last", str(path))
        self.statusBar().showMessage(tr("已保存 {path}").format(path=path), 5000)

    def autosave(self) -> None:
        self.workspace.autosave()

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
                    self, tr("另存为"), str(default_dir()), tr("工作区 (*.gpkg)")
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
        self.setWindowTitle(f"{star}{name} — {path} — {tr('ReliefDesk 应急资源调度台')}")

    # ---- reactions to the session -----------------------------------------------------------------

    def _on_scenario_changed(self, new: Scenario, old: Scenario) -> None:
        changed = [k for k in ENTITY_KINDS if getattr(new, k) is not getattr(old, k)]
        for kind in ENTITY_KINDS:
            self.tables[kind].set_scenario(new)
        if self.workspace.adopting:
            self._update_title()
            return
        for kind in changed:
            if map_updates.incremental(kind, getattr(old, kind), getattr(new, kind)):
                # a large layer: send only what changed (a full rebuild took seconds)
                payload, removed = map_updates.layer_update(new, kind, getattr(old, kind))
                self.map.update_layer(kind, payload, removed)
            else:
                self.map.set_layer_data(kind, map_page.layer_payloads(new, layers=[kind])[kind])
        if new.townships is not old.townships:
            self.map.set_layer_data("townships", map_page.township_points(new))
        if new.demand_points is not old.demand_points:  # the villages draw the demand points
            self.map.set_layer_data("villages", map_page.village_points(new))
        if new.boundary is not old.boundary:
            self.map.set_layer_data("boundary", map_page.boundary_features(new))
        if "closures" in changed:
            self.update_closed_roads()
        if "incidents" in changed:
            sync_status_combo(self, self.tables["incidents"].selected_id())
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
            sync_status_combo(self, entity_id)
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
        self.workspace.map_drawn()
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
        self.coord_label.setText(self.map_tools.coordinate_text(lon, lat))

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
        entity = self.editing.new_entity(kind, lon, lat)
        if kind == "incidents":
            dlg = IncidentDialog(
                self.session.scenario,
                entity,
                self.templates(),
                self,
                is_new=True,
                check_location=self.check_incident_location,
            )
        else:
            dlg = DIALOGS[kind](self.session.scenario, entity, self)
        dlg.accepted.connect(lambda: self.editing.add(kind, dlg.entity))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def new_incident_typed(self) -> Any:
        """New incident from typed coordinates (WGS-84 / GCJ-02 / BD-09 selectable)."""
        b = map_page.scenario_bounds(self.session.scenario)
        lon, lat = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) if b else (105.83, 28.81)
        return self.add_entity_at("incidents", lon, lat)

    def templates(self) -> dict[str, Any]:
        return self.editing.templates()

    def check_incident_location(self, lon: float, lat: float) -> tuple[str, ...]:
        """Entry warnings for an incident at ``lon, lat`` (county outline, snap limit)."""
        from gis.placement import check_incident_location

        return check_incident_location(
            self.session.scenario, self.session.network, lon, lat, language=self.language
        )

    def edit_entity(self, entity_id: str) -> Any:
        """Open the form of an existing entity; return the dialog (None if unknown)."""
        kind = self.editing.kind_of(entity_id)
        if kind is None:
            return None
        entity = self.session.scenario.find(entity_id)
        if kind == "incidents":
            dlg = IncidentDialog(
                self.session.scenario,
                entity,
                self.templates(),
                self,
                is_new=False,
                check_location=self.check_incident_location,
            )
        else:
            dlg = DIALOGS[kind](self.session.scenario, entity, self)
        dlg.accepted.connect(lambda: self.editing.save_edit(kind, dlg.entity))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.sig_form_opened.emit(entity_id, dlg)
        return dlg

    def edit_selected(self) -> None:
        if self.session.selected:
            self.edit_entity(self.session.selected)

    def delete_entity(self, entity_id: str, *, confirm: bool | None = None) -> bool:
        kind = self.editing.kind_of(entity_id)
        if kind is None:
            return False
        name = self.editing.display_name(entity_id)
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
        return self.editing.delete(entity_id)

    def delete_selected(self) -> None:
        if self.session.selected:
            self.delete_entity(self.session.selected)

    def set_move_mode(self, on: bool) -> None:
        self.act_move.setChecked(bool(on))
        self.map.set_draggable(bool(on))
        if on:
            self.statusBar().showMessage(tr("拖动地图上的标注以移动位置（可撤销）"), 5000)

    def _on_marker_dragged(self, entity_id: str, lon: float, lat: float) -> None:
        if not self.editing.move(entity_id, lon, lat):
            kind = self.editing.kind_of(entity_id)
            if kind:  # put the marker back where the data say it is
                self.map.set_layer_data(
                    kind, map_page.layer_payloads(self.session.scenario, layers=[kind])[kind]
                )

    # ---- incidents -----------------------------------------------------------------------------

    def change_incident_status(self, incident_id: str, status: str) -> bool:
        return self.editing.change_incident_status(incident_id, status)

    def advance_incident(self, incident_id: str) -> bool:
        """Move an incident to the next lifecycle stage (接报→研判→调度→处置中→结束)."""
        return self.editing.advance_incident(incident_id)

    # ---- closures ------------------------------------------------------------------------------

    def start_closure_draw(self, kind: str) -> None:
        self.cancel_pick()
        self.map.start_draw(kind)
        self.statusBar().showMessage(
            tr("在地图上绘制道路管制（线/面：双击或单击最后一点结束）"), 8000
        )

    def add_closure_from_geojson(self, text: str, reason: str | None = None) -> Any:
        """A closure drawn on the map (GeoJSON geometry). Opens the form unless ``reason`` is given."""
        closure = self.editing.closure_from_geojson(text, reason or "")
        if closure is None:
            return None
        if reason is not None or not self.interactive:
            self.editing.add_closure(closure)
            return closure
        dlg = ClosureDialog(self.session.scenario, closure, self)
        dlg.accepted.connect(lambda: self.editing.add_closure(dlg.entity))
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
        self.workspace.rebuild_page()

    # ---- extension point ------------------------------------------------------------------------

    def install_dispatch_panel(self) -> DispatchPanel:
        """The 调度方案 dock, given what it needs (installed once; later calls return it)."""
        from gui.docks.dispatch_panel import install_dispatch_panel

        return install_dispatch_panel(
            self,
            session=self.session,
            runner=self.runner,
            map_view=self.map,
            view_menu=self.view_menu,
            toolbar=self.toolbar,
            tabify_with=self.event_dock,
            map_drawn=self.sig_map_drawn,
        )

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
            self, tr("保存窗口截图"), str(default_dir() / "reliefdesk.png"), "PNG (*.png)"
        )
        if path:
            self.grab().save(path, "PNG")

    def about(self) -> None:
        show_about(self)
