"""The map tools of the desk: 视图 → 底图, measuring, place search, coordinate read-out, export.

Thin Qt views over Qt-free services:

- base maps: :mod:`gis.basemap` (choice, online catalogue, GCJ-02 offsets), :mod:`gis.tiles`
  (the MBTiles reader behind the page's ``rdtiles:`` scheme, :class:`TileSchemeHandler`). The
  choice persists per workspace in the settings (``basemap/<hash of the workspace path>``);
  the network is enabled for the page only while an online source is chosen;
- measuring: the page draws (Leaflet.draw), :mod:`gis.measure` measures geodesically;
- search: :mod:`gis.place_search` (townships, villages, facilities, roads), fly-to on the map;
- coordinates: WGS-84 and GCJ-02 (:mod:`gis.coords`) under the mouse; clicking copies them;
- export of the current view: :mod:`gui.map_print`.

:func:`install_map_tools` adds the menus and widgets to a :class:`gui.main_window.MainWindow`.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from PyQt6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QObject,
    QStringListModel,
    Qt,
    pyqtSignal,
)
from PyQt6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PyQt6.QtWebEngineCore import (
    QWebEngineSettings,
    QWebEngineUrlRequestJob,
    QWebEngineUrlSchemeHandler,
)
from PyQt6.QtWidgets import QCompleter, QFileDialog, QLineEdit, QMainWindow

from gis import basemap as bm
from gis.coords import wgs84_to_gcj02
from gis.measure import Measurement, format_area, format_length, measure_geojson
from gis.paths import default_dir
from gis.place_search import KIND_LABELS, Place, PlaceIndex, build_index, road_places
from gis.tiles import MBTiles, TileSourceError, parse_tile_path
from gui.i18n import tr
from gui.map_page import js_literal, scenario_bounds
from gui.map_view import TILE_SCHEME

log = logging.getLogger(__name__)


class TileSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves ``rdtiles:/<token>/z/x/y`` from the open MBTiles file (missing tile: not found)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tiles: MBTiles | None = None
        self.served = 0

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 (Qt name)
        zxy = parse_tile_path(job.requestUrl().path())
        try:
            data = self.tiles.tile(*zxy, decompress=True) if (self.tiles and zxy) else None
        except sqlite3.Error as exc:  # the file changed or went away under us: no tile
            log.warning("tile %s from %s: %s", zxy, self.tiles.path if self.tiles else "", exc)
            data = None
        if data is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buf = QBuffer(job)
        buf.setData(QByteArray(data))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(self.tiles.info.mime.encode(), buf)
        self.served += 1


def _scheme_handler(profile: Any) -> TileSchemeHandler:
    """The profile's ``rdtiles:`` handler, installed once and owned by the application (the
    profile outlives windows; a second window in the same process shares it)."""
    handler = profile.urlSchemeHandler(TILE_SCHEME)
    if isinstance(handler, TileSchemeHandler):
        return handler
    handler = TileSchemeHandler(QCoreApplication.instance())
    profile.installUrlSchemeHandler(TILE_SCHEME, handler)
    return handler


class BasemapController(QObject):
    """The base map of the open workspace: choose, persist, apply to the page."""

    sig_changed = pyqtSignal(str)  # kind

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.handler = _scheme_handler(window.map.page().profile())
        self.choice = bm.DEFAULT
        self._token = ""
        window.map.sig_ready.connect(self.apply)
        window.session.sig_path_changed.connect(lambda _p: self.load_choice())

    # ---- persistence (settings keyed by the workspace path) ----

    def _key(self) -> str:
        return bm.settings_key(self.w.session.path)

    def load_choice(self) -> None:
        """The stored choice of the open workspace (default: the workspace base map)."""
        choice = bm.BasemapChoice.from_json(self.w.settings.value(self._key(), "") or "")
        if choice.kind == "mbtiles" and not Path(choice.path).is_file():
            choice = bm.DEFAULT  # the file went away: fall back, say nothing is lost
        self.choice = choice
        self.apply()

    def set_choice(self, choice: bm.BasemapChoice) -> bool:
        """Use ``choice`` for the open workspace (stored) and draw it. False if it cannot be."""
        if choice.kind == "mbtiles" and not self._open_mbtiles(choice.path):
            return False
        self.choice = choice
        self.w.settings.setValue(self._key(), choice.to_json())
        self.w.settings.sync()
        self.apply()
        if choice.online:
            name = tr(bm.ONLINE_SOURCES[choice.source].name_zh)
            self.w.statusBar().showMessage(
                tr("在线底图：{name}（需要网络连接；离线时请改用工作区底图或本地瓦片）").format(
                    name=name
                ),
                10000,
            )
        return True

    def _open_mbtiles(self, path: str) -> bool:
        try:
            tiles = MBTiles(path)
        except TileSourceError as exc:
            self.w.report_error(tr("无法打开瓦片文件"), str(exc), "", dialog=self.w.interactive)
            return False
        if self.handler.tiles is not None:
            self.handler.tiles.close()
        self.handler.tiles = tiles
        self._token = secrets.token_hex(4)  # new URL per file: no stale tiles from the cache
        return True

    # ---- the page ----

    def spec(self) -> dict[str, Any] | None:
        """``RD.setBasemap`` JSON of the current choice (None: keep the page's own default)."""
        c = self.choice
        if c.kind == "workspace":
            return None  # the page was built with it (labels included)
        if c.kind == "mbtiles":
            stale = self.handler.tiles is None or self.handler.tiles.info.path != str(Path(c.path))
            if stale and not self._open_mbtiles(c.path):
                return bm.page_spec(bm.DEFAULT)
            url = f"{TILE_SCHEME.decode()}:/{self._token}/{{z}}/{{x}}/{{y}}"
            return bm.page_spec(c, tile_url=url, info=self.handler.tiles.info)
        bounds = scenario_bounds(self.w.session.scenario)
        return bm.page_spec(c, bounds=bounds)

    def apply(self) -> None:
        online = self.choice.online
        self.w.map.page().settings().setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, online
        )
        spec = self.spec()
        if spec is None:
            self.w.map.run_js("window.RD && RD.data && RD.setBasemap(RD.data.basemap);")
        else:
            self.w.map.run_js(f"window.RD && RD.setBasemap({js_literal(spec)});")
        self.sig_changed.emit(self.choice.kind)
        actions = getattr(self.w, "basemap_actions", {})
        key = self.choice.source if self.choice.online else self.choice.kind
        if key in actions:
            actions[key].setChecked(True)

    def choose_mbtiles(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.w,
            tr("打开本地瓦片文件（MBTiles）"),
            str(default_dir(self.w.session.path)),
            tr("MBTiles 瓦片 (*.mbtiles);;所有文件 (*)"),
        )
        if path:
            self.set_choice(bm.BasemapChoice("mbtiles", path))
        else:
            self.apply()  # re-check the current entry


class MapToolsController(QObject):
    """Measuring, place search, coordinate read-out."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.last_measurement: Measurement | None = None
        self.last_text = ""
        self.index: PlaceIndex = PlaceIndex((), ())
        self._entries: dict[str, Place] = {}
        self._coords = ""
        self._roads_of: Any = None
        self._roads: list[Place] = []
        window.map.bridge.sig_measured.connect(self.on_measured)
        # the index is rebuilt when the search is used, not on every edit (a 10k-facility
        # workspace would pay for it on each move)
        self._stale = True
        window.session.sig_workspace_loaded.connect(self.invalidate)
        window.session.sig_scenario_changed.connect(lambda *_a: self.invalidate())

    # ---- measuring ----

    def start_measure(self, kind: str) -> None:
        self.w.map.run_js(f"RD.startMeasure({js_literal(kind)});")
        self.w.statusBar().showMessage(tr("单击地图逐点量算，双击或单击末点结束（Esc 取消）"))

    def on_measured(self, geojson: str) -> None:
        try:
            m = measure_geojson(geojson)
        except ValueError as exc:
            self.w.statusBar().showMessage(str(exc), 5000)
            return
        if m.kind == "polygon":
            text = tr("面积 {area}，周长 {length}").format(
                area=format_area(m.area_m2), length=format_length(m.length_m)
            )
        else:
            text = tr("距离 {length}").format(length=format_length(m.length_m))
        self.last_measurement, self.last_text = m, text
        self.w.map.run_js(f"RD.showMeasure({js_literal(text)});")
        self.w.statusBar().showMessage(text)

    # ---- search ----

    def invalidate(self) -> None:
        self._stale = True

    def ensure_index(self) -> PlaceIndex:
        """The place index of the current scenario (rebuilt if it changed since)."""
        if self._stale:
            self.rebuild_index()
        return self.index

    def rebuild_index(self) -> None:
        self._stale = False
        s = self.w.session
        if self._roads_of is not s.road_edges:  # roads change rarely, entities often
            self._roads_of, self._roads = s.road_edges, road_places(s.road_edges)
        self.index = build_index(s.scenario, roads=self._roads)
        self._entries = {}
        for p in self.index.places:
            self._entries.setdefault(f"{p.name}（{tr(KIND_LABELS[p.kind])}）", p)
        model = getattr(self, "_model", None)
        if model is not None:
            model.setStringList(list(self._entries))

    def attach_search(self, box: QLineEdit) -> None:
        self._model = QStringListModel(list(self._entries), box)
        comp = QCompleter(self._model, box)
        comp.setFilterMode(Qt.MatchFlag.MatchContains)
        comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        comp.setMaxVisibleItems(15)
        box.setCompleter(comp)
        comp.activated.connect(lambda text: self.fly_to_text(text))
        box.installEventFilter(_FocusFilter(box, self.ensure_index))
        box.textEdited.connect(lambda _t: self.ensure_index())
        box.returnPressed.connect(lambda: self.fly_to_text(box.text()))

    def fly_to_text(self, text: str) -> Place | None:
        self.ensure_index()
        place = self._entries.get(text)
        if place is None:
            hits = self.index.search(text, limit=1)
            place = hits[0] if hits else None
        if place is None:
            self.w.statusBar().showMessage(tr("未找到地点：{q}").format(q=text), 5000)
            return None
        self.fly_to(place)
        return place

    def fly_to(self, place: Place) -> None:
        args = [place.lon, place.lat, place.zoom, list(place.bounds) if place.bounds else None]
        self.w.map.run_js(f"RD.flyTo({', '.join(js_literal(a) for a in args)});")
        self.w.statusBar().showMessage(
            tr("已定位：{name}（{kind}）").format(
                name=place.name, kind=tr(KIND_LABELS[place.kind])
            ),
            5000,
        )

    # ---- coordinates ----

    def coordinate_text(self, lon: float, lat: float) -> str:
        glon, glat = wgs84_to_gcj02(lon, lat)
        self._coords = f"WGS-84 {lon:.6f}, {lat:.6f}; GCJ-02 {float(glon):.6f}, {float(glat):.6f}"
        return tr("WGS-84 {lon:.5f}, {lat:.5f} | GCJ-02 {glon:.5f}, {glat:.5f}").format(
            lon=lon, lat=lat, glon=float(glon), glat=float(glat)
        )

    def copy_coordinates(self) -> str:
        if self._coords:
            QGuiApplication.clipboard().setText(self._coords)
            self.w.statusBar().showMessage(tr("已复制坐标：{c}").format(c=self._coords), 5000)
        return self._coords


class _FocusFilter(QObject):
    def __init__(self, parent: QObject, slot: Any) -> None:
        super().__init__(parent)
        self._slot = slot

    def eventFilter(self, obj: QObject, event: Any) -> bool:  # noqa: N802 (Qt name)
        from PyQt6.QtCore import QEvent

        if event.type() == QEvent.Type.FocusIn:
            self._slot()
        return False


class _ClickFilter(QObject):
    def __init__(self, parent: QObject, slot: Any) -> None:
        super().__init__(parent)
        self._slot = slot

    def eventFilter(self, obj: QObject, event: Any) -> bool:  # noqa: N802 (Qt name)
        from PyQt6.QtCore import QEvent

        if event.type() == QEvent.Type.MouseButtonPress:
            self._slot()
            return True
        return False


def install_map_tools(window: QMainWindow) -> None:
    """视图 → 底图 / 地图工具, the search box and the coordinate read-out on ``window``."""
    w: Any = window
    w.basemap = BasemapController(w)
    w.map_tools = tools = MapToolsController(w)
    menu = w.view_menu.addMenu(tr("底图"))
    w.basemap_menu = menu
    group = QActionGroup(w)
    w.basemap_actions = {}

    def add(key: str, text: str, slot: Any) -> QAction:
        a = QAction(text, w, checkable=True)
        a.triggered.connect(slot)
        group.addAction(a)
        menu.addAction(a)
        w.basemap_actions[key] = a
        return a

    add("workspace", tr("工作区底图（离线，默认）"), lambda: w.basemap.set_choice(bm.DEFAULT))
    add("mbtiles", tr("本地瓦片文件（MBTiles）…"), w.basemap.choose_mbtiles)
    menu.addSeparator()
    for key, src in bm.ONLINE_SOURCES.items():
        add(
            key,
            tr(src.name_zh),
            lambda _c=False, k=key: w.basemap.set_choice(bm.BasemapChoice("online", source=k)),
        )
    menu.addSeparator()
    add("none", tr("无底图"), lambda: w.basemap.set_choice(bm.BasemapChoice("none")))
    w.basemap_actions["workspace"].setChecked(True)

    tmenu = w.view_menu.addMenu(tr("地图工具"))
    w.act_measure_line = QAction(tr("量算距离"), w)
    w.act_measure_line.triggered.connect(lambda: tools.start_measure("line"))
    w.act_measure_area = QAction(tr("量算面积"), w)
    w.act_measure_area.triggered.connect(lambda: tools.start_measure("polygon"))
    w.act_measure_clear = QAction(tr("清除量算"), w)
    w.act_measure_clear.triggered.connect(lambda: w.map.run_js("RD.clearMeasure();"))
    w.act_find_place = QAction(tr("查找地点"), w)
    w.act_find_place.setShortcut(QKeySequence("Ctrl+F"))
    w.act_export_view = QAction(tr("导出当前地图视图（PNG/PDF）…"), w)
    w.act_export_view.triggered.connect(lambda: _export_dialog(w))
    for a in (w.act_measure_line, w.act_measure_area, w.act_measure_clear, w.act_find_place):
        tmenu.addAction(a)
    tmenu.addSeparator()
    tmenu.addAction(w.act_export_view)
    w.file_menu.insertAction(w.act_quit, w.act_export_view)

    box = QLineEdit(w)
    box.setPlaceholderText(tr("查找地点（乡镇、村、设施、道路）"))
    box.setClearButtonEnabled(True)
    box.setMaximumWidth(260)
    w.search_box = box
    tools.attach_search(box)
    w.toolbar.addSeparator()
    w.toolbar.addWidget(box)
    w.act_find_place.triggered.connect(lambda: (box.setFocus(), box.selectAll()))

    w.coord_label.setText(tr("WGS-84 — | GCJ-02 —"))
    w.coord_label.setToolTip(tr("单击复制坐标（WGS-84 与 GCJ-02）"))
    w.coord_label.setMinimumWidth(360)
    w.coord_label.setCursor(Qt.CursorShape.PointingHandCursor)
    w.coord_label.installEventFilter(_ClickFilter(w.coord_label, tools.copy_coordinates))
    w.basemap.load_choice()


def _export_dialog(w: Any) -> None:
    from gui.map_print import export_view_dialog

    export_view_dialog(w)
