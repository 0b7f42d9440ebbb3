"""Another desk's change applied record by record: fetch the changed record, patch the scenario.

A ``NOTIFY`` (:mod:`gis.workspace.postgis_notify`) names one row (table, key, version, op).
:func:`fetch_updates` turns a batch of them into :class:`LiveUpdate` records in one read-only
transaction: the *record* a row belongs to — an entity with its related rows (inventory, needs,
skills) and the vehicles it owns, or one document (a plan with its status, an event-log entry,
a warning, a monitor, a pre-positioning record, a template, a map layer, a drill script) — is
read again by its key and built by the file
reader's own code (:meth:`~gis.workspace.layer_reader.LayerReader.convert`,
:func:`~gis.workspace.reader.entity_from_rows`), so a record arrives exactly as it would have
been read from a pulled copy. A burst of changes to one record is one read (its newest state).
A related row or a vehicle names its owner in the audit row the same commit wrote.

:func:`apply_updates` patches a scenario and its documents with those records (insert, replace
or remove one object / document; every other object keeps its identity, so the map and tables
update just that record). Changes that are not one record (a whole push: ``RELOAD``; the
metadata or the county outline) ask for a full re-read instead (``LiveBatch.reload``).

:class:`LiveFeed` runs it: a :class:`~gis.workspace.postgis_notify.ChangeListener` queues the
notifications; one worker thread with its own connection drains the queue, fetches and hands
each batch to a callback (the desk marshals it to its GUI thread; the benchmark applies it to an
in-memory workspace). Qt-free.

After a connection loss the desk catches up the same way (:meth:`LiveFeed.catch_up`,
:func:`missed_changes`): the rows whose version in the database differs from the desk's copy
(new, changed, gone — compared row by row, so a change committed in any order is found) become
changes fetched and applied like notifications. Only a gap that is not records — a whole push,
the metadata or the county outline changed meanwhile (the audit trail since the feed's position,
a transaction id horizon, says so), or more than :data:`CATCH_UP_MAX_ROWS` rows — asks for the
full re-read, with the reason.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gis.errors import WorkspaceError
from gis.model import Scenario
from gis.workspace.layer_reader import LayerReader
from gis.workspace.postgis import connect, public_url, rows_of, start_select
from gis.workspace.postgis_notify import Change, ChangeListener
from gis.workspace.postgis_sync import versions_of
from gis.workspace.reader import entity_from_rows
from gis.workspace.schema import (
    BOUNDARY,
    BY_LAYER,
    DOCUMENTS,
    META_TABLE,
    OWNED,
    RELATED,
    EntityTable,
    RelatedTable,
    entity_table,
)

Documents = Mapping[str, Mapping[str, str]]
RowKey = tuple[str, tuple[str, ...]]  # (table, key values): as postgis_sync's versions
#: A record: (entity layer, (key,)) or ("documents", (kind, doc_id)).
Target = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class LiveUpdate:
    """One record as the database holds it now: ``value`` is the model object (an entity) or
    the JSON text (a document), ``None`` when it is gone; ``rows`` the version of every row it
    was read from (its own, its related rows', its vehicles'); ``changes`` the notifications it
    answers (for latency: commit → applied) and when it was read."""

    target: Target
    value: Any
    rows: Mapping[RowKey, int]
    changes: tuple[Change, ...] = ()
    fetched: float = 0.0  # this machine's clock when the read finished

    @property
    def is_document(self) -> bool:
        return self.target[0] == DOCUMENTS


@dataclass
class LiveBatch:
    """What one drain of the notification queue brought: the records to apply, and whether
    something needs a full re-read (a push, a change of metadata or outline, a failed read)."""

    updates: list[LiveUpdate] = field(default_factory=list)
    reload: bool = False
    reason: str = ""
    changes: list[Change] = field(default_factory=list)
    catch_up: bool = False  # the catch-up after a connection loss (reload: it could not)
    position: int | None = None  # the transaction horizon this batch's read saw


#: More rows changed than this while the desk was away: one full re-read instead.
CATCH_UP_MAX_ROWS = 2000
_NOT_RECORDS = [META_TABLE, BOUNDARY]


# --------------------------------------------------------------------------------------------
# Which record a notification is about
# --------------------------------------------------------------------------------------------


def _owners(conn: Any, change: Change, columns: Sequence[str]) -> list[dict[str, str]]:
    """``columns`` of the row before and after the change, from the audit row its commit wrote
    (a deleted related row still names its owner)."""
    row = conn.execute(
        "SELECT before, after FROM audit_log WHERE tbl = %s AND row_key = %s "
        "ORDER BY (version IS NOT DISTINCT FROM %s) DESC, id DESC LIMIT 1",
        (change.table, change.id, change.version),
    ).fetchone()
    if row is None:
        return []
    return [{c: str(rec.get(c) or "") for c in columns} for rec in row if rec]


def targets_of(conn: Any, change: Change) -> list[Target] | None:
    """The records ``change`` touches (``None``: not a record — re-read everything)."""
    table = BY_LAYER.get(change.table)
    if table is None or change.op == "RELOAD":
        return None
    if table.layer == DOCUMENTS:
        kind, _, doc_id = change.id.partition("/")
        return [(DOCUMENTS, (kind, doc_id))]
    if isinstance(table, EntityTable) and table.scenario_attr is not None:
        return [(table.layer, (change.id,))]
    if isinstance(table, RelatedTable):
        recs = _owners(conn, change, [table.owner_column])
        return list(dict.fromkeys((table.owner, (r[table.owner_column],)) for r in recs)) or None
    if isinstance(table, EntityTable) and table.owned_by is not None:
        own = table.owned_by
        out: list[Target] = []
        for r in _owners(conn, change, [own.id_column, own.layer_column]):
            layers = [r[own.layer_column]] if r[own.layer_column] else list(own.owners)
            out += [(lay, (r[own.id_column],)) for lay in layers]  # a missing one reads as gone
        return list(dict.fromkeys(out)) or None
    return None  # metadata, county outline


# --------------------------------------------------------------------------------------------
# Reading one record
# --------------------------------------------------------------------------------------------


Rows = tuple[list[int], dict[str, list[Any]], list[int]]  # fids, converted columns, versions
_EMPTY: Rows = ([], {}, [])


def _start(conn: Any, table: Any, where: tuple[str, list[str]]) -> Any:
    """The query of the rows whose column ``where[0]`` is one of ``where[1]``, sent."""
    names = [c.name for c in table.columns]
    spatial = table.geometry is not None
    return start_select(conn, table.layer, [*names, "fid", "version"], spatial, where=where)


def _grouped(reader: LayerReader, table: Any, column: str, cursor: Any) -> dict[str, Rows]:
    """A :func:`_start` query's rows grouped by ``column`` (in ``fid`` order): their fids,
    converted columns (and ``"geometry"``) and versions."""
    names = [c.name for c in table.columns]
    raw, geoms = rows_of(cursor, [*names, "fid", "version"], table.geometry is not None)
    fids = [int(f) for f in raw.pop("fid")]
    versions = [int(v) for v in raw.pop("version")]
    cols = reader.convert(table, fids, raw)
    if table.geometry is not None:
        cols["geometry"] = geoms
    groups: dict[str, list[int]] = {}
    for i, value in enumerate(raw[column]):
        groups.setdefault(str(value), []).append(i)
    return {
        key: (
            [fids[i] for i in idx],
            {n: [vals[i] for i in idx] for n, vals in cols.items()},
            [versions[i] for i in idx],
        )
        for key, idx in groups.items()
    }


def _parts(layer: str) -> list[tuple[Any, str]]:
    """The tables a record of entity layer ``layer`` is read from, each with the column naming
    the record: its own, its related tables, the tables of what it owns (vehicles)."""
    table = entity_table(layer)
    out: list[tuple[Any, str]] = [(table, table.key)]
    out += [(rt, rt.owner_column) for rt in RELATED if rt.owner == layer]
    out += [
        (ot, ot.owned_by.id_column)
        for ot in OWNED
        if ot.owned_by is not None and layer in ot.owned_by.owners
    ]
    return out


def _start_entities(conn: Any, layer: str, keys: list[str]) -> list[Any]:
    return [_start(conn, t, (column, keys)) for t, column in _parts(layer)]


def _read_entities(
    reader: LayerReader, layer: str, keys: list[str], cursors: list[Any]
) -> list[LiveUpdate]:
    """The records ``keys`` of entity layer ``layer`` from the :func:`_start_entities` queries
    (one per table for all of them: their rows, each related table's, the vehicles they own)."""
    parts = [
        (t, _grouped(reader, t, column, cur))
        for (t, column), cur in zip(_parts(layer), cursors, strict=True)
    ]
    (table, own_rows), rest = parts[0], parts[1:]
    out = []
    for key in keys:
        if key not in own_rows:
            out.append(LiveUpdate((layer, (key,)), None, {}))
            continue
        fids, cols, versions = own_rows[key]
        rows: dict[RowKey, int] = {(layer, (key,)): versions[0]}
        rel_cols: dict[str, dict[str, list[Any]]] = {}
        objs: dict[str, list[Any]] = {}
        for t, groups in rest:
            tfids, tcols, tvers = groups.get(key, _EMPTY)
            if isinstance(t, RelatedTable):
                if tcols:
                    rel_cols[t.layer] = tcols
                    for item, v in zip(tcols[t.item_column], tvers, strict=True):
                        rows[(t.layer, (key, str(item)))] = v
                continue
            own = t.owned_by
            found = objs.setdefault(own.attr, [])
            for i, fid in enumerate(tfids):
                if tcols[own.layer_column][i] and tcols[own.layer_column][i] != layer:
                    continue
                one = {n: [vals[i]] for n, vals in tcols.items()}
                found.append(entity_from_rows(reader, t, fid, one, {}, {}))
                rows[(t.layer, (str(tcols[t.key][i]),))] = tvers[i]
        obj = entity_from_rows(reader, table, fids[0], cols, rel_cols, objs)
        out.append(LiveUpdate((layer, (key,)), obj, rows))
    return out


def _start_documents(conn: Any, keys: list[tuple[str, ...]]) -> Any:
    return conn.execute(
        "SELECT kind, doc_id, json, version FROM documents "
        "WHERE (kind, doc_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([k[0] for k in keys], [k[1] for k in keys]),
    )


def _read_documents(keys: list[tuple[str, ...]], cursor: Any) -> list[LiveUpdate]:
    found = {(str(r[0]), str(r[1])): (str(r[2]), int(r[3])) for r in cursor.fetchall()}
    out = []
    for key in keys:
        target = (DOCUMENTS, tuple(key))
        if key in found:
            text, version = found[key]
            out.append(LiveUpdate(target, text, {target: version}))
        else:
            out.append(LiveUpdate(target, None, {}))
    return out


def horizon(conn: Any) -> int:
    """The transaction horizon now: every transaction below it has ended (committed or not),
    so audit rows written by a later commit have a transaction id at or above it."""
    row = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetchone()
    return int(row[0])


def missed_changes(
    conn: Any, versions: Mapping[RowKey, int], since: int | None
) -> tuple[list[Change], int, str]:
    """What changed while a desk was away: one change per row whose version in the database
    differs from ``versions`` (the desk's copy: new, changed, gone), the horizon now, and why
    the gap cannot be bridged record by record (``""`` when it can): no position ``since``, a
    whole push / the metadata / the county outline written since (audit rows of transactions at
    or above ``since``), or more than :data:`CATCH_UP_MAX_ROWS` rows."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        now = horizon(conn)
        if since is None:
            return [], now, "没有断线前的数据位置"
        (pushed,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE txid >= %s AND tbl = ANY(%s)",
            (since, _NOT_RECORDS),
        ).fetchone()
        if pushed:
            return [], now, "断线期间整个工作区被推送，或元数据、县界有改动"
        current = versions_of(conn)
    at = time.time()
    out = [
        Change(t, "/".join(k), v, "INSERT" if (t, k) not in versions else "UPDATE", "", at, at)
        for (t, k), v in current.items()
        if versions.get((t, k)) != v
    ]
    out += [
        Change(t, "/".join(k), 0, "DELETE", "", at, at)
        for (t, k) in versions
        if (t, k) not in current
    ]
    if len(out) > CATCH_UP_MAX_ROWS:
        return [], now, f"断线期间有 {len(out)} 行改动（超过 {CATCH_UP_MAX_ROWS} 行）"
    return out, now, ""


def fetch_updates(conn: Any, changes: Iterable[Change], *, where: str = "") -> LiveBatch:
    """The records ``changes`` touch, each read once (its newest state) in one read-only
    transaction. A record that cannot be built (bad data written by hand in the database)
    asks for a full re-read with the reason, like any unreadable workspace."""
    batch = LiveBatch(changes=list(changes))
    reader = LayerReader.detached(where or "shared database")
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        batch.position = horizon(conn)
        by_target: dict[Target, list[Change]] = {}
        for ch in batch.changes:
            targets = targets_of(conn, ch)
            if targets is None:
                batch.reload = True
                batch.reason = f"{ch.table} {ch.op}"
                continue
            for t in targets:
                by_target.setdefault(t, []).append(ch)
        by_layer: dict[str, list[tuple[str, ...]]] = {}
        for layer, key in by_target:
            by_layer.setdefault(layer, []).append(key)
        with conn.pipeline():  # every query sent at once: one round trip for the batch
            started = {
                layer: _start_documents(conn, keys)
                if layer == DOCUMENTS
                else _start_entities(conn, layer, [k[0] for k in keys])
                for layer, keys in by_layer.items()
            }
            for layer, keys in by_layer.items():
                try:
                    if layer == DOCUMENTS:
                        ups = _read_documents(keys, started[layer])
                    else:
                        ups = _read_entities(reader, layer, [k[0] for k in keys], started[layer])
                except WorkspaceError as exc:
                    batch.reload = True
                    batch.reason = str(exc)
                    continue
                batch.updates += [replace(up, changes=tuple(by_target[up.target])) for up in ups]
    now = time.time()
    batch.updates = [replace(up, fetched=now) for up in batch.updates]
    return batch


# --------------------------------------------------------------------------------------------
# Applying records to a scenario and its documents
# --------------------------------------------------------------------------------------------


def record_of(scenario: Scenario, documents: Documents, target: Target) -> Any:
    """The desk's own copy of a record (``None`` when it has none)."""
    layer, key = target
    if layer == DOCUMENTS:
        return documents.get(key[0], {}).get(key[1])
    table = entity_table(layer)
    for obj in getattr(scenario, table.scenario_attr or ""):
        if str(getattr(obj, table.key)) == key[0]:
            return obj
    return None


def record_rows(target: Target, value: Any) -> set[RowKey]:
    """The rows a record of the desk's copy stands for (its own, related rows, vehicles)."""
    layer, key = target
    if value is None:
        return set()
    if layer == DOCUMENTS:
        return {target}
    out: set[RowKey] = {target}
    for rt in RELATED:
        if rt.owner != layer:
            continue
        if rt.sequence_attr is not None:
            items: Iterable[Any] = getattr(value, rt.sequence_attr)
        else:
            items = {i for c in rt.value_columns for i in getattr(value, c.attr or "")}
        out |= {(rt.layer, (key[0], str(i))) for i in items}
    for ot in OWNED:
        own = ot.owned_by
        if own is not None and layer in own.owners:
            out |= {(ot.layer, (str(getattr(o, ot.key)),)) for o in getattr(value, own.attr)}
    return out


def row_targets(table: str, key: tuple[str, ...], values: Mapping[str, Any]) -> set[Target]:
    """The records a row this desk is sending belongs to (a vehicle's: its home, when the
    row says it)."""
    spec = BY_LAYER.get(table)
    if table == DOCUMENTS or (isinstance(spec, EntityTable) and spec.scenario_attr is not None):
        return {(table, tuple(key))}
    if isinstance(spec, RelatedTable):
        return {(spec.owner, (key[0],))}
    if isinstance(spec, EntityTable) and spec.owned_by is not None:
        own = spec.owned_by
        home = values.get(own.id_column)
        if home:
            layer = values.get(own.layer_column)
            return {(lay, (str(home),)) for lay in ([layer] if layer else own.owners)}
    return set()


def apply_updates(
    scenario: Scenario, documents: Documents, updates: Iterable[LiveUpdate]
) -> tuple[Scenario, dict[str, dict[str, str]], list[LiveUpdate]]:
    """``scenario`` and ``documents`` with each record inserted, replaced or removed, and the
    updates that changed something (a record equal to the desk's copy — e.g. the desk's own
    save coming back — changes nothing). Untouched objects keep their identity."""
    lists: dict[str, list[Any]] = {}
    touched: set[str] = set()
    docs = {k: dict(v) for k, v in documents.items()}
    applied: list[LiveUpdate] = []
    for up in updates:
        layer, key = up.target
        if layer == DOCUMENTS:
            kind, doc_id = key
            if docs.get(kind, {}).get(doc_id) == up.value:
                continue
            if up.value is None:
                docs[kind].pop(doc_id, None)
            else:
                docs.setdefault(kind, {})[doc_id] = up.value
            applied.append(up)
            continue
        table = entity_table(layer)
        attr = table.scenario_attr or ""
        items = lists.setdefault(attr, list(getattr(scenario, attr)))
        at = next((i for i, o in enumerate(items) if str(getattr(o, table.key)) == key[0]), None)
        if up.value is None:
            if at is None:
                continue
            del items[at]
            touched.add(attr)
            applied.append(up)
            continue
        elif at is None:
            items.append(up.value)
        elif items[at] == up.value:
            continue
        else:
            items[at] = up.value
        touched.add(attr)
        applied.append(up)
    changed = {a: tuple(lists[a]) for a in touched}
    return (replace(scenario, **changed) if changed else scenario), docs, applied


# --------------------------------------------------------------------------------------------
# The feed: listener → queue → fetch thread → callback
# --------------------------------------------------------------------------------------------


class LiveFeed:
    """Notifications → fetched records, in batches, off the caller's thread.

    ``on_batch(LiveBatch)`` is called from the worker thread; ``on_change(Change)`` from the
    listener thread as each notification arrives (for messages); ``on_connection(ok, msg)``
    as the listener reports it. :meth:`request` asks for records again (e.g. those held back
    while this desk's own edit of them was in flight); :meth:`catch_up` for what changed while
    the desk was away (its batch has ``catch_up`` set). A read that fails twice (the server
    gone) comes back as a batch asking for a full re-read.

    ``position`` is the transaction horizon of the desk's copy (:func:`horizon`; ``None``: the
    feed takes it when it starts); each batch read moves it on."""

    def __init__(
        self,
        url: str,
        on_batch: Callable[[LiveBatch], None],
        *,
        on_change: Callable[[Change], None] | None = None,
        on_connection: Callable[[bool, str], None] | None = None,
        position: int | None = None,
    ) -> None:
        self.url = url
        self.on_batch = on_batch
        self.on_change = on_change or (lambda c: None)
        self.retry_s = 0.5
        self.position = position
        self._missed: dict[RowKey, int] | None = None  # the desk's versions, to catch up
        self._lock = threading.Lock()
        self._queue: queue.Queue[Change | None] = queue.Queue()
        self._stop = threading.Event()
        self.listener = ChangeListener(url, self._heard, on_connection)
        self._thread = threading.Thread(target=self._run, name="reliefdesk-live", daemon=True)

    def start(self, *, wait_s: float = 10.0) -> LiveFeed:
        self._thread.start()
        self.listener.start(wait_s=wait_s)
        return self

    def stop(self) -> None:
        self.listener.stop()
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _heard(self, change: Change) -> None:
        self._queue.put(change)
        self.on_change(change)

    def request(self, targets: Iterable[Target]) -> None:
        """Read these records again (their newest state) as if a change had named them."""
        now = time.time()
        for layer, key in targets:
            self._queue.put(Change(layer, "/".join(key), 0, "FETCH", "", now, now))

    def catch_up(self, versions: Mapping[RowKey, int]) -> None:
        """After a connection loss: read the records whose rows differ from ``versions`` (the
        desk's copy, as it is now) and hand them over in one batch, or a batch asking for the
        full re-read when the gap cannot be bridged (:func:`missed_changes`)."""
        with self._lock:
            self._missed = dict(versions)
        now = time.time()
        self._queue.put(Change("*", "", 0, "CATCHUP", "", now, now))

    def _drain(self) -> list[Change] | None:
        first = self._queue.get()
        if first is None:
            return None
        out = [first]
        while True:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                return out
            if nxt is None:
                return None
            out.append(nxt)

    def _read(self, conn: Any, changes: list[Change], where: str) -> LiveBatch:
        """One batch: the changes heard, and (asked for) what was missed while away."""
        catching = any(c.op == "CATCHUP" for c in changes)
        changes = [c for c in changes if c.op != "CATCHUP"]
        versions = self._missed if catching else None
        if versions is not None:
            missed, now, why = missed_changes(conn, versions, self.position)
            if why:
                batch = LiveBatch(reload=True, reason=why, catch_up=True, position=now)
            else:
                batch = fetch_updates(conn, changes + missed, where=where)
        else:
            batch = fetch_updates(conn, changes, where=where)
        with self._lock:  # read: a later request stays asked for
            if self._missed is versions:
                self._missed = None
        batch.catch_up = versions is not None  # (a second wake-up of one request: no catch-up)
        return batch

    def _run(self) -> None:
        conn = None
        where = public_url(self.url)
        if self.position is None:
            try:
                conn = connect(self.url, autocommit=True)
                self.position = horizon(conn)
            except Exception:  # noqa: BLE001 - no server now: a catch-up re-reads it all
                conn = None
        while not self._stop.is_set():
            changes = self._drain()
            if changes is None:
                break
            batch = None
            failed = False
            for attempt in range(2):  # a dropped connection: one more try on a new one
                try:
                    if conn is None or conn.closed:
                        conn = connect(self.url, autocommit=True)
                    batch, failed = self._read(conn, changes, where), False
                    break
                except Exception as exc:  # noqa: BLE001 - the server went away mid-read
                    if conn is not None:
                        conn.close()
                    conn = None
                    batch = LiveBatch(reload=True, reason=str(exc).strip(), changes=changes)
                    failed = True
                    if attempt == 0 and self._stop.wait(self.retry_s):
                        break
            if failed and batch is not None and any(c.op == "CATCHUP" for c in changes):
                with self._lock:
                    batch.catch_up, self._missed = self._missed is not None, None
            if batch is not None:
                if batch.position is not None:
                    self.position = max(self.position or 0, batch.position)
                self.on_batch(batch)
        if conn is not None:
            conn.close()
