"""The workspace controller: open → adopt → road network → closed roads, and the file jobs.

State machine (all on the GUI thread; jobs run on threads):

1. :meth:`WorkspaceController.open` bumps the open generation, shows a cached map page at once
   if there is one (``sig_show_page``), and reads the workspace in the background.
2. When the read finishes and no other open started since (else the result is dropped), the
   session adopts it with one :class:`gis.workspace_service.WorkspaceRef`; the map page is shown
   and a road-network request is queued.
3. The network request starts once the map has drawn (:meth:`map_drawn`, or at once when the map
   is already ready), so it does not compete with the first paint. A network of an older open is
   dropped.
4. With a network, the closed road edges are computed in the background whenever the closures
   change (:meth:`update_closed_roads`); only the latest computation is kept (``closed_roads``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from gis.model import Scenario
from gis.workspace_service import (
    ImportedRoads,
    ImportRoadsRequest,
    NetworkRequest,
    NetworkResult,
    WorkspaceRef,
)
from gui import map_page
from gui.i18n import tr
from gui.services.workspace_jobs import (
    STAGES,
    ClosedRoadsRequest,
    OpenRequest,
    OpenResult,
    PageRequest,
    SaveRequest,
    closed_roads_job,
    empty_features,
    import_osm_job,
    load_workspace_job,
    rebuild_page_job,
    road_network_job,
    save_job,
)
from gui.session import Session
from gui.workers import Job, JobRunner, RunFn

#: (tile url, hidden layer ids) of the map page to build
PageOptions = Callable[[], tuple[str, tuple[str, ...]]]


def stage_text(key: str) -> str:
    """The translated words of a service's progress stage key (other messages pass through)."""
    words = {
        "read": tr("读取工作区…"),
        "page": tr("生成地图…"),
        "frames": tr("读取道路…"),
        "network": tr("加载道路网络…"),
        "osm": tr("读取 OSM 文件…"),
        "save": tr("保存中…"),
    }
    assert set(words) == set(STAGES)
    return words.get(key, key)


def worded(fn: RunFn) -> RunFn:
    """``fn`` with its progress stage keys translated (see :func:`stage_text`)."""

    def run(data: Any, *, stop: Any, progress: Any) -> Any:
        return fn(data, stop=stop, progress=lambda f, m="": progress(f, stage_text(m)))

    return run


class WorkspaceController(QObject):
    """Owns the open → adopt → road network → closed roads state machine of a :class:`Session`."""

    #: a map page to draw (the cached page at open, the built page at adopt, a rebuilt page)
    sig_show_page = pyqtSignal(object)
    #: an open started (path)
    sig_opening = pyqtSignal(object)
    #: the session adopted an opened workspace (OpenResult)
    sig_adopted = pyqtSignal(object)
    #: the open failed (path, message, details)
    sig_open_failed = pyqtSignal(object, str, str)
    #: an open failed with no workspace to go back to (what happened, as text): an empty state
    sig_no_workspace = pyqtSignal(str)
    #: the road network arrived and is in the session (network)
    sig_network_loaded = pyqtSignal(object)
    #: the closed road edges, a GeoJSON FeatureCollection (dict)
    sig_closed_roads = pyqtSignal(object)
    #: an OSM road network replaced the workspace's (ImportedRoads)
    sig_roads_imported = pyqtSignal(object)
    #: a save finished (path) / an autosave wrote its recovery copy (path)
    sig_saved = pyqtSignal(object)
    sig_autosaved = pyqtSignal(object)
    #: (level 'info'|'warning', text) for the message panel
    sig_message = pyqtSignal(str, str)
    #: (title, message, details, as a dialog)
    sig_error = pyqtSignal(str, str, str, bool)

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        *,
        map_ready: Callable[[], bool] = lambda: False,
        page_options: PageOptions = lambda: ("", ()),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.map_ready = map_ready
        self.page_options = page_options
        self.closed_roads: dict[str, Any] = empty_features()
        self.load_error: str | None = None
        #: True while the session adopts a workspace whose page already shows it
        self.adopting = False
        #: a workspace (opened or new) is in the session and its page on the map
        self.has_workspace = False
        self._open_gen = 0
        self._closure_gen = 0
        self._network_request: NetworkRequest | None = None

    # ---- open ------------------------------------------------------------------------------

    def open(
        self, path: Path | str, *, recovered_from: Path | None = None, source: Path | None = None
    ) -> Job:
        """Read ``path`` in the background, then adopt it (``source``: the original file of a
        recovery copy ``recovered_from``)."""
        path = Path(path)
        self.load_error = None
        tile_url, hidden = self.page_options()
        try:
            page_path = map_page.cached_page_path(path, tile_url=tile_url, hidden_layers=hidden)
        except OSError:
            page_path = None
        cached = page_path is not None and page_path.exists()
        if cached:
            # an unchanged workspace: draw its cached page while the data are read
            self.sig_show_page.emit(page_path)
            page_path.touch()
        ref = (
            WorkspaceRef(path=Path(source) if source else None, recovered_from=recovered_from)
            if recovered_from
            else WorkspaceRef(path=path)
        )
        request = OpenRequest(
            file=path,
            ref=ref,
            page_path=page_path,
            page_cached=cached,
            tile_url=tile_url,
            hidden=tuple(hidden),
        )
        self.sig_opening.emit(path)
        self._open_gen += 1
        gen = self._open_gen

        def done(result: OpenResult, cancelled: bool) -> None:
            if gen != self._open_gen:  # another open started since: this one is stale
                return
            if cancelled or result.page_path is None:
                self.sig_message.emit("warning", tr("已取消打开 {path}").format(path=path))
                return
            self._adopt(result)

        def failed(message: str, details: str) -> None:
            if gen != self._open_gen:
                return
            self.load_error = message
            if not self.has_workspace:
                # nothing to go back to: the map says so instead of staying a blank page
                self.sig_no_workspace.emit(
                    tr("无法打开 {path}：{message}").format(path=path, message=message)
                    + "\n\n"
                    + tr("请用 文件 → 打开工作区… 或 打开演示县（合江县）。")
                )
            elif cached:
                # the failed file's cached page is on screen: back to the open workspace's map
                self.rebuild_page()
            self.sig_open_failed.emit(path, message, details)

        return self.runner.start(
            tr("打开工作区"), worded(load_workspace_job), request, on_done=done, on_error=failed
        )

    def _adopt(self, result: OpenResult) -> None:
        self.adopting = True  # the page already holds this workspace: no layer pushes
        self.has_workspace = True
        try:
            self.session.load(result.workspace, result.ref)
        finally:
            self.adopting = False
        if not result.from_cache:
            self.sig_show_page.emit(result.page_path)
        self.closed_roads = empty_features()
        # the road network (for closures and travel times) loads once the map has drawn, so it
        # does not compete with the first paint
        self._network_request = None
        ref = self.session.ref
        source = ref.read_from
        if source is not None and (result.workspace.road_edges is not None or ref.roads_source):
            self._network_request = NetworkRequest(
                path=source,
                scenario=self.session.scenario,
                read_frames=ref.roads_source is not None,
            )
            if self.map_ready():  # a cached page may have drawn before the data arrived
                self._start_network_job()
        self.sig_adopted.emit(result)

    def new_workspace(self, scenario: Scenario) -> None:
        """Adopt an empty, unsaved workspace (any open or network still running is dropped)."""
        from gis.workspace import Workspace

        self._open_gen += 1
        self._network_request = None
        self.closed_roads = empty_features()
        self.session.load(Workspace(path=None, scenario=scenario), None)
        self.has_workspace = True

    # ---- road network and closed roads ---------------------------------------------------------

    @property
    def network_pending(self) -> bool:
        """A road-network load waits for the map to draw."""
        return self._network_request is not None

    def map_drawn(self) -> None:
        """The map page has drawn: start the road-network load it was waiting for."""
        self._start_network_job()

    def _start_network_job(self) -> None:
        request, self._network_request = self._network_request, None
        if request is None:
            return
        gen = self._open_gen
        self.runner.start(
            tr("加载道路网络"),
            worded(road_network_job),
            request,
            on_done=lambda r, c: self._on_network(r) if gen == self._open_gen else None,
            on_error=lambda m, d: self.sig_error.emit(tr("道路网络加载失败"), m, d, False),
        )

    def _on_network(self, result: NetworkResult) -> None:
        if result.frames is not None and self.session.roads_source == result.path:
            self.session.set_road_frames(*result.frames)
        if result.network is None:
            return
        self.session.network = result.network
        self.sig_network_loaded.emit(result.network)
        rep = getattr(result.network, "report", None)
        if rep is not None:
            self.sig_message.emit(
                "info",
                tr("道路网络：{n} 个节点，{e} 条路段").format(
                    n=getattr(rep, "nodes", "?"), e=getattr(rep, "edges", "?")
                ),
            )
        self.update_closed_roads()

    def update_closed_roads(self) -> Job | None:
        """Recompute (in the background) the road edges affected by the closures."""
        if self.session.network is None:
            return None
        self._closure_gen += 1
        gen = self._closure_gen

        def done(fc: dict[str, Any], cancelled: bool) -> None:
            if gen != self._closure_gen:
                return
            self.closed_roads = fc
            self.sig_closed_roads.emit(fc)

        return self.runner.start(
            tr("计算受阻路段"),
            closed_roads_job,
            ClosedRoadsRequest(
                self.session.network, self.session.scenario.closures, unnamed=tr("受阻路段")
            ),
            on_done=done,
            on_error=lambda m, d: self.sig_error.emit(tr("受阻路段计算失败"), m, d, False),
            show=False,
        )

    # ---- map page, roads, files ---------------------------------------------------------------

    def rebuild_page(self) -> Job:
        """Rebuild the page from the current scenario (keeps edits; runs in the background)."""
        s = self.session
        tile_url, hidden = self.page_options()
        request = PageRequest(
            scenario=s.scenario,
            road_edges=s.road_edges,
            roads_source=s.roads_source,
            tile_url=tile_url,
            hidden=tuple(hidden),
            map_layers=dict(s.documents.get("map_layers", {})),
        )
        return self.runner.start(
            tr("生成地图…"),
            rebuild_page_job,
            request,
            on_done=lambda path, _c: self.sig_show_page.emit(path),
            on_error=lambda m, d: self.sig_error.emit(tr("地图生成失败"), m, d, False),
        )

    def import_osm(self, file: Path) -> Job:
        """Replace the workspace's road network by one built from an OSM file (background)."""
        file = Path(file)

        def done(result: ImportedRoads | None, cancelled: bool) -> None:
            if cancelled or result is None:  # the workspace keeps its roads
                self.sig_message.emit(
                    "info", tr("已取消导入 OSM 道路（{src}），工作区未改动").format(src=file.name)
                )
                return
            self.session.replace_roads(result.nodes, result.edges, result.network, result.ref)
            self.sig_message.emit(
                "info",
                tr("已导入 OSM 道路：{n} 个节点，{e} 条路段（{src}）").format(
                    n=len(result.nodes), e=len(result.edges), src=file.name
                ),
            )
            self.sig_roads_imported.emit(result)
            self.rebuild_page()
            self.update_closed_roads()

        return self.runner.start(
            tr("导入 OSM 道路"),
            worded(import_osm_job),
            ImportRoadsRequest(file, self.session.scenario.boundary),
            on_done=done,
            on_error=lambda m, d: self.sig_error.emit(
                tr("无法导入 OSM 道路 {path}").format(path=file), m, d, True
            ),
        )

    def save_to(self, path: Path) -> Job:
        """Save the current state to ``path`` in the background (waited for at shutdown)."""
        snap = self.session.snapshot()
        path = Path(path)

        def done(result: Path, cancelled: bool) -> None:
            self.session.mark_saved(result, snap.undo_index)
            self.sig_saved.emit(result)

        return self.runner.start(
            tr("保存工作区"),
            worded(save_job),
            SaveRequest(snap, path),
            on_done=done,
            on_error=lambda m, d: self.sig_error.emit(
                tr("保存失败 {path}").format(path=path), m, d, True
            ),
            critical=True,
        )

    def autosave(self) -> Job | None:
        """Write a recovery copy in the background if there are unsaved changes."""
        if not self.session.dirty:
            return None
        snap = self.session.snapshot()
        source = self.session.path
        store = self.session.recovery

        def job(_data: Any, *, stop: Any, progress: Any) -> Path:
            return store.write(source, snap.write)

        return self.runner.start(
            tr("自动保存"),
            job,
            None,
            on_done=lambda p, _c: self.sig_autosaved.emit(p),
            on_error=lambda m, d: self.sig_error.emit(tr("自动保存失败"), m, d, False),
            show=False,
            critical=True,
        )
