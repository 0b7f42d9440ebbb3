"""The session: the ONLY object that changes the application's state.

It holds the current workspace (scenario, road frames, documents), which file is open (one
:class:`gis.workspace_service.WorkspaceRef`: ``path``, ``roads_source`` and ``recovered_from`` are
views of it), the dirty flag and one :class:`QUndoStack`. Every edit is a function ``Scenario -> Scenario`` (plus, optionally,
new documents such as an event-log entry) pushed as a :class:`SnapshotCommand` that swaps
snapshots on undo/redo. A record that is not an edit (a plan's approval, issue or void:
:meth:`Session.record`) stays out of the undo history and survives undo/redo of the edits around
it. Views subscribe to the ``sig_*`` signals and never edit data themselves.

Saving is atomic (:func:`gis.workspace.write_workspace`); a periodic autosave writes a recovery
copy (see :class:`RecoveryStore`) that is offered back after a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot
from PyQt6.QtGui import QUndoCommand, QUndoStack

from gis import paths
from gis.event_log import EVENT_LOG, log_entries, with_log_entry
from gis.model import (
    ENTITY_FIELDS,
    Incident,
    IncidentStatus,
    Location,
    Scenario,
)
from gis.vocabulary import new_entity_id
from gis.workspace_service import WorkspaceRef
from gui.services.workspace_jobs import WorkspaceSnapshot

Documents = dict[str, dict[str, str]]


def _copy_docs(docs: Mapping[str, Mapping[str, str]] | None) -> Documents:
    return {str(k): dict(v) for k, v in (docs or {}).items()}


def _patched(docs: Documents, patches: list[tuple[str, str, str]]) -> Documents:
    """A copy of ``docs`` with each ``(kind, key, text)`` set."""
    out = _copy_docs(docs)
    for kind, key, text in patches:
        out.setdefault(kind, {})[key] = text
    return out


class SnapshotCommand(QUndoCommand):
    """Swap (scenario, documents) snapshots; merges consecutive drags of the same entity."""

    def __init__(
        self,
        session: Session,
        text: str,
        before: tuple[Scenario, Documents],
        after: tuple[Scenario, Documents],
        *,
        merge_key: str = "",
    ) -> None:
        super().__init__(text)
        self.session = session
        self.before = before
        self.after = after
        self.merge_key = merge_key

    def redo(self) -> None:
        self.session._set_state(*self.after)

    def undo(self) -> None:
        self.session._set_state(*self.before)

    def id(self) -> int:  # noqa: A003 - Qt API
        return 1 if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, SnapshotCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True


class RecoveryStore:
    """Recovery copies of unsaved work, one per workspace path, in the user data folder."""

    def __init__(self, directory: Path | None = None) -> None:
        # default: gis.paths.recovery_dir() ($RELIEFDESK_RECOVERY_DIR or the user data folder)
        self.directory = Path(directory) if directory is not None else paths.recovery_dir()

    def file_for(self, source: Path | None) -> Path:
        key = str(Path(source).resolve()) if source else "untitled"
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        return self.directory / f"recovery_{digest}.gpkg"

    def meta_for(self, source: Path | None) -> Path:
        return self.file_for(source).with_suffix(".json")

    def write(self, source: Path | None, write: Callable[[Path], None]) -> Path:
        """Write a recovery copy with ``write(path)`` (atomic) and its sidecar JSON."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.file_for(source)
        write(target)
        meta = {"source": str(source) if source else "", "saved_at": datetime.now().isoformat()}
        tmp = self.meta_for(source).with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.meta_for(source))
        return target

    def discard(self, source: Path | None) -> None:
        for p in (self.file_for(source), self.meta_for(source)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def pending(self) -> list[tuple[Path, str, str]]:
        """Recovery files left behind: ``(recovery file, original path or '', saved_at)``."""
        out = []
        if not self.directory.is_dir():
            return out
        for meta in sorted(self.directory.glob("recovery_*.json")):
            gpkg = meta.with_suffix(".gpkg")
            if not gpkg.exists():
                continue
            try:
                info = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            out.append((gpkg, str(info.get("source", "")), str(info.get("saved_at", ""))))
        return out


class Session(QObject):
    """Current workspace + undo stack + selection. Views listen; only this object edits."""

    #: (new scenario, old scenario)
    sig_scenario_changed = pyqtSignal(object, object)
    #: selected entity id ('' = none) and where the selection came from ('map', 'table', ...)
    sig_selection_changed = pyqtSignal(str, str)
    #: a different workspace was opened (roads and everything else must be redrawn)
    sig_workspace_loaded = pyqtSignal()
    sig_documents_changed = pyqtSignal(str)
    sig_dirty_changed = pyqtSignal(bool)
    sig_path_changed = pyqtSignal(str)
    #: (level 'info'|'warning'|'error', text, details)
    sig_message = pyqtSignal(str, str, str)

    def __init__(
        self, parent: QObject | None = None, *, recovery: RecoveryStore | None = None
    ) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.scenario: Scenario = Scenario(name="未命名")
        self.documents: Documents = {}
        self.road_nodes: Any = None
        self.road_edges: Any = None
        self.network: Any = None
        #: the open workspace (file path, deferred roads source, recovery copy): the one value
        self.ref = WorkspaceRef()
        self.warnings: tuple[str, ...] = ()
        self.selected: str = ""
        self.recovery = recovery or RecoveryStore()
        self._extra_dirty = False
        # a bound slot, not a lambda: Qt drops it when the session is destroyed, before its child
        # undo stack, whose destructor (history not clean after Discard) emits cleanChanged
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    @pyqtSlot(bool)
    def _clean_changed(self, _clean: bool) -> None:
        self.sig_dirty_changed.emit(self.dirty)

    # ---- state -------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self._extra_dirty or not self.undo_stack.isClean()

    # views of the one WorkspaceRef (setters replace it)
    @property
    def path(self) -> Path | None:
        """The file a save writes to (None: never saved)."""
        return self.ref.path

    @path.setter
    def path(self, value: Path | None) -> None:
        self.ref = self.ref.with_(path=value)

    @property
    def roads_source(self) -> Path | None:
        """The file to read the road frames from while their reading is deferred (cold start)."""
        return self.ref.roads_source

    @roads_source.setter
    def roads_source(self, value: Path | None) -> None:
        self.ref = self.ref.with_(roads_source=value)

    @property
    def recovered_from(self) -> Path | None:
        """The recovery copy the current state was opened from (deleted once saved)."""
        return self.ref.recovered_from

    @recovered_from.setter
    def recovered_from(self, value: Path | None) -> None:
        self.ref = self.ref.with_(recovered_from=value)

    def load(
        self, workspace: Any, path: WorkspaceRef | Path | None, *, recovered: bool = False
    ) -> None:
        """Adopt a workspace read by :func:`gis.workspace.read_workspace` (GUI thread, fast).

        ``path`` is the opened :class:`WorkspaceRef` (or just the file path).
        """
        if isinstance(path, WorkspaceRef):
            ref = path
        else:
            ref = WorkspaceRef(path=Path(path) if path else None)
        old = self.scenario
        self.undo_stack.clear()
        self.scenario = workspace.scenario
        self.documents = _copy_docs(workspace.documents)
        self.road_nodes = workspace.road_nodes
        self.road_edges = workspace.road_edges
        self.network = None
        self.warnings = tuple(workspace.warnings)
        self.ref = ref
        self.selected = ""
        self._extra_dirty = recovered or ref.recovered_from is not None
        self.undo_stack.setClean()
        self.sig_path_changed.emit(str(self.path or ""))
        self.sig_workspace_loaded.emit()
        self.sig_scenario_changed.emit(self.scenario, old)
        self.sig_dirty_changed.emit(self.dirty)

    def replace_roads(self, nodes: Any, edges: Any, network: Any, ref: Any) -> None:
        """Adopt a newly imported road network (not undoable: the undo history is cleared).

        ``ref`` is the scenario's new :class:`gis.model.RoadNetworkRef`.
        """
        old = self.scenario
        self.undo_stack.clear()
        self.scenario = self.scenario.replace(road_network=ref)
        self.road_nodes = nodes
        self.road_edges = edges
        self.roads_source = None
        self.network = network
        self._extra_dirty = True
        self.sig_workspace_loaded.emit()
        self.sig_scenario_changed.emit(self.scenario, old)
        self.sig_dirty_changed.emit(self.dirty)

    def set_road_frames(self, nodes: Any, edges: Any) -> None:
        """The road frames whose reading was deferred have arrived."""
        self.road_nodes = nodes
        self.road_edges = edges
        self.roads_source = None

    @property
    def has_roads(self) -> bool:
        return self.road_edges is not None or self.roads_source is not None

    def _set_state(self, scenario: Scenario, documents: Documents) -> None:
        old = self.scenario
        old_docs = self.documents
        self.scenario = scenario
        self.documents = documents
        if self.selected:
            try:
                scenario.find(self.selected)
            except KeyError:
                self.select("", "session")
        if scenario is not old:
            self.sig_scenario_changed.emit(scenario, old)
        for kind in set(documents) | set(old_docs):
            if documents.get(kind) != old_docs.get(kind):
                self.sig_documents_changed.emit(kind)

    def replace_scenario(self, scenario: Scenario, documents: Documents | None = None) -> None:
        """Adopt a scenario (and documents) changed elsewhere (a shared database re-read whole):
        not an edit of this desk, so not undoable; the undo history (of older states) is
        cleared."""
        self.undo_stack.clear()
        self._set_state(scenario, self.documents if documents is None else documents)
        self.undo_stack.setClean()

    def mark_shared(self) -> None:
        """Everything of this desk is in the shared database (its edits and records sent):
        nothing unsaved, though no file was written."""
        self.undo_stack.setClean()
        self._extra_dirty = False
        self.sig_dirty_changed.emit(self.dirty)

    def apply_remote(
        self, patch: Callable[[Scenario, Documents], tuple[Scenario, Documents]]
    ) -> None:
        """Adopt records another desk changed (a shared database), record by record: not an
        edit of this desk, so not on the undo stack; like :meth:`record`, every snapshot the
        stack holds is patched too, so this desk's undo/redo keeps them, and the clean state
        (this desk's edits all sent) is unchanged."""
        cmds = [self.undo_stack.command(i) for i in range(self.undo_stack.count())]
        cmds = [c for c in cmds if isinstance(c, SnapshotCommand)]
        # every state patched first: a patch that fails (raises) leaves all of them as they were
        patched = [(patch(*c.before), patch(*c.after)) for c in cmds]
        current = patch(self.scenario, self.documents)
        for cmd, (before, after) in zip(cmds, patched, strict=True):
            cmd.before, cmd.after = before, after
        self._set_state(*current)

    # ---- edits (all undoable) ------------------------------------------------------------------

    def apply(
        self,
        new_scenario: Scenario,
        text: str,
        *,
        documents: Documents | None = None,
        merge_key: str = "",
    ) -> None:
        """Push an edit: the new scenario (and optionally new documents) replaces the current."""
        before = (self.scenario, self.documents)
        after = (new_scenario, documents if documents is not None else self.documents)
        self.undo_stack.push(SnapshotCommand(self, text, before, after, merge_key=merge_key))

    def upsert(self, entity: Any, text: str) -> None:
        self.apply(self.scenario.upsert(entity), text)

    def remove(self, entity_id: str, text: str) -> None:
        self.apply(self.scenario.remove(entity_id), text)

    def move(self, entity_id: str, lon: float, lat: float, text: str) -> None:
        """Move a point entity (shelter, stockpile, team, incident) to ``lon, lat``."""
        entity = self.scenario.find(entity_id)
        self.upsert(replace(entity, location=Location(lon, lat)), text)

    def set_incident_status(
        self, incident_id: str, status: IncidentStatus, *, note: str = ""
    ) -> None:
        """Change an incident's lifecycle status and log it with the time (one undo step)."""
        inc = self.scenario.find(incident_id)
        if not isinstance(inc, Incident):
            raise KeyError(incident_id)
        status = IncidentStatus(status)
        if inc.status == status:
            return
        new = self.scenario.upsert(replace(inc, status=status))
        docs = self._with_log_entry(
            {
                "incident_id": inc.id,
                "incident": inc.name,
                "from": inc.status.value,
                "to": status.value,
                "text": note or f"{inc.name}：{inc.status.value} → {status.value}",
            }
        )
        self.apply(new, f"{inc.name}: {status.value}", documents=docs)

    def update_incident(self, incident: Incident) -> None:
        """Replace an incident; a status change is logged in the event log (one undo step)."""
        old = self.scenario.find(incident.id)
        if not isinstance(old, Incident) or old.status == incident.status:
            self.upsert(incident, f"编辑 {incident.name}")
            return
        docs = self._with_log_entry(
            {
                "incident_id": incident.id,
                "incident": incident.name,
                "from": old.status.value,
                "to": incident.status.value,
                "text": f"{incident.name}：{old.status.value} → {incident.status.value}",
            }
        )
        self.apply(self.scenario.upsert(incident), f"编辑 {incident.name}", documents=docs)

    def add_incident(self, incident: Incident, *, note: str = "") -> None:
        """Add an incident and log its report (接报) in the event log (one undo step)."""
        docs = self._with_log_entry(
            {
                "incident_id": incident.id,
                "incident": incident.name,
                "from": "",
                "to": incident.status.value,
                "text": note
                or f"新事件：{incident.name}（{incident.subtype}，{incident.level_roman}级）",
            }
        )
        self.apply(self.scenario.upsert(incident), f"新建事件 {incident.name}", documents=docs)

    # ---- records that are not edits (not undoable) ----------------------------------------------

    def record(self, kind: str, key: str, text: str, *, log: dict[str, Any] | None = None) -> None:
        """Store ``documents[kind][key] = text`` (and an event-log ``log`` entry) as a record, not
        an edit: it is not on the undo stack, and every snapshot the stack holds gets it too, so
        undoing or redoing other edits leaves it in place (a plan's approval, issue or void)."""
        docs = _copy_docs(self.documents)
        docs.setdefault(kind, {})[key] = text
        patches = [(kind, key, text)]
        if log is not None:
            docs = self._with_log_entry(log, docs)
            new_ids = set(docs[EVENT_LOG]) - set(self.documents.get(EVENT_LOG, {}))
            patches += [(EVENT_LOG, i, docs[EVENT_LOG][i]) for i in new_ids]
        for i in range(self.undo_stack.count()):
            cmd = self.undo_stack.command(i)
            if isinstance(cmd, SnapshotCommand):
                cmd.before = (cmd.before[0], _patched(cmd.before[1], patches))
                cmd.after = (cmd.after[0], _patched(cmd.after[1], patches))
        self._extra_dirty = True
        self._set_state(self.scenario, docs)
        self.sig_dirty_changed.emit(self.dirty)

    # ---- event log -----------------------------------------------------------------------------

    def _with_log_entry(self, entry: dict[str, Any], base: Documents | None = None) -> Documents:
        return with_log_entry(self.documents if base is None else base, entry)

    def event_log(self) -> list[dict[str, Any]]:
        """Event-log entries, oldest first."""
        return log_entries(self.documents)

    # ---- selection -----------------------------------------------------------------------------

    def select(self, entity_id: str, source: str = "") -> None:
        entity_id = entity_id or ""
        if entity_id == self.selected:
            return
        self.selected = entity_id
        self.sig_selection_changed.emit(entity_id, source)

    # ---- files ---------------------------------------------------------------------------------

    def snapshot(self) -> WorkspaceSnapshot:
        """Everything a save needs (immutable scenario + copies), safe to hand to a worker."""
        return WorkspaceSnapshot(
            scenario=self.scenario,
            road_nodes=self.road_nodes,
            road_edges=self.road_edges,
            roads_source=self.roads_source if self.road_edges is None else None,
            documents=_copy_docs(self.documents),
            undo_index=self.undo_stack.index(),
        )

    @staticmethod
    def write_snapshot(snapshot: WorkspaceSnapshot, path: Path) -> None:
        """Write a snapshot atomically (runs in a worker thread)."""
        snapshot.write(Path(path))

    def mark_saved(self, path: Path, undo_index: int) -> None:
        """Record a finished save of the state at ``undo_index``."""
        old_path = self.path
        self.path = Path(path)
        if self.undo_stack.index() == undo_index:
            self.undo_stack.setClean()
            self._extra_dirty = False
        self.recovery.discard(old_path)
        self.recovery.discard(self.path)
        if self.recovered_from is not None:
            try:
                self.recovered_from.unlink()
                self.recovered_from.with_suffix(".json").unlink()
            except OSError:
                pass
            self.recovered_from = None
        if old_path != self.path:
            self.sig_path_changed.emit(str(self.path))
        self.sig_dirty_changed.emit(self.dirty)

    def save(self, path: Path | None = None) -> Path:
        """Save synchronously (tests, shutdown); the window saves through a worker."""
        target = Path(path or self.path or "")
        if not str(target):
            raise ValueError("no file name: use Save As")
        snap = self.snapshot()
        snap.write(target)
        self.mark_saved(target, snap.undo_index)
        return target

    def autosave(self) -> Path | None:
        """Write a recovery copy now if there are unsaved changes (synchronous)."""
        if not self.dirty:
            return None
        snap = self.snapshot()
        return self.recovery.write(self.path, lambda p: self.write_snapshot(snap, p))

    def discard_recovery(self) -> None:
        """Drop the recovery copies of this workspace (and the one it was recovered from)."""
        self.recovery.discard(self.path)
        if self.recovered_from is not None:
            for p in (self.recovered_from, self.recovered_from.with_suffix(".json")):
                p.unlink(missing_ok=True)
            self.recovered_from = None

    # ---- ids -----------------------------------------------------------------------------------

    def new_id(self, prefix: str, taken: Iterable[str] = ()) -> str:
        """A fresh entity id such as ``SP-0007`` (unique across every entity kind and not in
        ``taken``: ids handed out for entities not added yet)."""
        used = set(taken)
        for fname in ENTITY_FIELDS:
            used.update(e.id for e in getattr(self.scenario, fname))
        # follow the width the workspace already uses (INC-001 → INC-004, not INC-0001)
        return new_entity_id(prefix, used)


def now_local() -> datetime:
    """Current local time (seconds precision) for reports and incidents."""
    return datetime.now().replace(microsecond=0)


def timestamp() -> float:
    return time.time()
