"""The map widget: a QWebEngineView showing the offline Leaflet page, with a QWebChannel bridge.

JS → Python (signals of :class:`MapBridge`): marker clicked (id), map clicked (lon, lat), mouse
moved (lon, lat), marker dragged (id, lon, lat), closure drawn (GeoJSON geometry text), view
changed (zoom, centre latitude, width px), page ready and map drawn (every layer on the map,
clustered layers fully loaded, painted).

Python → JS (methods of :class:`MapView`): :meth:`MapView.select`, :meth:`MapView.pan_to`,
:meth:`MapView.set_layer_visible`, :meth:`MapView.set_layer_data` (update one layer without a
reload), :meth:`MapView.set_mode`, :meth:`MapView.set_draggable`, :meth:`MapView.start_draw`.
Calls made before the page is ready are queued and replayed once it is.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QUrl, pyqtSignal, pyqtSlot
from PyQt6.QtWebChannel import QWebChannel
from PyQt6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineSettings,
    QWebEngineUrlScheme,
)
from PyQt6.QtWebEngineWidgets import QWebEngineView
from PyQt6.QtWidgets import QWidget

from gui.map_page import RESOURCES_DIR, js_literal

log = logging.getLogger(__name__)

#: The page's scheme for local tiles (gui/map_tools.py serves it from an MBTiles file).
TILE_SCHEME = b"rdtiles"


def register_tile_scheme() -> None:
    """Declare ``rdtiles:`` to Chromium (must happen before the first web engine profile)."""
    if QWebEngineUrlScheme.schemeByName(TILE_SCHEME).name():
        return
    scheme = QWebEngineUrlScheme(TILE_SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Path)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalScheme
        | QWebEngineUrlScheme.Flag.CorsEnabled
        | QWebEngineUrlScheme.Flag.FetchApiAllowed  # vector tiles are fetched, not <img>
    )
    QWebEngineUrlScheme.registerScheme(scheme)


register_tile_scheme()  # at import: gui modules are imported before the QApplication exists


class MapBridge(QObject):
    """Object published to the page as ``bridge``; its slots are called from JavaScript."""

    sig_marker_clicked = pyqtSignal(str)
    sig_map_clicked = pyqtSignal(float, float)
    sig_mouse_moved = pyqtSignal(float, float)
    sig_marker_dragged = pyqtSignal(str, float, float)
    sig_closure_drawn = pyqtSignal(str)
    #: a shape drawn with the measuring tool (GeoJSON geometry text)
    sig_measured = pyqtSignal(str)
    sig_view_changed = pyqtSignal(int, float, int)
    sig_page_ready = pyqtSignal(str)
    #: every layer is on the map and painted (JSON of ``RD.stats()``)
    sig_map_drawn = pyqtSignal(str)

    @pyqtSlot(str)
    def markerClicked(self, entity_id: str) -> None:  # noqa: N802 (JS-facing name)
        self.sig_marker_clicked.emit(str(entity_id))

    @pyqtSlot(float, float)
    def mapClicked(self, lon: float, lat: float) -> None:  # noqa: N802
        self.sig_map_clicked.emit(float(lon), float(lat))

    @pyqtSlot(float, float)
    def mouseMoved(self, lon: float, lat: float) -> None:  # noqa: N802
        self.sig_mouse_moved.emit(float(lon), float(lat))

    @pyqtSlot(str, float, float)
    def markerDragged(self, entity_id: str, lon: float, lat: float) -> None:  # noqa: N802
        self.sig_marker_dragged.emit(str(entity_id), float(lon), float(lat))

    @pyqtSlot(str)
    def closureDrawn(self, geojson: str) -> None:  # noqa: N802
        self.sig_closure_drawn.emit(str(geojson))

    @pyqtSlot(str)
    def measured(self, geojson: str) -> None:
        self.sig_measured.emit(str(geojson))

    @pyqtSlot(float, float, float)
    def viewChanged(self, zoom: float, lat: float, width_px: float) -> None:  # noqa: N802
        self.sig_view_changed.emit(round(zoom), float(lat), int(width_px))

    @pyqtSlot(str)
    def pageReady(self, stats: str) -> None:  # noqa: N802
        self.sig_page_ready.emit(str(stats))

    @pyqtSlot(str)
    def mapDrawn(self, stats: str) -> None:  # noqa: N802
        self.sig_map_drawn.emit(str(stats))


class _Page(QWebEnginePage):
    """Logs the page's console messages (JS errors must not vanish)."""

    def javaScriptConsoleMessage(self, level: Any, message: str, line: int, source: str) -> None:  # noqa: N802
        text = f"map page: {message} ({source}:{line})"
        if level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            log.warning(text)
        else:
            log.debug(text)


def scale_denominator(zoom: int, lat: float, dpi: float = 96.0) -> float:
    """Map scale 1:N of a Web-Mercator view at ``zoom`` and latitude ``lat``."""
    metres_per_px = 156543.03392 * math.cos(math.radians(lat)) / (2**zoom)
    return metres_per_px * dpi / 0.0254


class MapView(QWebEngineView):
    """The central map. Build the page with :func:`gui.map_page.build_map_html`, then :meth:`show_page`."""

    sig_ready = pyqtSignal()
    #: the page's renderer process died (status text, exit code)
    sig_crashed = pyqtSignal(str, int)

    def __init__(self, parent: QWidget | None = None, *, page_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._page = _Page(self)
        self.setPage(self._page)
        s = self._page.settings()
        s.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        s.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
        s.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
        self.bridge = MapBridge(self)
        self._channel = QWebChannel(self._page)
        self._channel.registerObject("bridge", self.bridge)
        self._page.setWebChannel(self._channel)
        self._ready = False
        self._disposed = False
        self._pending: list[str] = []
        self._page_dir = Path(page_dir) if page_dir else Path(tempfile.gettempdir()) / "reliefdesk"
        self.page_file: Path | None = None
        #: pages above this go through a file (setHtml fails above ~2 MB and is slower anyway)
        self.sethtml_limit = 100_000
        self.zoom = 10
        self.bridge.sig_page_ready.connect(self._on_ready)
        self._page.renderProcessTerminated.connect(self._on_render_terminated)
        self.bridge.sig_view_changed.connect(self._on_view)
        self._lat = 28.8

    # ---- page --------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the page's JS has connected to the bridge."""
        return self._ready

    def show_page(self, page_html: str) -> None:
        """Show a page from :func:`gui.map_page.build_map_html` (file + ``load`` above 2 MB)."""
        self._ready = False
        self._pending = []
        data = page_html.encode("utf-8")
        if len(data) > self.sethtml_limit:
            self._page_dir.mkdir(parents=True, exist_ok=True)
            path = self._page_dir / f"map_{os.getpid()}_{id(self):x}.html"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            if self.page_file is not None and self.page_file != path:
                self.page_file.unlink(missing_ok=True)
            self.page_file = path
            self.load(QUrl.fromLocalFile(str(path)))
        else:
            if self.page_file is not None:
                self.page_file.unlink(missing_ok=True)
            self.page_file = None
            self.setHtml(page_html, QUrl.fromLocalFile(str(RESOURCES_DIR) + "/"))

    def show_file(self, path: Path) -> None:
        """Show a page file written elsewhere (e.g. the page cache; it is not deleted here)."""
        self._ready = False
        self._pending = []
        if self.page_file is not None:
            self.page_file.unlink(missing_ok=True)
            self.page_file = None
        self.load(QUrl.fromLocalFile(str(path)))

    def show_empty_state(self, title: str, detail: str) -> None:
        """A plain page saying no workspace is open (``title``) and why (``detail``, as text)."""
        import html

        self.show_page(
            "<html><body style='font-family: sans-serif; color: #444; background: #eef1ec;"
            " display: flex; align-items: center; justify-content: center; height: 100vh;"
            " margin: 0'><div id='rd-empty' style='max-width: 40em; text-align: center'>"
            f"<h2>{html.escape(title)}</h2><p style='white-space: pre-wrap'>"
            f"{html.escape(detail)}</p></div></body></html>"
        )

    def warm_up(self) -> None:
        """Load an empty page so Chromium's renderer starts while Python reads data."""
        self.setHtml("<html><body></body></html>", QUrl.fromLocalFile(str(RESOURCES_DIR) + "/"))

    def _on_render_terminated(self, status: Any, code: int) -> None:
        name = getattr(status, "name", str(status))
        if name == "NormalTerminationStatus":
            return
        self._ready = False
        log.error("map renderer process terminated: %s (exit code %s)", name, code)
        self.sig_crashed.emit(name, int(code))

    def _on_ready(self, stats: str) -> None:
        self._ready = True
        pending, self._pending = self._pending, []
        for script in pending:
            self._page.runJavaScript(script)
        self.sig_ready.emit()

    def _on_view(self, zoom: int, lat: float, _width: int) -> None:
        self.zoom = zoom
        self._lat = lat

    def scale_denominator(self) -> float:
        return scale_denominator(self.zoom, self._lat, self.logicalDpiX() or 96.0)

    # ---- Python → JS ---------------------------------------------------------------------------

    def run_js(self, script: str, callback: Callable[[Any], None] | None = None) -> None:
        """Run ``script`` now if the page is ready (else queue it; callbacks run only when ready)."""
        if self._disposed:
            return
        if not self._ready and callback is None:
            self._pending.append(script)
            return
        if callback is None:
            self._page.runJavaScript(script)
        else:
            self._page.runJavaScript(script, callback)

    def evaluate(self, script: str, callback: Callable[[Any], None]) -> None:
        """Evaluate ``script`` regardless of readiness (probes such as ``typeof L``)."""
        self._page.runJavaScript(script, callback)

    def _call(self, fn: str, *args: Any) -> None:
        self.run_js(f"window.RD && RD.{fn}({', '.join(js_literal(a) for a in args)});")

    def set_layer_data(self, layer: str, payload: Any) -> None:
        self._call("setLayerData", layer, payload)

    def set_coverage(self, payload: Any) -> None:
        """Draw (or with ``None`` clear) the coverage overlay (gui/coverage_layers.py)."""
        self._call("setCoverage", payload)

    def update_layer(self, layer: str, payload: Any, removed: list[str]) -> None:
        """Replace/add the entities in ``payload`` and drop ``removed`` ids, leaving the rest of
        the layer as drawn (see :mod:`gui.map_updates`)."""
        self._call("updateLayer", layer, payload, list(removed))

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        self._call("setLayerVisible", layer, bool(visible))

    def select(self, entity_id: str | None, pan: bool = True) -> None:
        self._call("select", entity_id or "", bool(pan))

    def pan_to(self, lon: float, lat: float, zoom: int | None = None) -> None:
        self._call("panTo", float(lon), float(lat), zoom or 0)

    def fit_data(self) -> None:
        self._call("fitData")

    def set_mode(self, mode: str) -> None:
        """``browse`` (normal), ``pick`` (clicks report coordinates only) or ``draw``."""
        self._call("setMode", mode)

    def set_draggable(self, on: bool) -> None:
        self._call("setDraggable", bool(on))

    def start_draw(self, kind: str) -> None:
        """Start drawing a closure: ``point``, ``line`` or ``polygon`` (Leaflet.draw)."""
        self._call("startDraw", kind)

    def cancel_draw(self) -> None:
        self._call("cancelDraw")

    def dispose(self) -> None:
        """Tear down the page before its profile goes (tests and shutdown)."""
        from PyQt6.QtCore import QCoreApplication, QEvent

        self._disposed = True  # late job results (closed roads, routes) are dropped from now on
        self._page.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        if self.page_file is not None:
            self.page_file.unlink(missing_ok=True)
            self.page_file = None
