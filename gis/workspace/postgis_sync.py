"""A desk's edit sent to the shared database as row changes, each over the version it read.

The desk edits a :class:`~gis.model.Scenario` as usual (an edit is ``Scenario -> Scenario``).
:func:`diff_rows` turns one edit into row changes with the GeoPackage writer's own frames
(:func:`gis.workspace.writer.scenario_frames`: one definition of how objects become rows) —
inserted, updated (only the changed columns) and deleted rows of the entity, related and owned
tables, keyed by :func:`~gis.workspace.postgis_ddl.key_columns`. :func:`send_rows` saves them
through :class:`~gis.workspace.postgis.SharedWorkspace` over the versions of the desk's snapshot
and sorts the outcome: saved (with new versions), conflicts (both records, for the desk to show
and choose), refused by the role, and unsent (the connection failed: kept to resend).

The workspace documents the roles write row by row (plans — their stored document with each
lifecycle step, 批准 / 下达 / … — the event log, hazard warnings, monitoring and pre-positioning
records, the 预案 templates, map layers and drill scripts: :data:`SYNCED_DOCUMENTS`)
are diffed the same way by :func:`diff_documents` (rows of ``documents`` keyed by kind and
id), so the database's triggers audit a plan approval when the desk makes it, not at a push.

One desk edit is one transaction: all its rows are saved or none. Each row is tried in its own
savepoint so that every conflict and refusal of the edit is found and reported (a conflict with
both records), then the whole edit is rolled back; the result lists the rows rolled back so the
desk can send them again over the versions it has now seen (修改冲突 → 保留我的修改).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely

from gis.errors import WorkspaceError
from gis.model import Scenario
from gis.workspace.postgis import Record, SharedWorkspace, VersionConflict
from gis.workspace.postgis_ddl import OPERATOR_DOCUMENTS, PLANNER_DOCUMENTS, key_columns
from gis.workspace.schema import (
    DOCUMENTS,
    DOCUMENTS_TABLE,
    OWNED,
    RELATED,
    SCENARIO_ENTITIES,
    Table,
)
from gis.workspace.writer import scenario_frames

#: The tables a desk edit can change (documents go through their own stores).
SYNCED: tuple[Table, ...] = (*SCENARIO_ENTITIES, *RELATED, *OWNED)

#: Document kinds sent row by row (those a role may write; others stay in the local copy).
SYNCED_DOCUMENTS: tuple[str, ...] = (*OPERATOR_DOCUMENTS, *PLANNER_DOCUMENTS)

Versions = Mapping[tuple[str, tuple[str, ...]], int]
Documents = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class RowChange:
    """``op`` is insert, update or delete; ``values`` the columns to write (all of them for an
    insert, the changed ones for an update)."""

    table: str
    key: tuple[str, ...]
    op: str
    values: Mapping[str, Any] = field(default_factory=dict)
    geometry: Any = None


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(table: Table, frame: Any) -> dict[tuple[str, ...], tuple[dict[str, Any], Any]]:
    keys = key_columns(table)
    names = [c.name for c in table.columns]
    cols = {n: frame[n].tolist() for n in names}
    geoms = list(frame.geometry) if table.geometry is not None else [None] * len(frame)
    out = {}
    for i in range(len(frame)):
        values = {n: _cell(cols[n][i]) for n in names}
        out[tuple(str(values[k]) for k in keys)] = (values, geoms[i])
    return out


def diff_rows(old: Scenario, new: Scenario) -> list[RowChange]:
    """The row changes that turn ``old`` into ``new`` (deletes of owned rows before owners'
    deletes and inserts of owners before their rows: tables in write order)."""
    before = scenario_frames(old, {})
    after = scenario_frames(new, {})
    out: list[RowChange] = []
    for table in SYNCED:
        a, b = _rows(table, before[table.layer]), _rows(table, after[table.layer])
        for key, (values, geom) in b.items():
            if key not in a:
                out.append(RowChange(table.layer, key, "insert", values, geom))
                continue
            old_values, old_geom = a[key]
            changed = {n: v for n, v in values.items() if old_values.get(n) != v}
            moved = geom is not None and (
                old_geom is None or not shapely.equals_exact(geom, old_geom, 0)
            )
            if changed or moved:
                out.append(RowChange(table.layer, key, "update", changed, geom if moved else None))
        out.extend(RowChange(table.layer, key, "delete") for key in a if key not in b)
    return out


def diff_documents(
    old: Documents, new: Documents, kinds: Sequence[str] = SYNCED_DOCUMENTS
) -> list[RowChange]:
    """The ``documents`` rows that turn ``old`` into ``new`` (of ``kinds``, by default every
    kind of :data:`SYNCED_DOCUMENTS`; a desk passes those its role may write): a new document
    is inserted, a changed one updated (its JSON text), a removed one deleted."""
    out: list[RowChange] = []
    for kind in (k for k in SYNCED_DOCUMENTS if k in kinds):
        a, b = old.get(kind, {}), new.get(kind, {})
        for doc_id, text in b.items():
            key = (kind, str(doc_id))
            if doc_id not in a:
                values = {"kind": kind, "doc_id": str(doc_id), "json": text}
                out.append(RowChange(DOCUMENTS, key, "insert", values))
            elif a[doc_id] != text:
                out.append(RowChange(DOCUMENTS, key, "update", {"json": text}))
        out.extend(
            RowChange(DOCUMENTS, (kind, str(doc_id)), "delete") for doc_id in a if doc_id not in b
        )
    return out


@dataclass
class SendResult:
    """One edit's outcome: ``saved`` (all its rows, committed together) or, when any row
    conflicted or was refused, nothing saved and every row in ``rolled_back``."""

    saved: list[Record] = field(default_factory=list)
    conflicts: list[VersionConflict] = field(default_factory=list)
    refused: list[tuple[RowChange, str]] = field(default_factory=list)
    unsent: list[RowChange] = field(default_factory=list)
    rolled_back: list[RowChange] = field(default_factory=list)


def _send_one(ws: SharedWorkspace, ch: RowChange, versions: Versions) -> Record | None:
    if ch.op == "insert":
        return ws.insert(ch.table, ch.values, ch.geometry)
    version = versions.get((ch.table, ch.key), 0)
    if ch.op == "update":
        return ws.update(ch.table, ch.key, ch.values, version, ch.geometry)
    ws.delete(ch.table, ch.key, version)
    return None


def send_rows(
    ws: SharedWorkspace | None, changes: list[RowChange], versions: Versions
) -> SendResult:
    """Save ``changes`` (one desk edit) over ``versions`` (``(table, key) -> version`` of the
    desk's snapshot) in one transaction: all rows or none.

    ``ws`` ``None`` (no connection) keeps every change unsent; so does a connection failure
    (the transaction is gone: nothing of the edit was saved)."""
    import psycopg

    if ws is None:
        return SendResult(unsent=list(changes))
    result = SendResult()
    saved: list[Record] = []
    try:
        with ws.conn.transaction() as tx:
            for ch in changes:
                try:
                    with ws.conn.transaction():  # a savepoint: the next rows can still be checked
                        rec = _send_one(ws, ch, versions)
                except VersionConflict as c:
                    result.conflicts.append(c)
                except WorkspaceError as e:  # refused by the role, or e.g. an id taken meanwhile
                    result.refused.append((ch, str(e)))
                else:
                    if rec is not None:
                        saved.append(rec)
            if result.conflicts or result.refused:
                raise psycopg.Rollback(tx)  # none of the edit: no row, no audit, no notification
    except psycopg.OperationalError:
        return SendResult(unsent=list(changes))
    if result.conflicts or result.refused:
        result.rolled_back = list(changes)
    else:
        result.saved = saved
    return result


def read_versions(ws: SharedWorkspace) -> dict[tuple[str, tuple[str, ...]], int]:
    """``(table, key) -> version`` of every synced row (and document) now."""
    return versions_of(ws.conn)


def versions_of(conn: Any) -> dict[tuple[str, tuple[str, ...]], int]:
    """:func:`read_versions` on a psycopg connection."""
    from psycopg import sql

    out: dict[tuple[str, tuple[str, ...]], int] = {}
    for table in (*SYNCED, DOCUMENTS_TABLE):
        keys = key_columns(table)
        cols = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in keys)
        for row in conn.execute(
            sql.SQL("SELECT {}, version FROM {}").format(cols, sql.Identifier(table.layer))
        ):
            out[(table.layer, tuple(row[:-1]))] = int(row[-1])
    return out
